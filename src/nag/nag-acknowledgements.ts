import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
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

  /**
   * Acknowledge the `AwsSolutions-IAM5` findings (wildcard actions or resources) that the given actions
   * and resources cause on `scope`, one finding at a time as cdk-nag 3 requires.
   */
  public static acknowledgeWildcards(scope: IConstruct, actions: string[], resources: string[], reason: string): void {
    const stack = Stack.of(scope);
    const ids = new Set<string>();
    for (const action of actions) {
      if (action.includes('*')) ids.add(`AwsSolutions-IAM5[Action::${action}]`);
    }
    for (const resource of resources) {
      const flat = nagValue(stack.resolve(resource));
      if (flat.includes('*')) ids.add(`AwsSolutions-IAM5[Resource::${flat}]`);
    }
    for (const id of ids) NagAcknowledgements.acknowledge(scope, id, reason);
  }

  /**
   * Acknowledge the wildcard findings of a grant's statements on the grantee (when it is a construct,
   * e.g. an iam.Role), with the reason the library needs them.
   */
  public static acknowledgeGrant(grantee: iam.IGrantable, grant: iam.Grant, reason: string): void {
    const principal = grantee.grantPrincipal as unknown as Partial<IConstruct>;
    if (!principal.node) return;
    const scope = principal as IConstruct;
    for (const st of grant.principalStatements) {
      NagAcknowledgements.acknowledgeWildcards(scope, st.actions, st.resources, reason);
    }
  }

  private constructor() {}
}

/** @internal The flattened form cdk-nag uses in finding IDs ("<Logical.Arn>/*", "arn:<AWS::Partition>:..."). */
export function nagValue(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(nagValue).join(o['Fn::Join'][0]);
  if (o['Fn::Sub']) return nagValue(o['Fn::Sub']);
  if (o['Fn::GetAtt']) return `<${nagValue(o['Fn::GetAtt'][0])}.${nagValue(o['Fn::GetAtt'][1])}>`;
  if (o['Fn::ImportValue']) return nagValue(o['Fn::ImportValue']);
  if (o.Ref) return `<${nagValue(o.Ref)}>`;
  return JSON.stringify(node);
}
