import { Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DeploymentEnvironment, DumpDestination, ExternalDbBackupLambda, ExternalDbBackupLambdaProps, ExternalDbEngine } from '../../../src';

/**
 * The construct tests' ExternalDbBackupLambda: PRO, PostgreSQL 16, RPO 1 hour / RTO 4 hours, databases crm and
 * billing, dumped to a KMS-encrypted bucket under external-db/crm/; `overrides` replace any of it.
 */
export function buildDump(stack: Stack, overrides: Partial<ExternalDbBackupLambdaProps> = {}) {
  const key = new kms.Key(stack, 'ArchiveKey', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'Archive', { encryption: s3.BucketEncryption.KMS, encryptionKey: key, enforceSSL: true });
  const connectionSecret = new secretsmanager.Secret(stack, 'Conn');
  const dump = new ExternalDbBackupLambda(stack, 'Dump', {
    engine: ExternalDbEngine.postgres(16),
    connectionSecret,
    destination: DumpDestination.bucket(bucket, { prefix: 'external-db/crm/' }),
    objectives: { rpo: Duration.hours(1), rto: Duration.hours(4) },
    environment: DeploymentEnvironment.PRO,
    databases: ['crm', 'billing'],
    ...overrides,
  });
  return { stack, dump, bucket, key, connectionSecret };
}
