import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { coverageCompliance } from '../coverage';

/**
 * EFS file systems are covered by an AWS Backup selection of the app or by a cdk-backup-dr construct.
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => coverageCompliance(node, ['AWS::EFS::FileSystem']),
  'name',
  { value: parse(__filename).name },
);
