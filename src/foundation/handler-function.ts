import * as path from 'path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** @internal What differs between the library's Lambda functions; the rest is the same for all of them. */
export interface HandlerFunctionProps extends Omit<lambda.FunctionProps, 'runtime' | 'handler' | 'code' | 'role' | 'loggingFormat'> {
  /** Bundle folder under assets/ (built by `npx projen bundle`). */
  readonly asset: string;
  /** Role of the function: its permissions are managed policies only (no inline default policy). */
  readonly role: iam.Role;
  /** The managed policies the function needs before it can run (it depends on them). */
  readonly policies: iam.ManagedPolicy[];
}

/**
 * @internal One Lambda function of the backup machinery (exports, monitors, validation, custom resources):
 * Node.js 24 runtime, the bundled handler from assets/, JSON logs, 256 MiB unless told otherwise, and a role
 * whose permissions come from managed policies only.
 */
export function handlerFunction(scope: Construct, id: string, props: HandlerFunctionProps): lambda.Function {
  const { asset, role, policies, ...rest } = props;
  const fn = new lambda.Function(scope, id, {
    memorySize: 256,
    ...rest,
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', asset)),
    role: role.withoutPolicyUpdates(),
    loggingFormat: lambda.LoggingFormat.JSON,
  });
  for (const policy of policies) fn.node.addDependency(policy);
  return fn;
}
