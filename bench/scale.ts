/**
 * Scale benchmark (npm run bench): how much the backup machinery costs for N protected DynamoDB tables.
 *
 * For each N it synthesizes, in this process:
 *   - plain:   N tables spread over stacks of TABLES_PER_STACK, no backup;
 *   - library: the same tables, each protected by its own cdk-backup-dr construct (the worst case for
 *              deduplication: one construct per table), with a shared vault stack;
 *   - manual:  the same tables protected by hand as compactly as aws-cdk-lib allows: point-in-time recovery
 *              and one tag on each table, one backup plan per stack selecting by that tag (no catalog, no
 *              verification, no alarms): the template content every protected table needs;
 * and reports the resources the backup machinery adds, per protected table, and the synth-time ratios
 * library/plain and library/manual (medians of ROUNDS alternating runs). For contrast it measures the plain
 * aws-cdk-lib approach (one `plan.addSelection` per table), which adds two resources per table.
 */
import { performance } from 'perf_hooks';
import { App, Stack, Tags } from 'aws-cdk-lib';
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

type Mode = 'plain' | 'manual' | 'library';

function tables(scope: Construct, n: number, pitr = false): dynamodb.TableV2[] {
  return Array.from({ length: n }, (_, i) => new dynamodb.TableV2(scope, `Table${i}`, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    ...(pitr ? { pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 } } : {}),
  }));
}

/** Protection by hand: PITR on the tables (see `tables`), one tag each, one plan per stack selecting by the tag. */
function protectByHand(stack: Stack, list: dynamodb.TableV2[]) {
  list.forEach((t) => Tags.of(t).add('backup-policy', 'Pro-rpo1440m-rto480m'));
  const plan = backup.BackupPlan.daily35DayRetention(stack, 'Plan');
  plan.addSelection('Tagged', { resources: [backup.BackupResource.fromTag('backup-policy', 'Pro-rpo1440m-rto480m')] });
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
    const list = tables(stack, Math.min(TABLES_PER_STACK, n - done), mode === 'manual');
    if (mode === 'manual') protectByHand(stack, list);
    for (const table of list) {
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
console.log('| N tables | stacks | resources plain | resources with library | added by backup machinery | added per table | synth plain (ms) | synth by hand (ms) | synth library (ms) | ratio library/plain (median; min-max of rounds) | ratio library/by hand (median; min-max) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
run('plain', 10); run('manual', 10); run('library', 10); // warm-up (module loading, JIT)
for (const n of SIZES) {
  const ms: Record<Mode, number[]> = { plain: [], manual: [], library: [] };
  const last = {} as Record<Mode, { resources: number; stacks: number }>;
  const modes: Mode[] = ['plain', 'manual', 'library'];
  for (const m of modes) last[m] = run(m, n); // per-size warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of modes) {
      const result = run(m, n);
      ms[m].push(result.ms);
      last[m] = result;
    }
  }
  const ratios = (over: Mode) => ms.library.map((l, i) => l / ms[over][i]);
  const spread = (xs: number[]) => `${median(xs).toFixed(3)}x; ${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}`;
  const added = last.library.resources - last.plain.resources;
  console.log(`| ${n} | ${last.library.stacks} | ${last.plain.resources} | ${last.library.resources} | ${added} | ${(added / n).toFixed(4)} | ` +
    `${median(ms.plain).toFixed(0)} | ${median(ms.manual).toFixed(0)} | ${median(ms.library).toFixed(0)} | ${spread(ratios('plain'))} | ${spread(ratios('manual'))} |`);
}
const contrast = plainAwsCdkLib(200);
console.log(`\nPlain aws-cdk-lib (plan.addSelection per table): ${contrast.perTable.toFixed(2)} added resources per table; ` +
  `a stack holds at most ${contrast.maxTablesPerStack} protected tables (500-resource limit)${contrast.error ? `; 200 tables: ${contrast.error}` : ''}`);
