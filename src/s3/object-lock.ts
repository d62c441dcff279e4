import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { PlannedRule, daysOf } from './lifecycle-defaults';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { EnvironmentDefaults } from '../core/retention';
import { BackupDrConfigError } from '../core/validation';

/*
 * Immutability of an archive: S3 Object Lock, on by default for Pro archives (AWS Control Tower
 * CT.S3.PR.9 requires ObjectLockEnabled), with a default retention derived from the content class's
 * lifecycle. docs/s3-archive.md "Object Lock" explains the choices and their cost.
 */

/** @internal What decides the archive's Object Lock. */
export interface ObjectLockInput {
  readonly content: BackupContent;
  readonly environment: DeploymentEnvironment;
  /** The environment's retention, with the user's overrides. */
  readonly policy: EnvironmentDefaults;
  readonly objectLock?: s3.ObjectLockRetention;
  readonly objectLockEnabled?: boolean;
  /** Whether the bucket was given (true) or created by the archive (false). */
  readonly givenBucket: boolean;
  /** The planned lifecycle rules (their expirations bound the default retention). */
  readonly rules: PlannedRule[];
}

/** @internal Whether the archive asks for Object Lock (explicitly or by its environment's default). */
export function wantsObjectLock(i: Pick<ObjectLockInput, 'environment' | 'objectLock' | 'objectLockEnabled'>): boolean {
  if (i.objectLockEnabled === false && i.objectLock !== undefined) {
    throw new BackupDrConfigError(
      'objectLockEnabled is false but objectLock is set; remove objectLock to opt out of Object Lock, or remove objectLockEnabled: false to keep it',
    );
  }
  return i.objectLockEnabled ?? (i.objectLock !== undefined || i.environment === DeploymentEnvironment.PRO);
}

/** @internal Whether the user asked for Object Lock explicitly (not only the Pro default). */
export function explicitObjectLock(i: Pick<ObjectLockInput, 'objectLock' | 'objectLockEnabled'>): boolean {
  return i.objectLock !== undefined || i.objectLockEnabled === true;
}

/**
 * @internal Turns on Object Lock with its default retention on the archive's bucket, or explains why
 * it cannot. Returns the retention applied (undefined when none is).
 */
export function applyObjectLock(scope: IConstruct, cfn: s3.CfnBucket, i: ObjectLockInput): s3.ObjectLockRetention | undefined {
  if (!wantsObjectLock(i)) return undefined;
  const path = cfn.node.scope!.node.path;
  const explicit = explicitObjectLock(i);

  if (cfn.objectLockConfiguration !== undefined) {
    if (i.objectLock) {
      throw new BackupDrConfigError(`objectLock is set, but bucket ${path} already has an Object Lock configuration; configure it in one place`);
    }
    return undefined; // the given bucket's own default retention applies
  }
  if (i.givenBucket && cfn.objectLockEnabled !== true && !Token.isUnresolved(cfn.objectLockEnabled)) {
    const why = `bucket ${path} was defined without objectLockEnabled: true, and CloudFormation cannot turn Object Lock on for a ` +
      'deployed bucket: changing ObjectLockEnabled replaces the bucket by a new, empty one (cloudformation-coverage-roadmap#1929)';
    const fix = 'if the bucket is not deployed yet, create it with objectLockEnabled: true; if it is, keep it without Object Lock ' +
      '(objectLockEnabled: false) or move the archive to a new bucket (omit bucket)';
    if (explicit) {
      throw new BackupDrConfigError(`${i.objectLock ? 'objectLock is set' : 'objectLockEnabled is true'}, but ${why}; ${fix}`);
    }
    Annotations.of(scope).addWarningV2('cdk-backup-dr:s3-object-lock-unavailable',
      `${i.environment} archives get S3 Object Lock by default, but ${why}. This archive stays without Object Lock ` +
      `(AWS Control Tower CT.S3.PR.9 flags it): ${fix}; objectLockEnabled: false acknowledges the choice`);
    return undefined;
  }

  const lock = i.objectLock ?? defaultRetention(i);
  checkAgainstLifecycle(scope, lock, i);
  cfn.objectLockEnabled = true;
  cfn.objectLockConfiguration = {
    objectLockEnabled: 'Enabled',
    rule: { defaultRetention: { mode: lock.mode, days: lock.duration.toDays() } },
  };
  return lock;
}

/**
 * The default retention of a content class (GOVERNANCE mode):
 * - CURRENT_DATA: `retention.routine`, never longer than the shortest expiration of its rules, so
 *   lifecycle expiration still removes routine copies on time;
 * - HISTORICAL_DATA: the environment's longest kept sample (`yearlySample`, else `monthlySample`,
 *   else `routine`): the single copy cannot be destroyed for years;
 * - CODE and DOCUMENTATION: `retention.routine`: every bundle or document version, the latest
 *   included, survives a deletion for as long as a routine backup would;
 * and never longer than any expiration of the archive's rules (token durations are skipped).
 */
function defaultRetention(i: ObjectLockInput): s3.ObjectLockRetention {
  const p = i.policy;
  const wanted = i.content === BackupContent.HISTORICAL_DATA
    ? (positive(p.yearlySample) ?? positive(p.monthlySample) ?? p.routine)
    : p.routine;
  // aws-cdk-lib's ObjectLockRetention needs concrete days; token expirations are skipped like
  // every other check of a token.
  if (daysOf(wanted) === undefined) {
    throw new BackupDrConfigError(
      `the default Object Lock retention of a ${i.environment} ${i.content} archive derives from ` +
      `${i.content === BackupContent.HISTORICAL_DATA ? 'its longest kept sample' : 'retention.routine'}, which is a token; ` +
      'pass a concrete objectLock (e.g. s3.ObjectLockRetention.governance(Duration.days(35))) or objectLockEnabled: false',
    );
  }
  const days = [wanted, ...i.rules.map((r) => r.expiration)].map((d) => daysOf(d)).filter((d): d is number => d !== undefined);
  return s3.ObjectLockRetention.governance(Duration.days(Math.max(1, Math.min(...days))));
}

function positive(d: Duration | undefined): Duration | undefined {
  const n = daysOf(d);
  return n === undefined || n <= 0 ? undefined : d;
}

/** Warns when locked versions outlive the lifecycle's expiration (S3 keeps and bills them until the lock ends). */
function checkAgainstLifecycle(scope: IConstruct, lock: s3.ObjectLockRetention, i: ObjectLockInput) {
  const lockDays = daysOf(lock.duration);
  if (lockDays === undefined) return;
  for (const r of i.rules) {
    const expiry = daysOf(r.expiration);
    if (expiry === undefined || lockDays <= expiry) continue;
    Annotations.of(scope).addWarningV2('cdk-backup-dr:s3-object-lock-outlives-expiry',
      `objectLock keeps every object version ${lockDays} days, longer than ${r.expirationSource} (${expiry} days) of ` +
      `${r.relativePrefix || 'the archive'}: S3 cannot remove those versions before their lock ends, so they are billed ` +
      `${lockDays - expiry} more days; use a retention of at most ${expiry} days, or accept the cost`);
    return;
  }
}
