import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { handlerFunction } from './handler-function';
import { ScheduledJob } from './scheduled-job';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError } from '../core/validation';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';
import { COMPLIANCE_NAG_PACKS } from '../nag/nag-packs';

/*
 * Internal building block (not exported from the package entry point): the backup policy's
 * "customized periodical backup procedure ... a Lambda function can be used". One ScheduledExport per
 * protecting construct: a Lambda function (assets/scheduled-export) started by one EventBridge Scheduler
 * schedule per exported source through a ScheduledJob (scheduler role, dead-letter queue, log group,
 * alarms). Resources are O(1) per construct plus one schedule per source.
 *
 * IAM: every role created here gets customer-managed policies only (no inline policies, no AWS-managed
 * policies); source-specific statements are spread over managed policies of at most
 * MAX_RESOURCES_PER_POLICY ARNs each, so a construct with hundreds of sources stays under the IAM size
 * limits (6,144 characters per managed policy, 10 managed policies per role).
 */

/** Default export schedule: the 1st of every month, 06:00 UTC (after the derived backup rules' windows). */
export const DEFAULT_EXPORT_SCHEDULE = 'cron(0 6 1 * ? *)';

/** ARNs per source-specific managed policy (~100 characters each, under the 6,144-character limit). */
export const MAX_RESOURCES_PER_POLICY = 40;

/** Managed policies per role (IAM default quota 10; one is the base policy). */
const MAX_SOURCE_POLICIES = 9;

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
  /** Environment of the exported sources (log retention). */
  readonly environment: DeploymentEnvironment;
  /**
   * Topic that receives the alarms (function errors, dead letters).
   * @default - alarms without actions, and a synth warning that says so
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * A scheduled export Lambda with its role, DLQ, alarms and schedules (internal to the library).
 */
export class ScheduledExport extends Construct {
  /** The export function. */
  public readonly function: lambda.Function;
  /** Role of the export function (its policies are managed policies). */
  public readonly role: iam.Role;
  /** Scheduler, dead-letter queue, log group and alarms. */
  public readonly job: ScheduledJob;
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
    this.job = new ScheduledJob(this, 'Job', { purpose: props.purpose, environment: props.environment, alarmTopic: props.alarmTopic });
    const { deadLetterQueue, logGroup, encryptionKey } = this.job;

    this.role = new iam.Role(this, 'Role', {
      description: `cdk-backup-dr scheduled export function (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    this.basePolicy = new iam.ManagedPolicy(this, 'BasePolicy', {
      description: `cdk-backup-dr scheduled export: logs and dead-letter queue (${this.node.path})`,
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [deadLetterQueue.queueArn] }),
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [encryptionKey.keyArn] }),
      ],
    });

    this.function = handlerFunction(this, 'Function', {
      description: `cdk-backup-dr: ${props.purpose}`.slice(0, 256),
      asset: 'scheduled-export',
      timeout: Duration.minutes(2),
      role: this.role,
      policies: [this.basePolicy],
      logGroup,
      // Exports are started one at a time (RDS allows 5 concurrent export tasks per account); throttled
      // asynchronous invocations are retried by Lambda for up to maxEventAge.
      reservedConcurrentExecutions: 2,
      deadLetterQueue,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    this.job.targetLambda(this.function);

    for (const pack of COMPLIANCE_NAG_PACKS) {
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
    return this.job.addSchedule(id, {
      expression: target.schedule.expressionString,
      timezone: target.schedule.timeZone?.timezoneName,
      description: target.description,
      input: target.event,
      flexibleWindow: target.flexibleWindow ?? Duration.hours(1),
      retryAttempts: 3,
    });
  }
}
