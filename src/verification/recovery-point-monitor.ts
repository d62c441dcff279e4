import { Aws, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { VERIFICATION_NAMESPACE, VerifiedResourceType } from './verification-constants';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError, concreteMinutes } from '../core/validation';
import { handlerFunction } from '../foundation/handler-function';
import { ScheduledJob } from '../foundation/scheduled-job';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';
import { COMPLIANCE_NAG_PACKS } from '../nag/nag-packs';

const MONITOR_ID = 'BackupDrRecoveryPointMonitor';
/** Monitor runs at least every 5 minutes and at most every 6 hours. */
const MIN_INTERVAL_MINUTES = 5;
const MAX_INTERVAL_MINUTES = 6 * 60;

/** @internal What a policy adds to the monitor. */
export interface MonitoredPolicy {
  readonly name: string;
  readonly rpo: Duration;
  readonly environment: DeploymentEnvironment;
  readonly alarmTopic?: sns.ITopic;
}

interface PolicyEntry {
  readonly name: string;
  readonly rpoMinutes: number;
  readonly nativeKinds: Set<VerifiedResourceType>;
  readonly explicitArns: string[];
  readonly alarm: cloudwatch.Alarm;
}

/**
 * The stack's recovery-point age monitor (one per stack, created on first registration): a Lambda
 * function started by EventBridge Scheduler once per policy, every third of the policy's RPO (5 minutes
 * to 6 hours). It publishes `RecoveryPointAgeSeconds` (namespace `CdkBackupDr/Verification`) per
 * resource and per policy; each policy has an alarm when the age exceeds its RPO for two runs in a row,
 * missing data breaching (no run, or a resource without any recovery point).
 */
export class RecoveryPointMonitor extends Construct {
  /** The monitor of the stack containing `scope`, created on first use. */
  public static of(scope: IConstruct, environment: DeploymentEnvironment, alarmTopic?: sns.ITopic): RecoveryPointMonitor {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(MONITOR_ID) as RecoveryPointMonitor | undefined)
      ?? new RecoveryPointMonitor(stack, MONITOR_ID, environment, alarmTopic);
  }

  /** The monitor of the stack containing `scope`, if any construct registered one. */
  public static find(scope: IConstruct): RecoveryPointMonitor | undefined {
    return Stack.of(scope).node.tryFindChild(MONITOR_ID) as RecoveryPointMonitor | undefined;
  }

  /** The monitor function. */
  public readonly function: lambda.Function;
  /** Schedules, dead-letter queue, log group and alarms. */
  private readonly job: ScheduledJob;
  private readonly policies = new Map<string, PolicyEntry>();

  private constructor(scope: Construct, id: string, environment: DeploymentEnvironment, alarmTopic?: sns.ITopic) {
    super(scope, id);
    this.job = new ScheduledJob(this, 'Job', {
      purpose: `recovery-point age monitor (${Stack.of(this).stackName})`,
      environment,
      alarmTopic,
    });
    const role = new iam.Role(this, 'Role', {
      description: `cdk-backup-dr recovery-point age monitor (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'cdk-backup-dr recovery-point monitor: read-only AWS Backup, DynamoDB and RDS calls, metrics in its own namespace',
      roles: [role],
      statements: monitorStatements(this.job),
    });
    NagAcknowledgements.acknowledgeWildcards(policy, [], ['*', ...nativeResources()],
      'Read-only: ListProtectedResources, ListRecoveryPointsByResource and tag:GetResources have no resource-level permissions; ' +
      'DescribeContinuousBackups / DescribeDBInstances / DescribeDBClusters only read the latest restorable time of tables and ' +
      'databases found by tag at run time; PutMetricData is limited to the CdkBackupDr/Verification namespace by condition');

    this.function = handlerFunction(this, 'Function', {
      description: 'cdk-backup-dr: publishes the age of the newest recovery point of every protected resource (RecoveryPointAgeSeconds)',
      asset: 'recovery-point-monitor',
      timeout: Duration.minutes(5),
      role: role,
      policies: [policy],
      logGroup: this.job.logGroup,
      // The scheduler retries runs it cannot start; a failed run is reported by the errors alarm, the next run retries.
      retryAttempts: 0,
    });
    this.job.targetLambda(this.function);
    for (const pack of COMPLIANCE_NAG_PACKS) {
      NagAcknowledgements.acknowledge(this.function, `${pack}-LambdaInsideVPC`,
        'The monitor only calls AWS control-plane APIs (AWS Backup, DynamoDB/RDS describe, CloudWatch) and never touches data; ' +
        'a VPC would add NAT or endpoints without protecting anything');
      NagAcknowledgements.acknowledge(this.function, `${pack}-LambdaConcurrency`,
        'One run per policy and schedule; concurrency stays at the number of policies of the stack');
      NagAcknowledgements.acknowledge(this.function, `${pack}-LambdaDLQ`,
        'Runs are started by EventBridge Scheduler, whose target has a dead-letter queue (with an alarm); failed runs raise the errors alarm');
    }
  }

  /** Number of policies monitored. */
  public get policyCount(): number {
    return this.policies.size;
  }

  /** The age alarm of a policy. */
  public alarmOf(policyName: string): cloudwatch.IAlarm | undefined {
    return this.policies.get(policyName)?.alarm;
  }

  /** @internal Monitor a policy (idempotent per name); explicit ARNs are for resources that carry no policy tag. */
  public _addPolicy(p: MonitoredPolicy, nativeKind: VerifiedResourceType | undefined, explicitArns: string[]): void {
    let entry = this.policies.get(p.name);
    const rpoMinutes = concreteMinutes(p.rpo, 'objectives.rpo');
    if (!entry) {
      const interval = Math.min(MAX_INTERVAL_MINUTES, Math.max(MIN_INTERVAL_MINUTES, Math.floor(rpoMinutes / 3)));
      const index = this.policies.size + 1;
      const native = new Set<VerifiedResourceType>();
      const arns: string[] = [];
      this.job.addSchedule(`Policy${index}Schedule`, {
        expression: `rate(${interval} minutes)`,
        description: `cdk-backup-dr: recovery-point age of policy ${p.name} (RPO ${p.rpo.toHumanString()})`,
        input: {
          policy: p.name,
          rpoSeconds: Math.round(rpoMinutes * 60),
          nativeKinds: Lazy.list({ produce: () => [...native].sort() }, { omitEmpty: false }),
          resources: Lazy.list({ produce: () => arns }, { omitEmpty: false }),
        },
        retryAttempts: 2,
      });
      const metric = new cloudwatch.Metric({
        namespace: VERIFICATION_NAMESPACE,
        metricName: 'RecoveryPointAgeSeconds',
        dimensionsMap: { Policy: p.name },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(interval),
      });
      const alarm = this.job.addAlarm(`Policy${index}AgeAlarm`, {
        alarmDescription: `cdk-backup-dr: the newest recovery point of a resource of policy ${p.name} is older than its RPO of ` +
          `${p.rpo.toHumanString()}, a resource has no recovery point, or the monitor did not run (missing data). ` +
          `See the RecoveryPointAgeSeconds metrics (Policy=${p.name}, per Resource) and the monitor's log group`,
        metric,
        threshold: Math.round(rpoMinutes * 60),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      entry = { name: p.name, rpoMinutes, nativeKinds: native, explicitArns: arns, alarm };
      this.policies.set(p.name, entry);
    } else if (entry.rpoMinutes !== rpoMinutes) {
      throw new BackupDrConfigError(`policy ${p.name} is registered with two RPOs (${entry.rpoMinutes} and ${rpoMinutes} minutes); give each objectives its own policyName`);
    }
    if (nativeKind) entry.nativeKinds.add(nativeKind);
    entry.explicitArns.push(...explicitArns);
  }
}

function nativeResources(): string[] {
  return [
    `arn:${Aws.PARTITION}:dynamodb:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/*`,
    `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:*`,
    `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:*`,
  ];
}

function monitorStatements(job: ScheduledJob): iam.PolicyStatement[] {
  const [tables, instances, clusters] = nativeResources();
  return [
    new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [job.logGroup.logGroupArn] }),
    // Read-only AWS Backup listings and the tag lookup (no resource-level permissions).
    new iam.PolicyStatement({ actions: ['backup:ListProtectedResources', 'backup:ListRecoveryPointsByResource', 'tag:GetResources'], resources: ['*'] }),
    new iam.PolicyStatement({ actions: ['dynamodb:DescribeContinuousBackups'], resources: [tables] }),
    new iam.PolicyStatement({ actions: ['rds:DescribeDBInstances'], resources: [instances] }),
    new iam.PolicyStatement({ actions: ['rds:DescribeDBClusters'], resources: [clusters] }),
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': VERIFICATION_NAMESPACE } },
    }),
  ];
}
