import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AccessLevel, BackupPlanRegistry, DeploymentEnvironment, RecoveryVault, Team, TeamAccess } from '../../src';
import { synthTemplate, testStack } from '../support/app';

const { PRO, QA, DEV } = DeploymentEnvironment;

/** Grants `access` on a fresh PRO/QA/DEV vault and returns the grantee's policy statements. */
function statementsFor(make: (role: iam.IGrantable) => TeamAccess, environment = PRO): any[] {
  const stack = testStack();
  const role = new iam.Role(stack, 'Team', { assumedBy: new iam.AccountRootPrincipal() });
  const vault = RecoveryVault.forStack(stack, environment);
  make(role).grantBackups({ vault, environment, serviceRole: BackupPlanRegistry.of(stack).role });
  const policies = synthTemplate(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat()).sort();

describe('TeamAccess', () => {
  test('VIEW: describe/list only; vault actions scoped to the vault ARN', () => {
    const s = statementsFor((r) => TeamAccess.product(r));
    const actions = actionsOf(s);
    expect(actions.every((a) => /^backup:(Describe|List|Get)/.test(a))).toBe(true);
    expect(actions).not.toContain('backup:StartRestoreJob');
    expect(actions).not.toContain('iam:PassRole');
    const vaultStatement = s.find((x) => [x.Action].flat().includes('backup:ListRecoveryPointsByBackupVault'));
    expect(vaultStatement.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/BackupDrVaultPro/), 'BackupVaultArn'] });
    // Only AWS Backup's list APIs, which have no resource-level permissions, use "*".
    const star = s.filter((x) => x.Resource === '*');
    expect(actionsOf(star).every((a) => /^backup:(List|Describe|Get)/.test(a))).toBe(true);
  });

  test('RESTORE: VIEW + StartRestoreJob on recovery points + PassRole of the backup role to AWS Backup only', () => {
    const s = statementsFor((r) => TeamAccess.sre(r));
    expect(actionsOf(s)).toContain('backup:StartRestoreJob');
    const restore = s.find((x) => [x.Action].flat().includes('backup:StartRestoreJob'));
    expect(JSON.stringify(restore.Resource)).toContain(':recovery-point:*');
    expect(restore.Resource).not.toEqual('*');
    expect(s).toContainEqual(expect.objectContaining({
      Action: 'iam:PassRole',
      Condition: { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } },
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/BackupDrPlanRegistryServiceRole/), 'Arn'] },
    }));
    expect(actionsOf(s)).not.toContain('backup:StartBackupJob');
  });

  test('ADMIN: RESTORE + on-demand backups and vault administration on the vault', () => {
    const s = statementsFor((r) => TeamAccess.sre(r, AccessLevel.ADMIN));
    const admin = s.find((x) => [x.Action].flat().includes('backup:StartBackupJob'));
    expect(admin.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/BackupDrVaultPro/), 'BackupVaultArn'] });
    expect(actionsOf(s)).toEqual(expect.arrayContaining(['backup:PutBackupVaultNotifications', 'backup:StartCopyJob', 'backup:StopBackupJob']));
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
    const actions = actionsOf(statementsFor((r) => TeamAccess.development(r), PRO));
    expect(actions).not.toContain('backup:StartRestoreJob');
    expect(actionsOf(statementsFor((r) => TeamAccess.development(r), DEV))).toContain('backup:StartRestoreJob');
  });

  test('RESTORE without a service role to pass is an error', () => {
    const stack = testStack();
    const vault = RecoveryVault.forStack(stack, DEV);
    expect(() => TeamAccess.sre(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() })).grantBackups({ vault, environment: DEV }))
      .toThrow(/SRE needs a backup service role to pass for restores/);
  });

  test('grant returns an iam.Grant applied to the principal', () => {
    const stack = testStack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = TeamAccess.product(role).grantBackups({ vault: RecoveryVault.forStack(stack, DEV), environment: DEV });
    expect(grant.success).toBe(true);
    synthTemplate(stack).hasResourceProperties('AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^R') }] });
  });
});
