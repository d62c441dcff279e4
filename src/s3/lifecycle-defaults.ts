import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { EnvironmentDefaults } from '../core/retention';

/*
 * The S3 archive defaults, in one place (docs/s3-archive.md renders this table).
 *
 * Retention numbers that the backup policy fixes per environment (routine retention, monthly and
 * yearly samples and when they go cold, previous versions of code and documentation) come from
 * `PolicyDefaults` (src/core/retention.ts) and are never repeated here. This module only holds what
 * is specific to S3: which storage classes each content class moves through, and when.
 */

/** What S3 says about one storage class a lifecycle rule can move objects to. */
export interface StorageClassFacts {
  /** Human-readable name for messages and the inventory. */
  readonly label: string;
  /** Position in the S3 lifecycle waterfall; a rule may only move objects to a higher rank. */
  readonly rank: number;
  /** Earliest day (since creation or since becoming noncurrent) S3 accepts a transition to this class. */
  readonly minTransitionDays: number;
  /** Minimum storage duration billed when an object leaves the class earlier (days). */
  readonly minStorageDays: number;
  /** Standard retrieval time before an object can be read again (hours); 0 for instant access. */
  readonly retrievalHours: number;
  /** Whether it is an infrequent-access class (S3 wants 30 days there before the next transition). */
  readonly infrequentAccess: boolean;
}

/**
 * Storage classes a lifecycle rule can transition to, in waterfall order.
 * Sources: S3 User Guide "Transitioning objects using Amazon S3 Lifecycle" (supported transitions,
 * 30-day constraints) and "Amazon S3 storage classes" (minimum storage durations, retrieval times).
 */
export const STORAGE_CLASS_FACTS: Record<string, StorageClassFacts> = {
  [s3.StorageClass.INFREQUENT_ACCESS.value]: {
    label: 'Standard-IA', rank: 1, minTransitionDays: 30, minStorageDays: 30, retrievalHours: 0, infrequentAccess: true,
  },
  [s3.StorageClass.INTELLIGENT_TIERING.value]: {
    label: 'Intelligent-Tiering', rank: 2, minTransitionDays: 0, minStorageDays: 0, retrievalHours: 0, infrequentAccess: false,
  },
  [s3.StorageClass.ONE_ZONE_INFREQUENT_ACCESS.value]: {
    label: 'One Zone-IA', rank: 3, minTransitionDays: 30, minStorageDays: 30, retrievalHours: 0, infrequentAccess: true,
  },
  [s3.StorageClass.GLACIER_INSTANT_RETRIEVAL.value]: {
    label: 'Glacier Instant Retrieval', rank: 4, minTransitionDays: 0, minStorageDays: 90, retrievalHours: 0, infrequentAccess: false,
  },
  [s3.StorageClass.GLACIER.value]: {
    label: 'Glacier Flexible Retrieval', rank: 5, minTransitionDays: 0, minStorageDays: 90, retrievalHours: 5, infrequentAccess: false,
  },
  [s3.StorageClass.DEEP_ARCHIVE.value]: {
    label: 'Glacier Deep Archive', rank: 6, minTransitionDays: 0, minStorageDays: 180, retrievalHours: 12, infrequentAccess: false,
  },
};

/** One Zone-IA cannot move to Glacier Instant Retrieval (the only gap in the waterfall). */
export const FORBIDDEN_TRANSITIONS: Array<[string, string]> = [
  [s3.StorageClass.ONE_ZONE_INFREQUENT_ACCESS.value, s3.StorageClass.GLACIER_INSTANT_RETRIEVAL.value],
];

/** Intelligent-Tiering archive access tiers: bounds (days without access) and retrieval time. */
export const INTELLIGENT_TIERING_TIERS = {
  ARCHIVE_ACCESS: { label: 'Archive Access', minDays: 90, maxDays: 730, retrievalHours: 5 },
  DEEP_ARCHIVE_ACCESS: { label: 'Deep Archive Access', minDays: 180, maxDays: 730, retrievalHours: 12 },
};

/** S3 keeps at most this many noncurrent versions per rule (NewerNoncurrentVersions). */
export const MAX_NEWER_NONCURRENT_VERSIONS = 100;

/** A transition of a planned rule. */
export interface PlannedTransition {
  /** Target class. */
  readonly storageClass: s3.StorageClass;
  /** Time after creation (or after becoming noncurrent); may be a token. */
  readonly after: Duration;
}

const t = (storageClass: s3.StorageClass, afterDays: number): PlannedTransition => ({ storageClass, after: Duration.days(afterDays) });

/** S3-specific per-environment numbers (the policy's own numbers live in PolicyDefaults). */
export interface S3EnvironmentDefaults {
  /**
   * HISTORICAL_DATA and CURRENT_DATA: days an overwritten or deleted version stays recoverable
   * before S3 removes it.
   */
  readonly noncurrentGraceDays: number;
  /** Days the server access logs of a created bucket are kept. */
  readonly accessLogRetentionDays: number;
}

export const S3_ENVIRONMENT_DEFAULTS: Record<DeploymentEnvironment, S3EnvironmentDefaults> = {
  [DeploymentEnvironment.PRO]: { noncurrentGraceDays: 30, accessLogRetentionDays: 365 },
  [DeploymentEnvironment.QA]: { noncurrentGraceDays: 7, accessLogRetentionDays: 90 },
  [DeploymentEnvironment.DEV]: { noncurrentGraceDays: 3, accessLogRetentionDays: 30 },
};

/** Days after which incomplete multipart uploads are aborted (every class and environment). */
export const ABORT_INCOMPLETE_UPLOADS_DAYS = 7;

/**
 * CODE and DOCUMENTATION: days a version must have been noncurrent before S3 removes it, once
 * `previousVersions` newer noncurrent versions exist (1 = the smallest value S3 accepts).
 */
export const PREVIOUS_VERSION_CLEANUP_DAYS = 1;

/** Day a warm (not cold) sample that lives long enough moves to Standard-IA. */
export const WARM_SAMPLE_IA_DAYS = 30;

/** Storage class a sample moves to at `...ColdStorageAfter`. */
export const SAMPLE_COLD_CLASS = {
  monthly: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  yearly: s3.StorageClass.DEEP_ARCHIVE,
};

/** Current-version transitions of the single-rule content classes, per environment. */
export const CONTENT_TRANSITIONS: Record<string, Record<DeploymentEnvironment, PlannedTransition[]>> = {
  [BackupContent.CODE]: {
    [DeploymentEnvironment.PRO]: [
      t(s3.StorageClass.INFREQUENT_ACCESS, 30),
      t(s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, 120),
    ],
    [DeploymentEnvironment.QA]: [t(s3.StorageClass.INFREQUENT_ACCESS, 30)],
    [DeploymentEnvironment.DEV]: [t(s3.StorageClass.INFREQUENT_ACCESS, 30)],
  },
  [BackupContent.DOCUMENTATION]: {
    [DeploymentEnvironment.PRO]: [t(s3.StorageClass.INFREQUENT_ACCESS, 30)],
    [DeploymentEnvironment.QA]: [t(s3.StorageClass.INFREQUENT_ACCESS, 30)],
    [DeploymentEnvironment.DEV]: [t(s3.StorageClass.INFREQUENT_ACCESS, 30)],
  },
  [BackupContent.HISTORICAL_DATA]: {
    [DeploymentEnvironment.PRO]: [
      t(s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, 30),
      t(s3.StorageClass.DEEP_ARCHIVE, 180),
    ],
    [DeploymentEnvironment.QA]: [t(s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, 30)],
    [DeploymentEnvironment.DEV]: [t(s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, 30)],
  },
  // CURRENT_DATA: the routine prefix keeps objects for `retention.routine` without transitions
  // (30 days in Standard are the minimum before Standard-IA); samples are derived below.
  [BackupContent.CURRENT_DATA]: {
    [DeploymentEnvironment.PRO]: [],
    [DeploymentEnvironment.QA]: [],
    [DeploymentEnvironment.DEV]: [],
  },
};

/** Key layout of a CURRENT_DATA archive, relative to its key prefix. */
export const CURRENT_DATA_PREFIXES = {
  routine: 'routine/',
  monthly: 'samples/monthly/',
  yearly: 'samples/yearly/',
};

/** The role a planned rule plays. */
export enum PlannedRuleKind {
  MAIN = 'MAIN',
  MONTHLY_SAMPLE = 'MONTHLY_SAMPLE',
  YEARLY_SAMPLE = 'YEARLY_SAMPLE',
}

/** A rule of the default plan, before user overrides and validation. */
export interface PlannedRule {
  readonly kind: PlannedRuleKind;
  /** Rule id suffix. */
  readonly name: string;
  /** Prefix relative to the archive's key prefix. */
  readonly relativePrefix: string;
  /** Current-version transitions. */
  readonly transitions: PlannedTransition[];
  /** Current-version expiration; undefined keeps objects until deleted. */
  readonly expiration?: Duration;
  /** Newer noncurrent versions kept besides the current one (CODE / DOCUMENTATION). */
  readonly previousVersions?: number;
  /** Time a version is noncurrent before S3 removes it. */
  readonly noncurrentExpiration: Duration;
  /** Noncurrent-version transitions. */
  readonly noncurrentTransitions: PlannedTransition[];
  /** The prop the expiration comes from, for messages. */
  readonly expirationSource: string;
}

/** Whole days of a concrete duration (rounded up); undefined for tokens. */
export function daysOf(d: Duration | undefined): number | undefined {
  return d === undefined || d.isUnresolved() ? undefined : Math.ceil(d.toHours({ integral: false }) / 24);
}

/**
 * The default rules of a content class in an environment, from PolicyDefaults (already resolved
 * with the user's `retention` overrides) and the S3 tables above.
 */
export function defaultRulePlan(content: BackupContent, environment: DeploymentEnvironment, policy: EnvironmentDefaults): PlannedRule[] {
  const env = S3_ENVIRONMENT_DEFAULTS[environment];
  const transitions = CONTENT_TRANSITIONS[content][environment];
  const grace = Duration.days(env.noncurrentGraceDays);
  switch (content) {
    case BackupContent.CODE:
    case BackupContent.DOCUMENTATION:
      return [{
        kind: PlannedRuleKind.MAIN,
        name: content === BackupContent.CODE ? 'Code' : 'Documentation',
        relativePrefix: '',
        transitions,
        previousVersions: policy.previousVersions,
        noncurrentExpiration: Duration.days(PREVIOUS_VERSION_CLEANUP_DAYS),
        noncurrentTransitions: [],
        expirationSource: 'expiration',
      }];
    case BackupContent.HISTORICAL_DATA:
      return [{
        kind: PlannedRuleKind.MAIN,
        name: 'HistoricalData',
        relativePrefix: '',
        transitions,
        noncurrentExpiration: grace,
        noncurrentTransitions: [],
        expirationSource: 'expiration',
      }];
    default: {
      const sample = (kind: PlannedRuleKind, name: string, relativePrefix: string, keep: Duration | undefined,
        coldAfter: Duration | undefined, coldClass: s3.StorageClass, source: string): PlannedRule => {
        const base = { kind, name, relativePrefix, noncurrentExpiration: grace, noncurrentTransitions: [] };
        if (!keep) {
          // No sample in this environment: whatever lands under the prefix is routine data.
          return { ...base, transitions: [], expiration: policy.routine, expirationSource: 'retention.routine' };
        }
        const keepDays = daysOf(keep);
        let sampleTransitions: PlannedTransition[] = [];
        if (coldAfter) {
          sampleTransitions = [{ storageClass: coldClass, after: coldAfter }];
        } else if (keepDays !== undefined && keepDays >= 2 * WARM_SAMPLE_IA_DAYS) {
          sampleTransitions = [t(s3.StorageClass.INFREQUENT_ACCESS, WARM_SAMPLE_IA_DAYS)];
        }
        return { ...base, transitions: sampleTransitions, expiration: keep, expirationSource: source };
      };
      return [
        {
          kind: PlannedRuleKind.MAIN,
          name: 'CurrentDataRoutine',
          relativePrefix: CURRENT_DATA_PREFIXES.routine,
          transitions,
          expiration: policy.routine,
          noncurrentExpiration: grace,
          noncurrentTransitions: [],
          expirationSource: 'retention.routine',
        },
        sample(PlannedRuleKind.MONTHLY_SAMPLE, 'CurrentDataMonthlySample', CURRENT_DATA_PREFIXES.monthly, policy.monthlySample,
          policy.monthlySampleColdStorageAfter, SAMPLE_COLD_CLASS.monthly, 'retention.monthlySample'),
        sample(PlannedRuleKind.YEARLY_SAMPLE, 'CurrentDataYearlySample', CURRENT_DATA_PREFIXES.yearly, policy.yearlySample,
          policy.yearlySampleColdStorageAfter, SAMPLE_COLD_CLASS.yearly, 'retention.yearlySample'),
      ];
    }
  }
}

/**
 * Replaces default archive classes whose retrieval time exceeds the RTO by Glacier Instant
 * Retrieval (dropping the step when the rule already reaches it). Only applied to defaults:
 * an explicit transition that cannot meet the RTO is an error.
 */
export function fitTransitionsToRto(transitions: PlannedTransition[], rtoHours: number | undefined): PlannedTransition[] {
  if (rtoHours === undefined) return transitions;
  const out: PlannedTransition[] = [];
  for (const tr of transitions) {
    const facts = STORAGE_CLASS_FACTS[tr.storageClass.value];
    const storageClass = facts && facts.retrievalHours > rtoHours ? s3.StorageClass.GLACIER_INSTANT_RETRIEVAL : tr.storageClass;
    if (out.some((o) => o.storageClass.value === storageClass.value)) continue;
    out.push({ storageClass, after: tr.after });
  }
  return out;
}
