import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as organizations from 'aws-cdk-lib/aws-organizations';
import { Construct } from 'constructs';
import { BackupCatalogMetadata } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment, ENVIRONMENT_TAG_KEY } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { RetentionOptions } from '../core/retention';
import { BackupPolicyDerivation, ContinuousBackupSupport, DerivedBackupRule } from '../core/schedule-derivation';
import { BackupDrConfigError, inScope } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';

/** How far child policies (lower OUs, accounts) may change the plan this policy defines. */
export enum ChildPolicyControl {
  /** Children may change anything (no child control operator). */
  ALLOW_ALL = 'ALLOW_ALL',
  /** Children cannot change this plan (`@@none` on every node of it) but may add plans of their own (`@@append`). */
  LOCK_PLAN = 'LOCK_PLAN',
  /** Children can neither change this plan nor add plans (`@@none` everywhere). */
  LOCK_ALL = 'LOCK_ALL',
}

/** Properties of an OrganizationBackupPolicy. */
export interface OrganizationBackupPolicyProps {
  /** Declared RPO and RTO: the rules come from `BackupPolicyDerivation.derive`, as for every construct. */
  readonly objectives: RecoveryObjectives;
  /** Environment whose retention defaults apply. */
  readonly environment: DeploymentEnvironment;
  /**
   * Content class.
   * @default BackupContent.CURRENT_DATA
   */
  readonly content?: BackupContent;
  /** Roots (`r-...`), OUs (`ou-...-...`) or 12-digit account IDs the policy is attached to. */
  readonly targetIds: string[];
  /**
   * Regions whose resources the plan protects, in every target account.
   * @default - the stack's region (an error when it is a token)
   */
  readonly regions?: string[];
  /**
   * Name of the Organizations policy.
   * @default - `cdk-backup-dr-<environment>-<content>-rpo<minutes>m`
   */
  readonly policyName?: string;
  /**
   * Description of the Organizations policy.
   * @default - the objectives, environment and content
   */
  readonly description?: string;
  /**
   * Name of the backup plan the policy creates in each account (1–50 letters, digits, `-_.`).
   * @default - the policy name, truncated to 50 characters
   */
  readonly planName?: string;
  /**
   * Backup vault of each target account and region that receives the recovery points; it must exist in every
   * account (e.g. a CloudFormation StackSet deploying a `RecoveryVault` with this `backupVaultName`).
   * @default `cdk-backup-dr-<environment in lower case>`
   */
  readonly vaultName?: string;
  /**
   * IAM role AWS Backup assumes in each account, as a path and name after `role/`.
   * @default 'service-role/AWSBackupDefaultServiceRole'
   */
  readonly backupRoleName?: string;
  /**
   * Tag key selecting the protected resources in every account.
   * @default 'cdk-backup-dr:backup-policy'
   */
  readonly tagKey?: string;
  /**
   * Tag value selecting the protected resources.
   * @default - the plan name
   */
  readonly tagValue?: string;
  /**
   * Overrides of the environment's retention defaults.
   * @default - the environment's defaults
   */
  readonly retention?: RetentionOptions;
  /**
   * How the selected resource types keep point-in-time data (decides continuous rules for RPOs under 2 hours).
   * @default ContinuousBackupSupport.AWS_BACKUP
   */
  readonly continuousBackup?: ContinuousBackupSupport;
  /**
   * Whether the selected resource types support cold storage (samples move to it when true).
   * @default false
   */
  readonly coldStorageSupported?: boolean;
  /**
   * DR site whose vault receives a copy of every recovery point (its `vaultArn`; the site's vault policy must
   * accept copies from the target accounts, e.g. its `organizationId`). Mutually exclusive with `copyToVaultArn`
   * and `copyToRegion`.
   * @default - no copy unless copyToVaultArn or copyToRegion is set
   */
  readonly drSite?: IDrSecondarySite;
  /**
   * DR copy destination: a vault ARN (`$account` is replaced by each target account; a literal account ID copies
   * into a central DR account). Mutually exclusive with `copyToRegion`.
   * @default - no copy unless copyToRegion is set
   */
  readonly copyToVaultArn?: string;
  /**
   * DR copy destination: a vault named `vaultName` in this region of each target account.
   * Mutually exclusive with `copyToVaultArn`.
   * @default - no copy unless copyToVaultArn is set
   */
  readonly copyToRegion?: string;
  /**
   * How far child policies may change the plan.
   * @default ChildPolicyControl.LOCK_PLAN
   */
  readonly childPolicyControl?: ChildPolicyControl;
  /**
   * Enable Windows VSS backups of EC2 instances (`advanced_backup_settings`).
   * @default false
   */
  readonly windowsVss?: boolean;
  /**
   * Partition used in the ARNs of the policy (role, copy destination).
   * @default 'aws'
   */
  readonly partition?: string;
}

/** Organizations quota: the maximum size of a backup policy document, in characters. */
export const MAX_BACKUP_POLICY_CHARACTERS = 10_000;

const TARGET_ID = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|\d{12})$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const BACKUP_NAME = /^[a-zA-Z0-9\-_.]{1,50}$/;
const VAULT_NAME = /^[a-zA-Z0-9\-_]{2,50}$/;
const VAULT_ARN = /^arn:[a-z-]+:backup:[a-z0-9-]+:(\d{12}|\$account):backup-vault:[a-zA-Z0-9\-_]{2,50}$/;
const CHILD = '@@operators_allowed_for_child_policies';

/**
 * The library's objectives, environment and content rendered as an AWS Organizations backup policy
 * (`AWS::Organizations::Policy` of type `BACKUP_POLICY`) attached to roots, OUs or accounts: one plan whose rules
 * come from the same `BackupPolicyDerivation.derive` the per-stack constructs use, a tag-based selection, the
 * vault of each account, optional DR copy actions and child-control operators. Deploy it in the management
 * account (or a delegated administrator) with backup policies enabled.
 */
export class OrganizationBackupPolicy extends Construct {
  /** The policy resource. */
  public readonly policy: organizations.CfnPolicy;
  /** ID of the policy (`p-...`). */
  public readonly policyId: string;
  /** The rendered policy document (JSON). */
  public readonly policyDocument: string;
  /** Name of the backup plan created in every target account. */
  public readonly planName: string;

  constructor(scope: Construct, id: string, props: OrganizationBackupPolicyProps) {
    super(scope, id);
    const rendered = inScope(this, () => this.render(props));
    this.planName = rendered.planName;
    this.policyDocument = JSON.stringify(rendered.content);
    this.policy = new organizations.CfnPolicy(this, 'Resource', {
      name: rendered.policyName,
      type: 'BACKUP_POLICY',
      content: rendered.content,
      targetIds: props.targetIds,
      description: rendered.description,
    });
    this.policyId = this.policy.attrId;
    if (props.environment === DeploymentEnvironment.PRO && !rendered.copyArn) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:org-policy-no-dr-copy',
        'PRO backups of the target accounts are not copied to a DR site; set copyToRegion or copyToVaultArn');
    }
    BackupCatalogMetadata.record(this, {
      backupName: this.node.path,
      content: props.content ?? BackupContent.CURRENT_DATA,
      periodicity: rendered.periodicity,
      environment: props.environment,
      supportType: 'AWS Organizations backup policy (AWS Backup in each target account)',
      location: `vault ${rendered.vaultName} in ${rendered.regions.join(', ')} of ${props.targetIds.join(', ')}` +
        (rendered.copyArn ? `; copies to ${rendered.copyArn}` : ''),
      rpo: props.objectives.rpo.toHumanString(),
      rto: props.objectives.rto.toHumanString(),
    });
  }

  private render(props: OrganizationBackupPolicyProps) {
    const content = props.content ?? BackupContent.CURRENT_DATA;
    const derived = BackupPolicyDerivation.derive({
      objectives: props.objectives,
      environment: props.environment,
      content,
      retention: props.retention,
      continuousBackup: props.continuousBackup,
      coldStorageSupported: props.coldStorageSupported,
    });
    const partition = props.partition ?? 'aws';
    const rpoMinutes = Math.round(props.objectives.rpo.toMinutes({ integral: false }));
    const policyName = props.policyName ??
      `cdk-backup-dr-${props.environment}-${content.replace(/\s+/g, '')}-rpo${rpoMinutes}m`;
    const planName = props.planName ?? policyName.slice(0, 50);
    const vaultName = props.vaultName ?? `cdk-backup-dr-${props.environment.toLowerCase()}`;
    const tagKey = props.tagKey ?? 'cdk-backup-dr:backup-policy';
    const tagValue = props.tagValue ?? planName;
    const roleArn = `arn:${partition}:iam::$account:role/${props.backupRoleName ?? 'service-role/AWSBackupDefaultServiceRole'}`;
    const description = props.description ??
      `cdk-backup-dr: ${content}, ${props.environment}, RPO ${props.objectives.rpo.toHumanString()}, RTO ${props.objectives.rto.toHumanString()}`;

    const regions = props.regions ?? [stackRegion(this)];
    concrete({ policyName, planName, vaultName, tagKey, tagValue, roleArn, description, partition });
    concrete(Object.fromEntries(props.targetIds.map((t, i) => [`targetIds[${i}]`, t])));
    concrete(Object.fromEntries(regions.map((r, i) => [`regions[${i}]`, r])));
    if (props.targetIds.length === 0) {
      throw new BackupDrConfigError('targetIds is empty; attach the policy to a root (r-...), an OU (ou-...-...) or a 12-digit account ID');
    }
    for (const t of props.targetIds) {
      if (!TARGET_ID.test(t)) {
        throw new BackupDrConfigError(`targetIds has "${t}", which is not a root (r-xxxx), an OU (ou-xxxx-xxxxxxxx) or a 12-digit account ID`);
      }
    }
    if (regions.length === 0) throw new BackupDrConfigError('regions is empty; a backup policy must name the regions it protects');
    for (const r of regions) if (!REGION.test(r)) throw new BackupDrConfigError(`regions has "${r}", which is not a region code such as eu-west-1`);
    if (policyName.length < 1 || policyName.length > 128 || !/^[\x20-\x7e]+$/.test(policyName)) {
      throw new BackupDrConfigError(`policyName "${policyName}" must be 1–128 printable ASCII characters`);
    }
    if (description.length > 512) throw new BackupDrConfigError(`description has ${description.length} characters; Organizations accepts up to 512`);
    if (!BACKUP_NAME.test(planName)) throw new BackupDrConfigError(`planName "${planName}" must be 1–50 letters, digits, "-", "_" or "."`);
    if (!VAULT_NAME.test(vaultName)) throw new BackupDrConfigError(`vaultName "${vaultName}" must be 2–50 letters, digits, "-" or "_"`);
    if (tagKey.length < 1 || tagKey.length > 128) throw new BackupDrConfigError(`tagKey "${tagKey}" must be 1–128 characters`);
    if (tagValue.length > 256) throw new BackupDrConfigError(`tagValue must be at most 256 characters (got ${tagValue.length})`);

    const destinations = (['drSite', 'copyToVaultArn', 'copyToRegion'] as const).filter((k) => props[k] !== undefined);
    if (destinations.length > 1) {
      throw new BackupDrConfigError(`${destinations.join(' and ')} are all set; give one DR copy destination (drSite, the DR vault ARN or the DR region)`);
    }
    let copyArn: string | undefined;
    if (props.drSite) {
      const site = props.drSite;
      if (site.environment !== props.environment) {
        throw new BackupDrConfigError(`drSite ${site.node.path} serves ${site.environment}, but the policy is ${props.environment}; use the DR site of ${props.environment}`);
      }
      if (regions.includes(site.region)) {
        throw new BackupDrConfigError(`drSite ${site.node.path} is in ${site.region}, one of regions; a DR copy must leave the protected region`);
      }
      concrete({ 'drSite.vaultArn': site.vaultArn });
      copyArn = site.vaultArn;
    } else if (props.copyToRegion !== undefined) {
      concrete({ copyToRegion: props.copyToRegion });
      if (!REGION.test(props.copyToRegion)) throw new BackupDrConfigError(`copyToRegion "${props.copyToRegion}" is not a region code such as eu-central-1`);
      if (regions.includes(props.copyToRegion)) {
        throw new BackupDrConfigError(`copyToRegion ${props.copyToRegion} is also one of regions; a DR copy must leave the protected region — pick another region`);
      }
      copyArn = `arn:${partition}:backup:${props.copyToRegion}:$account:backup-vault:${vaultName}`;
    } else if (props.copyToVaultArn !== undefined) {
      concrete({ copyToVaultArn: props.copyToVaultArn });
      if (!VAULT_ARN.test(props.copyToVaultArn)) {
        throw new BackupDrConfigError(`copyToVaultArn "${props.copyToVaultArn}" is not a backup vault ARN ` +
          '(arn:aws:backup:<region>:<account id or $account>:backup-vault:<name>)');
      }
      copyArn = props.copyToVaultArn;
    }

    const assign = (value: unknown) => ({ '@@assign': value });
    const lifecycle = (r: DerivedBackupRule) => ({
      delete_after_days: assign(String(r.deleteAfter.toDays())),
      ...(r.moveToColdStorageAfter ? { move_to_cold_storage_after_days: assign(String(r.moveToColdStorageAfter.toDays())) } : {}),
    });
    const tag = (key: string, value: string) => ({ tag_key: assign(key), tag_value: assign(value) });
    const rules: Record<string, unknown> = {};
    for (const r of derived.rules) {
      rules[r.ruleName] = {
        schedule_expression: assign(r.scheduleExpression),
        start_backup_window_minutes: assign(String(r.startWindow.toMinutes())),
        complete_backup_window_minutes: assign(String(r.completionWindow.toMinutes())),
        ...(r.enableContinuousBackup ? { enable_continuous_backup: assign(true) } : {}),
        lifecycle: lifecycle(r),
        target_backup_vault_name: assign(vaultName),
        recovery_point_tags: { environment: tag(ENVIRONMENT_TAG_KEY, props.environment) },
        ...(copyArn ? { copy_actions: { [copyArn]: { target_backup_vault_arn: assign(copyArn), lifecycle: lifecycle(r) } } } : {}),
      };
    }
    const plan: Record<string, unknown> = {
      regions: assign(regions),
      rules,
      selections: { tags: { [planName]: { iam_role_arn: assign(roleArn), tag_key: assign(tagKey), tag_value: assign([tagValue]) } } },
      ...(props.windowsVss ? { advanced_backup_settings: { ec2: { windows_vss: assign('enabled') } } } : {}),
      // Read by BackupDrChecks on the plans this policy creates (environment and declared RPO).
      backup_plan_tags: {
        environment: tag(ENVIRONMENT_TAG_KEY, props.environment),
        rpo: tag('cdk-backup-dr:rpo-minutes', String(rpoMinutes)),
      },
    };
    const control = props.childPolicyControl ?? ChildPolicyControl.LOCK_PLAN;
    const plans: Record<string, unknown> = { [planName]: control === ChildPolicyControl.ALLOW_ALL ? plan : lockAll(plan) };
    if (control === ChildPolicyControl.LOCK_PLAN) plans[CHILD] = ['@@append'];
    if (control === ChildPolicyControl.LOCK_ALL) plans[CHILD] = ['@@none'];
    const document = { plans };

    const size = JSON.stringify(document).length;
    if (size > MAX_BACKUP_POLICY_CHARACTERS) {
      throw new BackupDrConfigError(
        `the backup policy document has ${size} characters, over the Organizations quota of ${MAX_BACKUP_POLICY_CHARACTERS}; ` +
        'use childPolicyControl ALLOW_ALL or LOCK_ALL at fewer nodes, shorter names, or split the objectives over several policies');
    }
    return { content: document, policyName, planName, description, vaultName, regions, copyArn, periodicity: derived.periodicity };
  }
}

/** `@@operators_allowed_for_child_policies: ["@@none"]` on every object node (Organizations example 3). */
function lockAll(node: unknown): unknown {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return node;
  const out: Record<string, unknown> = { [CHILD]: ['@@none'] };
  for (const [k, v] of Object.entries(node)) out[k] = k === '@@assign' ? v : lockAll(v);
  return out;
}

function concrete(values: Record<string, string>): void {
  for (const [prop, value] of Object.entries(values)) {
    if (Token.isUnresolved(value)) {
      throw new BackupDrConfigError(`${prop} is a token; the policy document is validated against the Organizations quotas at synth time, so pass a concrete string`);
    }
  }
}

function stackRegion(scope: Construct): string {
  const region = Stack.of(scope).region;
  if (Token.isUnresolved(region)) {
    throw new BackupDrConfigError('regions is not set and the stack has no concrete region; pass regions, e.g. [\'eu-west-1\']');
  }
  return region;
}
