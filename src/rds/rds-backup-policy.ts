import { Annotations, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct, IConstruct } from 'constructs';
import { AccessLevel } from '../access/team-access';
import { CatalogResourceType } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { BackupRuleKind, ContinuousBackupSupport, DerivedBackupPolicy } from '../core/schedule-derivation';
import { BackupDrConfigError, checkRange, concreteDays, inScope } from '../core/validation';
import { applyRdsDr } from '../dr/rds-replication';
import { BackupKey } from '../foundation/backup-key';
import { ProtectedResourceType } from '../foundation/plan-registry';
import { BackupDrProps, checkBaseProps, protectWithBackup } from '../foundation/protection';
import { IRecoveryVault } from '../foundation/recovery-vault';
import { SampleExportOptions, checkSampleExport } from '../foundation/sample-export-options';
import { DEFAULT_EXPORT_SCHEDULE, ScheduledExport } from '../foundation/scheduled-export';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';
import { COMPLIANCE_NAG_PACKS } from '../nag/nag-packs';
import { ProtectionVerification, VerifiedResourceType } from '../verification';

/** RDS automated backups (and AWS Backup continuous backup) keep 1 to 35 days. */
const MAX_NATIVE_RETENTION_DAYS = 35;
/** How far point-in-time recovery of RDS and Aurora lags behind (transaction logs are uploaded every 5 minutes). */
const RDS_MINIMUM_CONTINUOUS_RPO = Duration.minutes(5);
/** Engines whose snapshots RDS can export to S3 (StartExportTask). */
const EXPORTABLE_ENGINES = /^(mysql|mariadb|postgres|aurora|aurora-mysql|aurora-postgresql)$/;
/** RDS runs at most 5 snapshot export tasks per account at a time. */
const MAX_CONCURRENT_RDS_EXPORTS = 5;

/** Properties of an RdsBackupPolicy. */
export interface RdsBackupPolicyProps extends BackupDrProps {
  /**
   * RDS DB instances to protect (not members of an Aurora cluster: protect the cluster instead).
   * @default - none (at least one instance or cluster is required)
   */
  readonly instances?: rds.IDatabaseInstance[];
  /**
   * Aurora (or Multi-AZ) DB clusters to protect.
   * @default - none (at least one instance or cluster is required)
   */
  readonly clusters?: rds.IDatabaseCluster[];
  /**
   * Content class of the databases.
   * @default BackupContent.CURRENT_DATA
   */
  readonly content?: BackupContent;
  /**
   * RDS automated backup retention (`BackupRetentionPeriod`) of the databases defined in this app, 1–35 days.
   * When the plan uses AWS Backup continuous backup, AWS Backup manages this window and sets it to the
   * continuous rule's retention; a different value here is reported as a warning.
   * @default - the derived point-in-time recovery window: the routine retention, at most 35 days
   */
  readonly automatedBackupRetention?: Duration;
  /**
   * The policy's updated monthly sample: export the latest automated snapshot of every database to S3
   * (Parquet, `StartExportTask`) on a schedule.
   * @default - no export
   */
  readonly sampleExport?: SampleExportOptions;
}

interface Database {
  readonly kind: 'instance' | 'cluster';
  readonly construct: IConstruct;
  readonly arn: string;
  readonly identifier: string;
  /** The L1 when defined in this app. */
  readonly cfn?: rds.CfnDBInstance | rds.CfnDBCluster;
}

/**
 * Objectives-driven protection of RDS DB instances and Aurora clusters:
 *
 * - native: automated backups with `BackupRetentionPeriod` from the objectives (1–35 days) and
 *   `CopyTagsToSnapshot` on databases defined in this app (imported ones get a warning);
 * - AWS Backup: continuous backup when the RPO is below what snapshots meet, scheduled snapshots
 *   otherwise, plus the policy's monthly and yearly samples (RDS has no cold storage), in the stack's
 *   shared plan;
 * - optionally the policy's custom periodic procedure: a monthly snapshot export to S3 by a Lambda function;
 * - access: the teams' grants on the vault plus point-in-time restore of these databases (RESTORE and ADMIN).
 *
 * Point-in-time restores granted to teams must create a database named `<source identifier>-restore-<suffix>`.
 */
export class RdsBackupPolicy extends Construct {
  /** Vault holding the recovery points. */
  public readonly vault: IRecoveryVault;
  /** The (shared) AWS Backup plan the databases joined. */
  public readonly backupPlan: backup.IBackupPlan;
  /** The derived rules. */
  public readonly policy: DerivedBackupPolicy;
  /** Automated backup retention set on databases defined in this app, in days. */
  public readonly automatedBackupRetentionDays: number;
  /**
   * Function exporting snapshots to S3.
   * @default - no export
   */
  public readonly exportFunction?: lambda.IFunction;
  /**
   * Key encrypting the exports.
   * @default - no export
   */
  public readonly exportKey?: kms.IKey;
  /**
   * Role RDS assumes to write the exports (trusts export.rds.amazonaws.com).
   * @default - no export
   */
  public readonly exportRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: RdsBackupPolicyProps) {
    super(scope, id);
    inScope(this, () => checkBaseProps(props));
    const databases = [
      ...(props.instances ?? []).map((i): Database => ({
        kind: 'instance',
        construct: i,
        arn: i.instanceArn,
        identifier: i.instanceIdentifier,
        cfn: i.node.defaultChild instanceof rds.CfnDBInstance ? i.node.defaultChild : undefined,
      })),
      ...(props.clusters ?? []).map((c): Database => ({
        kind: 'cluster',
        construct: c,
        arn: c.clusterArn,
        identifier: c.clusterIdentifier,
        cfn: c.node.defaultChild instanceof rds.CfnDBCluster ? c.node.defaultChild : undefined,
      })),
    ];

    const result = inScope(this, () => {
      if (databases.length === 0) {
        throw new BackupDrConfigError('instances and clusters are both empty; pass at least one rds.IDatabaseInstance or rds.IDatabaseCluster to protect');
      }
      checkNoClusterMembers(props.instances ?? [], props.clusters ?? []);
      checkNoColdStorage(props);
      if (props.environment === DeploymentEnvironment.PRO) {
        // PRO recovery points are copied to the DR site by default (PolicyDefaults copyToDrSite), and encryption
        // cannot be added to a database in place later: reject unencrypted PRO databases now, not when a site is added.
        checkEncryptedForCopy(databases, 'environment is PRO, whose recovery points are copied to the DR site');
      }

      const protection = protectWithBackup(this, props, {
        content: props.content,
        resourceArns: databases.map((d) => d.arn),
        resourceType: ProtectedResourceType.RDS,
        catalogResources: databases.map((d) => ({
          type: d.kind === 'instance' ? CatalogResourceType.RDS_INSTANCE : CatalogResourceType.AURORA_CLUSTER, identifier: d.identifier, arn: d.arn,
        })),
        supportType: 'AWS Backup + RDS automated backups' + (props.sampleExport ? ' + scheduled snapshot export to S3' : ''),
        continuousBackup: ContinuousBackupSupport.AWS_BACKUP,
        minimumContinuousRpo: RDS_MINIMUM_CONTINUOUS_RPO,
        coldStorageSupported: false,
      });
      const retentionDays = this.nativeRetention(props, protection.policy);
      this.configureNativeBackups(databases, protection.policy, retentionDays, props);
      // DR site: checks, and cross-Region automated backups from PILOT_LIGHT up (src/dr/rds-replication.ts).
      if (props.drSite) {
        applyRdsDr(this, { ...props, drSite: props.drSite, replicationRetentionDays: retentionDays });
      }
      return { protection, retentionDays };
    });

    this.vault = result.protection.vault;
    this.backupPlan = result.protection.plan.plan;
    this.policy = result.protection.policy;
    this.automatedBackupRetentionDays = result.retentionDays;
    for (const [resourceType, kind] of [[VerifiedResourceType.RDS_INSTANCE, 'instance'], [VerifiedResourceType.AURORA_CLUSTER, 'cluster']] as const) {
      ProtectionVerification.register(this, {
        resourceType,
        resources: databases.filter((d) => d.kind === kind),
        environment: props.environment,
        objectives: props.objectives,
        policy: this.policy,
        vault: this.vault,
        backupPlan: this.backupPlan,
        restoreTesting: props.restoreTesting,
        continuousNative: this.policy.rules.some((r) => r.enableContinuousBackup),
      });
    }
    this.grantRestore(props, databases);

    if (props.sampleExport) {
      const exp = inScope(this, () => this.addSnapshotExport(props, props.sampleExport!, databases));
      this.exportFunction = exp.function;
      this.exportKey = exp.key;
      this.exportRole = exp.role;
    }
  }

  private nativeRetention(props: RdsBackupPolicyProps, policy: DerivedBackupPolicy): number {
    if (!props.automatedBackupRetention) return policy.pointInTimeRecoveryDays;
    const days = concreteDays(props.automatedBackupRetention, 'automatedBackupRetention');
    checkRange(days, 1, MAX_NATIVE_RETENTION_DAYS, 'automatedBackupRetention (days)',
      'RDS keeps automated backups for 1 to 35 days; keep longer history with retention.routine, which AWS Backup snapshots honour');
    const continuous = policy.rules.find((r) => r.kind === BackupRuleKind.CONTINUOUS);
    if (continuous && continuous.deleteAfter.toDays() !== days) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:rds-retention-managed-by-backup',
        `automatedBackupRetention is ${days} days, but AWS Backup continuous backup manages the automated backup window and sets it to ` +
        `${continuous.deleteAfter.toDays()} days (the continuous rule's retention); the template value will drift. Remove automatedBackupRetention`);
    } else if (days < policy.pointInTimeRecoveryDays) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:rds-retention-weakened',
        `automatedBackupRetention of ${days} days is shorter than the ${policy.pointInTimeRecoveryDays} days derived for ${props.environment}; ` +
        'point-in-time restores will not reach as far back as the policy expects');
    }
    return days;
  }

  private configureNativeBackups(databases: Database[], policy: DerivedBackupPolicy, retentionDays: number, props: RdsBackupPolicyProps) {
    const managedByBackup = policy.rules.some((r) => r.kind === BackupRuleKind.CONTINUOUS);
    const imported: string[] = [];
    for (const db of databases) {
      if (!db.cfn) {
        imported.push(db.construct.node.path);
        continue;
      }
      if (db.cfn instanceof rds.CfnDBInstance && db.cfn.dbClusterIdentifier !== undefined) {
        // Aurora members take their backups from the cluster (checkNoClusterMembers rejects protected ones).
        continue;
      }
      const current = db.cfn.backupRetentionPeriod;
      const concrete = typeof current === 'number' && !Token.isUnresolved(current) ? current : undefined;
      let target = retentionDays;
      if (!props.automatedBackupRetention && concrete !== undefined && concrete > target) {
        if (managedByBackup) {
          Annotations.of(this).addWarningV2('cdk-backup-dr:rds-retention-replaced',
            `${db.construct.node.path} keeps automated backups for ${concrete} days, but AWS Backup continuous backup manages that window ` +
            `for this plan and sets it to ${target} days; keep longer history with retention.routine`);
        } else {
          // Raise, never lower: a longer window set on the database is kept.
          target = concrete;
        }
      }
      db.cfn.backupRetentionPeriod = target;
      db.cfn.copyTagsToSnapshot = true;
      if (db.kind === 'cluster') acknowledgeClusterMembers(db.construct);
    }
    if (imported.length > 0) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:rds-imported',
        `${imported.join(', ')} ${imported.length === 1 ? 'is' : 'are'} not defined in this app: their automated backup retention ` +
        `(BackupRetentionPeriod ${retentionDays} days expected) and CopyTagsToSnapshot cannot be set here; they are protected by AWS Backup only. ` +
        'Set the retention on the database itself' + (props.sampleExport ? ' (snapshot exports need automated backups enabled)' : ''));
    }
  }

  private grantRestore(props: RdsBackupPolicyProps, databases: Database[]) {
    if (!props.access || props.access.length === 0) return;
    const stack = Stack.of(this);
    const instances = databases.filter((d) => d.kind === 'instance');
    const clusters = databases.filter((d) => d.kind === 'cluster');
    // Restores may name an existing subnet group, option group and parameter group for the new database.
    const related = (types: string[]) => types.map((resource) =>
      stack.formatArn({ service: 'rds', resource, resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
    for (const access of props.access) {
      const level = inScope(this, () => access.levelFor(props.environment));
      const grant = (actions: string[], resourceArns: string[]) => {
        if (resourceArns.length === 0) return;
        NagAcknowledgements.acknowledgeGrant(access.grantee, iam.Grant.addToPrincipal({ grantee: access.grantee, actions, resourceArns }),
          'cdk-backup-dr TeamAccess: restores create a new database named <source>-restore-*, and may use any subnet, option or parameter group');
      };
      grant(['rds:DescribeDBInstances'], instances.map((d) => d.arn));
      grant(['rds:DescribeDBClusters'], clusters.map((d) => d.arn));
      if (level === AccessLevel.VIEW) continue;
      if (instances.length > 0) {
        grant(['rds:RestoreDBInstanceToPointInTime'], [...instances.flatMap((d) => [d.arn, `${d.arn}-restore-*`]), ...related(['subgrp', 'og', 'pg'])]);
      }
      if (clusters.length > 0) {
        grant(['rds:RestoreDBClusterToPointInTime'], [...clusters.flatMap((d) => [d.arn, `${d.arn}-restore-*`]), ...related(['subgrp', 'og', 'cluster-pg'])]);
      }
    }
  }

  private addSnapshotExport(props: RdsBackupPolicyProps, options: SampleExportOptions, databases: Database[]) {
    const stack = Stack.of(this);
    const prefix = checkSampleExport(options, 'rds-samples/');
    for (const db of databases) {
      const engine = db.cfn?.engine;
      if (engine !== undefined && !Token.isUnresolved(engine) && !EXPORTABLE_ENGINES.test(engine)) {
        throw new BackupDrConfigError(
          `sampleExport: ${db.construct.node.path} runs engine "${engine}", whose snapshots RDS cannot export to S3 ` +
          '(MySQL, MariaDB, PostgreSQL and Aurora only); remove it from this construct or drop sampleExport',
        );
      }
    }
    if (databases.length > MAX_CONCURRENT_RDS_EXPORTS && !options.schedule) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:rds-export-concurrency',
        `sampleExport exports ${databases.length} databases on one schedule, but RDS runs at most ${MAX_CONCURRENT_RDS_EXPORTS} export tasks ` +
        'per account at a time; runs are spread over a 4-hour window, and failed runs raise the export alarm. Split the databases over ' +
        'constructs with different schedules if exports are large');
    }

    const key = options.kmsKey ?? BackupKey.create(this, 'ExportKey', { description: `cdk-backup-dr: encrypts RDS snapshot exports of ${this.node.path}` });

    // Role RDS assumes to write the export.
    const exportRole = new iam.Role(this, 'ExportRole', {
      description: `RDS snapshot export to S3 (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal('export.rds.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    const objects = options.bucket.arnForObjects(`${prefix}*`);
    // The object permissions RDS documents for snapshot export, limited to the export prefix.
    const objectActions = ['s3:PutObject*', 's3:GetObject*', 's3:DeleteObject*'];
    const exportStatements = [
      new iam.PolicyStatement({ actions: objectActions, resources: [objects] }),
      new iam.PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [options.bucket.bucketArn] }),
    ];
    if (options.bucket.encryptionKey) {
      exportStatements.push(new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resources: [options.bucket.encryptionKey.keyArn],
      }));
    }
    const exportPolicy = new iam.ManagedPolicy(this, 'ExportRolePolicy', {
      description: `cdk-backup-dr: RDS writes snapshot exports under s3://<bucket>/${prefix} (${this.node.path})`,
      roles: [exportRole],
      statements: exportStatements,
    });
    NagAcknowledgements.acknowledgeWildcards(exportPolicy, objectActions, [objects],
      'RDS snapshot export writes, reads back and cleans up Parquet objects with generated names; these are the object actions RDS ' +
      'documents for the export role, on the export prefix of the bucket only');

    const exporter = new ScheduledExport(this, 'SnapshotExport', {
      purpose: `monthly export of RDS snapshots to S3 (${this.node.path})`,
      environment: props.environment,
      alarmTopic: options.alarmTopic ?? this.vault.notificationTopic,
    });
    exporter.addToBasePolicy(
      // DescribeExportTasks has no resource-level permissions.
      new iam.PolicyStatement({ actions: ['rds:DescribeExportTasks'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [exportRole.roleArn] }),
      new iam.PolicyStatement({ actions: ['kms:CreateGrant', 'kms:DescribeKey'], resources: [key.keyArn] }),
    );
    NagAcknowledgements.acknowledgeWildcards(exporter.basePolicy, [], ['*'],
      'rds:DescribeExportTasks has no resource-level permissions (IAM only accepts "*"); it is read-only and lets a retried run check this month\'s export task');
    databases.forEach((db, i) => {
      const snapshots = db.kind === 'instance'
        ? stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: `rds:${db.identifier}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })
        : stack.formatArn({ service: 'rds', resource: 'cluster-snapshot', resourceName: `rds:${db.identifier}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      exporter.grantOnSources(
        [db.kind === 'instance' ? 'rds:DescribeDBSnapshots' : 'rds:DescribeDBClusterSnapshots', 'rds:StartExportTask'],
        [db.arn, snapshots],
        'RDS names automated snapshots rds:<database identifier>-<timestamp>; the pattern matches the snapshots of this database only',
      );
      exporter.addSchedule(`Schedule${i + 1}`, {
        schedule: options.schedule ?? scheduler.ScheduleExpression.expression(DEFAULT_EXPORT_SCHEDULE),
        flexibleWindow: Duration.hours(4),
        description: `cdk-backup-dr: export the latest automated snapshot of ${db.construct.node.path} to S3`,
        event: {
          kind: 'rds-snapshot-export',
          sourceArn: db.arn,
          bucket: options.bucket.bucketName,
          prefix: `${prefix}${db.identifier}`,
          kmsKeyId: key.keyArn,
          exportRoleArn: exportRole.roleArn,
        },
      });
    });

    // Teams that restore may read the exported samples.
    for (const access of props.access ?? []) {
      if (access.levelFor(props.environment) === AccessLevel.VIEW) continue;
      NagAcknowledgements.acknowledgeGrant(access.grantee,
        iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['s3:GetObject'], resourceArns: [objects] }),
        'cdk-backup-dr TeamAccess: read the snapshot exports under the export prefix, whose keys RDS creates at run time');
      iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['kms:Decrypt', 'kms:DescribeKey'], resourceArns: [key.keyArn] });
    }
    return { function: exporter.function, key, role: exportRole };
  }
}

/** Instances that are members of an Aurora cluster: protected through their cluster, never on their own. */
function checkNoClusterMembers(instances: rds.IDatabaseInstance[], clusters: rds.IDatabaseCluster[]) {
  for (const instance of instances) {
    const stack = Stack.of(instance);
    const cfn = instance.node.defaultChild;
    const memberOf = cfn instanceof rds.CfnDBInstance ? cfn.dbClusterIdentifier : undefined;
    for (const cluster of clusters) {
      const sameCluster = memberOf !== undefined && sameValue(stack, clusterIdentifierOf(memberOf), cluster.clusterIdentifier);
      const listedMember = (cluster.instanceIdentifiers ?? []).some((m) => sameValue(stack, m, instance.instanceIdentifier));
      if (sameCluster || listedMember) {
        throw new BackupDrConfigError(
          `instances: ${instance.node.path} is a member of cluster ${cluster.node.path}, which is also protected; Aurora instances have no ` +
          'backups of their own (the cluster keeps them), so remove the instance from instances',
        );
      }
    }
    if (memberOf !== undefined) {
      throw new BackupDrConfigError(
        `instances: ${instance.node.path} is a member of an Aurora DB cluster, and Aurora instances have no backups of their own; ` +
        'protect the cluster (clusters: [cluster]) instead of the instance',
      );
    }
  }
}

/**
 * cdk-nag's RDSInBackupPlan looks for every DB instance in a backup selection; Aurora members are backed
 * up through their cluster, which this construct selects.
 */
function acknowledgeClusterMembers(cluster: IConstruct) {
  for (const member of cluster.node.findAll()) {
    if (member instanceof rds.CfnDBInstance && member.dbClusterIdentifier !== undefined) {
      // RDSInBackupPlan exists in these two packs only.
      for (const pack of COMPLIANCE_NAG_PACKS.filter((p) => p !== 'PCI.DSS.321')) {
        NagAcknowledgements.acknowledge(member, `${pack}-RDSInBackupPlan`,
          `Aurora instances have no backups of their own: their cluster ${cluster.node.path} is in the AWS Backup plan (RdsBackupPolicy)`);
      }
    }
  }
}

function checkNoColdStorage(props: RdsBackupPolicyProps) {
  for (const prop of ['monthlySampleColdStorageAfter', 'yearlySampleColdStorageAfter'] as const) {
    const value = props.retention?.[prop];
    if (value) {
      throw new BackupDrConfigError(
        `retention.${prop} is ${value.toHumanString()}, but AWS Backup cannot move RDS recovery points to cold storage; ` +
        `remove retention.${prop} (samples of RDS stay in warm storage)`,
      );
    }
  }
}

/**
 * Databases whose recovery points are copied to a DR site must be encrypted: an unencrypted
 * database cannot be encrypted in place later, and PRO data crosses regions/accounts. Only databases
 * defined in this app are checked (`storageEncrypted` explicitly false or absent without a snapshot or
 * replication source to inherit it from).
 */
function checkEncryptedForCopy(databases: ReadonlyArray<Pick<Database, 'construct' | 'cfn'>>, reason: string): void {
  for (const db of databases) {
    const cfn = db.cfn;
    if (!cfn) continue;
    const encrypted = cfn.storageEncrypted;
    if (encrypted === true || Token.isUnresolved(encrypted)) continue;
    if (cfn instanceof rds.CfnDBInstance) {
      // Aurora members, snapshot restores and replicas inherit encryption.
      if (cfn.dbClusterIdentifier !== undefined || cfn.dbSnapshotIdentifier !== undefined || cfn.sourceDbInstanceIdentifier !== undefined) continue;
    } else if (cfn.snapshotIdentifier !== undefined || cfn.sourceDbClusterIdentifier !== undefined || cfn.engineMode === 'serverless') {
      continue;
    }
    throw new BackupDrConfigError(
      `${db.construct.node.path} has storageEncrypted ${encrypted === false ? 'false' : 'unset (unencrypted)'}, but ${reason}; ` +
      'set storageEncrypted: true (or a storageEncryptionKey) on the database — existing unencrypted databases must be migrated ' +
      'through an encrypted snapshot copy',
    );
  }
}

function clusterIdentifierOf(value: unknown): unknown {
  const ref = (value as { dbClusterRef?: { dbClusterIdentifier: string } } | undefined)?.dbClusterRef;
  return ref ? ref.dbClusterIdentifier : value;
}

/** Equality of two possibly-token values (both resolved in the stack). */
function sameValue(stack: Stack, a: unknown, b: unknown): boolean {
  const ra = JSON.stringify(stack.resolve(a));
  const rb = JSON.stringify(stack.resolve(b));
  return ra.toLowerCase() === rb.toLowerCase();
}
