import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { BackupDrModel } from '../backup-dr-model';

/**
 * DynamoDB tables have point-in-time recovery on (a GlobalTable: on every replica).
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    const enabled = (spec: any) => spec?.PointInTimeRecoveryEnabled === true || spec?.PointInTimeRecoveryEnabled === 'true';
    if (node.cfnResourceType === 'AWS::DynamoDB::Table') {
      const props = BackupDrModel.of(node).propertiesOf(node);
      return enabled(props.PointInTimeRecoverySpecification) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
    }
    if (node.cfnResourceType === 'AWS::DynamoDB::GlobalTable') {
      const replicas: any[] = BackupDrModel.of(node).propertiesOf(node).Replicas ?? [];
      const all = replicas.length > 0 && replicas.every((r) => enabled(r.PointInTimeRecoverySpecification));
      return all ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
    }
    return NagRuleCompliance.NOT_APPLICABLE;
  },
  'name',
  { value: parse(__filename).name },
);
