import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  BackupContent, DeploymentEnvironment, DumpDestination, DynamoPitrBackup, ExternalDbBackupLambda, ExternalDbEngine,
  RdsBackupPolicy, RecoveryTier, S3ArchiveLifecycle, TeamAccess,
} from '../../src';
import { TEST_CONTEXT, TEST_ENV } from '../support/app';

/** Construct paths of the protecting constructs of the sample app, by class name. */
export interface SampleApp {
  readonly app: App;
  readonly protectedBy: Record<string, string>;
}

/**
 * A small fixed app with one of each protecting construct: an RDS instance with a fixed identifier, a
 * DynamoDB table with a fixed name, an S3 archive whose bucket name CloudFormation assigns, and an
 * external PostgreSQL database dumped into that archive.
 */
export function buildSampleApp(outdir?: string): SampleApp {
  const app = new App({ context: TEST_CONTEXT, outdir });
  const stack = new Stack(app, 'CatalogSample', { env: TEST_ENV });
  const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
  const access = [TeamAccess.sre(sre)];
  const environment = DeploymentEnvironment.PRO;

  const archive = new S3ArchiveLifecycle(stack, 'Archive', {
    content: BackupContent.CURRENT_DATA, environment, objectives: RecoveryTier.STANDARD, access,
  });

  const table = new dynamodb.TableV2(stack, 'Orders', {
    tableName: 'orders',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const dynamo = new DynamoPitrBackup(stack, 'OrdersBackup', { tables: [table], objectives: RecoveryTier.CRITICAL, environment, access });

  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const key = new kms.Key(stack, 'DbKey', { enableKeyRotation: true });
  const db = new rds.DatabaseInstance(stack, 'Billing', {
    instanceIdentifier: 'billing-db',
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    storageEncrypted: true,
    storageEncryptionKey: key,
    credentials: rds.Credentials.fromGeneratedSecret('billing_admin', { encryptionKey: key }),
    removalPolicy: RemovalPolicy.SNAPSHOT,
  });
  const rdsBackup = new RdsBackupPolicy(stack, 'BillingBackup', { instances: [db], objectives: RecoveryTier.STANDARD, environment, access });

  const dump = new ExternalDbBackupLambda(stack, 'CrmDump', {
    engine: ExternalDbEngine.postgres(15),
    connectionSecret: new secretsmanager.Secret(stack, 'CrmConnection', { encryptionKey: key }),
    databases: ['crm'],
    destination: DumpDestination.archive(archive),
    objectives: { rpo: Duration.hours(1), rto: Duration.hours(4) },
    environment,
    access,
  });

  return {
    app,
    protectedBy: {
      S3ArchiveLifecycle: archive.node.path,
      DynamoPitrBackup: dynamo.node.path,
      RdsBackupPolicy: rdsBackup.node.path,
      ExternalDbBackupLambda: dump.node.path,
    },
  };
}
