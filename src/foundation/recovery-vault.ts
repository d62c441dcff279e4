import { Duration, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { allowCloudWatchToPublish } from './alarm-topic';
import { BackupKey } from './backup-key';
import { EnvironmentBoundary } from '../access/environment-boundary';
import { DeploymentEnvironment } from '../core/environment';
import { PolicyDefaults } from '../core/retention';
import { BackupDrConfigError, checkRange, concreteDays, inScope } from '../core/validation';

/** @internal Actions on recovery points that only the break-glass principal may perform. */
export const PROTECTED_RECOVERY_POINT_ACTIONS = ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'];

/**
 * A recovery vault: where recovery points are kept, with its key and lock.
 */
export interface IRecoveryVault extends IConstruct {
  /** The AWS Backup vault. */
  readonly backupVault: backup.IBackupVault;
  /** Environment the vault serves (its lock defaults follow it). */
  readonly environment: DeploymentEnvironment;
  /**
   * Key that encrypts the recovery points.
   * @default - unknown (imported vault)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Vault lock minimum retention in days; rules keeping recovery points for less are rejected at synth.
   * @default - no lock
   */
  readonly lockMinRetentionDays?: number;
  /**
   * Vault lock maximum retention in days; rules keeping recovery points for longer are rejected at synth.
   * @default - no maximum
   */
  readonly lockMaxRetentionDays?: number;
  /**
   * Topic notified of failed backup, copy and restore jobs; the alarms of the constructs using the
   * vault notify it too.
   * @default - none (imported vault without a topic): alarms have no action and the synth warns
   */
  readonly notificationTopic?: sns.ITopic;
}

/** Vault lock settings. */
export interface VaultLockOptions {
  /**
   * Shortest retention the vault accepts.
   * @default Duration.days(1)
   */
  readonly minRetention?: Duration;
  /**
   * Longest retention the vault accepts.
   * @default - no maximum
   */
  readonly maxRetention?: Duration;
  /**
   * Cooling-off period: the lock can be removed during this time after deployment, after which it
   * becomes immutable (compliance mode). AWS requires at least 3 days.
   * @default Duration.days(3)
   */
  readonly changeableFor?: Duration;
}

/** Properties of a RecoveryVault. */
export interface RecoveryVaultProps {
  /** Environment the vault serves; PRO vaults are locked by default. */
  readonly environment: DeploymentEnvironment;
  /**
   * Name of the backup vault.
   * @default - generated from the construct path
   */
  readonly backupVaultName?: string;
  /**
   * Customer-managed key for recovery points and notifications.
   * @default - a new key with automatic rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Role allowed to delete recovery points or shorten their lifecycle (break glass).
   * Everyone else, administrators included, is denied by the vault access policy.
   * @default - nobody
   */
  readonly breakGlassRole?: iam.IRole;
  /**
   * Lock the vault (compliance mode after the cooling-off period).
   * @default - true for PRO, false otherwise
   */
  readonly vaultLock?: boolean;
  /**
   * Vault lock settings, used when the vault is locked.
   * @default - minimum retention 1 day, no maximum, 3-day cooling-off period
   */
  readonly vaultLockOptions?: VaultLockOptions;
  /**
   * Topic that receives failed backup, copy and restore job notifications.
   * @default - a new topic encrypted with the vault key, TLS-only
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * What happens to the vault and key when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Attributes to import an existing vault. */
export interface RecoveryVaultAttributes {
  /** Name of the existing backup vault. */
  readonly backupVaultName: string;
  /** Environment the vault serves. */
  readonly environment: DeploymentEnvironment;
  /**
   * Key of the vault.
   * @default - unknown
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Vault lock minimum retention, if the vault is locked.
   * @default - not locked
   */
  readonly lockMinRetention?: Duration;
  /**
   * Vault lock maximum retention, if set.
   * @default - none
   */
  readonly lockMaxRetention?: Duration;
  /**
   * Topic that receives the vault's failure notifications; the alarms of constructs using this vault
   * notify it. CloudWatch alarms must be allowed to publish to it (and to use its key) by its owner.
   * @default - none: alarms of constructs using this vault have no action, and the synth warns
   */
  readonly notificationTopic?: sns.ITopic;
}

const DEFAULT_CHANGEABLE_FOR = Duration.days(3);

/**
 * AWS Backup vault with a customer-managed key (rotation on), an access policy that denies deleting
 * recovery points or shortening their lifecycle (except to an optional break-glass role), an optional
 * vault lock (on by default for PRO) and notifications of failed jobs.
 */
export class RecoveryVault extends Construct implements IRecoveryVault {
  /**
   * The vault of `environment` shared by every construct of the stack that contains `scope`;
   * created on first use.
   */
  public static forStack(scope: Construct, environment: DeploymentEnvironment): RecoveryVault {
    const stack = Stack.of(scope);
    const id = `BackupDrVault${environment}`;
    return (stack.node.tryFindChild(id) as RecoveryVault | undefined) ?? new RecoveryVault(stack, id, { environment });
  }

  /** Import an existing vault by name. */
  public static fromVaultAttributes(scope: Construct, id: string, attrs: RecoveryVaultAttributes): IRecoveryVault {
    class Imported extends Resource implements IRecoveryVault {
      public readonly backupVault = backup.BackupVault.fromBackupVaultName(this, 'Resource', attrs.backupVaultName);
      public readonly environment = attrs.environment;
      public readonly encryptionKey = attrs.encryptionKey;
      public readonly lockMinRetentionDays = attrs.lockMinRetention && concreteDays(attrs.lockMinRetention, 'lockMinRetention');
      public readonly lockMaxRetentionDays = attrs.lockMaxRetention && concreteDays(attrs.lockMaxRetention, 'lockMaxRetention');
      public readonly notificationTopic = attrs.notificationTopic;
    }
    return inScope(scope, () => new Imported(scope, id));
  }

  public readonly backupVault: backup.IBackupVault;
  public readonly environment: DeploymentEnvironment;
  /** Customer-managed key of the vault (always set on a vault created by this construct). */
  public readonly encryptionKey?: kms.IKey;
  /** Topic receiving failure notifications. */
  /** Topic receiving failure notifications (always set on a vault created by this construct). */
  public readonly notificationTopic?: sns.ITopic;
  public readonly lockMinRetentionDays?: number;
  public readonly lockMaxRetentionDays?: number;

  constructor(scope: Construct, id: string, props: RecoveryVaultProps) {
    super(scope, id);
    this.environment = props.environment;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const key = props.encryptionKey ?? BackupKey.create(this, 'Key', {
      description: `cdk-backup-dr recovery vault key (${props.environment}) for ${this.node.path}`,
      removalPolicy,
    });
    this.encryptionKey = key;
    const topic = props.notificationTopic ?? new sns.Topic(this, 'Notifications', {
      displayName: `Backup failures (${props.environment})`,
      masterKey: key,
      enforceSSL: true,
    });
    this.notificationTopic = topic;
    // AWS Backup (vault notifications) and EventBridge (failed jobs) publish to the topic, and so do the
    // alarms of the constructs using this vault; on a topic created here this also lets them use the key.
    for (const service of ['backup.amazonaws.com', 'events.amazonaws.com']) {
      topic.grantPublish(new iam.ServicePrincipal(service));
    }
    allowCloudWatchToPublish(topic);

    const lock = inScope(this, () => this.renderLock(props));
    this.lockMinRetentionDays = lock && concreteDays(lock.minRetention, 'vaultLockOptions.minRetention');
    this.lockMaxRetentionDays = lock?.maxRetention && concreteDays(lock.maxRetention, 'vaultLockOptions.maxRetention');

    const accessPolicy = new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({
        sid: 'DenyRecoveryPointDeletionExceptBreakGlass',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: PROTECTED_RECOVERY_POINT_ACTIONS,
        resources: ['*'],
        conditions: props.breakGlassRole ? { ArnNotEquals: { 'aws:PrincipalArn': props.breakGlassRole.roleArn } } : undefined,
      }),
      // Environment boundary: only principals tagged cdk-backup-dr:access-<environment> read or restore these recovery points.
      ...EnvironmentBoundary.vaultStatements(props.environment, { exemptPrincipalArns: props.breakGlassRole && [props.breakGlassRole.roleArn] })],
    });

    const vault = new backup.BackupVault(this, 'Resource', {
      backupVaultName: props.backupVaultName,
      encryptionKey: key,
      accessPolicy,
      lockConfiguration: lock,
      notificationTopic: topic,
      // Only these vault events report failures; backup and restore failures come from EventBridge below.
      notificationEvents: [
        backup.BackupVaultEvents.COPY_JOB_FAILED,
        backup.BackupVaultEvents.S3_BACKUP_OBJECT_FAILED,
        backup.BackupVaultEvents.S3_RESTORE_OBJECT_FAILED,
      ],
      removalPolicy,
    });
    this.backupVault = vault;

    // Failed jobs reach the topic through EventBridge (vault notifications only cover copy jobs and S3).
    // Backup and copy job events name the vault; restore job events do not (they name the recovery
    // point's resource and the role), so every vault of the account and Region hears of failed restores.
    const failed = (ruleId: string, detailType: string, detail: Record<string, unknown>, what: string) => new events.Rule(this, ruleId, {
      description: `Failed ${what} (${this.node.path})`.slice(0, 512),
      eventPattern: { source: ['aws.backup'], detailType: [detailType], detail },
      targets: [new targets.SnsTopic(topic)],
    });
    failed('FailedJobs', 'Backup Job State Change',
      { state: ['FAILED', 'ABORTED', 'EXPIRED'], backupVaultName: [vault.backupVaultName] }, 'backup jobs of this vault');
    failed('FailedCopyJobs', 'Copy Job State Change',
      { state: ['FAILED', 'ABORTED'], sourceBackupVaultArn: [vault.backupVaultArn] }, 'copy jobs out of this vault (DR copies)');
    failed('FailedRestoreJobs', 'Restore Job State Change',
      { status: ['FAILED', 'ABORTED'] }, 'restore jobs of this account and Region');
  }

  private renderLock(props: RecoveryVaultProps): backup.LockConfiguration | undefined {
    const enabled = props.vaultLock ?? PolicyDefaults.of(props.environment).vaultLock;
    if (!enabled) {
      if (props.vaultLockOptions) {
        throw new BackupDrConfigError('vaultLockOptions is set but vaultLock is false; remove vaultLockOptions or set vaultLock: true');
      }
      return undefined;
    }
    const o = props.vaultLockOptions ?? {};
    const minRetention = o.minRetention ?? Duration.days(1);
    const changeableFor = o.changeableFor ?? DEFAULT_CHANGEABLE_FOR;
    const min = concreteDays(minRetention, 'vaultLockOptions.minRetention');
    checkRange(min, 1, 36_500, 'vaultLockOptions.minRetention (days)', 'AWS Backup accepts 1 day to 100 years');
    if (o.maxRetention) {
      const max = concreteDays(o.maxRetention, 'vaultLockOptions.maxRetention');
      checkRange(max, min, 36_500, 'vaultLockOptions.maxRetention (days)', 'it must be at least minRetention and at most 100 years');
    }
    if (!Token.isUnresolved(changeableFor.toDays({ integral: false })) && changeableFor.toDays({ integral: false }) < 3) {
      throw new BackupDrConfigError(
        `vaultLockOptions.changeableFor is ${changeableFor.toHumanString()}, but AWS Backup requires a cooling-off period of at least 3 days ` +
        'before a lock becomes immutable; use Duration.days(3) or more',
      );
    }
    return { minRetention, maxRetention: o.maxRetention, changeableFor };
  }
}
