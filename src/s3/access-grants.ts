import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { AccessLevel, TeamAccess } from '../access/team-access';
import { DeploymentEnvironment } from '../core/environment';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/*
 * Team access to an archive (VIEW / RESTORE / ADMIN), limited to the archive's key prefix.
 * docs/s3-archive.md "Access" renders these lists.
 */

/** @internal Bucket-level actions of VIEW. */
export const VIEW_BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:GetLifecycleConfiguration'];
/** @internal Object actions of VIEW. */
export const VIEW_OBJECT_ACTIONS = ['s3:GetObject', 's3:GetObjectTagging'];
/** @internal Bucket-level actions RESTORE adds. */
export const RESTORE_BUCKET_ACTIONS = ['s3:ListBucketVersions'];
/** @internal Object actions RESTORE adds (read versions, restore from Glacier, copy an old version back). */
export const RESTORE_OBJECT_ACTIONS = ['s3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObject', 's3:PutObjectTagging', 's3:RestoreObject'];
/** @internal Object actions only ADMIN has (and the document deployment is denied). */
export const ADMIN_OBJECT_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion'];

const LEVELS = [AccessLevel.VIEW, AccessLevel.RESTORE, AccessLevel.ADMIN];

/** @internal Where the grants apply. */
export interface ArchiveGrantTarget {
  readonly archive: IConstruct;
  readonly bucket: s3.IBucket;
  readonly encryptionKey?: kms.IKey;
  readonly keyPrefix: string;
  readonly environment: DeploymentEnvironment;
}

/**
 * @internal Grants a team its level (`TeamAccess.levelFor(environment)`) on the archive's prefix:
 * VIEW reads current objects; RESTORE also reads versions, restores archived objects and copies a
 * version back; only ADMIN deletes. Call it inside `inScope(archive, ...)`.
 */
export function grantArchiveAccess(target: ArchiveGrantTarget, access: TeamAccess): iam.Grant {
  const level = access.levelFor(target.environment);
  const at = (l: AccessLevel) => LEVELS.indexOf(level) >= LEVELS.indexOf(l);
  const bucketArn = target.bucket.bucketArn;
  const objects = target.bucket.arnForObjects(`${target.keyPrefix}*`);
  const add = (actions: string[], resourceArns: string[]) => {
    const g = iam.Grant.addToPrincipal({ grantee: access.grantee, actions, resourceArns });
    NagAcknowledgements.acknowledgeGrant(access.grantee, g,
      `cdk-backup-dr TeamAccess (${level}) on archive ${target.archive.node.path}: objects under the archive prefix, whose keys are created at run time`);
    return g;
  };

  let grant = add(VIEW_BUCKET_ACTIONS, [bucketArn]).combine(add(VIEW_OBJECT_ACTIONS, [objects]));
  const keyActions = ['kms:Decrypt'];
  if (at(AccessLevel.RESTORE)) {
    grant = grant.combine(add(RESTORE_BUCKET_ACTIONS, [bucketArn])).combine(add(RESTORE_OBJECT_ACTIONS, [objects]));
    keyActions.push('kms:Encrypt', 'kms:GenerateDataKey');
  }
  if (at(AccessLevel.ADMIN)) {
    grant = grant.combine(add(ADMIN_OBJECT_ACTIONS, [objects]));
  }
  if (target.encryptionKey) grant = grant.combine(add(keyActions, [target.encryptionKey.keyArn]));
  return grant;
}
