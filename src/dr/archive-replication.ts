import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { wireDrSite } from './dr-wiring';
import { BackupContent } from '../core/content';
import { DrResourceType, DrStrategy } from '../core/dr-strategy';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { BackupDrConfigError, concreteMinutes } from '../core/validation';
import { DrReplicaBucket, DrSiteNames, IDrSecondarySite } from '../foundation/dr-site';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/**
 * RPOs below this get S3 Replication Time Control (99.99% of objects within 15 minutes, with replication
 * metrics and events): without RTC, S3 gives no replication time guarantee (most objects replicate within
 * 15 minutes, some take hours), so an RPO of 15 minutes or less, and up to 2 hours, needs it.
 */
export const RTC_RPO_THRESHOLD = Duration.hours(2);
/** The only value S3 accepts for ReplicationTime.Time.Minutes and Metrics.EventThreshold.Minutes. */
const RTC_MINUTES = 15;

/** What S3ArchiveLifecycle hands to `replicateArchive`. */
export interface ArchiveReplicationOptions {
  /** The DR site. */
  readonly drSite: IDrSecondarySite;
  /** Environment of the archive. */
  readonly environment: DeploymentEnvironment;
  /** Declared objectives of the archive. */
  readonly objectives: RecoveryObjectives;
  /** The primary archive bucket (defined in this app, versioned). */
  readonly bucket: s3.IBucket;
  /** Stable short name of the archive (lower-case letters, digits, hyphens): names the replica bucket. */
  readonly archiveName: string;
  /** Content class of the archive (the replica gets the same lifecycle). */
  readonly content: BackupContent;
  /**
   * Lifecycle rules of the primary archive, applied to the replica bucket.
   * @default - none
   */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /**
   * Replicate only keys under this prefix.
   * @default - the whole bucket
   */
  readonly prefix?: string;
  /**
   * The archive uses S3 Object Lock: the replica bucket gets Object Lock and the role may read retention and legal holds.
   * @default false
   */
  readonly objectLock?: boolean;
  /**
   * Resource type reported to the strategy check.
   * @default DrResourceType.S3_ARCHIVE
   */
  readonly resourceType?: DrResourceType;
}

/** Result of `replicateArchive`. */
export interface ArchiveReplication {
  /** The replication role (least privilege: read source versions, write replicas, decrypt source, encrypt with the site key). */
  readonly role: iam.Role;
  /** The replica bucket in the DR site. */
  readonly replica: DrReplicaBucket;
  /** Whether Replication Time Control and replication metrics are on. */
  readonly replicationTimeControl: boolean;
  /** Strategy the archive is wired for. */
  readonly strategy: DrStrategy;
}

/**
 * Cross-region replication of an S3 archive into the DR site's replica bucket:
 *
 * - one rule for the whole bucket (or `prefix`), replicas re-encrypted with the site's KMS key
 *   (`EncryptionConfiguration.ReplicaKmsKeyID`), SSE-KMS objects included (`SourceSelectionCriteria`);
 * - delete markers are NOT replicated (`DeleteMarkerReplication: Disabled`): a delete in the primary region,
 *   by mistake or by an attacker, must not hide the DR copy; lifecycle expirations are not replicated by S3 either,
 *   the replica bucket applies the same lifecycle itself;
 * - Replication Time Control + metrics (15 minutes) when the RPO is under 2 hours;
 * - a least-privilege replication role in the primary stack.
 *
 * Refuses an imported bucket (its replication cannot be set here), an unversioned bucket, and a bucket that
 * already has a replication configuration. Call inside `inScope(construct, ...)`.
 */
export function replicateArchive(scope: Construct, options: ArchiveReplicationOptions): ArchiveReplication {
  const site = options.drSite;
  const wiring = wireDrSite(scope, {
    drSite: site, environment: options.environment, objectives: options.objectives, resourceType: options.resourceType ?? DrResourceType.S3_ARCHIVE,
  });
  const bucket = options.bucket;
  const cfn = bucket.node.defaultChild;
  if (!(cfn instanceof s3.CfnBucket)) {
    throw new BackupDrConfigError(
      `drSite: bucket ${bucket.node.path} is imported, so its replication configuration cannot be set here; let the archive create its ` +
      'bucket, pass an s3.Bucket defined in this app, or configure replication where the bucket is defined',
    );
  }
  const stack = Stack.of(cfn);
  const versioning = stack.resolve(cfn.versioningConfiguration) as { status?: string } | undefined;
  if (versioning?.status !== 'Enabled') {
    throw new BackupDrConfigError(
      `drSite: bucket ${bucket.node.path} is not versioned (versioned: ${versioning?.status ?? 'unset'}), and S3 replicates only versioned ` +
      'buckets; create it with versioned: true',
    );
  }
  const shared = REPLICATED.get(cfn);
  if (!shared && cfn.replicationConfiguration !== undefined) {
    throw new BackupDrConfigError(
      `drSite: bucket ${bucket.node.path} already has a replication configuration; remove it (the DR site adds its own rule) or drop drSite`,
    );
  }

  if (wiring.crossAccount && isAliasArn(site.encryptionKeyArn)) {
    throw new BackupDrConfigError(
      `drSite: the DR site ${site.node.path} is in account ${site.account} and names its key by alias (${site.encryptionKeyArn}); S3 resolves ` +
      'an alias in the replicating account, so replicas would be encrypted with the wrong key or fail; deploy the DR stack, then pass its ' +
      'KeyArn output as encryptionKeyArn (DrSecondarySite props with encryptionKey, or DrSecondarySite.fromSiteAttributes)',
    );
  }
  const replica = site.replicaBucket({
    archiveName: options.archiveName, content: options.content, lifecycleRules: options.lifecycleRules, objectLock: options.objectLock,
  });
  const rtc = concreteMinutes(options.objectives.rpo, 'objectives.rpo') < RTC_RPO_THRESHOLD.toMinutes();

  // One role, policy and configuration per bucket; archives sharing the bucket (by prefix) add a rule each.
  const state = shared ?? createReplicationState(scope, bucket, cfn, site);
  const sourceObjects = bucket.arnForObjects(options.prefix ? `${options.prefix}*` : '*');
  const replicaObjects = `${replica.bucketArn}/*`;
  state.policy.addStatements(
    new iam.PolicyStatement({
      actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging',
        ...(options.objectLock ? ['s3:GetObjectRetention', 's3:GetObjectLegalHold'] : [])],
      resources: [sourceObjects],
    }),
    new iam.PolicyStatement({ actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], resources: [replicaObjects] }),
    replicaKeyStatement(replica, site),
  );
  NagAcknowledgements.acknowledgeWildcards(state.policy, [], [sourceObjects, replicaObjects, ...keyResources(replica, site)],
    'S3 replication reads every object version of the archive and writes replicas under any key of the replica bucket; ' +
    'the site key is matched by its alias (kms:ResourceAliases) because its key ID is not known to the primary stack');

  state.rules.push({
    id: `cdk-backup-dr-${site.siteName}-${options.archiveName}`,
    status: 'Enabled',
    priority: state.rules.length + 1,
    filter: { prefix: options.prefix ?? '' },
    // Never replicate deletes: the DR copy must survive a delete in the primary region.
    deleteMarkerReplication: { status: 'Disabled' },
    sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
    destination: {
      bucket: replica.bucketArn,
      encryptionConfiguration: { replicaKmsKeyId: replica.encryptionKeyArn },
      ...(rtc ? {
        replicationTime: { status: 'Enabled', time: { minutes: RTC_MINUTES } },
        metrics: { status: 'Enabled', eventThreshold: { minutes: RTC_MINUTES } },
      } : {}),
    },
  });
  const role = state.role;
  return { role, replica, replicationTimeControl: rtc, strategy: wiring.strategy };
}

interface ReplicationState {
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
  readonly rules: s3.CfnBucket.ReplicationRuleProperty[];
}

/** Buckets whose replication configuration this module wrote. */
const REPLICATED = new WeakMap<s3.CfnBucket, ReplicationState>();

function createReplicationState(scope: Construct, bucket: s3.IBucket, cfn: s3.CfnBucket, site: IDrSecondarySite): ReplicationState {
  const role = new iam.Role(scope, 'DrReplicationRole', {
    description: `cdk-backup-dr: replicates ${bucket.node.path} to the DR site ${site.siteName} (${site.region})`,
    assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
  });
  const policy = new iam.ManagedPolicy(scope, 'DrReplicationPolicy', {
    description: `cdk-backup-dr: S3 replication of ${bucket.node.path} to the DR site ${site.siteName}`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({ actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [bucket.bucketArn] }),
      ...sourceKeyStatements(bucket.encryptionKey, bucket.bucketArn, Stack.of(cfn).region),
    ],
  });
  const rules: s3.CfnBucket.ReplicationRuleProperty[] = [];
  // No dependency on the policy: it names the bucket (a cycle); S3 uses the role only when it replicates.
  cfn.replicationConfiguration = { role: role.roleArn, rules };
  const state = { role, policy, rules };
  REPLICATED.set(cfn, state);
  return state;
}

function sourceKeyStatements(key: kms.IKey | undefined, bucketArn: string, region: string): iam.PolicyStatement[] {
  if (!key) return [];
  return [new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': [`${bucketArn}/*`, bucketArn] },
    },
  })];
}

function keyResources(replica: DrReplicaBucket, site: IDrSecondarySite): string[] {
  return isAliasArn(replica.encryptionKeyArn) ? [`arn:${partition(site)}:kms:${site.region}:${site.account}:key/*`] : [replica.encryptionKeyArn];
}

function replicaKeyStatement(replica: DrReplicaBucket, site: IDrSecondarySite): iam.PolicyStatement {
  const conditions: Record<string, unknown> = {
    StringEquals: { 'kms:ViaService': `s3.${site.region}.amazonaws.com` },
    StringLike: { 'kms:EncryptionContext:aws:s3:arn': [`${replica.bucketArn}/*`, replica.bucketArn] },
  };
  if (isAliasArn(replica.encryptionKeyArn)) {
    // IAM cannot name a key by alias ARN: allow keys of the site's account and region that carry the site alias.
    conditions['ForAnyValue:StringEquals'] = { 'kms:ResourceAliases': DrSiteNames.keyAlias(site.siteName) };
  }
  return new iam.PolicyStatement({
    actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
    resources: keyResources(replica, site),
    conditions,
  });
}

function isAliasArn(arn: string): boolean {
  return !Token.isUnresolved(arn) && /:alias\//.test(arn);
}

function partition(site: IDrSecondarySite): string {
  return DrSiteNames.vaultArn('x', site.region, site.account).split(':')[1];
}

