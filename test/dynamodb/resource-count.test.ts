import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { DynamoPitrBackup } from '../../src/dynamodb';
import { MAX_RESOURCES_PER_POLICY } from '../../src/foundation/scheduled-export';
import { synthTemplate, testStack } from '../support/app';

/** Resources DynamoPitrBackup adds to a stack holding N tables (the tables themselves not counted). */
function count(n: number, full: boolean): { added: number; byType: Record<string, number>; largestPolicy: number } {
  const stack = testStack();
  const tables = Array.from({ length: n }, (_, i) => new dynamodb.Table(stack, `Table${i}`, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  }));
  new DynamoPitrBackup(stack, 'Protect', {
    objectives: RecoveryTier.STANDARD,
    environment: DeploymentEnvironment.PRO,
    tables,
    advancedBackupFeatures: full,
    sampleExport: full ? { bucket: s3.Bucket.fromBucketName(stack, 'Samples', 'samples-bucket') } : undefined,
  });
  const resources = Object.values(synthTemplate(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>);
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
  const largestPolicy = Math.max(0, ...resources.filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
    .map((r) => JSON.stringify(deployed(r.Properties.PolicyDocument)).length));
  return { added: resources.length - n, byType, largestPolicy };
}

/** A policy document as IAM measures it, with intrinsics replaced by values of realistic length. */
function deployed(x: any): any {
  if (Array.isArray(x)) return x.map(deployed);
  if (x && typeof x === 'object') {
    if (x['Fn::Join']) return x['Fn::Join'][1].map(deployed).join(x['Fn::Join'][0]);
    if (x.Ref === 'AWS::Partition') return 'aws';
    if (x.Ref) return 'x'.repeat(64);
    // A generated table name: <stack>-<logical id>-<suffix>, ~60 characters.
    if (x['Fn::GetAtt']) return `arn:aws:dynamodb:eu-west-1:111111111111:table/${'x'.repeat(60)}`;
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, deployed(v)]));
  }
  return x;
}

describe('DynamoPitrBackup resource count', () => {
  const results: string[] = [];
  afterAll(() => console.log(`DynamoPitrBackup resources added (PRO, STANDARD):\n${results.join('\n')}`));

  // Vault (key, topic, topic policy, vault, failed backup/copy/restore job rules) + registry (role, plan, selection) = 10.
  // + run-time verification of a PRO stack (restore testing plan, selection, validation function and its
  // alarm; recovery-point monitor with its scheduled job and age alarm): a fixed 25 per stack (test/verification).
  const VERIFICATION = 25;
  const BASE = 10 + VERIFICATION;
  // Region settings: handler role, handler policy, handler log group, handler, provider role, provider policy,
  // provider log group, framework function, custom resource = 9.
  // Export: operations key (shared with the Region settings logs), DLQ, DLQ policy, log group, role, base policy,
  // function, invoke config, scheduler role, scheduler policy, 2 alarms = 12, then one schedule per table and
  // one source policy per 40 tables.
  const REGION_SETTINGS = 9;
  const EXPORT_FIXED = 11; // the operations key is shared with the verification machinery

  test.each([1, 10, 100])('%i tables, PITR + AWS Backup: constant', (n) => {
    const { added, byType } = count(n, false);
    results.push(`  ${n} tables, PITR + AWS Backup: ${added}`);
    expect(added).toBe(BASE);
    expect(byType['AWS::Backup::BackupPlan']).toBe(1);
    expect(byType['AWS::Backup::BackupSelection']).toBe(1);
  });

  test.each([1, 10, 100])('%i tables, advanced features + sample export: one schedule per table', (n) => {
    const { added, byType, largestPolicy } = count(n, true);
    results.push(`  ${n} tables, advanced features + sample export: ${added} (largest managed policy ${largestPolicy} characters)`);
    expect(byType['AWS::Scheduler::Schedule']).toBe(n + 1); // + the recovery-point monitor's schedule
    expect(byType['Custom::BackupRegionSettings']).toBe(1);
    expect(added).toBe(BASE + REGION_SETTINGS + EXPORT_FIXED + n + Math.ceil(n / MAX_RESOURCES_PER_POLICY));
    expect(added + n).toBeLessThan(500);
    expect(largestPolicy).toBeLessThan(6144);
  });
});
