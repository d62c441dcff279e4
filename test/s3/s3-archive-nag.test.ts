import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { IConstruct } from 'constructs';
import { BackupContent, DeploymentEnvironment, RecoveryTier, TeamAccess } from '../../src';
import { COMPLIANCE_NAG_PACKS } from '../../src/nag/nag-packs';
import { S3ArchiveLifecycle } from '../../src/s3';
import { TEST_CONTEXT, TEST_ENV } from '../support/app';
import { nagFindings } from '../support/nag';

/**
 * Acknowledge a finding on one construct only. `Validations.acknowledge` matches ids containing "::"
 * across the whole app (aws-cdk-lib 2.262), so they are recorded the way cdk-nag reads them per resource.
 */
function acknowledgeOn(scope: IConstruct, id: string, reason: string) {
  scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [`annotation::${id}`]: reason });
}

/** An app with every kind of archive this construct builds. */
function archives(app: App): Stack {
  const stack = new Stack(app, 'NagStack', { env: TEST_ENV });
  const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
  const ci = new iam.Role(stack, 'Ci', { assumedBy: new iam.AccountRootPrincipal() });

  const code = new S3ArchiveLifecycle(stack, 'Code', { content: BackupContent.CODE, environment: DeploymentEnvironment.PRO, objectives: RecoveryTier.ARCHIVE, access: [TeamAccess.sre(sre)] });
  code.grantBundleUpload(ci, 'payments-api');
  const docs = new S3ArchiveLifecycle(stack, 'Docs', { content: BackupContent.DOCUMENTATION, environment: DeploymentEnvironment.PRO, objectives: RecoveryTier.ARCHIVE, access: [TeamAccess.sre(sre)] });
  docs.addDocuments('Procedures', [s3deploy.Source.data('deployment.md', '# How we deploy')], 'procedures/');
  new S3ArchiveLifecycle(stack, 'Data', {
    content: BackupContent.CURRENT_DATA,
    environment: DeploymentEnvironment.PRO,
    objectives: RecoveryTier.STANDARD,
    awsBackup: true,
    objectLock: s3.ObjectLockRetention.compliance(Duration.days(35)),
  });
  new S3ArchiveLifecycle(stack, 'History', { content: BackupContent.HISTORICAL_DATA, environment: DeploymentEnvironment.QA, objectives: RecoveryTier.ARCHIVE, eventBridge: false });

  // The team and CI roles are the app's: their inline policies and the object wildcard of the grants are by design.
  for (const role of [sre, ci]) {
    for (const pack of COMPLIANCE_NAG_PACKS) {
      Validations.of(role).acknowledge({ id: `${pack}-IAMNoInlinePolicy`, reason: 'Test roles receive their grants inline.' });
    }
  }
  for (const archive of [code, docs]) {
    const bucket = stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket);
    acknowledgeOn(sre, `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/*]`, 'SRE restores any object of the archive.');
  }
  return stack;
}

describe('cdk-nag (AwsSolutions, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321)', () => {
  test('archives are compliant by construction, with every remaining finding acknowledged on its construct', () => {
    expect(nagFindings((app) => { archives(app); }, TEST_CONTEXT)).toEqual([]);
  });

  test('acknowledgements stay on their constructs: the same wildcard elsewhere is still reported', () => {
    const findings = nagFindings((app) => {
      const stack = archives(app);
      const other = new iam.Role(stack, 'Other', { assumedBy: new iam.AccountRootPrincipal() });
      // s3:GetObject* and <Docs>/* are acknowledged on the BucketDeployment handler, not here
      const docs = stack.node.findChild('Docs') as S3ArchiveLifecycle;
      docs.bucket.grantRead(other);
    }, TEST_CONTEXT);
    expect(findings).toEqual(expect.arrayContaining([
      'AwsSolutions-IAM5[Action::s3:GetObject*] (error) at NagStack/Other/DefaultPolicy/Resource',
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<Docs[0-9A-F]{8}\.Arn>\/\*\] \(error\) at NagStack\/Other\/DefaultPolicy\/Resource$/),
      'HIPAA.Security-IAMNoInlinePolicy (error) at NagStack/Other/DefaultPolicy/Resource',
    ]));
  });
});
