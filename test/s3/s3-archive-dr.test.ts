import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupContent, DeploymentEnvironment, RecoveryTier } from '../../src';
import { S3ArchiveLifecycle, S3ArchiveLifecycleProps } from '../../src/s3';
import { twoRegions } from '../dr/support';
import { synthTemplate } from '../support/app';

const PRO = DeploymentEnvironment.PRO;

function archiveWithSite(props: Partial<S3ArchiveLifecycleProps> = {}) {
  const { site, primary, drStack } = twoRegions();
  const archive = new S3ArchiveLifecycle(primary, 'Orders', {
    content: BackupContent.HISTORICAL_DATA, environment: PRO, objectives: RecoveryTier.STANDARD, drSite: site, objectLockEnabled: false, ...props,
  });
  return { archive, primary, drStack };
}

function bucketOf(archive: S3ArchiveLifecycle, template: Template): any {
  return template.toJSON().Resources[Stack.of(archive).getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket)].Properties;
}

describe('drSite: cross-region replication into the site\'s replica bucket', () => {
  test('replicates the archive bucket, and the replica applies the archive\'s lifecycle', () => {
    const { archive, primary, drStack } = archiveWithSite({ drArchiveName: 'orders' });
    const template = synthTemplate(primary);
    expect(archive.drReplicaBucketName).toBe('backup-dr-pro-orders-111111111111-eu-central-1');
    const roleId = Stack.of(archive).getLogicalId(archive.drReplicationRole!.node.defaultChild as iam.CfnRole);
    expect(bucketOf(archive, template).ReplicationConfiguration).toMatchObject({
      Role: { 'Fn::GetAtt': [roleId, 'Arn'] },
      Rules: [{
        Status: 'Enabled',
        Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Disabled' },
        Destination: { Bucket: 'arn:aws:s3:::backup-dr-pro-orders-111111111111-eu-central-1' },
      }],
    });
    const primaryRuleIds = bucketOf(archive, template).LifecycleConfiguration.Rules.map((r: any) => r.Id);
    Template.fromStack(drStack).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'backup-dr-pro-orders-111111111111-eu-central-1',
      LifecycleConfiguration: { Rules: primaryRuleIds.map((Id: string) => Match.objectLike({ Id })) },
    });
  });

  test('without drArchiveName, the replica is named from the construct path, within 63 characters', () => {
    const { archive, primary } = archiveWithSite();
    synthTemplate(primary);
    const name = archive.drReplicaBucketName!;
    expect(name).toMatch(/^backup-dr-pro-primary-orders-[a-z0-9-]+-111111111111-eu-central-1$/);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  test('an archive under a prefix replicates only its prefix', () => {
    const { archive, primary } = archiveWithSite({ drArchiveName: 'orders', prefix: 'db/', content: BackupContent.CURRENT_DATA });
    expect(bucketOf(archive, synthTemplate(primary)).ReplicationConfiguration.Rules[0].Filter).toEqual({ Prefix: 'db/' });
  });

  test('an Object Lock archive is refused: S3 would fail every replication into a replica without Object Lock', () => {
    // the Pro default
    expect(() => archiveWithSite({ objectLockEnabled: undefined })).toThrow(
      /^\[Primary\/Orders\] drSite is set on an archive with S3 Object Lock, but S3 replicates a locked bucket only into a replica bucket with Object Lock .*DstBucketObjectLockConfigMissing.*pass objectLockEnabled: false .* or remove drSite/);
  });

  test('the same archive with objectLockEnabled: false is accepted', () => {
    const { archive } = archiveWithSite();
    expect(archive.drReplicaBucketName).toMatch(/^backup-dr-pro-/);
    expect(archive.objectLockRetention).toBeUndefined();
  });
});
