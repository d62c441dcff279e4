import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupContent, DeploymentEnvironment, RecoveryTier } from '../../src';
import { S3ArchiveLifecycle, S3ArchiveLifecycleProps } from '../../src/s3';
import { synthTemplate, testStack } from '../support/app';

type Props = Partial<S3ArchiveLifecycleProps> & Pick<S3ArchiveLifecycleProps, 'content' | 'environment'>;
const { PRO, QA, DEV } = DeploymentEnvironment;
const objectives = RecoveryTier.ARCHIVE;

function archiveOf(props: Props, stack = testStack()) {
  return new S3ArchiveLifecycle(stack, 'Archive', { objectives, ...props });
}

/** Properties of the archive's bucket after a full synth. */
function bucketPropsOf(archive: S3ArchiveLifecycle, template?: Template): any {
  const stack = Stack.of(archive.bucket);
  const t = template ?? synthTemplate(stack);
  return t.toJSON().Resources[stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket)].Properties;
}

const locked = (Mode: string, Days: number) => ({
  ObjectLockEnabled: true,
  ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode, Days } } },
});

describe('Pro archives are immutable by default (AWS Control Tower CT.S3.PR.9: ObjectLockEnabled: true)', () => {
  test.each([
    // retention.routine of Pro: every version, the latest included, survives a deletion as long as a routine backup
    [BackupContent.CODE, 35],
    [BackupContent.DOCUMENTATION, 35],
    // the single copy: the longest sample Pro keeps (yearlySample, 7 years)
    [BackupContent.HISTORICAL_DATA, 2555],
    // never longer than routine copies live, so lifecycle expiration still removes them
    [BackupContent.CURRENT_DATA, 35],
  ])('%s: GOVERNANCE mode, %d days', (content, days) => {
    const archive = archiveOf({ content, environment: PRO });
    const template = synthTemplate(Stack.of(archive));
    expect(bucketPropsOf(archive, template)).toMatchObject(locked('GOVERNANCE', days));
    expect(archive.objectLockRetention?.duration.toDays()).toBe(days);
    // server access logs cannot be delivered to an Object Lock bucket: the log bucket has none
    const logsId = Stack.of(archive).getLogicalId(archive.accessLogsBucket!.node.defaultChild as s3.CfnBucket);
    expect(template.toJSON().Resources[logsId].Properties).not.toHaveProperty('ObjectLockEnabled');
    expect(Annotations.fromStack(Stack.of(archive)).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test.each([QA, DEV])('%s archives have no Object Lock unless asked', (environment) => {
    const archive = archiveOf({ content: BackupContent.CURRENT_DATA, environment });
    const props = bucketPropsOf(archive);
    expect(props).not.toHaveProperty('ObjectLockEnabled');
    expect(props).not.toHaveProperty('ObjectLockConfiguration');
    expect(archive.objectLockRetention).toBeUndefined();
  });

  test('objectLockEnabled: false is the explicit opt-out', () => {
    const archive = archiveOf({ content: BackupContent.CODE, environment: PRO, objectLockEnabled: false });
    const props = bucketPropsOf(archive);
    expect(props).not.toHaveProperty('ObjectLockEnabled');
    expect(props).not.toHaveProperty('ObjectLockConfiguration');
  });

  test('objectLockEnabled: true in Dev derives the Dev defaults (routine 7 days; no sample, so historical data gets 7 days too)', () => {
    expect(bucketPropsOf(archiveOf({ content: BackupContent.CURRENT_DATA, environment: DEV, objectLockEnabled: true })))
      .toMatchObject(locked('GOVERNANCE', 7));
    expect(bucketPropsOf(archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: DEV, objectLockEnabled: true })))
      .toMatchObject(locked('GOVERNANCE', 7));
    // QA keeps a monthly sample (90 days): its historical data is locked that long
    expect(bucketPropsOf(archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: QA, objectLockEnabled: true })))
      .toMatchObject(locked('GOVERNANCE', 90));
  });

  test('the default follows the retention overrides and never outlives an expiration', () => {
    // routine copies kept 10 days: locked 10 days
    expect(bucketPropsOf(archiveOf({ content: BackupContent.CURRENT_DATA, environment: PRO, retention: { routine: Duration.days(10) } })))
      .toMatchObject(locked('GOVERNANCE', 10));
    // a monthly sample kept less than the routine copies bounds the lock too (every prefix shares the bucket's default retention)
    expect(bucketPropsOf(archiveOf({
      content: BackupContent.CURRENT_DATA, environment: PRO, retention: { routine: Duration.days(60), monthlySample: Duration.days(45) },
    }))).toMatchObject(locked('GOVERNANCE', 45));
    // historical data that expires after 400 days is locked 400 days, not 7 years
    expect(bucketPropsOf(archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: PRO, expiration: Duration.days(400) })))
      .toMatchObject(locked('GOVERNANCE', 400));
  });

  test('an explicit objectLock replaces the default (mode and days)', () => {
    const archive = archiveOf({ content: BackupContent.CODE, environment: PRO, objectLock: s3.ObjectLockRetention.compliance(Duration.days(90)) });
    expect(bucketPropsOf(archive)).toMatchObject(locked('COMPLIANCE', 90));
  });

  test('a token routine retention cannot derive the default lock (aws-cdk-lib needs concrete days): the error names the fix', () => {
    const stack = testStack();
    const days = new CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber;
    expect(() => archiveOf({ content: BackupContent.CURRENT_DATA, environment: PRO, retention: { routine: Duration.days(days) } }, stack))
      .toThrow(/^\[TestStack\/Archive\] the default Object Lock retention of a Pro Current data archive derives from retention\.routine, which is a token; pass a concrete objectLock/);
  });

  test('a token expiration is skipped: the lock keeps the class default', () => {
    const stack = testStack();
    const days = new CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber;
    const archive = archiveOf({ content: BackupContent.HISTORICAL_DATA, environment: PRO, expiration: Duration.days(days), transitions: [] }, stack);
    expect(bucketPropsOf(archive)).toMatchObject(locked('GOVERNANCE', 2555));
  });
});

describe('cost guard: locked versions outliving the lifecycle', () => {
  test('a lock longer than the routine copies live is accepted with a warning that gives the extra days billed', () => {
    const objectLock = s3.ObjectLockRetention.compliance(Duration.days(365));
    const archive = archiveOf({ content: BackupContent.CURRENT_DATA, environment: PRO, objectLock });
    expect(bucketPropsOf(archive)).toMatchObject(locked('COMPLIANCE', 365));
    Annotations.fromStack(Stack.of(archive)).hasWarning('/TestStack/Archive', Match.stringLikeRegexp(
      'objectLock keeps every object version 365 days, longer than retention.routine \\(35 days\\) of routine/: S3 cannot remove those ' +
      'versions before their lock ends, so they are billed 330 more days'));
  });

  test('a lock as long as the shortest expiration gets no warning', () => {
    const objectLock = s3.ObjectLockRetention.compliance(Duration.days(35));
    const archive = archiveOf({ content: BackupContent.CURRENT_DATA, environment: PRO, objectLock });
    synthTemplate(Stack.of(archive));
    expect(Annotations.fromStack(Stack.of(archive)).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('a given bucket: CloudFormation replaces a deployed bucket whose ObjectLockEnabled changes', () => {
  const given = (props: s3.BucketProps = {}) => {
    const stack = testStack();
    return { stack, bucket: new s3.Bucket(stack, 'Mine', { versioned: true, ...props }) };
  };

  test.each([
    ['objectLock', { objectLock: s3.ObjectLockRetention.governance(Duration.days(30)) }, 'objectLock is set'],
    ['objectLockEnabled: true', { objectLockEnabled: true }, 'objectLockEnabled is true'],
  ])('%s on a bucket defined without objectLockEnabled is refused', (_name, props, what) => {
    const { stack, bucket } = given();
    expect(() => archiveOf({ bucket, content: BackupContent.HISTORICAL_DATA, environment: QA, ...props }, stack)).toThrow(new RegExp(
      `^\\[TestStack/Archive\\] ${what}, but bucket TestStack/Mine was defined without objectLockEnabled: true, and CloudFormation cannot ` +
      'turn Object Lock on for a deployed bucket: changing ObjectLockEnabled replaces the bucket by a new, empty one ' +
      '\\(cloudformation-coverage-roadmap#1929\\); if the bucket is not deployed yet, create it with objectLockEnabled: true; ' +
      'if it is, keep it without Object Lock \\(objectLockEnabled: false\\) or move the archive to a new bucket \\(omit bucket\\)$'));
  });

  test('the Pro default on such a bucket warns (the archive stays without Object Lock) instead of replacing the bucket', () => {
    const { stack, bucket } = given();
    const archive = archiveOf({ bucket, content: BackupContent.HISTORICAL_DATA, environment: PRO }, stack);
    const props = bucketPropsOf(archive);
    expect(props).not.toHaveProperty('ObjectLockEnabled');
    expect(archive.objectLockRetention).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('/TestStack/Archive', Match.stringLikeRegexp(
      'Pro archives get S3 Object Lock by default, but bucket TestStack/Mine was defined without objectLockEnabled: true.*CT\\.S3\\.PR\\.9'));
  });

  test('objectLockEnabled: false acknowledges it: no warning', () => {
    const { stack, bucket } = given();
    archiveOf({ bucket, content: BackupContent.HISTORICAL_DATA, environment: PRO, objectLockEnabled: false }, stack);
    synthTemplate(stack);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Object Lock'))).toEqual([]);
  });

  test('a bucket defined with objectLockEnabled: true gets the class default retention (an update without interruption)', () => {
    const { stack, bucket } = given({ objectLockEnabled: true });
    const archive = archiveOf({ bucket, content: BackupContent.CURRENT_DATA, environment: PRO }, stack);
    expect(bucketPropsOf(archive)).toMatchObject(locked('GOVERNANCE', 35));
  });

  test('a bucket with its own default retention keeps it under the Pro default', () => {
    const { stack, bucket } = given({ objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(20)) });
    const archive = archiveOf({ bucket, content: BackupContent.CURRENT_DATA, environment: PRO }, stack);
    expect(bucketPropsOf(archive)).toMatchObject(locked('COMPLIANCE', 20));
    expect(archive.objectLockRetention).toBeUndefined();
  });

  test('an unversioned bucket under the Pro default is not refused (it cannot hold Object Lock): it gets both warnings', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Plain');
    archiveOf({ bucket, content: BackupContent.HISTORICAL_DATA, environment: PRO }, stack);
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Archive', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings).toEqual([
      expect.stringContaining('bucket TestStack/Plain is not versioned'),
      expect.stringContaining('Pro archives get S3 Object Lock by default'),
    ]);
  });
});
