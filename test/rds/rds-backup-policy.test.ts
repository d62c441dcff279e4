import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AccessLevel, TeamAccess } from '../../src/access/team-access';
import { BackupCatalogMetadata } from '../../src/core/catalog-metadata';
import { BackupContent } from '../../src/core/content';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryObjectives, RecoveryTier } from '../../src/core/recovery-objectives';
import { RecoveryVault } from '../../src/foundation/recovery-vault';
import { RdsBackupPolicy, RdsBackupPolicyProps } from '../../src/rds';
import { snapshotOf, synthTemplate, testStack } from '../support/app';

const ISOLATED = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

function vpcOf(stack: Stack): ec2.IVpc {
  return (stack.node.tryFindChild('Vpc') as ec2.Vpc | undefined)
    ?? new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
}

function instance(stack: Stack, id = 'Db', props: Partial<rds.DatabaseInstanceProps> = {}): rds.DatabaseInstance {
  return new rds.DatabaseInstance(stack, id, {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
    vpc: vpcOf(stack),
    vpcSubnets: ISOLATED,
    storageEncrypted: true,
    ...props,
  });
}

function cluster(stack: Stack, id = 'Cluster', props: Partial<rds.DatabaseClusterProps> = {}): rds.DatabaseCluster {
  const c = new rds.DatabaseCluster(stack, id, {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
    vpc: vpcOf(stack),
    vpcSubnets: ISOLATED,
    writer: rds.ClusterInstance.serverlessV2('writer'),
    storageEncrypted: true,
    ...props,
  });
  // Aurora members inherit the cluster's encryption; CloudFormation's linter cannot know.
  c.node.findAll().filter((x) => x instanceof rds.CfnDBInstance).forEach((m) =>
    Validations.of(m).acknowledge({ id: 'CloudFormation-Validate::W9008', reason: 'Aurora members are encrypted by their cluster' }));
  return c;
}

function imported(stack: Stack, id = 'Imported', identifier = 'legacy-db'): rds.IDatabaseInstance {
  return rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, id, {
    instanceIdentifier: identifier,
    instanceEndpointAddress: `${identifier}.example.eu-west-1.rds.amazonaws.com`,
    port: 5432,
    securityGroups: [],
  });
}

const base = (over: Partial<RdsBackupPolicyProps> = {}): RdsBackupPolicyProps => ({
  objectives: RecoveryTier.STANDARD,
  environment: DeploymentEnvironment.DEV,
  ...over,
});

const instanceArn = (id: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:eu-west-1:111111111111:db:', { Ref: id }]],
});

function logicalId(stack: Stack, c: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(c.node.defaultChild as rds.CfnDBInstance);
}

/** Resources of `type` in the template that belong to the snapshot export (logical id under Protect/SnapshotExport). */
function exportResources(t: Template, type: string): Array<Record<string, any>> {
  return Object.entries(t.findResources(type)).filter(([id]) => id.startsWith('ProtectSnapshotExport')).map(([, r]) => r);
}

describe('RdsBackupPolicy native protection', () => {
  test('sets BackupRetentionPeriod from the environment and CopyTagsToSnapshot on an owned instance and cluster', () => {
    // GIVEN
    const stack = testStack();
    const db = instance(stack, 'Db', { copyTagsToSnapshot: false });
    const c = cluster(stack);
    // WHEN
    const p = new RdsBackupPolicy(stack, 'Protect', base({ instances: [db], clusters: [c] }));
    // THEN
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', BackupRetentionPeriod: 7, CopyTagsToSnapshot: true });
    t.hasResourceProperties('AWS::RDS::DBCluster', { BackupRetentionPeriod: 7, CopyTagsToSnapshot: true });
    expect(p.automatedBackupRetentionDays).toBe(7);
  });

  test('Aurora member instances keep no retention of their own', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ clusters: [cluster(stack)] }));
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', { DBClusterIdentifier: Match.anyValue(), BackupRetentionPeriod: Match.absent() });
  });

  test('PRO and RPO 15 minutes: continuous backup for 35 days, the native window matches it', () => {
    const stack = testStack();
    const db = instance(stack);
    const p = new RdsBackupPolicy(stack, 'Protect', { objectives: RecoveryTier.CRITICAL, environment: DeploymentEnvironment.PRO, instances: [db] });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 35 });
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [
          {
            RuleName: 'Continuous',
            EnableContinuousBackup: true,
            ScheduleExpression: 'cron(0 3 * * ? *)',
            StartWindowMinutes: 60,
            CompletionWindowMinutes: 1440,
            Lifecycle: { DeleteAfterDays: 35 },
            TargetBackupVault: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrVaultPro'), 'BackupVaultName'] },
          },
          // RDS has no cold storage: the samples stay warm although PRO defaults move them.
          { RuleName: 'MonthlySample', ScheduleExpression: 'cron(0 4 1 * ? *)', StartWindowMinutes: 60, CompletionWindowMinutes: 1440, Lifecycle: { DeleteAfterDays: 365 }, TargetBackupVault: Match.anyValue() },
          { RuleName: 'YearlySample', ScheduleExpression: 'cron(0 5 1 1 ? *)', StartWindowMinutes: 60, CompletionWindowMinutes: 1440, Lifecycle: { DeleteAfterDays: 2555 }, TargetBackupVault: Match.anyValue() },
        ],
      },
    });
    expect(p.policy.worstCaseRpo.toMinutes()).toBe(5);
  });

  test('QA and RPO 24 hours: 12-hourly snapshots kept 14 days and a 3-month monthly sample, no yearly sample', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ environment: DeploymentEnvironment.QA, instances: [instance(stack)] }));
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 14 });
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [
          Match.objectLike({ RuleName: 'RoutineEvery12h', ScheduleExpression: 'cron(0 0/12 * * ? *)', StartWindowMinutes: 60, CompletionWindowMinutes: 720, Lifecycle: { DeleteAfterDays: 14 } }),
          Match.objectLike({ RuleName: 'MonthlySample', Lifecycle: { DeleteAfterDays: 90 } }),
        ],
      },
    });
  });

  test('a routine retention above 35 days: native and continuous windows are capped at 35, daily snapshots keep the rest', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', {
      objectives: RecoveryTier.CRITICAL,
      environment: DeploymentEnvironment.PRO,
      instances: [instance(stack)],
      retention: { routine: Duration.days(60) },
    });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 35 });
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: Match.arrayWith([
          Match.objectLike({ RuleName: 'Continuous', EnableContinuousBackup: true, Lifecycle: { DeleteAfterDays: 35 } }),
          Match.objectLike({ RuleName: 'RoutineDaily', Lifecycle: { DeleteAfterDays: 60 } }),
        ]),
      },
    });
  });

  test('a longer window already set on a database is kept (raise, never lower)', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack, 'Db', { backupRetention: Duration.days(30) })] }));
    synthTemplate(stack).hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 30 });
  });

  test('with continuous backup a longer window is replaced by the continuous rule retention, with a warning', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ objectives: RecoveryTier.CRITICAL, instances: [instance(stack, 'Db', { backupRetention: Duration.days(30) })] }));
    synthTemplate(stack).hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 7 });
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('keeps automated backups for 30 days, but AWS Backup continuous backup manages'));
  });

  test('automatedBackupRetention overrides the derived window', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], automatedBackupRetention: Duration.days(21) }));
    synthTemplate(stack).hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 21 });
  });

  test('a shorter automatedBackupRetention warns that the policy is weakened', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], automatedBackupRetention: Duration.days(3) }));
    synthTemplate(stack).hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 3 });
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('automatedBackupRetention of 3 days is shorter than the 7 days derived for Dev'));
  });

  test('automatedBackupRetention under continuous backup warns about drift', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ objectives: RecoveryTier.CRITICAL, instances: [instance(stack)], automatedBackupRetention: Duration.days(3) }));
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('AWS Backup continuous backup manages the automated backup window'));
  });

  test('imported databases are protected by AWS Backup only, with a warning', () => {
    const stack = testStack();
    const legacy = imported(stack);
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [legacy] }));
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::RDS::DBInstance', 0);
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: {
        Resources: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:eu-west-1:111111111111:db:legacy-db']] }],
      },
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect',
      Match.stringLikeRegexp('TestStack/Imported is not defined in this app: their automated backup retention \\(BackupRetentionPeriod 7 days expected\\)'));
  });
});

describe('RdsBackupPolicy AWS Backup plan', () => {
  test('instances and clusters join one selection of the shared plan with the stack backup role', () => {
    const stack = testStack();
    const db = instance(stack);
    const c = cluster(stack);
    const p = new RdsBackupPolicy(stack, 'Protect', base({ instances: [db], clusters: [c] }));
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Backup::BackupPlan', 1);
    t.resourceCountIs('AWS::Backup::BackupSelection', 1);
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: {
        IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrPlanRegistryServiceRole'), 'Arn'] },
        Resources: [
          instanceArn(logicalId(stack, db)),
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:eu-west-1:111111111111:cluster:', { Ref: stack.getLogicalId(c.node.defaultChild as rds.CfnDBCluster) }]] },
        ],
      },
    });
    expect(p.vault).toBe(stack.node.findChild('BackupDrVaultDev'));
  });

  test('two policies with the same objectives share one plan; different objectives get their own', () => {
    const stack = testStack();
    const a = new RdsBackupPolicy(stack, 'A', base({ instances: [imported(stack, 'I1', 'db-one')] }));
    const b = new RdsBackupPolicy(stack, 'B', base({ instances: [imported(stack, 'I2', 'db-two')] }));
    const c = new RdsBackupPolicy(stack, 'C', base({ objectives: RecoveryTier.CRITICAL, instances: [imported(stack, 'I3', 'db-three')] }));
    expect(a.backupPlan).toBe(b.backupPlan);
    expect(c.backupPlan).not.toBe(a.backupPlan);
    synthTemplate(stack).resourceCountIs('AWS::Backup::BackupPlan', 2);
  });

  test('records an inventory entry', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], content: BackupContent.CURRENT_DATA }));
    expect(BackupCatalogMetadata.entriesOf(stack)).toEqual([expect.objectContaining({
      backupName: 'TestStack/Protect',
      content: 'Current data',
      environment: 'Dev',
      supportType: 'AWS Backup + RDS automated backups',
      rpo: '1 day',
      rto: '8 hours',
    })]);
  });

  test('a given vault is used', () => {
    const stack = testStack();
    const vault = new RecoveryVault(stack, 'MyVault', { environment: DeploymentEnvironment.DEV });
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], vault }));
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Backup::BackupVault', 1);
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: Match.arrayWith([Match.objectLike({ TargetBackupVault: { 'Fn::GetAtt': [Match.stringLikeRegexp('MyVault'), 'BackupVaultName'] } })]) },
    });
  });
});

describe('RdsBackupPolicy validation', () => {
  test('no instances and no clusters', () => {
    const stack = testStack();
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({}))).toThrow(/\[TestStack\/Protect\] instances and clusters are both empty/);
    expect(() => new RdsBackupPolicy(testStack(), 'Protect', base({ instances: [], clusters: [] }))).toThrow(/pass at least one rds.IDatabaseInstance/);
  });

  test('an RPO below what point-in-time recovery achieves', () => {
    const stack = testStack();
    const objectives: RecoveryObjectives = { rpo: Duration.minutes(1), rto: Duration.hours(1) };
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ objectives, instances: [instance(stack)] })))
      .toThrow(/\[TestStack\/Protect\] objectives.rpo is 1 minute, below the 5 minutes that point-in-time recovery guarantees/);
  });

  test('automatedBackupRetention above 35 days', () => {
    const stack = testStack();
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], automatedBackupRetention: Duration.days(40) })))
      .toThrow(/\[TestStack\/Protect\] automatedBackupRetention \(days\) is 40, but must be between 1 and 35; RDS keeps automated backups for 1 to 35 days/);
  });

  test('an instance that is a member of a protected cluster (listed by the cluster)', () => {
    const stack = testStack();
    const c = cluster(stack);
    const member = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Member', {
      instanceIdentifier: c.instanceIdentifiers[0], instanceEndpointAddress: 'x', port: 5432, securityGroups: [],
    });
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ instances: [member], clusters: [c] })))
      .toThrow(/instances: TestStack\/Member is a member of cluster TestStack\/Cluster, which is also protected/);
  });

  test('an owned instance whose DBClusterIdentifier is a protected cluster', () => {
    const stack = testStack();
    const c = cluster(stack);
    const db = instance(stack);
    (db.node.defaultChild as rds.CfnDBInstance).dbClusterIdentifier = c.clusterIdentifier;
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ instances: [db], clusters: [c] })))
      .toThrow(/TestStack\/Db is a member of cluster TestStack\/Cluster, which is also protected; Aurora instances have no backups of their own/);
  });

  test('an Aurora member instance on its own', () => {
    const stack = testStack();
    const db = instance(stack);
    (db.node.defaultChild as rds.CfnDBInstance).dbClusterIdentifier = 'other-cluster';
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ instances: [db] })))
      .toThrow(/is a member of an Aurora DB cluster.*protect the cluster \(clusters: \[cluster\]\) instead/);
  });

  test('PRO databases must be encrypted (DR copies)', () => {
    const stack = testStack();
    const plain = instance(stack, 'Plain', { storageEncrypted: false });
    expect(() => new RdsBackupPolicy(stack, 'Protect', { ...base({ instances: [plain] }), environment: DeploymentEnvironment.PRO }))
      .toThrow(/TestStack\/Plain has storageEncrypted false, but environment is PRO, whose recovery points are copied to the DR site; set storageEncrypted: true/);
    const s2 = testStack();
    const unset = cluster(s2, 'Unset', { storageEncrypted: undefined });
    expect(() => new RdsBackupPolicy(s2, 'Protect', { ...base({ clusters: [unset] }), environment: DeploymentEnvironment.PRO }))
      .toThrow(/TestStack\/Unset has storageEncrypted unset \(unencrypted\)/);
  });

  test('unencrypted databases are accepted outside PRO', () => {
    const stack = testStack();
    new RdsBackupPolicy(stack, 'Protect', base({ environment: DeploymentEnvironment.QA, instances: [instance(stack, 'Plain', { storageEncrypted: false })] }));
    synthTemplate(stack).hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 14 });
  });

  test('cold-storage overrides: RDS has no cold storage', () => {
    const stack = testStack();
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], retention: { monthlySampleColdStorageAfter: Duration.days(30) } })))
      .toThrow(/retention.monthlySampleColdStorageAfter is 30 days, but AWS Backup cannot move RDS recovery points to cold storage/);
  });

  test('Development may not restore PRO databases', () => {
    const stack = testStack();
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => new RdsBackupPolicy(stack, 'Protect', {
      objectives: RecoveryTier.STANDARD,
      environment: DeploymentEnvironment.PRO,
      instances: [instance(stack)],
      access: [TeamAccess.development(dev, AccessLevel.RESTORE)],
    })).toThrow(/Development may only VIEW production backups/);
  });
});

describe('RdsBackupPolicy access', () => {
  test('VIEW teams describe the databases; RESTORE teams restore them to <source>-restore-* targets', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    const product = new iam.Role(stack, 'Product', { assumedBy: new iam.AccountRootPrincipal() });
    const db = instance(stack);
    const c = cluster(stack);
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [db], clusters: [c], access: [TeamAccess.sre(sre), TeamAccess.product(product)] }));
    const t = synthTemplate(stack);
    const dbId = logicalId(stack, db);
    const clusterId = stack.getLogicalId(c.node.defaultChild as rds.CfnDBCluster);
    const arn = (type: string, name: unknown[]) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:rds:eu-west-1:111111111111:${type}:`, ...name]] });
    const any = (type: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:rds:eu-west-1:111111111111:${type}:*`]] });
    const policyOf = (role: string) => Object.values(t.findResources('AWS::IAM::Policy'))
      .find((p) => p.Properties.Roles[0].Ref.startsWith(role))!.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;

    const sreStatements = policyOf('Sre');
    expect(sreStatements).toEqual(expect.arrayContaining([
      { Effect: 'Allow', Action: 'rds:DescribeDBInstances', Resource: arn('db', [{ Ref: dbId }]) },
      { Effect: 'Allow', Action: 'rds:DescribeDBClusters', Resource: arn('cluster', [{ Ref: clusterId }]) },
      {
        Effect: 'Allow',
        Action: 'rds:RestoreDBInstanceToPointInTime',
        Resource: expect.arrayContaining([
          arn('db', [{ Ref: dbId }]), arn('db', [{ Ref: dbId }, '-restore-*']), any('subgrp'), any('og'), any('pg'),
        ]),
      },
      {
        Effect: 'Allow',
        Action: 'rds:RestoreDBClusterToPointInTime',
        Resource: expect.arrayContaining([
          arn('cluster', [{ Ref: clusterId }]), arn('cluster', [{ Ref: clusterId }, '-restore-*']), any('subgrp'), any('og'), any('cluster-pg'),
        ]),
      },
    ]));
    // The vault grants of TeamAccess are there too (protectWithBackup).
    expect(sreStatements).toEqual(expect.arrayContaining([expect.objectContaining({ Action: 'iam:PassRole' })]));

    const productActions = policyOf('Product').flatMap((s) => [s.Action].flat());
    expect(productActions).toEqual(expect.arrayContaining(['rds:DescribeDBInstances', 'rds:DescribeDBClusters']));
    expect(productActions.filter((a) => /^rds:Restore|StartRestoreJob/.test(String(a)))).toEqual([]);
  });
});

describe('RdsBackupPolicy snapshot export', () => {
  function exportStack(over: Partial<RdsBackupPolicyProps> = {}) {
    const stack = testStack();
    const db = instance(stack);
    const c = cluster(stack);
    const bucket = new s3.Bucket(stack, 'Exports');
    const p = new RdsBackupPolicy(stack, 'Protect', {
      objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO, instances: [db], clusters: [c], sampleExport: { bucket }, ...over,
    });
    return { stack, db, c, bucket, p };
  }

  test('an export role trusted by export.rds.amazonaws.com may write under the prefix only', () => {
    const { stack } = exportStack();
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'export.rds.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
        }],
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProtectExportRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:DeleteObject*', 's3:GetObject*', 's3:PutObject*'],
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('Exports'), 'Arn'] }, '/rds-samples/*']] },
          },
          { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('Exports'), 'Arn'] } },
        ],
      },
    });
  });

  test('a new symmetric key with rotation encrypts the exports and is retained', () => {
    const { stack, p } = exportStack();
    const t = synthTemplate(stack);
    t.hasResource('AWS::KMS::Key', {
      Properties: { Description: 'cdk-backup-dr: encrypts RDS snapshot exports of TestStack/Protect', EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
    });
    expect(stack.resolve(p.exportKey!.keyArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ProtectExportKey/), 'Arn'] });
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: Match.absent(),
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'export.rds.amazonaws.com' } })] },
    });
    expect(stack.resolve(p.exportRole!.roleArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ProtectExportRole/), 'Arn'] });
  });

  test('the export function may start exports of these databases only, pass the export role and use the key', () => {
    const { stack, db, c } = exportStack();
    const t = synthTemplate(stack);
    const dbId = logicalId(stack, db);
    const clusterId = stack.getLogicalId(c.node.defaultChild as rds.CfnDBCluster);
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProtectSnapshotExportRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 'rds:DescribeExportTasks', Resource: '*' },
          { Effect: 'Allow', Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProtectExportRole'), 'Arn'] } },
          { Effect: 'Allow', Action: ['kms:CreateGrant', 'kms:DescribeKey'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProtectExportKey'), 'Arn'] } },
        ]),
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProtectSnapshotExportRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['rds:DescribeDBSnapshots', 'rds:StartExportTask'],
            Resource: [
              instanceArn(dbId),
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:eu-west-1:111111111111:snapshot:rds:', { Ref: dbId }, '-*']] },
            ],
          },
          {
            Effect: 'Allow',
            Action: ['rds:DescribeDBClusterSnapshots', 'rds:StartExportTask'],
            // (sorted by the minimizePolicies feature flag)
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:eu-west-1:111111111111:cluster-snapshot:rds:', { Ref: clusterId }, '-*']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:eu-west-1:111111111111:cluster:', { Ref: clusterId }]] },
            ],
          },
        ],
      },
    });
  });

  test('one monthly schedule per database with the handler contract in its input', () => {
    const { stack, db } = exportStack();
    const t = synthTemplate(stack);
    expect(exportResources(t, 'AWS::Scheduler::Schedule')).toHaveLength(2);
    const dbId = logicalId(stack, db);
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 1 * ? *)',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 240 },
      Target: Match.objectLike({
        Input: {
          'Fn::Join': ['', [
            '{"kind":"rds-snapshot-export","sourceArn":"arn:', { Ref: 'AWS::Partition' }, ':rds:eu-west-1:111111111111:db:', { Ref: dbId },
            '","bucket":"', { Ref: Match.stringLikeRegexp('Exports') },
            '","prefix":"rds-samples/', { Ref: dbId },
            '","kmsKeyId":"', { 'Fn::GetAtt': [Match.stringLikeRegexp('ProtectExportKey'), 'Arn'] },
            '","exportRoleArn":"', { 'Fn::GetAtt': [Match.stringLikeRegexp('ProtectExportRole'), 'Arn'] },
            '","scheduledTime":"<aws.scheduler.scheduled-time>"}',
          ]],
        },
      }),
    });
  });

  test('failures alarm to the vault topic', () => {
    const { stack } = exportStack();
    const t = synthTemplate(stack);
    const alarms = exportResources(t, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(2); // function errors, dead letters
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^BackupDrVaultProNotifications/) }]);
  });

  test.each<[string, Partial<{ prefix: string; schedule: scheduler.ScheduleExpression }>, RegExp]>([
    ['a prefix starting with "/"', { prefix: '/samples/' }, /\[TestStack\/Protect\] sampleExport.prefix is '\/samples\/', but a key prefix must not start with "\/"/],
    ['a prefix without the trailing "/"', { prefix: 'samples' }, /sampleExport.prefix is 'samples', but a key prefix .* must end with "\/"/],
    ['a cron expression with five fields', { schedule: scheduler.ScheduleExpression.expression('cron(0 6 1 * ?)') },
      /\[TestStack\/Protect\] sampleExport.schedule: schedule expression "cron\(0 6 1 \* \?\)" cannot be read: a cron expression has 6 fields/],
    ['both day fields set', { schedule: scheduler.ScheduleExpression.expression('cron(0 6 1 * MON *)') }, /one of day-of-month and day-of-week must be \?/],
  ])('sampleExport refuses %s', (_name, options, message) => {
    const stack = testStack();
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], sampleExport: { bucket: new s3.Bucket(stack, 'B'), ...options } })))
      .toThrow(message);
  });

  test('custom schedule, prefix, key and alarm topic', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'MyKey');
    const topic = new sns.Topic(stack, 'Ops');
    const bucket = new s3.Bucket(stack, 'Exports');
    new RdsBackupPolicy(stack, 'Protect', base({
      instances: [instance(stack)],
      sampleExport: { bucket, prefix: 'samples/rds/', kmsKey: key, alarmTopic: topic, schedule: scheduler.ScheduleExpression.expression('cron(0 2 1 1 ? *)') },
    }));
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::KMS::Key', 3); // MyKey, vault key, operations key
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 1 1 ? *)',
      Target: Match.objectLike({ Input: { 'Fn::Join': ['', Match.arrayWith(['","prefix":"samples/rds/', '","kmsKeyId":"', { 'Fn::GetAtt': [Match.stringLikeRegexp('MyKey'), 'Arn'] }])] } }),
    });
    for (const a of exportResources(t, 'AWS::CloudWatch::Alarm')) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
  });

  test('teams that restore may read the exported samples', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    const bucket = new s3.Bucket(stack, 'Exports');
    new RdsBackupPolicy(stack, 'Protect', base({ instances: [instance(stack)], sampleExport: { bucket }, access: [TeamAccess.sre(sre)] }));
    synthTemplate(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Sre') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('Exports'), 'Arn'] }, '/rds-samples/*']] } },
          { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProtectExportKey'), 'Arn'] } },
        ]),
      },
    });
  });

  test('engines whose snapshots RDS cannot export are rejected', () => {
    const stack = testStack();
    const db = instance(stack);
    (db.node.defaultChild as rds.CfnDBInstance).engine = 'sqlserver-se';
    expect(() => new RdsBackupPolicy(stack, 'Protect', base({ instances: [db], sampleExport: { bucket: new s3.Bucket(stack, 'B') } })))
      .toThrow(/sampleExport: TestStack\/Db runs engine "sqlserver-se", whose snapshots RDS cannot export to S3/);
  });

  test('more databases than concurrent export tasks on one default schedule: a warning', () => {
    const stack = testStack();
    const instances = Array.from({ length: 6 }, (_, i) => imported(stack, `I${i}`, `db-${i}`));
    new RdsBackupPolicy(stack, 'Protect', base({ instances, sampleExport: { bucket: new s3.Bucket(stack, 'B') } }));
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('RDS runs at most 5 export tasks per account at a time'));
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('snapshot exports need automated backups enabled'));
  });
});

describe('RdsBackupPolicy snapshot', () => {
  test('PRO instance and Aurora cluster with export and access', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    new RdsBackupPolicy(stack, 'Protect', {
      objectives: RecoveryTier.CRITICAL,
      environment: DeploymentEnvironment.PRO,
      instances: [instance(stack)],
      clusters: [cluster(stack)],
      sampleExport: { bucket: new s3.Bucket(stack, 'Exports') },
      access: [TeamAccess.sre(sre)],
    });
    expect(snapshotOf(stack)).toMatchSnapshot();
  });
});
