import { Duration } from 'aws-cdk-lib';
import { RecoveryObjectives } from './recovery-objectives';
import { BackupDrConfigError, concreteMinutes } from './validation';

/**
 * Disaster-recovery strategies of the AWS DR whitepaper, from cheapest to most expensive.
 * What each one achieves per resource type is in `DrStrategyTable`.
 */
export enum DrStrategy {
  /** Backups copied to the DR site; everything is restored on failover (RPO/RTO: hours). */
  BACKUP_AND_RESTORE = 'BACKUP_AND_RESTORE',
  /** Data replicated continuously, compute off until failover (RPO: minutes, RTO: tens of minutes to hours). */
  PILOT_LIGHT = 'PILOT_LIGHT',
  /** Data replicated, a scaled-down copy running (RPO: seconds, RTO: minutes). */
  WARM_STANDBY = 'WARM_STANDBY',
  /** Active/active in both regions (RPO/RTO: near zero). */
  MULTI_SITE = 'MULTI_SITE',
}

/** Kinds of protected resources whose DR mechanism differs. */
export enum DrResourceType {
  /** RDS DB instances (RdsBackupPolicy `instances`). */
  RDS_INSTANCE = 'RDS_INSTANCE',
  /** Aurora DB clusters (RdsBackupPolicy `clusters`). */
  AURORA_CLUSTER = 'AURORA_CLUSTER',
  /** DynamoDB tables (DynamoPitrBackup). */
  DYNAMODB_TABLE = 'DYNAMODB_TABLE',
  /** S3 archives (S3ArchiveLifecycle). */
  S3_ARCHIVE = 'S3_ARCHIVE',
  /** Databases outside AWS Backup dumped to an S3 archive (ExternalDbBackupLambda). */
  EXTERNAL_DATABASE = 'EXTERNAL_DATABASE',
}

/** What a strategy achieves for a resource type, and how. */
export interface DrStrategyBound {
  /** Strategy. */
  readonly strategy: DrStrategy;
  /** Resource type. */
  readonly resourceType: DrResourceType;
  /** Worst-case data loss on failover to the DR region (planning figure). */
  readonly rpo: Duration;
  /** Time to serve from the DR region (planning figure; restores grow with the data size). */
  readonly rto: Duration;
  /** The mechanism the library builds for this cell. */
  readonly mechanism: string;
  /** Where the figures come from. */
  readonly source: string;
}

/** Strategies from cheapest to most expensive. */
export const DR_STRATEGIES_BY_COST: DrStrategy[] = [
  DrStrategy.BACKUP_AND_RESTORE, DrStrategy.PILOT_LIGHT, DrStrategy.WARM_STANDBY, DrStrategy.MULTI_SITE,
];

const { BACKUP_AND_RESTORE: BR, PILOT_LIGHT: PL, WARM_STANDBY: WS, MULTI_SITE: MS } = DrStrategy;
const { RDS_INSTANCE, AURORA_CLUSTER, DYNAMODB_TABLE, S3_ARCHIVE, EXTERNAL_DATABASE } = DrResourceType;

const SRC_WHITEPAPER = 'AWS whitepaper "Disaster Recovery of Workloads on AWS" (docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws)';
const SRC_COPY = 'AWS Backup: snapshot rules run at most hourly with a start window of at least 60 minutes, copies start after the backup ' +
  'completes and copies of continuous backups are snapshots (docs.aws.amazon.com/aws-backup/latest/devguide/recov-point-create-a-copy.html, point-in-time-recovery-copying.html)';
const SRC_RDS_PITR = 'AWS Prescriptive Guidance "Amazon RDS PITR snapshot replication": RPO 5–30 minutes, RTO up to a few hours ' +
  '(docs.aws.amazon.com/prescriptive-guidance/latest/dr-standard-edition-amazon-rds/rds-pitr-snapshot.html); RDS USER_ReplicateBackups';
const SRC_S3_RTC = 'Amazon S3 Replication Time Control: 99.99% of objects within 15 minutes (SLA); without RTC most objects replicate within ' +
  '15 minutes but some take hours (docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html)';
const SRC_DDB_GT = 'DynamoDB global tables: asynchronous replication, typically within a second (docs.aws.amazon.com/amazondynamodb/latest/developerguide/GlobalTables.html)';

const h = Duration.hours;
const m = Duration.minutes;
const COPIES = 'AWS Backup copy actions into the DR vault; restore on failover';
const cell = (strategy: DrStrategy, resourceType: DrResourceType, rpo: Duration, rto: Duration, mechanism: string, source: string): DrStrategyBound =>
  ({ strategy, resourceType, rpo, rto, mechanism, source });

/**
 * THE table of achievable RPO/RTO per strategy and resource type. A strategy never does worse than a
 * cheaper one: where the library builds nothing more for a resource type, the cell repeats the cheaper
 * mechanism (and its bound), so the check names the strategies that really help.
 */
const TABLE: DrStrategyBound[] = [
  // Backup & restore: hourly snapshot + 60-min start window + copy (~1 h), then a restore in the DR region.
  cell(BR, RDS_INSTANCE, h(3), h(4), COPIES, `${SRC_COPY}; restore time: ${SRC_RDS_PITR}`),
  cell(BR, AURORA_CLUSTER, h(3), h(4), COPIES, `${SRC_COPY}; ${SRC_WHITEPAPER}`),
  cell(BR, DYNAMODB_TABLE, h(3), h(4), `${COPIES} (needs AWS Backup advanced DynamoDB features)`, `${SRC_COPY}; ${SRC_WHITEPAPER}`),
  cell(BR, S3_ARCHIVE, m(15), m(15), 'S3 cross-region replication into the replica bucket (RTC when the RPO needs it); readers switch buckets', SRC_S3_RTC),
  cell(BR, EXTERNAL_DATABASE, h(2), h(4), 'dumps replicated with the destination archive; restore a dump in the DR region', `${SRC_S3_RTC}; ${SRC_WHITEPAPER}`),
  // Pilot light: data replicated continuously, compute created on failover.
  cell(PL, RDS_INSTANCE, m(30), h(4), 'RDS cross-region automated backup replication (point-in-time restore in the DR region) + copies', SRC_RDS_PITR),
  cell(PL, AURORA_CLUSTER, h(3), h(4), `${COPIES} (an Aurora global database is not built by the library: docs/dr-site.md)`, `${SRC_COPY}; ${SRC_WHITEPAPER}`),
  cell(PL, DYNAMODB_TABLE, h(3), h(4), `${COPIES} (a replica comes with WARM_STANDBY)`, `${SRC_COPY}; ${SRC_WHITEPAPER}`),
  cell(PL, S3_ARCHIVE, m(15), m(15), 'S3 cross-region replication into the replica bucket', SRC_S3_RTC),
  cell(PL, EXTERNAL_DATABASE, h(2), h(4), 'dumps replicated with the destination archive', SRC_S3_RTC),
  // Warm standby: a running copy of the data in the DR region.
  cell(WS, RDS_INSTANCE, m(30), h(4), 'RDS cross-region automated backup replication (no cross-region read replica is built)', SRC_RDS_PITR),
  cell(WS, AURORA_CLUSTER, h(3), h(4), `${COPIES} (an Aurora global database is not built by the library: docs/dr-site.md)`, `${SRC_COPY}; ${SRC_WHITEPAPER}`),
  cell(WS, DYNAMODB_TABLE, m(1), m(15), 'DynamoDB global table replica in the DR region (TableV2.addReplica) + copies', `${SRC_DDB_GT}; ${SRC_WHITEPAPER}`),
  cell(WS, S3_ARCHIVE, m(15), m(15), 'S3 cross-region replication into the replica bucket', SRC_S3_RTC),
  cell(WS, EXTERNAL_DATABASE, h(2), h(4), 'dumps replicated with the destination archive', SRC_S3_RTC),
  // Multi-site: active/active.
  cell(MS, RDS_INSTANCE, m(30), h(4), 'RDS cross-region automated backup replication (no cross-region read replica is built)', SRC_RDS_PITR),
  cell(MS, AURORA_CLUSTER, h(3), h(4), `${COPIES} (an Aurora global database is not built by the library: docs/dr-site.md)`, `${SRC_COPY}; ${SRC_WHITEPAPER}`),
  cell(MS, DYNAMODB_TABLE, m(1), m(15), 'DynamoDB global table replica serving the DR region (TableV2.addReplica) + copies', `${SRC_DDB_GT}; ${SRC_WHITEPAPER}`),
  cell(MS, S3_ARCHIVE, m(15), m(15), 'S3 cross-region replication into the replica bucket', SRC_S3_RTC),
  cell(MS, EXTERNAL_DATABASE, h(2), h(4), 'dumps replicated with the destination archive', SRC_S3_RTC),
];

/** What the fix is when no strategy the library builds meets the objectives. */
const BEYOND_LIBRARY: Record<DrResourceType, string> = {
  [RDS_INSTANCE]: 'add a cross-region read replica (rds.DatabaseInstanceReadReplica) yourself, or relax the objectives',
  [AURORA_CLUSTER]: 'run an Aurora global database (rds.CfnGlobalCluster, docs/dr-site.md) yourself, or relax the objectives',
  [DYNAMODB_TABLE]: 'relax the objectives: global table replication is the fastest mechanism',
  [S3_ARCHIVE]: 'relax the objectives: S3 Replication Time Control guarantees 15 minutes',
  [EXTERNAL_DATABASE]: 'replicate the database natively (e.g. a streaming replica in the DR region), or relax the objectives',
};

/** One protected workload of a DR site, as the strategy check sees it. */
export interface DrWorkload {
  /** Construct path of the protecting construct. */
  readonly path: string;
  /** Resource type. */
  readonly resourceType: DrResourceType;
  /** Declared objectives. */
  readonly objectives: RecoveryObjectives;
}

/**
 * The strategy × resource type table and the checks derived from it.
 */
export class DrStrategyTable {
  /** Every cell of the table (for docs and the catalog). */
  public static all(): DrStrategyBound[] {
    return [...TABLE];
  }

  /** What `strategy` achieves for `resourceType`. */
  public static bound(strategy: DrStrategy, resourceType: DrResourceType): DrStrategyBound {
    return TABLE.find((c) => c.strategy === strategy && c.resourceType === resourceType)!;
  }

  /** Whether `strategy` meets `objectives` for `resourceType`. */
  public static meets(strategy: DrStrategy, resourceType: DrResourceType, objectives: RecoveryObjectives): boolean {
    const b = DrStrategyTable.bound(strategy, resourceType);
    return b.rpo.toSeconds() <= concreteMinutes(objectives.rpo, 'objectives.rpo') * 60
      && b.rto.toSeconds() <= concreteMinutes(objectives.rto, 'objectives.rto') * 60;
  }

  /** Strategies meeting every workload, cheapest first. */
  public static strategiesMeeting(workloads: DrWorkload[]): DrStrategy[] {
    return DR_STRATEGIES_BY_COST.filter((s) => workloads.every((w) => DrStrategyTable.meets(s, w.resourceType, w.objectives)));
  }

  /**
   * The cheapest strategy meeting every workload. Throws (naming the workload, its objectives, the bounds
   * and the fix) when none does.
   */
  public static cheapest(workloads: DrWorkload[]): DrStrategy {
    for (const w of workloads) DrStrategyTable.check(w);
    return DrStrategyTable.strategiesMeeting(workloads)[0] ?? DrStrategy.BACKUP_AND_RESTORE;
  }

  /**
   * Throws when `strategy` (or, when omitted, every strategy) cannot meet the workload's objectives.
   * The message names the objective, the strategy's bound and the strategies that would meet it.
   */
  public static check(w: DrWorkload, strategy?: DrStrategy): void {
    const candidates = strategy ? [strategy] : DR_STRATEGIES_BY_COST;
    if (candidates.some((s) => DrStrategyTable.meets(s, w.resourceType, w.objectives))) return;
    const shown = strategy ?? DrStrategy.MULTI_SITE;
    const b = DrStrategyTable.bound(shown, w.resourceType);
    const rpoMin = concreteMinutes(w.objectives.rpo, 'objectives.rpo');
    const rtoMin = concreteMinutes(w.objectives.rto, 'objectives.rto');
    const missed = [
      b.rpo.toSeconds() > rpoMin * 60 ? `objectives.rpo ${w.objectives.rpo.toHumanString()} (bound ${b.rpo.toHumanString()})` : undefined,
      b.rto.toSeconds() > rtoMin * 60 ? `objectives.rto ${w.objectives.rto.toHumanString()} (bound ${b.rto.toHumanString()})` : undefined,
    ].filter((x) => x !== undefined).join(' and ');
    const better = DR_STRATEGIES_BY_COST.filter((s) => DrStrategyTable.meets(s, w.resourceType, w.objectives));
    const fix = better.length > 0
      ? `strategies that would: ${better.join(', ')} (set strategy on the DrSecondarySite, or omit it to pick the cheapest)`
      : `no strategy the library builds meets them; ${BEYOND_LIBRARY[w.resourceType]}`;
    throw new BackupDrConfigError(
      `drSite: ${missed} of ${w.path} (${describeType(w.resourceType)}) cannot be met by strategy ${strategy ?? 'any'}` +
      `${strategy ? '' : ` (best: ${shown})`}: ${b.mechanism}; ${fix}. Source: ${b.source}`,
    );
  }

  private constructor() {}
}

/** @internal Human name of a resource type for messages. */
export function describeType(t: DrResourceType): string {
  switch (t) {
    case RDS_INSTANCE: return 'RDS instances';
    case AURORA_CLUSTER: return 'Aurora clusters';
    case DYNAMODB_TABLE: return 'DynamoDB tables';
    case S3_ARCHIVE: return 'S3 archives';
    default: return 'external databases';
  }
}

/** @internal Whether `a` is at least as far along the cost order as `b`. */
export function strategyAtLeast(a: DrStrategy, b: DrStrategy): boolean {
  return DR_STRATEGIES_BY_COST.indexOf(a) >= DR_STRATEGIES_BY_COST.indexOf(b);
}

/** @internal The most demanding of several strategies. */
export function mostDemanding(strategies: DrStrategy[]): DrStrategy | undefined {
  return strategies.reduce<DrStrategy | undefined>((acc, s) => (acc === undefined || strategyAtLeast(s, acc) ? s : acc), undefined);
}
