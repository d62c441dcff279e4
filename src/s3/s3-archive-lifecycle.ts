import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { grantArchiveAccess } from './access-grants';
import { archiveCfnBucket, checkVersioning, createArchiveBucket, enableEventBridge } from './bucket-hardening';
import { bundleKey, grantBundleUpload } from './code-bundles';
import { checkDocuments, deployDocuments } from './documents';
import { replicateToDrSite } from './dr-replication';
import { CURRENT_DATA_PREFIXES, PlannedRule } from './lifecycle-defaults';
import {
  ArchiveTransition, IntelligentTieringOptions, LifecycleTagFilter, addArchiveLifecycleRules, addIntelligentTiering, describeLifecycle,
} from './lifecycle-rules';
import { applyObjectLock, explicitObjectLock } from './object-lock';
import { checkArchiveProps, claimArchivePrefix } from './props-checks';
import { TeamAccess } from '../access/team-access';
import { BackupCatalogMetadata, CatalogEntry, CatalogResourceType } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { PolicyDefaults } from '../core/retention';
import { BackupDrConfigError, inScope } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';
import { ProtectedResourceType } from '../foundation/plan-registry';
import { BackupDrProps, catalogAccess, catalogDrSite, protectWithBackup } from '../foundation/protection';
import { ProtectionVerification, VerifiedResourceType } from '../verification';

/**
 * Properties of an S3ArchiveLifecycle.
 *
 * From `BackupDrProps`: `objectives` (required: the RTO rules out archive classes that restore
 * slower, and with `awsBackup` the RPO and RTO derive the AWS Backup schedule), `environment`,
 * `access`, `drSite`, and, with `awsBackup`, `vault` and `retention` (the retention overrides also
 * drive the lifecycle: `routine`, the samples and `previousVersions`).
 */
export interface S3ArchiveLifecycleProps extends BackupDrProps {
  /** What the archive holds; decides the lifecycle rules (see docs/s3-archive.md). */
  readonly content: BackupContent;
  /**
   * Bucket to configure. It must be defined in this app (`new s3.Bucket(...)`): lifecycle rules,
   * versioning and Object Lock cannot be set on an imported bucket.
   * @default - a new bucket: KMS key with rotation, versioning, public access blocked, TLS only,
   * server access logs, EventBridge notifications, Object Lock in Pro
   */
  readonly bucket?: s3.Bucket;
  /**
   * Current-version transitions of the main rule (CURRENT_DATA: the routine prefix), replacing the
   * defaults. Pass an empty list to keep objects in S3 Standard.
   * @default - the content class × environment defaults (docs/s3-archive.md)
   */
  readonly transitions?: ArchiveTransition[];
  /**
   * Current-version expiration of the main rule (CODE, DOCUMENTATION, HISTORICAL_DATA).
   * CURRENT_DATA expires through `retention.routine` and the samples instead.
   * @default - never: the latest version of code and documentation and the single copy of
   * historical data are kept until deleted
   */
  readonly expiration?: Duration;
  /**
   * CODE and DOCUMENTATION: how long a version must have been noncurrent before S3 removes it once
   * `previousVersions` newer versions exist. Other classes: how long an overwritten or deleted
   * version stays recoverable.
   * @default - CODE/DOCUMENTATION 1 day; otherwise Pro 30 days, QA 7 days, Dev 3 days
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * Transitions of noncurrent versions (days after they became noncurrent), on every rule.
   * @default - none: noncurrent versions stay in their storage class
   */
  readonly noncurrentVersionTransitions?: ArchiveTransition[];
  /**
   * When incomplete multipart uploads under the archive's prefix are aborted.
   * @default Duration.days(7)
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;
  /**
   * Key prefix the archive owns: no leading "/", ends with "/", no "*" or "//" (the library's one
   * rule for key prefixes). Every rule, grant and key is scoped to it, so several archives can
   * share a bucket under distinct prefixes.
   * @default - the whole bucket
   */
  readonly prefix?: string;
  /**
   * Limit the lifecycle rules to objects carrying all these tags (the multipart-upload abort rule,
   * which S3 does not allow with tags, still covers the whole prefix).
   * @default - no tag filter
   */
  readonly tagFilters?: LifecycleTagFilter[];
  /**
   * Intelligent-Tiering archive tiers for objects in the INTELLIGENT_TIERING class (add a
   * transition to `s3.StorageClass.INTELLIGENT_TIERING` to move objects there).
   * @default - no Intelligent-Tiering configuration
   */
  readonly intelligentTiering?: IntelligentTieringOptions;
  /**
   * Object Lock default retention (`s3.ObjectLockRetention.governance(...)` or `.compliance(...)`),
   * replacing the derived default. Requires a versioned bucket; a given bucket must have been
   * defined with `objectLockEnabled: true`.
   * @default - with Object Lock on (Pro, or `objectLockEnabled: true`): GOVERNANCE mode for the
   * class's default retention (docs/s3-archive.md, "Object Lock")
   */
  readonly objectLock?: s3.ObjectLockRetention;
  /**
   * Turn S3 Object Lock on (`true`) or off (`false`, the explicit opt-out of the Pro default).
   * @default - true for Pro archives and whenever `objectLock` is set, false otherwise
   */
  readonly objectLockEnabled?: boolean;
  /**
   * Also protect the bucket with AWS Backup (continuous backup when the RPO is under an hour),
   * joined to the stack's deduplicated plans. Requires a versioned bucket.
   * @default false
   */
  readonly awsBackup?: boolean;
  /**
   * CODE: the branches whose latest version is archived; `grantBundleUpload` only allows these.
   * @default ['pro', 'dev', 'qa']
   */
  readonly codeBranches?: string[];
  /**
   * How long server access logs of a created bucket are kept.
   * @default - Pro 365 days, QA 90 days, Dev 30 days
   */
  readonly accessLogRetention?: Duration;
  /**
   * With `drSite`: stable short name of the archive in the DR site (lower-case letters, digits and
   * hyphens); the replica bucket is named `<siteName>-<drArchiveName>-<account>-<region>`, so a DR
   * site of another app can create it from this name.
   * @default - derived from the construct path (lower case, shortened with a hash to fit 63 characters)
   */
  readonly drArchiveName?: string;
  /**
   * Send the bucket's object events to EventBridge (the bucket's own EventBridge configuration; no
   * custom resource).
   * @default - true for a created bucket; a given bucket is left as it is
   */
  readonly eventBridge?: boolean;
  /**
   * What happens to a created bucket, its key and its log bucket when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An S3 archive for one content class: lifecycle tiers (Standard-IA, Glacier Instant Retrieval,
 * Glacier Flexible Retrieval, Deep Archive), bounded version history, expiry, multipart clean-up,
 * Object Lock (by default in Pro), optional Intelligent-Tiering and AWS Backup, team grants and an
 * inventory entry.
 *
 * CODE archives hold git bundles of the Pro/Dev/QA branches (`codeBundleKey`, `grantBundleUpload`,
 * scripts/push-git-bundles.sh); DOCUMENTATION archives receive procedural documentation through
 * `addDocuments`. See docs/s3-archive.md.
 *
 * Where each concern lives: bucket-hardening.ts (created bucket, given-bucket checks, EventBridge),
 * lifecycle-rules.ts + lifecycle-defaults.ts (rules), object-lock.ts (immutability),
 * code-bundles.ts, documents.ts, access-grants.ts, props-checks.ts.
 */
export class S3ArchiveLifecycle extends Construct {
  /** The archive bucket. */
  public readonly bucket: s3.IBucket;
  /** Key that encrypts the bucket (undefined for a given bucket without a customer-managed key). */
  public readonly encryptionKey?: kms.IKey;
  /** Bucket receiving the server access logs (created buckets only). */
  public readonly accessLogsBucket?: s3.IBucket;
  /** Content class. */
  public readonly content: BackupContent;
  /** Environment. */
  public readonly environment: DeploymentEnvironment;
  /** Key prefix the archive owns ("" for the whole bucket). */
  public readonly keyPrefix: string;
  /**
   * DOCUMENTATION: where `addDocuments` writes, and where the generated backup inventory and DR
   * runbook are meant to be delivered (e.g. `${documentsPrefix}backup-inventory/`).
   */
  public readonly documentsPrefix?: string;
  /** CURRENT_DATA: prefix of routine copies (kept `retention.routine`). */
  public readonly routinePrefix?: string;
  /** CURRENT_DATA: prefix of the monthly samples. */
  public readonly monthlySamplePrefix?: string;
  /** CURRENT_DATA: prefix of the yearly samples. */
  public readonly yearlySamplePrefix?: string;
  /** CODE: branches whose bundles may be uploaded. */
  public readonly codeBranches?: string[];
  /** The AWS Backup plan protecting the bucket (with `awsBackup`). */
  public readonly backupPlan?: backup.IBackupPlan;
  /**
   * The Object Lock default retention this archive put on its bucket (undefined without Object Lock,
   * or when a given bucket keeps its own configuration).
   */
  public readonly objectLockRetention?: s3.ObjectLockRetention;
  /**
   * The DR site the archive replicates to.
   * @default - no replication
   */
  public readonly drSite?: IDrSecondarySite;
  /** With `drSite`: name of the replica bucket in the DR site that the archive replicates into. */
  public readonly drReplicaBucketName?: string;
  /** With `drSite`: the role S3 replicates the archive with. */
  public readonly drReplicationRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: S3ArchiveLifecycleProps) {
    super(scope, id);
    // Children of this construct deliver access logs through a bucket policy (ACLs stay disabled),
    // whatever the app's feature flags say.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const checked = inScope(this, () => checkArchiveProps(props));
    this.content = props.content;
    this.environment = props.environment;
    this.keyPrefix = checked.prefix;
    this.codeBranches = checked.codeBranches;
    if (props.content === BackupContent.DOCUMENTATION) this.documentsPrefix = this.keyPrefix;
    if (props.content === BackupContent.CURRENT_DATA) {
      this.routinePrefix = this.keyPrefix + CURRENT_DATA_PREFIXES.routine;
      this.monthlySamplePrefix = this.keyPrefix + CURRENT_DATA_PREFIXES.monthly;
      this.yearlySamplePrefix = this.keyPrefix + CURRENT_DATA_PREFIXES.yearly;
    }

    let bucket: s3.Bucket;
    if (props.bucket) {
      bucket = props.bucket;
      this.encryptionKey = bucket.encryptionKey;
    } else {
      const created = createArchiveBucket(this, props);
      bucket = created.bucket;
      this.encryptionKey = created.encryptionKey;
      this.accessLogsBucket = created.accessLogsBucket;
    }
    this.bucket = bucket;

    let rules: PlannedRule[] = [];
    let renderedRules: s3.LifecycleRule[] = [];
    let lock: s3.ObjectLockRetention | undefined;
    inScope(this, () => {
      const cfn = archiveCfnBucket(bucket);
      claimArchivePrefix(this, bucket, this.keyPrefix);
      checkVersioning(this, bucket, cfn, { content: props.content, objectLock: explicitObjectLock(props), awsBackup: !!props.awsBackup });
      const policy = PolicyDefaults.resolve(props.environment, props.retention);
      const lifecycle = addArchiveLifecycleRules(this, bucket, this.keyPrefix, policy, props);
      rules = lifecycle.planned;
      renderedRules = lifecycle.rendered;
      if (props.intelligentTiering) addIntelligentTiering(this, cfn, this.keyPrefix, props);
      lock = applyObjectLock(this, cfn, { ...props, policy, givenBucket: !!props.bucket, rules });
      if (props.bucket && props.eventBridge) enableEventBridge(bucket);
    });

    this.objectLockRetention = lock;

    for (const access of props.access ?? []) this.grantAccess(access);

    let backupPeriodicity: string | undefined;
    let backupCatalog: Partial<CatalogEntry> = {};
    if (props.awsBackup) {
      const protection = protectWithBackup(this, props, {
        content: props.content,
        resourceArns: [bucket.bucketArn],
        resourceType: ProtectedResourceType.S3,
        supportType: 'AWS Backup (S3)',
        recordInventory: false, // the archive records one row for lifecycle + AWS Backup below
      });
      this.backupPlan = protection.plan.plan;
      backupPeriodicity = protection.policy.periodicity;
      backupCatalog = {
        vaultName: protection.vault.backupVault.backupVaultName,
        backupRoleArn: protection.registry.role.roleArn,
        retention: BackupCatalogMetadata.retentionOf(protection.policy),
      };
      ProtectionVerification.register(this, {
        resourceType: VerifiedResourceType.S3_BUCKET,
        resources: [{ arn: bucket.bucketArn, construct: bucket }],
        environment: props.environment,
        objectives: props.objectives!,
        policy: protection.policy,
        vault: protection.vault,
        backupPlan: protection.plan.plan,
        restoreTesting: props.restoreTesting,
        continuousNative: protection.policy.rules.some((r) => r.enableContinuousBackup),
      });
    }
    if (props.drSite) {
      const drSite = props.drSite;
      const replication = inScope(this, () => replicateToDrSite(this, drSite, props, {
        bucket, keyPrefix: this.keyPrefix, lock, rules: renderedRules,
      }));
      this.drReplicaBucketName = replication.replica.bucketName;
      this.drSite = drSite;
      this.drReplicationRole = replication.role;
    }

    BackupCatalogMetadata.record(this, {
      backupName: this.node.path,
      content: props.content,
      periodicity: [describeLifecycle(rules, this.keyPrefix), ...(backupPeriodicity ? [`AWS Backup: ${backupPeriodicity}`] : [])].join('; '),
      environment: props.environment,
      supportType: props.awsBackup ? 'S3 lifecycle + AWS Backup' : 'S3 lifecycle',
      location: bucket.urlForObject(this.keyPrefix || undefined),
      rpo: props.objectives.rpo.toHumanString(),
      rto: props.objectives.rto.toHumanString(),
      resources: [{ type: CatalogResourceType.S3_BUCKET, identifier: bucket.bucketName, arn: bucket.bucketArn, keyPrefix: this.keyPrefix }],
      access: catalogAccess(props),
      drSite: catalogDrSite(props.drSite, this.drReplicaBucketName),
      ...backupCatalog,
    });
  }

  /**
   * Grant a team its level on the archive (respecting `TeamAccess.levelFor`: Development may only
   * VIEW Pro archives). VIEW reads current objects; RESTORE also reads previous versions, restores
   * archived objects and copies an old version back (s3:PutObject); only ADMIN may delete.
   * Object permissions are limited to the archive's prefix.
   */
  public grantAccess(access: TeamAccess): iam.Grant {
    return inScope(this, () => grantArchiveAccess({
      archive: this, bucket: this.bucket, encryptionKey: this.encryptionKey, keyPrefix: this.keyPrefix, environment: this.environment,
    }, access));
  }

  /**
   * CODE: the object key of the bundle of `branch` of `repo`: `<prefix><repo>/<branch>/<repo>.bundle`
   * (the key scripts/push-git-bundles.sh writes). Versioning keeps the latest bundle and the
   * noncurrent-version rule a bounded history.
   */
  public codeBundleKey(repo: string, branch: string): string {
    return inScope(this, () => {
      this.requireContent(BackupContent.CODE, 'codeBundleKey');
      return bundleKey(this.keyPrefix, repo, branch);
    });
  }

  /**
   * CODE: least-privilege upload of git bundles for a CI role: s3:PutObject and
   * s3:AbortMultipartUpload on the bundle keys of `codeBranches` (of `repo`, or of any repository),
   * plus the key permissions S3 needs to encrypt a (multipart) upload. No read, list or delete.
   */
  public grantBundleUpload(grantee: iam.IGrantable, repo?: string): iam.Grant {
    return inScope(this, () => {
      this.requireContent(BackupContent.CODE, 'grantBundleUpload');
      const target = { bucket: this.bucket, encryptionKey: this.encryptionKey, keyPrefix: this.keyPrefix, branches: this.codeBranches! };
      return grantBundleUpload(target, grantee, repo);
    });
  }

  /**
   * DOCUMENTATION: deploy procedural documentation (deployment process, architecture notes, ...)
   * into the archive under `documentsPrefix` + `prefix`, with `prune: false` and
   * `retainOnDelete: true` so the single copy is never removed by a deployment; versioning keeps
   * the bounded history. The deployment's role is denied deleting objects of this bucket.
   */
  public addDocuments(id: string, sources: s3deploy.ISource[], prefix?: string): s3deploy.BucketDeployment {
    inScope(this, () => {
      this.requireContent(BackupContent.DOCUMENTATION, 'addDocuments');
      checkDocuments(id, sources, prefix);
    });
    return deployDocuments(this, id, {
      bucket: this.bucket, encryptionKey: this.encryptionKey, documentsPrefix: this.documentsPrefix ?? '', sources, prefix,
    });
  }

  private requireContent(content: BackupContent, method: string) {
    if (this.content !== content) {
      const key = Object.entries(BackupContent).find(([, v]) => v === content)![0];
      throw new BackupDrConfigError(
        `${method}() needs a ${content} archive, but this one holds ${this.content}; create an S3ArchiveLifecycle with content: BackupContent.${key}`,
      );
    }
  }
}
