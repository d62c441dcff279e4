/**
 * DR scale benchmark (proposed task `bench:dr`, or a case of `npm run bench`): what a DR site costs for N
 * protected DynamoDB tables, each with its own DynamoPitrBackup (the worst case for deduplication).
 *
 * For each N it synthesizes, in this process:
 *   - local: the tables protected without a DR site (shared vault stack);
 *   - dr:    the same tables with `drSite` (a DrSecondarySite in another Region, STANDARD objectives:
 *            copy actions only, no replica), plus the DR stack;
 * and reports resources, plans, selections and roles in the primary stacks, the resources a DR site adds
 * per protected table (must be ~0: copy actions live inside the deduplicated plans), the DR stack's size,
 * and the synth-time ratio dr/local (median of ROUNDS alternating runs).
 *
 *   BENCH_SIZES=100,1000 BENCH_ROUNDS=3 npx ts-node --prefer-ts-exts bench/scale-dr.ts
 */
import { performance } from 'perf_hooks';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { DeploymentEnvironment, DynamoPitrBackup, RecoveryTier, RecoveryVault } from '../src';
import { DrSecondarySite } from '../src/dr';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const DR_ENV = { account: '111111111111', region: 'eu-central-1' };
const CONTEXT = { '@aws-cdk/core:validateAgainstDefaultRules': true };
const TABLES_PER_STACK = 450;
const SIZES = (process.env.BENCH_SIZES ?? '100,1000,4000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

type Mode = 'local' | 'dr';

interface Result {
  readonly ms: number;
  readonly primaryResources: number;
  readonly drResources: number;
  readonly plans: number;
  readonly selections: number;
  readonly roles: number;
  readonly copyActions: number;
}

function run(mode: Mode, n: number): Result {
  const start = performance.now();
  const app = new App({ context: CONTEXT, outdir: `bench/.out/dr-${mode}-${n}` });
  const vault = new RecoveryVault(new Stack(app, 'Vaults', { env: ENV }), 'Vault', { environment: DeploymentEnvironment.PRO });
  const drStack = mode === 'dr' ? new Stack(app, 'DrSite', { env: DR_ENV }) : undefined;
  const drSite = drStack && new DrSecondarySite(drStack, 'Site', { environment: DeploymentEnvironment.PRO });
  for (let done = 0, s = 0; done < n; done += TABLES_PER_STACK, s++) {
    const stack = new Stack(app, `Tables${s}`, { env: ENV });
    if (drStack) stack.addStackDependency(drStack);
    for (let i = 0; i < Math.min(TABLES_PER_STACK, n - done); i++) {
      const table = new dynamodb.TableV2(stack, `Table${i}`, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
      new DynamoPitrBackup(table, 'Backup', { tables: [table], objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO, vault, drSite });
    }
  }
  const assembly = app.synth();
  const ms = performance.now() - start;
  let primaryResources = 0; let drResources = 0; let plans = 0; let selections = 0; let roles = 0; let copyActions = 0;
  for (const s of assembly.stacks) {
    const resources = Object.values((s.template as any).Resources ?? {}) as any[];
    if (s.stackName === 'DrSite') { drResources += resources.length; continue; }
    if (!s.stackName.startsWith('Tables')) continue;
    primaryResources += resources.length;
    for (const r of resources) {
      if (r.Type === 'AWS::Backup::BackupPlan') {
        plans++;
        copyActions += (r.Properties.BackupPlan.BackupPlanRule as any[]).reduce((sum, rule) => sum + (rule.CopyActions?.length ?? 0), 0);
      }
      if (r.Type === 'AWS::Backup::BackupSelection') selections++;
      if (r.Type === 'AWS::IAM::Role') roles++;
    }
  }
  return { ms, primaryResources, drResources, plans, selections, roles, copyActions };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

console.log(`cdk-backup-dr DR scale benchmark: ${TABLES_PER_STACK} tables per stack, median of ${ROUNDS} alternating synth runs\n`);
console.log('| N tables | primary resources local | primary resources dr | added by DR per table | DR stack resources | plans | selections | roles | copy actions | synth local (ms) | synth dr (ms) | ratio |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
run('local', 10); run('dr', 10); // warm-up
for (const n of SIZES) {
  const local: number[] = [];
  const dr: number[] = [];
  let l = run('local', n);
  let d = run('dr', n);
  for (let r = 0; r < ROUNDS; r++) {
    l = run('local', n); local.push(l.ms);
    d = run('dr', n); dr.push(d.ms);
  }
  const added = d.primaryResources - l.primaryResources;
  console.log(`| ${n} | ${l.primaryResources} | ${d.primaryResources} | ${(added / n).toFixed(4)} | ${d.drResources} | ${d.plans} | ${d.selections} | ` +
    `${d.roles} | ${d.copyActions} | ${median(local).toFixed(0)} | ${median(dr).toFixed(0)} | ${(median(dr) / median(local)).toFixed(3)}x |`);
}
