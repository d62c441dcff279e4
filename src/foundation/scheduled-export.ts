import * as path from 'path';
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { allowCloudWatchToPublish } from './alarm-topic';
import { BackupDrConfigError } from '../core/validation';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/*
 * Internal building block (not exported from the package entry point): the backup policy's
 * "customized periodical backup procedure ... a Lambda function can be used". One ScheduledExport per
 * protecting construct: a Lambda function (assets/scheduled-export) started by one EventBridge Scheduler
 * schedule per exported source, its role, a KMS-encrypted dead-letter queue and two alarms (function
 * errors, dead letters). Resources are O(1) per construct plus one schedule per source.
 *
 * IAM: every role created here gets customer-managed policies only (no inline policies, no AWS-managed
 * policies); source-specific statements are spread over managed policies of at most
 * MAX_RESOURCES_PER_POLICY ARNs each, so a construct with hundreds of sources stays under the IAM size
 * limits (6,144 characters per managed policy, 10 managed policies per role).
 */

/** Default export schedule: the 1st of every month, 06:00 UTC (after the derived backup rules' windows). */
export const DEFAULT_EXPORT_SCHEDULE = 'cron(0 6 1 * ? *)';

/** Logs of the backup machinery are audit evidence: one year. */
export const OPERATIONS_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/** ARNs per source-specific managed policy (~100 characters each, under the 6,144-character limit). */
export const MAX_RESOURCES_PER_POLICY = 40;

/** Managed policies per role (IAM default quota 10; one is the base policy). */
const MAX_SOURCE_POLICIES = 9;

const OPERATIONS_KEY_ID = 'BackupDrOperationsKey';

/** Options of one scheduled export. */
export interface ScheduledExportTarget {
  /** When to run. */
  readonly schedule: scheduler.ScheduleExpression;
  /**
   * Event passed to the handler (`kind`, source, bucket...). Tokens allowed. `scheduledTime` is set to
   * the scheduler's `<aws.scheduler.scheduled-time>` so retries resolve to the same month.
   */
  readonly event: Record<string, unknown>;
  /** Description of the schedule. */
  readonly description: string;
  /**
   * Flexible time window: the scheduler starts the run at a random time within it, spreading many
   * sources over time.
   * @default Duration.hours(1)
   */
  readonly flexibleWindow?: Duration;
}

/** Properties of a ScheduledExport. */
export interface ScheduledExportProps {
  /** What is exported (function description). */
  readonly purpose: string;
  /**
   * Topic that receives the alarms (function errors, dead letters).
   * @default - alarms without actions (a warning is added)
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * A scheduled export Lambda with its role, DLQ, alarms and schedules (internal to the library).
 */
export class ScheduledExport extends Construct {
  /**
   * The stack's customer-managed key (rotation on) for the backup machinery's logs and queues,
   * created on first use.
   */
  public static operationsKey(scope: IConstruct): kms.Key {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(OPERATIONS_KEY_ID) as kms.Key | undefined;
    if (existing) return existing;
    const key = new kms.Key(stack, OPERATIONS_KEY_ID, {
      description: `cdk-backup-dr: encrypts the logs and dead-letter queues of the backup machinery of ${stack.stackName}`,
      enableKeyRotation: true,
      // Retained like the log groups it encrypts (audit evidence).
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
      },
    }));
    return key;
  }

  /**
   * A log group for a backup-machinery function: one-year retention, encrypted with the stack's
   * operations key, retained on stack deletion.
   */
  public static logGroup(scope: Construct, id: string): logs.LogGroup {
    return new logs.LogGroup(scope, id, {
      retention: OPERATIONS_LOG_RETENTION,
      encryptionKey: ScheduledExport.operationsKey(scope),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The export function. */
  public readonly function: lambda.Function;
  /** Role of the export function (its policies are managed policies). */
  public readonly role: iam.Role;
  /** Dead-letter queue of the function's asynchronous invocations and of the schedules. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Alarm on function errors. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** Alarm on messages in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Role EventBridge Scheduler assumes to invoke the function. */
  public readonly schedulerRole: iam.Role;
  /** Number of schedules added. */
  public get scheduleCount(): number {
    return this.schedules;
  }

  /** Managed policy with the statements that do not depend on the sources. */
  public readonly basePolicy: iam.ManagedPolicy;
  private readonly sourcePolicies: Array<{ policy: iam.ManagedPolicy; resources: number; statements: Map<string, iam.PolicyStatement> }> = [];
  private schedules = 0;

  constructor(scope: Construct, id: string, props: ScheduledExportProps) {
    super(scope, id);
    const key = ScheduledExport.operationsKey(this);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const logGroup = ScheduledExport.logGroup(this, 'LogGroup');
    this.role = new iam.Role(this, 'Role', {
      description: `cdk-backup-dr scheduled export function (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    this.basePolicy = new iam.ManagedPolicy(this, 'BasePolicy', {
      description: `cdk-backup-dr scheduled export: logs and dead-letter queue (${this.node.path})`,
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
      ],
    });

    this.function = new lambda.Function(this, 'Function', {
      description: `cdk-backup-dr: ${props.purpose}`.slice(0, 256),
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', 'scheduled-export')),
      timeout: Duration.minutes(2),
      memorySize: 256,
      // Permissions come from the managed policies only: no inline DefaultPolicy.
      role: this.role.withoutPolicyUpdates(),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Exports are started one at a time (RDS allows 5 concurrent export tasks per account); throttled
      // asynchronous invocations are retried by Lambda for up to maxEventAge.
      reservedConcurrentExecutions: 2,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    this.function.node.addDependency(this.basePolicy);

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler: invokes ${this.node.path}`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    new iam.ManagedPolicy(this, 'SchedulerPolicy', {
      description: `cdk-backup-dr: EventBridge Scheduler invokes the export function (${this.node.path})`,
      roles: [this.schedulerRole],
      statements: [
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
      ],
    });

    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `cdk-backup-dr: ${props.purpose} failed (Lambda errors of ${this.node.path}); see the function's log group`,
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `cdk-backup-dr: ${props.purpose} could not run (messages in the dead-letter queue of ${this.node.path})`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      allowCloudWatchToPublish(props.alarmTopic);
      for (const alarm of [this.errorsAlarm, this.deadLetterAlarm]) {
        alarm.addAlarmAction(new cw_actions.SnsAction(props.alarmTopic));
      }
    }

    for (const pack of ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321']) {
      NagAcknowledgements.acknowledge(this.function, `${pack}-LambdaInsideVPC`,
        'The function only calls AWS control-plane APIs (RDS StartExportTask, DynamoDB ExportTableToPointInTime) and never touches ' +
        'the data; a VPC would add NAT or endpoints without protecting anything');
    }
  }

  /** Add statements that do not depend on the number of sources (kept in the base policy). */
  public addToBasePolicy(...statements: iam.PolicyStatement[]): void {
    this.basePolicy.addStatements(...statements);
  }

  /**
   * Allow `actions` on source-specific `resources`, spreading the ARNs over managed policies of at most
   * MAX_RESOURCES_PER_POLICY ARNs.
   */
  public grantOnSources(actions: string[], resources: string[], wildcardReason?: string): void {
    for (const arn of resources) {
      let current = this.sourcePolicies[this.sourcePolicies.length - 1];
      if (!current || current.resources >= MAX_RESOURCES_PER_POLICY) {
        if (this.sourcePolicies.length >= MAX_SOURCE_POLICIES) {
          throw new BackupDrConfigError(
            `${this.node.path} would need more than ${MAX_SOURCE_POLICIES * MAX_RESOURCES_PER_POLICY} source ARNs in its IAM policies ` +
            `(IAM allows ${MAX_SOURCE_POLICIES + 1} managed policies per role); split the exported sources over several constructs`,
          );
        }
        const policy = new iam.ManagedPolicy(this, `SourcePolicy${this.sourcePolicies.length + 1}`, {
          description: `cdk-backup-dr scheduled export: source permissions (${this.node.path})`,
          roles: [this.role],
        });
        this.function.node.addDependency(policy);
        current = { policy, resources: 0, statements: new Map() };
        this.sourcePolicies.push(current);
      }
      // One statement per action set and policy, whatever '@aws-cdk/aws-iam:minimizePolicies' says.
      const key = actions.join(',');
      const statement = current.statements.get(key);
      if (statement) {
        statement.addResources(arn);
      } else {
        const created = new iam.PolicyStatement({ actions, resources: [arn] });
        current.statements.set(key, created);
        current.policy.addStatements(created);
      }
      if (wildcardReason) NagAcknowledgements.acknowledgeWildcards(current.policy, [], [arn], wildcardReason);
      current.resources++;
    }
  }

  /** Add a schedule that invokes the function with `target.event`. */
  public addSchedule(id: string, target: ScheduledExportTarget): scheduler.CfnSchedule {
    this.schedules++;
    const window = target.flexibleWindow ?? Duration.hours(1);
    const windowMinutes = window.toMinutes();
    if (windowMinutes < 1 || windowMinutes > 1440) {
      throw new BackupDrConfigError(`flexible window of ${id} is ${window.toHumanString()}; EventBridge Scheduler accepts 1 to 1,440 minutes`);
    }
    return new scheduler.CfnSchedule(this, id, {
      description: target.description.slice(0, 512),
      scheduleExpression: target.schedule.expressionString,
      scheduleExpressionTimezone: target.schedule.timeZone?.timezoneName ?? 'UTC',
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: windowMinutes },
      state: 'ENABLED',
      target: {
        arn: this.function.functionArn,
        roleArn: this.schedulerRole.roleArn,
        input: Stack.of(this).toJsonString({ ...target.event, scheduledTime: '<aws.scheduler.scheduled-time>' }),
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: Duration.hours(6).toSeconds() },
      },
    });
  }
}
