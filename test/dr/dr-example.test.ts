import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildCrossAccountDrExampleApp, buildDrExampleApp } from '../../examples/dr-app';
import { TEST_CONTEXT } from '../support/app';
import { nagFindings } from '../support/nag';

describe('DR example apps', () => {
  test.each([
    ['two regions', buildDrExampleApp],
    ['cross-account', buildCrossAccountDrExampleApp],
  ])('%s: cdk-nag AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321: no unacknowledged finding', (_name, build) => {
    expect(nagFindings((app) => build(app), TEST_CONTEXT)).toEqual([]);
  });

  test('two regions: the primary depends on the DR stack only by order, never by reference', () => {
    const app = new App({ context: TEST_CONTEXT });
    const [dr, primary] = buildDrExampleApp(app);
    app.synth();
    expect(primary.dependencies).toEqual([dr]);
    expect(JSON.stringify(Template.fromStack(primary).toJSON())).not.toContain('Fn::ImportValue');
    const site = Template.fromStack(dr);
    site.hasResourceProperties('AWS::Backup::BackupVault', { BackupVaultName: 'backup-dr-example-vault' });
    site.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'backup-dr-example-history-111111111111-eu-central-1', ObjectLockEnabled: true });
    const t = Template.fromStack(primary);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', { Replicas: Match.arrayWith([Match.objectLike({ Region: 'eu-central-1' })]) });
    t.hasResourceProperties('AWS::RDS::DBInstance', { AutomaticBackupReplicationRegion: 'eu-central-1' });
    t.hasResourceProperties('AWS::S3::Bucket', { ReplicationConfiguration: Match.objectLike({ Rules: [Match.objectLike({ DeleteMarkerReplication: { Status: 'Disabled' } })] }) });
    Annotations.fromStack(dr).hasInfo('/BackupDrExampleDrSite/Site', Match.stringLikeRegexp('^DR strategy '));
  });

  test('cross-account: the site accepts copies from the primary account only', () => {
    const app = new App({ context: TEST_CONTEXT });
    const [dr] = buildCrossAccountDrExampleApp(app) as Stack[];
    app.synth();
    Template.fromStack(dr).hasResourceProperties('AWS::Backup::BackupVault', {
      AccessPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'backup:CopyIntoBackupVault',
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] } },
        })]),
      },
    });
  });
});
