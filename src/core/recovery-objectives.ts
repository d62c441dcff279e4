import { Duration } from 'aws-cdk-lib';
import { checkDuration, requireProp } from './validation';

/**
 * Recovery objectives of a workload, the two numbers a disaster-recovery plan is judged by.
 */
export interface RecoveryObjectives {
  /**
   * Recovery Point Objective: the maximum acceptable amount of data loss, measured as time
   * between the last recovery point and the failure.
   *
   * The library derives the backup schedule from it so that the worst-case gap between two
   * recovery points (interval plus start window) never exceeds it, and switches to continuous
   * backup / point-in-time recovery when no schedule can.
   */
  readonly rpo: Duration;

  /**
   * Recovery Time Objective: the maximum acceptable time to restore service after a disruption.
   */
  readonly rto: Duration;
}

/**
 * Preset recovery objectives.
 *
 * | tier | RPO | RTO | typical method |
 * |---|---|---|---|
 * | CRITICAL | 15 minutes | 1 hour | continuous backup / PITR + daily snapshots |
 * | STANDARD | 24 hours | 8 hours | 12-hourly snapshots |
 * | ARCHIVE | 7 days | 72 hours | daily snapshots |
 */
export class RecoveryTier {
  /** RPO 15 minutes, RTO 1 hour: production data whose loss is expensive. */
  public static readonly CRITICAL: RecoveryObjectives = { rpo: Duration.minutes(15), rto: Duration.hours(1) };

  /** RPO 24 hours, RTO 8 hours: most business data. */
  public static readonly STANDARD: RecoveryObjectives = { rpo: Duration.hours(24), rto: Duration.hours(8) };

  /** RPO 7 days, RTO 72 hours: archives, samples and data that rarely changes. */
  public static readonly ARCHIVE: RecoveryObjectives = { rpo: Duration.days(7), rto: Duration.hours(72) };

  private constructor() {}
}

/**
 * @internal Checks the shape of declared objectives (a JavaScript caller can pass anything): an object
 * with an `rpo` and an `rto` Duration. Their values are checked by the derivation.
 */
export function checkObjectivesShape(objectives: RecoveryObjectives | undefined, prop = 'objectives'): RecoveryObjectives {
  requireProp(objectives, prop, 'declare the RPO and RTO, e.g. RecoveryTier.STANDARD or { rpo: Duration.hours(4), rto: Duration.hours(8) }');
  checkDuration(objectives!.rpo, `${prop}.rpo`, 'Duration.hours(4)');
  checkDuration(objectives!.rto, `${prop}.rto`, 'Duration.hours(8)');
  return objectives!;
}
