import { Annotations, CfnResource, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { AccessLevel } from './access-level';
import { DeploymentEnvironment, ENVIRONMENT_TAG_KEY } from '../core/environment';

/**
 * @internal Tag every recovery point of the library's backup plans carries: the environment of the protected
 * workload ('Pro' | 'QA' | 'Dev'). Identity policies of `TeamAccess` grants match it with
 * `aws:ResourceTag`, which AWS Backup evaluates on recovery points of every resource type
 * (`recoveryPoint` resource of the Service Authorization Reference).
 */
export const RECOVERY_POINT_ENVIRONMENT_TAG = ENVIRONMENT_TAG_KEY;

/** @internal Prefix of the principal tag that lets a principal into the vaults of one environment (`cdk-backup-dr:access-Pro`). */
export const PRINCIPAL_ACCESS_TAG_PREFIX = 'cdk-backup-dr:access-';

/** @internal Recovery point actions a principal needs VIEW on the vault's environment for. */
export const BOUNDARY_READ_ACTIONS = ['backup:DescribeRecoveryPoint', 'backup:GetRecoveryPointRestoreMetadata'];
/** @internal Recovery point actions a principal needs RESTORE (or ADMIN) on the vault's environment for. */
export const BOUNDARY_RESTORE_ACTIONS = ['backup:StartRestoreJob', 'backup:StartCopyJob'];

const LEVELS = [AccessLevel.VIEW, AccessLevel.RESTORE, AccessLevel.ADMIN];

/** Options of the vault-side boundary statements. */
export interface VaultBoundaryOptions {
  /**
   * Principals exempt from the boundary (e.g. a break-glass role), by ARN.
   * @default - none
   */
  readonly exemptPrincipalArns?: string[];
}

/** A principal construct the library can tag (a role or user defined in this app), or undefined. */
function taggableResource(grantee: iam.IGrantable): CfnResource | undefined {
  const principal = grantee.grantPrincipal as unknown as Partial<IConstruct>;
  const child = principal.node?.defaultChild;
  if (child instanceof CfnResource && ['AWS::IAM::Role', 'AWS::IAM::User'].includes(child.cfnResourceType)) return child;
  return undefined;
}

/** Highest level tagged so far, per principal resource and environment. */
const TAGGED = new WeakMap<CfnResource, Map<DeploymentEnvironment, AccessLevel>>();

/**
 * The boundary between the environments whose backups share an AWS account.
 *
 * Two sides, so that neither a grant made elsewhere nor a broad IAM policy crosses it:
 * - identity side: `TeamAccess` grants act only on recovery points tagged with their environment
 *   (`cdk-backup-dr:environment`) and on their environment's vault;
 * - vault side: the access policy of a `RecoveryVault` denies reading and restoring its recovery points to
 *   every principal that does not carry the principal tag `cdk-backup-dr:access-<environment>` with a high
 *   enough level (AWS services and service-linked roles excepted). `TeamAccess` tags the roles and users of
 *   this app it grants to; tag other principals with `EnvironmentBoundary.allowPrincipal` or, for SSO
 *   permission sets, through session tags.
 *
 * What IAM cannot separate inside one account (AWS Backup's job list APIs, restores through the RDS and
 * DynamoDB APIs, on-demand backups of any resource the backup role can read) is reported at synth: the
 * hard boundary is one AWS account per environment.
 */
export class EnvironmentBoundary {
  /** Tag carrying the environment on every recovery point of the library's plans (`cdk-backup-dr:environment`). */
  public static readonly RECOVERY_POINT_TAG: string = RECOVERY_POINT_ENVIRONMENT_TAG;

  /** Key of the principal tag that lets a principal into the vaults of `environment`; its value is the AccessLevel. */
  public static principalTagKey(environment: DeploymentEnvironment): string {
    return `${PRINCIPAL_ACCESS_TAG_PREFIX}${environment}`;
  }

  /**
   * Let a principal of this app through the vault-side boundary of `environment` at `level`, by tagging it
   * (the highest level requested wins). Returns false when the principal cannot be tagged here (an imported
   * role, a group, an account or service principal): tag it where it is defined.
   */
  public static allowPrincipal(grantee: iam.IGrantable, environment: DeploymentEnvironment, level: AccessLevel): boolean {
    const resource = taggableResource(grantee);
    if (!resource) return false;
    let levels = TAGGED.get(resource);
    if (!levels) TAGGED.set(resource, levels = new Map());
    const current = levels.get(environment);
    if (current === undefined || LEVELS.indexOf(level) > LEVELS.indexOf(current)) {
      levels.set(environment, level);
      Tags.of(resource).add(EnvironmentBoundary.principalTagKey(environment), level);
    }
    return true;
  }

  /**
   * Vault access policy statements enforcing the boundary of a vault holding `environment`'s recovery points:
   * `DescribeRecoveryPoint` and `GetRecoveryPointRestoreMetadata` need VIEW, `StartRestoreJob` and
   * `StartCopyJob` need RESTORE, as the principal tag `cdk-backup-dr:access-<environment>`.
   * AWS services, service-linked roles (AWS Config, Audit Manager) and the exempt principals are not affected.
   */
  public static vaultStatements(environment: DeploymentEnvironment, options: VaultBoundaryOptions = {}): iam.PolicyStatement[] {
    const tagKey = `aws:PrincipalTag/${EnvironmentBoundary.principalTagKey(environment)}`;
    const exempt = ['arn:*:iam::*:role/aws-service-role/*', ...(options.exemptPrincipalArns ?? [])];
    const deny = (sid: string, actions: string[], allowed: AccessLevel[]) => new iam.PolicyStatement({
      sid,
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions,
      resources: ['*'],
      conditions: {
        StringNotEquals: { [tagKey]: allowed },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
        ArnNotLike: { 'aws:PrincipalArn': exempt },
      },
    });
    return [
      deny(`DenyReadOutside${environment}Access`, BOUNDARY_READ_ACTIONS, LEVELS),
      deny(`DenyRestoreOutside${environment}Access`, BOUNDARY_RESTORE_ACTIONS, [AccessLevel.RESTORE, AccessLevel.ADMIN]),
    ];
  }

  /**
   * Record that `scope`'s stack grants access to `environment`'s backups in `account`, and warn on every
   * stack whose account holds the backups of more than one environment.
   * @internal
   */
  public static _recordEnvironment(scope: IConstruct, account: string, environment: DeploymentEnvironment): void {
    const root = scope.node.root;
    let accounts = ACCOUNTS.get(root);
    if (!accounts) ACCOUNTS.set(root, accounts = new Map());
    const key = Token.isUnresolved(account) ? UNKNOWN_ACCOUNT : account;
    let entry = accounts.get(key);
    if (!entry) accounts.set(key, entry = { environments: new Set(), stacks: new Set(), warned: new Set() });
    entry.environments.add(environment);
    entry.stacks.add(Stack.of(scope));
    if (entry.environments.size < 2) return;
    for (const stack of entry.stacks) {
      if (entry.warned.has(stack)) continue;
      entry.warned.add(stack);
      Annotations.of(stack).addWarningV2('cdk-backup-dr:environments-share-account', sharedAccountMessage(key, [...entry.environments]));
    }
  }

  private constructor() {}
}

const UNKNOWN_ACCOUNT = '(the deployment account of environment-agnostic stacks)';
const ACCOUNTS = new WeakMap<IConstruct, Map<string, { environments: Set<DeploymentEnvironment>; stacks: Set<Stack>; warned: Set<Stack> }>>();

function sharedAccountMessage(account: string, environments: DeploymentEnvironment[]): string {
  return `the backups of ${environments.join(', ')} share account ${account}. Team grants are scoped to their environment ` +
    `(recovery point tag ${RECOVERY_POINT_ENVIRONMENT_TAG}, the environment's vault, the vault access policy), but IAM cannot ` +
    'separate environments inside one account everywhere: AWS Backup\'s job and plan list APIs (ListBackupJobs, DescribeRestoreJob, ' +
    'ListRecoveryPointsByResource, ...) have no resource-level permissions, so every team with VIEW sees the jobs of all environments; ' +
    'ADMIN\'s on-demand StartBackupJob can back up any resource the passed backup role can read; and RDS snapshots and DynamoDB backups ' +
    'can also be restored through the RDS and DynamoDB APIs, which no vault access policy governs. For a hard boundary, deploy each ' +
    'environment to its own AWS account';
}
