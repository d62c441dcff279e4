import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { BackupPlanRegistry, BackupPolicyDerivation, ContinuousBackupSupport, ProtectedResourceType, RecoveryObjectives, RecoveryVault } from '../src';

/** Protects one table the way a construct does: derive, then join the stack's plan registry. */
export function protectTable(table: dynamodb.ITable, vault: RecoveryVault, objectives: RecoveryObjectives): Construct {
  BackupPlanRegistry.of(table).protect({
    vault,
    policy: BackupPolicyDerivation.derive({ objectives, environment: vault.environment, continuousBackup: ContinuousBackupSupport.NATIVE }),
    resourceArns: [table.tableArn],
    resourceType: ProtectedResourceType.DYNAMODB,
  });
  return table;
}
