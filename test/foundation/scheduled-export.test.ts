import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DeploymentEnvironment } from '../../src/core/environment';
import { BackupDrConfigError } from '../../src/core/validation';
import { MAX_RESOURCES_PER_POLICY, ScheduledExport } from '../../src/foundation/scheduled-export';
import { synthTemplate, testStack } from '../support/app';

function exporter(stack: Stack, topic?: sns.ITopic) {
  return new ScheduledExport(stack, 'Export', { purpose: 'test export', environment: DeploymentEnvironment.PRO, alarmTopic: topic });
}

describe('ScheduledExport', () => {
  test('creates a Node.js function from assets/scheduled-export with reserved concurrency, DLQ and async retry settings', () => {
    // GIVEN
    const stack = testStack();
    // WHEN
    exporter(stack);
    // THEN
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 2,
      Timeout: 120,
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportJobDeadLetterQueue'), 'Arn'] } },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^ExportJobLogGroup') } },
      Environment: Match.absent(),
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 });
  });

  test('log group and dead-letter queue are encrypted with the stack operations key (rotation on), TLS-only queue', () => {
    const stack = testStack();
    exporter(stack);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
          Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
        })]),
      },
    });
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrOperationsKey'), 'Arn'] },
    });
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrOperationsKey'), 'Arn'] },
      MessageRetentionPeriod: 1209600,
    });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  test('two exports in one stack share the operations key', () => {
    const stack = testStack();
    new ScheduledExport(stack, 'A', { purpose: 'a', environment: DeploymentEnvironment.PRO });
    new ScheduledExport(stack, 'B', { purpose: 'b', environment: DeploymentEnvironment.PRO });
    synthTemplate(stack).resourceCountIs('AWS::KMS::Key', 1);
  });

  test('roles get managed policies only: logs, DLQ and key for the function; invoke, DLQ and key for the scheduler', () => {
    const stack = testStack();
    exporter(stack);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::IAM::Policy', 0);
    t.resourceCountIs('AWS::IAM::Role', 2);
    for (const role of Object.values(t.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.Policies).toBeUndefined();
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        })],
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ExportRole') }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportJobLogGroup'), 'Arn'] } },
          { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportJobDeadLetterQueue'), 'Arn'] } },
          { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrOperationsKey'), 'Arn'] } },
        ],
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ExportJobSchedulerRole') }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportJobDeadLetterQueue'), 'Arn'] } },
          { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrOperationsKey'), 'Arn'] } },
          { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportFunction'), 'Arn'] } },
        ],
      },
    });
  });

  test('alarms on function errors and dead letters notify the topic, which lets CloudWatch publish', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Topic');
    exporter(stack, topic);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }],
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' } })]),
      },
    });
  });

  test('without a topic the synth warns that the alarms have no action (cdk-backup-dr:alarms-without-action)', () => {
    // GIVEN
    const stack = testStack();
    // WHEN
    exporter(stack);
    // THEN
    synthTemplate(stack);
    Annotations.fromStack(stack).hasWarning('/TestStack/Export/Job',
      Match.stringLikeRegexp('the alarms of test export have no action.*\\[ack: cdk-backup-dr:alarms-without-action\\]'));
  });

  test('with a topic the synth does not warn about alarms without action', () => {
    // GIVEN
    const stack = testStack();
    // WHEN
    exporter(stack, new sns.Topic(stack, 'Topic'));
    // THEN
    synthTemplate(stack);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('cdk-backup-dr:alarms-without-action'));
  });

  test('addSchedule renders a flexible, UTC schedule targeting the function with DLQ, retries and the scheduled time in the input', () => {
    const stack = testStack();
    const e = exporter(stack);
    e.addSchedule('S1', {
      schedule: scheduler.ScheduleExpression.expression('cron(0 6 1 * ? *)'),
      description: 'export thing',
      event: { kind: 'dynamodb-table-export', tableArn: 'arn:aws:dynamodb:eu-west-1:111111111111:table/T', bucket: 'b', prefix: 'p' },
    });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Description: 'export thing',
      ScheduleExpression: 'cron(0 6 1 * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportFunction'), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportJobSchedulerRole'), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportJobDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 },
        Input: JSON.stringify({
          kind: 'dynamodb-table-export',
          tableArn: 'arn:aws:dynamodb:eu-west-1:111111111111:table/T',
          bucket: 'b',
          prefix: 'p',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
      },
    });
    expect(e.scheduleCount).toBe(1);
  });

  test('a flexible window outside 1–1440 minutes is rejected', () => {
    const stack = testStack();
    const e = exporter(stack);
    expect(() => e.addSchedule('S', {
      schedule: scheduler.ScheduleExpression.expression('cron(0 6 1 * ? *)'),
      description: 'x',
      event: {},
      flexibleWindow: Duration.days(2),
    })).toThrow(BackupDrConfigError);
    expect(() => e.addSchedule('S2', {
      schedule: scheduler.ScheduleExpression.expression('cron(0 6 1 * ? *)'),
      description: 'x',
      event: {},
      flexibleWindow: Duration.days(2),
    })).toThrow(/EventBridge Scheduler accepts whole minutes from 1 to 1,440/);
  });

  test(`source ARNs are spread over managed policies of at most ${MAX_RESOURCES_PER_POLICY} ARNs, one statement per action set`, () => {
    const stack = testStack();
    const e = exporter(stack);
    const arns = Array.from({ length: MAX_RESOURCES_PER_POLICY + 5 }, (_, i) => `arn:aws:dynamodb:eu-west-1:111111111111:table/T${i}`);
    e.grantOnSources(['dynamodb:ExportTableToPointInTime'], arns);
    const t = synthTemplate(stack);
    const sourcePolicies = Object.entries(t.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) => /SourcePolicy/.test(id));
    expect(sourcePolicies).toHaveLength(2);
    const [first, second] = sourcePolicies.map(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(first).toHaveLength(1);
    expect(first[0].Resource).toHaveLength(MAX_RESOURCES_PER_POLICY);
    expect(second[0].Resource).toHaveLength(5);
    // The function waits for its permissions.
    const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0];
    expect(fn.DependsOn).toEqual(expect.arrayContaining(sourcePolicies.map(([id]) => id)));
  });

  test('too many source ARNs for one role fail with a clear message', () => {
    const stack = testStack();
    const e = exporter(stack);
    const arns = Array.from({ length: 9 * MAX_RESOURCES_PER_POLICY + 1 }, (_, i) => `arn:aws:dynamodb:eu-west-1:111111111111:table/T${i}`);
    expect(() => e.grantOnSources(['dynamodb:ExportTableToPointInTime'], arns)).toThrow(BackupDrConfigError);
    expect(() => exporter(testStack()).grantOnSources(['a:b'], arns)).toThrow(/split the exported sources over several constructs/);
  });

  test('the function is acknowledged for the VPC rules of the three compliance packs, with a reason', () => {
    const stack = testStack();
    const e = exporter(stack);
    const acks = e.function.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').map((m) => m.data as Record<string, string>);
    const ids = acks.flatMap((a) => Object.keys(a)).map((id) => id.replace(/^annotation::/i, ''));
    expect(ids).toEqual(expect.arrayContaining(['NIST.800.53.R5-LambdaInsideVPC', 'HIPAA.Security-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC']));
    for (const a of acks) for (const reason of Object.values(a)) expect(reason.length).toBeGreaterThan(40);
  });
});
