import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { BackupDrModel } from '../backup-dr-model';

/**
 * RDS DB instances and clusters keep automated backups (BackupRetentionPeriod is not 0; CloudFormation's
 * default is 1 day). Aurora members and read replicas are not applicable (their cluster / source keeps them).
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    const type = node.cfnResourceType;
    if (type !== 'AWS::RDS::DBInstance' && type !== 'AWS::RDS::DBCluster') return NagRuleCompliance.NOT_APPLICABLE;
    const props = BackupDrModel.of(node).propertiesOf(node);
    if (type === 'AWS::RDS::DBInstance' && (props.DBClusterIdentifier || props.SourceDBInstanceIdentifier || props.SourceDBClusterIdentifier)) {
      return NagRuleCompliance.NOT_APPLICABLE;
    }
    const retention = props.BackupRetentionPeriod;
    if (retention === undefined) return NagRuleCompliance.COMPLIANT;
    if (typeof retention !== 'number' && !/^\d+$/.test(String(retention))) {
      throw new Error(`BackupRetentionPeriod of ${node.node.path} is not a number at synth time`);
    }
    return Number(retention) > 0 ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);
