import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BackupPlanRegistry, DeploymentEnvironment, NagAcknowledgements, RecoveryVault, TeamAccess } from '../../src';
import { TEST_CONTEXT, TEST_ENV, testStack } from '../support/app';
import { nagFindings } from '../support/nag';

const BASIC = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

function twoRoles(acknowledgeOnA: (a: iam.Role) => void): string[] {
  return nagFindings((app) => {
    const stack = new Stack(app, 'Nag', { env: TEST_ENV });
    const make = (id: string) => new iam.Role(stack, id, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    acknowledgeOnA(make('A'));
    make('B');
  }, TEST_CONTEXT).filter((f) => f.startsWith('AwsSolutions-IAM4'));
}

describe('NagAcknowledgements', () => {
  test('a finding ID with "::" is acknowledged on that construct only, not app-wide', () => {
    expect(twoRoles(() => undefined)).toEqual([
      `${BASIC} (error) at Nag/A/Resource`,
      `${BASIC} (error) at Nag/B/Resource`,
    ]);
    expect(twoRoles((a) => NagAcknowledgements.acknowledge(a, BASIC, 'Lambda needs its logs'))).toEqual([`${BASIC} (error) at Nag/B/Resource`]);
  });

  test('plain rule IDs go through Validations.acknowledge', () => {
    const findings = nagFindings((app) => {
      const stack = new Stack(app, 'Nag', { env: TEST_ENV });
      const role = new iam.Role(stack, 'A', { assumedBy: new iam.AccountRootPrincipal() });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/k'] }));
      NagAcknowledgements.acknowledge(role, 'HIPAA.Security-IAMNoInlinePolicy', 'test role');
    }, TEST_CONTEXT);
    expect(findings.filter((f) => f.startsWith('HIPAA.Security-IAMNoInlinePolicy'))).toEqual([]);
    expect(findings.filter((f) => f.startsWith('NIST.800.53.R5-IAMNoInlinePolicy'))).toHaveLength(1);
  });

  test('acknowledgeWildcards computes cdk-nag finding ids, also for ARNs with pseudo parameters', () => {
    const stack = testStack();
    const policy = new iam.ManagedPolicy(stack, 'P', { statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })] });
    NagAcknowledgements.acknowledgeWildcards(policy, ['s3:Get*', 'kms:Decrypt'], ['*', stack.formatArn({ service: 'rds', resource: 'og', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }), 'arn:aws:s3:::b/k'], 'because');
    const ids = policy.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')
      .flatMap((m) => Object.keys(m.data)).map((id) => id.replace(/^annotation::/i, ''));
    expect(ids).toEqual([
      'AwsSolutions-IAM5[Action::s3:Get*]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:og:*]',
    ]);
  });

  test('acknowledgeGrant: the wildcards of a TeamAccess grant are acknowledged on the grantee only', () => {
    const findings = nagFindings((app) => {
      const stack = new Stack(app, 'Nag', { env: TEST_ENV });
      const vault = RecoveryVault.forStack(stack, DeploymentEnvironment.DEV);
      const serviceRole = BackupPlanRegistry.of(stack).role;
      TeamAccess.sre(new iam.Role(stack, 'Granted', { assumedBy: new iam.AccountRootPrincipal() })).grantBackups({ scope: stack, vaultArn: vault.backupVault.backupVaultArn, environment: DeploymentEnvironment.DEV, serviceRole });
      const other = new iam.Role(stack, 'Other', { assumedBy: new iam.AccountRootPrincipal() });
      other.addToPolicy(new iam.PolicyStatement({ actions: ['backup:ListBackupJobs'], resources: ['*'] }));
    }, TEST_CONTEXT).filter((f) => f.startsWith('AwsSolutions-IAM5'));
    expect(findings).toEqual(['AwsSolutions-IAM5[Resource::*] (error) at Nag/Other/DefaultPolicy/Resource']);
  });

  test('needs a reason', () => {
    const stack = new Stack();
    expect(() => NagAcknowledgements.acknowledge(stack, 'AwsSolutions-IAM4', ' ')).toThrow(/needs a reason/);
  });
});
