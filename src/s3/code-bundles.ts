import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupDrConfigError } from '../core/validation';

/*
 * CODE archives: git bundles of the Pro/Dev/QA branches at `<prefix><repo>/<branch>/<repo>.bundle`
 * (what scripts/push-git-bundles.sh writes) and the least-privilege upload grant for CI.
 */

/** @internal Default branches of a CODE archive (the policy's Pro/Dev/QA branches). */
export const DEFAULT_CODE_BRANCHES = ['pro', 'dev', 'qa'];

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const BRANCH_NAME = /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/** @internal The checked branches of a CODE archive (defaults when not given). */
export function codeBranchesOf(branches: string[] | undefined): string[] {
  const list = branches ?? DEFAULT_CODE_BRANCHES;
  if (!Array.isArray(list) || list.length === 0) {
    throw new BackupDrConfigError('codeBranches is empty; list the branches to archive (e.g. [\'pro\', \'dev\', \'qa\'])');
  }
  list.forEach((b, i) => checkBranch(b, `codeBranches[${i}]`));
  return list;
}

/** @internal The bundle key of `branch` of `repo` under `keyPrefix`. */
export function bundleKey(keyPrefix: string, repo: string, branch: string): string {
  checkRepo(repo);
  checkBranch(branch, 'branch');
  return `${keyPrefix}${repo}/${branch}/${repo}.bundle`;
}

/** @internal What a bundle upload grant applies to. */
export interface BundleUploadTarget {
  readonly bucket: s3.IBucket;
  readonly encryptionKey?: kms.IKey;
  readonly keyPrefix: string;
  readonly branches: string[];
}

/**
 * @internal s3:PutObject and s3:AbortMultipartUpload on the bundle keys of the branches (of `repo`,
 * or of any repository), plus the key permissions S3 needs to encrypt a (multipart) upload
 * (through S3 only). No read, list or delete.
 */
export function grantBundleUpload(target: BundleUploadTarget, grantee: iam.IGrantable, repo?: string): iam.Grant {
  if (repo !== undefined) checkRepo(repo);
  const keys = target.branches.map((b) => repo === undefined ? `${target.keyPrefix}*/${b}/*` : bundleKey(target.keyPrefix, repo, b));
  let grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
    resourceArns: keys.map((k) => target.bucket.arnForObjects(k)),
  });
  if (target.encryptionKey) {
    grant = grant.combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resourceArns: [target.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(target.bucket).region}.amazonaws.com` } },
    }));
  }
  return grant;
}

function checkRepo(repo: string) {
  if (typeof repo !== 'string' || !REPO_NAME.test(repo)) {
    throw new BackupDrConfigError(`repo is '${repo}', but repository names are 1–100 characters of letters, digits, ".", "_" and "-"; e.g. 'payments-api'`);
  }
}

function checkBranch(branch: string, prop: string) {
  if (typeof branch !== 'string' || !BRANCH_NAME.test(branch) || branch.endsWith('/')) {
    throw new BackupDrConfigError(
      `${prop} is '${branch}', but branch names here are letters, digits, ".", "_", "-" and "/" (no "..", "//", leading or trailing "/"); e.g. 'pro'`,
    );
  }
}
