import { Stack } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { MAX_RESOURCES_PER_POLICY } from '../../src/foundation/scheduled-export';
import { RdsBackupPolicy } from '../../src/rds';
import { synthTemplate, testStack } from '../support/app';

/**
 * Resources the construct adds for N protected databases (imported instances: the fixtures add nothing,
 * and databases defined in the app only get properties set, never extra resources).
 */
function count(n: number, withExport: boolean): { total: number; byType: Record<string, number>; largestPolicy: number } {
  const stack: Stack = testStack();
  const bucket = withExport ? s3.Bucket.fromBucketName(stack, 'Exports', 'exports-bucket') : undefined;
  const instances = Array.from({ length: n }, (_, i) => rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, `Db${i}`, {
    instanceIdentifier: `database-${i}`, instanceEndpointAddress: `database-${i}.example.com`, port: 5432, securityGroups: [],
  }));
  new RdsBackupPolicy(stack, 'Protect', {
    objectives: RecoveryTier.STANDARD,
    environment: DeploymentEnvironment.PRO,
    instances,
    sampleExport: bucket ? { bucket } : undefined,
  });
  const resources = Object.values(synthTemplate(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>);
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
  const largestPolicy = Math.max(0, ...resources.filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
    .map((r) => JSON.stringify(deployed(r.Properties.PolicyDocument)).replace(/\s/g, '').length));
  return { total: resources.length, byType, largestPolicy };
}

/** A policy document as IAM would measure it: intrinsics replaced by values of realistic length. */
function deployed(x: any): any {
  if (Array.isArray(x)) return x.map(deployed);
  if (x && typeof x === 'object') {
    if (x['Fn::Join']) return x['Fn::Join'][1].map(deployed).join(x['Fn::Join'][0]);
    if (x.Ref === 'AWS::Partition') return 'aws';
    if (x.Ref) return 'x'.repeat(63); // an RDS identifier at its maximum length
    if (x['Fn::GetAtt']) return `arn:aws:service:eu-west-1:111111111111:${'x'.repeat(64)}`;
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, deployed(v)]));
  }
  return x;
}

describe('RdsBackupPolicy resource count', () => {
  const results: string[] = [];
  afterAll(() => console.log(`RdsBackupPolicy resources added (PRO, STANDARD):\n${results.join('\n')}`));

  // Vault (key, topic, topic policy, vault, failed backup/copy/restore job rules) + registry (role, plan, selection) = 10.
  // + run-time verification of a PRO stack (restore testing plan, selection, validation function and its
  // alarm; recovery-point monitor with its scheduled job and age alarm): a fixed 25 per stack (test/verification).
  const VERIFICATION = 25;
  const BASE = 10 + VERIFICATION;
  // Export: key, role, policy (export role) + operations key, DLQ, DLQ policy, log group, role, base policy,
  // function, invoke config, scheduler role, scheduler policy, 2 alarms = 15; then per database one schedule,
  // and one source policy per 40 ARNs (2 ARNs per database).
  const EXPORT_FIXED = 14; // the operations key is shared with the verification machinery
  // Imported databases join restore testing by ARN: one selection per 30 ARNs (the first is in VERIFICATION).
  const extraRestoreSelections = (n: number) => Math.ceil(n / 30) - 1;

  test.each([1, 10, 100])('%i databases without export: constant, plus one restore testing selection per 30 imported databases', (n) => {
    const { total, byType } = count(n, false);
    results.push(`  ${n} databases, no export: ${total}`);
    expect(total).toBe(BASE + extraRestoreSelections(n));
    expect(byType['AWS::Backup::BackupPlan']).toBe(1);
    expect(byType['AWS::Backup::BackupSelection']).toBe(1);
    expect(byType['AWS::IAM::Role']).toBe(1 + 3); // backup role + monitor function, its scheduler, restore validation
  });

  test.each([1, 10, 100])('%i databases with snapshot export: one schedule per database', (n) => {
    const { total, byType, largestPolicy } = count(n, true);
    results.push(`  ${n} databases, snapshot export: ${total} (largest managed policy ${largestPolicy} characters)`);
    const sourcePolicies = Math.ceil((2 * n) / MAX_RESOURCES_PER_POLICY);
    expect(byType['AWS::Scheduler::Schedule']).toBe(n + 1); // + the recovery-point monitor's schedule
    expect(byType['AWS::Lambda::Function']).toBe(3); // export, monitor, restore validation
    expect(total).toBe(BASE + extraRestoreSelections(n) + EXPORT_FIXED + n + sourcePolicies);
    expect(total).toBeLessThan(500);
    // IAM limit: 6,144 characters per managed policy (whitespace excluded).
    expect(largestPolicy).toBeLessThan(6144);
  });
});
