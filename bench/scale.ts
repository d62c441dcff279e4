/**
 * Scale benchmark (npm run bench): how much the backup machinery costs for N protected DynamoDB tables.
 *
 * For each N it synthesizes, in this process:
 *   - plain:   N tables spread over stacks of TABLES_PER_STACK, no backup;
 *   - library: the same tables, each protected by its own cdk-backup-dr construct (the worst case for
 *              deduplication: one construct per table), with a shared vault stack;
 * and reports the resources the backup machinery adds, per protected table, and the synth-time ratio
 * library/plain (median of ROUNDS alternating runs). For contrast it measures the plain aws-cdk-lib
 * approach (one `plan.addSelection` per table), which adds two resources per table.
 */
import { performance } from 'perf_hooks';
import { App, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DeploymentEnvironment, RecoveryTier, RecoveryVault } from '../src';
import { protectTable } from './protect-table';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const CONTEXT = { '@aws-cdk/core:validateAgainstDefaultRules': true };
const TABLES_PER_STACK = 450;
const SIZES = (process.env.BENCH_SIZES ?? '100,1000,4000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

type Mode = 'plain' | 'library';

function tables(scope: Construct, n: number): dynamodb.TableV2[] {
  return Array.from({ length: n }, (_, i) => new dynamodb.TableV2(scope, `Table${i}`, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  }));
}

/** Builds and synthesizes the app; returns total resources and synth time in ms. */
function run(mode: Mode, n: number): { resources: number; ms: number; stacks: number } {
  const start = performance.now();
  const app = new App({ context: CONTEXT, outdir: `bench/.out/${mode}-${n}` });
  const vault = mode === 'library'
    ? new RecoveryVault(new Stack(app, 'Vaults', { env: ENV }), 'Vault', { environment: DeploymentEnvironment.PRO })
    : undefined;
  const stacks: Stack[] = [];
  for (let done = 0; done < n; done += TABLES_PER_STACK) {
    const stack = new Stack(app, `Tables${stacks.length}`, { env: ENV });
    stacks.push(stack);
    for (const table of tables(stack, Math.min(TABLES_PER_STACK, n - done))) {
      if (vault) protectTable(table, vault, RecoveryTier.STANDARD);
    }
  }
  const assembly = app.synth();
  const ms = performance.now() - start;
  const resources = assembly.stacks.reduce((sum, s) => sum + Object.keys((s.template as any).Resources ?? {}).length, 0);
  return { resources, ms, stacks: assembly.stacks.length };
}

/** The plain aws-cdk-lib way: one selection (and its role) per table. Returns resources per table and max tables per stack. */
function plainAwsCdkLib(n: number): { perTable: number; maxTablesPerStack: number; error?: string } {
  const app = new App({ context: CONTEXT, outdir: 'bench/.out/aws-cdk-lib' });
  const stack = new Stack(app, 'Plain', { env: ENV });
  const plan = backup.BackupPlan.daily35DayRetention(stack, 'Plan');
  tables(stack, n).forEach((t, i) => plan.addSelection(`Selection${i}`, { resources: [backup.BackupResource.fromDynamoDbTable(t)] }));
  let error: string | undefined;
  let resources = 0;
  try {
    resources = Object.keys(app.synth().getStackByName('Plain').template.Resources).length;
  } catch (e) {
    error = String(e).split('\n')[0];
    // Count what the template would hold: plan + vault + per table (table, selection, role).
    resources = stack.node.findAll().filter((c) => (c as any).cfnResourceType).length;
  }
  const fixed = resources - 3 * n;
  return { perTable: (resources - fixed - n) / n, maxTablesPerStack: Math.floor((500 - fixed) / 3), error };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

console.log(`cdk-backup-dr scale benchmark: ${TABLES_PER_STACK} tables per stack, median of ${ROUNDS} alternating synth runs\n`);
console.log('| N tables | stacks | resources plain | resources with library | added by backup machinery | added per table | synth plain (ms) | synth library (ms) | synth ratio |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
run('plain', 10); run('library', 10); // warm-up (module loading, JIT)
for (const n of SIZES) {
  const plain: number[] = [];
  const lib: number[] = [];
  let p = run('plain', n);
  let l = run('library', n);
  for (let r = 0; r < ROUNDS; r++) {
    p = run('plain', n); plain.push(p.ms);
    l = run('library', n); lib.push(l.ms);
  }
  const added = l.resources - p.resources;
  console.log(`| ${n} | ${l.stacks} | ${p.resources} | ${l.resources} | ${added} | ${(added / n).toFixed(4)} | ${median(plain).toFixed(0)} | ${median(lib).toFixed(0)} | ${(median(lib) / median(plain)).toFixed(3)}x |`);
}
const contrast = plainAwsCdkLib(200);
console.log(`\nPlain aws-cdk-lib (plan.addSelection per table): ${contrast.perTable.toFixed(2)} added resources per table; ` +
  `a stack holds at most ${contrast.maxTablesPerStack} protected tables (500-resource limit)${contrast.error ? `; 200 tables: ${contrast.error}` : ''}`);
