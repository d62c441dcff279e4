import { Annotations, Aws, CfnTag, Fn, Lazy, Names, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ProtectionVerification, VerificationRegistration } from './protection-verification';
import { PLAN_TAG, planCheckOf, POLICY_TAG, sanitizeName, TYPE_INFO } from './verification-constants';
import { TeamAccess } from '../access/team-access';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError, concreteMinutes, inScope } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/** AWS Backup Audit Manager quotas (per account and Region; report plans per account). */
export const MAX_FRAMEWORKS_PER_REGION = 15;
export const MAX_CONTROLS_PER_REGION = 50;
export const MAX_REPORT_PLANS_PER_ACCOUNT = 20;
/** `BACKUP_LAST_RECOVERY_POINT_CREATED` accepts 1–744 hours or 1–31 days. */
const MAX_AGE_HOURS = 744;
const MAX_AGE_DAYS = 31;
/** `BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED` exempts at most 5 principals. */
const MAX_EXEMPT_PRINCIPALS = 5;

/** Properties of a BackupComplianceFramework. */
export interface BackupComplianceFrameworkProps {
  /** Environment whose protected resources the framework evaluates (registrations of every stack of the app in this account and Region). */
  readonly environment: DeploymentEnvironment;
  /**
   * DR site the recovery points are copied to: adds the cross-Region (and, for a site in another account,
   * cross-account) copy controls.
   * @default - no copy controls
   */
  readonly drSite?: IDrSecondarySite;
  /**
   * Roles allowed to delete recovery points (the vaults' break-glass roles), exempted from the
   * manual-deletion control; at most 5.
   * @default - none
   */
  readonly breakGlassRoles?: iam.IRole[];
  /**
   * Merge the per-policy controls (last recovery point, restore time, plan frequency) into one control
   * each for the whole environment, with the strictest target, scoped by resource type: fewer controls
   * (Audit Manager allows 50 per account and Region) for less precise scoping.
   * @default false
   */
  readonly mergePolicies?: boolean;
  /**
   * Bucket that receives the daily control compliance reports (an `AWS::Backup::ReportPlan`), e.g. the
   * bucket of an `S3ArchiveLifecycle` for documentation.
   * @default - no report plan
   */
  readonly reportBucket?: s3.IBucket;
  /**
   * Key prefix of the reports.
   * @default 'backup-compliance'
   */
  readonly reportKeyPrefix?: string;
  /**
   * Teams that may read the reports (every access level may).
   * @default - none
   */
  readonly access?: TeamAccess[];
}

interface Control {
  readonly name: string;
  readonly params?: Record<string, string>;
  readonly tags?: CfnTag[];
  readonly types?: string[];
  readonly ids?: string[];
}

/**
 * An AWS Backup Audit Manager framework generated from the declared policies of one environment:
 *
 * - per policy (environment and objectives): `BACKUP_LAST_RECOVERY_POINT_CREATED` (age from the RPO, hours
 *   up to 744, else days up to 31) and, when the policy is restore-tested, `RESTORE_TIME_FOR_RESOURCES_MEET_TARGET`
 *   (`maxRestoreTime` = RTO in minutes), scoped by the `cdk-backup-dr:policy` tag of the resources;
 * - per distinct derived rule set: `BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK` scoped by the plans' `cdk-backup-dr:plan` tag;
 * - per environment: `BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK` (the shortest routine retention),
 *   `BACKUP_RECOVERY_POINT_ENCRYPTED`, `BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED` (break-glass roles
 *   exempted), `BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK` when the vaults are locked, and the
 *   cross-Region / cross-account controls from the DR site, scoped by the registered resource types.
 *
 * Quotas (15 frameworks and 50 controls per account and Region, 20 report plans per account) are checked
 * across the app at synth time. AWS Config must record the AWS Backup resource types (docs/verification.md).
 */
export class BackupComplianceFramework extends Construct {
  /** The framework. */
  public readonly framework: backup.CfnFramework;
  /**
   * The report plan.
   * @default - no report plan
   */
  public readonly reportPlan?: backup.CfnReportPlan;
  private readonly props: BackupComplianceFrameworkProps;

  constructor(scope: Construct, id: string, props: BackupComplianceFrameworkProps) {
    super(scope, id);
    this.props = props;
    inScope(this, () => {
      if ((props.breakGlassRoles ?? []).length > MAX_EXEMPT_PRINCIPALS) {
        throw new BackupDrConfigError(
          `breakGlassRoles has ${props.breakGlassRoles!.length} roles, but BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED exempts at most ` +
          `${MAX_EXEMPT_PRINCIPALS} principals; keep one break-glass role per vault`,
        );
      }
    });
    this.framework = new backup.CfnFramework(this, 'Resource', {
      frameworkName: Lazy.string({ produce: () => sanitizeName(Names.uniqueResourceName(this, { maxLength: 200, separator: '_' }), 256) }),
      frameworkDescription: `cdk-backup-dr: controls derived from the declared ${props.environment} backup policies (objectives, rules, vaults, DR site)`,
      // Computed at synth time from every registration (constructs may be added after the framework); the
      // override holds CloudFormation-cased values.
      frameworkControls: [],
    });
    this.framework.addPropertyOverride('FrameworkControls', Lazy.any({ produce: () => inScope(this, () => this.controls()).map(render) }));
    this.node.addValidation({ validate: () => this.validateQuotas() });

    if (props.reportBucket) {
      const prefix = (props.reportKeyPrefix ?? 'backup-compliance').replace(/^\/+|\/+$/g, '');
      this.reportPlan = new backup.CfnReportPlan(this, 'ReportPlan', {
        reportPlanDescription: `cdk-backup-dr: daily compliance report of ${this.node.path}`,
        // Untyped properties (JSON): CloudFormation casing.
        reportDeliveryChannel: { S3BucketName: props.reportBucket.bucketName, S3KeyPrefix: prefix, Formats: ['CSV', 'JSON'] },
        reportSetting: { ReportTemplate: 'CONTROL_COMPLIANCE_REPORT', FrameworkArns: [this.framework.attrFrameworkArn] },
      });
      // AWS Backup writes reports with its service-linked role (AWSServiceRoleForBackupReports).
      const reportsRole = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports`;
      props.reportBucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AwsBackupReports',
        principals: [new iam.ArnPrincipal(reportsRole)],
        actions: ['s3:PutObject'],
        resources: [props.reportBucket.arnForObjects(`${prefix}/*`)],
        conditions: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      }));
      for (const access of props.access ?? []) {
        NagAcknowledgements.acknowledgeGrant(access.grantee,
          iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['s3:GetObject'], resourceArns: [props.reportBucket.arnForObjects(`${prefix}/*`)] }),
          'cdk-backup-dr TeamAccess: read the compliance reports AWS Backup writes under the report prefix (names generated daily)');
        if (props.reportBucket.encryptionKey) {
          iam.Grant.addToPrincipal({ grantee: access.grantee, actions: ['kms:Decrypt'], resourceArns: [props.reportBucket.encryptionKey.keyArn] });
        }
      }
    }
  }

  /** @internal The controls, computed from the registrations at synth time. */
  public _controlCount(): number {
    return this.controls().length;
  }

  private registrations(): VerificationRegistration[] {
    const mine = Stack.of(this);
    return ProtectionVerification._registrationsUnder(this.node.root).filter((r) => {
      if (r.environment !== this.props.environment) return false;
      const theirs = Stack.of(r.scope);
      return sameEnv(mine.account, theirs.account) && sameEnv(mine.region, theirs.region);
    });
  }

  private controls(): Control[] {
    const regs = this.registrations();
    if (regs.length === 0) {
      throw new BackupDrConfigError(
        `no construct of this app registered ${this.props.environment} resources in this account and Region, so the framework would ` +
        'have no control; protect resources with a cdk-backup-dr construct first, or remove the framework',
      );
    }
    const types = [...new Set(regs.map((r) => TYPE_INFO[r.resourceType].complianceType))].sort();
    const out: Control[] = [];
    const policies = new Map<string, { rpo: number; rto: number; tested: boolean }>();
    for (const r of regs) {
      const p = policies.get(r.policyName) ?? { rpo: concreteMinutes(r.objectives.rpo, 'objectives.rpo'), rto: concreteMinutes(r.objectives.rto, 'objectives.rto'), tested: false };
      p.tested = p.tested || r.restoreTested;
      policies.set(r.policyName, p);
    }
    const merge = this.props.mergePolicies ?? false;
    if (merge) {
      const all = [...policies.values()];
      out.push({ name: 'BACKUP_LAST_RECOVERY_POINT_CREATED', params: ageParams(Math.min(...all.map((p) => p.rpo))), types });
      if (all.some((p) => p.tested)) {
        out.push({ name: 'RESTORE_TIME_FOR_RESOURCES_MEET_TARGET', params: { maxRestoreTime: String(Math.round(Math.min(...all.filter((p) => p.tested).map((p) => p.rto)))) }, types });
      }
    } else {
      for (const [name, p] of [...policies.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const tags = [{ key: POLICY_TAG, value: name }];
        out.push({ name: 'BACKUP_LAST_RECOVERY_POINT_CREATED', params: ageParams(p.rpo), tags });
        if (p.tested) out.push({ name: 'RESTORE_TIME_FOR_RESOURCES_MEET_TARGET', params: { maxRestoreTime: String(Math.round(p.rto)) }, tags });
      }
    }

    const checks = new Map<string, NonNullable<ReturnType<typeof planCheckOf>>>();
    for (const r of regs) {
      const c = planCheckOf(r.policy);
      if (c && r.backupPlan) checks.set(c.tagValue, c);
    }
    const planControls = [...checks.values()].sort((a, b) => a.tagValue.localeCompare(b.tagValue));
    if (merge && planControls.length > 0) {
      // The weakest requirement every plan must meet: the longest interval and the shortest retention.
      const hours = (c: typeof planControls[0]) => c.frequencyValue * (c.frequencyUnit === 'days' ? 24 : 1);
      const loosest = planControls.reduce((a, b) => (hours(b) > hours(a) ? b : a));
      out.push({ name: 'BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK', params: planParams({ ...loosest, retentionDays: Math.min(...planControls.map((c) => c.retentionDays)) }) });
    } else {
      for (const c of planControls) {
        out.push({ name: 'BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK', params: planParams(c), tags: [{ key: PLAN_TAG, value: c.tagValue }] });
      }
    }

    const retentions = regs.map((r) => planCheckOf(r.policy)?.retentionDays).filter((d): d is number => d !== undefined);
    if (retentions.length > 0) {
      out.push({ name: 'BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK', params: { requiredRetentionDays: String(Math.min(...retentions)) }, types });
    }
    out.push({ name: 'BACKUP_RECOVERY_POINT_ENCRYPTED', types });
    const exempt = (this.props.breakGlassRoles ?? []).map((r) => r.roleArn);
    out.push({
      name: 'BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED',
      params: exempt.length > 0 ? { principalArnList: Fn.join(',', exempt) } : undefined,
    });
    const locked = regs.map((r) => r.vault).filter((v) => v.lockMinRetentionDays !== undefined);
    if (locked.length > 0) {
      const min = Math.min(...locked.map((v) => v.lockMinRetentionDays!));
      const maxes = locked.map((v) => v.lockMaxRetentionDays).filter((d): d is number => d !== undefined);
      out.push({
        name: 'BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK',
        params: { minRetentionDays: String(min), ...(maxes.length === locked.length ? { maxRetentionDays: String(Math.max(...maxes)) } : {}) },
        types,
      });
    }
    const site = this.props.drSite;
    if (site) {
      const stack = Stack.of(this);
      if (Token.isUnresolved(stack.region) || site.region !== stack.region) {
        out.push({ name: 'BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION', params: { crossRegionList: site.region }, types });
      }
      if (!Token.isUnresolved(stack.account) && site.account !== stack.account) {
        out.push({ name: 'BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT', params: { crossAccountList: site.account }, types });
      }
    }
    return out;
  }

  private validateQuotas(): string[] {
    const mine = Stack.of(this);
    const peers = this.node.root.node.findAll().filter((c): c is BackupComplianceFramework => c instanceof BackupComplianceFramework)
      .filter((f) => sameEnv(Stack.of(f).account, mine.account) && sameEnv(Stack.of(f).region, mine.region));
    // Report once, from the first framework of the account and Region.
    if (peers[0] !== this) return [];
    const errors: string[] = [];
    let controls = 0;
    const per: string[] = [];
    for (const f of peers) {
      try {
        const n = f._controlCount();
        controls += n;
        per.push(`${f.node.path}: ${n}`);
      } catch (e) {
        if (e instanceof BackupDrConfigError) errors.push(`[${f.node.path}] ${e.message}`);
        else throw e;
      }
    }
    if (peers.length > MAX_FRAMEWORKS_PER_REGION) {
      errors.push(`${peers.length} BackupComplianceFrameworks in account ${mine.account} Region ${mine.region}, but AWS Backup Audit Manager allows ` +
        `${MAX_FRAMEWORKS_PER_REGION} frameworks per account and Region; use one framework per environment`);
    }
    if (controls > MAX_CONTROLS_PER_REGION) {
      errors.push(`the BackupComplianceFrameworks of account ${mine.account} Region ${mine.region} have ${controls} controls (${per.join(', ')}), but ` +
        `AWS Backup Audit Manager allows ${MAX_CONTROLS_PER_REGION} controls per account and Region (the same control in two frameworks counts twice); ` +
        'set mergePolicies: true (one control per environment with the strictest target), or declare fewer distinct objectives');
    }
    const reportPlans = peers.filter((f) => f.reportPlan).length;
    if (reportPlans > MAX_REPORT_PLANS_PER_ACCOUNT) {
      errors.push(`${reportPlans} report plans, but AWS Backup allows ${MAX_REPORT_PLANS_PER_ACCOUNT} per account`);
    }
    if (controls > 0 && controls > MAX_CONTROLS_PER_REGION * 0.8 && errors.length === 0) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:compliance-controls-headroom',
        `${controls} of the ${MAX_CONTROLS_PER_REGION} AWS Backup Audit Manager controls of this account and Region are used by this app`);
    }
    return errors;
  }
}

function ageParams(rpoMinutes: number): Record<string, string> {
  const hours = Math.max(1, Math.ceil(rpoMinutes / 60));
  if (hours <= MAX_AGE_HOURS) return { recoveryPointAgeUnit: 'hours', recoveryPointAgeValue: String(hours) };
  const days = Math.ceil(rpoMinutes / (24 * 60));
  if (days > MAX_AGE_DAYS) {
    throw new BackupDrConfigError(
      `objectives.rpo is ${days} days, but BACKUP_LAST_RECOVERY_POINT_CREATED checks at most ${MAX_AGE_DAYS} days; declare an RPO of 31 days or less ` +
      'for resources in a compliance framework, or leave this environment out of BackupComplianceFramework',
    );
  }
  return { recoveryPointAgeUnit: 'days', recoveryPointAgeValue: String(days) };
}

function planParams(c: { frequencyUnit: string; frequencyValue: number; retentionDays: number }): Record<string, string> {
  return { requiredFrequencyUnit: c.frequencyUnit, requiredFrequencyValue: String(c.frequencyValue), requiredRetentionDays: String(c.retentionDays) };
}

/** CloudFormation-cased control (a lazily produced property value is not converted from camelCase). */
function render(c: Control): Record<string, unknown> {
  const scope: Record<string, unknown> = {};
  if (c.ids) scope.ComplianceResourceIds = c.ids;
  if (c.types) scope.ComplianceResourceTypes = c.types;
  if (c.tags) scope.Tags = c.tags.map((t) => ({ Key: t.key, Value: t.value }));
  return {
    ControlName: c.name,
    ...(c.params
      ? { ControlInputParameters: Object.entries(c.params).map(([ParameterName, ParameterValue]) => ({ ParameterName, ParameterValue })) }
      : {}),
    ...(Object.keys(scope).length > 0 ? { ControlScope: scope } : {}),
  };
}

function sameEnv(a: string, b: string): boolean {
  return Token.isUnresolved(a) || Token.isUnresolved(b) || a === b;
}
