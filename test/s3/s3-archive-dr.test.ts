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

  test('an Object Lock archive (the Pro default) replicates into a replica bucket with Object Lock, keeping each object\'s retention', () => {
    const { archive, primary, drStack } = archiveWithSite({ objectLockEnabled: undefined, drArchiveName: 'orders' });
    const template = synthTemplate(primary);
    expect(bucketOf(archive, template)).toMatchObject({ ObjectLockEnabled: true, ReplicationConfiguration: { Rules: [expect.objectContaining({ Status: 'Enabled' })] } });
    // S3 fails every object with DstBucketObjectLockConfigMissing unless the replica has Object Lock too
    Template.fromStack(drStack).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'backup-dr-pro-orders-111111111111-eu-central-1',
      ObjectLockEnabled: true,
    });
    // and the replication role must read the retention and legal holds of the source versions
    const roleId = Stack.of(archive).getLogicalId(archive.drReplicationRole!.node.defaultChild as iam.CfnRole);
    const statements = [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))]
      .filter((p: any) => JSON.stringify(p.Properties.Roles ?? []).includes(roleId))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.flatMap((st: any) => [st.Action].flat())).toEqual(expect.arrayContaining(['s3:GetObjectRetention', 's3:GetObjectLegalHold']));
  });

  test('without Object Lock, the replica bucket has none either', () => {
    const { archive, primary, drStack } = archiveWithSite({ drArchiveName: 'orders' });
    synthTemplate(primary);
    expect(archive.objectLockRetention).toBeUndefined();
    const replica = Object.values(Template.fromStack(drStack).findResources('AWS::S3::Bucket', {
      Properties: { BucketName: 'backup-dr-pro-orders-111111111111-eu-central-1' },
    }))[0] as any;
    expect(replica.Properties).not.toHaveProperty('ObjectLockEnabled');
  });
});
