import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError, concreteMinutes, inScope } from '../core/validation';
import { ScheduledJob } from '../foundation/scheduled-job';

const DEFAULT_DRILL_SCHEDULES: Record<DeploymentEnvironment, string> = {
  [DeploymentEnvironment.PRO]: 'cron(0 3 ? * SAT *)',
  [DeploymentEnvironment.QA]: 'cron(0 3 ? * SAT#1 *)',
  [DeploymentEnvironment.DEV]: 'cron(0 3 ? * SAT#1 *)',
};

/** Properties of a RestoreDrill. */
export interface RestoreDrillProps {
  /** What is drilled, for descriptions and alarm texts. */
  readonly purpose: string;
  /** Environment (log retention, default schedule). */
  readonly environment: DeploymentEnvironment;
  /** The RTO the drill's duration is held against. */
  readonly rto: Duration;
  /** Cluster the drill task runs in. */
  readonly cluster: ecs.ICluster;
  /** Task definition whose container runs the drill (e.g. the dump image with the command `drill`). */
  readonly taskDefinition: ecs.TaskDefinition;
  /** Subnets of the task. */
  readonly subnets: string[];
  /** Security groups of the task. */
  readonly securityGroups: string[];
  /** Namespace of the drill's metrics (DrillDurationSeconds, DrillSuccess). */
  readonly metricsNamespace: string;
  /** Dimensions of the drill's metrics, e.g. `{ BackupJob, Environment }`. */
  readonly dimensions: Record<string, string>;
  /**
   * When the drill runs (EventBridge Scheduler expression, UTC).
   * @default - PRO weekly, Saturday 03:00 UTC; QA and DEV the first Saturday of each month
   */
  readonly schedule?: string;
  /**
   * Topic the alarms notify.
   * @default - none (a warning is added)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Turn the drill's JSON log line into its metrics with log metric filters on `logGroup`, for a task
   * whose container logs with the awslogs driver (which does not extract CloudWatch embedded metrics):
   * `DrillDurationSeconds` and `DrillSuccess` in `metricsNamespace`, with the keys of `dimensions` as
   * dimensions whose values are read from the JSON fields of the same names (at most 3, a CloudWatch
   * Logs limit). The container must log to `RestoreDrill.logGroup`.
   * @default false - the task publishes the metrics itself (PutMetricData, or a CloudWatch agent sidecar)
   */
  readonly metricsFromLogs?: boolean;
}

/** Names of the drill's metrics (the dump image's `drill` mode publishes them, see drillEmf). */
const DRILL_METRICS = [
  { metricName: 'DrillDurationSeconds', unit: cloudwatch.Unit.SECONDS },
  { metricName: 'DrillSuccess', unit: cloudwatch.Unit.COUNT },
] as const;

/**
 * A scheduled restore drill run as an ECS task (the shared `ScheduledJob`: schedule, dead-letter queue,
 * failed-run alarm), with two alarms: the drill took longer than the RTO (`DrillDurationSeconds`), and
 * the drill failed (`DrillSuccess` below 1).
 */
export class RestoreDrill extends Construct {
  /** Schedule, dead-letter queue, log group and alarms. */
  private readonly job: ScheduledJob;
  /** Log group of the drill: the task's container should write to it (failed runs and `metricsFromLogs` read it). */
  public readonly logGroup: logs.ILogGroup;
  /** Alarm: the drill took longer than the RTO. */
  public readonly rtoAlarm: cloudwatch.Alarm;
  /** Alarm: the drill failed. */
  public readonly failureAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RestoreDrillProps) {
    super(scope, id);
    const rtoSeconds = inScope(this, () => {
      const minutes = concreteMinutes(props.rto, 'objectives.rto');
      if (minutes <= 0) throw new BackupDrConfigError(`objectives.rto is ${props.rto.toHumanString()}; a drill needs a positive RTO`);
      const keys = Object.keys(props.dimensions ?? {});
      if (props.metricsFromLogs && keys.length > 3) {
        throw new BackupDrConfigError(`dimensions has ${keys.length} keys (${keys.join(', ')}), but a log metric filter (metricsFromLogs) ` +
          'publishes at most 3 dimensions; pass at most 3, e.g. { BackupJob, Environment }');
      }
      return Math.round(minutes * 60);
    });
    this.job = new ScheduledJob(this, 'Job', { purpose: props.purpose, environment: props.environment, alarmTopic: props.alarmTopic });
    this.logGroup = this.job.logGroup;
    this.job.targetEcsTask({
      cluster: props.cluster, taskDefinition: props.taskDefinition, subnets: props.subnets, securityGroups: props.securityGroups,
    });
    this.job.addSchedule('Schedule', {
      expression: props.schedule ?? DEFAULT_DRILL_SCHEDULES[props.environment],
      description: `cdk-backup-dr: ${props.purpose}`,
      flexibleWindow: Duration.hours(1),
    });
    const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: props.metricsNamespace, metricName, dimensionsMap: props.dimensions, statistic, period: Duration.hours(6),
    });
    if (props.metricsFromLogs) {
      // The same namespace, names and dimension keys as the alarms' metrics below: one source for both.
      const dimensions = Object.fromEntries(Object.keys(props.dimensions).map((k) => [k, `$.${k}`]));
      for (const { metricName, unit } of DRILL_METRICS) {
        new logs.MetricFilter(this, `${metricName}Metric`, {
          logGroup: this.logGroup,
          metricNamespace: props.metricsNamespace,
          metricName,
          // A numeric comparison: both values are numbers (a quoted "*" wildcard is a string match).
          filterPattern: logs.FilterPattern.numberValue(`$.${metricName}`, '>=', 0),
          metricValue: `$.${metricName}`,
          dimensions,
          unit,
        });
      }
    }
    this.rtoAlarm = this.job.addAlarm('RtoAlarm', {
      alarmDescription: `cdk-backup-dr: ${props.purpose} took longer than the RTO of ${props.rto.toHumanString()} (DrillDurationSeconds)`,
      metric: metric('DrillDurationSeconds', cloudwatch.Stats.MAXIMUM),
      threshold: rtoSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureAlarm = this.job.addAlarm('FailureAlarm', {
      alarmDescription: `cdk-backup-dr: ${props.purpose} failed (a dump without manifest, a checksum mismatch, a failed restore or different row counts); see the task's log`,
      metric: metric('DrillSuccess', cloudwatch.Stats.MINIMUM),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
