import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { DeploymentEnvironment } from '../../../core/environment';
import { BackupDrModel } from '../backup-dr-model';

/**
 * Backup plans protecting PRO resources (plan tag `cdk-backup-dr:environment=Pro`, a PRO vault, or a selection
 * of resources tagged environment Pro / recorded PRO by a cdk-backup-dr construct) copy recovery points to a
 * DR site: at least one rule has CopyActions.
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    if (node.cfnResourceType !== 'AWS::Backup::BackupPlan') return NagRuleCompliance.NOT_APPLICABLE;
    const model = BackupDrModel.of(node);
    if (model.planEnvironment(node) !== DeploymentEnvironment.PRO) return NagRuleCompliance.NOT_APPLICABLE;
    return model.planRules(node).some((r) => r.copyActions > 0) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);
