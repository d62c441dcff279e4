import * as fs from 'fs';
import * as path from 'path';
import { CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupCatalogMetadata, BackupContent, DeploymentEnvironment, RecoveryTier } from '../../src';
import { S3ArchiveLifecycle, S3ArchiveLifecycleProps } from '../../src/s3';
import { snapshotOf, synthTemplate, testStack } from '../support/app';

/** The lifecycle rules of the archive's bucket, after a full synth. */
function rulesOf(archive: S3ArchiveLifecycle, template?: Template): any[] {
  const stack = Stack.of(archive.bucket);
  const t = template ?? synthTemplate(stack);
  const id = stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket);
  return t.toJSON().Resources[id].Properties.LifecycleConfiguration.Rules;
}

function bucketProps(archive: S3ArchiveLifecycle, template: Template): any {
  const stack = Stack.of(archive.bucket);
  return template.toJSON().Resources[stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket)];
}

/** Objectives of the tests that are not about objectives: an RTO of 72 hours keeps every default class. */
const objectives = RecoveryTier.ARCHIVE;

function archiveOf(props: Partial<S3ArchiveLifecycleProps> & Pick<S3ArchiveLifecycleProps, 'content' | 'environment'>, stack = testStack()) {
  return new S3ArchiveLifecycle(stack, 'Archive', { objectives, ...props });
}

const id = (suffix: string) => expect.stringMatching(new RegExp(`^TestStackArchive[0-9A-F]{8}-${suffix}$`));
const abort = { Id: id('AbortIncompleteMultipartUploads'), AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' };
const t = (StorageClass: string, TransitionInDays: number) => ({ StorageClass, TransitionInDays });

describe('default lifecycle rules per content class and environment', () => {
  const { PRO, QA, DEV } = DeploymentEnvironment;
  const cases: Array<[BackupContent, DeploymentEnvironment, any[]]> = [
    [BackupContent.CODE, PRO, [{
      Id: id('Code'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('STANDARD_IA', 30), t('GLACIER_IR', 120)],
      NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 3 },
    }]],
    [BackupContent.CODE, QA, [{
      Id: id('Code'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('STANDARD_IA', 30)],
      NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
    }]],
    [BackupContent.CODE, DEV, [{
      Id: id('Code'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('STANDARD_IA', 30)],
      NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
    }]],
    [BackupContent.DOCUMENTATION, PRO, [{
      Id: id('Documentation'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('STANDARD_IA', 30)],
      NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 3 },
    }]],
    [BackupContent.DOCUMENTATION, QA, [{
      Id: id('Documentation'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('STANDARD_IA', 30)],
      NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
    }]],
    [BackupContent.DOCUMENTATION, DEV, [{
      Id: id('Documentation'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('STANDARD_IA', 30)],
      NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
    }]],
    [BackupContent.HISTORICAL_DATA, PRO, [{
      Id: id('HistoricalData'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('GLACIER_IR', 30), t('DEEP_ARCHIVE', 180)],
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
    }]],
    [BackupContent.HISTORICAL_DATA, QA, [{
      Id: id('HistoricalData'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('GLACIER_IR', 30)],
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
    }]],
    [BackupContent.HISTORICAL_DATA, DEV, [{
      Id: id('HistoricalData'),
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
      Transitions: [t('GLACIER_IR', 30)],
      NoncurrentVersionExpiration: { NoncurrentDays: 3 },
    }]],
    [BackupContent.CURRENT_DATA, PRO, [
      { Id: id('CurrentDataRoutine'), Status: 'Enabled', Prefix: 'routine/', ExpirationInDays: 35, NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
      {
        Id: id('CurrentDataMonthlySample'),
        Status: 'Enabled',
        Prefix: 'samples/monthly/',
        ExpirationInDays: 365,
        Transitions: [t('GLACIER_IR', 30)],
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      },
      {
        Id: id('CurrentDataYearlySample'),
        Status: 'Enabled',
        Prefix: 'samples/yearly/',
        ExpirationInDays: 2555,
        Transitions: [t('DEEP_ARCHIVE', 90)],
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      },
    ]],
    [BackupContent.CURRENT_DATA, QA, [
      { Id: id('CurrentDataRoutine'), Status: 'Enabled', Prefix: 'routine/', ExpirationInDays: 14, NoncurrentVersionExpiration: { NoncurrentDays: 7 } },
      {
        Id: id('CurrentDataMonthlySample'),
        Status: 'Enabled',
        Prefix: 'samples/monthly/',
        ExpirationInDays: 90,
        Transitions: [t('STANDARD_IA', 30)],
        NoncurrentVersionExpiration: { NoncurrentDays: 7 },
      },
      // No yearly sample in QA: the prefix behaves like routine data.
      { Id: id('CurrentDataYearlySample'), Status: 'Enabled', Prefix: 'samples/yearly/', ExpirationInDays: 14, NoncurrentVersionExpiration: { NoncurrentDays: 7 } },
    ]],
    [BackupContent.CURRENT_DATA, DEV, [
      { Id: id('CurrentDataRoutine'), Status: 'Enabled', Prefix: 'routine/', ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
      { Id: id('CurrentDataMonthlySample'), Status: 'Enabled', Prefix: 'samples/monthly/', ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
      { Id: id('CurrentDataYearlySample'), Status: 'Enabled', Prefix: 'samples/yearly/', ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
    ]],
  ];

  test.each(cases)('%s in %s', (content, environment, expected) => {
    // GIVEN / WHEN
    const archive = archiveOf({ content, environment });
    const rules = rulesOf(archive);

    // THEN: exactly the documented rules, plus the multipart clean-up rule
    expect(rules).toEqual([...expected, abort]);
    expect(Annotations.fromStack(Stack.of(archive)).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('an RTO shorter than a default archive class retrieval swaps Deep Archive for Glacier Instant Retrieval', () => {
    // GIVEN an RTO of 8 hours (Deep Archive restores in about 12)
    const historical = archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: PRO, objectives: RecoveryTier.STANDARD });
    const current = archiveOf({ content: BackupContent.CURRENT_DATA, environment: PRO, objectives: RecoveryTier.STANDARD });

    // THEN Deep Archive is dropped (already in Glacier IR) or replaced
    expect(rulesOf(historical)[0].Transitions).toEqual([t('GLACIER_IR', 30)]);
    expect(rulesOf(current)[2].Transitions).toEqual([t('GLACIER_IR', 90)]);
  });

  test('an RTO of 72 hours keeps Deep Archive', () => {
    const historical = archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: PRO, objectives: RecoveryTier.ARCHIVE });
    expect(rulesOf(historical)[0].Transitions).toEqual([t('GLACIER_IR', 30), t('DEEP_ARCHIVE', 180)]);
  });
});

describe('overrides', () => {
  test('transitions replace the main rule transitions; an empty list keeps objects in Standard', () => {
    const glacier = archiveOf({
      content: BackupContent.CODE,
      environment: DeploymentEnvironment.PRO,
      transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(0) }],
    });
    expect(rulesOf(glacier)[0].Transitions).toEqual([t('GLACIER_IR', 0)]);

    const standard = archiveOf({ content: BackupContent.DOCUMENTATION, environment: DeploymentEnvironment.PRO, transitions: [] });
    expect(rulesOf(standard)[0].Transitions).toBeUndefined();
  });

  test('transitions of a CURRENT_DATA archive apply to the routine prefix only', () => {
    const archive = archiveOf({
      content: BackupContent.CURRENT_DATA,
      environment: DeploymentEnvironment.PRO,
      retention: { routine: Duration.days(120) },
      transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }],
    });
    const [routine, monthly] = rulesOf(archive);
    expect(routine).toMatchObject({ ExpirationInDays: 120, Transitions: [t('STANDARD_IA', 30)] });
    expect(monthly.Transitions).toEqual([t('GLACIER_IR', 30)]);
  });

  test('expiration expires the single copy of historical data only when told', () => {
    const archive = archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.QA, expiration: Duration.days(3650) });
    const [rule] = rulesOf(archive);
    expect(rule.ExpirationInDays).toBe(3650);
    // S3 refuses ExpiredObjectDeleteMarker next to a Days expiration (and cleans them up itself)
    expect(rule.ExpiredObjectDeleteMarker).toBeUndefined();
  });

  test('retention.previousVersions sets NewerNoncurrentVersions; 0 keeps no previous version', () => {
    const five = archiveOf({ content: BackupContent.CODE, environment: DeploymentEnvironment.DEV, retention: { previousVersions: 5 } });
    expect(rulesOf(five)[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 1, NewerNoncurrentVersions: 5 });

    const none = archiveOf({ content: BackupContent.DOCUMENTATION, environment: DeploymentEnvironment.DEV, retention: { previousVersions: 0 } });
    expect(rulesOf(none)[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 1 });
  });

  test('retention overrides of the samples come from PolicyDefaults.resolve (0 disables a sample)', () => {
    const archive = archiveOf({
      content: BackupContent.CURRENT_DATA,
      environment: DeploymentEnvironment.PRO,
      retention: { monthlySample: Duration.days(180), monthlySampleColdStorageAfter: Duration.days(60), yearlySample: Duration.days(0) },
    });
    const [, monthly, yearly] = rulesOf(archive);
    expect(monthly).toMatchObject({ ExpirationInDays: 180, Transitions: [t('GLACIER_IR', 60)] });
    expect(yearly).toMatchObject({ ExpirationInDays: 35 });
    expect(yearly.Transitions).toBeUndefined();
  });

  test('noncurrent version expiration, noncurrent transitions and the multipart abort can be overridden', () => {
    const archive = archiveOf({
      content: BackupContent.CODE,
      environment: DeploymentEnvironment.PRO,
      noncurrentVersionExpiration: Duration.days(90),
      noncurrentVersionTransitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }],
      abortIncompleteMultipartUploadAfter: Duration.days(2),
    });
    const [rule, abortRule] = rulesOf(archive);
    expect(rule.NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 90, NewerNoncurrentVersions: 3 });
    expect(rule.NoncurrentVersionTransitions).toEqual([{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }]);
    expect(abortRule.AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 2 });
  });

  test('prefix scopes every rule, and tag filters every rule but the multipart abort', () => {
    const archive = archiveOf({
      content: BackupContent.CURRENT_DATA,
      environment: DeploymentEnvironment.QA,
      prefix: 'db/',
      tagFilters: [{ key: 'backup', value: 'true' }],
    });
    const rules = rulesOf(archive);
    expect(rules.map((r) => r.Prefix)).toEqual(['db/routine/', 'db/samples/monthly/', 'db/samples/yearly/', 'db/']);
    expect(rules.slice(0, 3).map((r) => r.TagFilters)).toEqual(Array(3).fill([{ Key: 'backup', Value: 'true' }]));
    expect(rules[3].TagFilters).toBeUndefined();
    expect(archive.routinePrefix).toBe('db/routine/');
    expect(archive.monthlySamplePrefix).toBe('db/samples/monthly/');
    expect(archive.yearlySamplePrefix).toBe('db/samples/yearly/');
  });

  test('tag filters drop ExpiredObjectDeleteMarker, which S3 refuses with tags', () => {
    const archive = archiveOf({ content: BackupContent.CODE, environment: DeploymentEnvironment.QA, tagFilters: [{ key: 'k', value: 'v' }] });
    expect(rulesOf(archive)[0]).not.toHaveProperty('ExpiredObjectDeleteMarker');
  });

  test('token durations are rendered and skipped by the checks', () => {
    const stack = testStack();
    const days = new CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber;
    const archive = archiveOf({
      content: BackupContent.HISTORICAL_DATA,
      environment: DeploymentEnvironment.PRO,
      transitions: [
        { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(days) },
        { storageClass: s3.StorageClass.DEEP_ARCHIVE, transitionAfter: Duration.days(10) },
      ],
      expiration: Duration.days(days),
    }, stack);
    const [rule] = rulesOf(archive);
    expect(rule.Transitions).toEqual([{ StorageClass: 'STANDARD_IA', TransitionInDays: { Ref: 'Days' } }, t('DEEP_ARCHIVE', 10)]);
    expect(rule.ExpirationInDays).toEqual({ Ref: 'Days' });
  });
});

describe('created bucket', () => {
  test('is encrypted with a rotated KMS key, versioned, private, TLS-only, logged and sends events to EventBridge', () => {
    // GIVEN / WHEN
    const stack = testStack();
    const archive = archiveOf({ content: BackupContent.CODE, environment: DeploymentEnvironment.PRO }, stack);
    const template = synthTemplate(stack);
    const bucketId = stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket);
    const keyId = stack.getLogicalId(archive.encryptionKey!.node.defaultChild as kms.CfnKey);
    const logsId = stack.getLogicalId(archive.accessLogsBucket!.node.defaultChild as s3.CfnBucket);

    // THEN
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(bucketProps(archive, template)).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
          }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'archive/' },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
    // EventBridge through the bucket's own configuration: no custom resource, no Lambda function
    expect(bucketProps(archive, template).Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  test('the access-log bucket is SSE-S3, versioned, private, TLS-only, expiring, and only receives logs from the archive', () => {
    const stack = testStack();
    const archive = archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.QA }, stack);
    const template = synthTemplate(stack);
    const bucketId = stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket);
    const logsId = stack.getLogicalId(archive.accessLogsBucket!.node.defaultChild as s3.CfnBucket);

    expect(template.toJSON().Resources[logsId]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [{
            Id: 'ExpireAccessLogs',
            Status: 'Enabled',
            ExpirationInDays: 90,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }],
        },
      },
    });
    expect(template.toJSON().Resources[logsId].Properties).not.toHaveProperty('AccessControl');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': '111111111111' } },
          }),
        ]),
      },
    });
  });

  test.each([
    [DeploymentEnvironment.PRO, 365],
    [DeploymentEnvironment.DEV, 30],
  ])('access logs of %s are kept %d days by default', (environment, days) => {
    const archive = archiveOf({ content: BackupContent.CODE, environment });
    const template = synthTemplate(Stack.of(archive));
    const logsId = Stack.of(archive).getLogicalId(archive.accessLogsBucket!.node.defaultChild as s3.CfnBucket);
    expect(template.toJSON().Resources[logsId].Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(days);
  });

  test('accessLogRetention, removalPolicy and eventBridge are honoured', () => {
    const stack = testStack();
    const archive = archiveOf({
      content: BackupContent.CODE,
      environment: DeploymentEnvironment.DEV,
      accessLogRetention: Duration.days(10),
      removalPolicy: RemovalPolicy.DESTROY,
      eventBridge: false,
    }, stack);
    const template = synthTemplate(stack);
    const logsId = stack.getLogicalId(archive.accessLogsBucket!.node.defaultChild as s3.CfnBucket);
    expect(template.toJSON().Resources[logsId].Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(10);
    expect(bucketProps(archive, template).DeletionPolicy).toBe('Delete');
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    expect(template.toJSON().Resources[logsId].DeletionPolicy).toBe('Delete');
    expect(bucketProps(archive, template).Properties).not.toHaveProperty('NotificationConfiguration');
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });
});

describe('given bucket', () => {
  test('gets the lifecycle rules; no key, log bucket or notifications are created', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const bucket = new s3.Bucket(stack, 'Mine', { versioned: true, encryptionKey: key, encryption: s3.BucketEncryption.KMS });
    const archive = new S3ArchiveLifecycle(stack, 'Archive', { objectives, bucket, content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.QA });
    const template = synthTemplate(stack);

    expect(archive.bucket).toBe(bucket);
    expect(archive.encryptionKey).toBe(key);
    expect(archive.accessLogsBucket).toBeUndefined();
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    expect(bucketProps(archive, template).Properties).not.toHaveProperty('NotificationConfiguration');
    expect(rulesOf(archive, template).map((r) => r.Id)).toEqual([id('HistoricalData'), id('AbortIncompleteMultipartUploads')]);
  });

  test('eventBridge: true turns on EventBridge notifications of a given bucket', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Mine', { versioned: true });
    new S3ArchiveLifecycle(stack, 'Archive', { objectives, bucket, content: BackupContent.CODE, environment: DeploymentEnvironment.QA, eventBridge: true });
    const template = synthTemplate(stack);
    template.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  test('eventBridge: true keeps the notifications the bucket already has (L1 configuration)', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Mine', { versioned: true });
    (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      queueConfigurations: [{ event: 's3:ObjectCreated:*', queue: 'arn:aws:sqs:eu-west-1:111111111111:q' }],
    };
    new S3ArchiveLifecycle(stack, 'Archive', { objectives, bucket, content: BackupContent.CODE, environment: DeploymentEnvironment.QA, eventBridge: true });
    synthTemplate(stack).hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: {
        EventBridgeConfiguration: { EventBridgeEnabled: true },
        QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: 'arn:aws:sqs:eu-west-1:111111111111:q' }],
      },
    });
  });

  test('EventBridge moves into aws-cdk-lib\'s notifications resource when the app adds L2 notifications, so neither erases the other', () => {
    const stack = testStack();
    const archive = archiveOf({ content: BackupContent.CODE, environment: DeploymentEnvironment.QA }, stack);
    const topic = new sns.Topic(stack, 'Topic');
    archive.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SnsDestination(topic));
    const template = synthTemplate(stack);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {}, TopicConfigurations: [Match.objectLike({ Events: ['s3:ObjectCreated:*'] })] },
    });
    expect(bucketProps(archive, template).Properties).not.toHaveProperty('NotificationConfiguration');
  });

  test('two archives share a bucket under distinct prefixes', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Shared', { versioned: true });
    const code = new S3ArchiveLifecycle(stack, 'Code', { objectives, bucket, prefix: 'code/', content: BackupContent.CODE, environment: DeploymentEnvironment.PRO });
    new S3ArchiveLifecycle(stack, 'Docs', { objectives, bucket, prefix: 'docs/', content: BackupContent.DOCUMENTATION, environment: DeploymentEnvironment.PRO });
    const rules = rulesOf(code);
    expect(rules.map((r) => r.Prefix)).toEqual(['code/', 'code/', 'docs/', 'docs/']);
    expect(new Set(rules.map((r) => r.Id)).size).toBe(4);
  });

  test('an unversioned bucket holding historical data gets a warning', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Plain');
    new S3ArchiveLifecycle(stack, 'Archive', { objectives, bucket, content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.DEV });
    Annotations.fromStack(stack).hasWarning('/TestStack/Archive', Match.stringLikeRegexp('is not versioned: an overwritten or deleted Historical data object cannot be recovered'));
  });
});

describe('Intelligent-Tiering', () => {
  test('adds an archive configuration scoped to the prefix and tags', () => {
    const archive = archiveOf({
      content: BackupContent.HISTORICAL_DATA,
      environment: DeploymentEnvironment.PRO,
      prefix: 'raw/',
      tagFilters: [{ key: 'tier', value: 'auto' }],
      transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) }],
      intelligentTiering: { archiveAccessAfter: Duration.days(90), deepArchiveAccessAfter: Duration.days(180) },
    });
    const template = synthTemplate(Stack.of(archive));
    expect(bucketProps(archive, template).Properties.IntelligentTieringConfigurations).toEqual([{
      Id: expect.stringMatching(/^TestStackArchive[0-9A-F]{8}$/),
      Status: 'Enabled',
      Prefix: 'raw/',
      TagFilters: [{ Key: 'tier', Value: 'auto' }],
      Tierings: [{ AccessTier: 'ARCHIVE_ACCESS', Days: 90 }, { AccessTier: 'DEEP_ARCHIVE_ACCESS', Days: 180 }],
    }]);
    expect(rulesOf(archive, template)[0].Transitions).toEqual([t('INTELLIGENT_TIERING', 0)]);
    expect(Annotations.fromStack(Stack.of(archive)).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('warns when no transition moves objects to INTELLIGENT_TIERING', () => {
    const archive = archiveOf({
      content: BackupContent.HISTORICAL_DATA,
      environment: DeploymentEnvironment.PRO,
      intelligentTiering: { deepArchiveAccessAfter: Duration.days(365) },
    });
    Annotations.fromStack(Stack.of(archive)).hasWarning('/TestStack/Archive', Match.stringLikeRegexp('no lifecycle transition moves objects there'));
  });
});

describe('Object Lock', () => {
  test.each([
    [s3.ObjectLockRetention.compliance(Duration.days(35)), 'COMPLIANCE', 35],
    [s3.ObjectLockRetention.governance(Duration.days(7)), 'GOVERNANCE', 7],
  ])('sets the default retention (%#)', (lock, mode, days) => {
    const archive = archiveOf({ content: BackupContent.CURRENT_DATA, environment: DeploymentEnvironment.PRO, objectLock: lock });
    expect(bucketProps(archive, synthTemplate(Stack.of(archive))).Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: mode, Days: days } } },
    });
  });

  test('is added to a given bucket defined with objectLockEnabled: true', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Mine', { versioned: true, objectLockEnabled: true });
    new S3ArchiveLifecycle(stack, 'Archive', {
      objectives,
      bucket,
      content: BackupContent.HISTORICAL_DATA,
      environment: DeploymentEnvironment.PRO,
      objectLock: s3.ObjectLockRetention.governance(Duration.days(30)),
    });
    synthTemplate(stack).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
    });
  });
});

describe('AWS Backup protection', () => {
  test('joins the bucket to the stack plan with the S3 service policies on the shared role', () => {
    // GIVEN
    const stack = testStack();
    const archive = archiveOf({
      content: BackupContent.CURRENT_DATA, environment: DeploymentEnvironment.PRO, objectives: RecoveryTier.CRITICAL, awsBackup: true,
    }, stack);
    const template = synthTemplate(stack);
    const bucketId = stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket);

    // THEN: an RPO of 15 minutes needs continuous backup
    expect(archive.backupPlan).toBeDefined();
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: Match.arrayWith([Match.objectLike({ RuleName: 'Continuous', EnableContinuousBackup: true })]) },
    });
    template.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { Resources: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }] },
    });
    const role = Object.values(template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'backup.amazonaws.com' } })] } },
    }))[0] as any;
    const policies = JSON.stringify(role.Properties.ManagedPolicyArns);
    expect(policies).toContain(':iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup');
    expect(policies).toContain(':iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore');
  });

  test('archives with the same objectives share one plan', () => {
    const stack = testStack();
    archiveOf({
      content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.QA, objectives: RecoveryTier.ARCHIVE, awsBackup: true,
    }, stack);
    new S3ArchiveLifecycle(stack, 'Other', {
      content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.QA, objectives: RecoveryTier.ARCHIVE, awsBackup: true,
    });
    const template = synthTemplate(stack);
    template.resourceCountIs('AWS::Backup::BackupPlan', 1);
    const selections = Object.values(template.findResources('AWS::Backup::BackupSelection')) as any[];
    expect(selections.map((s) => s.Properties.BackupSelection.Resources.length)).toEqual([2]);
  });
});

describe('inventory entry', () => {
  test('records the lifecycle as an S3 lifecycle backup at the bucket URL', () => {
    const stack = testStack();
    const archive = archiveOf({ content: BackupContent.CODE, environment: DeploymentEnvironment.PRO }, stack);
    const [entry] = BackupCatalogMetadata.entriesOf(archive);
    expect(entry).toMatchObject({
      backupName: 'TestStack/Archive',
      content: 'Code',
      environment: 'Pro',
      supportType: 'S3 lifecycle',
      periodicity: 'all objects: latest version + 3 previous versions per key (Standard-IA after 30 days, Glacier Instant Retrieval after 120 days)',
      rpo: '7 days',
      rto: '3 days',
    });
    const bucketId = stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket);
    expect(stack.resolve(entry.location)).toEqual({
      'Fn::Join': ['', ['https://s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: bucketId }]],
    });
  });

  test('with AWS Backup, the lifecycle entry names both supports and the backup schedule', () => {
    const archive = archiveOf({
      content: BackupContent.CURRENT_DATA, environment: DeploymentEnvironment.QA, objectives: RecoveryTier.STANDARD, awsBackup: true, prefix: 'db/',
    });
    const entries = BackupCatalogMetadata.entriesOf(archive);
    expect(entries[0]).toMatchObject({
      supportType: 'S3 lifecycle + AWS Backup',
      rpo: '1 day',
      rto: '8 hours',
      periodicity: 'db/routine/: kept 14 days; db/samples/monthly/: kept 90 days (Standard-IA after 30 days); db/samples/yearly/: kept 14 days; ' +
        'AWS Backup: every 12 hours (14 days); monthly sample (90 days)',
    });
    expect(JSON.stringify(Stack.of(archive).resolve(entries[0].location))).toContain('/db/');
    // One row for the archive: lifecycle and AWS Backup together.
    expect(entries).toHaveLength(1);
  });
});

describe('snapshots', () => {
  test('Pro code archive (created bucket)', () => {
    const stack = testStack();
    archiveOf({ content: BackupContent.CODE, environment: DeploymentEnvironment.PRO }, stack);
    expect(snapshotOf(stack)).toMatchSnapshot();
  });

  test('Pro current data with Object Lock, Intelligent-Tiering and AWS Backup', () => {
    const stack = testStack();
    archiveOf({
      content: BackupContent.CURRENT_DATA,
      environment: DeploymentEnvironment.PRO,
      objectives: RecoveryTier.STANDARD,
      awsBackup: true,
      objectLock: s3.ObjectLockRetention.compliance(Duration.days(35)),
      intelligentTiering: { archiveAccessAfter: Duration.days(90) },
      transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) }],
    }, stack);
    expect(snapshotOf(stack)).toMatchSnapshot();
  });

  test('QA historical data on a given bucket with prefix and tags', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Mine', { versioned: true, encryption: s3.BucketEncryption.KMS });
    new S3ArchiveLifecycle(stack, 'Archive', {
      objectives,
      bucket,
      prefix: 'history/',
      tagFilters: [{ key: 'class', value: 'historical' }],
      content: BackupContent.HISTORICAL_DATA,
      environment: DeploymentEnvironment.QA,
    });
    expect(snapshotOf(stack)).toMatchSnapshot();
  });
});

describe('docs/s3-archive.md', () => {
  const LABEL: Record<string, string> = {
    STANDARD_IA: 'Standard-IA',
    ONEZONE_IA: 'One Zone-IA',
    INTELLIGENT_TIERING: 'Intelligent-Tiering',
    GLACIER_IR: 'Glacier IR',
    GLACIER: 'Glacier Flexible',
    DEEP_ARCHIVE: 'Deep Archive',
  };
  const row = (content: string, env: string, r: any) => {
    const transitions = (r.Transitions ?? []).map((x: any) => `${LABEL[x.StorageClass]} ${x.TransitionInDays}`).join(', ') || '—';
    const nc = r.NoncurrentVersionExpiration;
    const noncurrent = nc.NewerNoncurrentVersions
      ? `${nc.NewerNoncurrentVersions} previous, older removed after ${nc.NoncurrentDays} day`
      : `removed after ${nc.NoncurrentDays} days`;
    return `| ${content} | ${env} | ${r.Prefix ?? 'all objects'} | ${transitions} | ${r.ExpirationInDays ? `${r.ExpirationInDays} days` : 'never'} | ${noncurrent} |`;
  };

  test('the defaults table is what the construct renders', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 's3-archive.md'), 'utf-8');
    const rows: string[] = [];
    for (const content of Object.values(BackupContent)) {
      for (const env of Object.values(DeploymentEnvironment)) {
        const rules = rulesOf(archiveOf({ content, environment: env })).filter((r) => !r.AbortIncompleteMultipartUpload);
        rows.push(...rules.map((r) => row(content, env, r)));
      }
    }
    const missing = rows.filter((r) => !doc.includes(r));
    expect(missing).toEqual([]);
  });
});
