import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DR_OTHER_ACCOUNT, twoRegions } from './support';
import { BackupContent } from '../../src/core/content';
import { DrStrategy } from '../../src/core/dr-strategy';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { inScope } from '../../src/core/validation';
import { replicateArchive } from '../../src/dr/archive-replication';
import { checkExternalDbDr } from '../../src/dr/external-db-dr';
import { synthTemplate } from '../support/app';

const PRO = DeploymentEnvironment.PRO;

function archiveBucket(scope: Construct, props: Partial<s3.BucketProps> = {}) {
  return new s3.Bucket(scope, 'Archive', {
    versioned: true,
    encryptionKey: new kms.Key(scope, 'ArchiveKey', { enableKeyRotation: true }),
    encryption: s3.BucketEncryption.KMS,
    bucketKeyEnabled: true,
    removalPolicy: RemovalPolicy.RETAIN,
    ...props,
  });
}

describe('replicateArchive', () => {
  test('replicates into the replica bucket with KMS re-encryption, delete markers off, SSE-KMS objects, no RTC for a 24-hour RPO', () => {
    const { site, primary, scope, drStack } = twoRegions();
    const bucket = archiveBucket(primary);
    const lifecycleRules = [{ id: 'Deep', transitions: [{ storageClass: s3.StorageClass.DEEP_ARCHIVE, transitionAfter: Duration.days(180) }] }];
    const r = replicateArchive(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, bucket, archiveName: 'orders', content: BackupContent.HISTORICAL_DATA, lifecycleRules });
    expect(r.replicationTimeControl).toBe(false);
    expect(r.strategy).toBe(DrStrategy.BACKUP_AND_RESTORE);
    const t = synthTemplate(primary);
    t.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('DrReplicationRole'), 'Arn'] },
        Rules: [{
          Id: 'cdk-backup-dr-backup-dr-pro-orders',
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Disabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: {
            Bucket: 'arn:aws:s3:::backup-dr-pro-orders-111111111111-eu-central-1',
            EncryptionConfiguration: { ReplicaKmsKeyID: 'arn:aws:kms:eu-central-1:111111111111:alias/backup-dr-pro' },
          },
        }],
      },
    });
    // The replica bucket exists in the DR stack with the primary's lifecycle.
    Template.fromStack(drStack).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'backup-dr-pro-orders-111111111111-eu-central-1',
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'Deep', Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 }] })] },
    });
    // Least-privilege role: source reads, replica writes, decrypt source via S3, encrypt with the site key by alias.
    t.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 's3.amazonaws.com' } })] } });
    const statements = (Object.values(t.findResources('AWS::IAM::ManagedPolicy'))[0] as any).Properties.PolicyDocument.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'] }),
      expect.objectContaining({ Action: ['s3:GetObjectVersionAcl', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionTagging'] }),
      expect.objectContaining({ Action: ['s3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags'], Resource: 'arn:aws:s3:::backup-dr-pro-orders-111111111111-eu-central-1/*' }),
      expect.objectContaining({ Action: 'kms:Decrypt', Condition: expect.objectContaining({ StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } }) }),
      expect.objectContaining({
        Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: 'arn:aws:kms:eu-central-1:111111111111:key/*',
        Condition: expect.objectContaining({
          'StringEquals': { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' },
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/backup-dr-pro' },
        }),
      }),
    ]));
    expect(JSON.stringify(statements)).not.toMatch(/"s3:\*"|"kms:\*"/);
  });

  test('Replication Time Control and metrics (15 minutes) when the RPO is 15 minutes or less (and up to 2 hours)', () => {
    for (const [rpo, rtc] of [[Duration.minutes(15), true], [Duration.hours(1), true], [Duration.hours(2), false]] as const) {
      const { site, primary, scope } = twoRegions();
      const bucket = archiveBucket(primary);
      expect(replicateArchive(scope, { drSite: site, environment: PRO, objectives: { rpo, rto: Duration.hours(8) }, bucket, archiveName: 'hot', content: BackupContent.CURRENT_DATA })
        .replicationTimeControl).toBe(rtc);
      Template.fromStack(primary).hasResourceProperties('AWS::S3::Bucket', {
        ReplicationConfiguration: {
          Rules: [Match.objectLike({
            Destination: Match.objectLike(rtc ? {
              ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
              Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
            } : { ReplicationTime: Match.absent(), Metrics: Match.absent() }),
          })],
        },
      });
    }
  });

  test('a literal site key ARN is used as is (cross-account, organization)', () => {
    const arn = 'arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { site, primary, scope, drStack } = twoRegions(undefined, { organizationId: 'o-abcdef1234' }, DR_OTHER_ACCOUNT);
    const siteWithKey = new (site.constructor as any)(drStack, 'Keyed', {
      environment: PRO, siteName: 'keyed-dr', organizationId: 'o-abcdef1234', encryptionKey: kms.Key.fromKeyArn(drStack, 'K', arn), encryptionKeyArn: arn,
    });
    const bucket = archiveBucket(primary);
    replicateArchive(scope, { drSite: siteWithKey, environment: PRO, objectives: RecoveryTier.STANDARD, bucket, archiveName: 'orders', content: BackupContent.CODE });
    const t = Template.fromStack(primary);
    t.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Rules: [Match.objectLike({ Destination: Match.objectLike({ EncryptionConfiguration: { ReplicaKmsKeyID: arn } }) })],
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: arn })]) } });
  });

  test('archives sharing a bucket by prefix get one rule each, one role and one policy', () => {
    const { site, primary, scope } = twoRegions();
    const bucket = archiveBucket(primary);
    const base = { drSite: site, environment: PRO, bucket, content: BackupContent.DOCUMENTATION };
    const a = replicateArchive(new Construct(scope, 'A'), { ...base, objectives: RecoveryTier.STANDARD, archiveName: 'docs', prefix: 'docs/' });
    const b = replicateArchive(new Construct(scope, 'B'), { ...base, objectives: RecoveryTier.CRITICAL, archiveName: 'hot', prefix: 'hot/' });
    expect(b.role).toBe(a.role);
    const t = synthTemplate(primary);
    t.resourceCountIs('AWS::IAM::Role', 1);
    t.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    const rules = (Object.values(t.findResources('AWS::S3::Bucket'))[0] as any).Properties.ReplicationConfiguration.Rules;
    expect(rules.map((r: any) => [r.Id, r.Priority, r.Filter.Prefix, r.Destination.Bucket, !!r.Destination.ReplicationTime])).toEqual([
      ['cdk-backup-dr-backup-dr-pro-docs', 1, 'docs/', 'arn:aws:s3:::backup-dr-pro-docs-111111111111-eu-central-1', false],
      ['cdk-backup-dr-backup-dr-pro-hot', 2, 'hot/', 'arn:aws:s3:::backup-dr-pro-hot-111111111111-eu-central-1', true],
    ]);
  });

  describe('refusals', () => {
    const base = { environment: PRO, objectives: RecoveryTier.STANDARD, archiveName: 'orders', content: BackupContent.CURRENT_DATA };

    test('an unversioned bucket', () => {
      const { site, primary, scope } = twoRegions();
      const bucket = archiveBucket(primary, { versioned: false });
      expect(() => inScope(scope, () => replicateArchive(scope, { ...base, drSite: site, bucket })))
        .toThrow(/^\[Primary\/Protection\] drSite: bucket Primary\/Archive is not versioned \(versioned: unset\), and S3 replicates only versioned buckets; create it with versioned: true/);
    });

    test('an imported bucket', () => {
      const { site, primary, scope } = twoRegions();
      const bucket = s3.Bucket.fromBucketName(primary, 'Imported', 'somebody-elses');
      expect(() => replicateArchive(scope, { ...base, drSite: site, bucket }))
        .toThrow(/drSite: bucket Primary\/Imported is imported, so its replication configuration cannot be set here/);
    });

    test('a bucket that already replicates', () => {
      const { site, primary, scope } = twoRegions();
      const bucket = archiveBucket(primary);
      (bucket.node.defaultChild as s3.CfnBucket).replicationConfiguration = { role: 'arn:aws:iam::111111111111:role/r', rules: [] };
      expect(() => replicateArchive(scope, { ...base, drSite: site, bucket })).toThrow(/already has a replication configuration/);
    });

    test('cross-account with a site key known only by alias', () => {
      const { site, primary, scope } = twoRegions(undefined, { sourceAccounts: ['111111111111'] }, DR_OTHER_ACCOUNT);
      expect(() => replicateArchive(scope, { ...base, drSite: site, bucket: archiveBucket(primary) }))
        .toThrow(/names its key by alias \(arn:aws:kms:eu-central-1:222222222222:alias\/backup-dr-pro\); S3 resolves an alias in the replicating account.*pass its KeyArn output as encryptionKeyArn/);
    });

    test('an RPO S3 replication cannot meet', () => {
      const { site, primary, scope } = twoRegions(DrStrategy.MULTI_SITE);
      const objectives = { rpo: Duration.minutes(5), rto: Duration.hours(1) };
      expect(() => replicateArchive(scope, { ...base, objectives, drSite: site, bucket: archiveBucket(primary) }))
        .toThrow(/objectives\.rpo 5 minutes \(bound 15 minutes\) of Primary\/Protection \(S3 archives\) cannot be met by strategy MULTI_SITE/);
    });
  });
});

describe('checkExternalDbDr', () => {
  test('dumps reach the DR site only through a destination archive replicating to the same site', () => {
    const { site, scope } = twoRegions();
    expect(() => inScope(scope, () => checkExternalDbDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, destinationPath: 'Primary/Dumps' })))
      .toThrow(/^\[Primary\/Protection\] drSite: the dumps reach the DR site Dr\/Site only through the replication of their destination archive Primary\/Dumps, which does not replicate; pass the same drSite/);
    expect(checkExternalDbDr(scope, { drSite: site, destinationDrSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, destinationPath: 'Primary/Dumps' }))
      .toBe(DrStrategy.BACKUP_AND_RESTORE);
  });
});

describe('replicateArchive with Object Lock', () => {
  test('the replica bucket gets Object Lock and the role reads retention and legal holds', () => {
    const { site, primary, scope, drStack } = twoRegions();
    const bucket = archiveBucket(primary, { objectLockEnabled: true });
    replicateArchive(scope, {
      drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, bucket, archiveName: 'locked', content: BackupContent.HISTORICAL_DATA, objectLock: true,
    });
    Template.fromStack(drStack).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'backup-dr-pro-locked-111111111111-eu-central-1', ObjectLockEnabled: true, VersioningConfiguration: { Status: 'Enabled' },
    });
    Template.fromStack(primary).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['s3:GetObjectLegalHold', 's3:GetObjectRetention']) })]) },
    });
    expect(() => site.replicaBucket({ archiveName: 'locked', content: BackupContent.HISTORICAL_DATA }))
      .toThrow(/replica bucket "locked" was created with Object Lock, but now requested without it/);
  });
});
