import { Annotations, Aws, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { allowCloudWatchToPublish } from './alarm-topic';
import { BackupKey } from './backup-key';
import { DeploymentEnvironment } from '../core/environment';
import { PolicyDefaults } from '../core/retention';
import { BackupDrConfigError, checkRange, concreteMinutes, inScope } from '../core/validation';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/*
 * Internal building block (not exported from the package entry point): everything a scheduled job of
 * the backup machinery needs besides its own code: EventBridge Scheduler schedules, the scheduler's
 * role (scoped with aws:SourceAccount), a KMS-encrypted TLS-only dead-letter queue, the log group, and
 * the alarms (failed runs, dead letters), which always notify a topic or say at synth why they cannot.
 * Scheduled exports, external database dumps, the recovery-point monitor and restore drills all use it:
 * one place to fix.
 */

const OPERATIONS_KEY_ID = 'BackupDrOperationsKey';
/** Metric namespace of the failed-run counts of ECS task targets (from their log groups). */
const JOBS_NAMESPACE = 'CdkBackupDr/Jobs';

/** Properties of a ScheduledJob. */
export interface ScheduledJobProps {
  /** What the job does, for descriptions and alarm texts (e.g. "export of DynamoDB tables to S3 (Stack/Orders)"). */
  readonly purpose: string;
  /** Environment of the protected workload: the log retention comes from its `PolicyDefaults`. */
  readonly environment: DeploymentEnvironment;
  /**
   * Topic the job's alarms notify.
   * @default - none: the alarms have no action and the synth says so (warning)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Key for the dead-letter queue and the log group.
   * @default - the stack's operations key (`ScheduledJob.operationsKey`)
   */
  readonly encryptionKey?: kms.IKey;
}

/** One schedule of a ScheduledJob. */
export interface ScheduledJobSchedule {
  /** EventBridge Scheduler expression: `rate(...)`, `cron(...)` or `at(...)`. */
  readonly expression: string;
  /** Description of the schedule. */
  readonly description: string;
  /**
   * Input passed to a Lambda target (`scheduledTime` is added: the scheduler's scheduled time, so
   * retries resolve to the same run). Ignored by ECS task targets, which read their configuration from
   * the task definition.
   * @default - `{ scheduledTime }` only
   */
  readonly input?: Record<string, unknown>;
  /**
   * Flexible time window: the run starts at a random time within it (spreads many schedules over time).
   * @default - off: the run starts at the scheduled time
   */
  readonly flexibleWindow?: Duration;
  /**
   * Time zone of cron expressions.
   * @default 'UTC'
   */
  readonly timezone?: string;
  /**
   * How often the scheduler retries a run it could not start, before sending it to the dead-letter queue.
   * @default 0
   */
  readonly retryAttempts?: number;
}

/** Where the scheduler sends runs: an ECS task. */
export interface ScheduledJobEcsTarget {
  /** Cluster to run in. */
  readonly cluster: ecs.ICluster;
  /** Task definition of the job. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** Subnet IDs of the task. */
  readonly subnets: string[];
  /** Security group IDs of the task. */
  readonly securityGroups: string[];
  /**
   * Log group the task's container writes to: failed runs (JSON log lines with `"level": "ERROR"`)
   * are counted from it for the errors alarm.
   * @default - the job's log group
   */
  readonly logGroup?: logs.ILogGroup;
}

/**
 * Scheduler, dead-letter queue, scheduler role, log group and alarms of one scheduled job; the job's
 * code is a Lambda function or an ECS task given with `targetLambda` / `targetEcsTask`.
 */
export class ScheduledJob extends Construct {
  /**
   * The stack's customer-managed key (rotation on) for the logs and dead-letter queues of the backup
   * machinery, created on first use. CloudWatch Logs of this account and Region may use it.
   */
  public static operationsKey(scope: IConstruct): kms.IKey {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(OPERATIONS_KEY_ID) as kms.Key | undefined;
    if (existing) return existing;
    const key = BackupKey.create(stack, OPERATIONS_KEY_ID, {
      description: `cdk-backup-dr: encrypts the logs and dead-letter queues of the backup machinery of ${stack.stackName}`,
      // Retained like the log groups it encrypts (audit evidence).
      removalPolicy: RemovalPolicy.RETAIN,
    });
    allowLogsToUse(key);
    return key;
  }

  /**
   * A log group of the backup machinery: retention from the environment's `PolicyDefaults`
   * (`operationsLogRetention`), encrypted (the stack's operations key by default), retained on deletion.
   */
  public static logGroup(scope: Construct, id: string, environment: DeploymentEnvironment, key?: kms.IKey): logs.LogGroup {
    return new logs.LogGroup(scope, id, {
      retention: retentionDays(environment),
      encryptionKey: key ?? ScheduledJob.operationsKey(scope),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Dead-letter queue of runs the scheduler could not start (and of failed asynchronous Lambda invocations). */
  public readonly deadLetterQueue: sqs.Queue;
  /** Role EventBridge Scheduler assumes to start the job (trusts this account only). */
  public readonly schedulerRole: iam.Role;
  /** Log group of the job. */
  public readonly logGroup: logs.LogGroup;
  /** Key of the dead-letter queue and the log group. */
  public readonly encryptionKey: kms.IKey;
  /** Alarms of the job (failed runs, dead letters, and any added with `addAlarm`). */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly purpose: string;
  private readonly alarmTopic?: sns.ITopic;
  private readonly schedulerPolicy: iam.ManagedPolicy;
  private target?: scheduler.CfnSchedule.TargetProperty;

  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    this.purpose = props.purpose;
    this.alarmTopic = props.alarmTopic;
    this.encryptionKey = props.encryptionKey ?? ScheduledJob.operationsKey(this);
    if (props.encryptionKey) allowLogsToUse(props.encryptionKey);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // cdk-nag recognises dead-letter queues by redrive policies and Lambda DLQ settings, not by a scheduler target's DeadLetterConfig.
    NagAcknowledgements.acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the EventBridge Scheduler target (DeadLetterConfig), with an alarm on its messages');
    this.logGroup = ScheduledJob.logGroup(this, 'LogGroup', props.environment, this.encryptionKey);

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler: starts ${this.node.path}`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    this.schedulerPolicy = new iam.ManagedPolicy(this, 'SchedulerPolicy', {
      description: `cdk-backup-dr: EventBridge Scheduler starts the job (${this.node.path})`,
      roles: [this.schedulerRole],
      statements: [
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.encryptionKey.keyArn] }),
      ],
    });

    this.addAlarm('DeadLetterAlarm', {
      alarmDescription: `cdk-backup-dr: ${props.purpose} could not run (messages in the dead-letter queue of ${this.node.path})`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (!props.alarmTopic) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:alarms-without-action',
        `the alarms of ${props.purpose} have no action: nobody is notified when a run fails. Pass an alarm topic, or use a vault ` +
        'that has a notification topic (RecoveryVault, or RecoveryVault.fromVaultAttributes with notificationTopic)');
    }
  }

  /** The scheduler invokes `fn`; an alarm fires on its errors. */
  public targetLambda(fn: lambda.IFunction): void {
    this.setTarget({ arn: fn.functionArn, roleArn: this.schedulerRole.roleArn });
    this.schedulerPolicy.addStatements(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }));
    this.addErrorsAlarm(fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }), 'Lambda errors');
  }

  /**
   * The scheduler runs the task on Fargate; an alarm fires when the task logs a failed run
   * (a JSON line with `"level": "ERROR"`).
   */
  public targetEcsTask(target: ScheduledJobEcsTarget): void {
    const task = target.taskDefinition;
    inScope(this, () => {
      if (!task.isFargateCompatible) {
        throw new BackupDrConfigError(`taskDefinition ${task.node.path} is not Fargate-compatible, and the job runs it on Fargate; ` +
          'use ecs.FargateTaskDefinition (or Compatibility.EC2_AND_FARGATE)');
      }
      for (const [prop, list] of [['subnets', target.subnets], ['securityGroups', target.securityGroups]] as const) {
        if (!Token.isUnresolved(list) && list.length === 0) {
          throw new BackupDrConfigError(`${prop} is empty, but a Fargate task needs at least one; pass the ${prop} the task runs in`);
        }
      }
    });
    this.setTarget({
      arn: target.cluster.clusterArn,
      roleArn: this.schedulerRole.roleArn,
      ecsParameters: {
        taskDefinitionArn: task.taskDefinitionArn,
        launchType: 'FARGATE',
        networkConfiguration: {
          awsvpcConfiguration: { subnets: target.subnets, securityGroups: target.securityGroups, assignPublicIp: 'DISABLED' },
        },
      },
    });
    this.schedulerPolicy.addStatements(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [task.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': target.cluster.clusterArn } },
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [task.taskRole.roleArn, task.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    const metricName = `${Names.uniqueResourceName(this, { maxLength: 200 })}-Errors`;
    new logs.MetricFilter(this, 'ErrorsMetric', {
      logGroup: target.logGroup ?? this.logGroup,
      metricNamespace: JOBS_NAMESPACE,
      metricName,
      filterPattern: logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
      metricValue: '1',
    });
    this.addErrorsAlarm(new cloudwatch.Metric({
      namespace: JOBS_NAMESPACE, metricName, period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM,
    }), 'failed ECS task runs');
    // A task that stops before it can log (image pull failure, out of memory, a crash) is reported by ECS itself.
    if (this.alarmTopic) {
      new events.Rule(this, 'StoppedTaskRule', {
        description: `cdk-backup-dr: ${this.purpose} stopped with an error (${this.node.path})`.slice(0, 512),
        eventPattern: {
          source: ['aws.ecs'],
          detailType: ['ECS Task State Change'],
          detail: {
            lastStatus: ['STOPPED'],
            taskDefinitionArn: [task.taskDefinitionArn],
            containers: { exitCode: [{ 'anything-but': 0 }] },
          },
        },
        targets: [new targets.SnsTopic(this.alarmTopic)],
      });
    }
  }

  /** Add a schedule that starts the job's target. */
  public addSchedule(id: string, schedule: ScheduledJobSchedule): scheduler.CfnSchedule {
    if (!this.target) {
      throw new Error(`${this.node.path}: set the job's target (targetLambda / targetEcsTask) before adding schedules`);
    }
    let flexibleTimeWindow: scheduler.CfnSchedule.FlexibleTimeWindowProperty = { mode: 'OFF' };
    const window = schedule.flexibleWindow;
    const retries = schedule.retryAttempts ?? 0;
    inScope(this, () => {
      if (window) {
        const minutes = concreteMinutes(window, `flexibleWindow of schedule ${id}`);
        if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
          throw new BackupDrConfigError(`flexibleWindow of schedule ${id} is ${window.toHumanString()}; EventBridge Scheduler accepts ` +
            'whole minutes from 1 to 1,440: pass a Duration between Duration.minutes(1) and Duration.hours(24)');
        }
        flexibleTimeWindow = { mode: 'FLEXIBLE', maximumWindowInMinutes: minutes };
      }
      checkRange(retries, 0, 185, `retryAttempts of schedule ${id}`, 'EventBridge Scheduler retries a run 0 to 185 times');
      if (!Number.isInteger(retries)) throw new BackupDrConfigError(`retryAttempts of schedule ${id} is ${retries}, but must be a whole number`);
    });
    return new scheduler.CfnSchedule(this, id, {
      description: schedule.description.slice(0, 512),
      scheduleExpression: schedule.expression,
      scheduleExpressionTimezone: schedule.timezone ?? 'UTC',
      flexibleTimeWindow,
      state: 'ENABLED',
      target: {
        ...this.target,
        input: this.target.ecsParameters
          ? undefined
          : Stack.of(this).toJsonString({ ...schedule.input, scheduledTime: '<aws.scheduler.scheduled-time>' }),
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        retryPolicy: { maximumRetryAttempts: retries, maximumEventAgeInSeconds: Duration.hours(6).toSeconds() },
      },
    });
  }

  /** Add an alarm of the job; it notifies the job's topic. */
  public addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    if (this.alarmTopic) {
      allowCloudWatchToPublish(this.alarmTopic);
      alarm.addAlarmAction(new cw_actions.SnsAction(this.alarmTopic));
    }
    this.alarms.push(alarm);
    return alarm;
  }

  private setTarget(target: scheduler.CfnSchedule.TargetProperty) {
    if (this.target) throw new Error(`${this.node.path} already has a target`);
    this.target = target;
  }

  private addErrorsAlarm(metric: cloudwatch.IMetric, what: string) {
    this.addAlarm('ErrorsAlarm', {
      alarmDescription: `cdk-backup-dr: ${this.purpose} failed (${what} of ${this.node.path}); see the log group ${this.node.path}`,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** CloudWatch Logs of this account and Region may encrypt log groups with `key` (once per key). */
const keysForLogs = new WeakSet<kms.IKey>();
function allowLogsToUse(key: kms.IKey) {
  if (keysForLogs.has(key)) return;
  keysForLogs.add(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
    principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
    },
  }));
}

function retentionDays(environment: DeploymentEnvironment): logs.RetentionDays {
  const days = PolicyDefaults.of(environment).operationsLogRetention.toDays();
  if (!Object.values(logs.RetentionDays).includes(days)) {
    throw new BackupDrConfigError(`operationsLogRetention of ${environment} is ${days} days, which CloudWatch Logs does not accept; use one of logs.RetentionDays`);
  }
  return days as logs.RetentionDays;
}
