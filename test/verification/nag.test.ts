import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BackupPolicyDerivation, ContinuousBackupSupport, DeploymentEnvironment, RecoveryTier } from '../../src/core';
import { BackupPlanRegistry, ProtectedResourceType, RecoveryVault } from '../../src/foundation';
import { BackupComplianceFramework, ProtectionVerification, VerifiedResourceType } from '../../src/verification';
import { TEST_CONTEXT, TEST_ENV } from '../support/app';
import { nagFindings } from '../support/nag';

jest.setTimeout(120_000);

test('the verification machinery (monitor, restore testing, validation, framework) has no unacknowledged cdk-nag finding', () => {
  const findings = nagFindings((app) => {
    const stack = new Stack(app, 'Verified', { env: TEST_ENV });
    const environment = DeploymentEnvironment.PRO;
    const vault = new RecoveryVault(stack, 'Vault', { environment, breakGlassRole: new iam.Role(stack, 'BreakGlass', { assumedBy: new iam.AccountRootPrincipal() }) });
    const table = new dynamodb.TableV2(stack, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
    });
    const objectives = RecoveryTier.CRITICAL;
    const policy = BackupPolicyDerivation.derive({ objectives, environment, continuousBackup: ContinuousBackupSupport.NATIVE });
    const resourceArns = [table.tableArn];
    const plan = BackupPlanRegistry.of(stack).protect({ vault, policy, resourceArns, resourceType: ProtectedResourceType.DYNAMODB });
    ProtectionVerification.register(stack, {
      resourceType: VerifiedResourceType.DYNAMODB_TABLE,
      resources: [{ arn: table.tableArn, construct: table }],
      environment,
      objectives: RecoveryTier.CRITICAL,
      policy,
      vault,
      backupPlan: plan.plan,
      continuousNative: true,
    });
    new BackupComplianceFramework(stack, 'Compliance', { environment });
  }, TEST_CONTEXT);
  // Only findings on the verification machinery are this test's business (the vault and table are tested elsewhere).
  expect(findings.filter((f) => /BackupDr(RecoveryPointMonitor|RestoreTesting|Verification)|Compliance|BackupDrOperationsKey/.test(f))).toEqual([]);
});
