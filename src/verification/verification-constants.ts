import { Duration } from 'aws-cdk-lib';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { DerivedBackupPolicy } from '../core/schedule-derivation';
import { BackupDrConfigError, concreteMinutes } from '../core/validation';

/** @internal Namespace of the verification metrics; `cloudwatch:PutMetricData` is limited to it by condition. */
export const VERIFICATION_NAMESPACE = 'CdkBackupDr/Verification';
/** @internal Tag naming the policy of a protected resource (metric dimension `Policy`, compliance control scope). */
export const POLICY_TAG = 'cdk-backup-dr:policy';
/** @internal Tag naming the restore testing selection a resource belongs to. */
export const RESTORE_TEST_TAG = 'cdk-backup-dr-restore-test';
/** @internal Name prefix of the resources AWS Backup restores for restore tests. */
export const RESTORE_TEST_PREFIX = 'awsbackup-restore-test';

/** What kind of resource is verified; decides the restore testing type, its metadata and the checks. */
export enum VerifiedResourceType {
  /** RDS DB instance (restore testing type `RDS`). */
  RDS_INSTANCE = 'RDS_INSTANCE',
  /** Aurora (or Multi-AZ) DB cluster (restore testing type `Aurora`). */
  AURORA_CLUSTER = 'AURORA_CLUSTER',
  /** DynamoDB table (restore testing type `DynamoDB`). */
  DYNAMODB_TABLE = 'DYNAMODB_TABLE',
  /** S3 bucket (restore testing type `S3`). */
  S3_BUCKET = 'S3_BUCKET',
}

/** @internal CloudFormation type of the resource each type tags, and the restore testing `ProtectedResourceType`. */
export const TYPE_INFO: Record<VerifiedResourceType, { cfnTypes: string[]; restoreTestingType: string; short: string; complianceType: string }> = {
  [VerifiedResourceType.RDS_INSTANCE]: { cfnTypes: ['AWS::RDS::DBInstance'], restoreTestingType: 'RDS', short: 'RDS', complianceType: 'RDS' },
  [VerifiedResourceType.AURORA_CLUSTER]: { cfnTypes: ['AWS::RDS::DBCluster'], restoreTestingType: 'Aurora', short: 'Aurora', complianceType: 'Aurora' },
  [VerifiedResourceType.DYNAMODB_TABLE]: { cfnTypes: ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'], restoreTestingType: 'DynamoDB', short: 'DDB', complianceType: 'DynamoDB' },
  [VerifiedResourceType.S3_BUCKET]: { cfnTypes: ['AWS::S3::Bucket'], restoreTestingType: 'S3', short: 'S3', complianceType: 'S3' },
};

/** @internal Default policy name: environment and objectives, e.g. `Pro-rpo15m-rto60m`. */
export function defaultPolicyName(environment: DeploymentEnvironment, objectives: RecoveryObjectives): string {
  const rpo = concreteMinutes(objectives.rpo, 'objectives.rpo');
  const rto = concreteMinutes(objectives.rto, 'objectives.rto');
  return `${environment}-rpo${fmt(rpo)}m-rto${fmt(rto)}m`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, '').replace('.', '_');
}

/** @internal A policy name must be a valid tag value and metric dimension value. */
export function checkPolicyName(name: string): string {
  if (!/^[A-Za-z0-9 _.:/=+@-]{1,128}$/.test(name)) {
    throw new BackupDrConfigError(
      `policyName is "${name}", but it becomes a tag value and a metric dimension: use 1–128 letters, digits, spaces and _ . : / = + @ -`,
    );
  }
  return name;
}

/** @internal Alphanumeric-and-underscore names (restore testing plans and selections, frameworks). */
export function sanitizeName(name: string, maxLength: number): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_').replace(/^_+/, '');
  const lettered = /^[A-Za-z]/.test(s) ? s : `P${s}`;
  return lettered.slice(0, maxLength);
}

/** @internal Whole hours in [min, max], or a clear error naming the prop. */
export function wholeHours(d: Duration, prop: string, min: number, max: number): number {
  const minutes = concreteMinutes(d, prop);
  const hours = minutes / 60;
  if (!Number.isInteger(hours) || hours < min || hours > max) {
    throw new BackupDrConfigError(`${prop} is ${d.toHumanString()}, but AWS Backup takes whole hours from ${min} to ${max}; e.g. Duration.hours(${Math.min(max, Math.max(min, Math.round(hours) || min))})`);
  }
  return hours;
}

/** @internal Tag naming the frequency/retention a backup plan guarantees (the plan control's scope). */
export const PLAN_TAG = 'cdk-backup-dr:plan';

/** @internal What `BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK` checks for a derived policy: its first (routine) rule. */
export interface PlanCheck {
  readonly frequencyUnit: 'hours' | 'days';
  readonly frequencyValue: number;
  readonly retentionDays: number;
  /** Tag value shared by every plan with these values. */
  readonly tagValue: string;
}

/** @internal The plan check of a derived policy (undefined when it has no rule). */
export function planCheckOf(policy: DerivedBackupPolicy): PlanCheck | undefined {
  const rule = policy.rules[0];
  if (!rule) return undefined;
  const hours = rule.interval.toHours({ integral: false });
  const days = hours / 24;
  const [frequencyUnit, frequencyValue] = Number.isInteger(days) ? ['days', days] as const : ['hours', Math.max(1, Math.ceil(hours))] as const;
  const retentionDays = rule.deleteAfter.toDays();
  return { frequencyUnit, frequencyValue, retentionDays, tagValue: `every-${frequencyValue}-${frequencyUnit}-keep-${retentionDays}-days` };
}
