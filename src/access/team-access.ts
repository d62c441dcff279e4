import { Annotations, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { AccessLevel, Team } from './access-level';
import { EnvironmentBoundary, RECOVERY_POINT_ENVIRONMENT_TAG } from './environment-boundary';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError } from '../core/validation';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

export { AccessLevel, Team } from './access-level';

/**
 * What a grant on backups is scoped to: one environment's vault and recovery points, in one account
 * and Region. Plain data, so that `access/` does not depend on the constructs that hold backups.
 */
export interface BackupGrantTarget {
  /** Construct the grant is made for: warnings are reported on it, and its stack gives the partition, account and Region. */
  readonly scope: IConstruct;
  /** ARN of the vault holding the recovery points (a vault of `environment`). */
  readonly vaultArn: string;
  /** Environment of the protected workload; recovery points carry it as the tag `cdk-backup-dr:environment`. */
  readonly environment: DeploymentEnvironment;
  /**
   * Role AWS Backup uses to restore and back up (passed on StartRestoreJob / StartBackupJob).
   * @default - RESTORE and ADMIN cannot pass a role, which is an error
   */
  readonly serviceRole?: iam.IRole;
  /**
   * Account holding the vault and its recovery points.
   * @default - the account of `scope`'s stack
   */
  readonly account?: string;
  /**
   * Region of the vault and its recovery points.
   * @default - the Region of `scope`'s stack
   */
  readonly region?: string;
}

const VIEW_VAULT_ACTIONS = [
  'backup:DescribeBackupVault',
  'backup:ListRecoveryPointsByBackupVault',
  'backup:GetBackupVaultAccessPolicy',
  'backup:GetBackupVaultNotifications',
];
/** Actions on the `recoveryPoint` resource type (Service Authorization Reference): `aws:ResourceTag` applies. */
const VIEW_RECOVERY_POINT_ACTIONS = ['backup:DescribeRecoveryPoint', 'backup:GetRecoveryPointRestoreMetadata', 'backup:ListTags'];
/** Actions on the `backupPlan` resource type. */
const VIEW_PLAN_ACTIONS = ['backup:GetBackupPlan', 'backup:GetBackupSelection', 'backup:ListBackupSelections'];
/** List/describe APIs that AWS Backup only authorizes on "*". */
const VIEW_ACCOUNT_ACTIONS = [
  'backup:ListBackupVaults',
  'backup:ListBackupPlans',
  'backup:ListBackupJobs',
  'backup:DescribeBackupJob',
  'backup:ListCopyJobs',
  'backup:DescribeCopyJob',
  'backup:ListRestoreJobs',
  'backup:DescribeRestoreJob',
  'backup:ListProtectedResources',
  'backup:DescribeProtectedResource',
  'backup:ListRecoveryPointsByResource',
];
const RESTORE_RECOVERY_POINT_ACTIONS = ['backup:StartRestoreJob'];
/** StartBackupJob and the vault administration act on the `backupVault` resource type. */
const ADMIN_VAULT_ACTIONS = [
  'backup:StartBackupJob',
  'backup:PutBackupVaultNotifications',
  'backup:DeleteBackupVaultNotifications',
  'backup:TagResource',
  'backup:UntagResource',
];
/** StartCopyJob acts on the source recovery point (`recoveryPoint` resource type). */
const ADMIN_RECOVERY_POINT_ACTIONS = ['backup:StartCopyJob'];
const ADMIN_ACCOUNT_ACTIONS = ['backup:StopBackupJob'];

const ORDER = [AccessLevel.VIEW, AccessLevel.RESTORE, AccessLevel.ADMIN];
const RECOVERY_POINTS_REASON = 'cdk-backup-dr TeamAccess: recovery point ARNs are created by AWS Backup at run time; ' +
  'the grant is limited to the recovery points of this account and Region tagged with the grant\'s environment';
const PLANS_REASON = 'cdk-backup-dr TeamAccess: read-only access to the backup plans of this account and Region (plan IDs are generated)';
const LIST_APIS_REASON = 'cdk-backup-dr TeamAccess: AWS Backup list/describe job APIs (and StopBackupJob) have no resource-level permissions';

/**
 * Access of one team to the configured backups. Pass a list of these as `access` to any construct.
 *
 * Defaults: SRE = RESTORE, Product = VIEW, PO = VIEW, Development = VIEW in PRO and RESTORE elsewhere.
 * Development never gets more than VIEW on PRO backups.
 *
 * Every grant is scoped to the environment it is made for: its vault, and the recovery points tagged
 * `cdk-backup-dr:environment` = that environment (AWS Backup recovery points, RDS and Aurora snapshots,
 * DynamoDB backups). The grantee is tagged `cdk-backup-dr:access-<environment>` = level, which the vault
 * access policy of a `RecoveryVault` requires (see `EnvironmentBoundary`).
 */
export class TeamAccess {
  /** SRE team access (default RESTORE). */
  public static sre(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.SRE, 'sre', grantee, level);
  }

  /** Product team access (default VIEW). */
  public static product(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.PRODUCT, 'product', grantee, level);
  }

  /** Product Owner access (default VIEW). */
  public static productOwner(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.PRODUCT_OWNER, 'productOwner', grantee, level);
  }

  /** Development access (default VIEW in PRO, RESTORE in QA and DEV). */
  public static development(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.DEVELOPMENT, 'development', grantee, level);
  }

  /** The team. */
  public readonly team: Team;
  /** Who receives the grant. */
  public readonly grantee: iam.IGrantable;
  /** Level requested explicitly; undefined means the team's default. */
  public readonly requestedLevel?: AccessLevel;

  private constructor(team: Team, private readonly factory: string, grantee: iam.IGrantable, level?: AccessLevel) {
    if (grantee === undefined || grantee === null || typeof (grantee as Partial<iam.IGrantable>).grantPrincipal !== 'object') {
      throw new BackupDrConfigError(
        `access: TeamAccess.${factory}(grantee) got ${grantee === null ? 'null' : typeof grantee === 'object' ? 'an object that is not an iam.IGrantable' : String(grantee)} ` +
        'as grantee; pass the role, user or group of the team (an iam.IGrantable, e.g. an iam.Role)',
      );
    }
    if (level !== undefined && !ORDER.includes(level)) {
      throw new BackupDrConfigError(
        `access: TeamAccess.${factory}(..., ${JSON.stringify(level)}) is not an AccessLevel; use AccessLevel.VIEW, AccessLevel.RESTORE or AccessLevel.ADMIN, ` +
        'or omit it for the team\'s default',
      );
    }
    this.team = team;
    this.grantee = grantee;
    this.requestedLevel = level;
  }

  /** The level this access resolves to in an environment; throws when it exceeds what the policy allows. */
  public levelFor(environment: DeploymentEnvironment): AccessLevel {
    const level = this.requestedLevel ?? defaultLevel(this.team, environment);
    if (this.team === Team.DEVELOPMENT && environment === DeploymentEnvironment.PRO && level !== AccessLevel.VIEW) {
      throw new BackupDrConfigError(
        `access: TeamAccess.development(..., AccessLevel.${level}) on a PRO workload; Development may only VIEW production backups. ` +
        'Use AccessLevel.VIEW, or grant restores through the SRE team',
      );
    }
    return level;
  }

  /**
   * Grant this team's level on one environment's backups: least-privilege IAM statements on the vault and
   * on the recovery points tagged with the environment (AWS Backup recovery points, RDS/Aurora snapshots,
   * DynamoDB backups), on "*" only for AWS Backup's list APIs. The grantee is tagged for the vault-side
   * boundary. A grantee in another account is refused: AWS Backup rejects cross-account requests other
   * than copies, whatever the vault access policy says.
   */
  public grantBackups(target: BackupGrantTarget): iam.Grant {
    for (const prop of ['scope', 'vaultArn', 'environment'] as const) {
      if (!target || target[prop] === undefined || target[prop] === null) {
        throw new BackupDrConfigError(
          `access: TeamAccess.${this.factory}(...).grantBackups(target) needs target.${prop}; pass { scope, vaultArn, environment, serviceRole } ` +
          '(scope: the construct the grant is made for)',
        );
      }
    }
    const level = this.levelFor(target.environment);
    const stack = Stack.of(target.scope);
    const account = target.account ?? stack.account;
    const region = target.region ?? stack.region;
    this.refuseOtherAccount(account);
    EnvironmentBoundary._recordEnvironment(target.scope, account, target.environment);

    const arn = (service: string, resource: string, resourceName: string, arnFormat = ArnFormat.COLON_RESOURCE_NAME) =>
      stack.formatArn({ service, resource, resourceName, arnFormat, account, region });
    // Recovery points of every type the library protects: AWS Backup-managed types (S3, continuous backups,
    // DynamoDB with advanced features) and the service snapshots AWS Backup creates for RDS, Aurora and DynamoDB.
    const recoveryPoints = [
      arn('backup', 'recovery-point', '*'),
      arn('rds', 'snapshot', 'awsbackup:*'),
      arn('rds', 'cluster-snapshot', 'awsbackup:*'),
      arn('dynamodb', 'table', '*/backup/*', ArnFormat.SLASH_RESOURCE_NAME),
    ];
    const ofEnvironment = { StringEquals: { [`aws:ResourceTag/${RECOVERY_POINT_ENVIRONMENT_TAG}`]: target.environment } };
    const at = (l: AccessLevel) => ORDER.indexOf(level) >= ORDER.indexOf(l);

    const add = (actions: string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>, wildcardReason?: string) => {
      const grant = iam.Grant.addToPrincipal({ grantee: this.grantee, actions, resourceArns, conditions });
      if (wildcardReason) NagAcknowledgements.acknowledgeGrant(this.grantee, grant, wildcardReason);
      return grant;
    };
    let grant = add(VIEW_VAULT_ACTIONS, [target.vaultArn])
      .combine(add(VIEW_RECOVERY_POINT_ACTIONS, recoveryPoints, ofEnvironment, RECOVERY_POINTS_REASON))
      .combine(add(VIEW_PLAN_ACTIONS, [arn('backup', 'backup-plan', '*')], undefined, PLANS_REASON))
      .combine(add(VIEW_ACCOUNT_ACTIONS, ['*'], undefined, LIST_APIS_REASON));
    if (at(AccessLevel.RESTORE)) {
      grant = grant
        .combine(add(RESTORE_RECOVERY_POINT_ACTIONS, recoveryPoints, ofEnvironment, RECOVERY_POINTS_REASON))
        .combine(this.grantPassRole(target));
    }
    if (at(AccessLevel.ADMIN)) {
      grant = grant
        .combine(add(ADMIN_VAULT_ACTIONS, [target.vaultArn]))
        .combine(add(ADMIN_RECOVERY_POINT_ACTIONS, recoveryPoints, ofEnvironment, RECOVERY_POINTS_REASON))
        .combine(add(ADMIN_ACCOUNT_ACTIONS, ['*'], undefined, LIST_APIS_REASON));
    }

    const tagged = EnvironmentBoundary.allowPrincipal(this.grantee, target.environment, level);
    if (!grant.success) {
      Annotations.of(target.scope).addWarningV2('cdk-backup-dr:access-not-attached',
        `TeamAccess.${this.factory}(${this.describeGrantee()}): the grantee has no identity policy this app can change (an imported ` +
        `immutable role, or an account, ARN or service principal), so its ${level} statements on the ${target.environment} backups ` +
        'were not attached. Attach them where the principal is defined (grant.principalStatements lists them), or pass an iam.Role, ' +
        'iam.User or iam.Group of this app');
    }
    if (!tagged) {
      Annotations.of(target.scope).addWarningV2('cdk-backup-dr:access-not-tagged',
        `TeamAccess.${this.factory}(${this.describeGrantee()}): the access policy of a RecoveryVault of ${target.environment} denies ` +
        `reading and restoring its recovery points to principals without the tag ${EnvironmentBoundary.principalTagKey(target.environment)}, ` +
        `and this grantee is not a role or user of this app that can be tagged here. Tag it ${EnvironmentBoundary.principalTagKey(target.environment)}=${level} ` +
        'where it is defined (for IAM Identity Center permission sets: a session tag)');
    }
    return grant;
  }

  private refuseOtherAccount(account: string): void {
    const principalAccount = this.grantee.grantPrincipal.principalAccount;
    if (principalAccount === undefined || Token.isUnresolved(principalAccount) || Token.isUnresolved(account) || principalAccount === account) return;
    throw new BackupDrConfigError(
      `access: TeamAccess.${this.factory}(${this.describeGrantee()}) is a principal of account ${principalAccount}, but the backups are in ` +
      `account ${account}. AWS Backup rejects every cross-account request except copies into a vault (backup:CopyIntoBackupVault), ` +
      'whatever the vault access policy says, so nothing granted from this account would let it view or restore them. Grant a role of ' +
      `account ${account} that the team assumes (e.g. new iam.Role(this, 'Team', { assumedBy: new iam.AccountPrincipal('${principalAccount}') })), ` +
      `or copy the recovery points to a vault in account ${principalAccount} (drSite)`,
    );
  }

  private describeGrantee(): string {
    const principal = this.grantee.grantPrincipal as unknown as Partial<IConstruct>;
    if (principal.node) return principal.node.path;
    const text = `${this.grantee.grantPrincipal}`;
    return Token.isUnresolved(text) ? 'grantee' : text;
  }

  private grantPassRole(target: BackupGrantTarget): iam.Grant {
    if (!target.serviceRole) {
      throw new BackupDrConfigError(`access: ${this.team} needs a backup service role to pass for restores; none was given`);
    }
    return iam.Grant.addToPrincipal({
      grantee: this.grantee,
      actions: ['iam:PassRole'],
      resourceArns: [target.serviceRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } },
    });
  }
}

function defaultLevel(team: Team, environment: DeploymentEnvironment): AccessLevel {
  switch (team) {
    case Team.SRE: return AccessLevel.RESTORE;
    case Team.DEVELOPMENT: return environment === DeploymentEnvironment.PRO ? AccessLevel.VIEW : AccessLevel.RESTORE;
    default: return AccessLevel.VIEW;
  }
}
