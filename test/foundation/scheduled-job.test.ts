import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DeploymentEnvironment } from '../../src/core/environment';
import { BackupDrConfigError } from '../../src/core/validation';
import { ScheduledJob, ScheduledJobProps } from '../../src/foundation/scheduled-job';
import { synthTemplate, testStack } from '../support/app';

const WARNING_ID = 'cdk-backup-dr:alarms-without-action';
const OPERATIONS_KEY_ARN = { 'Fn::GetAtt': [Match.stringLikeRegexp('^BackupDrOperationsKey'), 'Arn'] };
const DLQ_ARN = { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobDeadLetterQueue'), 'Arn'] };

function job(stack: Stack, props: Partial<ScheduledJobProps> = {}, id = 'Job'): ScheduledJob {
  return new ScheduledJob(stack, id, { purpose: 'test job', environment: DeploymentEnvironment.PRO, ...props });
}

function fn(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
}

interface EcsFixture {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly subnets: string[];
  readonly securityGroups: string[];
}

function ecsFixture(stack: Stack, prefix = ''): EcsFixture {
  const vpc = new ec2.Vpc(stack, `${prefix}Vpc`, {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const cluster = new ecs.Cluster(stack, `${prefix}Cluster`, { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, `${prefix}Task`, { cpu: 256, memoryLimitMiB: 512 });
  taskDefinition.addContainer('Main', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:latest') });
  const sg = new ec2.SecurityGroup(stack, `${prefix}Sg`, { vpc });
  return { cluster, taskDefinition, subnets: vpc.isolatedSubnets.map((s) => s.subnetId), securityGroups: [sg.securityGroupId] };
}

function lambdaJob(stack: Stack, props: Partial<ScheduledJobProps> = {}): ScheduledJob {
  const j = job(stack, props);
  j.targetLambda(fn(stack));
  return j;
}

function ecsJob(stack: Stack, props: Partial<ScheduledJobProps> = {}, logGroup?: logs.ILogGroup): ScheduledJob {
  const j = job(stack, props);
  j.targetEcsTask({ ...ecsFixture(stack), logGroup });
  return j;
}

/** The one resource of `type` whose logical id matches `id`. */
function only(t: Template, type: string, id: RegExp): any {
  const found = Object.entries(t.findResources(type)).filter(([logicalId]) => id.test(logicalId));
  expect(found).toHaveLength(1);
  return found[0][1];
}

describe('ScheduledJob', () => {
  describe('dead-letter queue', () => {
    test('is encrypted with the stack operations key (rotation on), keeps messages 14 days and denies non-TLS access', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      job(stack);
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::SQS::Queue', 1);
      t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: OPERATIONS_KEY_ARN, MessageRetentionPeriod: 14 * 24 * 3600 });
      t.resourceCountIs('AWS::KMS::Key', 1);
      t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: Match.stringLikeRegexp('^JobDeadLetterQueue') }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: DLQ_ARN,
          })]),
        },
      });
    });

    test('two jobs in one stack share the operations key', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      new ScheduledJob(stack, 'A', { purpose: 'a', environment: DeploymentEnvironment.DEV });
      new ScheduledJob(stack, 'B', { purpose: 'b', environment: DeploymentEnvironment.DEV });
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::KMS::Key', 1);
      t.resourceCountIs('AWS::SQS::Queue', 2);
      expect(ScheduledJob.operationsKey(stack)).toBe(ScheduledJob.operationsKey(new ScheduledJob(stack, 'C', { purpose: 'c', environment: DeploymentEnvironment.DEV })));
    });

    test('a custom encryptionKey encrypts queue and log group, gets the CloudWatch Logs key policy statement, and no operations key is created', () => {
      // GIVEN
      const stack = testStack();
      const key = new kms.Key(stack, 'CustomKey', { enableKeyRotation: true });
      // WHEN
      const j = job(stack, { encryptionKey: key });
      // THEN
      expect(j.encryptionKey).toBe(key);
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::KMS::Key', 1);
      const customKeyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^CustomKey'), 'Arn'] };
      t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: customKeyArn });
      t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: customKeyArn });
      const customKey = only(t, 'AWS::KMS::Key', /^CustomKey/);
      expect(customKey.Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
        Sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
        Effect: 'Allow',
        Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
        Action: expect.arrayContaining(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']),
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']],
            },
          },
        },
      })]));
    });

    test('two jobs sharing a custom key add the CloudWatch Logs statement once', () => {
      // GIVEN
      const stack = testStack();
      const key = new kms.Key(stack, 'CustomKey', { enableKeyRotation: true });
      // WHEN
      new ScheduledJob(stack, 'A', { purpose: 'a', environment: DeploymentEnvironment.QA, encryptionKey: key });
      new ScheduledJob(stack, 'B', { purpose: 'b', environment: DeploymentEnvironment.QA, encryptionKey: key });
      // THEN
      const statements = only(synthTemplate(stack), 'AWS::KMS::Key', /^CustomKey/).Properties.KeyPolicy.Statement as Array<{ Sid?: string }>;
      expect(statements.filter((s) => s.Sid === 'AllowCloudWatchLogsOfThisAccountAndRegion')).toHaveLength(1);
    });
  });

  describe('log group', () => {
    test.each([
      [DeploymentEnvironment.PRO, 365],
      [DeploymentEnvironment.QA, 90],
      [DeploymentEnvironment.DEV, 30],
    ])('in %s keeps logs %i days (PolicyDefaults.operationsLogRetention), is encrypted and retained on deletion', (environment, days) => {
      // GIVEN
      const stack = testStack();
      // WHEN
      job(stack, { environment });
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::Logs::LogGroup', 1);
      t.hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: days, KmsKeyId: OPERATIONS_KEY_ARN },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    test('the operations key lets CloudWatch Logs of this account and Region use it and is retained', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      job(stack);
      // THEN
      const t = synthTemplate(stack);
      t.hasResource('AWS::KMS::Key', {
        Properties: {
          EnableKeyRotation: true,
          KeyPolicy: {
            Statement: Match.arrayWith([Match.objectLike({
              Sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
              Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
              Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
            })]),
          },
        },
        DeletionPolicy: 'Retain',
      });
    });
  });

  describe('scheduler role', () => {
    test('trusts EventBridge Scheduler of this account only (aws:SourceAccount) and has no inline policy', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      lambdaJob(stack);
      // THEN
      const t = synthTemplate(stack);
      const role = only(t, 'AWS::IAM::Role', /^JobSchedulerRole/);
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }]);
      expect(role.Properties.Policies).toBeUndefined();
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      t.resourceCountIs('AWS::IAM::Policy', 0);
    });

    test('Lambda target: the managed policy allows exactly sqs:SendMessage on the DLQ, kms on the key and lambda:InvokeFunction on the function', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      lambdaJob(stack);
      // THEN
      const t = synthTemplate(stack);
      const policy = only(t, 'AWS::IAM::ManagedPolicy', /^JobSchedulerPolicy/);
      expect(policy.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^JobSchedulerRole/) }]);
      expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^JobDeadLetterQueue/), 'Arn'] } },
        { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BackupDrOperationsKey/), 'Arn'] } },
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Fn/), 'Arn'] } },
      ]));
      expect(policy.Properties.PolicyDocument.Statement).toHaveLength(3);
    });

    test('ECS target: ecs:RunTask on the task definition in the cluster only, iam:PassRole of task and execution roles to ECS tasks only', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      ecsJob(stack);
      // THEN
      const t = synthTemplate(stack);
      const statements = only(t, 'AWS::IAM::ManagedPolicy', /^JobSchedulerPolicy/).Properties.PolicyDocument.Statement;
      expect(statements).toEqual(expect.arrayContaining([
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^JobDeadLetterQueue/), 'Arn'] } },
        { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BackupDrOperationsKey/), 'Arn'] } },
        {
          Effect: 'Allow',
          Action: 'ecs:RunTask',
          Resource: { Ref: expect.stringMatching(/^Task[0-9A-F]{8}$/) },
          Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] } } },
        },
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: expect.arrayContaining([
            { 'Fn::GetAtt': [expect.stringMatching(/^TaskTaskRole/), 'Arn'] },
            { 'Fn::GetAtt': [expect.stringMatching(/^TaskExecutionRole/), 'Arn'] },
          ]),
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
      ]));
      expect(statements).toHaveLength(4);
      const passRole = statements.find((s: { Action: string }) => s.Action === 'iam:PassRole');
      expect(passRole.Resource).toHaveLength(2);
      expect(JSON.stringify(statements)).not.toContain('lambda:InvokeFunction');
    });
  });

  describe('alarms', () => {
    test('DLQ alarm: at least one visible message (maximum over 5 minutes), missing data not breaching', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      job(stack, { alarmTopic: new sns.Topic(stack, 'Topic') });
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobDeadLetterQueue'), 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    test('Lambda target: errors alarm on the function\'s Errors (sum over 5 minutes)', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      const j = lambdaJob(stack);
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      expect(j.alarms).toHaveLength(2);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Fn') } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      t.resourceCountIs('AWS::Logs::MetricFilter', 0);
    });

    test('ECS target: a metric filter on the job\'s log group counts `$.level = "ERROR"` lines and the errors alarm watches that metric', () => {
      // GIVEN
      const stack = testStack();
      // WHEN
      ecsJob(stack);
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::Logs::MetricFilter', 1);
      const filter = only(t, 'AWS::Logs::MetricFilter', /^Job/).Properties;
      expect(filter.FilterPattern).toBe('{ $.level = "ERROR" }');
      expect(filter.LogGroupName).toEqual({ Ref: expect.stringMatching(/^JobLogGroup/) });
      expect(filter.MetricTransformations).toHaveLength(1);
      const { MetricNamespace, MetricName, MetricValue } = filter.MetricTransformations[0];
      expect(MetricValue).toBe('1');
      t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: MetricNamespace,
        MetricName,
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    test('ECS target: the metric filter reads the given log group when the task logs elsewhere; metric names differ per job', () => {
      // GIVEN
      const stack = testStack();
      const taskLogs = new logs.LogGroup(stack, 'TaskLogs');
      // WHEN
      ecsJob(stack, {}, taskLogs);
      const other = new ScheduledJob(stack, 'Other', { purpose: 'other', environment: DeploymentEnvironment.PRO });
      other.targetEcsTask(ecsFixture(stack, 'Other'));
      // THEN
      const t = synthTemplate(stack);
      const filter = only(t, 'AWS::Logs::MetricFilter', /^JobErrors/).Properties;
      expect(filter.LogGroupName).toEqual({ Ref: expect.stringMatching(/^TaskLogs/) });
      const otherFilter = only(t, 'AWS::Logs::MetricFilter', /^OtherErrors/).Properties;
      expect(otherFilter.MetricTransformations[0].MetricName).not.toBe(filter.MetricTransformations[0].MetricName);
    });

    test.each([
      ['Lambda', lambdaJob],
      ['ECS', (s: Stack, p: Partial<ScheduledJobProps>) => ecsJob(s, p)],
    ])('%s target with a topic: every alarm notifies it, the topic lets CloudWatch publish, and no warning', (_name, make) => {
      // GIVEN
      const stack = testStack();
      const topic = new sns.Topic(stack, 'Topic');
      // WHEN
      make(stack, { alarmTopic: topic });
      // THEN
      const t = synthTemplate(stack);
      const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(2);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Topic/) }]);
      }
      const publishers = Object.values(t.findResources('AWS::SNS::TopicPolicy'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string; Principal: { Service: string | string[] } }>)
        .filter((st) => st.Action === 'sns:Publish')
        .flatMap((st) => ([] as string[]).concat(st.Principal.Service));
      expect(publishers).toContain('cloudwatch.amazonaws.com');
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(WARNING_ID));
    });

    test.each([
      ['Lambda', lambdaJob],
      ['ECS', (s: Stack, p: Partial<ScheduledJobProps>) => ecsJob(s, p)],
    ])('%s target without a topic: no alarm has actions and the synth warns (cdk-backup-dr:alarms-without-action)', (_name, make) => {
      // GIVEN
      const stack = testStack();
      // WHEN
      make(stack, {});
      // THEN
      const t = synthTemplate(stack);
      const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(2);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toBeUndefined();
        expect(alarm.Properties.OKActions).toBeUndefined();
        expect(alarm.Properties.InsufficientDataActions).toBeUndefined();
      }
      const annotations = Annotations.fromStack(stack);
      annotations.hasWarning('/TestStack/Job', Match.stringLikeRegexp(`test job have no action.*\\[ack: ${WARNING_ID}\\]`));
      expect(annotations.findWarning('*', Match.stringLikeRegexp(WARNING_ID))).toHaveLength(1);
    });

    test('addAlarm: an extra alarm notifies the job topic too and is listed in alarms', () => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack, { alarmTopic: new sns.Topic(stack, 'Topic') });
      // WHEN
      const extra = j.addAlarm('Extra', {
        metric: j.deadLetterQueue.metricNumberOfMessagesSent(),
        threshold: 5,
        evaluationPeriods: 1,
      });
      // THEN
      expect(j.alarms).toContain(extra);
      synthTemplate(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'NumberOfMessagesSent',
        Threshold: 5,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      });
    });
  });

  describe('addSchedule', () => {
    test('Lambda target: expression, UTC by default, flexible window OFF by default, DLQ, retry policy and input with scheduledTime', () => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack);
      // WHEN
      j.addSchedule('Nightly', { expression: 'cron(0 3 * * ? *)', description: 'nightly run' });
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::Scheduler::Schedule', 1);
      const schedule = only(t, 'AWS::Scheduler::Schedule', /^JobNightly/).Properties;
      expect(schedule).toEqual({
        Description: 'nightly run',
        ScheduleExpression: 'cron(0 3 * * ? *)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [expect.stringMatching(/^Fn/), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^JobSchedulerRole/), 'Arn'] },
          Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^JobDeadLetterQueue/), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 21600 },
        },
      });
    });

    test('Lambda target: a flexible window in minutes, a timezone, retries and the given input merged with scheduledTime', () => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack);
      // WHEN
      j.addSchedule('Spread', {
        expression: 'rate(1 day)',
        description: 'spread run',
        flexibleWindow: Duration.hours(2),
        timezone: 'Europe/Madrid',
        retryAttempts: 3,
        input: { kind: 'export', table: 't' },
      });
      // THEN
      synthTemplate(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 day)',
        ScheduleExpressionTimezone: 'Europe/Madrid',
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 120 },
        Target: Match.objectLike({
          Input: JSON.stringify({ kind: 'export', table: 't', scheduledTime: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 },
        }),
      });
    });

    test('Lambda target: scheduledTime in the input is always the scheduler\'s, tokens in the input resolve', () => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack);
      // WHEN
      j.addSchedule('S', { expression: 'rate(1 hour)', description: 'd', input: { scheduledTime: 'mine', queue: j.deadLetterQueue.queueUrl } });
      // THEN
      const input = only(synthTemplate(stack), 'AWS::Scheduler::Schedule', /^JobS/).Properties.Target.Input;
      const rendered = JSON.stringify(input);
      expect(rendered).toContain('<aws.scheduler.scheduled-time>');
      expect(rendered).not.toContain('mine');
      expect(rendered).toMatch(/"Ref":"JobDeadLetterQueue[0-9A-F]{8}"/);
    });

    test('ECS target: the cluster with Fargate task parameters in private networking, and no input', () => {
      // GIVEN
      const stack = testStack();
      const j = ecsJob(stack);
      // WHEN
      j.addSchedule('Run', { expression: 'rate(6 hours)', description: 'ecs run', input: { ignored: true } });
      // THEN
      const t = synthTemplate(stack);
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(6 hours)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobSchedulerRole'), 'Arn'] },
          EcsParameters: {
            TaskDefinitionArn: { Ref: Match.stringLikeRegexp('^Task[0-9A-F]{8}$') },
            LaunchType: 'FARGATE',
            NetworkConfiguration: {
              AwsvpcConfiguration: {
                Subnets: [{ Ref: Match.stringLikeRegexp('^VpcIsolatedSubnet1') }, { Ref: Match.stringLikeRegexp('^VpcIsolatedSubnet2') }],
                SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }],
                AssignPublicIp: 'DISABLED',
              },
            },
          },
          Input: Match.absent(),
          DeadLetterConfig: { Arn: DLQ_ARN },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 21600 },
        },
      });
    });

    test('several schedules share the job\'s role, queue and alarms', () => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack);
      // WHEN
      j.addSchedule('A', { expression: 'rate(1 day)', description: 'a' });
      j.addSchedule('B', { expression: 'rate(7 days)', description: 'b' });
      // THEN
      const t = synthTemplate(stack);
      t.resourceCountIs('AWS::Scheduler::Schedule', 2);
      t.resourceCountIs('AWS::SQS::Queue', 1);
      t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      t.resourceCountIs('AWS::IAM::Role', 2); // the function's and the scheduler's
    });

    test.each([
      [Duration.minutes(1), 1],
      [Duration.minutes(1440), 1440],
    ])('a flexible window of %s is accepted at the bounds', (window, minutes) => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack);
      // WHEN
      j.addSchedule('S', { expression: 'rate(1 day)', description: 'd', flexibleWindow: window });
      // THEN
      synthTemplate(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: minutes },
      });
    });

    test.each([
      [Duration.minutes(0)],
      [Duration.minutes(1441)],
      [Duration.days(2)],
      [Duration.seconds(90)],
    ])('a flexible window of %s is a BackupDrConfigError naming the limits', (window) => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack);
      // WHEN
      const add = () => j.addSchedule('S', { expression: 'rate(1 day)', description: 'd', flexibleWindow: window });
      // THEN
      expect(add).toThrow(BackupDrConfigError);
      expect(add).toThrow(/\[TestStack\/Job\] flexibleWindow of schedule S is .*EventBridge Scheduler accepts whole minutes from 1 to 1,440/);
    });

    test.each([[-1], [186], [1.5]])('retryAttempts %s is a BackupDrConfigError (EventBridge Scheduler retries 0 to 185 times)', (retries) => {
      const j = lambdaJob(testStack());
      const add = () => j.addSchedule('S', { expression: 'rate(1 day)', description: 'd', retryAttempts: retries });
      expect(add).toThrow(BackupDrConfigError);
      expect(add).toThrow(/\[TestStack\/Job\] retryAttempts of schedule S is/);
    });

    test('retryAttempts 0 and 185 are accepted', () => {
      const stack = testStack();
      const j = lambdaJob(stack);
      j.addSchedule('A', { expression: 'rate(1 day)', description: 'd', retryAttempts: 0 });
      j.addSchedule('B', { expression: 'rate(1 day)', description: 'd', retryAttempts: 185 });
      synthTemplate(stack).hasResourceProperties('AWS::Scheduler::Schedule', { Target: Match.objectLike({ RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 185 }) }) });
    });

    test('an ECS target must be Fargate-compatible and have subnets and security groups', () => {
      const stack = testStack();
      const f = ecsFixture(stack);
      const ec2Task = new ecs.Ec2TaskDefinition(stack, 'Ec2Task');
      ec2Task.addContainer('Main', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:latest'), memoryLimitMiB: 128 });
      expect(() => job(stack, {}, 'A').targetEcsTask({ ...f, taskDefinition: ec2Task })).toThrow(/\[TestStack\/A\] taskDefinition TestStack\/Ec2Task is not Fargate-compatible/);
      expect(() => job(stack, {}, 'B').targetEcsTask({ ...f, securityGroups: [] })).toThrow(/\[TestStack\/B\] securityGroups is empty/);
      expect(() => job(stack, {}, 'C').targetEcsTask({ ...f, subnets: [] })).toThrow(/subnets is empty/);
    });

    test('ECS target with a topic: a task that stops with a non-zero exit code notifies the topic (it may never log)', () => {
      const stack = testStack();
      const topic = new sns.Topic(stack, 'Topic');
      ecsJob(stack, { alarmTopic: topic });
      synthTemplate(stack).hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          'source': ['aws.ecs'],
          'detail-type': ['ECS Task State Change'],
          'detail': { lastStatus: ['STOPPED'], taskDefinitionArn: [{ Ref: Match.stringLikeRegexp('Task') }], containers: { exitCode: [{ 'anything-but': 0 }] } },
        },
        Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('Topic') } })],
      });
    });

    test('addSchedule before a target throws', () => {
      // GIVEN
      const stack = testStack();
      const j = job(stack);
      // WHEN / THEN
      expect(() => j.addSchedule('S', { expression: 'rate(1 day)', description: 'd' }))
        .toThrow(/TestStack\/Job: set the job's target \(targetLambda \/ targetEcsTask\) before adding schedules/);
    });

    test('a second target throws, whether Lambda or ECS', () => {
      // GIVEN
      const stack = testStack();
      const j = lambdaJob(stack);
      // WHEN / THEN
      expect(() => j.targetLambda(lambda.Function.fromFunctionArn(stack, 'Other', 'arn:aws:lambda:eu-west-1:111111111111:function:other')))
        .toThrow(/TestStack\/Job already has a target/);
      expect(() => j.targetEcsTask(ecsFixture(stack, 'Second'))).toThrow(/TestStack\/Job already has a target/);
    });
  });
});
