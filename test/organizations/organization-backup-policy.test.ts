import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { BackupContent, BackupPolicyDerivation, DeploymentEnvironment, RecoveryTier } from '../../src/core';
import { DrSecondarySite } from '../../src/dr';
import { ChildPolicyControl, MAX_BACKUP_POLICY_CHARACTERS, OrganizationBackupPolicy, OrganizationBackupPolicyProps } from '../../src/organizations';
import { synthTemplate, testStack } from '../support/app';

const BASE: OrganizationBackupPolicyProps = {
  objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO, targetIds: ['ou-ab12-cdef3456'], copyToRegion: 'eu-central-1',
};

function policy(props: Partial<OrganizationBackupPolicyProps> = {}) {
  const stack = testStack();
  const p = new OrganizationBackupPolicy(stack, 'OrgPolicy', { ...BASE, ...props });
  return { stack, p, template: synthTemplate(stack) };
}

/** The effective-policy view of a document: drops child control operators and unwraps @@assign. */
function effective(node: any): any {
  if (Array.isArray(node) || node === null || typeof node !== 'object') return node;
  if ('@@assign' in node) return node['@@assign'];
  return Object.fromEntries(Object.entries(node).filter(([k]) => !k.startsWith('@@')).map(([k, v]) => [k, effective(v)]));
}

/** Keys the backup policy syntax documents (Organizations user guide, "Backup policy syntax and examples"). */
const PLAN_KEYS = ['rules', 'regions', 'selections', 'advanced_backup_settings', 'backup_plan_tags', 'scan_settings'];
const RULE_KEYS = ['schedule_expression', 'target_backup_vault_name', 'target_logically_air_gapped_backup_vault_arn', 'start_backup_window_minutes',
  'complete_backup_window_minutes', 'enable_continuous_backup', 'lifecycle', 'copy_actions', 'recovery_point_tags', 'index_actions', 'scan_actions'];
const LIFECYCLE_KEYS = ['move_to_cold_storage_after_days', 'delete_after_days', 'opt_in_to_archive_for_supported_resources'];
const OPERATORS = ['@@assign', '@@append', '@@remove', '@@operators_allowed_for_child_policies'];

describe('OrganizationBackupPolicy', () => {
  test('renders AWS::Organizations::Policy of type BACKUP_POLICY with Content as a JSON object and the target IDs', () => {
    const { template, p } = policy();
    template.hasResourceProperties('AWS::Organizations::Policy', {
      Type: 'BACKUP_POLICY',
      TargetIds: ['ou-ab12-cdef3456'],
      Name: 'cdk-backup-dr-Pro-Currentdata-rpo1440m',
      Content: { plans: Match.objectLike({ '@@operators_allowed_for_child_policies': ['@@append'] }) },
    });
    expect(p.planName).toBe('cdk-backup-dr-Pro-Currentdata-rpo1440m');
  });

  test('rules come from BackupPolicyDerivation.derive, with windows, lifecycle, vault, copy actions and tags', () => {
    const { template } = policy();
    const content = template.findResources('AWS::Organizations::Policy');
    const doc = effective(Object.values<any>(content)[0].Properties.Content);
    const plan = doc.plans['cdk-backup-dr-Pro-Currentdata-rpo1440m'];
    const derived = BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO });
    expect(Object.keys(plan.rules)).toEqual(derived.rules.map((r) => r.ruleName));
    const dr = 'arn:aws:backup:eu-central-1:$account:backup-vault:cdk-backup-dr-pro';
    expect(plan.rules.RoutineEvery12h).toEqual({
      schedule_expression: 'cron(0 0/12 * * ? *)',
      start_backup_window_minutes: '60',
      complete_backup_window_minutes: '720',
      lifecycle: { delete_after_days: '35' },
      target_backup_vault_name: 'cdk-backup-dr-pro',
      recovery_point_tags: { environment: { tag_key: 'cdk-backup-dr:environment', tag_value: 'Pro' } },
      copy_actions: { [dr]: { target_backup_vault_arn: dr, lifecycle: { delete_after_days: '35' } } },
    });
    expect(plan.regions).toEqual(['eu-west-1']);
    expect(plan.selections).toEqual({
      tags: {
        'cdk-backup-dr-Pro-Currentdata-rpo1440m': {
          iam_role_arn: 'arn:aws:iam::$account:role/service-role/AWSBackupDefaultServiceRole',
          tag_key: 'cdk-backup-dr:backup-policy',
          tag_value: ['cdk-backup-dr-Pro-Currentdata-rpo1440m'],
        },
      },
    });
    expect(plan.backup_plan_tags.rpo).toEqual({ tag_key: 'cdk-backup-dr:rpo-minutes', tag_value: '1440' });
  });

  test('the document only uses keys and operators of the documented syntax', () => {
    const variants: Partial<OrganizationBackupPolicyProps>[] = [
      {}, { objectives: RecoveryTier.CRITICAL, windowsVss: true, coldStorageSupported: true },
    ];
    for (const props of variants) {
      const { p } = policy(props);
      const raw = JSON.parse(p.policyDocument);
      const walk = (node: any) => {
        if (!node || typeof node !== 'object' || Array.isArray(node)) return;
        for (const [k, v] of Object.entries(node)) {
          if (k.startsWith('@@')) expect(OPERATORS).toContain(k);
          walk(v);
        }
      };
      walk(raw);
      const doc = effective(raw);
      expect(Object.keys(doc)).toEqual(['plans']);
      for (const plan of Object.values<any>(doc.plans)) {
        for (const k of Object.keys(plan)) expect(PLAN_KEYS).toContain(k);
        for (const k of ['rules', 'regions', 'selections']) expect(plan[k]).toBeDefined();
        for (const rule of Object.values<any>(plan.rules)) {
          for (const k of Object.keys(rule)) expect(RULE_KEYS).toContain(k);
          for (const k of Object.keys(rule.lifecycle)) expect(LIFECYCLE_KEYS).toContain(k);
          expect(Number(rule.start_backup_window_minutes)).toBeGreaterThanOrEqual(60);
          if (rule.lifecycle.move_to_cold_storage_after_days) {
            expect(Number(rule.lifecycle.delete_after_days)).toBeGreaterThanOrEqual(Number(rule.lifecycle.move_to_cold_storage_after_days) + 90);
          }
        }
      }
      expect(p.policyDocument.length).toBeLessThanOrEqual(MAX_BACKUP_POLICY_CHARACTERS);
    }
  });

  test('CRITICAL renders a continuous rule; cold storage and Windows VSS render where asked', () => {
    const { p } = policy({ objectives: RecoveryTier.CRITICAL, windowsVss: true, coldStorageSupported: true });
    const plan = Object.values<any>(effective(JSON.parse(p.policyDocument)).plans)[0];
    expect(plan.rules.Continuous.enable_continuous_backup).toBe(true);
    expect(plan.rules.MonthlySample.lifecycle).toEqual({ delete_after_days: '365', move_to_cold_storage_after_days: '30' });
    expect(plan.advanced_backup_settings).toEqual({ ec2: { windows_vss: 'enabled' } });
  });

  test('child policy control: LOCK_PLAN puts @@none on every node of the plan; LOCK_ALL also on plans; ALLOW_ALL nowhere', () => {
    const count = (control: ChildPolicyControl) => (policy({ childPolicyControl: control }).p.policyDocument.match(/@@none/g) ?? []).length;
    const lockPlan = JSON.parse(policy({ childPolicyControl: ChildPolicyControl.LOCK_PLAN }).p.policyDocument);
    const plan = Object.values<any>(lockPlan.plans).find((v) => !Array.isArray(v));
    expect(plan.rules.RoutineEvery12h.lifecycle.delete_after_days).toEqual({ '@@operators_allowed_for_child_policies': ['@@none'], '@@assign': '35' });
    expect(count(ChildPolicyControl.ALLOW_ALL)).toBe(0);
    expect(count(ChildPolicyControl.LOCK_ALL)).toBe(count(ChildPolicyControl.LOCK_PLAN) + 1);
    expect(policy({ childPolicyControl: ChildPolicyControl.ALLOW_ALL }).p.policyDocument).not.toContain('@@operators_allowed_for_child_policies');
  });

  test('names, vault, role, tag selection, regions, partition and copy ARN props render', () => {
    const { p, template } = policy({
      policyName: 'org-backups',
      planName: 'Orders',
      vaultName: 'central',
      backupRoleName: 'BackupRole',
      tagKey: 'backup',
      tagValue: 'gold',
      regions: ['eu-west-1', 'eu-west-3'],
      partition: 'aws-cn',
      copyToRegion: undefined,
      description: 'orders',
      copyToVaultArn: 'arn:aws-cn:backup:cn-north-1:222222222222:backup-vault:dr',
      content: BackupContent.HISTORICAL_DATA,
    });
    template.hasResourceProperties('AWS::Organizations::Policy', { Name: 'org-backups', Description: 'orders' });
    const plan = effective(JSON.parse(p.policyDocument)).plans.Orders;
    expect(plan.regions).toEqual(['eu-west-1', 'eu-west-3']);
    expect(plan.selections.tags.Orders).toEqual({ iam_role_arn: 'arn:aws-cn:iam::$account:role/BackupRole', tag_key: 'backup', tag_value: ['gold'] });
    expect(Object.keys(plan.rules)).toEqual(['SingleCopy']);
    expect(plan.rules.SingleCopy.target_backup_vault_name).toBe('central');
    expect(Object.keys(plan.rules.SingleCopy.copy_actions)).toEqual(['arn:aws-cn:backup:cn-north-1:222222222222:backup-vault:dr']);
  });

  test('drSite: copies go to the DR site\'s vault; a site of another environment or in a protected region is an error', () => {
    const stack = testStack();
    const site = (region: string, environment = DeploymentEnvironment.PRO) => DrSecondarySite.fromSiteAttributes(stack, `Site${region}${environment}`, {
      siteName: 'dr-site', region, account: '222222222222', environment,
    });
    const central = site('eu-central-1');
    const p = new OrganizationBackupPolicy(stack, 'P', { ...BASE, copyToRegion: undefined, drSite: central });
    const plan = Object.values<any>(effective(JSON.parse(p.policyDocument)).plans)[0];
    const copies = Object.keys(plan.rules.RoutineEvery12h.copy_actions);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^arn:aws:backup:eu-central-1:222222222222:backup-vault:/);
    expect(() => new OrganizationBackupPolicy(stack, 'Q', { ...BASE, copyToRegion: undefined, drSite: site('eu-central-1', DeploymentEnvironment.QA) }))
      .toThrow(/serves QA, but the policy is Pro/);
    expect(() => new OrganizationBackupPolicy(stack, 'R', { ...BASE, copyToRegion: undefined, drSite: site('eu-west-1') })).toThrow(/must leave/);
    expect(() => new OrganizationBackupPolicy(stack, 'S', { ...BASE, drSite: central })).toThrow(/drSite and copyToRegion are all set/);
  });

  test('records an inventory row and warns when PRO has no DR copy', () => {
    const { p, stack } = policy({ copyToRegion: undefined });
    expect(p.node.metadata.find((m) => m.type === 'cdk-backup-dr:catalog')?.data).toMatchObject({ environment: 'Pro', rpo: '1 day' });
    Annotations.fromStack(stack).hasWarning('/TestStack/OrgPolicy', Match.stringLikeRegexp('not copied to a DR site'));
    Template.fromStack(stack).hasResourceProperties('AWS::Organizations::Policy', { Content: Match.not(Match.serializedJson(Match.anyValue())) });
  });

  test.each<[string, Partial<OrganizationBackupPolicyProps>, RegExp]>([
    ['empty targets', { targetIds: [] }, /targetIds is empty/],
    ['bad target', { targetIds: ['ou-x'] }, /targetIds has "ou-x"/],
    ['account id of 11 digits', { targetIds: ['12345678901'] }, /12-digit/],
    ['bad region', { regions: ['Europe'] }, /regions has "Europe"/],
    ['copy into a protected region', { copyToRegion: 'eu-west-1' }, /also one of regions/],
    ['both copy props', { copyToVaultArn: 'arn:aws:backup:eu-central-1:$account:backup-vault:dr' }, /are all set/],
    ['bad vault ARN', { copyToRegion: undefined, copyToVaultArn: 'arn:aws:s3:::bucket' }, /not a backup vault ARN/],
    ['bad plan name', { planName: 'has spaces' }, /planName "has spaces"/],
    ['bad vault name', { vaultName: 'x' }, /vaultName "x"/],
    ['objectives no plan can meet', { objectives: { rpo: Duration.minutes(0), rto: Duration.hours(1) } }, /zero data loss/],
    ['document over 10,000 characters', { tagValue: 'v'.repeat(200), regions: Array.from({ length: 400 }, () => 'eu-west-1') }, /over the Organizations quota of 10000/],
  ])('%s is a synth error naming the construct', (_, props, msg) => {
    expect(() => policy(props)).toThrow(msg);
    expect(() => policy(props)).toThrow(/\[TestStack\/OrgPolicy\]/);
  });
});
