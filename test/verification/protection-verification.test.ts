import { Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import {
  BackupPolicyDerivation, ContinuousBackupSupport, DeploymentEnvironment, RecoveryObjectives, RecoveryTier,
} from '../../src/core';
import { RestoreTestingOptions } from '../../src/core/restore-testing-options';
import { BackupPlanRegistry, ProtectedResourceType, RecoveryVault } from '../../src/foundation';
import {
  MAX_RESTORE_TESTING_SELECTIONS_PER_PLAN, ProtectionVerification, RecoveryPointMonitor, RestoreTesting, VerifiedResourceType,
} from '../../src/verification';
import { synthTemplate, testStack } from '../support/app';

function tables(stack: Stack, n: number, prefix = 'Table'): dynamodb.TableV2[] {
  return Array.from({ length: n }, (_, i) => new dynamodb.TableV2(stack, `${prefix}${i}`, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }));
}

function protectTables(stack: Stack, list: dynamodb.ITable[], objectives: RecoveryObjectives, environment = DeploymentEnvironment.PRO,
  extra: { restoreTesting?: RestoreTestingOptions; policyName?: string } = {}) {
  const vault = RecoveryVault.forStack(stack, environment);
  const policy = BackupPolicyDerivation.derive({ objectives, environment, continuousBackup: ContinuousBackupSupport.NATIVE });
  const resourceArns = list.map((t) => t.tableArn);
  const plan = BackupPlanRegistry.of(stack).protect({ vault, policy, resourceArns, resourceType: ProtectedResourceType.DYNAMODB });
  ProtectionVerification.register(stack, {
    resourceType: VerifiedResourceType.DYNAMODB_TABLE,
    resources: list.map((t) => ({ arn: t.tableArn, construct: t })),
    environment,
    objectives,
    policy,
    vault,
    backupPlan: plan.plan,
    continuousNative: true,
    ...extra,
  });
}

describe('ProtectionVerification in a PRO stack', () => {
  const stack = testStack();
  const critical = tables(stack, 3, 'Orders');
  protectTables(stack, critical, RecoveryTier.CRITICAL);
  protectTables(stack, tables(stack, 2, 'Sessions'), RecoveryTier.STANDARD);
  const t = synthTemplate(stack);

  test('one restore testing plan for the stack and environment, weekly, from the vault, snapshots and continuous points', () => {
    t.resourceCountIs('AWS::Backup::RestoreTestingPlan', 1);
    t.hasResourceProperties('AWS::Backup::RestoreTestingPlan', {
      ScheduleExpression: 'cron(0 2 ? * SAT *)',
      StartWindowHours: 8,
      RecoveryPointSelection: {
        Algorithm: 'LATEST_WITHIN_WINDOW',
        IncludeVaults: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrVaultPro'), 'BackupVaultArn'] }],
        RecoveryPointTypes: ['CONTINUOUS', 'SNAPSHOT'],
        SelectionWindowDays: 7,
      },
    });
  });

  test('one selection per policy and type, by the policy tag, with the stack backup role and a validation window', () => {
    t.resourceCountIs('AWS::Backup::RestoreTestingSelection', 2);
    t.hasResourceProperties('AWS::Backup::RestoreTestingSelection', {
      ProtectedResourceType: 'DynamoDB',
      ProtectedResourceArns: ['*'],
      ProtectedResourceConditions: { StringEquals: [{ Key: 'aws:ResourceTag/cdk-backup-dr:policy', Value: 'Pro-rpo15m-rto60m' }] },
      RestoreTestingSelectionName: 'Pro_rpo15m_rto60m_DDB_1',
      ValidationWindowHours: 2,
      IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrPlanRegistryServiceRole'), 'Arn'] },
    });
  });

  test('protected tables carry the policy tag only: one selection per policy and type needs no selection tag', () => {
    const orders = t.toJSON().Resources[stack.getLogicalId(critical[0].node.defaultChild as dynamodb.CfnGlobalTable)];
    const tags = orders.Properties.Replicas[0].Tags;
    expect(tags).toEqual([{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo15m-rto60m' }]);
    t.hasResourceProperties('AWS::Backup::BackupPlan', { BackupPlanTags: { 'cdk-backup-dr:plan': 'every-1-days-keep-35-days' } });
    t.hasResourceProperties('AWS::Backup::BackupPlan', { BackupPlanTags: { 'cdk-backup-dr:plan': 'every-12-hours-keep-35-days' } });
  });

  test('restore validation runs on completed restore jobs of this plan only', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.backup'],
        'detail-type': ['Restore Job State Change'],
        'detail': { status: ['COMPLETED'], restoreTestingPlanArn: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrRestoreTestingPro'), 'RestoreTestingPlanArn'] }] },
      },
    });
  });

  test('restore time alarm per policy at the RTO, and a validation failure alarm, on the vault topic', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RestoreDurationSeconds',
      Namespace: 'CdkBackupDr/Verification',
      Dimensions: [{ Name: 'Policy', Value: 'Pro-rpo15m-rto60m' }],
      Threshold: 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      Statistic: 'Maximum',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('BackupDrVaultProNotifications') }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RestoreDurationSeconds', Threshold: 8 * 3600, Dimensions: [{ Name: 'Policy', Value: 'Pro-rpo1440m-rto480m' }] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('ValidationFunction') } }] });
  });

  test('one monitor function, one schedule per policy at a third of the RPO (5 min floor, 6 h ceiling)', () => {
    const fns = t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('RecoveryPointAgeSeconds') } });
    expect(Object.keys(fns)).toHaveLength(1);
    t.resourceCountIs('AWS::Scheduler::Schedule', 2);
    const schedules = Object.values(t.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties.ScheduleExpression).sort();
    expect(schedules).toEqual(['rate(360 minutes)', 'rate(5 minutes)']);
    const inputs = Object.values(t.findResources('AWS::Scheduler::Schedule')).map((r) => JSON.parse(r.Properties.Target.Input));
    expect(inputs).toContainEqual({ policy: 'Pro-rpo15m-rto60m', rpoSeconds: 900, nativeKinds: ['DYNAMODB_TABLE'], resources: [], scheduledTime: '<aws.scheduler.scheduled-time>' });
  });

  test('age alarm per policy: > RPO for two runs, missing data breaching', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RecoveryPointAgeSeconds',
      Namespace: 'CdkBackupDr/Verification',
      Dimensions: [{ Name: 'Policy', Value: 'Pro-rpo15m-rto60m' }],
      Threshold: 900,
      Period: 300,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('BackupDrVaultProNotifications') }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RecoveryPointAgeSeconds', Threshold: 86400, Period: 21600 });
  });

  test('least privilege: read-only backup calls, PutMetricData only in the verification namespace, no write on protected data', () => {
    const policies = Object.values(t.findResources('AWS::IAM::ManagedPolicy', { Properties: { Description: Match.stringLikeRegexp('recovery-point monitor|restore test validation') } }));
    expect(policies).toHaveLength(2);
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: { Action: string | string[] }) => ([] as string[]).concat(s.Action));
    for (const a of actions) {
      expect(a).toMatch(/^(backup:(List|Describe|Get)\w+|backup:PutRestoreValidationResult|tag:GetResources|dynamodb:(Describe\w+|Scan)|rds:Describe\w+|s3:ListBucket|logs:(CreateLogStream|PutLogEvents)|cloudwatch:PutMetricData)$/);
    }
    const put = statements.filter((s: { Action: string | string[] }) => ([] as string[]).concat(s.Action).includes('cloudwatch:PutMetricData'));
    expect(put).toHaveLength(2);
    for (const s of put) expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CdkBackupDr/Verification' } });
    const validation = statements.filter((s: { Action: string | string[] }) => ([] as string[]).concat(s.Action).includes('dynamodb:Scan'));
    expect(JSON.stringify(validation)).toMatch(/table\/awsbackup-restore-test\*/);
  });
});

test('DEV: no restore testing by default, the monitor still runs; enabled: true turns it on', () => {
  const stack = testStack();
  protectTables(stack, tables(stack, 1), RecoveryTier.STANDARD, DeploymentEnvironment.DEV);
  const t = synthTemplate(stack);
  t.resourceCountIs('AWS::Backup::RestoreTestingPlan', 0);
  t.resourceCountIs('AWS::Scheduler::Schedule', 1);

  const other = testStack();
  protectTables(other, tables(other, 1), RecoveryTier.STANDARD, DeploymentEnvironment.DEV, { restoreTesting: { enabled: true } });
  synthTemplate(other).resourceCountIs('AWS::Backup::RestoreTestingPlan', 1);
});

test('QA is tested monthly; PRO can opt out per construct', () => {
  const stack = testStack();
  protectTables(stack, tables(stack, 1), RecoveryTier.STANDARD, DeploymentEnvironment.QA);
  protectTables(stack, tables(stack, 1, 'Pro'), RecoveryTier.ARCHIVE, DeploymentEnvironment.PRO, { restoreTesting: { enabled: false } });
  const t = synthTemplate(stack);
  t.resourceCountIs('AWS::Backup::RestoreTestingPlan', 1);
  t.hasResourceProperties('AWS::Backup::RestoreTestingPlan', { ScheduleExpression: 'cron(0 2 ? * SAT#1 *)' });
  expect(RestoreTesting.find(stack, DeploymentEnvironment.PRO)).toBeUndefined();
});

test('two selections of one policy and type (other validation window) select by their own tags, never overlapping', () => {
  const stack = testStack();
  const first = tables(stack, 2, 'A');
  const second = tables(stack, 1, 'B');
  protectTables(stack, first, RecoveryTier.STANDARD);
  protectTables(stack, second, RecoveryTier.STANDARD, DeploymentEnvironment.PRO, { restoreTesting: { validationWindow: Duration.hours(5) } });
  const t = synthTemplate(stack);
  const selections = Object.values(t.findResources('AWS::Backup::RestoreTestingSelection')).map((r) => r.Properties);
  expect(selections.map((p) => [p.ValidationWindowHours, p.ProtectedResourceConditions.StringEquals])).toEqual([
    [2, [{ Key: 'aws:ResourceTag/cdk-backup-dr-restore-test', Value: 'Pro_rpo1440m_rto480m_DDB_1' }]],
    [5, [{ Key: 'aws:ResourceTag/cdk-backup-dr-restore-test', Value: 'Pro_rpo1440m_rto480m_DDB_2' }]],
  ]);
  const tagsOf = (table: dynamodb.TableV2) =>
    t.toJSON().Resources[stack.getLogicalId(table.node.defaultChild as dynamodb.CfnGlobalTable)].Properties.Replicas[0].Tags;
  for (const table of first) expect(tagsOf(table)).toContainEqual({ Key: 'cdk-backup-dr-restore-test', Value: 'Pro_rpo1440m_rto480m_DDB_1' });
  expect(tagsOf(second[0])).toContainEqual({ Key: 'cdk-backup-dr-restore-test', Value: 'Pro_rpo1440m_rto480m_DDB_2' });
  expect(tagsOf(second[0])).toContainEqual({ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo1440m-rto480m' });
});

test('options: schedule, windows; conflicting schedules in one plan are a synth error naming both', () => {
  const stack = testStack();
  protectTables(stack, tables(stack, 1), RecoveryTier.STANDARD, DeploymentEnvironment.PRO,
    { restoreTesting: { schedule: 'cron(0 4 ? * SUN *)', startWindow: Duration.hours(2), validationWindow: Duration.hours(6), selectionWindow: Duration.days(3) } });
  const t = synthTemplate(stack);
  t.hasResourceProperties('AWS::Backup::RestoreTestingPlan', {
    ScheduleExpression: 'cron(0 4 ? * SUN *)', StartWindowHours: 2, RecoveryPointSelection: Match.objectLike({ SelectionWindowDays: 3 }),
  });
  t.hasResourceProperties('AWS::Backup::RestoreTestingSelection', { ValidationWindowHours: 6 });

  const s2 = testStack();
  protectTables(s2, tables(s2, 1), RecoveryTier.STANDARD, DeploymentEnvironment.PRO, { restoreTesting: { schedule: 'cron(0 4 ? * SUN *)' } });
  expect(() => protectTables(s2, tables(s2, 1, 'B'), RecoveryTier.ARCHIVE, DeploymentEnvironment.PRO, { restoreTesting: { schedule: 'cron(0 5 ? * SUN *)' } }))
    .toThrow(/\[TestStack\] restoreTesting: schedule cron\(0 5 \? \* SUN \*\) differs from cron\(0 4 \? \* SUN \*\), set by an earlier construct/);
});

test.each([
  [{ validationWindow: Duration.minutes(90) }, /restoreTesting.validationWindow is 1 hour 30 minutes, but AWS Backup takes whole hours from 1 to 168/],
  [{ validationWindow: Duration.days(8) }, /validationWindow is 8 days/],
  [{ startWindow: Duration.hours(0) }, /startWindow/],
  [{ selectionWindow: Duration.days(400) }, /selectionWindow is 400 days, but AWS Backup accepts 1 to 365 days/],
  [{ schedule: 'every sunday' }, /restoreTesting.schedule is "every sunday"/],
])('bad restore testing option %p', (restoreTesting, msg) => {
  const stack = testStack();
  expect(() => protectTables(stack, tables(stack, 1), RecoveryTier.STANDARD, DeploymentEnvironment.PRO, { restoreTesting })).toThrow(msg);
});

test('quota: more than 30 restore testing selections in one plan is a synth error naming the quota', () => {
  const stack = testStack();
  for (let i = 0; i < MAX_RESTORE_TESTING_SELECTIONS_PER_PLAN; i++) {
    protectTables(stack, tables(stack, 1, `T${i}_`), { rpo: Duration.hours(24), rto: Duration.hours(8 + i) });
  }
  expect(RestoreTesting.find(stack, DeploymentEnvironment.PRO)!.selectionCountTotal).toBe(30);
  expect(() => protectTables(stack, tables(stack, 1, 'Last'), { rpo: Duration.hours(24), rto: Duration.hours(100) }))
    .toThrow(/more than 30 selections \(AWS Backup quota: 30 restore testing selections per plan, 30 ARNs per selection\)/);
});

test('imported tables: ARN selections of at most 30 ARNs, explicit ARNs in the monitor input, policy map for the validation', () => {
  const stack = testStack();
  const imported = Array.from({ length: 31 }, (_, i) => dynamodb.Table.fromTableArn(stack, `Imp${i}`, `arn:aws:dynamodb:eu-west-1:111111111111:table/imp${i}`));
  protectTables(stack, imported, RecoveryTier.STANDARD);
  const t = synthTemplate(stack);
  const selections = Object.values(t.findResources('AWS::Backup::RestoreTestingSelection')).map((r) => r.Properties.ProtectedResourceArns.length);
  expect(selections).toEqual([30, 1]);
  const input = JSON.parse(Object.values(t.findResources('AWS::Scheduler::Schedule'))[0].Properties.Target.Input);
  expect(input.resources).toHaveLength(31);
  const fn = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POLICY_BY_ARN: Match.anyValue() } } } }))[0];
  expect(JSON.parse(fn.Properties.Environment.Variables.POLICY_BY_ARN)['arn:aws:dynamodb:eu-west-1:111111111111:table/imp0']).toBe('Pro-rpo1440m-rto480m');
});

test('RDS: instances are restored private, in their subnet group and security groups; Aurora in its subnet group', () => {
  const stack = testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const vpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  const db = new rds.DatabaseInstance(stack, 'Db', { engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }), vpc, vpcSubnets, storageEncrypted: true });
  const cluster = new rds.DatabaseCluster(stack, 'Cluster', {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }), vpc, vpcSubnets, writer: rds.ClusterInstance.provisioned('w'), storageEncrypted: true,
  });
  const vault = RecoveryVault.forStack(stack, DeploymentEnvironment.PRO);
  const policy = BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO });
  ProtectionVerification.register(stack, {
    resourceType: VerifiedResourceType.RDS_INSTANCE,
    resources: [{ arn: db.instanceArn, construct: db }],
    environment: DeploymentEnvironment.PRO,
    objectives: RecoveryTier.STANDARD,
    policy,
    vault,
    restoreTesting: { rdsInstanceClass: 'db.t4g.medium' },
  });
  ProtectionVerification.register(stack, {
    resourceType: VerifiedResourceType.AURORA_CLUSTER,
    resources: [{ arn: cluster.clusterArn, construct: cluster }],
    environment: DeploymentEnvironment.PRO,
    objectives: RecoveryTier.STANDARD,
    policy,
    vault,
    continuousNative: true,
  });
  const t = synthTemplate(stack);
  t.hasResourceProperties('AWS::Backup::RestoreTestingSelection', {
    ProtectedResourceType: 'RDS',
    RestoreMetadataOverrides: {
      publiclyAccessible: 'false',
      dbInstanceClass: 'db.t4g.medium',
      dbSubnetGroupName: { Ref: Match.stringLikeRegexp('DbSubnetGroup') },
      vpcSecurityGroupIds: { 'Fn::Join': ['', ['["', { 'Fn::GetAtt': [Match.stringLikeRegexp('DbSecurityGroup'), 'GroupId'] }, '"]']] },
    },
  });
  t.hasResourceProperties('AWS::Backup::RestoreTestingSelection', {
    ProtectedResourceType: 'Aurora',
    RestoreMetadataOverrides: { dbSubnetGroupName: { Ref: Match.stringLikeRegexp('ClusterSubnets') } },
  });
  // Tags go to the database and the cluster only (not to their subnet groups, secrets or security groups).
  t.hasResourceProperties('AWS::RDS::DBInstance', { Tags: Match.arrayWith([{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo1440m-rto480m' }]) });
  t.hasResourceProperties('AWS::RDS::DBCluster', { Tags: Match.arrayWith([{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo1440m-rto480m' }]) });
  t.hasResourceProperties('AWS::RDS::DBSubnetGroup', { Tags: Match.absent() });
  const input = JSON.parse(Object.values(t.findResources('AWS::Scheduler::Schedule'))[0].Properties.Target.Input);
  expect(input.nativeKinds).toEqual(['AURORA_CLUSTER']);
  expect(RecoveryPointMonitor.find(stack)!.policyCount).toBe(1);
});

test('policy names: a clash of objectives is an error; a bad name is an error', () => {
  const stack = testStack();
  protectTables(stack, tables(stack, 1), RecoveryTier.STANDARD, DeploymentEnvironment.PRO, { policyName: 'orders' });
  expect(() => protectTables(stack, tables(stack, 1, 'B'), RecoveryTier.CRITICAL, DeploymentEnvironment.PRO, { policyName: 'orders' }))
    .toThrow(/policyName "orders" is already used in this stack for Pro RPO 1440 min \/ RTO 480 min/);
  expect(() => protectTables(stack, tables(stack, 1, 'C'), RecoveryTier.CRITICAL, DeploymentEnvironment.PRO, { policyName: 'bad,name' }))
    .toThrow(/policyName is "bad,name"/);
});
