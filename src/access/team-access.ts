import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError } from '../core/validation';
import { IRecoveryVault } from '../foundation/recovery-vault';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/** What a team may do with the configured backups. Each level includes the previous one. */
export enum AccessLevel {
  /** Describe and list vaults, recovery points, jobs and plans. */
  VIEW = 'VIEW',
  /** VIEW plus starting restore jobs (passing the stack's backup role to AWS Backup). */
  RESTORE = 'RESTORE',
  /** RESTORE plus on-demand backups and copies, and vault administration (notifications, tags). */
  ADMIN = 'ADMIN',
}

/** The teams the backup policy names. */
export enum Team {
  /** Site reliability engineering. */
  SRE = 'SRE',
  /** The Product team. */
  PRODUCT = 'Product',
  /** The Product Owner. */
  PRODUCT_OWNER = 'PO',
  /** Development. */
  DEVELOPMENT = 'Development',
}

/** What a grant on backups is scoped to. */
export interface BackupGrantTarget {
  /** Vault holding the recovery points. */
  readonly vault: IRecoveryVault;
  /** Environment of the protected workload. */
  readonly environment: DeploymentEnvironment;
  /**
   * Role AWS Backup uses to restore and back up (passed on StartRestoreJob / StartBackupJob).
   * @default - RESTORE and ADMIN cannot pass a role
   */
  readonly serviceRole?: iam.IRole;
}

const VIEW_VAULT_ACTIONS = [
  'backup:DescribeBackupVault',
  'backup:ListRecoveryPointsByBackupVault',
  'backup:GetBackupVaultAccessPolicy',
  'backup:GetBackupVaultNotifications',
  'backup:GetRecoveryPointRestoreMetadata',
];
const VIEW_RECOVERY_POINT_ACTIONS = ['backup:DescribeRecoveryPoint', 'backup:ListTags'];
/** List/describe APIs that AWS Backup only authorizes on "*". */
const VIEW_ACCOUNT_ACTIONS = [
  'backup:ListBackupVaults',
  'backup:ListBackupPlans',
  'backup:ListBackupSelections',
  'backup:GetBackupPlan',
  'backup:GetBackupSelection',
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
const ADMIN_VAULT_ACTIONS = [
  'backup:StartBackupJob',
  'backup:StartCopyJob',
  'backup:PutBackupVaultNotifications',
  'backup:DeleteBackupVaultNotifications',
  'backup:TagResource',
  'backup:UntagResource',
];
const ADMIN_ACCOUNT_ACTIONS = ['backup:StopBackupJob'];

const ORDER = [AccessLevel.VIEW, AccessLevel.RESTORE, AccessLevel.ADMIN];
const RECOVERY_POINTS_REASON = 'cdk-backup-dr TeamAccess: recovery point ARNs are created by AWS Backup at run time; ' +
  'the grant is limited to the recovery points of this account and region';
const LIST_APIS_REASON = 'cdk-backup-dr TeamAccess: AWS Backup list/describe job APIs (and StopBackupJob) have no resource-level permissions';

/**
 * Access of one team to the configured backups. Pass a list of these as `access` to any construct.
 *
 * Defaults: SRE = RESTORE, Product = VIEW, PO = VIEW, Development = VIEW in PRO and RESTORE elsewhere.
 * Development never gets more than VIEW on PRO backups.
 */
export class TeamAccess {
  /** SRE team access (default RESTORE). */
  public static sre(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.SRE, grantee, level);
  }

  /** Product team access (default VIEW). */
  public static product(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.PRODUCT, grantee, level);
  }

  /** Product Owner access (default VIEW). */
  public static productOwner(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.PRODUCT_OWNER, grantee, level);
  }

  /** Development access (default VIEW in PRO, RESTORE in QA and DEV). */
  public static development(grantee: iam.IGrantable, level?: AccessLevel): TeamAccess {
    return new TeamAccess(Team.DEVELOPMENT, grantee, level);
  }

  private constructor(
    /** The team. */
    public readonly team: Team,
    /** Who receives the grant. */
    public readonly grantee: iam.IGrantable,
    /** Level requested explicitly; undefined means the team's default. */
    public readonly requestedLevel?: AccessLevel,
  ) {}

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
   * Grant this team's level on a vault's backups: least-privilege IAM statements scoped to the vault
   * and its recovery points where the API allows, to "*" only for AWS Backup's list APIs.
   */
  public grantBackups(target: BackupGrantTarget): iam.Grant {
    const level = this.levelFor(target.environment);
    const vaultArn = target.vault.backupVault.backupVaultArn;
    const stack = Stack.of(target.vault.backupVault);
    // Recovery points of AWS Backup-managed types, and of types whose recovery point is a service snapshot.
    const recoveryPoints = [
      stack.formatArn({ service: 'backup', resource: 'recovery-point', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      stack.formatArn({ service: 'rds', resource: 'cluster-snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: '*/backup/*' }),
    ];
    const at = (l: AccessLevel) => ORDER.indexOf(level) >= ORDER.indexOf(l);

    const add = (actions: string[], resourceArns: string[], wildcardReason?: string) => {
      const grant = iam.Grant.addToPrincipal({ grantee: this.grantee, actions, resourceArns });
      if (wildcardReason) NagAcknowledgements.acknowledgeGrant(this.grantee, grant, wildcardReason);
      return grant;
    };
    let grant = add(VIEW_VAULT_ACTIONS, [vaultArn])
      .combine(add(VIEW_RECOVERY_POINT_ACTIONS, recoveryPoints, RECOVERY_POINTS_REASON))
      .combine(add(VIEW_ACCOUNT_ACTIONS, ['*'], LIST_APIS_REASON));
    if (at(AccessLevel.RESTORE)) {
      grant = grant.combine(add(RESTORE_RECOVERY_POINT_ACTIONS, recoveryPoints, RECOVERY_POINTS_REASON)).combine(this.grantPassRole(target));
    }
    if (at(AccessLevel.ADMIN)) {
      grant = grant.combine(add(ADMIN_VAULT_ACTIONS, [vaultArn])).combine(add(ADMIN_ACCOUNT_ACTIONS, ['*'], LIST_APIS_REASON));
    }
    return grant;
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
