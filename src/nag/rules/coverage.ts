import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { BackupDrModel } from './backup-dr-model';

/**
 * @internal Compliance of a stateful resource of one of `types`: covered when an AWS::Backup::BackupSelection of the
 * app selects it (by ARN reference, ARN pattern, ListOfTags or tag Conditions) or a cdk-backup-dr construct
 * records an inventory row for it (the resource is in the construct's subtree or in its recorded location), or
 * (EFS) automatic backups are on.
 */
export function coverageCompliance(node: CfnResource, types: string[]): NagRuleCompliance {
  if (!types.includes(node.cfnResourceType)) return NagRuleCompliance.NOT_APPLICABLE;
  const model = BackupDrModel.of(node);
  if (node.cfnResourceType === 'AWS::RDS::DBInstance') {
    const props = model.propertiesOf(node);
    // Aurora members are backed up with their cluster; read replicas copy a source that is checked itself.
    if (props.DBClusterIdentifier || props.SourceDBInstanceIdentifier || props.SourceDBClusterIdentifier) {
      return NagRuleCompliance.NOT_APPLICABLE;
    }
  }
  if (node.cfnResourceType === 'AWS::EFS::FileSystem' && model.propertiesOf(node).BackupPolicy?.Status === 'ENABLED') {
    return NagRuleCompliance.COMPLIANT; // EFS automatic backups: AWS Backup's default plan for the file system
  }
  const covered = model.selectionsCovering(node).length > 0 || model.catalogCoverage(node) !== undefined;
  return covered ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}
