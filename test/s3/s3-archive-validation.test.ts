import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AccessLevel, BackupContent, DeploymentEnvironment, RecoveryTier, RecoveryVault, TeamAccess } from '../../src';
import { BackupDrConfigError } from '../../src/core/validation';
import { ArchiveTransition, S3ArchiveLifecycle, S3ArchiveLifecycleProps } from '../../src/s3';
import { synthTemplate, testStack } from '../support/app';

type Props = Partial<S3ArchiveLifecycleProps>;
const base = { content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.PRO, objectives: RecoveryTier.ARCHIVE };
const make = (props: Props, stack = testStack()) => new S3ArchiveLifecycle(stack, 'Archive', { ...base, ...props });
const tr = (storageClass: s3.StorageClass, days: number): ArchiveTransition => ({ storageClass, transitionAfter: Duration.days(days) });
const { INFREQUENT_ACCESS: IA, ONE_ZONE_INFREQUENT_ACCESS: ONEZONE_IA, GLACIER_INSTANT_RETRIEVAL: GLACIER_IR } = s3.StorageClass;
const { GLACIER, DEEP_ARCHIVE } = s3.StorageClass;

describe('synth-time errors name the construct path, the prop, the value and the fix', () => {
  const errors: Array<[string, Props, RegExp]> = [
    ['transitions out of order of days', { transitions: [tr(IA, 60), tr(GLACIER_IR, 30)] },
      /^\[TestStack\/Archive\] transitions\[1\] is at 30 days but transitions\[0\] is already at 60 days; transitions must be in increasing order/],
    ['two transitions on the same day', { transitions: [tr(GLACIER_IR, 30), tr(DEEP_ARCHIVE, 30)] },
      /transitions\[1\] is at 30 days but transitions\[0\] is already at 30 days/],
    ['Standard-IA before 30 days', { transitions: [tr(IA, 10)] },
      /transitions\[0\] moves objects to Standard-IA 10 days after creation, but S3 only transitions to Standard-IA from day 30; use Duration\.days\(30\)/],
    ['One Zone-IA before 30 days', { transitions: [tr(ONEZONE_IA, 29)] },
      /transitions\[0\] moves objects to One Zone-IA 29 days after creation/],
    ['noncurrent Standard-IA before 30 days', { noncurrentVersionTransitions: [tr(IA, 5)], noncurrentVersionExpiration: Duration.days(90) },
      /noncurrentVersionTransitions\[0\] moves objects to Standard-IA 5 days after becoming noncurrent/],
    ['a transition up the waterfall', { transitions: [tr(GLACIER, 30), tr(IA, 60)] },
      /transitions\[1\] moves objects from Glacier Flexible Retrieval to Standard-IA, which S3 lifecycle does not support/],
    ['the same class twice', { transitions: [tr(GLACIER_IR, 30), tr(GLACIER_IR, 60)] },
      /moves objects from Glacier Instant Retrieval to Glacier Instant Retrieval/],
    ['One Zone-IA to Glacier Instant Retrieval', { transitions: [tr(ONEZONE_IA, 30), tr(GLACIER_IR, 90)] },
      /One Zone-IA cannot move to Glacier Instant Retrieval/],
    ['leaving Standard-IA within 30 days', { transitions: [tr(IA, 30), tr(GLACIER, 45)] },
      /transitions\[1\] leaves Standard-IA after 15 days, but S3 requires objects to stay 30 days in Standard-IA .*use Duration\.days\(60\)/],
    ['expiration before the last transition', { transitions: [tr(GLACIER_IR, 90)], expiration: Duration.days(60) },
      /expiration \(60 days\) removes objects before or when they move to Glacier Instant Retrieval \(day 90\)/],
    ['noncurrent expiration before the noncurrent transition', { noncurrentVersionTransitions: [tr(GLACIER, 10)], noncurrentVersionExpiration: Duration.days(10) },
      /noncurrentVersionExpiration \(10 days\) removes noncurrent versions before or when they move to Glacier Flexible Retrieval/],
    ['a fraction of a day', { expiration: Duration.hours(36) },
      /expiration is 1 day 12 hours, but S3 lifecycle counts whole days; use Duration\.days\(2\)/],
    ['an unknown storage class', { transitions: [{ storageClass: new s3.StorageClass('STANDARD'), transitionAfter: Duration.days(1) }] },
      /transitions\[0\]\.storageClass is 'STANDARD', which a lifecycle rule cannot transition to/],
    ['an explicit class slower than the RTO', { objectives: { rpo: Duration.hours(24), rto: Duration.hours(4) }, transitions: [tr(GLACIER, 30)] },
      /transitions\[0\] moves objects to Glacier Flexible Retrieval, which takes about 5 hours to restore, more than objectives\.rto \(4 hours\); use s3\.StorageClass\.GLACIER_INSTANT_RETRIEVAL/],
    ['a prefix without a trailing slash', { prefix: 'history' }, /prefix is 'history', but a key prefix .* must end with "\/"/],
    ['a prefix with a leading slash', { prefix: '/history/' }, /prefix is '\/history\/', but a key prefix must not start with "\/"/],
    ['more previous versions than S3 keeps', { content: BackupContent.CODE, retention: { previousVersions: 101 } },
      /retention\.previousVersions is 101, but S3 keeps 0 to 100 noncurrent versions per rule/],
    ['expiration on current data', { content: BackupContent.CURRENT_DATA, expiration: Duration.days(30) },
      /expiration is set on a CURRENT_DATA archive.*use retention\.routine/],
    ['a prefix with a wildcard', { prefix: 'data/*/' }, /prefix is 'data\/\*\/', but a key prefix .* has no "\*" or "\/\/"; e\.g\. 'data\/'/],
    ['a prefix with a double slash', { prefix: 'data//old/' }, /prefix is 'data\/\/old\/'.*e\.g\. 'data\/old\/'/],
    ['Object Lock both set and turned off', { objectLockEnabled: false, objectLock: s3.ObjectLockRetention.governance(Duration.days(1)) },
      /objectLockEnabled is false but objectLock is set; remove objectLock to opt out of Object Lock, or remove objectLockEnabled: false/],
    ['codeBranches outside CODE', { codeBranches: ['main'] }, /codeBranches is set on a Historical data archive; it only applies to BackupContent\.CODE/],
    ['an invalid branch', { content: BackupContent.CODE, codeBranches: ['pro', '../etc'] }, /codeBranches\[1\] is '\.\.\/etc'/],
    ['no branch', { content: BackupContent.CODE, codeBranches: [] }, /codeBranches is empty/],
    ['a tag filter without key', { tagFilters: [{ key: '', value: 'x' }] }, /tagFilters has an entry with an empty key/],
    ['an Archive Access tier under 90 days', { intelligentTiering: { archiveAccessAfter: Duration.days(60) } },
      /intelligentTiering\.archiveAccessAfter is 60 days, but must be at least 90 days/],
    ['a Deep Archive Access tier over 730 days', { intelligentTiering: { deepArchiveAccessAfter: Duration.days(800) } },
      /intelligentTiering\.deepArchiveAccessAfter is 800 days, but the Deep Archive Access tier accepts 180 to 730 days/],
    ['Deep Archive Access before Archive Access', { intelligentTiering: { archiveAccessAfter: Duration.days(200), deepArchiveAccessAfter: Duration.days(180) } },
      /deepArchiveAccessAfter \(180 days\) must be later than archiveAccessAfter \(200 days\)/],
    ['Intelligent-Tiering without tiers', { intelligentTiering: {} }, /intelligentTiering is set without archiveAccessAfter or deepArchiveAccessAfter/],
    ['an Intelligent-Tiering tier slower than the RTO', { objectives: RecoveryTier.STANDARD, intelligentTiering: { deepArchiveAccessAfter: Duration.days(180) } },
      /the Deep Archive Access tier, which takes about 12 hours to restore, more than objectives\.rto \(8 hours\)/],
    ['the derivation refusing an RPO for code', { content: BackupContent.CODE, objectives: RecoveryTier.CRITICAL, awsBackup: true },
      /^\[TestStack\/Archive\] objectives\.rpo is 15 minutes, but Code is protected by scheduled copies/],
  ];

  test.each(errors)('%s', (_name, props, message) => {
    expect(() => make(props)).toThrow(message);
  });

  test('every error carries the construct path', () => {
    for (const [, props] of errors) {
      expect(() => make(props)).toThrow(/^\[TestStack\/Archive\] /);
    }
  });

  test('a vault without AWS Backup', () => {
    const stack = testStack();
    const vault = new RecoveryVault(stack, 'Vault', { environment: DeploymentEnvironment.PRO });
    expect(() => make({ vault }, stack)).toThrow(/vault is set but awsBackup is not; .* set awsBackup: true or remove vault/);
  });

  test('Development may not restore Pro archives', () => {
    // TeamAccess.levelFor enforces the policy; the message is scoped to the archive
    const stack = testStack();
    const dev = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => make({ access: [TeamAccess.development(dev, AccessLevel.RESTORE)] }, stack))
      .toThrow(/^\[TestStack\/Archive\] access: TeamAccess\.development\(\.\.\., AccessLevel\.RESTORE\) on a PRO workload/);
  });
});

describe('given buckets', () => {
  test('an imported bucket is refused, even when cast to s3.Bucket', () => {
    const stack = testStack();
    const imported = s3.Bucket.fromBucketName(stack, 'Imported', 'some-bucket') as unknown as s3.Bucket;
    expect(() => make({ bucket: imported }, stack)).toThrow(
      /^\[TestStack\/Archive\] bucket: TestStack\/Imported is an imported bucket .* pass a new s3\.Bucket\(\.\.\.\), or omit bucket/,
    );
  });

  test.each([
    ['Object Lock', { objectLock: s3.ObjectLockRetention.governance(Duration.days(1)) }, /is not versioned, but objectLock is set and S3 Object Lock requires versioning; create it with versioned: true/],
    ['AWS Backup', { awsBackup: true, objectives: RecoveryTier.ARCHIVE }, /is not versioned, but awsBackup is true and AWS Backup for S3 requires versioning/],
    ['code', { content: BackupContent.CODE }, /is not versioned, but Code keeps its previous versions as noncurrent versions/],
    ['documentation', { content: BackupContent.DOCUMENTATION }, /is not versioned, but Documentation keeps its previous versions/],
  ])('%s on an unversioned bucket is refused', (_name, props, message) => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Plain');
    expect(() => make({ bucket, ...props }, stack)).toThrow(message);
  });

  test('props that only apply to a created bucket are refused with a given bucket', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Mine', { versioned: true });
    expect(() => make({ bucket, accessLogRetention: Duration.days(5) }, stack)).toThrow(/accessLogRetention only applies to a bucket the construct creates/);
    const other = testStack();
    const otherBucket = new s3.Bucket(other, 'Mine', { versioned: true });
    expect(() => make({ bucket: otherBucket, removalPolicy: RemovalPolicy.DESTROY }, other))
      .toThrow(/^\[TestStack\/Archive\] removalPolicy only applies to a bucket the construct creates, but bucket is given; configure it on your bucket, or omit bucket/);
    // accepted next to it: the same props without a given bucket
    expect(make({ accessLogRetention: Duration.days(5), removalPolicy: RemovalPolicy.DESTROY })).toBeInstanceOf(S3ArchiveLifecycle);
  });

  test('eventBridge on a given bucket whose NotificationConfiguration is a token is refused (it cannot be merged)', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Mine', { versioned: true });
    (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = Lazy.any({ produce: () => ({}) });
    expect(() => make({ bucket, eventBridge: true }, stack)).toThrow(
      /^\[TestStack\/Archive\] eventBridge is true, but the NotificationConfiguration of bucket TestStack\/Mine is a token; turn on EventBridge in that configuration yourself and omit eventBridge/);
    // accepted next to it: the same bucket without eventBridge is left as it is
    const other = testStack();
    const plain = new s3.Bucket(other, 'Mine', { versioned: true });
    (plain.node.defaultChild as s3.CfnBucket).notificationConfiguration = Lazy.any({ produce: () => ({}) });
    expect(make({ bucket: plain, objectLockEnabled: false }, other)).toBeInstanceOf(S3ArchiveLifecycle);
  });

  test('Object Lock already configured on the bucket is refused', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Locked', { versioned: true, objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(1)) });
    expect(() => make({ bucket, objectLock: s3.ObjectLockRetention.compliance(Duration.days(2)) }, stack))
      .toThrow(/bucket TestStack\/Locked already has an Object Lock configuration/);
  });

  test('overlapping prefixes on one bucket are refused', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Shared', { versioned: true });
    new S3ArchiveLifecycle(stack, 'First', { ...base, bucket, prefix: 'data/' });
    expect(() => new S3ArchiveLifecycle(stack, 'Second', { ...base, bucket, prefix: 'data/old/' }))
      .toThrow(/^\[TestStack\/Second\] bucket: TestStack\/Shared is already archived by TestStack\/First under prefix 'data\/', which overlaps prefix 'data\/old\/'/);
    expect(() => new S3ArchiveLifecycle(stack, 'Third', { ...base, bucket })).toThrow(/overlaps prefix ''/);
  });
});

describe('cost guards warn about minimum storage durations', () => {
  const warnings: Array<[string, Props, string]> = [
    ['expiry 70 days after Glacier Instant Retrieval', { transitions: [tr(GLACIER_IR, 30)], expiration: Duration.days(100) },
      'expiration removes objects 70 days after they move to Glacier Instant Retrieval, whose minimum storage duration is 90 days: each one is billed ' +
      'an early-deletion fee for 20 more days than it is stored. Expire at day 120 or later'],
    ['expiry 100 days after Deep Archive', { transitions: [tr(DEEP_ARCHIVE, 0)], expiration: Duration.days(100) },
      'minimum storage duration is 180 days: each one is billed an early-deletion fee for 80 more days'],
    ['expiry 40 days after Glacier Flexible Retrieval', { transitions: [tr(GLACIER, 10)], expiration: Duration.days(50) },
      'expiration removes objects 40 days after they move to Glacier Flexible Retrieval'],
    ['leaving Glacier Instant Retrieval after 30 days', { transitions: [tr(GLACIER_IR, 0), tr(DEEP_ARCHIVE, 30)] },
      'transitions[1] moves objects out of Glacier Instant Retrieval after 30 days, but Glacier Instant Retrieval bills a minimum of 90 days: ' +
      'every object pays 60 extra days'],
    ['noncurrent versions expiring early in Glacier', { noncurrentVersionTransitions: [tr(GLACIER, 1)], noncurrentVersionExpiration: Duration.days(30) },
      'noncurrentVersionExpiration removes noncurrent versions 29 days after they move to Glacier Flexible Retrieval'],
    ['monthly samples expiring early in Glacier IR', {
      content: BackupContent.CURRENT_DATA, retention: { monthlySample: Duration.days(60), monthlySampleColdStorageAfter: Duration.days(30) },
    }, 'retention.monthlySample removes objects 30 days after they move to Glacier Instant Retrieval'],
  ];

  test.each(warnings)('%s', (_name, props, message) => {
    const archive = make(props);
    Annotations.fromStack(Stack.of(archive)).hasWarning('/TestStack/Archive', Match.stringLikeRegexp(escape(message)));
  });

  test('no warning once the object stays its minimum duration', () => {
    const archive = make({ transitions: [tr(GLACIER_IR, 30), tr(DEEP_ARCHIVE, 120)], expiration: Duration.days(300) });
    synthTemplate(Stack.of(archive));
    expect(Annotations.fromStack(Stack.of(archive)).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('the warning can be acknowledged by id', () => {
    const archive = make({ transitions: [tr(GLACIER_IR, 30)], expiration: Duration.days(100) });
    expect(Annotations.fromStack(Stack.of(archive)).findWarning('/TestStack/Archive', Match.stringLikeRegexp('cdk-backup-dr:s3-early-deletion'))).toHaveLength(1);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a plain JavaScript (or Python) caller can pass: anything. */
describe('missing or mistyped required props are BackupDrConfigErrors, not TypeErrors', () => {
  const js = (props: unknown) => () => new S3ArchiveLifecycle(testStack(), 'Archive', props as S3ArchiveLifecycleProps);
  const cases: Array<[string, unknown, RegExp]> = [
    ['no props at all', undefined, /^\[TestStack\/Archive\] props is required but was not given/],
    ['no content', { environment: DeploymentEnvironment.PRO, objectives: RecoveryTier.ARCHIVE },
      /^\[TestStack\/Archive\] content is required but was not given; declare what the archive holds: content: BackupContent\.CODE/],
    ['an unknown content string', { ...base, content: 'Logs' }, /^\[TestStack\/Archive\] content is "Logs", which is not one of "Code", "Historical data", "Current data", "Documentation"/],
    ['an unknown environment string', { ...base, environment: 'Production' },
      /^\[TestStack\/Archive\] environment is "Production", which is not one of "Pro", "QA", "Dev"/],
    ['no objectives', { content: BackupContent.CODE, environment: DeploymentEnvironment.PRO },
      /^\[TestStack\/Archive\] objectives is required but was not given; declare the RPO and RTO, e\.g\. RecoveryTier\.STANDARD/],
    ['objectives with a number as RTO', { ...base, objectives: { rpo: Duration.days(1), rto: 8 } },
      /^\[TestStack\/Archive\] objectives\.rto is 8, but must be a Duration; e\.g\. Duration\.hours\(8\)/],
    ['an undefined team', { ...base, access: [undefined] }, /^\[TestStack\/Archive\] access\[0\] is undefined, but must be a TeamAccess/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    expect(js(props)).toThrow(BackupDrConfigError);
    expect(js(props)).toThrow(message);
  });

  test('the same props with every required value given are accepted', () => {
    expect(js({ ...base }) ()).toBeInstanceOf(S3ArchiveLifecycle);
  });
});
