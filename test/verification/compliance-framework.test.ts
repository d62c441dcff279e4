import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TeamAccess } from '../../src/access';
import { BackupPolicyDerivation, ContinuousBackupSupport, DeploymentEnvironment, RecoveryObjectives, RecoveryTier } from '../../src/core';
import { BackupPlanRegistry, ProtectedResourceType, RecoveryVault } from '../../src/foundation';
import { IDrSecondarySite } from '../../src/foundation/dr-site';
import { BackupComplianceFramework, ProtectionVerification, VerifiedResourceType } from '../../src/verification';
import { TEST_CONTEXT, TEST_ENV, testStack } from '../support/app';

function protect(stack: Stack, id: string, objectives: RecoveryObjectives, environment = DeploymentEnvironment.PRO, enabled?: boolean) {
  const table = new dynamodb.TableV2(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const vault = RecoveryVault.forStack(stack, environment);
  const policy = BackupPolicyDerivation.derive({ objectives, environment, continuousBackup: ContinuousBackupSupport.NATIVE });
  const plan = BackupPlanRegistry.of(stack).protect({ vault, policy, resourceArns: [table.tableArn], resourceType: ProtectedResourceType.DYNAMODB });
  ProtectionVerification.register(stack, {
    resourceType: VerifiedResourceType.DYNAMODB_TABLE,
    resources: [{ arn: table.tableArn, construct: table }],
    environment,
    objectives,
    policy,
    vault,
    backupPlan: plan.plan,
    continuousNative: true,
    restoreTesting: enabled === undefined ? undefined : { enabled },
  });
}

interface RenderedControl {
  ControlName: string;
  ControlInputParameters?: Array<{ ParameterName: string; ParameterValue: unknown }>;
  ControlScope?: Record<string, unknown>;
}

function controls(t: Template): RenderedControl[] {
  const fw = Object.values(t.findResources('AWS::Backup::Framework'));
  expect(fw).toHaveLength(1);
  return fw[0].Properties.FrameworkControls;
}

function params(c: { ControlInputParameters?: Array<{ ParameterName: string; ParameterValue: unknown }> }) {
  return Object.fromEntries((c.ControlInputParameters ?? []).map((p) => [p.ParameterName, p.ParameterValue]));
}

function site(scope: Construct, region: string, account: string): IDrSecondarySite {
  return Object.assign(new Construct(scope, `Site${region}${account}`), {
    siteName: 'dr', region, account, environment: DeploymentEnvironment.PRO, vaultName: 'dr-vault',
  }) as unknown as IDrSecondarySite;
}

describe('framework of a PRO stack with two tiers', () => {
  const stack = testStack();
  protect(stack, 'Orders', RecoveryTier.CRITICAL);
  protect(stack, 'Sessions', RecoveryTier.STANDARD);
  protect(stack, 'Archive', RecoveryTier.ARCHIVE, DeploymentEnvironment.PRO, false);
  const breakGlass = new iam.Role(stack, 'BreakGlass', { assumedBy: new iam.AccountRootPrincipal() });
  new BackupComplianceFramework(stack, 'Compliance', {
    environment: DeploymentEnvironment.PRO, drSite: site(stack, 'eu-central-1', '222222222222'), breakGlassRoles: [breakGlass],
  });
  const app = stack.node.root as App;
  app.synth();
  const t = Template.fromStack(stack);
  const all = controls(t);
  const named = (name: string) => all.filter((c) => c.ControlName === name);

  test('last recovery point per policy: age from the RPO in hours (15 min → 1 h, 24 h, 7 days → 168 h), scoped by the policy tag', () => {
    expect(named('BACKUP_LAST_RECOVERY_POINT_CREATED').map((c) => [c.ControlScope, params(c)])).toEqual([
      [{ Tags: [{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo10080m-rto4320m' }] }, { recoveryPointAgeUnit: 'hours', recoveryPointAgeValue: '168' }],
      [{ Tags: [{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo1440m-rto480m' }] }, { recoveryPointAgeUnit: 'hours', recoveryPointAgeValue: '24' }],
      [{ Tags: [{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo15m-rto60m' }] }, { recoveryPointAgeUnit: 'hours', recoveryPointAgeValue: '1' }],
    ]);
  });

  test('restore time per restore-tested policy: maxRestoreTime is the RTO in minutes; the untested archive policy has none', () => {
    expect(named('RESTORE_TIME_FOR_RESOURCES_MEET_TARGET').map((c) => [c.ControlScope, params(c)])).toEqual([
      [{ Tags: [{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo1440m-rto480m' }] }, { maxRestoreTime: '480' }],
      [{ Tags: [{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo15m-rto60m' }] }, { maxRestoreTime: '60' }],
    ]);
  });

  test('plan frequency and retention per distinct rule set, scoped by the plan tag the plans carry', () => {
    expect(named('BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK').map((c) => [c.ControlScope, params(c)])).toEqual([
      [{ Tags: [{ Key: 'cdk-backup-dr:plan', Value: 'every-1-days-keep-35-days' }] },
        { requiredFrequencyUnit: 'days', requiredFrequencyValue: '1', requiredRetentionDays: '35' }],
      [{ Tags: [{ Key: 'cdk-backup-dr:plan', Value: 'every-12-hours-keep-35-days' }] },
        { requiredFrequencyUnit: 'hours', requiredFrequencyValue: '12', requiredRetentionDays: '35' }],
    ]);
    // CRITICAL (PITR + daily) and ARCHIVE (daily) derive the same rules: one shared plan, one tag, one control.
    t.resourceCountIs('AWS::Backup::BackupPlan', 2);
  });

  test('environment controls: retention, encryption, manual deletion (break glass exempt), vault lock, cross-Region and cross-account copies', () => {
    expect(params(named('BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK')[0])).toEqual({ requiredRetentionDays: '35' });
    expect(named('BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK')[0].ControlScope).toEqual({ ComplianceResourceTypes: ['DynamoDB'] });
    expect(named('BACKUP_RECOVERY_POINT_ENCRYPTED')).toHaveLength(1);
    expect(params(named('BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED')[0])).toEqual({
      principalArnList: { 'Fn::GetAtt': [stack.getLogicalId(breakGlass.node.defaultChild as iam.CfnRole), 'Arn'] },
    });
    expect(params(named('BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK')[0])).toEqual({ minRetentionDays: '1' });
    expect(params(named('BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION')[0])).toEqual({ crossRegionList: 'eu-central-1' });
    expect(params(named('BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT')[0])).toEqual({ crossAccountList: '222222222222' });
    expect(all).toHaveLength(3 + 2 + 2 + 6);
  });
});

test('a DR site in the same account adds no cross-account control; no DR site, no copy controls', () => {
  const stack = testStack();
  protect(stack, 'T', RecoveryTier.STANDARD);
  new BackupComplianceFramework(stack, 'C', { environment: DeploymentEnvironment.PRO, drSite: site(stack, 'eu-central-1', TEST_ENV.account) });
  (stack.node.root as App).synth();
  const names = controls(Template.fromStack(stack)).map((c) => c.ControlName);
  expect(names).toContain('BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION');
  expect(names).not.toContain('BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT');
});

test('the framework reads registrations of every stack of the app in its account and Region, of its environment only', () => {
  const app = new App({ context: TEST_CONTEXT });
  const a = new Stack(app, 'A', { env: TEST_ENV });
  const b = new Stack(app, 'B', { env: TEST_ENV });
  const other = new Stack(app, 'Other', { env: { ...TEST_ENV, region: 'us-east-1' } });
  protect(a, 'T', RecoveryTier.CRITICAL);
  protect(b, 'T', RecoveryTier.STANDARD);
  protect(b, 'Q', RecoveryTier.STANDARD, DeploymentEnvironment.QA);
  protect(other, 'T', RecoveryTier.ARCHIVE);
  new BackupComplianceFramework(a, 'C', { environment: DeploymentEnvironment.PRO });
  app.synth();
  const ages = controls(Template.fromStack(a)).filter((c) => c.ControlName === 'BACKUP_LAST_RECOVERY_POINT_CREATED').map((c) => params(c).recoveryPointAgeValue);
  expect(ages).toEqual(['24', '1']);
});

test('mergePolicies: one control per kind with the strictest target, scoped by resource type', () => {
  const stack = testStack();
  protect(stack, 'A', RecoveryTier.CRITICAL);
  protect(stack, 'B', RecoveryTier.STANDARD);
  new BackupComplianceFramework(stack, 'C', { environment: DeploymentEnvironment.PRO, mergePolicies: true });
  (stack.node.root as App).synth();
  const all = controls(Template.fromStack(stack));
  const last = all.filter((c) => c.ControlName === 'BACKUP_LAST_RECOVERY_POINT_CREATED');
  expect(last).toHaveLength(1);
  expect([params(last[0]), last[0].ControlScope]).toEqual([{ recoveryPointAgeUnit: 'hours', recoveryPointAgeValue: '1' }, { ComplianceResourceTypes: ['DynamoDB'] }]);
  expect(params(all.find((c) => c.ControlName === 'RESTORE_TIME_FOR_RESOURCES_MEET_TARGET')!)).toEqual({ maxRestoreTime: '60' });
  const plan = all.filter((c) => c.ControlName === 'BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK');
  expect(plan.map(params)).toEqual([{ requiredFrequencyUnit: 'days', requiredFrequencyValue: '1', requiredRetentionDays: '35' }]);
});

test('quota: more than 50 controls in an account and Region is a synth error that explains the limit', () => {
  const stack = testStack();
  for (let i = 0; i < 25; i++) protect(stack, `T${i}`, { rpo: Duration.hours(24), rto: Duration.hours(8 + i) });
  new BackupComplianceFramework(stack, 'C', { environment: DeploymentEnvironment.PRO });
  expect(() => (stack.node.root as App).synth()).toThrow(/have 5[0-9] controls .*but AWS Backup Audit Manager allows 50 controls per account and Region.*mergePolicies: true/s);
});

test('quota: at most 15 frameworks per account and Region', () => {
  const stack = testStack();
  protect(stack, 'T', RecoveryTier.STANDARD, DeploymentEnvironment.PRO, false);
  for (let i = 0; i < 16; i++) new BackupComplianceFramework(stack, `C${i}`, { environment: DeploymentEnvironment.PRO, mergePolicies: true });
  expect(() => (stack.node.root as App).synth()).toThrow(/16 BackupComplianceFrameworks .* allows 15 frameworks per account and Region/);
});

test('a framework without registrations, an RPO beyond 31 days and too many break-glass roles are errors', () => {
  const empty = testStack();
  new BackupComplianceFramework(empty, 'C', { environment: DeploymentEnvironment.QA });
  expect(() => (empty.node.root as App).synth()).toThrow(/\[TestStack\/C\] no construct of this app registered QA resources/);

  const long = testStack();
  protect(long, 'T', { rpo: Duration.days(40), rto: Duration.days(3) }, DeploymentEnvironment.PRO, false);
  new BackupComplianceFramework(long, 'C', { environment: DeploymentEnvironment.PRO });
  expect(() => (long.node.root as App).synth()).toThrow(/objectives.rpo is 40 days, but BACKUP_LAST_RECOVERY_POINT_CREATED checks at most 31 days/);

  const roles = testStack();
  const many = Array.from({ length: 6 }, (_, i) => new iam.Role(roles, `R${i}`, { assumedBy: new iam.AccountRootPrincipal() }));
  expect(() => new BackupComplianceFramework(roles, 'C', { environment: DeploymentEnvironment.PRO, breakGlassRoles: many }))
    .toThrow(/breakGlassRoles has 6 roles, but BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED exempts at most 5/);
});

test('report plan: daily control compliance report to the bucket, written by the Backup reports role, readable by the teams', () => {
  const stack = testStack();
  protect(stack, 'T', RecoveryTier.STANDARD);
  const bucket = new s3.Bucket(stack, 'Reports', { enforceSSL: true });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  const fw = new BackupComplianceFramework(stack, 'C', { environment: DeploymentEnvironment.PRO, reportBucket: bucket, access: [TeamAccess.sre(reader)] });
  (stack.node.root as App).synth();
  const t = Template.fromStack(stack);
  t.hasResourceProperties('AWS::Backup::ReportPlan', {
    ReportDeliveryChannel: { S3BucketName: { Ref: Match.stringLikeRegexp('Reports') }, S3KeyPrefix: 'backup-compliance', Formats: ['CSV', 'JSON'] },
    ReportSetting: { ReportTemplate: 'CONTROL_COMPLIANCE_REPORT', FrameworkArns: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('C'), 'FrameworkArn'] }] },
  });
  t.hasResourceProperties('AWS::S3::BucketPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([Match.objectLike({
        Sid: 'AwsBackupReports',
        Action: 's3:PutObject',
        Principal: { AWS: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports')])] } },
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      })]),
    },
  });
  t.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('Reader') }],
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:GetObject' })]) },
  });
  expect(fw.reportPlan).toBeDefined();
  expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
});
