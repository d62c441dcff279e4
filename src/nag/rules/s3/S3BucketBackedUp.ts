import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { coverageCompliance } from '../coverage';

/**
 * S3 buckets are covered by an AWS Backup selection of the app or by a cdk-backup-dr construct.
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => coverageCompliance(node, ['AWS::S3::Bucket']),
  'name',
  { value: parse(__filename).name },
);
