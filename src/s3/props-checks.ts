import { Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { codeBranchesOf } from './code-bundles';
import type { S3ArchiveLifecycleProps } from './s3-archive-lifecycle';
import { BackupContent } from '../core/content';
import { checkKeyPrefix } from '../core/key-prefix';
import { BackupDrConfigError, checkEnum, requireProp } from '../core/validation';
import { checkBaseProps } from '../foundation/protection';

/*
 * Checks of S3ArchiveLifecycle props that do not belong to one concern (those are checked where
 * they are used: lifecycle-rules.ts, object-lock.ts, bucket-hardening.ts, code-bundles.ts).
 * A plain JavaScript caller can pass anything: missing or mistyped required props are clear errors.
 */

/** @internal What the checks resolve. */
export interface CheckedArchiveProps {
  readonly prefix: string;
  readonly codeBranches?: string[];
}

/** @internal Checks the props (call inside `inScope`). */
export function checkArchiveProps(props: S3ArchiveLifecycleProps): CheckedArchiveProps {
  checkBaseProps(props);
  requireProp(props.content, 'content',
    'declare what the archive holds: content: BackupContent.CODE, HISTORICAL_DATA, CURRENT_DATA or DOCUMENTATION');
  checkEnum(props.content, BackupContent, 'content');
  const prefix = props.prefix ?? '';
  checkKeyPrefix(prefix, 'prefix');
  if (props.bucket) {
    if (props.removalPolicy !== undefined || props.accessLogRetention !== undefined) {
      throw new BackupDrConfigError(
        `${props.removalPolicy !== undefined ? 'removalPolicy' : 'accessLogRetention'} only applies to a bucket the construct creates, ` +
        'but bucket is given; configure it on your bucket, or omit bucket',
      );
    }
  }
  if (props.expiration && props.content === BackupContent.CURRENT_DATA) {
    throw new BackupDrConfigError(
      'expiration is set on a CURRENT_DATA archive, whose objects expire by prefix: use retention.routine for routine copies and ' +
      'retention.monthlySample / retention.yearlySample for the samples',
    );
  }
  if (props.vault && !props.awsBackup) {
    throw new BackupDrConfigError('vault is set but awsBackup is not; the vault only receives AWS Backup recovery points: set awsBackup: true or remove vault');
  }
  let codeBranches: string[] | undefined;
  if (props.content === BackupContent.CODE) {
    codeBranches = codeBranchesOf(props.codeBranches);
  } else if (props.codeBranches) {
    throw new BackupDrConfigError(`codeBranches is set on a ${props.content} archive; it only applies to BackupContent.CODE`);
  }
  for (const t of props.tagFilters ?? []) {
    if (!t?.key) throw new BackupDrConfigError('tagFilters has an entry with an empty key; give every tag filter a key');
  }
  return { prefix, codeBranches };
}

/** Prefixes claimed per bucket, to refuse two archives whose rules would overlap. */
const CLAIMED_PREFIXES = new WeakMap<IConstruct, Array<{ prefix: string; path: string }>>();

/**
 * @internal Records that `archive` owns `prefix` of `bucket`; refuses a prefix overlapping another
 * archive's (S3 would apply the shortest expiration of both rule sets).
 */
export function claimArchivePrefix(archive: IConstruct, bucket: s3.IBucket, prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  const claims = CLAIMED_PREFIXES.get(bucket) ?? [];
  const clash = claims.find((c) => c.prefix.startsWith(prefix) || prefix.startsWith(c.prefix));
  if (clash) {
    throw new BackupDrConfigError(
      `bucket: ${bucket.node.path} is already archived by ${clash.path} under prefix '${clash.prefix}', which overlaps prefix ` +
      `'${prefix}' (S3 would apply the shortest expiration of both rule sets); give each archive a distinct prefix`,
    );
  }
  claims.push({ prefix, path: archive.node.path });
  CLAIMED_PREFIXES.set(bucket, claims);
}
