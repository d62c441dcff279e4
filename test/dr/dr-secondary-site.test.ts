import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BackupContent } from '../../src/core/content';
import { DrResourceType, DrStrategy } from '../../src/core/dr-strategy';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { BackupPolicyDerivation } from '../../src/core/schedule-derivation';
import { DR_SITE_METADATA_TYPE, DrSecondarySite } from '../../src/dr/dr-secondary-site';
import { wireDrSite } from '../../src/dr/dr-wiring';
import { BackupPlanRegistry, ProtectedResourceType } from '../../src/foundation/plan-registry';
import { RecoveryVault } from '../../src/foundation/recovery-vault';
import { TEST_CONTEXT, synthTemplate } from '../support/app';

const { PRO, DEV, QA } = DeploymentEnvironment;
const PRIMARY = { account: '111111111111', region: 'eu-west-1' };
const DR = { account: '111111111111', region: 'eu-central-1' };
const DR_OTHER_ACCOUNT = { account: '222222222222', region: 'eu-central-1' };

/** The value of the output whose logical ID starts with `prefix` (outputs of nested constructs get a hash suffix). */
function output(t: Template, prefix: string): unknown {
  const outputs = t.findOutputs('*');
  const key = Object.keys(outputs).find((k) => k.startsWith(prefix));
  if (!key) throw new Error(`no output ${prefix}* in ${Object.keys(outputs).join(', ')}`);
  return outputs[key].Value;
}

function drStack(env = DR, app = new App({ context: TEST_CONTEXT })) {
  return new Stack(app, 'Dr', { env });
}

describe('DrSecondarySite', () => {
  test('creates a locked PRO vault with its own rotating CMK, deterministic names and outputs', () => {
    const stack = drStack();
    const site = new DrSecondarySite(stack, 'Site', { environment: PRO });
    expect(site.siteName).toBe('backup-dr-pro');
    expect(site.vaultName).toBe('backup-dr-pro-vault');
    expect(site.vaultArn).toBe('arn:aws:backup:eu-central-1:111111111111:backup-vault:backup-dr-pro-vault');
    expect(site.encryptionKeyArn).toBe('arn:aws:kms:eu-central-1:111111111111:alias/backup-dr-pro');
    expect(site.replicaBucketName('orders')).toBe('backup-dr-pro-orders-111111111111-eu-central-1');
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Backup::BackupVault', {
      BackupVaultName: 'backup-dr-pro-vault',
      EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SiteKey'), 'Arn'] },
      LockConfiguration: Match.objectLike({ MinRetentionDays: 1, ChangeableForDays: 3 }),
      AccessPolicy: { Version: '2012-10-17', Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyRecoveryPointDeletionExceptBreakGlass', Effect: 'Deny' })]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/backup-dr-pro' });
    expect(output(t, 'SiteVaultArn')).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SiteVault/), 'BackupVaultArn'] });
    expect(output(t, 'SiteVaultName')).toBe('backup-dr-pro-vault');
    expect(output(t, 'SiteKeyArn')).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SiteKey/), 'Arn'] });
    expect(output(t, 'SiteKeyAliasArn')).toBe('arn:aws:kms:eu-central-1:111111111111:alias/backup-dr-pro');
    expect(output(t, 'SiteRegion')).toBe('eu-central-1');
    t.resourceCountIs('AWS::S3::Bucket', 0);
  });

  test('DEV sites are not locked; a same-account site has no cross-account statements', () => {
    const stack = drStack();
    new DrSecondarySite(stack, 'Site', { environment: DEV, siteName: 'orders-dr-dev' });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Backup::BackupVault', { BackupVaultName: 'orders-dr-dev-vault', LockConfiguration: Match.absent() });
    expect(JSON.stringify(t.toJSON())).not.toContain('CopyIntoBackupVault');
  });

  test('cross-account: vault and key policies allow the source accounts, through AWS Backup and S3 in the DR region only', () => {
    const stack = drStack(DR_OTHER_ACCOUNT);
    new DrSecondarySite(stack, 'Site', { environment: PRO, sourceAccounts: ['111111111111', '333333333333'] });
    const t = synthTemplate(stack);
    const principals = {
      AWS: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:root']] },
      ],
    };
    t.hasResourceProperties('AWS::Backup::BackupVault', {
      AccessPolicy: {
        Statement: Match.arrayWith([{
          Sid: 'AllowCopyIntoVaultFromSourceAccounts', Effect: 'Allow', Principal: principals, Action: 'backup:CopyIntoBackupVault', Resource: '*',
        }]),
      },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowSourceAccountsBackupAndReplication',
            Principal: principals,
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
            Condition: { StringEquals: { 'kms:ViaService': ['backup.eu-central-1.amazonaws.com', 's3.eu-central-1.amazonaws.com'] } },
          }),
          Match.objectLike({
            Sid: 'AllowSourceAccountsServiceGrants',
            Principal: principals,
            Action: 'kms:CreateGrant',
            Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
          }),
        ]),
      },
    });
  });

  test('cross-account by organization: aws:PrincipalOrgID conditions on vault and key', () => {
    const stack = drStack(DR_OTHER_ACCOUNT);
    new DrSecondarySite(stack, 'Site', { environment: PRO, organizationId: 'o-abcdef1234' });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Backup::BackupVault', {
      AccessPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AllowCopyIntoVaultFromSourceAccounts',
          Principal: { AWS: '*' },
          Action: 'backup:CopyIntoBackupVault',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdef1234' } },
        })]),
      },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AllowSourceAccountsBackupAndReplication',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdef1234', 'kms:ViaService': Match.anyValue() } },
        })]),
      },
    });
  });

  test('replica buckets on demand: KMS with the site key, versioned, TLS-only, private, the primary lifecycle, access logs, outputs', () => {
    const stack = drStack();
    const site = new DrSecondarySite(stack, 'Site', { environment: PRO });
    const lifecycleRules: s3.LifecycleRule[] = [{ id: 'Archive', transitions: [{ storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(90) }] }];
    const a = site.replicaBucket({ archiveName: 'orders', content: BackupContent.HISTORICAL_DATA, lifecycleRules });
    const again = site.replicaBucket({ archiveName: 'orders', content: BackupContent.HISTORICAL_DATA });
    expect(again).toEqual(a);
    expect(a).toEqual({
      bucketName: 'backup-dr-pro-orders-111111111111-eu-central-1',
      bucketArn: 'arn:aws:s3:::backup-dr-pro-orders-111111111111-eu-central-1',
      encryptionKeyArn: 'arn:aws:kms:eu-central-1:111111111111:alias/backup-dr-pro',
    });
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::S3::Bucket', 2); // the replica and the site's access-log bucket
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'backup-dr-pro-orders-111111111111-eu-central-1',
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('SiteKey'), 'Arn'] } },
        }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'Archive', Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 90 }] })] },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('SiteReplicaAccessLogs') }, LogFilePrefix: 'orders/' },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(output(t, 'SiteReplicaordersName')).toEqual({ Ref: expect.stringMatching(/^SiteReplicaorders/) });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('SiteReplicaAccessLogs') },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('SiteReplicaorders'), 'Arn'] } }, StringEquals: { 'aws:SourceAccount': '111111111111' } },
        })]),
      },
    });
  });

  test('cross-account replica buckets let the source accounts replicate into them', () => {
    const stack = drStack(DR_OTHER_ACCOUNT);
    const site = new DrSecondarySite(stack, 'Site', { environment: PRO, sourceAccounts: ['111111111111'] });
    site.replicaBucket({ archiveName: 'orders', content: BackupContent.CURRENT_DATA });
    synthTemplate(stack).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AllowReplicationFromSourceAccounts',
          Action: ['s3:ObjectOwnerOverrideToBucketOwner', 's3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags'],
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] } },
        })]),
      },
    });
  });

  test('logically air-gapped vault with the site key, retention range, deny-delete policy, output', () => {
    const stack = drStack();
    const site = new DrSecondarySite(stack, 'Site', { environment: PRO, logicallyAirGapped: true, airGappedMaxRetention: Duration.days(400) });
    expect(site.airGappedVaultArn).toBe('arn:aws:backup:eu-central-1:111111111111:backup-vault:backup-dr-pro-airgapped');
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Backup::LogicallyAirGappedBackupVault', {
      BackupVaultName: 'backup-dr-pro-airgapped',
      MinRetentionDays: 7,
      MaxRetentionDays: 400,
      EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SiteKey'), 'Arn'] },
      AccessPolicy: { Statement: [Match.objectLike({ Sid: 'DenyRecoveryPointDeletion', Effect: 'Deny' })] },
    });
    expect(output(t, 'SiteAirGappedVaultArn')).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SiteAirGappedVault/), 'BackupVaultArn'] });
  });

  test('a literal key ARN replaces the alias ARN given to primary stacks', () => {
    const stack = drStack(DR_OTHER_ACCOUNT);
    const arn = 'arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const site = new DrSecondarySite(stack, 'Site', {
      environment: PRO, sourceAccounts: ['111111111111'], encryptionKey: kms.Key.fromKeyArn(stack, 'Key', arn), encryptionKeyArn: arn,
    });
    expect(site.encryptionKeyArn).toBe(arn);
  });

  test('fromSiteAttributes: deterministic names, nothing created', () => {
    const stack = new Stack(new App({ context: TEST_CONTEXT }), 'Primary', { env: PRIMARY });
    const site = DrSecondarySite.fromSiteAttributes(stack, 'Site', {
      siteName: 'orders-dr', region: 'eu-central-1', account: '222222222222', environment: PRO, strategy: DrStrategy.PILOT_LIGHT,
    });
    expect(site.vaultArn).toBe('arn:aws:backup:eu-central-1:222222222222:backup-vault:orders-dr-vault');
    expect(site.encryptionKeyArn).toBe('arn:aws:kms:eu-central-1:222222222222:alias/orders-dr');
    expect(site.replicaBucket({ archiveName: 'docs', content: BackupContent.DOCUMENTATION }).bucketName).toBe('orders-dr-docs-222222222222-eu-central-1');
    expect(site.strategy).toBe(DrStrategy.PILOT_LIGHT);
    expect(stack.node.findAll().filter((c) => c instanceof CfnResource)).toEqual([]);
    const cn = DrSecondarySite.fromSiteAttributes(stack, 'Cn', { siteName: 'orders-dr', region: 'cn-north-1', account: '222222222222', environment: PRO });
    expect(cn.vaultArn).toBe('arn:aws-cn:backup:cn-north-1:222222222222:backup-vault:orders-dr-vault');
  });

  test('reports the declared strategy, or the cheapest meeting every workload, as info annotation and metadata', () => {
    const app = new App({ context: TEST_CONTEXT });
    const site = new DrSecondarySite(drStack(DR, app), 'Site', { environment: PRO });
    const primary = new Stack(app, 'Primary', { env: PRIMARY });
    new sns.Topic(primary, 'Something');
    wireDrSite(new Construct(primary, 'Orders'), { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, resourceType: DrResourceType.DYNAMODB_TABLE });
    wireDrSite(new Construct(primary, 'Hot'), {
      drSite: site, environment: PRO, objectives: { rpo: Duration.minutes(15), rto: Duration.hours(1) }, resourceType: DrResourceType.DYNAMODB_TABLE,
    });
    app.synth();
    Annotations.fromStack(site.node.scope as Stack).hasInfo('/Dr/Site', Match.stringLikeRegexp(
      '^DR strategy WARM_STANDBY \\(cheapest strategy meeting every workload\'s objectives\\) for 2 workload\\(s\\): Primary/Orders'));
    const meta = site.node.metadata.find((m) => m.type === DR_SITE_METADATA_TYPE)!.data;
    expect(meta).toMatchObject({
      siteName: 'backup-dr-pro',
      strategy: 'WARM_STANDBY',
      strategyDeclared: false,
      workloads: [
        { path: 'Primary/Orders', resourceType: 'DYNAMODB_TABLE', rpo: '1 day', rto: '8 hours' },
        { path: 'Primary/Hot', resourceType: 'DYNAMODB_TABLE', rpo: '15 minutes', rto: '1 hour' },
      ],
    });
  });
});

describe('DrSecondarySite refusals', () => {
  test('a DR stack without explicit env', () => {
    const stack = new Stack(new App({ context: TEST_CONTEXT }), 'Dr');
    expect(() => new DrSecondarySite(stack, 'Site', { environment: PRO }))
      .toThrow(/\[Dr\/Site\] the stack Dr of the DR site has no explicit env \(region \{"Ref":"AWS::Region"\}, account \{"Ref":"AWS::AccountId"\}\): primary stacks derive the vault, key and bucket names from them; give the stack env: \{ account: '<12 digits>', region: '<DR region>' \}/);
  });

  test.each([
    ['siteName', { siteName: 'Orders_DR' }, /\[Dr\/Site\] siteName is "Orders_DR", but it must be a literal of 3–24 lower-case letters/],
    ['sourceAccounts', { sourceAccounts: ['1234'] }, /\[Dr\/Site\] sourceAccounts contains "1234", which is not a 12-digit account ID/],
    ['organizationId', { organizationId: 'org-1' }, /\[Dr\/Site\] organizationId is "org-1", which is not an AWS Organizations ID/],
    ['airGappedMinRetention', { logicallyAirGapped: true, airGappedMinRetention: Duration.days(1) }, /airGappedMinRetention \(days\) is 1, but must be between 7 and 36500/],
    ['airGapped options without the vault', { airGappedMaxRetention: Duration.days(30) }, /airGappedMinRetention\/airGappedMaxRetention are set but logicallyAirGapped is not/],
    ['encryptionKeyArn not a literal ARN', { encryptionKeyArn: 'alias/mine' }, /encryptionKeyArn is "alias\/mine"; primary stacks need a literal ARN of a key/],
    ['encryptionKeyArn of another region', { encryptionKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/k' },
      /in the site's region and account \(arn:aws:kms:eu-central-1:111111111111:key\/<id>\)/],
  ])('bad %s', (_name, props, message) => {
    expect(() => new DrSecondarySite(drStack(), 'Site', { environment: PRO, ...props })).toThrow(message);
  });

  test('replica bucket names: too long, bad archive name, content clash', () => {
    const site = new DrSecondarySite(drStack(), 'Site', { environment: PRO });
    expect(() => site.replicaBucketName('a'.repeat(30)))
      .toThrow(/replica bucket name "backup-dr-pro-a+-111111111111-eu-central-1" has 70 characters but S3 allows 63; shorten the archive name/);
    expect(() => site.replicaBucketName('Orders')).toThrow(/archiveName "Orders" is not a literal of lower-case letters, digits and hyphens/);
    site.replicaBucket({ archiveName: 'orders', content: BackupContent.CODE });
    expect(() => site.replicaBucket({ archiveName: 'orders', content: BackupContent.HISTORICAL_DATA }))
      .toThrow(/\[Dr\/Site\] replica bucket "orders" already holds Code, so it cannot also replicate Historical data; give each primary archive its own archiveName/);
  });
});

describe('wiring refusals (every construct runs them)', () => {
  function setup(siteEnv = DR, siteProps: Partial<ConstructorParameters<typeof DrSecondarySite>[2]> = {}, primaryEnv: any = PRIMARY) {
    const app = new App({ context: TEST_CONTEXT });
    const site = new DrSecondarySite(drStack(siteEnv, app), 'Site', { environment: PRO, ...siteProps });
    const primary = new Stack(app, 'Primary', { env: primaryEnv ?? undefined });
    return { site, scope: new Construct(primary, 'Orders') };
  }
  const wire = (scope: Construct, site: DrSecondarySite, environment = PRO, objectives = RecoveryTier.STANDARD,
    resourceType = DrResourceType.DYNAMODB_TABLE) =>
    wireDrSite(scope, { drSite: site, environment, objectives, resourceType });

  test('a DR site in the primary region', () => {
    const { site, scope } = setup({ ...DR, region: 'eu-west-1' });
    expect(() => wire(scope, site)).toThrow(/drSite: the DR site Dr\/Site is in eu-west-1, the region of the protected resources.*deploy the DrSecondarySite in a stack of another region/);
  });

  test('a primary stack without explicit env', () => {
    const { site, scope } = setup(DR, {}, null);
    expect(() => wire(scope, site)).toThrow(/drSite: stack Primary has no explicit env .*give the stack env: \{ account, region \}/);
  });

  test('an environment mismatch (a DEV site for PRO data, and a PRO site for QA data)', () => {
    const dev = setup(DR, { environment: DEV });
    expect(() => wire(dev.scope, dev.site, PRO)).toThrow(/drSite: the DR site Dr\/Site serves Dev, but this data is Pro.*environment: DeploymentEnvironment\.PRO/);
    const pro = setup();
    expect(() => wire(pro.scope, pro.site, QA)).toThrow(/serves Pro, but this data is QA.*DeploymentEnvironment\.QA/);
  });

  test('cross-account without sourceAccounts or organizationId, or without this account', () => {
    const none = setup(DR_OTHER_ACCOUNT);
    expect(() => wire(none.scope, none.site)).toThrow(
      /drSite: the DR site Dr\/Site is in account 222222222222 and does not accept copies from account 111111111111 \(sourceAccounts: \[\], no organizationId\); add '111111111111' to the site's sourceAccounts or set its organizationId/);
    const other = setup(DR_OTHER_ACCOUNT, { sourceAccounts: ['333333333333'] });
    expect(() => wire(other.scope, other.site)).toThrow(/sourceAccounts: \["333333333333"\]/);
    const ok = setup(DR_OTHER_ACCOUNT, { organizationId: 'o-abcdef1234' });
    expect(wire(ok.scope, ok.site).crossAccount).toBe(true);
  });

  test('objectives the declared strategy cannot meet name the bound and the strategies that would', () => {
    const { site, scope } = setup(DR, { strategy: DrStrategy.PILOT_LIGHT });
    expect(() => wire(scope, site, PRO, { rpo: Duration.minutes(15), rto: Duration.hours(1) }))
      .toThrow(/drSite: objectives\.rpo 15 minutes \(bound 3 hours\) and objectives\.rto 1 hour \(bound 4 hours\) of Primary\/Orders \(DynamoDB tables\) cannot be met by strategy PILOT_LIGHT: .*strategies that would: WARM_STANDBY, MULTI_SITE/);
  });

  test('objectives no strategy meets say what to build instead', () => {
    const { site, scope } = setup();
    expect(() => wire(scope, site, PRO, { rpo: Duration.minutes(15), rto: Duration.hours(1) }, DrResourceType.AURORA_CLUSTER))
      .toThrow(/cannot be met by strategy any \(best: MULTI_SITE\).*no strategy the library builds meets them; run an Aurora global database/);
  });
});

describe('plan registry with a real site', () => {
  test('copy actions go to the DR vault (and the air-gapped vault when retention fits); the source vault key is shared cross-account', () => {
    const app = new App({ context: TEST_CONTEXT });
    const site = new DrSecondarySite(drStack(DR_OTHER_ACCOUNT, app), 'Site', {
      environment: PRO, sourceAccounts: ['111111111111'], logicallyAirGapped: true, airGappedMaxRetention: Duration.days(400),
    });
    const primary = new Stack(app, 'Primary', { env: PRIMARY });
    const vault = RecoveryVault.forStack(primary, PRO);
    BackupPlanRegistry.of(primary).protect({
      vault,
      drSite: site,
      policy: BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: PRO, coldStorageSupported: true }),
      resourceArns: ['arn:aws:dynamodb:eu-west-1:111111111111:table/t'],
      resourceType: ProtectedResourceType.DYNAMODB,
    });
    const t = synthTemplate(primary);
    const rules = (Object.values(t.findResources('AWS::Backup::BackupPlan'))[0] as any).Properties.BackupPlan.BackupPlanRule;
    const dr = 'arn:aws:backup:eu-central-1:222222222222:backup-vault:backup-dr-pro-vault';
    const lag = 'arn:aws:backup:eu-central-1:222222222222:backup-vault:backup-dr-pro-airgapped';
    expect(rules.map((r: any) => [r.RuleName, r.CopyActions])).toEqual([
      ['RoutineEvery12h', [{ DestinationBackupVaultArn: dr, Lifecycle: { DeleteAfterDays: 35 } }, { DestinationBackupVaultArn: lag, Lifecycle: { DeleteAfterDays: 35 } }]],
      ['MonthlySample', [{ DestinationBackupVaultArn: dr, Lifecycle: { DeleteAfterDays: 365, MoveToColdStorageAfterDays: 30 } },
        { DestinationBackupVaultArn: lag, Lifecycle: { DeleteAfterDays: 365 } }]],
      ['YearlySample', [{ DestinationBackupVaultArn: dr, Lifecycle: { DeleteAfterDays: 2555, MoveToColdStorageAfterDays: 90 } }]],
    ]);
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowDrAccount222222222222ToCopy',
            Action: ['kms:Decrypt', 'kms:DescribeKey'],
            Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:root']] } },
          }),
          Match.objectLike({ Sid: 'AllowDrAccount222222222222ServiceGrants', Action: 'kms:CreateGrant', Condition: { Bool: { 'kms:GrantIsForAWSResource': true } } }),
        ]),
      },
    });
    // Nothing in the primary stack references the DR stack.
    expect(primary.dependencies).toEqual([]);
  });

  test('an imported vault key cannot be shared: a warning says what to add', () => {
    const app = new App({ context: TEST_CONTEXT });
    const primary = new Stack(app, 'Primary', { env: PRIMARY });
    const site = DrSecondarySite.fromSiteAttributes(primary, 'Site', { siteName: 'orders-dr', region: 'eu-central-1', account: '222222222222', environment: PRO, sourceAccounts: ['111111111111'] });
    const vault = RecoveryVault.fromVaultAttributes(primary, 'Vault', { backupVaultName: 'shared', environment: PRO });
    BackupPlanRegistry.of(primary).protect({
      vault,
      drSite: site,
      policy: BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: PRO }),
      resourceArns: ['arn:aws:dynamodb:eu-west-1:111111111111:table/t'],
      resourceType: ProtectedResourceType.DYNAMODB,
    });
    Annotations.fromStack(primary).hasWarning('/Primary/Vault', Match.stringLikeRegexp('allow arn:aws:iam::222222222222:root kms:Decrypt'));
  });

  test('breakGlassRole reaches the DR vault policy', () => {
    const stack = drStack();
    const role = new iam.Role(stack, 'BreakGlass', { assumedBy: new iam.AccountRootPrincipal() });
    new DrSecondarySite(stack, 'Site', { environment: PRO, breakGlassRole: role });
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupVault', {
      AccessPolicy: { Statement: Match.arrayWith([Match.objectLike({ Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('BreakGlass'), 'Arn'] } } } })]) },
    });
  });
});
