import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on a construct and its children.
 *
 * cdk-nag 3 names per-finding IDs after the offending value, e.g.
 * `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/...]`. aws-cdk-lib's
 * `Validations.acknowledge` rejects IDs with more than one `::` (cdklabs/cdk-nag#2351), and an
 * acknowledged ID containing `::` is read as "prefix::rule" and matched against every violation of
 * the app. IDs with `::` are therefore recorded with the `annotation::` prefix in the
 * acknowledged-rules metadata, which cdk-nag strips when it checks a resource and its ancestors:
 * the acknowledgement stays on this construct. Every acknowledgement needs a reason.
 */
export class NagAcknowledgements {
  /** Acknowledge finding `id` on `scope` (and everything below it), with the reason it is acceptable. */
  public static acknowledge(scope: IConstruct, id: string, reason: string): void {
    if (!reason.trim()) {
      throw new Error(`acknowledging ${id} on ${scope.node.path} needs a reason`);
    }
    if (id.includes('::')) {
      scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [`annotation::${id}`]: reason }, { stackTrace: false });
    } else {
      Validations.of(scope).acknowledge({ id, reason });
    }
  }

  private constructor() {}
}
