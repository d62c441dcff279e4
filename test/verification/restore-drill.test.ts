import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DeploymentEnvironment } from '../../src/core';
import { RestoreDrill } from '../../src/verification';
import { synthTemplate, testStack } from '../support/app';

function drill(environment: DeploymentEnvironment, extra: { schedule?: string; rto?: Duration } = {}) {
  const stack = testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  taskDefinition.addContainer('dump', { image: ecs.ContainerImage.fromRegistry('example/dump'), command: ['drill'] });
  const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
  const topic = new sns.Topic(stack, 'Topic');
  new RestoreDrill(stack, 'Drill', {
    purpose: 'restore drill of Crm',
    environment,
    rto: extra.rto ?? Duration.hours(4),
    cluster,
    taskDefinition,
    subnets: vpc.isolatedSubnets.map((s) => s.subnetId),
    securityGroups: [sg.securityGroupId],
    metricsNamespace: 'CdkBackupDr/ExternalDb',
    dimensions: { BackupJob: 'Stack/Crm', Environment: environment },
    schedule: extra.schedule,
    alarmTopic: topic,
  });
  return { stack, t: synthTemplate(stack) };
}

test('PRO: weekly ECS drill through the shared scheduled job; RTO and failure alarms on the topic', () => {
  const { t } = drill(DeploymentEnvironment.PRO);
  t.hasResourceProperties('AWS::Scheduler::Schedule', {
    ScheduleExpression: 'cron(0 3 ? * SAT *)',
    Target: Match.objectLike({ EcsParameters: Match.objectLike({ LaunchType: 'FARGATE' }) }),
  });
  t.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'DrillDurationSeconds',
    Namespace: 'CdkBackupDr/ExternalDb',
    Threshold: 4 * 3600,
    ComparisonOperator: 'GreaterThanThreshold',
    Dimensions: Match.arrayWith([{ Name: 'BackupJob', Value: 'Stack/Crm' }]),
    AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }],
  });
  t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DrillSuccess', Threshold: 1, ComparisonOperator: 'LessThanThreshold', Statistic: 'Minimum' });
});

test('QA: monthly by default; a custom schedule is used as given', () => {
  drill(DeploymentEnvironment.QA).t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 3 ? * SAT#1 *)' });
  drill(DeploymentEnvironment.PRO, { schedule: 'rate(3 days)' }).t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(3 days)' });
});
