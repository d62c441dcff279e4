import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
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
}

/**
 * A scheduled restore drill run as an ECS task (the shared `ScheduledJob`: schedule, dead-letter queue,
 * failed-run alarm), with two alarms: the drill took longer than the RTO (`DrillDurationSeconds`), and
 * the drill failed (`DrillSuccess` below 1).
 */
export class RestoreDrill extends Construct {
  /** Schedule, dead-letter queue, log group and alarms. */
  private readonly job: ScheduledJob;
  /** Alarm: the drill took longer than the RTO. */
  public readonly rtoAlarm: cloudwatch.Alarm;
  /** Alarm: the drill failed. */
  public readonly failureAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RestoreDrillProps) {
    super(scope, id);
    const rtoSeconds = inScope(this, () => {
      const minutes = concreteMinutes(props.rto, 'objectives.rto');
      if (minutes <= 0) throw new BackupDrConfigError(`objectives.rto is ${props.rto.toHumanString()}; a drill needs a positive RTO`);
      return Math.round(minutes * 60);
    });
    this.job = new ScheduledJob(this, 'Job', { purpose: props.purpose, environment: props.environment, alarmTopic: props.alarmTopic });
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
