import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { BackupContent } from '../core/content';
import { DrStrategy } from '../core/dr-strategy';
import { DeploymentEnvironment } from '../core/environment';

/** What a primary archive asks of the DR site's replica bucket. */
export interface DrReplicaBucketOptions {
  /**
   * Stable short name of the primary archive (lower case letters, digits and hyphens); the replica
   * bucket's name is derived from it, the site's account, region and name.
   */
  readonly archiveName: string;
  /** Content class of the primary archive. */
  readonly content: BackupContent;
  /**
   * Lifecycle rules of the primary archive, applied to the replica.
   * @default - none
   */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /**
   * The primary archive uses S3 Object Lock: the replica bucket is created with Object Lock enabled (no
   * default retention), and replicas keep the retention mode and date of their source objects.
   * @default false
   */
  readonly objectLock?: boolean;
}

/** A replica bucket in the DR site (deterministic names, no cross-region token). */
export interface DrReplicaBucket {
  /** Bucket name. */
  readonly bucketName: string;
  /** Bucket ARN. */
  readonly bucketArn: string;
  /** ARN of the KMS key replicas are re-encrypted with (an alias ARN unless the site was imported with a key ARN). */
  readonly encryptionKeyArn: string;
}

/**
 * A disaster-recovery secondary site: a recovery vault (and replica buckets) in another region,
 * optionally another account. Every name and ARN is deterministic so primary stacks reference it
 * without cross-region tokens.
 */
export interface IDrSecondarySite extends IConstruct {
  /** Stable name of the site; vault, key alias and bucket names derive from it. */
  readonly siteName: string;
  /** Region of the site (concrete). */
  readonly region: string;
  /** Account of the site (concrete). */
  readonly account: string;
  /** Environment the site serves (PRO data needs a PRO site). */
  readonly environment: DeploymentEnvironment;
  /**
   * DR strategy of the site.
   * @default - the cheapest strategy meeting every protected construct's objectives
   */
  readonly strategy?: DrStrategy;
  /** Name of the DR recovery vault. */
  readonly vaultName: string;
  /** ARN of the DR recovery vault (copy actions' destination). */
  readonly vaultArn: string;
  /** ARN of the key of the DR vault and replica buckets (an alias ARN: stable across deployments). */
  readonly encryptionKeyArn: string;
  /**
   * ARN of the logically air-gapped vault, when the site has one.
   * @default - none
   */
  readonly airGappedVaultArn?: string;
  /**
   * Minimum retention (days) of the logically air-gapped vault: copies kept for less are not sent there.
   * @default - no air-gapped vault
   */
  readonly airGappedMinRetentionDays?: number;
  /**
   * Maximum retention (days) of the logically air-gapped vault: copies kept for longer are not sent there.
   * @default - no air-gapped vault
   */
  readonly airGappedMaxRetentionDays?: number;
  /**
   * Accounts allowed to copy into the site (besides its own).
   * @default - none
   */
  readonly sourceAccounts?: string[];
  /**
   * Organization allowed to copy into the site.
   * @default - none
   */
  readonly organizationId?: string;
  /** Name of the replica bucket for a primary archive. */
  replicaBucketName(archiveName: string): string;
  /**
   * The replica bucket for a primary archive. A site defined in the same app creates it on first request;
   * an imported site returns the deterministic names (the site's app must create it).
   */
  replicaBucket(options: DrReplicaBucketOptions): DrReplicaBucket;
}

/** Attributes of a DR site deployed by another app or team (`DrSecondarySite.fromSiteAttributes`). */
export interface DrSiteAttributes {
  /** Stable name the site was created with. */
  readonly siteName: string;
  /** Region of the site. */
  readonly region: string;
  /** Account of the site. */
  readonly account: string;
  /** Environment the site serves. */
  readonly environment: DeploymentEnvironment;
  /**
   * DR strategy of the site.
   * @default - the cheapest strategy meeting the objectives
   */
  readonly strategy?: DrStrategy;
  /**
   * Name of the DR vault.
   * @default - derived from siteName like DrSecondarySite does
   */
  readonly vaultName?: string;
  /**
   * ARN of the key of the DR vault and replicas.
   * @default - the alias ARN DrSecondarySite creates (`alias/<siteName>`)
   */
  readonly encryptionKeyArn?: string;
  /**
   * ARN of the site's logically air-gapped vault.
   * @default - none
   */
  readonly airGappedVaultArn?: string;
  /**
   * Retention range of the site's logically air-gapped vault (days).
   * @default 7
   */
  readonly airGappedMinRetentionDays?: number;
  /**
   * Maximum retention of the site's logically air-gapped vault (days).
   * @default 3650
   */
  readonly airGappedMaxRetentionDays?: number;
  /**
   * Accounts allowed to copy into the site.
   * @default - none
   */
  readonly sourceAccounts?: string[];
  /**
   * Organization allowed to copy into the site.
   * @default - none
   */
  readonly organizationId?: string;
}

/** @internal Partition of a concrete region. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** @internal Deterministic names of a site (shared by DrSecondarySite and its import). */
export class DrSiteNames {
  public static vaultName(siteName: string): string {
    return `${siteName}-vault`;
  }
  public static airGappedVaultName(siteName: string): string {
    return `${siteName}-airgapped`;
  }
  public static keyAlias(siteName: string): string {
    return `alias/${siteName}`;
  }
  public static keyAliasArn(siteName: string, region: string, account: string): string {
    return `arn:${partitionOf(region)}:kms:${region}:${account}:${DrSiteNames.keyAlias(siteName)}`;
  }
  public static vaultArn(vaultName: string, region: string, account: string): string {
    return `arn:${partitionOf(region)}:backup:${region}:${account}:backup-vault:${vaultName}`;
  }
  public static replicaBucketName(siteName: string, archiveName: string, region: string, account: string): string {
    return `${siteName}-${archiveName}-${account}-${region}`.toLowerCase();
  }
  public static bucketArn(bucketName: string, region: string): string {
    return `arn:${partitionOf(region)}:s3:::${bucketName}`;
  }
  private constructor() {}
}
