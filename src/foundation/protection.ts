import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { IDrSecondarySite } from './dr-site';
import { BackupPlanRegistry, ProtectedResourceType, RegisteredPlan } from './plan-registry';
import { IRecoveryVault, RecoveryVault } from './recovery-vault';
import { EnvironmentBoundary } from '../access/environment-boundary';
import { AccessLevel, TeamAccess } from '../access/team-access';
import { BackupCatalogMetadata, CatalogAccess, CatalogDrSite, CatalogResource } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives, checkObjectivesShape } from '../core/recovery-objectives';
import { RestoreTestingOptions } from '../core/restore-testing-options';
import { RetentionOptions } from '../core/retention';
import { BackupPolicyDerivation, BackupPolicyInput, DerivedBackupPolicy } from '../core/schedule-derivation';
import { BackupDrConfigError, checkEnum, inScope, requireProp } from '../core/validation';

/**
 * What every cdk-backup-dr construct takes: the objectives it must meet, the environment whose
 * defaults apply, who may see or restore the backups, and the DR site that receives copies.
 */
export interface BackupDrBaseProps {
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
   * Disaster-recovery secondary site that receives copies (another Region, optionally another account).
   * @default - no DR copies: backups live in this Region and account only
   */
  readonly drSite?: IDrSecondarySite;
}

/** The base props plus the AWS Backup layer: the vault and the retention of the recovery points. */
export interface BackupDrProps extends BackupDrBaseProps {
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
  /**
   * Restore testing of the protected resources (AWS Backup restore testing, validated and measured
   * against the RTO): one plan per stack and environment.
   * @default - on for PRO and QA, off for DEV
   */
  readonly restoreTesting?: RestoreTestingOptions;
}

/**
 * @internal Checks the props every construct takes (a plain JavaScript or Python caller can pass
 * anything): objectives, environment, access entries. Errors name the prop, the value and the fix.
 */
export function checkBaseProps(props: BackupDrBaseProps | undefined): void {
  requireProp(props, 'props', 'pass the construct\'s props (objectives, environment, ...)');
  checkObjectivesShape(props!.objectives);
  checkEnum(props!.environment, DeploymentEnvironment, 'environment');
  const access = props!.access;
  if (access === undefined) return;
  if (!Array.isArray(access)) {
    throw new BackupDrConfigError(`access is ${typeof access}, but must be a list of TeamAccess; e.g. [TeamAccess.sre(sreRole)]`);
  }
  access.forEach((a, i) => {
    if (!(a instanceof TeamAccess)) {
      throw new BackupDrConfigError(`access[${i}] is ${a === undefined ? 'undefined' : typeof a}, but must be a TeamAccess; e.g. TeamAccess.sre(sreRole)`);
    }
  });
}

/** @internal What a construct hands to `protectWithBackup`. */
export interface ProtectionRequest extends Omit<BackupPolicyInput, 'objectives' | 'environment' | 'retention'> {
  readonly resourceArns: string[];
  readonly resourceType: ProtectedResourceType;
  /** Inventory "type of backup support". */
  readonly supportType: string;
  /** The protected resources, for the DR runbook's restore commands. */
  readonly catalogResources?: CatalogResource[];
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
    checkBaseProps(props);
    for (const arn of request.resourceArns) claimResource(scope, arn, props.environment);
    const vault = resolveVault(scope, props);
    const { objectives, environment, retention } = props;
    const policy = BackupPolicyDerivation.derive({ ...request, objectives, environment, retention });
    const registry = BackupPlanRegistry.of(scope);
    const plan = registry.protect({ vault, policy, resourceArns: request.resourceArns, resourceType: request.resourceType, drSite: props.drSite });
    grantAccess(scope, props, vault, registry);
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
      resources: request.catalogResources,
      vaultName: vault.backupVault.backupVaultName,
      backupRoleArn: registry.role.roleArn,
      retention: BackupCatalogMetadata.retentionOf(policy),
      access: catalogAccess(props),
      drSite: catalogDrSite(props.drSite),
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

/**
 * @internal Grants every TeamAccess of the props on the vault, scoped to the environment, with the stack's
 * backup role to pass; the backup role is let through the vault's environment boundary.
 */
export function grantAccess(scope: IConstruct, props: BackupDrProps, vault: IRecoveryVault, registry: BackupPlanRegistry): void {
  // AWS Backup runs the plans' copy jobs with this role: it passes the vault's environment boundary.
  EnvironmentBoundary.allowPrincipal(registry.role, vault.environment, AccessLevel.ADMIN);
  if ((props.access ?? []).length > 0 && !(vault instanceof RecoveryVault)) {
    Annotations.of(scope).addWarningV2('cdk-backup-dr:access-imported-vault',
      `vault ${vault.node.path} is imported, so this app cannot add the environment boundary to its access policy: principals of other ` +
      'environments with broad IAM policies can read and restore its recovery points. Add EnvironmentBoundary.vaultStatements(' +
      `DeploymentEnvironment.${envKey(vault.environment)}) to its access policy where it is defined`);
  }
  for (const access of props.access ?? []) {
    access.grantBackups({ scope, vaultArn: vault.backupVault.backupVaultArn, environment: props.environment, serviceRole: registry.role });
  }
}

/** Resources claimed per app: one environment per protected resource. */
const CLAIMS = new WeakMap<IConstruct, Map<string, { environment: DeploymentEnvironment; path: string }>>();

/**
 * @internal Record that `scope` protects `resource` (an ARN, token or not) for `environment`; a resource
 * protected by constructs of two environments mixes their rules and grants, so it is refused.
 */
export function claimResource(scope: IConstruct, resource: string, environment: DeploymentEnvironment): void {
  const root = scope.node.root;
  let claims = CLAIMS.get(root);
  if (!claims) CLAIMS.set(root, claims = new Map());
  const previous = claims.get(resource);
  if (previous && previous.environment !== environment) {
    throw new BackupDrConfigError(
      `a resource protected here for ${environment} is already protected by ${previous.path} for ${previous.environment}; ` +
      'one resource belongs to one environment (its rules, retention and grants differ): protect it in one construct of the right environment',
    );
  }
  if (!previous) claims.set(resource, { environment, path: scope.node.path });
}

function envKey(environment: DeploymentEnvironment): string {
  return Object.entries(DeploymentEnvironment).find(([, v]) => v === environment)?.[0] ?? environment;
}

/** @internal Who has which access, for the inventory and the runbook. */
export function catalogAccess(props: BackupDrBaseProps): CatalogAccess[] | undefined {
  return props.access?.map((a) => ({
    team: a.team,
    level: a.levelFor(props.environment),
    principal: (a.grantee as Partial<iam.IRole>).roleName,
  }));
}

/** @internal Where the DR copies go, for the inventory and the runbook. */
export function catalogDrSite(site: IDrSecondarySite | undefined, replicaBucketName?: string): CatalogDrSite | undefined {
  if (!site) return undefined;
  return {
    region: site.region, account: site.account, strategy: site.strategy, siteName: site.siteName, vaultName: site.vaultName, replicaBucketName,
  };
}
