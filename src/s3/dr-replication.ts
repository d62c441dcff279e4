import { Names } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { ArchiveReplication, replicateArchive } from '../dr/archive-replication';
import { IDrSecondarySite } from '../foundation/dr-site';

/*
 * An archive with a `drSite`: cross-region replication into the site's replica bucket
 * (src/dr/archive-replication.ts does the wiring; this module names the archive in the site and
 * hands over what the replica needs: the lifecycle, the prefix, Object Lock).
 */

/** @internal What the replication needs from the archive's props. */
export interface ArchiveDrInput {
  readonly content: BackupContent;
  readonly environment: DeploymentEnvironment;
  readonly objectives: RecoveryObjectives;
  readonly drArchiveName?: string;
}

/** @internal The archive's bucket as configured. */
export interface ArchiveDrTarget {
  readonly bucket: s3.Bucket;
  readonly keyPrefix: string;
  /** The Object Lock retention the archive applied, if any. */
  readonly lock?: s3.ObjectLockRetention;
  /** The archive's rendered lifecycle rules (the replica applies them too). */
  readonly rules: s3.LifecycleRule[];
}

/** @internal Replicates the archive's bucket (its prefix) into the DR site's replica bucket, with the archive's lifecycle. */
export function replicateToDrSite(archive: Construct, drSite: IDrSecondarySite, props: ArchiveDrInput, target: ArchiveDrTarget): ArchiveReplication {
  const { bucket, lock, rules, keyPrefix } = target;
  // A locked archive replicates only into a replica bucket with Object Lock (S3 fails every object with
  // DstBucketObjectLockConfigMissing otherwise); replicas keep the retention of their source objects.
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  const objectLock = lock !== undefined || cfn.objectLockEnabled === true;
  const archiveName = props.drArchiveName ?? defaultArchiveName(archive, drSite);
  return replicateArchive(archive, {
    drSite,
    environment: props.environment,
    objectives: props.objectives,
    bucket,
    archiveName,
    content: props.content,
    lifecycleRules: rules,
    prefix: keyPrefix || undefined,
    objectLock,
  });
}

/** A name unique in the app and short enough for `<siteName>-<name>-<account>-<region>` to fit 63 characters. */
function defaultArchiveName(archive: Construct, drSite: IDrSecondarySite): string {
  const room = 63 - drSite.siteName.length - drSite.account.length - drSite.region.length - 3;
  const name = Names.uniqueResourceName(archive, { maxLength: Math.max(8, room), separator: '-' })
    .toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return name || 'archive';
}
