import { Duration } from 'aws-cdk-lib';
import { BackupContent } from './content';
import { DeploymentEnvironment } from './environment';
import { RecoveryObjectives } from './recovery-objectives';
import { PolicyDefaults, RetentionOptions } from './retention';
import { BackupDrConfigError, checkRange, concreteDays, concreteMinutes } from './validation';

/** How a resource type can keep point-in-time (continuous) recovery data. */
export enum ContinuousBackupSupport {
  /** AWS Backup continuous backup (RDS, Aurora, S3): a continuous rule in the plan. */
  AWS_BACKUP = 'AWS_BACKUP',
  /** Native point-in-time recovery enabled on the resource itself (DynamoDB PITR). */
  NATIVE = 'NATIVE',
  /** No point-in-time recovery: only scheduled recovery points. */
  NONE = 'NONE',
}

/** The role a derived rule plays in the policy. */
export enum BackupRuleKind {
  /** Scheduled recovery points whose interval meets the RPO. */
  ROUTINE = 'ROUTINE',
  /** Continuous backup (point-in-time recovery) for RPOs no schedule can meet. */
  CONTINUOUS = 'CONTINUOUS',
  /** The policy's updated monthly sample of current data. */
  MONTHLY_SAMPLE = 'MONTHLY_SAMPLE',
  /** The policy's updated yearly sample of current data. */
  YEARLY_SAMPLE = 'YEARLY_SAMPLE',
  /** The single copy kept of historical data. */
  SINGLE_COPY = 'SINGLE_COPY',
}

/** Input of the derivation. */
export interface BackupPolicyInput {
  /** Declared RPO and RTO. */
  readonly objectives: RecoveryObjectives;
  /** Environment whose defaults apply. */
  readonly environment: DeploymentEnvironment;
  /**
   * Content class.
   * @default BackupContent.CURRENT_DATA
   */
  readonly content?: BackupContent;
  /**
   * Overrides of the environment's retention defaults.
   * @default - the environment's defaults
   */
  readonly retention?: RetentionOptions;
  /**
   * How the resource type supports point-in-time recovery.
   * @default ContinuousBackupSupport.AWS_BACKUP
   */
  readonly continuousBackup?: ContinuousBackupSupport;
  /**
   * The smallest RPO that continuous backup / PITR achieves for this resource type
   * (how far the latest restorable time may lag behind).
   * @default Duration.minutes(5)
   */
  readonly minimumContinuousRpo?: Duration;
  /**
   * Whether the resource type can move recovery points to cold storage in AWS Backup
   * (DynamoDB with advanced features, EFS, ...). When false, samples stay warm.
   * @default false
   */
  readonly coldStorageSupported?: boolean;
}

/** One AWS Backup rule derived from the objectives. */
export interface DerivedBackupRule {
  /** Rule name, unique within the plan. */
  readonly ruleName: string;
  /** Role of the rule in the policy. */
  readonly kind: BackupRuleKind;
  /** AWS Backup schedule expression (UTC). */
  readonly scheduleExpression: string;
  /** Nominal interval between two recovery points of this rule. */
  readonly interval: Duration;
  /** Start window (always explicit: it adds to the worst-case RPO). */
  readonly startWindow: Duration;
  /** Completion window. */
  readonly completionWindow: Duration;
  /** Retention of the recovery points. */
  readonly deleteAfter: Duration;
  /**
   * Cold-storage transition.
   * @default - stays warm
   */
  readonly moveToColdStorageAfter?: Duration;
  /** Whether the rule is an AWS Backup continuous-backup rule. */
  readonly enableContinuousBackup: boolean;
}

/** Result of the derivation. */
export interface DerivedBackupPolicy {
  /** The rules, in a stable order. */
  readonly rules: DerivedBackupRule[];
  /** Worst-case data loss of the derived policy (never more than the declared RPO). */
  readonly worstCaseRpo: Duration;
  /** Whether the resource must have native point-in-time recovery enabled to meet the RPO. */
  readonly requiresNativePointInTimeRecovery: boolean;
  /** Recovery window for native point-in-time recovery / continuous backup, 1–35 days. */
  readonly pointInTimeRecoveryDays: number;
  /** Human-readable periodicity for the inventory (e.g. "every 12 hours; monthly sample; yearly sample"). */
  readonly periodicity: string;
  /** Canonical key of the rule set: equal keys mean one shared backup plan. */
  readonly key: string;
}

/** Input of `BackupPolicyDerivation.deriveJobSchedule`. */
export interface JobScheduleInput {
  /** Declared RPO and RTO. */
  readonly objectives: RecoveryObjectives;
  /**
   * Shortest interval the job can run at.
   * @default Duration.minutes(15)
   */
  readonly minimumInterval?: Duration;
  /**
   * Largest RPO the job supports (e.g. what its monitoring can look back).
   * @default - no maximum
   */
  readonly maximumRpo?: Duration;
  /**
   * Why `maximumRpo` exists, for the error message.
   * @default 'its monitoring window'
   */
  readonly maximumRpoReason?: string;
}

/** A scheduled job's derived schedule. */
export interface DerivedJobSchedule {
  /** Interval between two runs (never more than the RPO). */
  readonly interval: Duration;
  /** EventBridge Scheduler expression (`rate(...)`). */
  readonly expression: string;
  /** Human-readable periodicity ("every 4 hours", "daily"). */
  readonly label: string;
}

/** AWS Backup limits and the library's fixed windows. */
const START_WINDOW_MINUTES = 60; // the minimum AWS Backup accepts when the window is set
const MAX_RETENTION_DAYS = 36_500; // 100 years
const MAX_CONTINUOUS_DAYS = 35;
const MIN_COLD_STORAGE_DAYS = 90; // DeleteAfterDays >= MoveToColdStorageAfterDays + 90
const MIN_RTO_MINUTES = 15;
const HOUR = 60;
const DAY = 24 * HOUR;

interface Cadence { readonly minutes: number; readonly cron: string; readonly label: string; readonly name: string }

/** Schedules AWS Backup can run, shortest first (snapshots run at most hourly). */
const CADENCES: Cadence[] = [
  ...[1, 2, 3, 4, 6, 8, 12].map((h) => ({
    minutes: h * HOUR,
    cron: h === 1 ? 'cron(0 * * * ? *)' : `cron(0 0/${h} * * ? *)`,
    label: h === 1 ? 'hourly' : `every ${h} hours`,
    name: h === 1 ? 'Hourly' : `Every${h}h`,
  })),
  { minutes: DAY, cron: 'cron(0 3 * * ? *)', label: 'daily', name: 'Daily' },
  { minutes: 7 * DAY, cron: 'cron(0 3 ? * SUN *)', label: 'weekly', name: 'Weekly' },
  { minutes: 31 * DAY, cron: 'cron(0 3 1 * ? *)', label: 'monthly', name: 'Monthly' },
];
/** Scheduled jobs (EventBridge Scheduler) also run every 15 and 30 minutes; monthly is left to AWS Backup. */
const JOB_CADENCES: Cadence[] = [
  { minutes: 15, cron: '', label: 'every 15 minutes', name: 'Every15m' },
  { minutes: 30, cron: '', label: 'every 30 minutes', name: 'Every30m' },
  ...CADENCES.filter((c) => c.minutes <= 7 * DAY),
];
const MONTHLY_SAMPLE_CRON = 'cron(0 4 1 * ? *)';
const YEARLY_SAMPLE_CRON = 'cron(0 5 1 1 ? *)';

/**
 * Derives AWS Backup rules from recovery objectives, environment and content class.
 * Pure: the same input always yields the same rules and key.
 */
export class BackupPolicyDerivation {
  /**
   * Derive the rules. Throws a descriptive error when no supported method can meet the objectives
   * or a retention value is outside what AWS Backup accepts.
   */
  public static derive(input: BackupPolicyInput): DerivedBackupPolicy {
    const content = input.content ?? BackupContent.CURRENT_DATA;
    const continuous = input.continuousBackup ?? ContinuousBackupSupport.AWS_BACKUP;
    const { rpo } = checkObjectives(input.objectives);
    const minContinuous = concreteMinutes(input.minimumContinuousRpo ?? Duration.minutes(5), 'minimumContinuousRpo');
    const r = PolicyDefaults.resolve(input.environment, input.retention);
    const routineDays = concreteDays(r.routine, 'retention.routine');
    checkRange(routineDays, 1, MAX_RETENTION_DAYS, 'retention.routine (days)', 'AWS Backup keeps recovery points 1 day to 100 years');
    checkRange(r.previousVersions, 0, 1000, 'retention.previousVersions', 'keep between 0 and 1000 previous versions');
    if (!Number.isInteger(r.previousVersions)) {
      throw new BackupDrConfigError(`retention.previousVersions is ${r.previousVersions}, but must be a whole number`);
    }

    const scheduled = CADENCES.filter((c) => c.minutes + START_WINDOW_MINUTES <= rpo).pop();
    const rules: DerivedBackupRule[] = [];
    let worstCase: number;
    let nativePitr = false;
    const pitrDays = Math.min(routineDays, MAX_CONTINUOUS_DAYS);

    if (content === BackupContent.HISTORICAL_DATA) {
      // A single archived copy: the next copy replaces the previous one once it is complete.
      const c = scheduled ?? needScheduled(input, rpo);
      const completion = completionWindow(c.minutes);
      rules.push(rule('SingleCopy', BackupRuleKind.SINGLE_COPY, c, Math.max(1, Math.ceil((c.minutes + completion) / DAY))));
      worstCase = c.minutes + START_WINDOW_MINUTES;
    } else if (content === BackupContent.CODE || content === BackupContent.DOCUMENTATION) {
      // Latest version plus a bounded number of previous versions.
      const c = scheduled ?? needScheduled(input, rpo);
      const keepDays = Math.max(1, Math.ceil((c.minutes * (r.previousVersions + 1) + completionWindow(c.minutes)) / DAY));
      rules.push(rule(`Latest${c.name}`, BackupRuleKind.ROUTINE, c, keepDays));
      worstCase = c.minutes + START_WINDOW_MINUTES;
    } else {
      if (scheduled) {
        // Keep at least two recovery points, whatever the environment's retention.
        const keepDays = Math.max(routineDays, Math.ceil((2 * scheduled.minutes) / DAY));
        rules.push(rule(`Routine${scheduled.name}`, BackupRuleKind.ROUTINE, scheduled, keepDays));
        worstCase = scheduled.minutes + START_WINDOW_MINUTES;
      } else {
        if (continuous === ContinuousBackupSupport.NONE) {
          throw new BackupDrConfigError(
            `objectives.rpo is ${input.objectives.rpo.toHumanString()}, but this resource type has no point-in-time recovery and AWS Backup ` +
            `snapshots run at most hourly with a ${START_WINDOW_MINUTES}-minute start window (worst case 2 hours); declare an RPO of at least 2 hours`,
          );
        }
        if (rpo < minContinuous) {
          throw new BackupDrConfigError(
            `objectives.rpo is ${input.objectives.rpo.toHumanString()}, below the ${Duration.minutes(minContinuous).toHumanString()} that ` +
            'point-in-time recovery guarantees for this resource type; declare a larger RPO or replicate synchronously (multi-site DR)',
          );
        }
        const daily = CADENCES.find((c) => c.minutes === DAY)!;
        if (continuous === ContinuousBackupSupport.AWS_BACKUP) {
          rules.push({ ...rule('Continuous', BackupRuleKind.CONTINUOUS, daily, pitrDays), enableContinuousBackup: true });
          if (routineDays > MAX_CONTINUOUS_DAYS) {
            // Continuous backup keeps at most 35 days: daily snapshots cover the rest.
            rules.push(rule('RoutineDaily', BackupRuleKind.ROUTINE, daily, routineDays));
          }
        } else {
          nativePitr = true;
          rules.push(rule('RoutineDaily', BackupRuleKind.ROUTINE, daily, routineDays));
        }
        worstCase = minContinuous;
      }
      const cold = input.coldStorageSupported ?? false;
      const monthly = CADENCES[CADENCES.length - 1];
      if (r.monthlySample) {
        rules.push(sample('MonthlySample', BackupRuleKind.MONTHLY_SAMPLE, { ...monthly, cron: MONTHLY_SAMPLE_CRON },
          r.monthlySample, cold ? r.monthlySampleColdStorageAfter : undefined, 'retention.monthlySample'));
      }
      if (r.yearlySample) {
        rules.push(sample('YearlySample', BackupRuleKind.YEARLY_SAMPLE, { minutes: 365 * DAY, cron: YEARLY_SAMPLE_CRON, label: 'yearly', name: 'Yearly' },
          r.yearlySample, cold ? r.yearlySampleColdStorageAfter : undefined, 'retention.yearlySample'));
      }
    }

    return {
      rules,
      worstCaseRpo: Duration.minutes(worstCase),
      requiresNativePointInTimeRecovery: nativePitr,
      pointInTimeRecoveryDays: pitrDays,
      periodicity: describePeriodicity(rules, nativePitr),
      key: JSON.stringify(rules.map(renderKey)),
    };
  }

  /**
   * Derive the schedule of a scheduled job that is not an AWS Backup rule (external database dumps):
   * the longest interval of the same ladder (plus 15 and 30 minutes, which EventBridge Scheduler can run)
   * that is no longer than the RPO, with the same objectives checks as `derive`.
   */
  public static deriveJobSchedule(input: JobScheduleInput): DerivedJobSchedule {
    const { rpo } = checkObjectives(input.objectives);
    const min = concreteMinutes(input.minimumInterval ?? Duration.minutes(15), 'minimumInterval');
    if (input.maximumRpo) {
      const max = concreteMinutes(input.maximumRpo, 'maximumRpo');
      if (rpo > max) {
        throw new BackupDrConfigError(
          `objectives.rpo is ${input.objectives.rpo.toHumanString()}, above the ${input.maximumRpo.toHumanString()} this job supports ` +
          `(${input.maximumRpoReason ?? 'its monitoring window'}); declare an RPO of ${input.maximumRpo.toHumanString()} or less`,
        );
      }
    }
    const cadence = JOB_CADENCES.filter((c) => c.minutes >= min && c.minutes <= rpo).pop();
    if (!cadence) {
      throw new BackupDrConfigError(
        `objectives.rpo is ${input.objectives.rpo.toHumanString()}, but this job runs at most every ${Duration.minutes(min).toHumanString()} ` +
        `(a scheduled copy cannot be continuous); declare an RPO of at least ${Duration.minutes(min).toHumanString()}, or protect the data ` +
        'with a service that has point-in-time recovery (RDS/Aurora with RdsBackupPolicy)',
      );
    }
    return { interval: Duration.minutes(cadence.minutes), expression: rateOf(cadence.minutes), label: cadence.label };
  }

  private constructor() {}
}

/**
 * The checks every objectives declaration passes, whichever construct receives it: concrete durations,
 * an RPO above zero, an RTO a restore can meet.
 */
function checkObjectives(objectives: RecoveryObjectives): { rpo: number; rto: number } {
  const rpo = concreteMinutes(objectives.rpo, 'objectives.rpo');
  const rto = concreteMinutes(objectives.rto, 'objectives.rto');
  if (rpo <= 0) {
    throw new BackupDrConfigError(
      `objectives.rpo is ${objectives.rpo.toHumanString()}: no backup method can guarantee zero data loss; ` +
      'declare the smallest loss you accept (e.g. Duration.minutes(15)) and use synchronous replication (a DR site with MULTI_SITE) for the rest',
    );
  }
  if (rto < MIN_RTO_MINUTES) {
    throw new BackupDrConfigError(
      `objectives.rto is ${objectives.rto.toHumanString()}: restoring from a backup takes longer than ${MIN_RTO_MINUTES} minutes; ` +
      `declare an RTO of at least ${MIN_RTO_MINUTES} minutes, or run a warm standby / multi-site DR site for this workload`,
    );
  }
  return { rpo, rto };
}

/** `rate(...)` for a whole number of minutes, in the largest exact unit. */
function rateOf(minutes: number): string {
  if (minutes % DAY === 0) return `rate(${minutes / DAY} ${minutes === DAY ? 'day' : 'days'})`;
  if (minutes % HOUR === 0) return `rate(${minutes / HOUR} ${minutes === HOUR ? 'hour' : 'hours'})`;
  return `rate(${minutes} minutes)`;
}

function needScheduled(input: BackupPolicyInput, rpo: number): never {
  throw new BackupDrConfigError(
    `objectives.rpo is ${input.objectives.rpo.toHumanString()}, but ${input.content} is protected by scheduled copies, which run at most hourly ` +
    `with a ${START_WINDOW_MINUTES}-minute start window; declare an RPO of at least 2 hours (got ${rpo} minutes) or use BackupContent.CURRENT_DATA`,
  );
}

function completionWindow(intervalMinutes: number): number {
  // At least 60 minutes more than the start window; at most a day so a stuck job is reported.
  return Math.max(START_WINDOW_MINUTES + HOUR, Math.min(intervalMinutes, DAY));
}

function rule(ruleName: string, kind: BackupRuleKind, c: Cadence, deleteAfterDays: number): DerivedBackupRule {
  return {
    ruleName,
    kind,
    scheduleExpression: c.cron,
    interval: Duration.minutes(c.minutes),
    startWindow: Duration.minutes(START_WINDOW_MINUTES),
    completionWindow: Duration.minutes(completionWindow(c.minutes)),
    deleteAfter: Duration.days(deleteAfterDays),
    enableContinuousBackup: false,
  };
}

function sample(name: string, kind: BackupRuleKind, c: Cadence, keep: Duration, coldAfter: Duration | undefined, prop: string): DerivedBackupRule {
  const keepDays = concreteDays(keep, prop);
  checkRange(keepDays, 1, MAX_RETENTION_DAYS, `${prop} (days)`, 'AWS Backup keeps recovery points 1 day to 100 years');
  const intervalDays = Math.ceil(c.minutes / DAY);
  if (keepDays < intervalDays) {
    // The policy asks for an updated sample at all times: one kept shorter than its interval leaves a gap.
    throw new BackupDrConfigError(
      `${prop} is ${keepDays} days, shorter than the ${c.label} interval of the sample (${intervalDays} days): for ` +
      `${intervalDays - keepDays} days of every period no sample would exist; keep it at least ${intervalDays} days, or disable it with Duration.days(0)`,
    );
  }
  let cold: number | undefined;
  if (coldAfter) {
    cold = concreteDays(coldAfter, `${prop}ColdStorageAfter`);
    checkRange(cold, 1, MAX_RETENTION_DAYS, `${prop}ColdStorageAfter (days)`, 'use a positive number of days');
    if (keepDays < cold + MIN_COLD_STORAGE_DAYS) {
      throw new BackupDrConfigError(
        `${prop} is ${keepDays} days but ${prop}ColdStorageAfter is ${cold} days: AWS Backup requires retention of at least ` +
        `${MIN_COLD_STORAGE_DAYS} days after the move to cold storage; keep it for ${cold + MIN_COLD_STORAGE_DAYS} days or more, or move it earlier`,
      );
    }
  }
  return {
    ...rule(name, kind, c, keepDays),
    completionWindow: Duration.minutes(DAY),
    moveToColdStorageAfter: cold === undefined ? undefined : Duration.days(cold),
  };
}

function describePeriodicity(rules: DerivedBackupRule[], nativePitr: boolean): string {
  const labels = rules.map((r) => {
    const every = CADENCES.find((c) => c.cron === r.scheduleExpression)?.label;
    const keep = `${r.deleteAfter.toDays()} days`;
    switch (r.kind) {
      case BackupRuleKind.CONTINUOUS: return `continuous (point-in-time, ${keep})`;
      case BackupRuleKind.MONTHLY_SAMPLE: return `monthly sample (${keep})`;
      case BackupRuleKind.YEARLY_SAMPLE: return `yearly sample (${keep})`;
      case BackupRuleKind.SINGLE_COPY: return `single copy, refreshed ${every}`;
      default: return `${every} (${keep})`;
    }
  });
  return [...(nativePitr ? ['continuous (native point-in-time recovery)'] : []), ...labels].join('; ');
}

function renderKey(r: DerivedBackupRule) {
  return [r.ruleName, r.scheduleExpression, r.startWindow.toMinutes(), r.completionWindow.toMinutes(),
    r.deleteAfter.toDays(), r.moveToColdStorageAfter?.toDays() ?? null, r.enableContinuousBackup];
}
