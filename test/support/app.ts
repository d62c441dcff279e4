import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** Context every test app uses: template validation against CloudFormation's rules is an error. */
export const TEST_CONTEXT = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
};

export const TEST_ENV = { account: '111111111111', region: 'eu-west-1' };

/** A new app with the library's test context. */
export function testApp(): App {
  return new App({ context: TEST_CONTEXT });
}

/** A stack in a fresh test app (explicit placeholder environment). */
export function testStack(id = 'TestStack', props: StackProps = {}): Stack {
  return new Stack(testApp(), id, { env: TEST_ENV, ...props });
}

/** Template of a stack after a full synth, so late validations run. */
export function synthTemplate(stack: Stack): Template {
  const app = stack.node.root as App;
  app.synth();
  return Template.fromStack(stack);
}

/** JSON of a template with asset hashes blanked, for snapshots. */
export function snapshotOf(stack: Stack): unknown {
  const json = JSON.stringify(synthTemplate(stack).toJSON());
  return JSON.parse(json.replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '[ASSET_HASH]'));
}
