import { IConstruct } from 'constructs';
import { BackupRuleKind, DerivedBackupPolicy } from './schedule-derivation';

/** @internal Metadata type under which constructs record their inventory entries. */
export const CATALOG_METADATA_TYPE = 'cdk-backup-dr:catalog';

/** Kinds of protected resources the DR runbook knows how to restore. */
export enum CatalogResourceType {
  /** An RDS DB instance (`aws rds restore-db-instance-to-point-in-time`, AWS Backup). */
  RDS_INSTANCE = 'RDS_INSTANCE',
  /** An Aurora DB cluster (`aws rds restore-db-cluster-to-point-in-time`, AWS Backup). */
  AURORA_CLUSTER = 'AURORA_CLUSTER',
  /** A DynamoDB table (`aws dynamodb restore-table-to-point-in-time`, AWS Backup). */
  DYNAMODB_TABLE = 'DYNAMODB_TABLE',
  /** An S3 bucket or a prefix of one (previous object versions, AWS Backup for S3). */
  S3_BUCKET = 'S3_BUCKET',
  /** A database outside AWS dumped to S3 (the restore tool of docs/external-db-restore.md). */
  EXTERNAL_DATABASE = 'EXTERNAL_DATABASE',
}

/** One protected resource of an inventory entry, with what its restore commands need. */
export interface CatalogResource {
  /** Kind of resource. */
  readonly type: CatalogResourceType;
  /**
   * Name used by restore commands: DB instance or cluster identifier, table name, bucket name, or the
   * external database's name. May be a token (resolved when the catalog is generated).
   */
  readonly identifier: string;
  /**
   * ARN of the resource (the AWS Backup selection and `--by-resource-arn` use it). May be a token.
   * @default - none (external databases have no ARN)
   */
  readonly arn?: string;
  /**
   * Bucket holding the data (S3 archives, external database dumps). May be a token.
   * @default - the identifier, for S3_BUCKET; none otherwise
   */
  readonly bucketName?: string;
  /**
   * Key prefix of the data in the bucket (with its trailing slash).
   * @default - the whole bucket
   */
  readonly keyPrefix?: string;
  /**
   * Engine and major version of an external database, e.g. "postgres 15".
   * @default - none
   */
  readonly engine?: string;
}

/** Retention of an inventory entry, human readable. */
export interface CatalogRetention {
  /** Routine backups (or the single copy), e.g. "35 days". */
  readonly routine: string;
  /**
   * Samples kept beyond the routine backups, e.g. ["monthly: 365 days, cold storage after 30 days"].
   * @default - none
   */
  readonly samples?: string[];
  /**
   * Point-in-time recovery window (continuous backup, DynamoDB PITR, RDS automated backups), e.g. "35 days".
   * @default - no point-in-time recovery
   */
  readonly pointInTimeWindow?: string;
}

/** The disaster-recovery secondary site an entry is copied or replicated to. */
export interface CatalogDrSite {
  /** Region of the site. */
  readonly region: string;
  /** Account of the site. */
  readonly account: string;
  /**
   * DR strategy (a `DrStrategy` value).
   * @default - read from the site's `cdk-backup-dr:dr-site` metadata (the strategy it chose at synth)
   */
  readonly strategy?: string;
  /**
   * Name of the site.
   * @default - none
   */
  readonly siteName?: string;
  /**
   * Name of the DR vault receiving AWS Backup copies.
   * @default - no AWS Backup copies
   */
  readonly vaultName?: string;
  /**
   * Replica bucket in the site (S3 archives and dumps replicated there).
   * @default - no replica bucket
   */
  readonly replicaBucketName?: string;
}

/** Who has which access to an entry's backups. */
export interface CatalogAccess {
  /** Team ("SRE", "Product", "PO", "Development"). */
  readonly team: string;
  /** Level ("VIEW", "RESTORE", "ADMIN"), as resolved for the entry's environment. */
  readonly level: string;
  /**
   * Who receives the grant (a role name or ARN). May be a token.
   * @default - not recorded
   */
  readonly principal?: string;
}

/**
 * One row of the backup inventory: backup name | content | periodicity | environment |
 * type of backup support | location. Recorded by every construct; never written by hand.
 *
 * The optional fields feed the generated inventory's RPO/RTO/retention/DR/access columns and the DR
 * runbook; an entry without them still produces a row.
 */
export interface CatalogEntry {
  /** Name of the backup (the construct path). */
  readonly backupName: string;
  /** Content class ("Current data", "Code", ...). */
  readonly content: string;
  /** How often and how long (derived from the rules). */
  readonly periodicity: string;
  /** Environment ("Pro", "QA", "Dev"). */
  readonly environment: string;
  /** Type of backup support ("AWS Backup + DynamoDB PITR", "S3 lifecycle", ...). */
  readonly supportType: string;
  /** Where the copies are (vault ARN, bucket URL); may be a token. */
  readonly location: string;
  /** Declared RPO, human readable. */
  readonly rpo: string;
  /** Declared RTO, human readable. */
  readonly rto: string;
  /**
   * The protected resources, with the identifiers restore commands need.
   * @default - none recorded: the runbook falls back to the vault or bucket of `location`
   */
  readonly resources?: CatalogResource[];
  /**
   * Name of the AWS Backup vault holding the recovery points. May be a token.
   * @default - the entry does not use AWS Backup
   */
  readonly vaultName?: string;
  /**
   * ARN of the IAM role AWS Backup restores with (passed to `start-restore-job`). May be a token.
   * @default - not recorded
   */
  readonly backupRoleArn?: string;
  /**
   * Retention of the backups.
   * @default - not recorded (the periodicity column still says how long)
   */
  readonly retention?: CatalogRetention;
  /**
   * The DR site receiving copies.
   * @default - no DR site
   */
  readonly drSite?: CatalogDrSite;
  /**
   * Team access to these backups.
   * @default - not recorded
   */
  readonly access?: CatalogAccess[];
}

/**
 * Reads and writes inventory entries kept as construct metadata (the extension point for the
 * generated inventory and DR runbook).
 */
export class BackupCatalogMetadata {
  /** Record an entry on a construct. */
  public static record(scope: IConstruct, entry: CatalogEntry): void {
    scope.node.addMetadata(CATALOG_METADATA_TYPE, entry, { stackTrace: false });
  }

  /** All entries recorded under `root`, in construct-tree order. */
  public static entriesOf(root: IConstruct): CatalogEntry[] {
    return root.node.findAll().flatMap((c) =>
      c.node.metadata.filter((m) => m.type === CATALOG_METADATA_TYPE).map((m) => m.data as CatalogEntry));
  }

  /**
   * The retention an entry records for a derived policy: routine (or single-copy) retention, the
   * monthly/yearly samples and the point-in-time window of continuous backup.
   */
  public static retentionOf(policy: DerivedBackupPolicy): CatalogRetention {
    const kept = (kind: BackupRuleKind) => policy.rules.filter((r) => r.kind === kind);
    const describe = (days: number, cold?: number) =>
      `${days} days` + (cold !== undefined ? `, cold storage after ${cold} days` : '');
    const routine = [...kept(BackupRuleKind.ROUTINE), ...kept(BackupRuleKind.SINGLE_COPY)];
    const continuous = kept(BackupRuleKind.CONTINUOUS);
    const samples = [
      ...kept(BackupRuleKind.MONTHLY_SAMPLE).map((r) => `monthly: ${describe(r.deleteAfter.toDays(), r.moveToColdStorageAfter?.toDays())}`),
      ...kept(BackupRuleKind.YEARLY_SAMPLE).map((r) => `yearly: ${describe(r.deleteAfter.toDays(), r.moveToColdStorageAfter?.toDays())}`),
    ];
    const pitr = continuous.length > 0 ? continuous[0].deleteAfter.toDays()
      : policy.requiresNativePointInTimeRecovery ? policy.pointInTimeRecoveryDays : undefined;
    return {
      routine: routine.length > 0 ? routine.map((r) => describe(r.deleteAfter.toDays(), r.moveToColdStorageAfter?.toDays())).join(', ')
        : pitr !== undefined ? `${pitr} days (point in time)` : 'none',
      samples: samples.length > 0 ? samples : undefined,
      pointInTimeWindow: pitr !== undefined ? `${pitr} days` : undefined,
    };
  }

  private constructor() {}
}
