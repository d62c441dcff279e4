import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  AccessLevel, BackupPlanRegistry, DeploymentEnvironment, DynamoPitrBackup, EnvironmentBoundary, RecoveryTier, RecoveryVault, TeamAccess,
} from '../../src';
import { identityAllows, RequestContext, resolveValue, resourcePolicyDenies } from './support/policy-simulator';
import { TEST_CONTEXT, TEST_ENV, synthTemplate, testStack } from '../support/app';

const { PRO, DEV } = DeploymentEnvironment;
const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';

/** One recovery point of every type the library protects, as AWS Backup names them. */
const RECOVERY_POINTS: Record<string, string> = {
  'AWS Backup recovery point (DynamoDB advanced, S3, EFS)': `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45`,
  'S3 continuous recovery point': `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:continuous:s3-archive-bucket-1a2b3c4d`,
  'RDS continuous recovery point': `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:continuous:db-ABCDEFGHIJKLMNOP-1a2b3c4d`,
  'RDS instance snapshot': `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:awsbackup:job-1eb3b5e7-9eb0-435a-a80b-108b488b0d45`,
  'Aurora cluster snapshot': `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:awsbackup:job-1eb3b5e7-9eb0-435a-a80b-108b488b0d45`,
  'DynamoDB backup': `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Orders/backup/01700000000000-1a2b3c4d`,
};
const POINTS = Object.entries(RECOVERY_POINTS);
const READ = ['backup:DescribeRecoveryPoint', 'backup:GetRecoveryPointRestoreMetadata'];
const RESTORE = ['backup:StartRestoreJob', 'backup:StartCopyJob'];

/** A PRO and a DEV workload in one account, as the example app has them, with the four teams. */
function sharedAccount() {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, 'Workloads', { env: TEST_ENV });
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
  const teams = { sre: role('Sre'), development: role('Development'), product: role('Product'), breakGlass: role('BreakGlass') };
  const access = [TeamAccess.sre(teams.sre), TeamAccess.development(teams.development), TeamAccess.product(teams.product)];
  const table = (id: string) => new dynamodb.TableV2(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const proVault = new RecoveryVault(stack, 'ProVault', { environment: PRO, breakGlassRole: teams.breakGlass });
  new DynamoPitrBackup(stack, 'ProOrders', { tables: [table('OrdersTable')], objectives: RecoveryTier.STANDARD, environment: PRO, access, vault: proVault });
  new DynamoPitrBackup(stack, 'DevOrders', { tables: [table('DevOrdersTable')], objectives: RecoveryTier.STANDARD, environment: DEV, access });
  const t = synthTemplate(stack);
  const logicalId = (c: any) => stack.getLogicalId(c.node.defaultChild);
  /** The identity statements attached to a role. */
  const statementsOf = (r: iam.Role) => Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(logicalId(r)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  /** The principal tags a role carries. */
  const tagsOf = (r: iam.Role): Record<string, string> => Object.fromEntries(
    (t.toJSON().Resources[logicalId(r)].Properties.Tags ?? []).map((x: any) => [x.Key, x.Value]));
  const vaultPolicy = (vault: RecoveryVault) => {
    const resource = t.toJSON().Resources[stack.getLogicalId(vault.backupVault.node.defaultChild as any)];
    return resource.Properties.AccessPolicy.Statement;
  };
  return { app, stack, t, teams, proVault, devVault: RecoveryVault.forStack(stack, DEV), statementsOf, tagsOf, vaultPolicy };
}

describe('environment boundary: a DEV grant against PRO recovery points of every resource type', () => {
  const env = sharedAccount();
  const dev = env.statementsOf(env.teams.development);
  const ctx = (action: string, resource: string, environment: string): RequestContext =>
    ({ action, resource, resourceTags: { 'cdk-backup-dr:environment': environment } });

  test.each(POINTS)('identity side, %s: Development (RESTORE in Dev, VIEW in Pro) restores Dev, never Pro', (_type, arn) => {
    expect(identityAllows(dev, ctx('backup:StartRestoreJob', arn, 'Dev'))).toBe(true);
    expect(identityAllows(dev, ctx('backup:StartRestoreJob', arn, 'Pro'))).toBe(false);
    expect(identityAllows(dev, ctx('backup:StartRestoreJob', arn, 'QA'))).toBe(false);
    // An untagged recovery point (e.g. created by hand) belongs to no environment: no access.
    expect(identityAllows(dev, { action: 'backup:StartRestoreJob', resource: arn })).toBe(false);
    // Development may VIEW Pro backups (its Pro grant), and describe Dev ones.
    expect(identityAllows(dev, ctx('backup:DescribeRecoveryPoint', arn, 'Pro'))).toBe(true);
    expect(identityAllows(dev, ctx('backup:DescribeRecoveryPoint', arn, 'QA'))).toBe(false);
  });

  test.each(POINTS)('identity side, %s: a Dev-only grantee cannot even describe Pro recovery points', (_type, arn) => {
    const stack = testStack();
    const role = new iam.Role(stack, 'DevOnly', { assumedBy: new iam.AccountRootPrincipal() });
    const vault = RecoveryVault.forStack(stack, DEV);
    const serviceRole = BackupPlanRegistry.of(stack).role;
    TeamAccess.sre(role).grantBackups({ scope: stack, vaultArn: vault.backupVault.backupVaultArn, environment: DEV, serviceRole });
    const s = Object.values(synthTemplate(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    for (const action of [...READ, ...RESTORE.slice(0, 1), 'backup:ListTags']) {
      expect(identityAllows(s, ctx(action, arn, 'Pro'))).toBe(false);
      expect(identityAllows(s, ctx(action, arn, 'Dev'))).toBe(true);
    }
  });

  test('identity side: no recovery point action of any team is granted without the environment tag condition', () => {
    for (const role of [env.teams.sre, env.teams.development, env.teams.product]) {
      const onRecoveryPoints = env.statementsOf(role).filter((s) => /recovery-point|snapshot:awsbackup|\/backup\//.test(JSON.stringify(resolveValue(s.Resource))));
      expect(onRecoveryPoints.length).toBeGreaterThan(0);
      for (const s of onRecoveryPoints) {
        expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/cdk-backup-dr:environment': expect.stringMatching(/^(Pro|Dev)$/) } });
      }
    }
  });

  test('the plans tag every recovery point with the environment the grants match on', () => {
    const RECOVERY_POINT_ENVIRONMENT_TAG = EnvironmentBoundary.RECOVERY_POINT_TAG;
    const plans = Object.values(env.t.findResources('AWS::Backup::BackupPlan')) as any[];
    const tags = plans.flatMap((p) => p.Properties.BackupPlan.BackupPlanRule.map((r: any) => r.RecoveryPointTags));
    expect(tags.length).toBeGreaterThan(1);
    expect(new Set(tags.map((t) => JSON.stringify(t)))).toEqual(new Set([
      JSON.stringify({ [RECOVERY_POINT_ENVIRONMENT_TAG]: 'Pro' }), JSON.stringify({ [RECOVERY_POINT_ENVIRONMENT_TAG]: 'Dev' }),
    ]));
  });

  test('grantees are tagged with their highest level per environment', () => {
    expect(env.tagsOf(env.teams.development)).toEqual({ 'cdk-backup-dr:access-Pro': 'VIEW', 'cdk-backup-dr:access-Dev': 'RESTORE' });
    expect(env.tagsOf(env.teams.sre)).toEqual({ 'cdk-backup-dr:access-Pro': 'RESTORE', 'cdk-backup-dr:access-Dev': 'RESTORE' });
    expect(env.tagsOf(env.teams.product)).toEqual({ 'cdk-backup-dr:access-Pro': 'VIEW', 'cdk-backup-dr:access-Dev': 'VIEW' });
    // The stack's backup role runs the plans' copy jobs through both vaults.
    const serviceRole = BackupPlanRegistry.of(env.stack).role;
    expect(env.tagsOf(serviceRole)).toEqual({ 'cdk-backup-dr:access-Pro': 'ADMIN', 'cdk-backup-dr:access-Dev': 'ADMIN' });
  });

  describe('vault side: the PRO vault access policy', () => {
    const policy = env.vaultPolicy(env.proVault);
    const principal = (r: iam.Role) => ({
      principalTags: env.tagsOf(r),
      principalArn: `arn:aws:iam::${ACCOUNT}:role/${r.node.id}`,
    });

    test.each(POINTS)('%s: a Dev-only principal (even with a broad IAM policy) can neither read nor restore it', (_type, arn) => {
      const devOnly = { principalTags: { 'cdk-backup-dr:access-Dev': 'ADMIN' }, principalArn: `arn:aws:iam::${ACCOUNT}:role/DevAdmin` };
      for (const action of [...READ, ...RESTORE]) {
        expect(resourcePolicyDenies(policy, { action, resource: arn, ...devOnly })).toBe(true);
      }
      // An untagged administrator is denied too.
      expect(resourcePolicyDenies(policy, { action: 'backup:StartRestoreJob', resource: arn, principalArn: `arn:aws:iam::${ACCOUNT}:role/Admin` })).toBe(true);
    });

    test.each(POINTS)('%s: Pro VIEW reads but cannot restore; Pro RESTORE restores', (_type, arn) => {
      const development = principal(env.teams.development);
      for (const action of READ) expect(resourcePolicyDenies(policy, { action, resource: arn, ...development })).toBe(false);
      for (const action of RESTORE) expect(resourcePolicyDenies(policy, { action, resource: arn, ...development })).toBe(true);
      for (const action of [...READ, ...RESTORE]) {
        expect(resourcePolicyDenies(policy, { action, resource: arn, ...principal(env.teams.sre) })).toBe(false);
      }
    });

    test('AWS services, service-linked roles (AWS Config, Audit Manager) and the break-glass role pass', () => {
      const arn = RECOVERY_POINTS['RDS instance snapshot'];
      expect(resourcePolicyDenies(policy, { action: 'backup:DescribeRecoveryPoint', resource: arn, principalIsAwsService: true })).toBe(false);
      expect(resourcePolicyDenies(policy, {
        action: 'backup:DescribeRecoveryPoint', resource: arn, principalArn: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
      })).toBe(false);
      const breakGlass = `<${env.stack.getLogicalId(env.teams.breakGlass.node.defaultChild as any)}.Arn>`;
      expect(resourcePolicyDenies(policy, { action: 'backup:StartRestoreJob', resource: arn, principalArn: breakGlass })).toBe(false);
    });

    test('statements as rendered', () => {
      expect(policy).toEqual(expect.arrayContaining([
        {
          Sid: 'DenyReadOutsideProAccess',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: ['backup:DescribeRecoveryPoint', 'backup:GetRecoveryPointRestoreMetadata'],
          Resource: '*',
          Condition: {
            StringNotEquals: { 'aws:PrincipalTag/cdk-backup-dr:access-Pro': ['VIEW', 'RESTORE', 'ADMIN'] },
            BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
            ArnNotLike: { 'aws:PrincipalArn': ['arn:*:iam::*:role/aws-service-role/*', { 'Fn::GetAtt': [expect.stringMatching(/^BreakGlass/), 'Arn'] }] },
          },
        },
        expect.objectContaining({
          Sid: 'DenyRestoreOutsideProAccess',
          Action: ['backup:StartRestoreJob', 'backup:StartCopyJob'],
          Condition: expect.objectContaining({ StringNotEquals: { 'aws:PrincipalTag/cdk-backup-dr:access-Pro': ['RESTORE', 'ADMIN'] } }),
        }),
      ]));
    });

    test('the DEV vault admits Dev principals only', () => {
      const devPolicy = env.vaultPolicy(env.devVault);
      const arn = RECOVERY_POINTS['DynamoDB backup'];
      expect(resourcePolicyDenies(devPolicy, { action: 'backup:StartRestoreJob', resource: arn, ...principal(env.teams.development) })).toBe(false);
      expect(resourcePolicyDenies(devPolicy, { action: 'backup:StartRestoreJob', resource: arn, principalTags: { 'cdk-backup-dr:access-Pro': 'ADMIN' } })).toBe(true);
    });
  });

  test('what IAM cannot separate in a shared account is a synth warning naming the fix', () => {
    Annotations.fromStack(env.stack).hasWarning('/Workloads', Match.stringLikeRegexp(
      'the backups of (Pro, Dev|Dev, Pro) share account 111111111111.*AWS Backup\'s job and plan list APIs.*For a hard boundary, deploy each environment to its own AWS account'));
  });
});

describe('EnvironmentBoundary', () => {
  test('one environment per account: no shared-account warning', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    const vault = RecoveryVault.forStack(stack, PRO);
    const serviceRole = BackupPlanRegistry.of(stack).role;
    TeamAccess.sre(role).grantBackups({ scope: stack, vaultArn: vault.backupVault.backupVaultArn, environment: PRO, serviceRole });
    synthTemplate(stack);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cdk-backup-dr:environments-share-account|share account'))).toEqual([]);
  });

  test('environments in two accounts: no warning; in one account across two stacks: both stacks warned', () => {
    const app = new App({ context: TEST_CONTEXT });
    const grant = (id: string, account: string, environment: DeploymentEnvironment) => {
      const stack = new Stack(app, id, { env: { account, region: REGION } });
      const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
      TeamAccess.product(role).grantBackups({ scope: stack, vaultArn: `arn:aws:backup:${REGION}:${account}:backup-vault:v`, environment });
      return stack;
    };
    const pro = grant('Pro', '111111111111', PRO);
    const dev = grant('Dev', '222222222222', DEV);
    const qa = grant('Qa', '111111111111', DeploymentEnvironment.QA);
    app.synth();
    expect(Annotations.fromStack(dev).findWarning('*', Match.stringLikeRegexp('share account'))).toEqual([]);
    for (const stack of [pro, qa]) {
      Annotations.fromStack(stack).hasWarning(`/${stack.stackName}`, Match.stringLikeRegexp('the backups of Pro, QA share account 111111111111'));
    }
  });

  test('allowPrincipal tags roles and users of the app and reports what it cannot tag', () => {
    const stack = testStack();
    const user = new iam.User(stack, 'Auditor');
    expect(EnvironmentBoundary.allowPrincipal(user, PRO, AccessLevel.VIEW)).toBe(true);
    expect(EnvironmentBoundary.allowPrincipal(user, PRO, AccessLevel.ADMIN)).toBe(true);
    expect(EnvironmentBoundary.allowPrincipal(user, PRO, AccessLevel.RESTORE)).toBe(true); // lower: ADMIN stays
    expect(EnvironmentBoundary.allowPrincipal(new iam.Group(stack, 'G'), PRO, AccessLevel.VIEW)).toBe(false);
    expect(EnvironmentBoundary.allowPrincipal(iam.Role.fromRoleArn(stack, 'I', `arn:aws:iam::${ACCOUNT}:role/X`), PRO, AccessLevel.VIEW)).toBe(false);
    expect(EnvironmentBoundary.allowPrincipal(new iam.ServicePrincipal('backup.amazonaws.com'), PRO, AccessLevel.VIEW)).toBe(false);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::User', { Tags: [{ Key: 'cdk-backup-dr:access-Pro', Value: 'ADMIN' }] });
  });

  test('grants on an imported vault warn that its access policy lacks the boundary; a vault of the app does not', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    const table = (id: string) => new dynamodb.TableV2(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const vault = RecoveryVault.fromVaultAttributes(stack, 'Shared', { backupVaultName: 'shared-dev', environment: DEV });
    const access = [TeamAccess.sre(role)];
    new DynamoPitrBackup(stack, 'Imported', { tables: [table('A')], objectives: RecoveryTier.STANDARD, environment: DEV, access, vault });
    new DynamoPitrBackup(stack, 'Own', { tables: [table('B')], objectives: RecoveryTier.STANDARD, environment: DEV, access });
    synthTemplate(stack);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cannot add the environment boundary'));
    expect(warnings.map((w) => w.id)).toEqual(['/TestStack/Imported']);
    expect(warnings[0].entry.data).toMatch(/vault TestStack\/Shared is imported.*Add EnvironmentBoundary.vaultStatements\(DeploymentEnvironment.DEV\) to its access policy/);
  });

  test('vaultStatements renders valid vault access policy actions (no wildcard, which vault policies do not support)', () => {
    const statements = EnvironmentBoundary.vaultStatements(DEV).map((s) => s.toStatementJson());
    expect(statements).toHaveLength(2);
    for (const s of statements) {
      expect([s.Action].flat().every((a: string) => /^backup:[A-Za-z]+$/.test(a))).toBe(true);
      expect(s.Condition.ArnNotLike['aws:PrincipalArn']).toEqual(['arn:*:iam::*:role/aws-service-role/*']);
    }
    expect(EnvironmentBoundary.principalTagKey(DEV)).toBe('cdk-backup-dr:access-Dev');
  });
});
