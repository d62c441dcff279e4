import { Annotations, Duration, Names } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import {
  ABORT_INCOMPLETE_UPLOADS_DAYS, FORBIDDEN_TRANSITIONS, INTELLIGENT_TIERING_TIERS, MAX_NEWER_NONCURRENT_VERSIONS,
  PlannedRule, PlannedRuleKind, PlannedTransition, STORAGE_CLASS_FACTS, StorageClassFacts, daysOf, defaultRulePlan,
  fitTransitionsToRto,
} from './lifecycle-defaults';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { EnvironmentDefaults } from '../core/retention';
import { BackupDrConfigError } from '../core/validation';

/*
 * Lifecycle rules of an archive: the plan (defaults from lifecycle-defaults.ts + the user's
 * overrides), the checks S3 and the cost guards need, the rendering onto the bucket, the
 * Intelligent-Tiering configuration and the inventory description. No construct lives here.
 */

/** A lifecycle transition to another storage class. */
export interface ArchiveTransition {
  /**
   * Target storage class: `INFREQUENT_ACCESS`, `INTELLIGENT_TIERING`, `ONE_ZONE_INFREQUENT_ACCESS`,
   * `GLACIER_INSTANT_RETRIEVAL`, `GLACIER` (Flexible Retrieval) or `DEEP_ARCHIVE`.
   */
  readonly storageClass: s3.StorageClass;
  /**
   * When the transition happens: whole days after creation (current versions) or after the version
   * became noncurrent (noncurrent transitions). Standard-IA and One Zone-IA need at least 30 days.
   */
  readonly transitionAfter: Duration;
}

/** An object tag a lifecycle rule is limited to. */
export interface LifecycleTagFilter {
  /** Tag key. */
  readonly key: string;
  /** Tag value. */
  readonly value: string;
}

/**
 * S3 Intelligent-Tiering archive access tiers, for objects stored in (or transitioned to) the
 * INTELLIGENT_TIERING storage class. At least one tier must be set.
 */
export interface IntelligentTieringOptions {
  /**
   * Days without access after which an object moves to the Archive Access tier (90–730 days;
   * retrieval takes 3–5 hours).
   * @default - no Archive Access tier
   */
  readonly archiveAccessAfter?: Duration;
  /**
   * Days without access after which an object moves to the Deep Archive Access tier (180–730 days;
   * retrieval takes up to 12 hours).
   * @default - no Deep Archive Access tier
   */
  readonly deepArchiveAccessAfter?: Duration;
}

/** @internal The props the lifecycle rules are planned from (a subset of S3ArchiveLifecycleProps). */
export interface LifecyclePlanInput {
  readonly content: BackupContent;
  readonly environment: DeploymentEnvironment;
  readonly objectives: RecoveryObjectives;
  readonly transitions?: ArchiveTransition[];
  readonly expiration?: Duration;
  readonly noncurrentVersionExpiration?: Duration;
  readonly noncurrentVersionTransitions?: ArchiveTransition[];
  readonly abortIncompleteMultipartUploadAfter?: Duration;
  readonly tagFilters?: LifecycleTagFilter[];
  readonly intelligentTiering?: IntelligentTieringOptions;
}

/** @internal The archive's rules: as planned (for the inventory and Object Lock) and as rendered (for a DR replica). */
export interface ArchiveLifecycleRules {
  readonly planned: PlannedRule[];
  readonly rendered: s3.LifecycleRule[];
}

/**
 * @internal Plans the archive's rules from the content class defaults and the overrides, checks
 * them (errors for what S3 rejects or the RTO forbids, warnings for minimum-storage fees) and
 * adds them to the bucket, scoped to `keyPrefix`.
 */
export function addArchiveLifecycleRules(
  scope: IConstruct, bucket: s3.Bucket, keyPrefix: string, policy: EnvironmentDefaults, props: LifecyclePlanInput,
): ArchiveLifecycleRules {
  const previous = policy.previousVersions;
  if (!Number.isInteger(previous) || previous < 0 || previous > MAX_NEWER_NONCURRENT_VERSIONS) {
    throw new BackupDrConfigError(
      `retention.previousVersions is ${previous}, but S3 keeps 0 to ${MAX_NEWER_NONCURRENT_VERSIONS} noncurrent versions per rule; use a whole number in that range`,
    );
  }
  const rto = rtoHours(props.objectives);
  const overrideTransitions = props.transitions?.map((t, i) => toPlanned(t, `transitions[${i}]`));
  const noncurrentTransitions = (props.noncurrentVersionTransitions ?? []).map((t, i) => toPlanned(t, `noncurrentVersionTransitions[${i}]`));

  const rules = defaultRulePlan(props.content, props.environment, policy).map((r): PlannedRule => {
    const main = r.kind === PlannedRuleKind.MAIN;
    return {
      ...r,
      transitions: main && overrideTransitions ? overrideTransitions : fitTransitionsToRto(r.transitions, rto),
      expiration: main && props.expiration ? props.expiration : r.expiration,
      noncurrentExpiration: props.noncurrentVersionExpiration ?? r.noncurrentExpiration,
      noncurrentTransitions,
    };
  });

  const id = (suffix: string) => `${Names.uniqueId(scope).slice(-(250 - suffix.length))}-${suffix}`;
  const tagFilters = props.tagFilters?.length ? Object.fromEntries(props.tagFilters.map((t) => [t.key, t.value])) : undefined;
  const rendered: s3.LifecycleRule[] = [];
  for (const r of rules) {
    const main = r.kind === PlannedRuleKind.MAIN;
    checkTransitions(scope, r.transitions, main && overrideTransitions ? 'transitions' : `${r.name} default transitions`,
      false, main && overrideTransitions ? rto : undefined);
    checkExpiry(scope, r.transitions, r.expiration, main && props.expiration ? 'expiration' : r.expirationSource, false);
    checkTransitions(scope, r.noncurrentTransitions, 'noncurrentVersionTransitions', true, rto);
    checkExpiry(scope, r.noncurrentTransitions, r.noncurrentExpiration, 'noncurrentVersionExpiration', true);
    rendered.push({
      id: id(r.name),
      prefix: keyPrefix + r.relativePrefix || undefined,
      tagFilters,
      transitions: r.transitions.length ? r.transitions.map((t) => ({ storageClass: t.storageClass, transitionAfter: t.after })) : undefined,
      expiration: r.expiration,
      noncurrentVersionExpiration: r.noncurrentExpiration,
      noncurrentVersionsToRetain: r.previousVersions || undefined,
      noncurrentVersionTransitions: r.noncurrentTransitions.length
        ? r.noncurrentTransitions.map((t) => ({ storageClass: t.storageClass, transitionAfter: t.after }))
        : undefined,
      // Remove delete markers left without any version (S3 refuses this with an expiration or tags).
      expiredObjectDeleteMarker: !r.expiration && !tagFilters ? true : undefined,
    });
  }
  const abort = props.abortIncompleteMultipartUploadAfter ?? Duration.days(ABORT_INCOMPLETE_UPLOADS_DAYS);
  wholeDays(abort, 'abortIncompleteMultipartUploadAfter', 1);
  rendered.push({
    id: id('AbortIncompleteMultipartUploads'),
    prefix: keyPrefix || undefined,
    abortIncompleteMultipartUploadAfter: abort,
  });
  rendered.forEach((r) => bucket.addLifecycleRule(r));

  if (props.intelligentTiering && !rules.some((r) => [...r.transitions, ...r.noncurrentTransitions]
    .some((t) => t.storageClass.value === s3.StorageClass.INTELLIGENT_TIERING.value))) {
    Annotations.of(scope).addWarningV2('cdk-backup-dr:s3-intelligent-tiering-unused',
      'intelligentTiering only acts on objects stored in the INTELLIGENT_TIERING class, and no lifecycle transition moves objects ' +
      'there; add { storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) } to transitions, or upload with that class');
  }
  return { planned: rules, rendered };
}

/** @internal Adds the Intelligent-Tiering archive configuration, scoped to the prefix and tags. */
export function addIntelligentTiering(scope: IConstruct, cfn: s3.CfnBucket, keyPrefix: string, props: LifecyclePlanInput): void {
  const o = props.intelligentTiering!;
  const rto = rtoHours(props.objectives);
  const tierings: s3.CfnBucket.TieringProperty[] = [];
  const tier = (d: Duration | undefined, accessTier: keyof typeof INTELLIGENT_TIERING_TIERS, prop: string) => {
    if (!d) return undefined;
    const t = INTELLIGENT_TIERING_TIERS[accessTier];
    const n = wholeDays(d, prop, t.minDays);
    if (n !== undefined && n > t.maxDays) {
      throw new BackupDrConfigError(`${prop} is ${n} days, but the ${t.label} tier accepts ${t.minDays} to ${t.maxDays} days without access; use a value in that range`);
    }
    if (rto !== undefined && t.retrievalHours > rto) {
      throw new BackupDrConfigError(
        `${prop} moves objects to the ${t.label} tier, which takes about ${t.retrievalHours} hours to restore, more than objectives.rto ` +
        `(${rto} hours); drop this tier or declare a longer RTO`,
      );
    }
    tierings.push({ accessTier, days: d.toDays() });
    return n;
  };
  const archive = tier(o.archiveAccessAfter, 'ARCHIVE_ACCESS', 'intelligentTiering.archiveAccessAfter');
  const deep = tier(o.deepArchiveAccessAfter, 'DEEP_ARCHIVE_ACCESS', 'intelligentTiering.deepArchiveAccessAfter');
  if (tierings.length === 0) {
    throw new BackupDrConfigError('intelligentTiering is set without archiveAccessAfter or deepArchiveAccessAfter; set at least one, or remove intelligentTiering');
  }
  if (archive !== undefined && deep !== undefined && deep <= archive) {
    throw new BackupDrConfigError(
      `intelligentTiering.deepArchiveAccessAfter (${deep} days) must be later than archiveAccessAfter (${archive} days); raise it or drop one tier`,
    );
  }
  const existing = cfn.intelligentTieringConfigurations;
  cfn.intelligentTieringConfigurations = [...(Array.isArray(existing) ? existing : []), {
    id: Names.uniqueId(scope).slice(-64),
    status: 'Enabled',
    prefix: keyPrefix || undefined,
    tagFilters: props.tagFilters?.length ? props.tagFilters.map((t) => ({ key: t.key, value: t.value })) : undefined,
    tierings,
  }];
}

/** @internal The rules in words, for the inventory's periodicity column. */
export function describeLifecycle(rules: PlannedRule[], keyPrefix: string): string {
  const describeTransitions = (ts: PlannedTransition[]) => ts.map((t) =>
    `${STORAGE_CLASS_FACTS[t.storageClass.value]?.label ?? t.storageClass.value} after ${daysText(t.after)}`).join(', ');
  return rules.map((r) => {
    const where = keyPrefix + r.relativePrefix || 'all objects';
    let keep: string;
    if (r.previousVersions !== undefined) {
      keep = `latest version + ${r.previousVersions} previous versions per key`;
    } else if (r.expiration) {
      keep = `kept ${daysText(r.expiration)}`;
    } else {
      keep = 'single copy kept until deleted';
    }
    if (r.expiration && r.previousVersions !== undefined) keep += `, expires after ${daysText(r.expiration)}`;
    const moves = describeTransitions(r.transitions);
    return `${where}: ${keep}${moves ? ` (${moves})` : ''}`;
  }).join('; ');
}

/** @internal The RTO in hours, undefined for a token. */
export function rtoHours(objectives: RecoveryObjectives | undefined): number | undefined {
  return objectives && !objectives.rto.isUnresolved() ? objectives.rto.toHours({ integral: false }) : undefined;
}

/** @internal Whole days of a duration (undefined for a token), checked against a minimum. */
export function wholeDays(d: Duration, prop: string, min: number): number | undefined {
  if (d.isUnresolved()) return undefined;
  const n = d.toHours({ integral: false }) / 24;
  if (!Number.isInteger(n)) {
    throw new BackupDrConfigError(`${prop} is ${d.toHumanString()}, but S3 lifecycle counts whole days; use Duration.days(${Math.ceil(n)})`);
  }
  if (n < min) {
    throw new BackupDrConfigError(`${prop} is ${n} days, but must be at least ${min} day${min === 1 ? '' : 's'}; use Duration.days(${min}) or more`);
  }
  return n;
}

function toPlanned(t: ArchiveTransition, prop: string): PlannedTransition {
  factsOf(t.storageClass, prop);
  return { storageClass: t.storageClass, after: t.transitionAfter };
}

function factsOf(storageClass: s3.StorageClass, prop: string): StorageClassFacts {
  const facts = STORAGE_CLASS_FACTS[storageClass?.value];
  if (!facts) {
    throw new BackupDrConfigError(
      `${prop}.storageClass is '${storageClass?.value}', which a lifecycle rule cannot transition to; use one of ${Object.keys(STORAGE_CLASS_FACTS).join(', ')}`,
    );
  }
  return facts;
}

interface Step { readonly facts: StorageClassFacts; readonly days?: number; readonly storageClass: string }

/** Errors for transitions S3 rejects, warnings for transitions that pay minimum-storage fees. */
function checkTransitions(
  scope: IConstruct, transitions: PlannedTransition[], prop: string, noncurrent: boolean, rto: number | undefined,
): void {
  const since = noncurrent ? 'after becoming noncurrent' : 'after creation';
  let prev: Step | undefined;
  transitions.forEach((t, i) => {
    const at = `${prop}[${i}]`;
    const facts = factsOf(t.storageClass, at);
    const days = wholeDays(t.after, `${at}.transitionAfter`, 0);
    if (days !== undefined && days < facts.minTransitionDays) {
      throw new BackupDrConfigError(
        `${at} moves objects to ${facts.label} ${days} days ${since}, but S3 only transitions to ${facts.label} from day ${facts.minTransitionDays}; ` +
        `use Duration.days(${facts.minTransitionDays}) or more, or a Glacier class (accepted from day 0)`,
      );
    }
    if (rto !== undefined && facts.retrievalHours > rto) {
      throw new BackupDrConfigError(
        `${at} moves objects to ${facts.label}, which takes about ${facts.retrievalHours} hours to restore, more than objectives.rto ` +
        `(${rto} hours); use s3.StorageClass.GLACIER_INSTANT_RETRIEVAL or declare a longer RTO`,
      );
    }
    if (prev) {
      if (facts.rank <= prev.facts.rank || FORBIDDEN_TRANSITIONS.some(([a, b]) => a === prev!.storageClass && b === t.storageClass.value)) {
        throw new BackupDrConfigError(
          `${at} moves objects from ${prev.facts.label} to ${facts.label}, which S3 lifecycle does not support: objects only move down the waterfall ` +
          'Standard-IA → Intelligent-Tiering → One Zone-IA → Glacier Instant Retrieval → Glacier Flexible Retrieval → Deep Archive ' +
          '(and One Zone-IA cannot move to Glacier Instant Retrieval); reorder or remove transitions',
        );
      }
      if (days !== undefined && prev.days !== undefined) {
        if (days <= prev.days) {
          throw new BackupDrConfigError(
            `${at} is at ${days} days but ${prop}[${i - 1}] is already at ${prev.days} days; transitions must be in increasing order of days: sort them or fix the days`,
          );
        }
        if (prev.facts.infrequentAccess && days - prev.days < 30) {
          throw new BackupDrConfigError(
            `${at} leaves ${prev.facts.label} after ${days - prev.days} days, but S3 requires objects to stay 30 days in ${prev.facts.label} ` +
            `before the next transition; use Duration.days(${prev.days + 30}) or more`,
          );
        }
        if (days - prev.days < prev.facts.minStorageDays) {
          Annotations.of(scope).addWarningV2('cdk-backup-dr:s3-early-deletion',
            `${at} moves objects out of ${prev.facts.label} after ${days - prev.days} days, but ${prev.facts.label} bills a minimum of ` +
            `${prev.facts.minStorageDays} days: every object pays ${prev.facts.minStorageDays - (days - prev.days)} extra days of ${prev.facts.label} storage. ` +
            `Move it at day ${prev.days + prev.facts.minStorageDays} or later, or skip ${prev.facts.label}`);
        }
      }
    }
    prev = { facts, days, storageClass: t.storageClass.value };
  });
}

/** Expiration after the last transition (error) and after its minimum storage duration (warning). */
function checkExpiry(scope: IConstruct, transitions: PlannedTransition[], expiry: Duration | undefined, prop: string, noncurrent: boolean) {
  if (!expiry) return;
  const days = wholeDays(expiry, prop, 1);
  if (days === undefined || transitions.length === 0) return;
  const lastT = transitions[transitions.length - 1];
  const last = STORAGE_CLASS_FACTS[lastT.storageClass.value];
  const lastDays = daysOf(lastT.after);
  if (!last || lastDays === undefined) return;
  const what = noncurrent ? 'noncurrent versions' : 'objects';
  if (days <= lastDays) {
    throw new BackupDrConfigError(
      `${prop} (${days} days) removes ${what} before or when they move to ${last.label} (day ${lastDays}); S3 requires the expiration ` +
      `to come after the last transition: expire after day ${lastDays} or remove the transition`,
    );
  }
  if (days - lastDays < last.minStorageDays) {
    Annotations.of(scope).addWarningV2('cdk-backup-dr:s3-early-deletion',
      `${prop} removes ${what} ${days - lastDays} days after they move to ${last.label}, whose minimum storage duration is ` +
      `${last.minStorageDays} days: each one is billed an early-deletion fee for ${last.minStorageDays - (days - lastDays)} more days than it is stored. ` +
      `Expire at day ${lastDays + last.minStorageDays} or later, move to ${last.label} later, or drop the transition`);
  }
}

function daysText(d: Duration): string {
  const n = daysOf(d);
  return n === undefined ? d.toString() : `${n} days`;
}
