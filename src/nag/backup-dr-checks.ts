import { CfnResource, Duration, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { NagMessageLevel, NagPack, NagPackProps } from 'cdk-nag';
import { IConstruct } from 'constructs';
import {
  BackupPlanMeetsRpo, BackupPlanMinimumRetention, BackupPlanProCopiesToDrSite, BackupVaultDeniesRecoveryPointDeletion,
  BackupVaultProLocked, DynamoDBPointInTimeRecovery, DynamoDBTableBackedUp, EFSFileSystemBackedUp, RDSBackupRetentionEnabled,
  RDSClusterBackedUp, RDSInstanceBackedUp, S3BucketBackedUp,
} from './rules';
import { BackupDrModel } from './rules/backup-dr-model';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError } from '../core/validation';

/** Properties of the BackupDrChecks pack. */
export interface BackupDrChecksProps extends NagPackProps {
  /**
   * RPO that every AWS Backup plan of the app must meet (interval plus start window of its best rule), for plans
   * that do not declare their own with the `cdk-backup-dr:rpo-minutes` tag.
   * @default - only plans with the `cdk-backup-dr:rpo-minutes` tag are checked against an RPO
   */
  readonly maxRpo?: Duration;

  /**
   * Environment whose minimum retention applies to plans whose environment cannot be read from their tags,
   * vault or selected resources.
   * @default - such plans are not checked for retention
   */
  readonly defaultEnvironment?: DeploymentEnvironment;
}

const PACK = 'BackupDR';

/**
 * cdk-nag 3 pack that finds data the app does not protect and backup plans that cannot keep their promises.
 * Works on any app, with or without cdk-backup-dr constructs:
 * `Validations.of(app).addPlugins(new BackupDrChecks(app))`. Acknowledge a finding with
 * `Validations.of(construct).acknowledge({ id: 'BackupDR-S3BucketBackedUp', reason })` (or
 * `NagAcknowledgements.acknowledge`); findings of BackupPlanMinimumRetention are per plan rule:
 * `BackupDR-BackupPlanMinimumRetention[RuleName]`.
 */
export class BackupDrChecks extends NagPack {
  public readonly name = PACK;
  private readonly maxRpo?: Duration;
  private readonly defaultEnvironment?: DeploymentEnvironment;

  constructor(scope?: IConstruct, props: BackupDrChecksProps = {}) {
    super(scope, props);
    this.packName = PACK;
    if (props.maxRpo) {
      if (props.maxRpo.isUnresolved()) {
        throw new BackupDrConfigError('BackupDrChecks: maxRpo is a token; pass a concrete Duration such as Duration.hours(24)');
      }
      if (props.maxRpo.toMinutes({ integral: false }) <= 0) {
        throw new BackupDrConfigError(`BackupDrChecks: maxRpo is ${props.maxRpo.toHumanString()}; declare a positive RPO such as Duration.hours(24)`);
      }
    }
    this.maxRpo = props.maxRpo;
    this.defaultEnvironment = props.defaultEnvironment;
  }

  public validateScope(scope: IConstruct): PolicyValidationPluginReport {
    BackupDrModel.reset(scope);
    try {
      return super.validateScope(scope);
    } finally {
      BackupDrModel.reset(scope);
    }
  }

  protected checkResource(node: CfnResource): void {
    const uncovered = (what: string) =>
      `${what} is not protected: no AWS::Backup::BackupSelection of the app selects it (by ARN or tag) and no cdk-backup-dr construct covers it. ` +
      'Fix: protect it with a cdk-backup-dr construct (RdsBackupPolicy, DynamoPitrBackup, S3ArchiveLifecycle) or add it to an AWS Backup plan ' +
      '(backup.BackupPlan#addSelection with BackupResource.fromConstruct/fromTag), or acknowledge why it holds no data worth keeping.';
    const explanation = 'A stateful resource without backups is lost for good after a deletion, a corruption or a ransomware attack.';
    this.applyRule({ info: uncovered('The RDS DB instance'), explanation, level: NagMessageLevel.ERROR, rule: RDSInstanceBackedUp, node });
    this.applyRule({ info: uncovered('The RDS/Aurora DB cluster'), explanation, level: NagMessageLevel.ERROR, rule: RDSClusterBackedUp, node });
    this.applyRule({ info: uncovered('The DynamoDB table'), explanation, level: NagMessageLevel.ERROR, rule: DynamoDBTableBackedUp, node });
    this.applyRule({ info: uncovered('The S3 bucket'), explanation, level: NagMessageLevel.ERROR, rule: S3BucketBackedUp, node });
    this.applyRule({ info: uncovered('The EFS file system'), explanation, level: NagMessageLevel.ERROR, rule: EFSFileSystemBackedUp, node });

    this.applyRule({
      info: 'The DynamoDB table does not have point-in-time recovery on. Fix: pointInTimeRecoverySpecification ' +
        '{ pointInTimeRecoveryEnabled: true } (or protect it with DynamoPitrBackup).',
      explanation: 'Without PITR the best RPO of a DynamoDB table is the interval of its scheduled backups (hours), and a bad write cannot be undone to the second.',
      level: NagMessageLevel.ERROR,
      rule: DynamoDBPointInTimeRecovery,
      node,
    });
    this.applyRule({
      info: 'The RDS database has BackupRetentionPeriod 0: automated backups and point-in-time restore are off. ' +
        'Fix: backupRetention of 1–35 days (or protect it with RdsBackupPolicy).',
      explanation: 'With retention 0 RDS keeps no automated backups, and turning them on later leaves no history to restore from.',
      level: NagMessageLevel.ERROR,
      rule: RDSBackupRetentionEnabled,
      node,
    });
    this.applyRule({
      info: 'The backup plan protects PRO resources but no rule copies recovery points to a DR site (CopyActions). ' +
        'Fix: add a copy action to a vault in another region or account (a cdk-backup-dr DR site), or acknowledge the decision.',
      explanation: 'A region-wide outage or a compromised account takes the only copy of production backups with it.',
      level: NagMessageLevel.ERROR,
      rule: BackupPlanProCopiesToDrSite,
      node,
    });
    this.applyRule({
      info: 'The PRO backup vault has no vault lock (LockConfiguration). Fix: RecoveryVault (locked by default for PRO) ' +
        'or backup.BackupVault lockConfiguration { minRetention }, with a changeable-for period to test it first.',
      explanation: 'Without a lock, anyone with enough IAM permissions (or an attacker holding them) can delete production recovery points or shorten their retention.',
      level: NagMessageLevel.ERROR,
      rule: BackupVaultProLocked,
      node,
    });
    this.applyRule({
      info: 'The backup vault access policy does not deny backup:DeleteRecoveryPoint to every principal (or allows it to everyone). ' +
        'Fix: RecoveryVault (denies deletion except to a break-glass role) or backup.BackupVault blockRecoveryPointDeletion: true.',
      explanation: 'IAM alone lets administrators delete recovery points; a vault policy deny is the second lock.',
      level: NagMessageLevel.ERROR,
      rule: BackupVaultDeniesRecoveryPointDeletion,
      node,
    });
    this.applyRule({
      ruleSuffixOverride: BackupPlanMeetsRpo.name,
      info: 'The backup plan cannot meet its declared RPO: its best rule\'s longest interval plus start window ' +
        '(8 hours when StartWindowMinutes is unset) is longer. Fix: a shorter schedule, an explicit StartWindowMinutes ' +
        '(at least 60), or continuous backup; cdk-backup-dr constructs derive such rules from the RPO.',
      explanation: 'A job may start at any time in its start window, so the worst-case data loss is the interval plus the window.',
      level: NagMessageLevel.ERROR,
      rule: (n: CfnResource) => BackupPlanMeetsRpo(n, this.maxRpo),
      node,
    });
    this.applyRule({
      ruleSuffixOverride: BackupPlanMinimumRetention.name,
      info: 'A backup plan rule keeps recovery points for less than the environment\'s routine retention (Pro 35, QA 14, ' +
        'Dev 7 days). Fix: Lifecycle.DeleteAfterDays at least that long, or acknowledge the rule with the reason.',
      explanation: 'Corruption is often found days after it happened; every recovery point from before it must still exist.',
      level: NagMessageLevel.WARN,
      rule: (n: CfnResource) => BackupPlanMinimumRetention(n, this.defaultEnvironment),
      node,
    });
  }
}
