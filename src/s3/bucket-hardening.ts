import { Annotations, Aspects, CfnResource, Duration, IAspect, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { S3_ENVIRONMENT_DEFAULTS } from './lifecycle-defaults';
import { wholeDays } from './lifecycle-rules';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError, inScope } from '../core/validation';
import { BackupKey } from '../foundation/backup-key';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';
import { COMPLIANCE_NAG_PACKS } from '../nag/nag-packs';

/*
 * The bucket an archive lives in: the hardened bucket the construct creates (KMS key with
 * rotation, versioning, Block Public Access, TLS-only, server access logs into their own bucket,
 * EventBridge notifications), and the checks a given bucket must pass.
 */

/** @internal What the created bucket depends on. */
export interface ArchiveBucketOptions {
  readonly content: BackupContent;
  readonly environment: DeploymentEnvironment;
  readonly removalPolicy?: RemovalPolicy;
  readonly accessLogRetention?: Duration;
  readonly eventBridge?: boolean;
}

/** @internal The created bucket, its key and its access-log bucket. */
export interface ArchiveBucket {
  readonly bucket: s3.Bucket;
  readonly encryptionKey: kms.Key;
  readonly accessLogsBucket: s3.Bucket;
}

const REPLICATION_REASON = 'Copies to another region come from the DrSecondarySite (AWS Backup copy rules or the replication ' +
  'the archive sets up when given a drSite), not from S3 replication configured on every bucket.';

/**
 * @internal Creates the archive's hardened bucket under `scope` (ids 'Key', 'AccessLogs', 'Resource').
 * The bucket's server access logs go to their own SSE-S3 bucket through a bucket policy.
 */
export function createArchiveBucket(scope: Construct, o: ArchiveBucketOptions): ArchiveBucket {
  const removalPolicy = o.removalPolicy ?? RemovalPolicy.RETAIN;
  const key = BackupKey.create(scope, 'Key', {
    description: `cdk-backup-dr ${o.content} archive (${o.environment}) ${scope.node.path}`,
    removalPolicy,
  });
  const logs = createAccessLogsBucket(scope, o, removalPolicy);
  const bucket = new s3.Bucket(scope, 'Resource', {
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
    removalPolicy,
  });
  if (o.eventBridge ?? true) enableEventBridge(bucket);
  for (const pack of COMPLIANCE_NAG_PACKS) {
    NagAcknowledgements.acknowledge(bucket, `${pack}-S3BucketReplicationEnabled`, REPLICATION_REASON);
  }
  return { bucket, encryptionKey: key, accessLogsBucket: logs };
}

function createAccessLogsBucket(scope: Construct, o: ArchiveBucketOptions, removalPolicy: RemovalPolicy): s3.Bucket {
  const retention = o.accessLogRetention ?? Duration.days(S3_ENVIRONMENT_DEFAULTS[o.environment].accessLogRetentionDays);
  inScope(scope, () => wholeDays(retention, 'accessLogRetention', 1));
  const logs = new s3.Bucket(scope, 'AccessLogs', {
    // Server access logging only delivers to SSE-S3 encrypted target buckets (and not to Object Lock buckets).
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
  const ack = (rule: string, reason: string, packs: readonly string[] = COMPLIANCE_NAG_PACKS) => {
    for (const pack of packs) NagAcknowledgements.acknowledge(logs, `${pack}-${rule}`, reason);
  };
  const selfLogging = 'This is the server access log bucket of the archive; logging it into itself would loop, and S3 logs its own access through CloudTrail data events.';
  NagAcknowledgements.acknowledge(logs, 'AwsSolutions-S1', selfLogging);
  ack('S3BucketLoggingEnabled', selfLogging);
  ack('S3DefaultEncryptionKMS', 'S3 server access logs can only be delivered to a target bucket encrypted with SSE-S3 (SSE-KMS is not supported).');
  ack('S3BucketReplicationEnabled', 'Access logs are operational records with a short retention, not backup data; they are not replicated to the DR region.');
  return logs;
}

/**
 * @internal Sends the bucket's object events to EventBridge through the bucket's own
 * `NotificationConfiguration.EventBridgeConfiguration` (no custom resource, no Lambda). If the app
 * also adds S3 notifications through the L2 API (`addEventNotification`), aws-cdk-lib manages the
 * bucket's whole notification configuration with its custom resource: EventBridge then moves
 * there, so the two writers never erase each other.
 */
export function enableEventBridge(bucket: s3.Bucket): void {
  const cfn = archiveCfnBucket(bucket);
  const existing = cfn.notificationConfiguration;
  if (Token.isUnresolved(existing)) {
    throw new BackupDrConfigError(
      `eventBridge is true, but the NotificationConfiguration of bucket ${bucket.node.path} is a token; ` +
      'turn on EventBridge in that configuration yourself and omit eventBridge',
    );
  }
  cfn.notificationConfiguration = {
    ...(existing as s3.CfnBucket.NotificationConfigurationProperty | undefined),
    eventBridgeConfiguration: { eventBridgeEnabled: true },
  };
  Aspects.of(bucket).add(new EventBridgeWithCustomNotifications(bucket, cfn));
}

/** Moves EventBridge into aws-cdk-lib's notifications custom resource when the bucket has one. */
class EventBridgeWithCustomNotifications implements IAspect {
  private done = false;
  constructor(private readonly bucket: s3.Bucket, private readonly cfn: s3.CfnBucket) {}

  public visit(node: IConstruct): void {
    if (this.done || !(node instanceof CfnResource) || node.cfnResourceType !== 'Custom::S3BucketNotifications') return;
    this.done = true;
    const { eventBridgeConfiguration: _, ...rest } = this.cfn.notificationConfiguration as s3.CfnBucket.NotificationConfigurationProperty;
    this.cfn.notificationConfiguration = Object.keys(rest).length ? rest : undefined;
    this.bucket.enableEventBridgeNotification();
  }
}

/** @internal The bucket's L1 resource; refuses imported buckets (even when cast to s3.Bucket). */
export function archiveCfnBucket(bucket: s3.IBucket): s3.CfnBucket {
  const cfn = bucket.node.defaultChild;
  if (!(bucket instanceof s3.Bucket) || !(cfn instanceof s3.CfnBucket)) {
    throw new BackupDrConfigError(
      `bucket: ${bucket.node.path} is an imported bucket (s3.Bucket.fromBucketName/fromBucketArn/fromBucketAttributes); lifecycle rules, ` +
      'versioning and Object Lock can only be configured on a bucket defined in this app: pass a new s3.Bucket(...), or omit bucket to create one',
    );
  }
  return cfn;
}

/** @internal true / false, or undefined when versioning is a token. */
export function isVersioned(cfn: s3.CfnBucket): boolean | undefined {
  const v = cfn.versioningConfiguration;
  if (v === undefined) return false;
  if (Token.isUnresolved(v)) return undefined;
  const status = (v as s3.CfnBucket.VersioningConfigurationProperty).status;
  return Token.isUnresolved(status) ? undefined : status === 'Enabled';
}

/** @internal What needs versioning on a given bucket. */
export interface VersioningNeeds {
  readonly content: BackupContent;
  readonly objectLock: boolean;
  readonly awsBackup: boolean;
}

/**
 * @internal A given unversioned bucket is refused when Object Lock, AWS Backup or the class's
 * version history needs versioning, and warned about otherwise.
 */
export function checkVersioning(scope: IConstruct, bucket: s3.Bucket, cfn: s3.CfnBucket, needs: VersioningNeeds): void {
  // Object Lock turns versioning on by itself.
  if (isVersioned(cfn) !== false || cfn.objectLockEnabled === true) return;
  const path = bucket.node.path;
  const reasons: Array<[boolean, string]> = [
    [needs.objectLock, 'objectLock is set and S3 Object Lock requires versioning'],
    [needs.awsBackup, 'awsBackup is true and AWS Backup for S3 requires versioning'],
    [needs.content === BackupContent.CODE || needs.content === BackupContent.DOCUMENTATION,
      `${needs.content} keeps its previous versions as noncurrent versions`],
  ];
  const reason = reasons.find(([on]) => on);
  if (reason) {
    throw new BackupDrConfigError(`bucket: ${path} is not versioned, but ${reason[1]}; create it with versioned: true`);
  }
  Annotations.of(scope).addWarningV2('cdk-backup-dr:s3-unversioned',
    `bucket ${path} is not versioned: an overwritten or deleted ${needs.content} object cannot be recovered; create it with versioned: true`);
}
