import { Annotations, Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct, IConstruct } from 'constructs';
import {
  ABORT_INCOMPLETE_UPLOADS_DAYS, CURRENT_DATA_PREFIXES, FORBIDDEN_TRANSITIONS, INTELLIGENT_TIERING_TIERS,
  MAX_NEWER_NONCURRENT_VERSIONS, PlannedRule, PlannedRuleKind, PlannedTransition, S3_ENVIRONMENT_DEFAULTS,
  STORAGE_CLASS_FACTS, StorageClassFacts, daysOf, defaultRulePlan, fitTransitionsToRto,
} from './lifecycle-defaults';
import { AccessLevel, TeamAccess } from '../access/team-access';
import { BackupCatalogMetadata } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { PolicyDefaults, RetentionOptions } from '../core/retention';
import { BackupDrConfigError, inScope } from '../core/validation';
import { ProtectedResourceType } from '../foundation/plan-registry';
import { protectWithBackup } from '../foundation/protection';
import { IRecoveryVault } from '../foundation/recovery-vault';
import { NagAcknowledgements, nagValue } from '../nag/nag-acknowledgements';

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

/** Properties of an S3ArchiveLifecycle. */
export interface S3ArchiveLifecycleProps {
  /** What the archive holds; decides the lifecycle rules (see docs/s3-archive.md). */
  readonly content: BackupContent;
  /** Environment whose defaults apply. */
  readonly environment: DeploymentEnvironment;
  /**
   * Bucket to configure. It must be defined in this app (`new s3.Bucket(...)`): lifecycle rules,
   * versioning and Object Lock cannot be set on an imported bucket.
   * @default - a new bucket: KMS key with rotation, versioning, public access blocked, TLS only,
   * server access logs, EventBridge notifications
   */
  readonly bucket?: s3.Bucket;
  /**
   * Declared RPO and RTO. With an RTO, default archive classes that restore slower than the RTO
   * (Glacier Flexible Retrieval 5 h, Deep Archive 12 h) are replaced by Glacier Instant Retrieval,
   * and explicit ones are rejected. Required by `awsBackup`.
   * @default - none: archive classes are not checked against an RTO
   */
  readonly objectives?: RecoveryObjectives;
  /**
   * Teams that may read (VIEW), restore previous versions (RESTORE) or also delete (ADMIN) objects.
   * @default - no grants
   */
  readonly access?: TeamAccess[];
  /**
   * Overrides of the environment's retention defaults: `routine`, the monthly and yearly samples
   * (CURRENT_DATA) and `previousVersions` (CODE and DOCUMENTATION, at most 100 for S3).
   * @default - the environment's defaults (PolicyDefaults)
   */
  readonly retention?: RetentionOptions;
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
   * Key prefix the archive owns (must end with "/"). Every rule, grant and key is scoped to it, so
   * several archives can share a bucket under distinct prefixes.
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
   * typically for Pro backups. Requires a versioned bucket.
   * @default - no Object Lock
   */
  readonly objectLock?: s3.ObjectLockRetention;
  /**
   * Also protect the bucket with AWS Backup (continuous backup when the RPO is under an hour),
   * joined to the stack's deduplicated plans. Requires `objectives` and a versioned bucket.
   * @default false
   */
  readonly awsBackup?: boolean;
  /**
   * Vault for the AWS Backup recovery points (with `awsBackup`).
   * @default - the stack's shared vault for the environment
   */
  readonly vault?: IRecoveryVault;
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
   * Send the bucket's object events to EventBridge.
   * @default - true for a created bucket; a given bucket is left as it is
   */
  readonly eventBridge?: boolean;
  /**
   * What happens to a created bucket, its key and its log bucket when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Default branches of a CODE archive (the policy's Pro/Dev/QA branches). */
const DEFAULT_CODE_BRANCHES = ['pro', 'dev', 'qa'];
const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const BRANCH_NAME = /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

const VIEW_BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:GetLifecycleConfiguration'];
const VIEW_OBJECT_ACTIONS = ['s3:GetObject', 's3:GetObjectTagging'];
const RESTORE_BUCKET_ACTIONS = ['s3:ListBucketVersions'];
const RESTORE_OBJECT_ACTIONS = ['s3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObject', 's3:PutObjectTagging', 's3:RestoreObject'];
const ADMIN_OBJECT_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion'];
const LEVELS = [AccessLevel.VIEW, AccessLevel.RESTORE, AccessLevel.ADMIN];

/** Prefixes claimed per bucket, to refuse two archives whose rules would overlap. */
const CLAIMED_PREFIXES = new WeakMap<IConstruct, Array<{ prefix: string; path: string }>>();

/**
 * An S3 archive for one content class: lifecycle tiers (Standard-IA, Glacier Instant Retrieval,
 * Glacier Flexible Retrieval, Deep Archive), bounded version history, expiry, multipart clean-up,
 * optional Intelligent-Tiering, Object Lock and AWS Backup, team grants and an inventory entry.
 *
 * CODE archives hold git bundles of the Pro/Dev/QA branches (`codeBundleKey`, `grantBundleUpload`,
 * scripts/push-git-bundles.sh); DOCUMENTATION archives receive procedural documentation through
 * `addDocuments`. See docs/s3-archive.md.
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

  /** The rules rendered, for the inventory's periodicity. */
  private plannedRules: PlannedRule[] = [];

  constructor(scope: Construct, id: string, props: S3ArchiveLifecycleProps) {
    super(scope, id);
    // Children of this construct deliver access logs through a bucket policy (ACLs stay disabled),
    // whatever the app's feature flags say.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.content = props.content;
    this.environment = props.environment;

    const checked = inScope(this, () => checkProps(props));
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
      const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
      const key = new kms.Key(this, 'Key', {
        description: `cdk-backup-dr ${props.content} archive (${props.environment}) ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy,
      });
      const logs = this.createAccessLogsBucket(props, removalPolicy);
      bucket = new s3.Bucket(this, 'Resource', {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: key,
        bucketKeyEnabled: true,
        versioned: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        serverAccessLogsBucket: logs,
        serverAccessLogsPrefix: 'archive/',
        eventBridgeEnabled: props.eventBridge ?? true,
        removalPolicy,
      });
      this.encryptionKey = key;
      this.accessLogsBucket = logs;
      if (props.eventBridge ?? true) acknowledgeNotificationsHandler(bucket);
      Validations.of(bucket).acknowledge({
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason: 'Copies to another region come from AWS Backup copy rules of the DrSecondarySite (DESIGN.md), not from S3 replication.',
      });
      Validations.of(bucket).acknowledge({
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason: 'Copies to another region come from AWS Backup copy rules of the DrSecondarySite (DESIGN.md), not from S3 replication.',
      });
      Validations.of(bucket).acknowledge({
        id: 'PCI.DSS.321-S3BucketReplicationEnabled',
        reason: 'Copies to another region come from AWS Backup copy rules of the DrSecondarySite (DESIGN.md), not from S3 replication.',
      });
    }
    this.bucket = bucket;

    inScope(this, () => {
      const cfn = cfnOf(bucket);
      const versioned = isVersioned(cfn);
      this.claimPrefix(bucket);
      this.checkVersioning(props, versioned);
      this.addLifecycleRules(bucket, props);
      if (props.intelligentTiering) this.addIntelligentTiering(cfn, props);
      if (props.objectLock) setObjectLock(cfn, props.objectLock);
      if (props.bucket && props.eventBridge) {
        bucket.enableEventBridgeNotification();
        acknowledgeNotificationsHandler(bucket);
      }
    });

    for (const access of props.access ?? []) this.grantAccess(access);

    let plan: backup.IBackupPlan | undefined;
    let backupPeriodicity: string | undefined;
    if (props.awsBackup) {
      const protection = protectWithBackup(this, {
        objectives: props.objectives!,
        environment: props.environment,
        access: props.access,
        vault: props.vault,
        retention: props.retention,
      }, {
        content: props.content,
        resourceArns: [bucket.bucketArn],
        resourceType: ProtectedResourceType.S3,
        supportType: 'AWS Backup (S3)',
        recordInventory: false, // the archive records one row for lifecycle + AWS Backup below
      });
      plan = protection.plan.plan;
      backupPeriodicity = protection.policy.periodicity;
    }
    this.backupPlan = plan;

    BackupCatalogMetadata.record(this, {
      backupName: this.node.path,
      content: props.content,
      periodicity: [this.describeLifecycle(), ...(backupPeriodicity ? [`AWS Backup: ${backupPeriodicity}`] : [])].join('; '),
      environment: props.environment,
      supportType: props.awsBackup ? 'S3 lifecycle + AWS Backup' : 'S3 lifecycle',
      location: bucket.urlForObject(this.keyPrefix || undefined),
      rpo: props.objectives?.rpo.toHumanString() ?? 'not declared',
      rto: props.objectives?.rto.toHumanString() ?? 'not declared',
    });
  }

  /**
   * Grant a team its level on the archive (respecting `TeamAccess.levelFor`: Development may only
   * VIEW Pro archives). VIEW reads current objects; RESTORE also reads previous versions, restores
   * archived objects and copies an old version back (s3:PutObject); only ADMIN may delete.
   * Object permissions are limited to the archive's prefix.
   */
  public grantAccess(access: TeamAccess): iam.Grant {
    const level = inScope(this, () => access.levelFor(this.environment));
    const at = (l: AccessLevel) => LEVELS.indexOf(level) >= LEVELS.indexOf(l);
    const bucketArn = this.bucket.bucketArn;
    const objects = this.bucket.arnForObjects(`${this.keyPrefix}*`);
    const add = (actions: string[], resourceArns: string[]) => {
      const g = iam.Grant.addToPrincipal({ grantee: access.grantee, actions, resourceArns });
      NagAcknowledgements.acknowledgeGrant(access.grantee, g,
        `cdk-backup-dr TeamAccess (${level}) on archive ${this.node.path}: objects under the archive prefix, whose keys are created at run time`);
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
    if (this.encryptionKey) grant = grant.combine(add(keyActions, [this.encryptionKey.keyArn]));
    return grant;
  }

  /**
   * CODE: the object key of the bundle of `branch` of `repo`: `<prefix><repo>/<branch>/<repo>.bundle`
   * (the key scripts/push-git-bundles.sh writes). Versioning keeps the latest bundle and the
   * noncurrent-version rule a bounded history.
   */
  public codeBundleKey(repo: string, branch: string): string {
    return inScope(this, () => {
      this.requireContent(BackupContent.CODE, 'codeBundleKey');
      checkRepo(repo);
      checkBranch(branch, 'branch');
      return `${this.keyPrefix}${repo}/${branch}/${repo}.bundle`;
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
      if (repo !== undefined) checkRepo(repo);
      const keys = this.codeBranches!.map((b) => repo === undefined ? `${this.keyPrefix}*/${b}/*` : this.codeBundleKey(repo, b));
      let grant = iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resourceArns: keys.map((k) => this.bucket.arnForObjects(k)),
      });
      if (this.encryptionKey) {
        grant = grant.combine(iam.Grant.addToPrincipal({
          grantee,
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resourceArns: [this.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }));
      }
      return grant;
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
      if (prefix !== undefined) checkPrefix(prefix, 'addDocuments prefix');
      if (sources.length === 0) throw new BackupDrConfigError(`addDocuments('${id}'): sources is empty; pass at least one s3deploy.Source`);
    });
    const destinationKeyPrefix = `${this.documentsPrefix ?? ''}${prefix ?? ''}`;
    const deployment = new s3deploy.BucketDeployment(this, id, {
      sources,
      destinationBucket: this.bucket,
      destinationKeyPrefix: destinationKeyPrefix || undefined,
      prune: false,
      retainOnDelete: true,
    });
    deployment.handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DenyDocumentArchiveDeletion',
      effect: iam.Effect.DENY,
      actions: ADMIN_OBJECT_ACTIONS,
      resources: [this.bucket.arnForObjects('*')],
    }));
    acknowledgeDeploymentHandler(deployment, this.bucket, this.encryptionKey);
    return deployment;
  }

  private requireContent(content: BackupContent, method: string) {
    if (this.content !== content) {
      throw new BackupDrConfigError(
        `${method}() needs a ${content} archive, but this one holds ${this.content}; create an S3ArchiveLifecycle with content: BackupContent.${contentKey(content)}`,
      );
    }
  }

  private createAccessLogsBucket(props: S3ArchiveLifecycleProps, removalPolicy: RemovalPolicy): s3.Bucket {
    const retention = props.accessLogRetention ?? Duration.days(S3_ENVIRONMENT_DEFAULTS[props.environment].accessLogRetentionDays);
    inScope(this, () => wholeDays(retention, 'accessLogRetention', 1));
    const logs = new s3.Bucket(this, 'AccessLogs', {
      // Server access logging only delivers to SSE-S3 encrypted target buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{
        id: 'ExpireAccessLogs',
        expiration: retention,
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      removalPolicy,
    });
    const ack = (id: string, reason: string) => Validations.of(logs).acknowledge({ id, reason });
    const selfLogging = 'This is the server access log bucket of the archive; logging it into itself would loop, and S3 logs its own access through CloudTrail data events.';
    ack('AwsSolutions-S1', selfLogging);
    ack('HIPAA.Security-S3BucketLoggingEnabled', selfLogging);
    ack('NIST.800.53.R5-S3BucketLoggingEnabled', selfLogging);
    ack('PCI.DSS.321-S3BucketLoggingEnabled', selfLogging);
    const sseS3 = 'S3 server access logs can only be delivered to a target bucket encrypted with SSE-S3 (SSE-KMS is not supported).';
    ack('HIPAA.Security-S3DefaultEncryptionKMS', sseS3);
    ack('NIST.800.53.R5-S3DefaultEncryptionKMS', sseS3);
    ack('PCI.DSS.321-S3DefaultEncryptionKMS', sseS3);
    const noReplication = 'Access logs are operational records with a short retention, not backup data; they are not replicated to the DR region.';
    ack('HIPAA.Security-S3BucketReplicationEnabled', noReplication);
    ack('NIST.800.53.R5-S3BucketReplicationEnabled', noReplication);
    ack('PCI.DSS.321-S3BucketReplicationEnabled', noReplication);
    return logs;
  }

  private claimPrefix(bucket: s3.Bucket) {
    if (Token.isUnresolved(this.keyPrefix)) return;
    const claims = CLAIMED_PREFIXES.get(bucket) ?? [];
    const clash = claims.find((c) => c.prefix.startsWith(this.keyPrefix) || this.keyPrefix.startsWith(c.prefix));
    if (clash) {
      throw new BackupDrConfigError(
        `bucket: ${bucket.node.path} is already archived by ${clash.path} under prefix '${clash.prefix}', which overlaps prefix ` +
        `'${this.keyPrefix}' (S3 would apply the shortest expiration of both rule sets); give each archive a distinct prefix`,
      );
    }
    claims.push({ prefix: this.keyPrefix, path: this.node.path });
    CLAIMED_PREFIXES.set(bucket, claims);
  }

  private checkVersioning(props: S3ArchiveLifecycleProps, versioned: boolean | undefined) {
    if (versioned !== false) return;
    const path = props.bucket!.node.path;
    const reasons: Array<[boolean | undefined, string]> = [
      [!!props.objectLock, 'objectLock is set and S3 Object Lock requires versioning'],
      [props.awsBackup, 'awsBackup is true and AWS Backup for S3 requires versioning'],
      [props.content === BackupContent.CODE || props.content === BackupContent.DOCUMENTATION,
        `${props.content} keeps its previous versions as noncurrent versions`],
    ];
    const reason = reasons.find(([on]) => on);
    if (reason) {
      throw new BackupDrConfigError(`bucket: ${path} is not versioned, but ${reason[1]}; create it with versioned: true`);
    }
    Annotations.of(this).addWarningV2('cdk-backup-dr:s3-unversioned',
      `bucket ${path} is not versioned: an overwritten or deleted ${props.content} object cannot be recovered; create it with versioned: true`);
  }

  private addLifecycleRules(bucket: s3.Bucket, props: S3ArchiveLifecycleProps) {
    const policy = PolicyDefaults.resolve(props.environment, props.retention);
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

    const id = (suffix: string) => `${Names.uniqueId(this).slice(-(250 - suffix.length))}-${suffix}`;
    const tagFilters = props.tagFilters?.length ? Object.fromEntries(props.tagFilters.map((t) => [t.key, t.value])) : undefined;
    for (const r of rules) {
      const main = r.kind === PlannedRuleKind.MAIN;
      checkTransitions(this, r.transitions, main && overrideTransitions ? 'transitions' : `${r.name} default transitions`,
        false, main && overrideTransitions ? rto : undefined);
      checkExpiry(this, r.transitions, r.expiration, main && props.expiration ? 'expiration' : r.expirationSource, false);
      checkTransitions(this, r.noncurrentTransitions, 'noncurrentVersionTransitions', true, rto);
      checkExpiry(this, r.noncurrentTransitions, r.noncurrentExpiration, 'noncurrentVersionExpiration', true);
      bucket.addLifecycleRule({
        id: id(r.name),
        prefix: this.keyPrefix + r.relativePrefix || undefined,
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
    bucket.addLifecycleRule({
      id: id('AbortIncompleteMultipartUploads'),
      prefix: this.keyPrefix || undefined,
      abortIncompleteMultipartUploadAfter: abort,
    });
    this.plannedRules = rules;

    if (props.intelligentTiering && !rules.some((r) => [...r.transitions, ...r.noncurrentTransitions]
      .some((t) => t.storageClass.value === s3.StorageClass.INTELLIGENT_TIERING.value))) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:s3-intelligent-tiering-unused',
        'intelligentTiering only acts on objects stored in the INTELLIGENT_TIERING class, and no lifecycle transition moves objects ' +
        'there; add { storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) } to transitions, or upload with that class');
    }
  }


  private addIntelligentTiering(cfn: s3.CfnBucket, props: S3ArchiveLifecycleProps) {
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
      id: Names.uniqueId(this).slice(-64),
      status: 'Enabled',
      prefix: this.keyPrefix || undefined,
      tagFilters: props.tagFilters?.length ? props.tagFilters.map((t) => ({ key: t.key, value: t.value })) : undefined,
      tierings,
    }];
  }

  private describeLifecycle(): string {
    const describeTransitions = (ts: PlannedTransition[]) => ts.map((t) =>
      `${STORAGE_CLASS_FACTS[t.storageClass.value]?.label ?? t.storageClass.value} after ${daysText(t.after)}`).join(', ');
    return this.plannedRules.map((r) => {
      const where = this.keyPrefix + r.relativePrefix || 'all objects';
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
}

function rtoHours(objectives: RecoveryObjectives | undefined): number | undefined {
  return objectives && !objectives.rto.isUnresolved() ? objectives.rto.toHours({ integral: false }) : undefined;
}

function checkProps(props: S3ArchiveLifecycleProps): { prefix: string; codeBranches?: string[] } {
  const prefix = props.prefix ?? '';
  if (props.prefix !== undefined) checkPrefix(prefix, 'prefix');
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
  if (props.awsBackup && !props.objectives) {
    throw new BackupDrConfigError('awsBackup is true but objectives is not set; AWS Backup derives its schedule from the RPO: pass objectives (e.g. RecoveryTier.STANDARD)');
  }
  if (props.vault && !props.awsBackup) {
    throw new BackupDrConfigError('vault is set but awsBackup is not; the vault only receives AWS Backup recovery points: set awsBackup: true or remove vault');
  }
  let codeBranches: string[] | undefined;
  if (props.content === BackupContent.CODE) {
    codeBranches = props.codeBranches ?? DEFAULT_CODE_BRANCHES;
    if (codeBranches.length === 0) throw new BackupDrConfigError('codeBranches is empty; list the branches to archive (e.g. [\'pro\', \'dev\', \'qa\'])');
    codeBranches.forEach((b, i) => checkBranch(b, `codeBranches[${i}]`));
  } else if (props.codeBranches) {
    throw new BackupDrConfigError(`codeBranches is set on a ${props.content} archive; it only applies to BackupContent.CODE`);
  }
  for (const t of props.tagFilters ?? []) {
    if (!t.key) throw new BackupDrConfigError('tagFilters has an entry with an empty key; give every tag filter a key');
  }
  return { prefix, codeBranches };
}

/** The bucket's L1 resource; refuses imported buckets. */
function cfnOf(bucket: s3.IBucket): s3.CfnBucket {
  const cfn = bucket.node.defaultChild;
  if (!(bucket instanceof s3.Bucket) || !(cfn instanceof s3.CfnBucket)) {
    throw new BackupDrConfigError(
      `bucket: ${bucket.node.path} is an imported bucket (s3.Bucket.fromBucketName/fromBucketArn/fromBucketAttributes); lifecycle rules, ` +
      'versioning and Object Lock can only be configured on a bucket defined in this app: pass a new s3.Bucket(...), or omit bucket to create one',
    );
  }
  return cfn;
}

/** true / false, or undefined when versioning is a token. */
function isVersioned(cfn: s3.CfnBucket): boolean | undefined {
  const v = cfn.versioningConfiguration;
  if (v === undefined) return false;
  if (Token.isUnresolved(v)) return undefined;
  const status = (v as s3.CfnBucket.VersioningConfigurationProperty).status;
  return Token.isUnresolved(status) ? undefined : status === 'Enabled';
}

function setObjectLock(cfn: s3.CfnBucket, lock: s3.ObjectLockRetention) {
  if (cfn.objectLockConfiguration !== undefined) {
    throw new BackupDrConfigError(`objectLock is set, but bucket ${cfn.node.scope!.node.path} already has an Object Lock configuration; configure it in one place`);
  }
  cfn.objectLockEnabled = true;
  cfn.objectLockConfiguration = {
    objectLockEnabled: 'Enabled',
    rule: { defaultRetention: { mode: lock.mode, days: lock.duration.toDays() } },
  };
}

function toPlanned(t: ArchiveTransition, prop: string): PlannedTransition {
  factsOf(t.storageClass, prop);
  return { storageClass: t.storageClass, after: t.transitionAfter };
}

function factsOf(storageClass: s3.StorageClass, prop: string): StorageClassFacts {
  const facts = STORAGE_CLASS_FACTS[storageClass.value];
  if (!facts) {
    throw new BackupDrConfigError(
      `${prop}.storageClass is '${storageClass.value}', which a lifecycle rule cannot transition to; use one of ${Object.keys(STORAGE_CLASS_FACTS).join(', ')}`,
    );
  }
  return facts;
}

/** Whole days of a duration (undefined for a token), checked against a minimum. */
function wholeDays(d: Duration, prop: string, min: number): number | undefined {
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

function checkPrefix(prefix: string, prop: string) {
  if (Token.isUnresolved(prefix)) return;
  if (prefix.startsWith('/') || !prefix.endsWith('/') || prefix.includes('*') || prefix.includes('//')) {
    throw new BackupDrConfigError(
      `${prop} is '${prefix}', but a key prefix must not start with "/", must end with "/" (so "logs/" does not also match "logs-old/") ` +
      'and has no "*" or "//"; e.g. \'archive/\'',
    );
  }
}

function checkRepo(repo: string) {
  if (!REPO_NAME.test(repo)) {
    throw new BackupDrConfigError(`repo is '${repo}', but repository names are 1–100 characters of letters, digits, ".", "_" and "-"; e.g. 'payments-api'`);
  }
}

function checkBranch(branch: string, prop: string) {
  if (!BRANCH_NAME.test(branch) || branch.endsWith('/')) {
    throw new BackupDrConfigError(
      `${prop} is '${branch}', but branch names here are letters, digits, ".", "_", "-" and "/" (no "..", "//", leading or trailing "/"); e.g. 'pro'`,
    );
  }
}

function daysText(d: Duration): string {
  const n = daysOf(d);
  return n === undefined ? d.toString() : `${n} days`;
}

function contentKey(content: BackupContent): string {
  return Object.entries(BackupContent).find(([, v]) => v === content)![0];
}

/** CDK's singleton Lambda execution role policy (logs only). */
const LAMBDA_BASIC_EXECUTION_FINDING = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
const NAG_PACKS = ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];

/**
 * Acknowledges the cdk-nag findings of the S3 event-notification custom resource that CDK adds for
 * `eventBridgeEnabled` (a CDK-provided handler whose code and policies cannot be changed here).
 */
function acknowledgeNotificationsHandler(bucket: s3.Bucket) {
  const notifications = bucket.node.tryFindChild('Notifications');
  if (notifications) {
    for (const pack of NAG_PACKS) {
      Validations.of(notifications).acknowledge({
        id: `${pack}-IAMNoInlinePolicy`,
        reason: 'CDK-managed inline policy of the S3 notifications custom resource, limited to s3:PutBucketNotification on this bucket, ' +
          'which turns on EventBridge notifications; the L2 Bucket offers no managed-policy alternative.',
      });
    }
  }
  const handler = Stack.of(bucket).node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
  if (handler) {
    NagAcknowledgements.acknowledge(handler, LAMBDA_BASIC_EXECUTION_FINDING,
      'CDK\'s singleton S3 notifications handler only uses AWSLambdaBasicExecutionRole to write its own CloudWatch logs.');
  }
}

/**
 * Acknowledges the cdk-nag findings of the aws-s3-deployment handler, a CDK-provided singleton Lambda
 * (custom resource run at deployment time only) whose runtime, VPC placement and policies this
 * library cannot change. Wildcard findings are computed from the handler policy's statements on
 * this archive and on its read-only asset sources.
 */
function acknowledgeDeploymentHandler(deployment: s3deploy.BucketDeployment, bucket: s3.IBucket, key: kms.IKey | undefined) {
  const fn = deployment.handlerRole.node.scope;
  if (!fn) return;
  const ack = (id: string, reason: string) => NagAcknowledgements.acknowledge(fn, id, reason);
  const deployOnly = 'CDK\'s BucketDeployment handler is a custom resource that only runs during CloudFormation deployments, ' +
    'with no event source and no network exposure; CDK does not expose its concurrency, DLQ or VPC settings for this use.';
  ack(LAMBDA_BASIC_EXECUTION_FINDING, 'CDK\'s BucketDeployment handler only uses AWSLambdaBasicExecutionRole to write its own CloudWatch logs.');
  ack('AwsSolutions-L1', 'The BucketDeployment handler runtime is chosen and updated by aws-cdk-lib, not by this library.');
  for (const pack of NAG_PACKS) {
    ack(`${pack}-IAMNoInlinePolicy`, 'CDK-generated default policy of the BucketDeployment handler role; aws-cdk-lib adds its grants inline.');
    ack(`${pack}-LambdaInsideVPC`, deployOnly);
    if (pack !== 'PCI.DSS.321') {
      ack(`${pack}-LambdaConcurrency`, deployOnly);
      ack(`${pack}-LambdaDLQ`, deployOnly);
    }
  }
  const policy = deployment.handlerRole.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return;
  const stack = Stack.of(fn);
  const ours = [bucket.bucketArn, ...(key ? [key.keyArn] : [])].map((arn) => nagValue(stack.resolve(arn)));
  const doc = stack.resolve(policy.document.toJSON()) as { Statement?: Array<{ Effect: string; Action: unknown; Resource: unknown }> };
  for (const st of doc.Statement ?? []) {
    if (st.Effect !== 'Allow') continue;
    const actions = ([] as unknown[]).concat(st.Action).map(String);
    const resources = ([] as unknown[]).concat(st.Resource).map(nagValue);
    const readOnlySource = actions.every((a) => /^s3:(Get|List)/.test(a));
    if (!readOnlySource && !resources.some((r) => ours.some((o) => r.startsWith(o)))) continue;
    const reason = readOnlySource
      ? 'Read-only access of the BucketDeployment handler to the CDK asset holding the documents to deploy (aws-cdk-lib grant).'
      : 'aws-cdk-lib grants the BucketDeployment handler read/write on the destination archive; deletion is explicitly denied by ' +
        'DenyDocumentArchiveDeletion and prune is off, so the single copy is never removed.';
    for (const a of actions.filter((x) => x.includes('*'))) ack(`AwsSolutions-IAM5[Action::${a}]`, reason);
    for (const r of resources.filter((x) => x.includes('*'))) ack(`AwsSolutions-IAM5[Resource::${r}]`, reason);
  }
}
