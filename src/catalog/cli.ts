#!/usr/bin/env node
/**
 * `cdk-backup-dr` command: prints the backup inventory or the DR runbook of a synthesized cloud assembly.
 *
 *   npx cdk-backup-dr catalog [cdk.out] [--format md|csv|json]
 *   npx cdk-backup-dr runbook [cdk.out]
 *
 * Reads manifest.json, the templates and the constructs' `cdk-backup-dr:catalog` metadata, so it works on
 * any assembly, whether or not the app called `BackupCatalog.of(app)`. Same renderer as the synth-time files.
 */
import { CatalogError, readAssembly } from './assembly';
import { buildCatalog } from './model';
import { INVENTORY_FORMATS, InventoryFormat, renderInventory, renderRunbook } from './render';

/** Where the CLI writes. */
export interface CliOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const USAGE = [
  'Usage:',
  '  cdk-backup-dr catalog [ASSEMBLY_DIR] [--format md|csv|json]   print the backup inventory (default format: md)',
  '  cdk-backup-dr runbook [ASSEMBLY_DIR]                          print the DR runbook (Markdown)',
  '',
  'ASSEMBLY_DIR is the cloud assembly cdk synth wrote (default: cdk.out).',
].join('\n');

/** Exit codes: 0 success, 1 the assembly cannot be catalogued, 2 bad usage. */
export function main(argv: string[], out: CliOutput = process): number {
  const usage = (message: string) => {
    out.stderr.write(`cdk-backup-dr: ${message}\n\n${USAGE}\n`);
    return 2;
  };
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    out.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'catalog' && command !== 'runbook') {
    return usage(command === undefined ? 'missing command' : `unknown command "${command}"`);
  }

  let format: string = 'md';
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--format' || arg.startsWith('--format=')) {
      if (command !== 'catalog') return usage('--format only applies to "catalog" (the runbook is Markdown)');
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : rest[++i];
      if (value === undefined) return usage('--format needs a value: md, csv or json');
      format = value;
    } else if (arg.startsWith('-')) {
      return usage(`unknown option "${arg}"`);
    } else {
      positional.push(arg);
    }
  }
  if (!(INVENTORY_FORMATS as string[]).includes(format)) return usage(`unknown format "${format}"; use md, csv or json`);
  if (positional.length > 1) return usage(`one assembly directory at most, got ${positional.length}: ${positional.join(' ')}`);

  try {
    const model = buildCatalog(readAssembly(positional[0] ?? 'cdk.out'));
    out.stdout.write(command === 'catalog' ? renderInventory(model, format as InventoryFormat) : renderRunbook(model));
    return 0;
  } catch (e) {
    if (e instanceof CatalogError) {
      out.stderr.write(`cdk-backup-dr: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Entry point of the `cdk-backup-dr` bin. */
export function run(): void {
  process.exitCode = main(process.argv.slice(2));
}

if (require.main === module) run();
