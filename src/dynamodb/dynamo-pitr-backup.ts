import { Annotations, Aspects, CustomResource, Duration, IAspect, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct, IConstruct } from 'constructs';
import { BackupRegionSettings } from './backup-region-settings';
import { AccessLevel } from '../access/team-access';
import { CatalogResourceType } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { ContinuousBackupSupport, DerivedBackupPolicy } from '../core/schedule-derivation';
import { BackupDrConfigError, checkRange, concreteDays, inScope } from '../core/validation';
import { applyDynamoDbDr } from '../dr/dynamodb-dr';
import { ProtectedResourceType } from '../foundation/plan-registry';
import { BackupDrProps, checkBaseProps, protectWithBackup } from '../foundation/protection';
import { IRecoveryVault } from '../foundation/recovery-vault';
import { SampleExportOptions, checkSampleExport } from '../foundation/sample-export-options';
import { DEFAULT_EXPORT_SCHEDULE, ScheduledExport } from '../foundation/scheduled-export';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';
import { ProtectionVerification, VerifiedResourceType } from '../verification';

/** DynamoDB PITR keeps 1 to 35 days (`RecoveryPeriodInDays`). */
const MAX_PITR_DAYS = 35;
/** How far DynamoDB's latest restorable time lags behind (typically about 5 minutes). */
const DYNAMODB_MINIMUM_CONTINUOUS_RPO = Duration.minutes(5);
/** What the shared AWS Backup role needs on a table's customer-managed key to back it up and restore it. */
const BACKUP_KEY_ACTIONS = [
  'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:DescribeKey',
];

/** Properties of a DynamoPitrBackup. */
export interface DynamoPitrBackupProps extends BackupDrProps {
  /** Tables to protect (`Table` and `TableV2`, global tables included; imported tables are protected by AWS Backup only). */
  readonly tables: dynamodb.ITable[];
  /**
   * Content class of the tables.
   * @default BackupContent.CURRENT_DATA
   */
  readonly content?: BackupContent;
  /**
   * Point-in-time recovery period (`RecoveryPeriodInDays`) of tables defined in this app, 1–35 days.
   * @default - the routine retention of the environment, at most 35 days
   */
  readonly pointInTimeRecoveryPeriod?: Duration;
  /**
   * Use AWS Backup's advanced DynamoDB backup features (a `BackupRegionSettings` custom resource turns them
   * on for the account and Region). Only then can the monthly and yearly samples move to cold storage.
   * @default false
   */
  readonly advancedBackupFeatures?: boolean;
  /**
   * The policy's updated monthly sample: a full export of every table to S3 (`ExportTableToPointInTime`,
   * DynamoDB JSON) on a schedule. Exports read the point-in-time recovery data, so they need PITR
   * (turned on for tables of this app).
   * @default - no export
   */
  readonly sampleExport?: SampleExportOptions;
}

/**
 * Objectives-driven protection of DynamoDB tables:
 *
 * - native: point-in-time recovery with `RecoveryPeriodInDays` from the objectives on tables defined in
 *   this app, every replica of a `TableV2` global table included (imported tables get a warning);
 * - AWS Backup: full backups on the derived schedule plus the monthly and yearly samples (cold storage
 *   only with `advancedBackupFeatures`), in the stack's shared plan; the shared backup role may use the
 *   tables' customer-managed keys;
 * - optionally a scheduled full export of the tables to S3 (the policy's sample of historical data);
 * - access: the teams' grants on the vault plus point-in-time restore of these tables (RESTORE and ADMIN).
 *
 * Point-in-time restores granted to teams must create a table named `<source table>-restore-<suffix>`.
 */
export class DynamoPitrBackup extends Construct {
  /** Vault holding the recovery points. */
  public readonly vault: IRecoveryVault;
  /** The (shared) AWS Backup plan the tables joined. */
  public readonly backupPlan: backup.IBackupPlan;
  /** The derived rules. */
  public readonly policy: DerivedBackupPolicy;
  /** Point-in-time recovery period set on tables defined in this app, in days. */
  public readonly pointInTimeRecoveryDays: number;
  /**
   * The Region settings resource that enables advanced DynamoDB backup features.
   * @default - advanced features not requested
   */
  public readonly regionSettings?: BackupRegionSettings;
  /**
   * Function exporting the tables to S3.
   * @default - no export
   */
  public readonly exportFunction?: lambda.IFunction;

  constructor(scope: Construct, id: string, props: DynamoPitrBackupProps) {
    super(scope, id);
    inScope(this, () => checkBaseProps(props));
    // DR site: checks, replicas from WARM_STANDBY; its copies need the advanced features (src/dr/dynamodb-dr.ts).
    const dr = props.drSite && Array.isArray(props.tables)
      ? inScope(this, () => applyDynamoDbDr(this, { ...props, drSite: props.drSite! }))
      : undefined;
    const advanced = dr?.advancedBackupFeatures ?? props.advancedBackupFeatures ?? false;

    const result = inScope(this, () => {
      if (!Array.isArray(props.tables) || props.tables.length === 0) {
        throw new BackupDrConfigError('tables is empty; pass at least one dynamodb.ITable (Table or TableV2) to protect');
      }
      if (!advanced) checkNoColdStorage(props);
      const protection = protectWithBackup(this, props, {
        content: props.content,
        resourceArns: props.tables.map((t) => t.tableArn),
        resourceType: ProtectedResourceType.DYNAMODB,
        catalogResources: props.tables.map((t) => ({ type: CatalogResourceType.DYNAMODB_TABLE, identifier: t.tableName, arn: t.tableArn })),
        supportType: 'AWS Backup + DynamoDB PITR' + (props.sampleExport ? ' + scheduled export to S3' : ''),
        continuousBackup: ContinuousBackupSupport.NATIVE,
        minimumContinuousRpo: DYNAMODB_MINIMUM_CONTINUOUS_RPO,
        coldStorageSupported: advanced,
      });
      let days = protection.policy.pointInTimeRecoveryDays;
      if (props.pointInTimeRecoveryPeriod) {
        days = concreteDays(props.pointInTimeRecoveryPeriod, 'pointInTimeRecoveryPeriod');
        checkRange(days, 1, MAX_PITR_DAYS, 'pointInTimeRecoveryPeriod (days)',
          'DynamoDB keeps point-in-time recovery data for 1 to 35 days; keep longer history with retention.routine (AWS Backup)');
        if (days < protection.policy.pointInTimeRecoveryDays) {
          Annotations.of(this).addWarningV2('cdk-backup-dr:dynamodb-pitr-weakened',
            `pointInTimeRecoveryPeriod of ${days} days is shorter than the ${protection.policy.pointInTimeRecoveryDays} days derived for ` +
            `${props.environment}; point-in-time restores will not reach as far back as the policy expects`);
        }
      }
      this.enablePointInTimeRecovery(props.tables, days, !!props.sampleExport);
      this.grantBackupRoleKeys(props.tables, protection.registry.role);
      return { protection, days };
    });

    this.vault = result.protection.vault;
    this.backupPlan = result.protection.plan.plan;
    this.policy = result.protection.policy;
    this.pointInTimeRecoveryDays = result.days;
    ProtectionVerification.register(this, {
      resourceType: VerifiedResourceType.DYNAMODB_TABLE,
      resources: props.tables.map((t) => ({ arn: t.tableArn, construct: t })),
      environment: props.environment,
      objectives: props.objectives,
      policy: this.policy,
      vault: this.vault,
      backupPlan: this.backupPlan,
      restoreTesting: props.restoreTesting,
      continuousNative: true,
    });

    if (advanced) {
      this.regionSettings = BackupRegionSettings.of(this);
      // Cold-storage lifecycles are only valid once the Region setting is on.
      this.backupPlan.node.addDependency(this.regionSettings.resource);
    }

    this.grantRestore(props);

    if (props.sampleExport) {
      this.exportFunction = inScope(this, () => this.addSampleExport(props, props.sampleExport!));
    }
  }

  private enablePointInTimeRecovery(tables: dynamodb.ITable[], days: number, exportRequested: boolean) {
    const imported: string[] = [];
    for (const table of tables) {
      const cfn = table.node.defaultChild;
      if (cfn instanceof dynamodb.CfnTable) {
        const current = Stack.of(cfn).resolve(cfn.pointInTimeRecoverySpecification) as (RenderedPitr & { RecoveryPeriodInDays?: number }) | undefined;
        const currentDays = current?.recoveryPeriodInDays ?? current?.RecoveryPeriodInDays;
        cfn.pointInTimeRecoverySpecification = {
          pointInTimeRecoveryEnabled: true,
          // Raise, never lower: a longer period set on the table is kept.
          recoveryPeriodInDays: typeof currentDays === 'number' && currentDays > days ? currentDays : days,
        };
        if (table.node.children.some((c) => c instanceof CustomResource && c.node.id.startsWith('Replica'))) {
          Annotations.of(this).addWarningV2('cdk-backup-dr:dynamodb-v1-replicas',
            `${table.node.path} replicates with replicationRegions (custom resources): point-in-time recovery is only set on the ` +
            'table in this Region; migrate to TableV2 to have it on every replica');
        }
      } else if (cfn instanceof dynamodb.CfnGlobalTable) {
        // Replicas render lazily (replicas can still be added): set PITR on every replica before synthesis.
        Aspects.of(cfn).add(new ReplicaPitrAspect(cfn, days));
      } else {
        imported.push(table.node.path);
      }
    }
    if (imported.length > 0) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:dynamodb-imported',
        `${imported.join(', ')} ${imported.length === 1 ? 'is' : 'are'} not defined in this app: point-in-time recovery ` +
        `(RecoveryPeriodInDays ${days}) cannot be turned on here; ${imported.length === 1 ? 'it is' : 'they are'} protected by AWS Backup only. ` +
        'Enable PITR on the table itself' + (exportRequested ? ' (sampleExport fails without PITR)' : ''));
    }
  }

  /** The stack's backup role may use the tables' customer-managed keys (AWS Backup backs up and restores with them). */
  private grantBackupRoleKeys(tables: dynamodb.ITable[], role: iam.IRole) {
    const keyArns: string[] = [];
    const unknown: string[] = [];
    for (const table of tables) {
      const arn = table.encryptionKey?.keyArn ?? this.l1KeyArn(table);
      if (arn) {
        if (!keyArns.includes(arn)) keyArns.push(arn);
      } else if (!(table.node.defaultChild instanceof dynamodb.CfnTable || table.node.defaultChild instanceof dynamodb.CfnGlobalTable)) {
        unknown.push(table.node.path);
      }
    }
    if (keyArns.length > 0) {
      new iam.ManagedPolicy(this, 'BackupRoleKeyAccess', {
        description: `cdk-backup-dr: the AWS Backup role uses the customer-managed keys of the tables of ${this.node.path}`,
        roles: [role],
        statements: [
          new iam.PolicyStatement({ actions: BACKUP_KEY_ACTIONS, resources: keyArns }),
          new iam.PolicyStatement({
            actions: ['kms:CreateGrant'],
            resources: keyArns,
            conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
          }),
        ],
      });
    }
    if (unknown.length > 0) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:dynamodb-unknown-key',
        `the encryption key of ${unknown.join(', ')} is unknown (imported without encryptionKey): if a customer-managed key encrypts ` +
        `${unknown.length === 1 ? 'it' : 'them'}, AWS Backup jobs fail unless the stack's backup role may use the key; import the table with ` +
        'fromTableAttributes({ encryptionKey }) so the role is granted, or allow the role in the key policy');
    }
  }

  /** Key ARN set through the L1 (SSESpecification.KMSMasterKeyId) of a table defined in this app. */
  private l1KeyArn(table: dynamodb.ITable): string | undefined {
    const cfn = table.node.defaultChild;
    if (!(cfn instanceof dynamodb.CfnTable)) return undefined;
    const sse = Stack.of(cfn).resolve(cfn.sseSpecification) as { kmsMasterKeyId?: unknown; KMSMasterKeyId?: unknown } | undefined;
    const raw = (cfn.sseSpecification as dynamodb.CfnTable.SSESpecificationProperty | undefined)?.kmsMasterKeyId;
    const id = sse?.kmsMasterKeyId ?? sse?.KMSMasterKeyId;
    if (id === undefined || raw === undefined) return undefined;
    if (typeof id === 'string' && !id.startsWith('arn:')) {
      throw new BackupDrConfigError(
        `tables: ${table.node.path} is encrypted with KMS key "${id}" (a key id or alias), which the backup role cannot be granted ` +
        'by IAM policy; pass the key ARN (or use encryption: TableEncryption.CUSTOMER_MANAGED with encryptionKey) so AWS Backup can use it',
      );
    }
    return raw;
  }

  private grantRestore(props: DynamoPitrBackupProps) {
    const sources = props.tables.map((t) => t.tableArn);
    const targets = props.tables.map((t) => `${t.tableArn}-restore-*`);
    for (const access of props.access ?? []) {
      const level = inScope(this, () => access.levelFor(props.environment));
      iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeTable'], resourceArns: sources });
      if (level === AccessLevel.VIEW) continue;
      const restoreReason = 'cdk-backup-dr TeamAccess: point-in-time restores create a new table named <source>-restore-*';
      NagAcknowledgements.acknowledgeGrant(access.grantee,
        iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['dynamodb:RestoreTableToPointInTime'], resourceArns: [...sources, ...targets] }),
        restoreReason);
      // RestoreTableToPointInTime writes the restored items into the new table.
      NagAcknowledgements.acknowledgeGrant(access.grantee, iam.Grant.addToPrincipal({
        grantee: access.grantee,
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
        resourceArns: targets,
      }), restoreReason);
    }
  }

  private addSampleExport(props: DynamoPitrBackupProps, options: SampleExportOptions): lambda.IFunction {
    const stack = Stack.of(this);
    const prefix = checkSampleExport(options, 'dynamodb-samples/');
    const key = options.kmsKey ?? options.bucket.encryptionKey;
    const bucketAccount = options.bucket.env.account;
    const bucketOwner = !Token.isUnresolved(bucketAccount) && !Token.isUnresolved(stack.account) && bucketAccount !== stack.account
      ? bucketAccount : undefined;
    const objects = options.bucket.arnForObjects(`${prefix}*`);

    const exporter = new ScheduledExport(this, 'SampleExport', {
      purpose: `export of DynamoDB tables to S3 (${this.node.path})`,
      environment: props.environment,
      alarmTopic: options.alarmTopic ?? this.vault.notificationTopic,
    });
    exporter.addToBasePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:PutObjectAcl'], resources: [objects] }));
    NagAcknowledgements.acknowledgeWildcards(exporter.basePolicy, [], [objects],
      'DynamoDB writes export objects with generated names (AWSDynamoDB/<export id>/...) under the configured prefix only');
    if (key) {
      exporter.addToBasePolicy(new iam.PolicyStatement({ actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }));
    }
    exporter.grantOnSources(['dynamodb:ExportTableToPointInTime'], props.tables.map((t) => t.tableArn));
    props.tables.forEach((table, i) => {
      exporter.addSchedule(`Schedule${i + 1}`, {
        schedule: options.schedule ?? scheduler.ScheduleExpression.expression(DEFAULT_EXPORT_SCHEDULE),
        description: `cdk-backup-dr: export ${table.node.path} to S3 (sample of its data)`,
        event: {
          kind: 'dynamodb-table-export',
          tableArn: table.tableArn,
          bucket: options.bucket.bucketName,
          prefix: `${prefix}${table.tableName}`,
          ...(key ? { kmsKeyId: key.keyArn } : {}),
          ...(bucketOwner ? { bucketOwner } : {}),
        },
      });
    });

    // Teams that restore may read the exported samples.
    for (const access of props.access ?? []) {
      if (access.levelFor(props.environment) === AccessLevel.VIEW) continue;
      NagAcknowledgements.acknowledgeGrant(access.grantee,
        iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['s3:GetObject'], resourceArns: [objects] }),
        'cdk-backup-dr TeamAccess: read the table exports under the export prefix, whose keys DynamoDB creates at run time');
      if (key) iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['kms:Decrypt', 'kms:DescribeKey'], resourceArns: [key.keyArn] });
    }
    return exporter.function;
  }
}

/** Explicit cold-storage overrides need advanced features: AWS Backup rejects them for DynamoDB otherwise. */
function checkNoColdStorage(props: DynamoPitrBackupProps) {
  for (const prop of ['monthlySampleColdStorageAfter', 'yearlySampleColdStorageAfter'] as const) {
    const value = props.retention?.[prop];
    if (value) {
      throw new BackupDrConfigError(
        `retention.${prop} is ${value.toHumanString()}, but DynamoDB recovery points only move to cold storage with AWS Backup's ` +
        'advanced DynamoDB backup features; set advancedBackupFeatures: true, or remove the override',
      );
    }
  }
}

interface RenderedPitr { pointInTimeRecoveryEnabled?: boolean; recoveryPeriodInDays?: number }

/**
 * Sets `PointInTimeRecoverySpecification` on every replica of a global table (TableV2) once all replicas
 * are known, keeping a longer period configured on a replica.
 */
class ReplicaPitrAspect implements IAspect {
  constructor(private readonly table: dynamodb.CfnGlobalTable, private readonly days: number) {}

  public visit(node: IConstruct): void {
    if (node !== this.table) return;
    const replicas = Stack.of(node).resolve(this.table.replicas) as Array<{ pointInTimeRecoverySpecification?: RenderedPitr }> | undefined;
    (replicas ?? []).forEach((replica, i) => {
      const current = replica.pointInTimeRecoverySpecification?.recoveryPeriodInDays;
      this.table.addPropertyOverride(`Replicas.${i}.PointInTimeRecoverySpecification`, {
        PointInTimeRecoveryEnabled: true,
        RecoveryPeriodInDays: typeof current === 'number' && current > this.days ? current : this.days,
      });
    });
  }
}
