import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import { IConstruct } from 'constructs';
import { checkRdsCopyTarget, wireDrSite } from './dr-wiring';
import { DrResourceType, DrStrategy, strategyAtLeast } from '../core/dr-strategy';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { BackupDrConfigError } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';

/** RDS keeps automated backups (and their cross-region replicas) 1 to 35 days. */
const MAX_REPLICATED_RETENTION_DAYS = 35;

/** What RdsBackupPolicy hands to `applyRdsDr`. */
export interface RdsDrOptions {
  /** The DR site. */
  readonly drSite: IDrSecondarySite;
  /** Environment of the databases. */
  readonly environment: DeploymentEnvironment;
  /** Declared objectives. */
  readonly objectives: RecoveryObjectives;
  /**
   * DB instances protected by the construct.
   * @default - none
   */
  readonly instances?: rds.IDatabaseInstance[];
  /**
   * Aurora clusters protected by the construct.
   * @default - none
   */
  readonly clusters?: rds.IDatabaseCluster[];
  /**
   * Retention of the replicated automated backups in days (1–35).
   * @default - the instance's BackupRetentionPeriod, at most 35
   */
  readonly replicationRetentionDays?: number;
}

/** Result of `applyRdsDr`. */
export interface RdsDrResult {
  /**
   * Strategy the instances are wired for.
   * @default - no instances
   */
  readonly instanceStrategy?: DrStrategy;
  /**
   * Strategy the clusters are wired for.
   * @default - no clusters
   */
  readonly clusterStrategy?: DrStrategy;
  /** Paths of the instances that replicate their automated backups to the DR region. */
  readonly replicatedInstances: string[];
}

/**
 * Wires RDS instances and Aurora clusters to a DR site (the copies themselves come from the plan registry,
 * which receives `drSite` through `protectWithBackup`):
 *
 * - checks (region, environment, accounts, strategy vs objectives; KMS: no cross-account copy of a database
 *   encrypted with the AWS-managed key; no RDS/Aurora copy that is cross-account and cross-Region at once);
 * - from PILOT_LIGHT up, RDS instances replicate their automated backups (snapshots and transaction logs)
 *   to the DR region: `AutomaticBackupReplicationRegion`, `AutomaticBackupReplicationKmsKeyId` (the site key,
 *   for encrypted instances) and `AutomaticBackupReplicationRetentionPeriod`;
 * - Aurora clusters get copies only; an Aurora global database is documented in docs/dr-site.md.
 *
 * Call from the construct's constructor, inside `inScope(this, ...)`.
 */
export function applyRdsDr(scope: IConstruct, options: RdsDrOptions): RdsDrResult {
  const instances = options.instances ?? [];
  const clusters = options.clusters ?? [];
  const replicated: string[] = [];
  let instanceStrategy: DrStrategy | undefined;
  let clusterStrategy: DrStrategy | undefined;
  const base = { drSite: options.drSite, environment: options.environment, objectives: options.objectives };

  if (instances.length > 0) {
    const wiring = wireDrSite(scope, { ...base, resourceType: DrResourceType.RDS_INSTANCE });
    instanceStrategy = wiring.strategy;
    for (const db of instances) checkCrossAccountKey(db, instanceEncryption(db), wiring.crossAccount, options.drSite);
    checkRdsCopyTarget(DrResourceType.RDS_INSTANCE, wiring, options.drSite);
    if (strategyAtLeast(wiring.strategy, DrStrategy.PILOT_LIGHT)) {
      for (const db of instances) {
        replicateAutomatedBackups(db, options);
        replicated.push(db.node.path);
      }
    }
  }
  if (clusters.length > 0) {
    const wiring = wireDrSite(scope, { ...base, resourceType: DrResourceType.AURORA_CLUSTER });
    clusterStrategy = wiring.strategy;
    for (const c of clusters) checkCrossAccountKey(c, clusterEncryption(c), wiring.crossAccount, options.drSite);
    checkRdsCopyTarget(DrResourceType.AURORA_CLUSTER, wiring, options.drSite);
    if (strategyAtLeast(wiring.strategy, DrStrategy.PILOT_LIGHT)) {
      Annotations.of(scope).addWarningV2('cdk-backup-dr:aurora-global-database',
        `strategy ${wiring.strategy}: Aurora clusters get copies into the DR vault only; for replication lag under a second and a managed ` +
        'failover run an Aurora global database (docs/dr-site.md)');
    }
  }
  return { instanceStrategy, clusterStrategy, replicatedInstances: replicated };
}

interface Encryption { readonly encrypted: boolean | undefined; readonly customerKey: boolean | undefined }

function instanceEncryption(db: rds.IDatabaseInstance): Encryption {
  const cfn = db.node.defaultChild;
  if (!(cfn instanceof rds.CfnDBInstance)) return { encrypted: undefined, customerKey: undefined };
  return { encrypted: resolvedBool(cfn, cfn.storageEncrypted), customerKey: cfn.kmsKeyId !== undefined };
}

function clusterEncryption(c: rds.IDatabaseCluster): Encryption {
  const cfn = c.node.defaultChild;
  if (!(cfn instanceof rds.CfnDBCluster)) return { encrypted: undefined, customerKey: undefined };
  return { encrypted: resolvedBool(cfn, cfn.storageEncrypted), customerKey: cfn.kmsKeyId !== undefined };
}

function resolvedBool(scope: IConstruct, v: unknown): boolean | undefined {
  const r = Stack.of(scope).resolve(v);
  return typeof r === 'boolean' ? r : undefined;
}

/** Cross-account copies of snapshots encrypted with the AWS-managed key (aws/rds) fail: that key cannot be shared. */
function checkCrossAccountKey(db: IConstruct, enc: Encryption, crossAccount: boolean, site: IDrSecondarySite) {
  if (!crossAccount || !enc.encrypted || enc.customerKey) return;
  throw new BackupDrConfigError(
    `drSite: ${db.node.path} is encrypted with the AWS-managed key aws/rds, which cannot be shared with account ${site.account}, so every ` +
    'cross-account copy job would fail; encrypt it with a customer-managed key (storageEncryptionKey) whose key policy lets the DR account use it',
  );
}

function replicateAutomatedBackups(db: rds.IDatabaseInstance, options: RdsDrOptions) {
  const cfn = db.node.defaultChild;
  if (!(cfn instanceof rds.CfnDBInstance)) {
    throw new BackupDrConfigError(
      `drSite: ${db.node.path} is not defined in this app, so its AutomaticBackupReplicationRegion cannot be set (strategy PILOT_LIGHT and up ` +
      'replicate automated backups to the DR region); enable cross-Region automated backups on the instance where it is defined, ' +
      'or use a site with strategy BACKUP_AND_RESTORE',
    );
  }
  const stack = Stack.of(cfn);
  const current = stack.resolve(cfn.backupRetentionPeriod);
  if (current === 0) {
    throw new BackupDrConfigError(
      `drSite: ${db.node.path} has automated backups turned off (backupRetention 0), so nothing replicates to the DR region; ` +
      'keep automated backups on (backupRetention of 1 to 35 days)',
    );
  }
  const days = options.replicationRetentionDays ?? (typeof current === 'number' ? current : undefined);
  if (days !== undefined && !Token.isUnresolved(days) && (days < 1 || days > MAX_REPLICATED_RETENTION_DAYS || !Number.isInteger(days))) {
    throw new BackupDrConfigError(
      `drSite: replicated automated backups of ${db.node.path} would be kept ${days} days, but RDS keeps them 1 to 35 whole days; ` +
      'set the replication retention within that range',
    );
  }
  const existing = stack.resolve(cfn.automaticBackupReplicationRegion);
  if (existing !== undefined && existing !== options.drSite.region) {
    throw new BackupDrConfigError(
      `drSite: ${db.node.path} already replicates its automated backups to ${existing}, not to the DR site's region ${options.drSite.region}; ` +
      'RDS replicates to one region: remove automaticBackupReplicationRegion from the instance or use a DR site in that region',
    );
  }
  cfn.automaticBackupReplicationRegion = options.drSite.region;
  cfn.automaticBackupReplicationRetentionPeriod = days;
  // Encrypted instances need a key in the destination region: the site key (alias ARN unless the site has a key ARN).
  if (resolvedBool(cfn, cfn.storageEncrypted)) {
    cfn.automaticBackupReplicationKmsKeyId = options.drSite.encryptionKeyArn;
  }
}
