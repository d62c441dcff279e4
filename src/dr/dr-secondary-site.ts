import { Annotations, CfnOutput, Duration, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { DrStrategy, DrStrategyTable, DrWorkload, describeType } from '../core/dr-strategy';
import { DeploymentEnvironment } from '../core/environment';
import { BackupDrConfigError, checkRange, concreteDays, inScope } from '../core/validation';
import { BackupKey } from '../foundation/backup-key';
import { DrReplicaBucket, DrReplicaBucketOptions, DrSiteAttributes, DrSiteNames, IDrSecondarySite } from '../foundation/dr-site';
import { RecoveryVault, VaultLockOptions } from '../foundation/recovery-vault';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/** Metadata type under which a DR site records its strategy report (read by the catalog). */
export const DR_SITE_METADATA_TYPE = 'cdk-backup-dr:dr-site';

/** Properties of a DrSecondarySite. */
export interface DrSecondarySiteProps {
  /** Environment the site serves: only workloads of this environment may copy into it. */
  readonly environment: DeploymentEnvironment;
  /**
   * DR strategy. Objectives of protected workloads that it cannot meet are a synth error.
   * @default - each workload gets the cheapest strategy meeting its objectives; the site reports the most demanding one
   */
  readonly strategy?: DrStrategy;
  /**
   * Stable name of the site (lower-case letters, digits, hyphens; 3–24 characters). The vault
   * (`<siteName>-vault`), key alias (`alias/<siteName>`) and replica buckets (`<siteName>-<archive>-<account>-<region>`)
   * derive from it so primary stacks reference them without cross-region tokens. Changing it replaces them.
   * @default - "backup-dr-<environment>" (e.g. "backup-dr-pro")
   */
  readonly siteName?: string;
  /**
   * Customer-managed key of the DR vault and replica buckets (must live in the site's region and account).
   * @default - a new key (BackupKey: rotation on, retained) with alias `alias/<siteName>`
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * ARN of the site's key as a literal (`arn:aws:kms:<region>:<account>:key/<id>`): of `encryptionKey`, or of the key the
   * site created (its `KeyArn` output after the first deployment). Primary stacks get it instead of the alias ARN.
   * Cross-account S3 replication needs it: KMS does not resolve aliases across accounts.
   * @default - the alias ARN `arn:<partition>:kms:<region>:<account>:alias/<siteName>`
   */
  readonly encryptionKeyArn?: string;
  /**
   * Role allowed to delete recovery points or shorten their lifecycle in the DR vault (break glass).
   * @default - nobody
   */
  readonly breakGlassRole?: iam.IRole;
  /**
   * Lock the DR vault (compliance mode after the cooling-off period).
   * @default - true for PRO, false otherwise
   */
  readonly vaultLock?: boolean;
  /**
   * Vault lock settings, used when the vault is locked.
   * @default - minimum retention 1 day, no maximum, 3-day cooling-off period
   */
  readonly vaultLockOptions?: VaultLockOptions;
  /**
   * Topic receiving failed copy/restore notifications of the DR vault.
   * @default - a new topic encrypted with the site key
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * What happens to the vault, key and replica buckets when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Accounts (other than the site's) whose AWS Backup plans and S3 replication write into the site.
   * Primary stacks in other accounts must be listed here, or belong to `organizationId`.
   * @default - none (same-account site)
   */
  readonly sourceAccounts?: string[];
  /**
   * AWS Organization whose accounts may copy into the site (`aws:PrincipalOrgID`). Cross-account backup
   * must be turned on in the organization's management account.
   * @default - none
   */
  readonly organizationId?: string;
  /**
   * Also create an `AWS::Backup::LogicallyAirGappedBackupVault`: every copy also goes there (rules whose
   * retention fits its retention range). Its recovery points cannot be deleted before their retention ends,
   * and the vault can be shared with a recovery account through AWS RAM.
   * @default false
   */
  readonly logicallyAirGapped?: boolean;
  /**
   * Minimum retention of the logically air-gapped vault (AWS Backup requires at least 7 days).
   * @default Duration.days(7)
   */
  readonly airGappedMinRetention?: Duration;
  /**
   * Maximum retention of the logically air-gapped vault.
   * @default - 10 years (Duration.days(3650))
   */
  readonly airGappedMaxRetention?: Duration;
}

const SITE_NAME = /^[a-z0-9](?:[a-z0-9-]{1,22})[a-z0-9]$/;
const ACCOUNT = /^\d{12}$/;
const ORGANIZATION = /^o-[a-z0-9]{10,32}$/;
const ARCHIVE_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** Workloads registered per site (both created and imported sites), for the strategy report. */
const WORKLOADS = new WeakMap<IConstruct, DrWorkload[]>();

/**
 * @internal Records a workload protected into `site` and, on first use, the late validation that reports
 * the site's strategy (explicit, or the cheapest meeting every workload) as an annotation and metadata.
 */
export function registerDrWorkload(site: IDrSecondarySite, workload: DrWorkload): void {
  let list = WORKLOADS.get(site);
  if (!list) {
    list = [];
    WORKLOADS.set(site, list);
    const workloads = list;
    site.node.addValidation({ validate: () => reportStrategy(site, workloads) });
  }
  list.push(workload);
}

/** @internal Workloads registered into a site so far. */
export function drWorkloadsOf(site: IDrSecondarySite): DrWorkload[] {
  return [...(WORKLOADS.get(site) ?? [])];
}

function reportStrategy(site: IDrSecondarySite, workloads: DrWorkload[]): string[] {
  try {
    const chosen = site.strategy ?? DrStrategyTable.cheapest(workloads);
    const how = site.strategy ? 'declared' : 'cheapest strategy meeting every workload\'s objectives';
    const lines = workloads.map((w) => {
      const b = DrStrategyTable.bound(chosen, w.resourceType);
      return `${w.path} (${describeType(w.resourceType)}, RPO ${w.objectives.rpo.toHumanString()}/RTO ${w.objectives.rto.toHumanString()}): ` +
        `${b.mechanism}, bound RPO ${b.rpo.toHumanString()}/RTO ${b.rto.toHumanString()}`;
    });
    Annotations.of(site).addInfo(`DR strategy ${chosen} (${how}) for ${workloads.length} workload(s): ${lines.join('; ')}`);
    site.node.addMetadata(DR_SITE_METADATA_TYPE, {
      siteName: site.siteName,
      region: site.region,
      account: site.account,
      environment: site.environment,
      strategy: chosen,
      strategyDeclared: site.strategy !== undefined,
      workloads: workloads.map((w) => ({
        path: w.path, resourceType: w.resourceType, rpo: w.objectives.rpo.toHumanString(), rto: w.objectives.rto.toHumanString(),
      })),
    }, { stackTrace: false });
    return [];
  } catch (e) {
    return [String((e as Error).message)];
  }
}

/**
 * The disaster-recovery secondary site: a stack in another region (optionally another account) holding
 *
 * - a `RecoveryVault` with its own customer-managed key (rotation on, alias `alias/<siteName>`), locked for PRO,
 *   with the same deny-delete access policy as every vault of the library;
 * - when other accounts copy into it, vault access policy statements allowing `backup:CopyIntoBackupVault`
 *   from `sourceAccounts` or `organizationId`, and key policy statements letting them use the key through
 *   AWS Backup and S3 in the site's region only;
 * - replica buckets for S3 archives, created when a primary archive asks for one (`replicaBucket`);
 * - optionally a logically air-gapped vault;
 * - stack outputs with everything a recovery needs.
 *
 * Every name and ARN is derived from (siteName, account, region): primary stacks reference the site without
 * cross-region tokens. Deploy the DR stack before the primary stacks.
 */
export class DrSecondarySite extends Construct implements IDrSecondarySite {
  /** A site deployed by another app or team, from its deterministic names. */
  public static fromSiteAttributes(scope: Construct, id: string, attrs: DrSiteAttributes): IDrSecondarySite {
    return inScope(scope, () => {
      checkSiteName(attrs.siteName, 'siteName');
      checkConcrete(attrs.region, 'region');
      checkConcrete(attrs.account, 'account');
      checkSources(attrs.sourceAccounts, attrs.organizationId);
      return new ImportedDrSite(scope, id, attrs);
    });
  }

  public readonly siteName: string;
  public readonly region: string;
  public readonly account: string;
  public readonly environment: DeploymentEnvironment;
  public readonly strategy?: DrStrategy;
  public readonly vaultName: string;
  public readonly vaultArn: string;
  public readonly encryptionKeyArn: string;
  public readonly airGappedVaultArn?: string;
  public readonly airGappedMinRetentionDays?: number;
  public readonly airGappedMaxRetentionDays?: number;
  public readonly sourceAccounts?: string[];
  public readonly organizationId?: string;
  /** The DR recovery vault. */
  public readonly vault: RecoveryVault;
  /** Key of the DR vault and replica buckets. */
  public readonly encryptionKey: kms.IKey;
  /**
   * The logically air-gapped vault.
   * @default - none
   */
  public readonly airGappedVault?: backup.CfnLogicallyAirGappedBackupVault;

  private readonly replicaBuckets = new Map<string, { bucket: s3.Bucket; content: string; objectLock: boolean }>();
  private readonly removalPolicy: RemovalPolicy;
  private accessLogs?: s3.Bucket;

  constructor(scope: Construct, id: string, props: DrSecondarySiteProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.environment = props.environment;
    this.strategy = props.strategy;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.siteName = props.siteName ?? `backup-dr-${props.environment.toLowerCase()}`;

    inScope(this, () => {
      if (Token.isUnresolved(stack.region) || Token.isUnresolved(stack.account)) {
        throw new BackupDrConfigError(
          `the stack ${stack.stackName} of the DR site has no explicit env (region ${JSON.stringify(stack.resolve(stack.region))}, account ` +
          `${JSON.stringify(stack.resolve(stack.account))}): primary stacks derive the vault, key and bucket names from them; ` +
          'give the stack env: { account: \'<12 digits>\', region: \'<DR region>\' }',
        );
      }
      checkSiteName(this.siteName, 'siteName');
      checkSources(props.sourceAccounts, props.organizationId);
      const keyArnPattern = `:kms:${stack.region}:${stack.account}:key/`;
      if (props.encryptionKeyArn !== undefined && (Token.isUnresolved(props.encryptionKeyArn) || !props.encryptionKeyArn.startsWith('arn:')
        || !props.encryptionKeyArn.includes(keyArnPattern))) {
        throw new BackupDrConfigError(
          `encryptionKeyArn is "${props.encryptionKeyArn}"; primary stacks need a literal ARN of a key in the site's region and account ` +
          `(arn:aws:kms:${stack.region}:${stack.account}:key/<id>), ` +
          'e.g. the KeyArn output of a first deployment of this stack',
        );
      }
    });
    this.region = stack.region;
    this.account = stack.account;
    this.sourceAccounts = props.sourceAccounts?.filter((a) => a !== this.account);
    this.organizationId = props.organizationId;

    this.encryptionKey = props.encryptionKey ?? BackupKey.create(this, 'Key', {
      description: `cdk-backup-dr DR site ${this.siteName} (${props.environment}): DR vault and replica buckets`,
      alias: this.siteName,
      removalPolicy: this.removalPolicy,
    });
    this.encryptionKeyArn = props.encryptionKeyArn ?? DrSiteNames.keyAliasArn(this.siteName, this.region, this.account);
    this.vaultName = DrSiteNames.vaultName(this.siteName);
    this.vaultArn = DrSiteNames.vaultArn(this.vaultName, this.region, this.account);

    this.vault = new RecoveryVault(this, 'Vault', {
      environment: props.environment,
      backupVaultName: this.vaultName,
      encryptionKey: this.encryptionKey,
      breakGlassRole: props.breakGlassRole,
      vaultLock: props.vaultLock,
      vaultLockOptions: props.vaultLockOptions,
      notificationTopic: props.notificationTopic,
      removalPolicy: this.removalPolicy,
    });

    const copiers = this.copyPrincipals();
    if (copiers) {
      inScope(this, () => this.allowCopies(copiers));
    }

    if (props.logicallyAirGapped) {
      const lag = inScope(this, () => this.createAirGappedVault(props, copiers));
      this.airGappedVault = lag.vault;
      this.airGappedVaultArn = lag.arn;
      this.airGappedMinRetentionDays = lag.min;
      this.airGappedMaxRetentionDays = lag.max;
    } else if (props.airGappedMinRetention || props.airGappedMaxRetention) {
      throw new BackupDrConfigError(`[${this.node.path}] airGappedMinRetention/airGappedMaxRetention are set but logicallyAirGapped is not; set logicallyAirGapped: true or remove them`);
    }

    const out = (outputId: string, value: string, description: string) => new CfnOutput(this, outputId, { value, description });
    out('Region', this.region, 'Region of the DR site');
    out('VaultName', this.vaultName, 'DR recovery vault name (restore recovery points from here)');
    out('VaultArn', this.vault.backupVault.backupVaultArn, 'DR recovery vault ARN (copy destination)');
    out('KeyArn', this.encryptionKey.keyArn, 'ARN of the DR site key (vault and replica buckets); pass it as encryptionKeyArn for cross-account replication');
    out('KeyAliasArn', DrSiteNames.keyAliasArn(this.siteName, this.region, this.account), 'Alias ARN of the DR site key');
    if (this.airGappedVault) out('AirGappedVaultArn', this.airGappedVault.attrBackupVaultArn, 'Logically air-gapped vault ARN');
  }

  public replicaBucketName(archiveName: string): string {
    return replicaBucketName(this.siteName, archiveName, this.region, this.account);
  }

  /**
   * The replica bucket for a primary archive, created in this site's stack on first request (KMS with the site
   * key, versioned, TLS-only, public access blocked, bucket-owner-enforced, server access logs, the primary's lifecycle).
   */
  public replicaBucket(options: DrReplicaBucketOptions): DrReplicaBucket {
    return inScope(this, () => {
      const name = this.replicaBucketName(options.archiveName);
      const existing = this.replicaBuckets.get(options.archiveName);
      if (existing) {
        if (existing.objectLock !== (options.objectLock ?? false)) {
          throw new BackupDrConfigError(
            `replica bucket "${options.archiveName}" was created ${existing.objectLock ? 'with' : 'without'} Object Lock, but now requested ` +
            `${options.objectLock ? 'with' : 'without'} it; give each primary archive its own archiveName`,
          );
        }
        if (existing.content !== options.content) {
          throw new BackupDrConfigError(
            `replica bucket "${options.archiveName}" already holds ${existing.content}, so it cannot also replicate ${options.content}; ` +
            'give each primary archive its own archiveName',
          );
        }
      } else {
        this.replicaBuckets.set(options.archiveName, {
          bucket: this.createReplicaBucket(options, name), content: options.content, objectLock: options.objectLock ?? false,
        });
      }
      return { bucketName: name, bucketArn: DrSiteNames.bucketArn(name, this.region), encryptionKeyArn: this.encryptionKeyArn };
    });
  }

  /** Principals of other accounts that copy into the site (undefined for a same-account site). */
  private copyPrincipals(): { principals: iam.IPrincipal[]; conditions?: Record<string, unknown> } | undefined {
    if (this.organizationId) {
      return { principals: [new iam.AnyPrincipal()], conditions: { StringEquals: { 'aws:PrincipalOrgID': this.organizationId } } };
    }
    if (this.sourceAccounts && this.sourceAccounts.length > 0) {
      return { principals: this.sourceAccounts.map((a) => new iam.AccountPrincipal(a)) };
    }
    return undefined;
  }

  private allowCopies(copiers: { principals: iam.IPrincipal[]; conditions?: Record<string, unknown> }) {
    const vault = this.vault.backupVault;
    if (!(vault instanceof backup.BackupVault)) throw new Error('unreachable: the DR vault is created here');
    vault.addToAccessPolicy(new iam.PolicyStatement({
      sid: 'AllowCopyIntoVaultFromSourceAccounts',
      principals: copiers.principals,
      actions: ['backup:CopyIntoBackupVault'],
      resources: ['*'],
      conditions: copiers.conditions,
    }));
    // Copies (AWS Backup) and replicas (S3) are encrypted with the site key in the site's region only.
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowSourceAccountsBackupAndReplication',
      principals: copiers.principals,
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { ...copiers.conditions, StringEquals: { ...(copiers.conditions?.StringEquals as object ?? {}), 'kms:ViaService': [`backup.${this.region}.amazonaws.com`, `s3.${this.region}.amazonaws.com`] } },
    }));
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowSourceAccountsServiceGrants',
      principals: copiers.principals,
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { ...copiers.conditions, Bool: { 'kms:GrantIsForAWSResource': true } },
    }));
  }

  private createAirGappedVault(props: DrSecondarySiteProps, copiers: ReturnType<DrSecondarySite['copyPrincipals']>) {
    const min = concreteDays(props.airGappedMinRetention ?? Duration.days(7), 'airGappedMinRetention');
    const max = concreteDays(props.airGappedMaxRetention ?? Duration.days(3650), 'airGappedMaxRetention');
    checkRange(min, 7, 36_500, 'airGappedMinRetention (days)', 'AWS Backup requires at least 7 days');
    checkRange(max, min, 36_500, 'airGappedMaxRetention (days)', 'it must be at least airGappedMinRetention and at most 100 years');
    const name = DrSiteNames.airGappedVaultName(this.siteName);
    const statements: unknown[] = [{
      Sid: 'DenyRecoveryPointDeletion',
      Effect: 'Deny',
      Principal: '*',
      Action: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'],
      Resource: '*',
    }];
    if (copiers) {
      statements.push(Stack.of(this).resolve(new iam.PolicyStatement({
        sid: 'AllowCopyIntoVaultFromSourceAccounts',
        principals: copiers.principals,
        actions: ['backup:CopyIntoBackupVault'],
        resources: ['*'],
        conditions: copiers.conditions,
      }).toStatementJson()));
    }
    const vault = new backup.CfnLogicallyAirGappedBackupVault(this, 'AirGappedVault', {
      backupVaultName: name,
      minRetentionDays: min,
      maxRetentionDays: max,
      encryptionKeyArn: this.encryptionKey.keyArn,
      accessPolicy: { Version: '2012-10-17', Statement: statements },
    });
    vault.applyRemovalPolicy(this.removalPolicy);
    const arn = DrSiteNames.vaultArn(name, this.region, this.account);
    return { vault, arn, min, max };
  }

  private createReplicaBucket(options: DrReplicaBucketOptions, name: string): s3.Bucket {
    const id = `Replica-${options.archiveName}`;
    const bucket = new s3.Bucket(this, id, {
      bucketName: name,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: options.lifecycleRules,
      // Replicas of locked objects keep their retention; the bucket needs Object Lock to accept them.
      objectLockEnabled: options.objectLock || undefined,
      removalPolicy: this.removalPolicy,
    });
    // Server access logs through a bucket policy on the log bucket (whatever the app's feature flags: no ACLs).
    const logs = this.accessLogsBucket();
    const prefix = `${options.archiveName}/`;
    (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: logs.bucketName, logFilePrefix: prefix };
    logs.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [logs.arnForObjects(`${prefix}*`)],
      conditions: { ArnLike: { 'aws:SourceArn': bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': this.account } },
    }));
    const copiers = this.copyPrincipals();
    if (copiers) {
      // Cross-account replication: the source accounts' replication roles write replicas (ownership stays with this account).
      bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowReplicationFromSourceAccounts',
        principals: copiers.principals,
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'],
        resources: [bucket.arnForObjects('*')],
        conditions: copiers.conditions,
      }));
      bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowReplicationConfigurationChecks',
        principals: copiers.principals,
        actions: ['s3:GetBucketVersioning', 's3:PutBucketVersioning'],
        resources: [bucket.bucketArn],
        conditions: copiers.conditions,
      }));
    }
    const isReplica = 'This bucket is the cross-region replica of a primary archive (the DR copy itself); replicating it again would copy back to the primary region.';
    for (const rule of ['HIPAA.Security-S3BucketReplicationEnabled', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled']) {
      NagAcknowledgements.acknowledge(bucket, rule, isReplica);
    }
    new CfnOutput(this, `${id}Name`, { value: bucket.bucketName, description: `Replica bucket of archive ${options.archiveName} (${options.content})` });
    return bucket;
  }

  private accessLogsBucket(): s3.Bucket {
    if (this.accessLogs) return this.accessLogs;
    const logs = new s3.Bucket(this, 'ReplicaAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(1) }],
      removalPolicy: this.removalPolicy,
    });
    const ack = (id: string, reason: string) => NagAcknowledgements.acknowledge(logs, id, reason);
    const selfLogging = 'Server access log bucket of the DR replica buckets; logging it into itself would loop (CloudTrail data events cover it).';
    ack('AwsSolutions-S1', selfLogging);
    ack('HIPAA.Security-S3BucketLoggingEnabled', selfLogging);
    ack('NIST.800.53.R5-S3BucketLoggingEnabled', selfLogging);
    ack('PCI.DSS.321-S3BucketLoggingEnabled', selfLogging);
    const sseS3 = 'S3 server access logs can only be delivered to a bucket encrypted with SSE-S3 (SSE-KMS is not supported).';
    ack('HIPAA.Security-S3DefaultEncryptionKMS', sseS3);
    ack('NIST.800.53.R5-S3DefaultEncryptionKMS', sseS3);
    ack('PCI.DSS.321-S3DefaultEncryptionKMS', sseS3);
    const noReplication = 'Access logs of the DR site are operational records kept one year, not backup data; they are not replicated.';
    ack('HIPAA.Security-S3BucketReplicationEnabled', noReplication);
    ack('NIST.800.53.R5-S3BucketReplicationEnabled', noReplication);
    ack('PCI.DSS.321-S3BucketReplicationEnabled', noReplication);
    this.accessLogs = logs;
    return logs;
  }
}

/** A site of another app: deterministic names only; it creates nothing. */
class ImportedDrSite extends Resource implements IDrSecondarySite {
  public readonly siteName: string;
  public readonly region: string;
  public readonly account: string;
  public readonly environment: DeploymentEnvironment;
  public readonly strategy?: DrStrategy;
  public readonly vaultName: string;
  public readonly vaultArn: string;
  public readonly encryptionKeyArn: string;
  public readonly airGappedVaultArn?: string;
  public readonly airGappedMinRetentionDays?: number;
  public readonly airGappedMaxRetentionDays?: number;
  public readonly sourceAccounts?: string[];
  public readonly organizationId?: string;

  constructor(scope: Construct, id: string, attrs: DrSiteAttributes) {
    super(scope, id);
    this.siteName = attrs.siteName;
    this.region = attrs.region;
    this.account = attrs.account;
    this.environment = attrs.environment;
    this.strategy = attrs.strategy;
    this.vaultName = attrs.vaultName ?? DrSiteNames.vaultName(attrs.siteName);
    this.vaultArn = DrSiteNames.vaultArn(this.vaultName, attrs.region, attrs.account);
    this.encryptionKeyArn = attrs.encryptionKeyArn ?? DrSiteNames.keyAliasArn(attrs.siteName, attrs.region, attrs.account);
    this.airGappedVaultArn = attrs.airGappedVaultArn;
    this.airGappedMinRetentionDays = attrs.airGappedVaultArn ? attrs.airGappedMinRetentionDays ?? 7 : undefined;
    this.airGappedMaxRetentionDays = attrs.airGappedVaultArn ? attrs.airGappedMaxRetentionDays ?? 3650 : undefined;
    this.sourceAccounts = attrs.sourceAccounts;
    this.organizationId = attrs.organizationId;
  }

  public replicaBucketName(archiveName: string): string {
    return replicaBucketName(this.siteName, archiveName, this.region, this.account);
  }

  public replicaBucket(options: DrReplicaBucketOptions): DrReplicaBucket {
    const name = inScope(this, () => this.replicaBucketName(options.archiveName));
    return { bucketName: name, bucketArn: DrSiteNames.bucketArn(name, this.region), encryptionKeyArn: this.encryptionKeyArn };
  }
}

function replicaBucketName(siteName: string, archiveName: string, region: string, account: string): string {
  if (Token.isUnresolved(archiveName) || !ARCHIVE_NAME.test(archiveName)) {
    throw new BackupDrConfigError(
      `archiveName "${archiveName}" is not a literal of lower-case letters, digits and hyphens; replica bucket names derive from it`,
    );
  }
  const name = DrSiteNames.replicaBucketName(siteName, archiveName, region, account);
  if (name.length > 63) {
    throw new BackupDrConfigError(
      `the replica bucket name "${name}" has ${name.length} characters but S3 allows 63; shorten the archive name "${archiveName}" ` +
      `to at most ${archiveName.length - (name.length - 63)} characters or the site name "${siteName}"`,
    );
  }
  return name;
}

function checkSiteName(name: string, prop: string) {
  if (Token.isUnresolved(name) || !SITE_NAME.test(name)) {
    throw new BackupDrConfigError(
      `${prop} is "${name}", but it must be a literal of 3–24 lower-case letters, digits and hyphens (no leading/trailing hyphen): ` +
      'vault, key alias and bucket names derive from it',
    );
  }
}

function checkConcrete(value: string, prop: string) {
  if (Token.isUnresolved(value) || !value) {
    throw new BackupDrConfigError(`${prop} is "${value}"; a DR site is referenced by literal names, pass the literal ${prop}`);
  }
}

function checkSources(accounts: string[] | undefined, org: string | undefined) {
  for (const a of accounts ?? []) {
    if (Token.isUnresolved(a) || !ACCOUNT.test(a)) {
      throw new BackupDrConfigError(`sourceAccounts contains "${a}", which is not a 12-digit account ID; list the primary accounts' IDs`);
    }
  }
  if (org !== undefined && (Token.isUnresolved(org) || !ORGANIZATION.test(org))) {
    throw new BackupDrConfigError(`organizationId is "${org}", which is not an AWS Organizations ID (o-xxxxxxxxxx); copy it from the Organizations console`);
  }
}
