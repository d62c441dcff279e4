import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { BackupDrModel } from '../backup-dr-model';

const ACTION = 'backup:deleterecoverypoint';

/**
 * Backup vaults have an access policy that denies backup:DeleteRecoveryPoint to every principal (a condition
 * may exempt a break-glass role) and no statement that allows it to every principal.
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    if (node.cfnResourceType !== 'AWS::Backup::BackupVault') return NagRuleCompliance.NOT_APPLICABLE;
    let policy = BackupDrModel.of(node).propertiesOf(node).AccessPolicy;
    if (typeof policy === 'string') policy = JSON.parse(policy);
    const statements: any[] = policy ? [policy.Statement ?? []].flat() : [];
    const denied = statements.some((s) => s.Effect === 'Deny' && everyone(s.Principal) && coversDeletion(s));
    const allowed = statements.some((s) => s.Effect === 'Allow' && everyone(s.Principal) && !s.Condition && coversDeletion(s));
    return denied && !allowed ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);

function everyone(principal: any): boolean {
  if (principal === '*') return true;
  const aws = principal?.AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

function coversDeletion(statement: any): boolean {
  const matches = (list: any) => [list ?? []].flat().some((a: unknown) => typeof a === 'string' && actionGlob(a.toLowerCase()));
  return statement.NotAction ? !matches(statement.NotAction) : matches(statement.Action);
}

function actionGlob(pattern: string): boolean {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(ACTION);
}
