import { Stack } from 'aws-cdk-lib';
import {
  BackupCatalogMetadata, BackupContent, BackupPolicyDerivation, ContinuousBackupSupport, DeploymentEnvironment, RecoveryTier,
} from '../../src';
import { CatalogResourceType } from '../../src/core/catalog-metadata';

describe('BackupCatalogMetadata.retentionOf', () => {
  test('Pro current data with continuous backup: routine point-in-time window, monthly and yearly samples', () => {
    const policy = BackupPolicyDerivation.derive({
      objectives: RecoveryTier.CRITICAL, environment: DeploymentEnvironment.PRO, continuousBackup: ContinuousBackupSupport.AWS_BACKUP,
    });
    expect(BackupCatalogMetadata.retentionOf(policy)).toEqual({
      routine: '35 days (point in time)',
      samples: ['monthly: 365 days', 'yearly: 2555 days'],
      pointInTimeWindow: '35 days',
    });
  });

  test('Dev, every 12 hours: routine only, no samples, no point-in-time window', () => {
    const policy = BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.DEV });
    expect(BackupCatalogMetadata.retentionOf(policy)).toEqual({ routine: '7 days', samples: undefined, pointInTimeWindow: undefined });
  });

  test('DynamoDB (native PITR) keeps its daily routine and reports the PITR window', () => {
    const policy = BackupPolicyDerivation.derive({
      objectives: RecoveryTier.CRITICAL, environment: DeploymentEnvironment.QA, continuousBackup: ContinuousBackupSupport.NATIVE,
    });
    const retention = BackupCatalogMetadata.retentionOf(policy);
    expect(retention.routine).toMatch(/^\d+ days$/);
    expect(retention.pointInTimeWindow).toMatch(/^\d+ days$/);
  });

  test('historical data: the single copy\'s retention', () => {
    const policy = BackupPolicyDerivation.derive({
      objectives: RecoveryTier.ARCHIVE, environment: DeploymentEnvironment.PRO, content: BackupContent.HISTORICAL_DATA,
    });
    expect(BackupCatalogMetadata.retentionOf(policy).routine).toMatch(/^\d+ days$/);
    expect(BackupCatalogMetadata.retentionOf(policy).samples).toBeUndefined();
  });
});

test('record() keeps the optional fields, and entriesOf() reads them back in tree order', () => {
  const stack = new Stack();
  BackupCatalogMetadata.record(stack, {
    backupName: 'a',
    content: 'Code',
    periodicity: 'daily',
    environment: 'Dev',
    supportType: 'S3',
    location: 'x',
    rpo: '1 day',
    rto: '1 day',
    resources: [{ type: CatalogResourceType.S3_BUCKET, identifier: 'b', keyPrefix: 'p/' }],
    access: [{ team: 'SRE', level: 'RESTORE' }],
  });
  expect(BackupCatalogMetadata.entriesOf(stack)).toEqual([expect.objectContaining({
    backupName: 'a', resources: [{ type: 'S3_BUCKET', identifier: 'b', keyPrefix: 'p/' }], access: [{ team: 'SRE', level: 'RESTORE' }],
  })]);
});
