import { App } from 'aws-cdk-lib';
import { buildExampleApp } from '../../examples/example-stacks';
import { TEST_CONTEXT, snapshotOf } from '../support/app';
import { nagFindings } from '../support/nag';

describe('example app', () => {
  test('cdk-nag AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321: no unacknowledged finding', () => {
    expect(nagFindings((app) => buildExampleApp(app), TEST_CONTEXT)).toEqual([]);
  });

  test.each(['BackupDrExamplePro', 'BackupDrExampleDev'])('snapshot of %s', (name) => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = buildExampleApp(app).find((s) => s.stackName === name)!;
    expect(snapshotOf(stack)).toMatchSnapshot();
  });
});
