import { Annotations, Lazy, Names, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IConstruct } from 'constructs';
import { IDrSecondarySite } from './dr-site';
import { IRecoveryVault } from './recovery-vault';
import { ENVIRONMENT_TAG_KEY } from '../core/environment';
import { DerivedBackupPolicy } from '../core/schedule-derivation';
import { BackupDrConfigError } from '../core/validation';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/** @internal AWS Backup quota: ARNs per backup selection (the registry fills selections up to it). */
export const MAX_ARNS_PER_SELECTION = 500;
/** @internal AWS Backup quota: selections per backup plan. */
export const MAX_SELECTIONS_PER_PLAN = 100;

/** Kind of resource joined to a plan: decides which AWS-managed service policies the shared role needs. */
export enum ProtectedResourceType {
  /** RDS instances and Aurora clusters. */
  RDS = 'RDS',
  /** DynamoDB tables. */
  DYNAMODB = 'DYNAMODB',
  /** S3 buckets (AWS Backup for S3 needs its own service policies). */
  S3 = 'S3',
  /** Any other resource type AWS Backup supports. */
  OTHER = 'OTHER',
}

/** What a construct asks the registry to protect. */
export interface PlanRequest {
  /** Vault that receives the recovery points. */
  readonly vault: IRecoveryVault;
  /** Rules derived from the construct's objectives, environment and content. */
  readonly policy: DerivedBackupPolicy;
  /** ARNs of the resources to protect (tokens allowed). */
  readonly resourceArns: string[];
  /** Resource type of the ARNs. */
  readonly resourceType: ProtectedResourceType;
  /**
   * DR site the plan's recovery points are copied to (one copy action per rule, into the site's vault,
   * with the rule's lifecycle). Part of the plan's dedup key.
   * @default - no copies
   */
  readonly drSite?: IDrSecondarySite;
}

/** @internal Recovery point tag carrying the environment ('Pro' | 'QA' | 'Dev'), for environment-scoped IAM conditions. */
export const ENVIRONMENT_RECOVERY_POINT_TAG = ENVIRONMENT_TAG_KEY;

/** A deduplicated plan and its selections. */
export interface RegisteredPlan {
  /** The shared AWS Backup plan. */
  readonly plan: backup.BackupPlan;
  /** Number of resources joined to the plan so far. */
  readonly resourceCount: number;
}

interface PlanEntry {
  readonly plan: backup.BackupPlan;
  readonly selections: string[][];
  resourceCount: number;
}

const REGISTRY_ID = 'BackupDrPlanRegistry';
// AWS-managed policy names (the S3 ones live at the root path, the others under service-role/).
const BASE_POLICIES = ['service-role/AWSBackupServiceRolePolicyForBackup', 'service-role/AWSBackupServiceRolePolicyForRestores'];
const S3_POLICIES = ['AWSBackupServiceRolePolicyForS3Backup', 'AWSBackupServiceRolePolicyForS3Restore'];

/**
 * Stack-level registry of backup plans.
 *
 * Constructs that derive the same rules for the same vault share one `AWS::Backup::BackupPlan`;
 * the stack has one backup service role; resources join a plan through ARN selections filled up to
 * 500 ARNs each (at most 100 per plan). Plans and selections live in the stack of the protected
 * resources and reference the vault, which may live in another stack: references only point from
 * resource stacks to the vault stack, never back.
 */
export class BackupPlanRegistry extends Construct {
  /** The registry of the stack containing `scope`, created on first use. */
  public static of(scope: IConstruct): BackupPlanRegistry {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(REGISTRY_ID) as BackupPlanRegistry | undefined) ?? new BackupPlanRegistry(stack, REGISTRY_ID);
  }

  private readonly plans = new Map<string, PlanEntry>();
  private readonly managedPolicies = new Set<string>();
  private readonly sharedKeys = new Set<string>();
  private _role?: iam.Role;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  /** The stack's single AWS Backup service role (created on first use). */
  public get role(): iam.Role {
    if (!this._role) {
      this._role = new iam.Role(this, 'ServiceRole', {
        description: 'AWS Backup service role shared by every cdk-backup-dr plan of this stack',
        assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      });
      this.addManagedPolicies(BASE_POLICIES);
    }
    return this._role;
  }

  /** Number of distinct plans in this stack. */
  public get planCount(): number {
    return this.plans.size;
  }

  /**
   * Join resources to the plan for (vault, rules), creating the plan on first use.
   * Throws when a rule conflicts with the vault lock or a quota would be exceeded.
   */
  public protect(request: PlanRequest): RegisteredPlan {
    this.checkLock(request);
    const role = this.role;
    if (request.resourceType === ProtectedResourceType.S3) this.addManagedPolicies(S3_POLICIES);

    const site = request.drSite;
    const drVault = site && this.drVault(site);
    const airGapped = site?.airGappedVaultArn ? this.drVault(site, true) : undefined;
    if (site) this.shareVaultKey(request.vault, site);
    const key = `${Names.nodeUniqueId(request.vault.backupVault.node)}|${request.vault.environment}|${request.policy.key}|` +
      (drVault ? `${site!.vaultArn}|${site!.airGappedVaultArn ?? '-'}` : '-');
    let entry = this.plans.get(key);
    if (!entry) {
      const id = `Plan${this.plans.size + 1}`;
      const recoveryPointTags = { [ENVIRONMENT_RECOVERY_POINT_TAG]: request.vault.environment };
      const plan: backup.BackupPlan = new backup.BackupPlan(this, id, {
        backupPlanName: Lazy.string({ produce: () => Names.uniqueResourceName(plan, { maxLength: 50, separator: '-' }) }),
        backupVault: request.vault.backupVault,
        backupPlanRules: request.policy.rules.map((r) => new backup.BackupPlanRule({
          ruleName: r.ruleName,
          scheduleExpression: events.Schedule.expression(r.scheduleExpression),
          startWindow: r.startWindow,
          completionWindow: r.completionWindow,
          deleteAfter: r.deleteAfter,
          moveToColdStorageAfter: r.moveToColdStorageAfter,
          enableContinuousBackup: r.enableContinuousBackup || undefined,
          recoveryPointTags,
          // Copies keep the rule's lifecycle (retention overrides included; cold storage only where the rule
          // has it, i.e. where the resource type supports it). Copies of continuous rules become snapshots.
          copyActions: drVault && [{
            destinationBackupVault: drVault,
            deleteAfter: r.deleteAfter,
            moveToColdStorageAfter: r.moveToColdStorageAfter,
          }, ...(airGapped && fitsAirGapped(r.deleteAfter.toDays(), site!) ? [{
            // The air-gapped vault keeps recovery points warm, within its retention range.
            destinationBackupVault: airGapped,
            deleteAfter: r.deleteAfter,
          }] : [])],
        })),
      });
      entry = { plan, selections: [], resourceCount: 0 };
      this.plans.set(key, entry);
    }

    for (const arn of request.resourceArns) {
      let current = entry.selections[entry.selections.length - 1];
      if (!current || current.length >= MAX_ARNS_PER_SELECTION) {
        if (entry.selections.length >= MAX_SELECTIONS_PER_PLAN) {
          throw new BackupDrConfigError(
            `backup plan ${entry.plan.node.path} already has ${MAX_SELECTIONS_PER_PLAN} selections of ${MAX_ARNS_PER_SELECTION} resources ` +
            '(the AWS Backup quota); spread the resources over more stacks or protect them by tag',
          );
        }
        current = [];
        const arns = current;
        const index = entry.selections.length + 1;
        new backup.CfnBackupSelection(entry.plan, `Selection${index}`, {
          backupPlanId: entry.plan.backupPlanId,
          backupSelection: {
            selectionName: `cdk-backup-dr-${index}`,
            iamRoleArn: role.roleArn,
            resources: Lazy.list({ produce: () => arns }),
          },
        });
        entry.selections.push(current);
      }
      current.push(arn);
      entry.resourceCount++;
    }
    return { plan: entry.plan, resourceCount: entry.resourceCount };
  }

  /** The DR site's vault (or air-gapped vault), imported once per site and stack (no resource is added). */
  private drVault(site: IDrSecondarySite, airGapped = false): backup.IBackupVault {
    const id = `${airGapped ? 'DrAirGappedVault' : 'DrVault'}-${Names.nodeUniqueId(site.node)}`;
    return (this.node.tryFindChild(id) as backup.IBackupVault | undefined)
      ?? backup.BackupVault.fromBackupVaultArn(this, id, airGapped ? site.airGappedVaultArn! : site.vaultArn);
  }

  /**
   * Cross-account copies: recovery points that AWS Backup fully manages are encrypted with the source vault's key,
   * which the DR account must be able to use. Done on keys the library created; a warning names imported keys.
   */
  private shareVaultKey(vault: IRecoveryVault, site: IDrSecondarySite) {
    const account = Stack.of(this).account;
    if (site.account === account) return;
    const key = vault.encryptionKey;
    const marker = `${key ? Names.nodeUniqueId(key.node) : 'none'}|${site.account}`;
    if (this.sharedKeys.has(marker)) return;
    this.sharedKeys.add(marker);
    if (key instanceof kms.Key) {
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: `AllowDrAccount${site.account}ToCopy`,
        principals: [new iam.AccountPrincipal(site.account)],
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: ['*'],
      }));
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: `AllowDrAccount${site.account}ServiceGrants`,
        principals: [new iam.AccountPrincipal(site.account)],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
      }));
    } else {
      Annotations.of(vault).addWarningV2('cdk-backup-dr:dr-key-not-shared',
        `cross-account copies to ${site.node.path} (account ${site.account}) need the key of vault ${vault.node.path} shared with that account: ` +
        `allow arn:aws:iam::${site.account}:root kms:Decrypt, kms:DescribeKey and kms:CreateGrant (kms:GrantIsForAWSResource) in its key policy`);
    }
  }

  private addManagedPolicies(names: string[]) {
    for (const name of names) {
      if (this.managedPolicies.has(name)) continue;
      this.managedPolicies.add(name);
      this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName(name));
      NagAcknowledgements.acknowledge(this.role, `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`,
        'AWS Backup service role: AWS maintains these service policies for every resource type AWS Backup supports ' +
        '(and updates them when a service adds an API); a hand-written copy would drift and break backups or restores');
    }
  }

  private checkLock(request: PlanRequest) {
    const { lockMinRetentionDays: min, lockMaxRetentionDays: max } = request.vault;
    for (const r of request.policy.rules) {
      const days = r.deleteAfter.toDays();
      if ((min !== undefined && days < min) || (max !== undefined && days > max)) {
        throw new BackupDrConfigError(
          `rule ${r.ruleName} keeps recovery points for ${days} days, but vault ${request.vault.node.path} is locked to ` +
          `${min ?? 1}–${max ?? 36_500} days and AWS Backup would reject its jobs; change the retention or the vault lock`,
        );
      }
    }
  }
}

function fitsAirGapped(days: number, site: IDrSecondarySite): boolean {
  return days >= (site.airGappedMinRetentionDays ?? 7) && days <= (site.airGappedMaxRetentionDays ?? 36_500);
}
