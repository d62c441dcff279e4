import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { TeamAccess } from '../../src/access/team-access';
import { BackupCatalogMetadata } from '../../src/core/catalog-metadata';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { DynamoPitrBackup, DynamoPitrBackupProps } from '../../src/dynamodb';
import { snapshotOf, synthTemplate, testStack } from '../support/app';

const PK = { name: 'pk', type: dynamodb.AttributeType.STRING };

function table(stack: Stack, id = 'Table', props: Partial<dynamodb.TableProps> = {}): dynamodb.Table {
  return new dynamodb.Table(stack, id, { partitionKey: PK, billingMode: dynamodb.BillingMode.PAY_PER_REQUEST, ...props });
}

function tableV2(stack: Stack, id = 'Global', props: Partial<dynamodb.TablePropsV2> = {}): dynamodb.TableV2 {
  return new dynamodb.TableV2(stack, id, { partitionKey: PK, ...props });
}

const base = (tables: dynamodb.ITable[], over: Partial<DynamoPitrBackupProps> = {}): DynamoPitrBackupProps => ({
  objectives: RecoveryTier.STANDARD,
  environment: DeploymentEnvironment.DEV,
  tables,
  ...over,
});

describe('DynamoPitrBackup point-in-time recovery', () => {
  test('turns PITR on with RecoveryPeriodInDays from the environment on a Table', () => {
    // GIVEN
    const stack = testStack();
    const t1 = table(stack);
    // WHEN
    const p = new DynamoPitrBackup(stack, 'Protect', base([t1]));
    // THEN
    synthTemplate(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 },
    });
    expect(p.pointInTimeRecoveryDays).toBe(7);
  });

  test('PRO: 35 days; PITR explicitly disabled on the table is turned on', () => {
    const stack = testStack();
    const t1 = table(stack, 'Table', { pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false } });
    new DynamoPitrBackup(stack, 'Protect', base([t1], { environment: DeploymentEnvironment.PRO }));
    synthTemplate(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
    });
  });

  test('a longer period already set on the table is kept', () => {
    const stack = testStack();
    const t1 = table(stack, 'Table', { pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 30 } });
    new DynamoPitrBackup(stack, 'Protect', base([t1]));
    synthTemplate(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 30 },
    });
  });

  test('TableV2: every replica gets PITR, also replicas added later; a longer replica period is kept', () => {
    const stack = testStack();
    const g = tableV2(stack, 'Global', {
      replicas: [{ region: 'us-east-1', pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 20 } }],
    });
    new DynamoPitrBackup(stack, 'Protect', base([g]));
    g.addReplica({ region: 'eu-central-1' });
    synthTemplate(stack).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [
        { Region: 'us-east-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 20 } },
        { Region: 'eu-central-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 } },
        { Region: 'eu-west-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 } },
      ],
    });
  });

  test('pointInTimeRecoveryPeriod overrides the derived period', () => {
    const stack = testStack();
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { pointInTimeRecoveryPeriod: Duration.days(21) }));
    synthTemplate(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 21 },
    });
  });

  test('a shorter pointInTimeRecoveryPeriod warns that the policy is weakened', () => {
    const stack = testStack();
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { environment: DeploymentEnvironment.QA, pointInTimeRecoveryPeriod: Duration.days(2) }));
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('pointInTimeRecoveryPeriod of 2 days is shorter than the 14 days derived for QA'));
  });

  test('imported tables: a warning, AWS Backup only', () => {
    const stack = testStack();
    const imported = dynamodb.Table.fromTableName(stack, 'Legacy', 'legacy-table');
    new DynamoPitrBackup(stack, 'Protect', base([imported]));
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 0);
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { Resources: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-west-1:111111111111:table/legacy-table']] }] },
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect',
      Match.stringLikeRegexp('TestStack/Legacy is not defined in this app: point-in-time recovery \\(RecoveryPeriodInDays 7\\) cannot be turned on here'));
  });

  test('Table with replicationRegions (custom-resource replicas): a warning', () => {
    const stack = testStack();
    const t1 = table(stack, 'Table', { replicationRegions: ['us-east-1'] });
    new DynamoPitrBackup(stack, 'Protect', base([t1]));
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('replicates with replicationRegions'));
  });
});

describe('DynamoPitrBackup AWS Backup plan', () => {
  test('PRO STANDARD without advanced features: 12-hourly backups and warm samples', () => {
    const stack = testStack();
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { environment: DeploymentEnvironment.PRO }));
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [
          { RuleName: 'RoutineEvery12h', ScheduleExpression: 'cron(0 0/12 * * ? *)', StartWindowMinutes: 60, CompletionWindowMinutes: 720, Lifecycle: { DeleteAfterDays: 35 }, TargetBackupVault: Match.anyValue() },
          { RuleName: 'MonthlySample', ScheduleExpression: 'cron(0 4 1 * ? *)', StartWindowMinutes: 60, CompletionWindowMinutes: 1440, Lifecycle: { DeleteAfterDays: 365 }, TargetBackupVault: Match.anyValue() },
          { RuleName: 'YearlySample', ScheduleExpression: 'cron(0 5 1 1 ? *)', StartWindowMinutes: 60, CompletionWindowMinutes: 1440, Lifecycle: { DeleteAfterDays: 2555 }, TargetBackupVault: Match.anyValue() },
        ],
      },
    });
    t.resourceCountIs('Custom::BackupRegionSettings', 0);
  });

  test('RPO 15 minutes: native PITR covers the RPO, AWS Backup takes daily full backups', () => {
    const stack = testStack();
    const p = new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { objectives: RecoveryTier.CRITICAL }));
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [Match.objectLike({ RuleName: 'RoutineDaily', ScheduleExpression: 'cron(0 3 * * ? *)', Lifecycle: { DeleteAfterDays: 7 } })],
      },
    });
    expect(p.policy.requiresNativePointInTimeRecovery).toBe(true);
    expect(p.policy.periodicity).toMatch(/^continuous \(native point-in-time recovery\)/);
  });

  test('tables join one selection with the stack backup role', () => {
    const stack = testStack();
    const a = table(stack, 'A');
    const b = tableV2(stack, 'B');
    new DynamoPitrBackup(stack, 'Protect', base([a, b]));
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Backup::BackupSelection', 1);
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: {
        IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrPlanRegistryServiceRole'), 'Arn'] },
        Resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^A'), 'Arn'] }, { 'Fn::GetAtt': [Match.stringLikeRegexp('^B'), 'Arn'] }],
      },
    });
  });

  test('advanced features: samples move to cold storage, a Region settings resource turns them on and the plan waits for it', () => {
    const stack = testStack();
    const p = new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { environment: DeploymentEnvironment.PRO, advancedBackupFeatures: true }));
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: Match.arrayWith([
          Match.objectLike({ RuleName: 'MonthlySample', Lifecycle: { DeleteAfterDays: 365, MoveToColdStorageAfterDays: 30 } }),
          Match.objectLike({ RuleName: 'YearlySample', Lifecycle: { DeleteAfterDays: 2555, MoveToColdStorageAfterDays: 90 } }),
        ]),
      },
    });
    t.resourceCountIs('Custom::BackupRegionSettings', 1);
    t.hasResourceProperties('Custom::BackupRegionSettings', { EnableDynamoDbAdvancedFeatures: 'true', OptInDynamoDb: 'true', RestoreOnDelete: 'false' });
    const settingsId = Object.keys(t.findResources('Custom::BackupRegionSettings'))[0];
    t.hasResource('AWS::Backup::BackupPlan', { DependsOn: Match.arrayWith([settingsId]) });
    expect(stack.resolve((p.regionSettings!.resource.node.defaultChild as any).logicalId)).toBe(settingsId);
  });

  test('explicit cold-storage overrides apply with advanced features', () => {
    const stack = testStack();
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)], {
      environment: DeploymentEnvironment.QA,
      advancedBackupFeatures: true,
      retention: { monthlySample: Duration.days(120), monthlySampleColdStorageAfter: Duration.days(30) },
    }));
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: Match.arrayWith([Match.objectLike({ RuleName: 'MonthlySample', Lifecycle: { DeleteAfterDays: 120, MoveToColdStorageAfterDays: 30 } })]) },
    });
  });

  test('records an inventory entry', () => {
    const stack = testStack();
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { sampleExport: { bucket: new s3.Bucket(stack, 'B') } }));
    expect(BackupCatalogMetadata.entriesOf(stack)).toEqual([expect.objectContaining({
      backupName: 'TestStack/Protect', supportType: 'AWS Backup + DynamoDB PITR + scheduled export to S3', environment: 'Dev', content: 'Current data',
    })]);
  });
});

describe('DynamoPitrBackup encryption keys', () => {
  const keyPolicyOf = (stack: Stack) => synthTemplate(stack).findResources('AWS::IAM::ManagedPolicy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('BackupDrPlanRegistryServiceRole') }] },
  });

  test('the backup role may use the customer-managed keys of Table and TableV2', () => {
    const stack = testStack();
    const a = table(stack, 'A', { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED });
    const key = new kms.Key(stack, 'GlobalKey');
    const b = tableV2(stack, 'B', { encryption: dynamodb.TableEncryptionV2.customerManagedKey(key) });
    new DynamoPitrBackup(stack, 'Protect', base([a, b]));
    const policies = Object.values(keyPolicyOf(stack));
    expect(policies).toHaveLength(1);
    const keys = [{ 'Fn::GetAtt': [Match.stringLikeRegexp('AKey'), 'Arn'] }, { 'Fn::GetAtt': [Match.stringLikeRegexp('GlobalKey'), 'Arn'] }];
    synthTemplate(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('BackupDrPlanRegistryServiceRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
            Resource: keys,
          },
          { Effect: 'Allow', Action: 'kms:CreateGrant', Resource: keys, Condition: { Bool: { 'kms:GrantIsForAWSResource': true } } },
        ],
      },
    });
  });

  test('no customer-managed key: no key policy', () => {
    const stack = testStack();
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)]));
    expect(Object.keys(keyPolicyOf(stack))).toHaveLength(0);
  });

  test('imported table with its key: granted; without: a warning', () => {
    const stack = testStack();
    const key = kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const withKey = dynamodb.Table.fromTableAttributes(stack, 'WithKey', { tableName: 'with-key', encryptionKey: key });
    const unknown = dynamodb.Table.fromTableName(stack, 'Unknown', 'unknown');
    new DynamoPitrBackup(stack, 'Protect', base([withKey, unknown]));
    synthTemplate(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' })]) },
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('the encryption key of TestStack/Unknown is unknown'));
  });

  test('a key set through the L1 by ARN is granted; by alias it is rejected', () => {
    const stack = testStack();
    const t1 = table(stack);
    (t1.node.defaultChild as dynamodb.CfnTable).sseSpecification = {
      sseEnabled: true, sseType: 'KMS', kmsMasterKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/abcd',
    };
    new DynamoPitrBackup(stack, 'Protect', base([t1]));
    synthTemplate(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: 'arn:aws:kms:eu-west-1:111111111111:key/abcd' })]) },
    });

    const s2 = testStack();
    const t2 = table(s2);
    (t2.node.defaultChild as dynamodb.CfnTable).sseSpecification = { sseEnabled: true, sseType: 'KMS', kmsMasterKeyId: 'alias/my-key' };
    expect(() => new DynamoPitrBackup(s2, 'Protect', base([t2])))
      .toThrow(/\[TestStack\/Protect\] tables: TestStack\/Table is encrypted with KMS key "alias\/my-key" \(a key id or alias\), which the backup role cannot be granted/);
  });
});

describe('DynamoPitrBackup validation', () => {
  test('empty tables', () => {
    expect(() => new DynamoPitrBackup(testStack(), 'Protect', base([]))).toThrow(/\[TestStack\/Protect\] tables is empty/);
  });

  test('PITR period outside 1–35 days', () => {
    const stack = testStack();
    expect(() => new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { pointInTimeRecoveryPeriod: Duration.days(36) })))
      .toThrow(/pointInTimeRecoveryPeriod \(days\) is 36, but must be between 1 and 35; DynamoDB keeps point-in-time recovery data for 1 to 35 days/);
    const s2 = testStack();
    expect(() => new DynamoPitrBackup(s2, 'Protect', base([table(s2)], { pointInTimeRecoveryPeriod: Duration.minutes(0) })))
      .toThrow(/pointInTimeRecoveryPeriod \(days\) is 0, but must be between 1 and 35/);
  });

  test('cold storage without advanced features', () => {
    const stack = testStack();
    expect(() => new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { retention: { yearlySampleColdStorageAfter: Duration.days(90) } })))
      .toThrow(/retention.yearlySampleColdStorageAfter is 90 days, but DynamoDB recovery points only move to cold storage with AWS Backup's advanced DynamoDB backup features; set advancedBackupFeatures: true/);
  });

  test('an RPO below what PITR achieves', () => {
    const stack = testStack();
    expect(() => new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { objectives: { rpo: Duration.minutes(2), rto: Duration.hours(1) } })))
      .toThrow(/objectives.rpo is 2 minutes, below the 5 minutes that point-in-time recovery guarantees/);
  });
});

describe('DynamoPitrBackup access', () => {
  test('VIEW describes continuous backups; RESTORE restores into <table>-restore-* targets and writes only there', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    const po = new iam.Role(stack, 'Po', { assumedBy: new iam.AccountRootPrincipal() });
    const t1 = table(stack);
    new DynamoPitrBackup(stack, 'Protect', base([t1], { access: [TeamAccess.sre(sre), TeamAccess.productOwner(po)] }));
    const t = synthTemplate(stack);
    const tableArn = { 'Fn::GetAtt': [stack.getLogicalId(t1.node.defaultChild as dynamodb.CfnTable), 'Arn'] };
    const target = { 'Fn::Join': ['', [tableArn, '-restore-*']] };
    const statementsOf = (role: string) => Object.values(t.findResources('AWS::IAM::Policy'))
      .find((p) => p.Properties.Roles[0].Ref.startsWith(role))!.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    expect(statementsOf('Sre')).toEqual(expect.arrayContaining([
      { Effect: 'Allow', Action: ['dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeTable'], Resource: tableArn },
      { Effect: 'Allow', Action: 'dynamodb:RestoreTableToPointInTime', Resource: expect.arrayContaining([tableArn, target]) },
      {
        Effect: 'Allow',
        Action: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        Resource: target,
      },
    ]));
    const poActions = statementsOf('Po').flatMap((s) => [s.Action].flat());
    expect(poActions).toEqual(expect.arrayContaining(['dynamodb:DescribeContinuousBackups']));
    expect(poActions.filter((a) => /^dynamodb:(Restore|Put|Update|Delete|BatchWrite)/.test(String(a)))).toEqual([]);
  });
});

describe('DynamoPitrBackup sample export', () => {
  test('one schedule per table; the function may export these tables into the prefix', () => {
    const stack = testStack();
    const a = table(stack, 'A');
    const b = tableV2(stack, 'B');
    const bucket = new s3.Bucket(stack, 'Samples', { encryption: s3.BucketEncryption.KMS });
    const p = new DynamoPitrBackup(stack, 'Protect', base([a, b], { sampleExport: { bucket } }));
    const t = synthTemplate(stack);
    expect(Object.keys(t.findResources('AWS::Scheduler::Schedule')).filter((id) => id.startsWith('ProtectSampleExport'))).toHaveLength(2);
    const aId = stack.getLogicalId(a.node.defaultChild as dynamodb.CfnTable);
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 1 * ? *)',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 },
      Target: Match.objectLike({
        Input: {
          'Fn::Join': ['', [
            '{"kind":"dynamodb-table-export","tableArn":"', { 'Fn::GetAtt': [aId, 'Arn'] },
            '","bucket":"', { Ref: Match.stringLikeRegexp('Samples') },
            '","prefix":"dynamodb-samples/', { Ref: aId },
            '","kmsKeyId":"', { 'Fn::GetAtt': [Match.stringLikeRegexp('SamplesKey'), 'Arn'] },
            '","scheduledTime":"<aws.scheduler.scheduled-time>"}',
          ]],
        },
      }),
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProtectSampleExportRole') }],
      PolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Action: 'dynamodb:ExportTableToPointInTime',
          Resource: [{ 'Fn::GetAtt': [aId, 'Arn'] }, { 'Fn::GetAtt': [Match.stringLikeRegexp('^B'), 'Arn'] }],
        }],
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProtectSampleExportRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'],
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('Samples'), 'Arn'] }, '/dynamodb-samples/*']] },
          },
          { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('SamplesKey'), 'Arn'] } },
        ]),
      },
    });
    t.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('BackupDrVaultDevNotifications') }] });
    expect(stack.resolve(p.exportFunction!.functionArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ProtectSampleExportFunction/), 'Arn'] });
  });

  test('SSE-S3 bucket without key, custom schedule and prefix, cross-account bucket owner', () => {
    const stack = testStack();
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Remote', { bucketName: 'remote-samples', account: '222222222222' });
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)], {
      sampleExport: { bucket, prefix: 'samples/', schedule: scheduler.ScheduleExpression.expression('cron(0 7 1 1 ? *)') },
    }));
    const t = synthTemplate(stack);
    const schedule = Object.values(t.findResources('AWS::Scheduler::Schedule'))[0];
    expect(schedule.Properties.ScheduleExpression).toBe('cron(0 7 1 1 ? *)');
    const input = JSON.stringify(schedule.Properties.Target.Input);
    expect(input).toContain('\\"bucket\\":\\"remote-samples\\"');
    expect(input).toContain('\\"prefix\\":\\"samples/');
    expect(input).toContain('\\"bucketOwner\\":\\"222222222222\\"');
    expect(input).not.toContain('kmsKeyId');
  });

  test('imported tables: the export needs PITR, said in the warning', () => {
    const stack = testStack();
    new DynamoPitrBackup(stack, 'Protect', base([dynamodb.Table.fromTableName(stack, 'Legacy', 'legacy')], { sampleExport: { bucket: new s3.Bucket(stack, 'B') } }));
    Annotations.fromStack(stack).hasWarning('/TestStack/Protect', Match.stringLikeRegexp('sampleExport fails without PITR'));
  });

  test('teams that restore may read the samples', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    new DynamoPitrBackup(stack, 'Protect', base([table(stack)], { sampleExport: { bucket: new s3.Bucket(stack, 'B') }, access: [TeamAccess.sre(sre)] }));
    synthTemplate(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Sre') }],
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^B'), 'Arn'] }, '/dynamodb-samples/*']] } }]),
      },
    });
  });
});

describe('DynamoPitrBackup snapshot', () => {
  test('PRO Table and global TableV2 with advanced features, export and access', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    new DynamoPitrBackup(stack, 'Protect', {
      objectives: RecoveryTier.CRITICAL,
      environment: DeploymentEnvironment.PRO,
      tables: [table(stack, 'Table', { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED }), tableV2(stack, 'Global', { replicas: [{ region: 'us-east-1' }] })],
      advancedBackupFeatures: true,
      sampleExport: { bucket: new s3.Bucket(stack, 'Samples') },
      access: [TeamAccess.sre(sre)],
    });
    expect(snapshotOf(stack)).toMatchSnapshot();
  });
});
