import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { DeploymentEnvironment } from '../../../core/environment';
import { BackupDrModel } from '../backup-dr-model';

/**
 * Backup vaults of PRO (by their tags, the inventory rows pointing at them, or the plans storing PRO recovery
 * points in them) have a vault lock (LockConfiguration).
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    if (node.cfnResourceType !== 'AWS::Backup::BackupVault') return NagRuleCompliance.NOT_APPLICABLE;
    const model = BackupDrModel.of(node);
    if (model.vaultEnvironment(node) !== DeploymentEnvironment.PRO) return NagRuleCompliance.NOT_APPLICABLE;
    return model.propertiesOf(node).LockConfiguration ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);
