import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { ADMIN_OBJECT_ACTIONS } from './access-grants';
import { checkKeyPrefix } from '../core/key-prefix';
import { BackupDrConfigError } from '../core/validation';
import { NagAcknowledgements, nagValue } from '../nag/nag-acknowledgements';
import { COMPLIANCE_NAG_PACKS } from '../nag/nag-packs';

/*
 * DOCUMENTATION archives: procedural documentation deployed with aws-s3-deployment, never pruned,
 * never deleted by the deployment, and the cdk-nag findings of CDK's deployment handler.
 */

/** @internal Where and what `addDocuments` deploys. */
export interface DocumentDeployment {
  readonly bucket: s3.IBucket;
  readonly encryptionKey?: kms.IKey;
  /** `documentsPrefix` of the archive. */
  readonly documentsPrefix: string;
  readonly sources: s3deploy.ISource[];
  /** Sub-prefix under `documentsPrefix`. */
  readonly prefix?: string;
}

/** @internal Checks `addDocuments` arguments (inside `inScope`). */
export function checkDocuments(id: string, sources: s3deploy.ISource[], prefix: string | undefined): void {
  if (prefix !== undefined) checkKeyPrefix(prefix, 'addDocuments prefix');
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new BackupDrConfigError(`addDocuments('${id}'): sources is empty; pass at least one s3deploy.Source`);
  }
}

/**
 * @internal Deploys the documents with `prune: false` and `retainOnDelete: true` (the single copy is
 * never removed by a deployment); the handler role is explicitly denied deleting objects.
 */
export function deployDocuments(scope: Construct, id: string, d: DocumentDeployment): s3deploy.BucketDeployment {
  const destinationKeyPrefix = `${d.documentsPrefix}${d.prefix ?? ''}`;
  const deployment = new s3deploy.BucketDeployment(scope, id, {
    sources: d.sources,
    destinationBucket: d.bucket,
    destinationKeyPrefix: destinationKeyPrefix || undefined,
    prune: false,
    retainOnDelete: true,
  });
  deployment.handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'DenyDocumentArchiveDeletion',
    effect: iam.Effect.DENY,
    actions: ADMIN_OBJECT_ACTIONS,
    resources: [d.bucket.arnForObjects('*')],
  }));
  acknowledgeDeploymentHandler(deployment, d.bucket, d.encryptionKey);
  return deployment;
}

/** @internal CDK's singleton Lambda execution role policy (logs only). */
export const LAMBDA_BASIC_EXECUTION_FINDING = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/**
 * Acknowledges the cdk-nag findings of the aws-s3-deployment handler, a CDK-provided singleton Lambda
 * (custom resource run at deployment time only) whose runtime, VPC placement and policies this
 * library cannot change. Wildcard findings are computed from the handler policies' statements on
 * this archive and on its read-only asset sources.
 */
function acknowledgeDeploymentHandler(deployment: s3deploy.BucketDeployment, bucket: s3.IBucket, key: kms.IKey | undefined) {
  const fn = deployment.handlerRole.node.scope;
  if (!fn) return;
  const ack = (id: string, reason: string) => NagAcknowledgements.acknowledge(fn, id, reason);
  const deployOnly = 'CDK\'s BucketDeployment handler is a custom resource that only runs during CloudFormation deployments, ' +
    'with no event source and no network exposure; CDK does not expose its concurrency, DLQ or VPC settings for this use.';
  ack(LAMBDA_BASIC_EXECUTION_FINDING, 'CDK\'s BucketDeployment handler only uses AWSLambdaBasicExecutionRole to write its own CloudWatch logs.');
  ack('AwsSolutions-L1', 'The BucketDeployment handler runtime is chosen and updated by aws-cdk-lib, not by this library.');
  for (const pack of COMPLIANCE_NAG_PACKS) {
    ack(`${pack}-IAMNoInlinePolicy`, 'CDK-generated default policy of the BucketDeployment handler role; aws-cdk-lib adds its grants inline.');
    ack(`${pack}-LambdaInsideVPC`, deployOnly);
    if (pack !== 'PCI.DSS.321') { // PCI.DSS.321 has no Lambda concurrency / DLQ rules
      ack(`${pack}-LambdaConcurrency`, deployOnly);
      ack(`${pack}-LambdaDLQ`, deployOnly);
    }
  }
  // The role's policies, found by type (not by CDK's internal child ids).
  const policies = deployment.handlerRole.node.findAll().filter((c): c is iam.Policy => c instanceof iam.Policy);
  const stack = Stack.of(fn);
  const ours = [bucket.bucketArn, ...(key ? [key.keyArn] : [])].map((arn) => nagValue(stack.resolve(arn)));
  for (const policy of policies) {
    const doc = stack.resolve(policy.document.toJSON()) as { Statement?: Array<{ Effect: string; Action: unknown; Resource: unknown }> } | undefined;
    for (const st of doc?.Statement ?? []) {
      if (st.Effect !== 'Allow') continue;
      const actions = ([] as unknown[]).concat(st.Action).map(String);
      const resources = ([] as unknown[]).concat(st.Resource).map(nagValue);
      const readOnlySource = actions.every((a) => /^s3:(Get|List)/.test(a));
      if (!readOnlySource && !resources.some((r) => ours.some((o) => r.startsWith(o)))) continue;
      const reason = readOnlySource
        ? 'Read-only access of the BucketDeployment handler to the CDK asset holding the documents to deploy (aws-cdk-lib grant).'
        : 'aws-cdk-lib grants the BucketDeployment handler read/write on the destination archive; deletion is explicitly denied by ' +
          'DenyDocumentArchiveDeletion and prune is off, so the single copy is never removed.';
      for (const a of actions.filter((x) => x.includes('*'))) ack(`AwsSolutions-IAM5[Action::${a}]`, reason);
      for (const r of resources.filter((x) => x.includes('*'))) ack(`AwsSolutions-IAM5[Resource::${r}]`, reason);
    }
  }
}
