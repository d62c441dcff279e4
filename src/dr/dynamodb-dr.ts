import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { IConstruct } from 'constructs';
import { wireDrSite } from './dr-wiring';
import { DrResourceType, DrStrategy, strategyAtLeast } from '../core/dr-strategy';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { BackupDrConfigError } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';

/** What DynamoPitrBackup hands to `applyDynamoDbDr`. */
export interface DynamoDbDrOptions {
  /** The DR site. */
  readonly drSite: IDrSecondarySite;
  /** Environment of the tables. */
  readonly environment: DeploymentEnvironment;
  /** Declared objectives. */
  readonly objectives: RecoveryObjectives;
  /** Tables protected by the construct. */
  readonly tables: dynamodb.ITable[];
  /**
   * The construct's `advancedBackupFeatures` prop as the user gave it.
   * @default - not set
   */
  readonly advancedBackupFeatures?: boolean;
}

/** Result of `applyDynamoDbDr`. */
export interface DynamoDbDrResult {
  /** Strategy the tables are wired for. */
  readonly strategy: DrStrategy;
  /** Whether AWS Backup's advanced DynamoDB features must be on (always, with a DR site): the construct turns them on. */
  readonly advancedBackupFeatures: boolean;
  /** Paths of the tables that got a replica in the DR region. */
  readonly replicatedTables: string[];
}

/**
 * Wires DynamoDB tables to a DR site:
 *
 * - copies of DynamoDB backups to another Region or account need AWS Backup's advanced DynamoDB features: they
 *   are turned on (the construct's `BackupRegionSettings`), and `advancedBackupFeatures: false` is refused;
 * - WARM_STANDBY and MULTI_SITE add a replica in the DR region to every TableV2 (`TableV2.addReplica`); a
 *   `Table` (v1) or an imported table is a synth error naming it, and so is a cross-account site (global table
 *   replicas live in the table's account).
 *
 * Call from the construct's constructor, inside `inScope(this, ...)`, before deriving the policy (cold storage
 * becomes available with the advanced features).
 */
export function applyDynamoDbDr(scope: IConstruct, options: DynamoDbDrOptions): DynamoDbDrResult {
  const site = options.drSite;
  if (options.advancedBackupFeatures === false) {
    throw new BackupDrConfigError(
      `advancedBackupFeatures is false, but copies of DynamoDB backups to the DR site ${site.node.path} (another Region` +
      `${site.account ? ' or account' : ''}) need AWS Backup's advanced DynamoDB backup features, without which every copy job fails; ` +
      'set advancedBackupFeatures: true (or leave it unset: a drSite turns it on)',
    );
  }
  const wiring = wireDrSite(scope, {
    drSite: site, environment: options.environment, objectives: options.objectives, resourceType: DrResourceType.DYNAMODB_TABLE,
  });
  const replicated: string[] = [];
  if (strategyAtLeast(wiring.strategy, DrStrategy.WARM_STANDBY)) {
    if (wiring.crossAccount) {
      throw new BackupDrConfigError(
        `drSite: strategy ${wiring.strategy} needs a replica of each table in the DR region, but global table replicas live in the table's ` +
        `account (${wiring.sourceAccount}), not in the site's (${site.account}); use a DR site in this account for WARM_STANDBY/MULTI_SITE tables, ` +
        'or strategy PILOT_LIGHT or BACKUP_AND_RESTORE for the cross-account site',
      );
    }
    for (const table of options.tables) {
      addReplica(table, site, wiring.strategy);
      replicated.push(table.node.path);
    }
  }
  return { strategy: wiring.strategy, advancedBackupFeatures: true, replicatedTables: replicated };
}

function addReplica(table: dynamodb.ITable, site: IDrSecondarySite, strategy: DrStrategy) {
  if (!(table instanceof dynamodb.TableV2)) {
    const kind = table instanceof dynamodb.Table ? 'a dynamodb.Table (v1), whose replicas are custom resources' : 'not defined in this app';
    throw new BackupDrConfigError(
      `drSite: strategy ${strategy} needs a replica of ${table.node.path} in ${site.region}, but the table is ${kind}; ` +
      `define it as a dynamodb.TableV2 in this app (the library then calls addReplica({ region: '${site.region}' })), add the replica where ` +
      'it is defined, or use a site with strategy PILOT_LIGHT or BACKUP_AND_RESTORE for it',
    );
  }
  try {
    table.replica(site.region);
    return; // already a replica there
  } catch {
    // no replica in the DR region yet
  }
  const encryption = (table as unknown as { encryption?: dynamodb.TableEncryptionV2 }).encryption;
  if (encryption?.type === dynamodb.TableEncryption.CUSTOMER_MANAGED && !encryption.replicaKeyArns?.[site.region]) {
    throw new BackupDrConfigError(
      `drSite: strategy ${strategy} needs a replica of ${table.node.path} in ${site.region}, but the table is encrypted with a customer-managed ` +
      `key and has no replica key for ${site.region}; pass TableEncryptionV2.customerManagedKey(key, { '${site.region}': '<key ARN in ${site.region}>' }) ` +
      `(the DR site key '${site.encryptionKeyArn}' works for a site in this account)`,
    );
  }
  try {
    table.addReplica({ region: site.region });
  } catch (e) {
    throw new BackupDrConfigError(
      `drSite: adding a replica of ${table.node.path} in ${site.region} failed: ${(e as Error).message}; with a customer-managed key pass ` +
      `TableEncryptionV2.customerManagedKey(key, { '${site.region}': '<key ARN in ${site.region}>' })`,
    );
  }
}
