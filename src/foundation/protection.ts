import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BackupPlanRegistry, ProtectedResourceType, RegisteredPlan } from './plan-registry';
import { IRecoveryVault, RecoveryVault } from './recovery-vault';
import { TeamAccess } from '../access/team-access';
import { BackupCatalogMetadata } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { RetentionOptions } from '../core/retention';
import { BackupPolicyDerivation, BackupPolicyInput, DerivedBackupPolicy } from '../core/schedule-derivation';
import { BackupDrConfigError, inScope } from '../core/validation';

/** Props every cdk-backup-dr protection construct takes. */
export interface BackupDrProps {
  /** Declared RPO and RTO (see `RecoveryTier` for presets). */
  readonly objectives: RecoveryObjectives;
  /** Environment whose defaults apply. */
  readonly environment: DeploymentEnvironment;
  /**
   * Who may view, restore or administer these backups.
   * @default - no grants
   */
  readonly access?: TeamAccess[];
  /**
   * Vault for the recovery points (may live in another stack of the same account and region).
   * @default - the stack's shared vault for the environment (`RecoveryVault.forStack`)
   */
  readonly vault?: IRecoveryVault;
  /**
   * Overrides of the environment's retention defaults.
   * @default - the environment's defaults (README)
   */
  readonly retention?: RetentionOptions;
}

/** @internal What a construct hands to `protectWithBackup`. */
export interface ProtectionRequest extends Omit<BackupPolicyInput, 'objectives' | 'environment' | 'retention'> {
  readonly resourceArns: string[];
  readonly resourceType: ProtectedResourceType;
  /** Inventory "type of backup support". */
  readonly supportType: string;
  /** Record the inventory row (false when the caller records a combined row itself). Default true. */
  readonly recordInventory?: boolean;
}

/** @internal Result of `protectWithBackup`. */
export interface Protection {
  readonly vault: IRecoveryVault;
  readonly policy: DerivedBackupPolicy;
  readonly registry: BackupPlanRegistry;
  readonly plan: RegisteredPlan;
}

/**
 * @internal The one path every construct takes: resolve the vault, derive the rules, join the
 * stack's plan registry, grant team access and record the inventory entry.
 */
export function protectWithBackup(scope: Construct, props: BackupDrProps, request: ProtectionRequest): Protection {
  return inScope(scope, () => {
    const vault = resolveVault(scope, props);
    const { objectives, environment, retention } = props;
    const policy = BackupPolicyDerivation.derive({ ...request, objectives, environment, retention });
    const registry = BackupPlanRegistry.of(scope);
    const plan = registry.protect({ vault, policy, resourceArns: request.resourceArns, resourceType: request.resourceType });
    grantAccess(props, vault, registry);
    if (request.recordInventory === false) return { vault, policy, registry, plan };
    BackupCatalogMetadata.record(scope, {
      backupName: scope.node.path,
      content: request.content ?? BackupContent.CURRENT_DATA,
      periodicity: policy.periodicity,
      environment: props.environment,
      supportType: request.supportType,
      location: vault.backupVault.backupVaultArn,
      rpo: props.objectives.rpo.toHumanString(),
      rto: props.objectives.rto.toHumanString(),
    });
    return { vault, policy, registry, plan };
  });
}

/** @internal The given vault, checked against the environment, or the stack's shared one. */
export function resolveVault(scope: Construct, props: BackupDrProps): IRecoveryVault {
  const vault = props.vault ?? RecoveryVault.forStack(scope, props.environment);
  if (vault.environment !== props.environment) {
    if (props.environment === DeploymentEnvironment.PRO) {
      throw new BackupDrConfigError(
        `vault: a ${vault.environment} vault (${vault.node.path}) cannot hold PRO backups, whose vault is locked and ` +
        'stricter; pass a PRO RecoveryVault or omit vault to use the stack\'s PRO vault',
      );
    }
    Annotations.of(scope).addWarningV2('cdk-backup-dr:vault-environment',
      `${props.environment} backups are stored in a ${vault.environment} vault; they inherit its lock and retention limits`);
  }
  return vault;
}

/** @internal Grants every TeamAccess of the props on the vault, with the stack's backup role to pass. */
export function grantAccess(props: BackupDrProps, vault: IRecoveryVault, registry: BackupPlanRegistry): void {
  for (const access of props.access ?? []) {
    access.grantBackups({ vault, environment: props.environment, serviceRole: registry.role });
  }
}
