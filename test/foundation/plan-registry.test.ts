import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  BackupCatalogMetadata, BackupContent, BackupPlanRegistry, BackupPolicyDerivation, DeploymentEnvironment,
  ProtectedResourceType, RecoveryTier, RecoveryVault, TeamAccess,
} from '../../src';
import { DrReplicaBucketOptions, IDrSecondarySite } from '../../src/foundation/dr-site';
import { protectWithBackup } from '../../src/foundation/protection';
import { TEST_ENV, synthTemplate, testApp, testStack } from '../support/app';

const { PRO, DEV } = DeploymentEnvironment;
const arns = (n: number, prefix = 'arn:aws:dynamodb:eu-west-1:111111111111:table/t') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function protect(scope: Construct, vault: RecoveryVault, n: number, objectives = RecoveryTier.STANDARD, type = ProtectedResourceType.DYNAMODB) {
  return BackupPlanRegistry.of(scope).protect({
    vault,
    policy: BackupPolicyDerivation.derive({ objectives, environment: vault.environment }),
    resourceArns: arns(n, `arn:aws:dynamodb:eu-west-1:111111111111:table/${scope.node.id}-`),
    resourceType: type,
  });
}

describe('BackupPlanRegistry', () => {
  test('constructs deriving the same rules share one plan; different rules get their own', () => {
    const stack = testStack();
    const vault = RecoveryVault.forStack(stack, PRO);
    const a = protect(new Construct(stack, 'A'), vault, 1);
    const b = protect(new Construct(stack, 'B'), vault, 1, { rpo: Duration.hours(20), rto: Duration.hours(2) });
    const c = protect(new Construct(stack, 'C'), vault, 1, RecoveryTier.ARCHIVE);
    expect(a.plan).toBe(b.plan);
    expect(c.plan).not.toBe(a.plan);
    expect(BackupPlanRegistry.of(stack).planCount).toBe(2);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Backup::BackupPlan', 2);
    t.resourceCountIs('AWS::Backup::BackupSelection', 2);
    t.resourceCountIs('AWS::IAM::Role', 1);
  });

  test('the same rules in another vault get another plan', () => {
    const stack = testStack();
    protect(stack, RecoveryVault.forStack(stack, PRO), 1);
    protect(stack, new RecoveryVault(stack, 'Other', { environment: PRO }), 1);
    Template.fromStack(stack).resourceCountIs('AWS::Backup::BackupPlan', 2);
  });

  test('rules are rendered with explicit windows and lifecycle', () => {
    const stack = testStack();
    protect(stack, RecoveryVault.forStack(stack, PRO), 1, RecoveryTier.CRITICAL, ProtectedResourceType.RDS);
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanName: Match.stringLikeRegexp('^TestStack-BackupDrPlanRegistry-Plan1-'),
        BackupPlanRule: [
          Match.objectLike({ RuleName: 'Continuous', EnableContinuousBackup: true, StartWindowMinutes: 60, CompletionWindowMinutes: 1440, Lifecycle: { DeleteAfterDays: 35 } }),
          Match.objectLike({ RuleName: 'MonthlySample', ScheduleExpression: 'cron(0 4 1 * ? *)', Lifecycle: { DeleteAfterDays: 365 } }),
          Match.objectLike({ RuleName: 'YearlySample', ScheduleExpression: 'cron(0 5 1 1 ? *)', Lifecycle: { DeleteAfterDays: 2555 } }),
        ],
      },
    });
  });

  test('resources are batched in selections of at most 500 ARNs', () => {
    const stack = testStack();
    const vault = RecoveryVault.forStack(stack, DEV);
    protect(new Construct(stack, 'A'), vault, 700);
    protect(new Construct(stack, 'B'), vault, 500);
    const t = synthTemplate(stack);
    const sizes = Object.values(t.findResources('AWS::Backup::BackupSelection')).map((r: any) => r.Properties.BackupSelection.Resources.length);
    expect(sizes).toEqual([500, 500, 200]);
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { SelectionName: 'cdk-backup-dr-3', IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ServiceRole'), 'Arn'] } },
    });
  });

  test('fails clearly past 100 selections of 500 resources per plan', () => {
    const stack = testStack();
    const vault = RecoveryVault.forStack(stack, DEV);
    protect(new Construct(stack, 'A'), vault, 100 * 500);
    expect(() => protect(new Construct(stack, 'B'), vault, 1))
      .toThrow(/already has 100 selections of 500 resources \(the AWS Backup quota\); spread the resources over more stacks/);
  });

  test('one service role per stack with the AWS Backup service policies; S3 policies added once when S3 joins', () => {
    const stack = testStack();
    const vault = RecoveryVault.forStack(stack, DEV);
    protect(new Construct(stack, 'A'), vault, 1, RecoveryTier.STANDARD, ProtectedResourceType.S3);
    protect(new Construct(stack, 'B'), vault, 1, RecoveryTier.ARCHIVE, ProtectedResourceType.S3);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::IAM::Role', 1);
    const role = Object.values(t.findResources('AWS::IAM::Role'))[0] as any;
    const policies = role.Properties.ManagedPolicyArns.map((p: any) => p['Fn::Join'][1][2]);
    expect(policies).toEqual([
      ':iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup',
      ':iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores',
      ':iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup',
      ':iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore',
    ]);
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'backup.amazonaws.com' });
  });

  test('rejects rules the vault lock would refuse', () => {
    const stack = testStack();
    const vault = new RecoveryVault(stack, 'Vault', { environment: PRO, vaultLockOptions: { minRetention: Duration.days(7), maxRetention: Duration.days(400) } });
    expect(() => protect(stack, vault, 1)).toThrow(/rule YearlySample keeps recovery points for 2555 days, but vault TestStack\/Vault is locked to 7–400 days/);
  });

  test('shared vault stack and several resource stacks: references only point to the vault stack', () => {
    const app = testApp();
    const vaultStack = new Stack(app, 'Vaults', { env: TEST_ENV });
    const vault = new RecoveryVault(vaultStack, 'Vault', { environment: PRO });
    const tableStacks = ['Orders', 'Billing'].map((name) => {
      const s = new Stack(app, name, { env: TEST_ENV });
      const table = new dynamodb.TableV2(s, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
      BackupPlanRegistry.of(s).protect({
        vault,
        policy: BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: PRO }),
        resourceArns: [table.tableArn],
        resourceType: ProtectedResourceType.DYNAMODB,
      });
      return s;
    });
    app.synth();
    for (const s of tableStacks) {
      expect(s.dependencies).toEqual([vaultStack]);
      Template.fromStack(s).resourceCountIs('AWS::Backup::BackupPlan', 1);
      Template.fromStack(s).hasResourceProperties('AWS::Backup::BackupPlan', {
        BackupPlan: { BackupPlanRule: Match.arrayWith([Match.objectLike({ TargetBackupVault: { 'Fn::ImportValue': Match.anyValue() } })]) },
      });
    }
    expect(vaultStack.dependencies).toEqual([]);
    expect(JSON.stringify(Template.fromStack(vaultStack).toJSON())).not.toContain('Fn::ImportValue');
  });
});

/** A DR site seen through its interface only (what an imported site offers). */
class FakeSite extends Construct implements IDrSecondarySite {
  public readonly siteName = 'orders-dr';
  public readonly region = 'eu-central-1';
  public readonly account: string;
  public readonly environment: DeploymentEnvironment;
  public readonly vaultName = 'orders-dr-vault';
  public readonly vaultArn: string;
  public readonly encryptionKeyArn: string;
  constructor(scope: Construct, id: string, environment = PRO, account = '111111111111') {
    super(scope, id);
    this.environment = environment;
    this.account = account;
    this.vaultArn = `arn:aws:backup:eu-central-1:${account}:backup-vault:orders-dr-vault`;
    this.encryptionKeyArn = `arn:aws:kms:eu-central-1:${account}:alias/orders-dr`;
  }
  public replicaBucketName(archiveName: string) { return `orders-dr-${archiveName}`; }
  public replicaBucket(o: DrReplicaBucketOptions) {
    return { bucketName: this.replicaBucketName(o.archiveName), bucketArn: '', encryptionKeyArn: this.encryptionKeyArn };
  }
}

describe('BackupPlanRegistry with a DR site', () => {
  function protectTo(scope: Construct, vault: RecoveryVault, site: IDrSecondarySite | undefined,
    objectives = RecoveryTier.STANDARD, coldStorageSupported = false) {
    return BackupPlanRegistry.of(scope).protect({
      vault,
      policy: BackupPolicyDerivation.derive({ objectives, environment: vault.environment, coldStorageSupported }),
      resourceArns: arns(1, `arn:aws:dynamodb:eu-west-1:111111111111:table/${scope.node.id}-`),
      resourceType: ProtectedResourceType.DYNAMODB,
      drSite: site,
    });
  }

  test('every rule copies into the DR vault with the rule\'s lifecycle, cold storage only where the rule has it', () => {
    const stack = testStack();
    const site = new FakeSite(stack, 'Site');
    protectTo(stack, RecoveryVault.forStack(stack, PRO), site, RecoveryTier.STANDARD, true);
    const copy = (lifecycle: object) => [{ DestinationBackupVaultArn: site.vaultArn, Lifecycle: lifecycle }];
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [
          Match.objectLike({ RuleName: 'RoutineEvery12h', CopyActions: copy({ DeleteAfterDays: 35 }) }),
          Match.objectLike({ RuleName: 'MonthlySample', CopyActions: copy({ DeleteAfterDays: 365, MoveToColdStorageAfterDays: 30 }) }),
          Match.objectLike({ RuleName: 'YearlySample', CopyActions: copy({ DeleteAfterDays: 2555, MoveToColdStorageAfterDays: 90 }) }),
        ],
      },
    });
  });

  test('continuous rules copy too (the copy becomes a snapshot) and samples stay warm for types without cold storage', () => {
    const stack = testStack();
    const site = new FakeSite(stack, 'Site');
    protectTo(stack, RecoveryVault.forStack(stack, PRO), site, RecoveryTier.CRITICAL, false);
    const t = synthTemplate(stack);
    const rules = (Object.values(t.findResources('AWS::Backup::BackupPlan'))[0] as any).Properties.BackupPlan.BackupPlanRule;
    expect(rules.map((r: any) => [r.RuleName, r.CopyActions[0].Lifecycle])).toEqual([
      ['Continuous', { DeleteAfterDays: 35 }],
      ['MonthlySample', { DeleteAfterDays: 365 }],
      ['YearlySample', { DeleteAfterDays: 2555 }],
    ]);
  });

  test('retention overrides reach the DR copies', () => {
    const stack = testStack();
    const site = new FakeSite(stack, 'Site', DEV);
    BackupPlanRegistry.of(stack).protect({
      vault: RecoveryVault.forStack(stack, DEV),
      policy: BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: DEV, retention: { routine: Duration.days(10) } }),
      resourceArns: arns(1),
      resourceType: ProtectedResourceType.DYNAMODB,
      drSite: site,
    });
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [Match.objectLike({ CopyActions: [{ DestinationBackupVaultArn: site.vaultArn, Lifecycle: { DeleteAfterDays: 10 } }] })],
      },
    });
  });

  test('every rule carries the environment recovery point tag, with or without a DR site', () => {
    const stack = testStack();
    protectTo(new Construct(stack, 'A'), RecoveryVault.forStack(stack, PRO), undefined);
    protectTo(new Construct(stack, 'B'), RecoveryVault.forStack(stack, DEV), new FakeSite(stack, 'Site', DEV));
    const t = synthTemplate(stack);
    const tags = Object.values(t.findResources('AWS::Backup::BackupPlan'))
      .flatMap((p: any) => p.Properties.BackupPlan.BackupPlanRule.map((r: any) => r.RecoveryPointTags));
    expect(tags).toEqual([
      { 'cdk-backup-dr:environment': 'Pro' }, { 'cdk-backup-dr:environment': 'Pro' }, { 'cdk-backup-dr:environment': 'Pro' },
      { 'cdk-backup-dr:environment': 'Dev' },
    ]);
  });

  test('the DR target is part of the dedup key; many resources to one site add no resources per resource', () => {
    const stack = testStack();
    const vault = RecoveryVault.forStack(stack, PRO);
    const site = new FakeSite(stack, 'Site');
    const other = new FakeSite(stack, 'Other', PRO, '222222222222');
    const plans = Array.from({ length: 50 }, (_, i) => protectTo(new Construct(stack, `T${i}`), vault, site).plan);
    expect(new Set(plans).size).toBe(1);
    const local = protectTo(new Construct(stack, 'Local'), vault, undefined).plan;
    const elsewhere = protectTo(new Construct(stack, 'Elsewhere'), vault, other).plan;
    expect(new Set([plans[0], local, elsewhere]).size).toBe(3);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Backup::BackupPlan', 3);
    t.resourceCountIs('AWS::Backup::BackupSelection', 3);
    t.resourceCountIs('AWS::IAM::Role', 1);
    expect(Object.keys(t.toJSON().Resources).length).toBeLessThan(20);
  });

  test('plans without a DR site have no copy actions', () => {
    const stack = testStack();
    protectTo(stack, RecoveryVault.forStack(stack, PRO), undefined);
    const rules = (Object.values(synthTemplate(stack).findResources('AWS::Backup::BackupPlan'))[0] as any).Properties.BackupPlan.BackupPlanRule;
    expect(rules.every((r: any) => r.CopyActions === undefined)).toBe(true);
  });
});

describe('protectWithBackup', () => {
  test('a PRO workload cannot go to a non-PRO vault', () => {
    const stack = testStack();
    const devVault = RecoveryVault.forStack(stack, DEV);
    expect(() => protectWithBackup(new Construct(stack, 'Orders'), { objectives: RecoveryTier.STANDARD, environment: PRO, vault: devVault }, {
      resourceArns: arns(1), resourceType: ProtectedResourceType.DYNAMODB, supportType: 'test',
    })).toThrow(/\[TestStack\/Orders\] vault: a Dev vault \(TestStack\/BackupDrVaultDev\) cannot hold PRO backups/);
  });

  test('a DEV workload in a PRO vault is allowed with a warning', () => {
    const stack = testStack();
    const proVault = RecoveryVault.forStack(stack, PRO);
    protectWithBackup(new Construct(stack, 'Scratch'), { objectives: RecoveryTier.STANDARD, environment: DEV, vault: proVault }, {
      resourceArns: arns(1), resourceType: ProtectedResourceType.DYNAMODB, supportType: 'test',
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Scratch', Match.stringLikeRegexp('Dev backups are stored in a Pro vault'));
  });

  test('uses the stack vault of the environment, grants access and records the inventory entry', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    const scope = new Construct(stack, 'Orders');
    const result = protectWithBackup(scope, { objectives: RecoveryTier.STANDARD, environment: PRO, access: [TeamAccess.sre(sre)] }, {
      resourceArns: arns(2), resourceType: ProtectedResourceType.DYNAMODB, supportType: 'AWS Backup', content: BackupContent.CURRENT_DATA,
    });
    expect(result.vault).toBe(RecoveryVault.forStack(stack, PRO));
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Sre') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'iam:PassRole' })]) },
    });
    const [entry] = BackupCatalogMetadata.entriesOf(stack.node.root);
    expect(entry).toMatchObject({
      backupName: 'TestStack/Orders',
      content: 'Current data',
      environment: 'Pro',
      supportType: 'AWS Backup',
      periodicity: 'every 12 hours (35 days); monthly sample (365 days); yearly sample (2555 days)',
      rpo: '1 day',
      rto: '8 hours',
    });
    expect(stack.resolve(entry.location)).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(result.vault.backupVault.node.defaultChild as any), 'BackupVaultArn'] });
  });
});

