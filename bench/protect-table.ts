import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DynamoPitrBackup, RecoveryObjectives, RecoveryVault } from '../src';

/** Protects one table with its own DynamoPitrBackup (the worst case for deduplication: one construct per table). */
export function protectTable(table: dynamodb.TableV2, vault: RecoveryVault, objectives: RecoveryObjectives): Construct {
  return new DynamoPitrBackup(table, 'Backup', { tables: [table], objectives, environment: vault.environment, vault });
}
