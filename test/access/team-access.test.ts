import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, BackupPlanRegistry, DeploymentEnvironment, RecoveryVault, Team, TeamAccess } from '../../src';
import { BackupGrantTarget } from '../../src/access/team-access';
import { synthTemplate, testStack } from '../support/app';

const { PRO, QA, DEV } = DeploymentEnvironment;

/** A grant target on the stack's vault of `environment`, with the stack's backup role. */
function targetFor(stack: Stack, environment: DeploymentEnvironment): BackupGrantTarget {
  const vault = RecoveryVault.forStack(stack, environment);
  return { scope: stack, vaultArn: vault.backupVault.backupVaultArn, environment, serviceRole: BackupPlanRegistry.of(stack).role };
}

/** Grants `access` on a fresh vault of `environment` and returns the grantee's policy statements. */
function statementsFor(make: (role: iam.IGrantable) => TeamAccess, environment = PRO): any[] {
  const stack = testStack();
  const role = new iam.Role(stack, 'Team', { assumedBy: new iam.AccountRootPrincipal() });
  make(role).grantBackups(targetFor(stack, environment));
  const policies = synthTemplate(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat()).sort();
const withAction = (statements: any[], action: string) => statements.find((x) => [x.Action].flat().includes(action));
const envCondition = (environment: string) => ({ StringEquals: { 'aws:ResourceTag/cdk-backup-dr:environment': environment } });

describe('TeamAccess', () => {
  test('VIEW: describe/list only; vault actions on the vault ARN, recovery point actions on the environment\'s recovery points', () => {
    const s = statementsFor((r) => TeamAccess.product(r));
    const actions = actionsOf(s);
    expect(actions.every((a) => /^backup:(Describe|List|Get)/.test(a))).toBe(true);
    expect(actions).not.toContain('backup:StartRestoreJob');
    expect(actions).not.toContain('iam:PassRole');
    expect(withAction(s, 'backup:ListRecoveryPointsByBackupVault').Resource)
      .toEqual({ 'Fn::GetAtt': [expect.stringMatching(/BackupDrVaultPro/), 'BackupVaultArn'] });
    // GetRecoveryPointRestoreMetadata acts on recovery points, not on the vault (Service Authorization Reference).
    const rp = withAction(s, 'backup:DescribeRecoveryPoint');
    expect([rp.Action].flat()).toEqual(expect.arrayContaining(['backup:GetRecoveryPointRestoreMetadata', 'backup:ListTags']));
    expect(rp.Condition).toEqual(envCondition('Pro'));
    expect(withAction(s, 'backup:GetBackupPlan').Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':backup:eu-west-1:111111111111:backup-plan:*']] });
    // Only AWS Backup's list APIs, which have no resource-level permissions, use "*".
    const star = s.filter((x) => x.Resource === '*');
    expect(actionsOf(star).every((a) => /^backup:(List|Describe)/.test(a))).toBe(true);
    expect(actionsOf(star)).not.toContain('backup:DescribeRecoveryPoint');
  });

  test('RESTORE: VIEW + StartRestoreJob on the environment\'s recovery points + PassRole of the backup role to AWS Backup only', () => {
    const s = statementsFor((r) => TeamAccess.sre(r));
    const restore = withAction(s, 'backup:StartRestoreJob');
    expect(restore.Condition).toEqual(envCondition('Pro'));
    expect(JSON.stringify(restore.Resource)).toContain(':recovery-point:*');
    expect(restore.Resource).not.toEqual('*');
    expect(s).toContainEqual(expect.objectContaining({
      Action: 'iam:PassRole',
      Condition: { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } },
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/BackupDrPlanRegistryServiceRole/), 'Arn'] },
    }));
    expect(actionsOf(s)).not.toContain('backup:StartBackupJob');
  });

  test('ADMIN: RESTORE + on-demand backups and vault administration on the vault, copies of the environment\'s recovery points', () => {
    const s = statementsFor((r) => TeamAccess.sre(r, AccessLevel.ADMIN), DEV);
    expect(withAction(s, 'backup:StartBackupJob').Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/BackupDrVaultDev/), 'BackupVaultArn'] });
    expect(withAction(s, 'backup:TagResource').Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/BackupDrVaultDev/), 'BackupVaultArn'] });
    // StartCopyJob acts on the source recovery point: scoped by its environment tag.
    expect(withAction(s, 'backup:StartCopyJob').Condition).toEqual(envCondition('Dev'));
    expect(actionsOf(s)).toEqual(expect.arrayContaining(['backup:PutBackupVaultNotifications', 'backup:StopBackupJob']));
  });

  test.each([AccessLevel.VIEW, AccessLevel.RESTORE, AccessLevel.ADMIN])('%s never allows deleting recovery points, vaults or plans', (level) => {
    const actions = actionsOf(statementsFor((r) => TeamAccess.sre(r, level)));
    expect(actions.filter((a) => /Delete(RecoveryPoint|BackupVault$|BackupPlan)|UpdateRecoveryPointLifecycle|backup:\*/.test(a))).toEqual([]);
  });

  test.each<[string, (g: iam.IGrantable) => TeamAccess, DeploymentEnvironment, AccessLevel]>([
    ['SRE', (g) => TeamAccess.sre(g), PRO, AccessLevel.RESTORE],
    ['Product', (g) => TeamAccess.product(g), PRO, AccessLevel.VIEW],
    ['PO', (g) => TeamAccess.productOwner(g), DEV, AccessLevel.VIEW],
    ['Development in Pro', (g) => TeamAccess.development(g), PRO, AccessLevel.VIEW],
    ['Development in QA', (g) => TeamAccess.development(g), QA, AccessLevel.RESTORE],
    ['Development in Dev', (g) => TeamAccess.development(g), DEV, AccessLevel.RESTORE],
    ['an explicit level', (g) => TeamAccess.product(g, AccessLevel.RESTORE), PRO, AccessLevel.RESTORE],
  ])('default level: %s', (_name, make, environment, level) => {
    expect(make(new iam.AnyPrincipal()).levelFor(environment)).toBe(level);
  });

  test('teams are named as in the policy', () => {
    const p = new iam.AnyPrincipal();
    expect([TeamAccess.sre(p), TeamAccess.product(p), TeamAccess.productOwner(p), TeamAccess.development(p)].map((a) => a.team))
      .toEqual([Team.SRE, Team.PRODUCT, Team.PRODUCT_OWNER, Team.DEVELOPMENT]);
  });

  test.each([AccessLevel.RESTORE, AccessLevel.ADMIN])('Development cannot %s production backups', (level) => {
    expect(() => TeamAccess.development(new iam.AnyPrincipal(), level).levelFor(PRO))
      .toThrow(new RegExp(`TeamAccess.development\\(..., AccessLevel.${level}\\) on a PRO workload; Development may only VIEW`));
    expect(TeamAccess.development(new iam.AnyPrincipal(), level).levelFor(QA)).toBe(level);
  });

  test('Development VIEW in Pro grants no restore', () => {
    expect(actionsOf(statementsFor((r) => TeamAccess.development(r), PRO))).not.toContain('backup:StartRestoreJob');
    expect(actionsOf(statementsFor((r) => TeamAccess.development(r), DEV))).toContain('backup:StartRestoreJob');
  });

  test('RESTORE without a service role to pass is an error', () => {
    const stack = testStack();
    const { serviceRole: _, ...target } = targetFor(stack, DEV);
    expect(() => TeamAccess.sre(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() })).grantBackups(target))
      .toThrow(/SRE needs a backup service role to pass for restores/);
  });

  test('grant returns an iam.Grant applied to the principal', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = TeamAccess.product(role).grantBackups(targetFor(stack, DEV));
    expect(grant.success).toBe(true);
    expect(grant.principalStatements.length).toBeGreaterThan(0);
    synthTemplate(stack).hasResourceProperties('AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^R') }] });
  });

  test('account, Region and the vault ARN come from the target (a vault of another stack of the account)', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    TeamAccess.product(role).grantBackups({
      scope: stack,
      vaultArn: 'arn:aws:backup:eu-central-1:111111111111:backup-vault:shared-dev',
      environment: DEV,
      region: 'eu-central-1',
    });
    const s = Object.values(synthTemplate(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(withAction(s, 'backup:DescribeBackupVault').Resource).toBe('arn:aws:backup:eu-central-1:111111111111:backup-vault:shared-dev');
    expect(JSON.stringify(withAction(s, 'backup:DescribeRecoveryPoint').Resource)).toContain(':backup:eu-central-1:111111111111:recovery-point:*');
  });

  describe('bad input is a clear error', () => {
    test.each([undefined, null, 'arn:aws:iam::111111111111:role/Sre', {}])('grantee %p', (grantee) => {
      expect(() => TeamAccess.sre(grantee as any)).toThrow(/TeamAccess.sre\(grantee\) got .* as grantee; pass the role, user or group of the team \(an iam.IGrantable/);
    });

    test('a grant target without a scope (the shape of earlier versions) names what is missing', () => {
      const stack = testStack();
      const vault = RecoveryVault.forStack(stack, DEV);
      expect(() => TeamAccess.product(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() })).grantBackups({ vault, environment: DEV } as any))
        .toThrow(/TeamAccess.product\(\.\.\.\).grantBackups\(target\) needs target.scope; pass \{ scope, vaultArn, environment, serviceRole \}/);
    });

    test('an unknown level string', () => {
      expect(() => TeamAccess.product(new iam.AnyPrincipal(), 'OWNER' as any))
        .toThrow(/TeamAccess.product\(\.\.\., "OWNER"\) is not an AccessLevel; use AccessLevel.VIEW, AccessLevel.RESTORE or AccessLevel.ADMIN/);
    });

    test('accepted edge case: a level given as its string value', () => {
      expect(TeamAccess.product(new iam.AnyPrincipal(), 'RESTORE' as AccessLevel).levelFor(PRO)).toBe(AccessLevel.RESTORE);
    });
  });

  describe('grantees outside this app\'s reach are never dropped silently', () => {
    test.each<[string, (s: Stack) => iam.IGrantable]>([
      ['a role of another account', (s) => iam.Role.fromRoleArn(s, 'Other', 'arn:aws:iam::222222222222:role/Sre')],
      ['another account', () => new iam.AccountPrincipal('222222222222')],
    ])('%s is refused: AWS Backup rejects cross-account requests whatever the vault policy says', (_name, make) => {
      const stack = testStack();
      expect(() => TeamAccess.sre(make(stack)).grantBackups(targetFor(stack, DEV))).toThrow(new RegExp(
        'is a principal of account 222222222222, but the backups are in account 111111111111. AWS Backup rejects every cross-account ' +
        'request except copies into a vault \\(backup:CopyIntoBackupVault\\).*Grant a role of account 111111111111 that the team assumes'));
    });

    test('accepted edge case: an imported role of this account gets the statements, and a warning to tag it', () => {
      const stack = testStack();
      const role = iam.Role.fromRoleArn(stack, 'Imported', 'arn:aws:iam::111111111111:role/Sre');
      const grant = TeamAccess.sre(role).grantBackups(targetFor(stack, DEV));
      expect(grant.success).toBe(true);
      const t = synthTemplate(stack);
      t.hasResourceProperties('AWS::IAM::Policy', { Roles: ['Sre'] });
      Annotations.fromStack(stack).hasWarning('/TestStack', Match.stringLikeRegexp(
        'TeamAccess.sre\\(TestStack/Imported\\): the access policy of a RecoveryVault of Dev denies .* Tag it cdk-backup-dr:access-Dev=RESTORE'));
    });

    test('a principal without an identity policy (an ARN principal) gets a warning naming what was not attached', () => {
      const stack = testStack();
      const grant = TeamAccess.product(new iam.ArnPrincipal('arn:aws:iam::111111111111:role/Product')).grantBackups(targetFor(stack, DEV));
      expect(grant.success).toBe(false);
      synthTemplate(stack);
      Annotations.fromStack(stack).hasWarning('/TestStack', Match.stringLikeRegexp(
        'TeamAccess.product\\(ArnPrincipal\\(arn:aws:iam::111111111111:role/Product\\)\\): the grantee has no identity policy this app can change'));
    });
  });
});
