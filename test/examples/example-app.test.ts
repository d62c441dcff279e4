import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/example-stacks';
import { TEST_CONTEXT, snapshotOf } from '../support/app';
import { nagFindings } from '../support/nag';

/** Templates of the example app, synthesized once. */
function exampleTemplates(): Record<string, Template> {
  const app = new App({ context: TEST_CONTEXT });
  const stacks = buildExampleApp(app);
  app.synth();
  return Object.fromEntries(stacks.map((s: Stack) => [s.stackName, Template.fromStack(s)]));
}

describe('example app', () => {
  const templates = exampleTemplates();
  const pro = templates.BackupDrExamplePro;
  const dev = templates.BackupDrExampleDev;

  test('cdk-nag AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321: no unacknowledged finding', () => {
    expect(nagFindings((app) => buildExampleApp(app), TEST_CONTEXT)).toEqual([]);
  });

  test('Pro: the vault is locked (compliance mode after 3 days), encrypted with a rotated key, and denies deleting recovery points', () => {
    pro.hasResourceProperties('AWS::Backup::BackupVault', {
      LockConfiguration: { MinRetentionDays: 1, ChangeableForDays: 3 },
      EncryptionKeyArn: Match.anyValue(),
      AccessPolicy: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: Match.arrayWith(['backup:DeleteRecoveryPoint']) })]) },
    });
    for (const key of Object.values(pro.findResources('AWS::KMS::Key'))) expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  test('Pro: Aurora (CRITICAL) gets continuous backup; the RDS instance (STANDARD) a 12-hourly rule; both keep monthly and yearly samples', () => {
    const rules = Object.values(pro.findResources('AWS::Backup::BackupPlan'))
      .flatMap((p) => p.Properties.BackupPlan.BackupPlanRule as Array<Record<string, any>>);
    expect(rules.some((r) => r.EnableContinuousBackup === true && r.Lifecycle.DeleteAfterDays === 35)).toBe(true);
    expect(rules.some((r) => r.ScheduleExpression === 'cron(0 0/12 * * ? *)' && r.StartWindowMinutes === 60)).toBe(true);
    expect(rules.filter((r) => r.RuleName === 'MonthlySample').every((r) => r.Lifecycle.DeleteAfterDays === 365)).toBe(true);
    expect(rules.filter((r) => r.RuleName === 'YearlySample').every((r) => r.Lifecycle.DeleteAfterDays === 2555)).toBe(true);
    // Every rule's worst case (interval + start window) is explicit.
    for (const r of rules) expect(r.StartWindowMinutes).toBe(60);
  });

  test('Pro: the Orders table has 35 days of point-in-time recovery; the external CRM database is dumped hourly', () => {
    pro.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
      })]),
    });
    pro.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: { Mode: 'OFF' } });
  });

  test('Pro: the external CRM database has a weekly restore drill in the workload VPC, held against its 4-hour RTO', () => {
    pro.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 ? * SAT *)',
      Target: Match.objectLike({ EcsParameters: Match.objectLike({ TaskDefinitionArn: { Ref: Match.stringLikeRegexp('^CrmDumpDrillTask') } }) }),
    });
    pro.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Command: ['drill'], ReadonlyRootFilesystem: true })],
    });
    pro.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DrillDurationSeconds', Threshold: 4 * 3600 });
    // No route to the internet: the task reaches ECR, S3 and CloudWatch Logs through endpoints.
    pro.resourceCountIs('AWS::EC2::VPCEndpoint', 4);
    pro.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  test('every alarm the library creates notifies someone', () => {
    for (const [name, t] of Object.entries(templates)) {
      for (const [id, alarm] of Object.entries(t.findResources('AWS::CloudWatch::Alarm'))) {
        expect({ stack: name, id, actions: (alarm.Properties.AlarmActions ?? []).length > 0 }).toEqual({ stack: name, id, actions: true });
      }
    }
  });

  test('Development may view Pro backups but never restore them; it may restore Dev backups', () => {
    const statementsOf = (t: Template, rolePattern: RegExp) => Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles ?? []).some((r: any) => rolePattern.test(r.Ref ?? '')))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Effect: string; Action: string | string[] }>);
    const actions = (t: Template) => statementsOf(t, /TeamsDevelopment/).filter((s) => s.Effect === 'Allow').flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions(pro)).toContain('backup:DescribeRecoveryPoint');
    expect(actions(pro)).not.toContain('backup:StartRestoreJob');
    expect(actions(pro).filter((a) => /Restore/.test(a) && !/^backup:(Describe|List|Get)/.test(a))).toEqual([]);
    expect(actions(dev)).toContain('backup:StartRestoreJob');
  });

  test('Dev: the Dev defaults (7 days, no samples, no lock)', () => {
    dev.hasResourceProperties('AWS::Backup::BackupVault', { LockConfiguration: Match.absent() });
    const rules = Object.values(dev.findResources('AWS::Backup::BackupPlan'))
      .flatMap((p) => p.Properties.BackupPlan.BackupPlanRule as Array<Record<string, any>>);
    expect(rules.map((r) => r.RuleName)).not.toContain('MonthlySample');
    expect(rules.every((r) => r.Lifecycle.DeleteAfterDays <= 7)).toBe(true);
  });

  test.each(['BackupDrExamplePro', 'BackupDrExampleDev'])('snapshot of %s', (name) => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = buildExampleApp(app).find((s) => s.stackName === name)!;
    expect(snapshotOf(stack)).toMatchSnapshot();
  });
});
