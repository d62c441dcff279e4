import { App, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { TeamAccess } from '../../src/access/team-access';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { DynamoPitrBackup } from '../../src/dynamodb';
import { NagAcknowledgements } from '../../src/nag/nag-acknowledgements';
import { RdsBackupPolicy } from '../../src/rds';
import { TEST_CONTEXT, TEST_ENV } from '../support/app';
import { nagFindings } from '../support/nag';

/**
 * The four cdk-nag 3 packs (registered with Validations.of(app).addPlugins, see test/support/nag.ts) over a
 * stack with both constructs, every option on. Findings on the library's resources must be fixed by
 * construction or acknowledged by the constructs themselves; the fixtures (VPC, databases, tables, bucket,
 * team role) are the user's and are acknowledged here, each with its reason.
 */

const PACKS = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];

/** Acknowledge findings on a fixture (the user's resource), with the reason. */
function fixture(scope: IConstruct, reason: string, ...ids: string[]) {
  for (const id of ids) NagAcknowledgements.acknowledge(scope, id, `test fixture: ${reason}`);
}

const inPacks = (rule: string, packs = PACKS.slice(1)) => packs.map((p) => `${p}-${rule}`);

function build(app: App): void {
  const stack = new Stack(app, 'NagStack', { env: TEST_ENV });

  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  const instance = new rds.DatabaseInstance(stack, 'Db', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }), vpc, vpcSubnets: isolated, storageEncrypted: true,
  });
  const cluster = new rds.DatabaseCluster(stack, 'Cluster', {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
    vpc,
    vpcSubnets: isolated,
    writer: rds.ClusterInstance.serverlessV2('writer'),
    storageEncrypted: true,
  });
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  });
  const global = new dynamodb.TableV2(stack, 'Global', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, replicas: [{ region: 'eu-central-1' }] });
  const bucket = new s3.Bucket(stack, 'Exports', {
    encryption: s3.BucketEncryption.KMS, enforceSSL: true, versioned: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });

  new RdsBackupPolicy(stack, 'Rds', {
    objectives: RecoveryTier.CRITICAL,
    environment: DeploymentEnvironment.PRO,
    instances: [instance],
    clusters: [cluster],
    sampleExport: { bucket },
    access: [TeamAccess.sre(sre)],
  });
  new DynamoPitrBackup(stack, 'Dynamo', {
    objectives: RecoveryTier.STANDARD,
    environment: DeploymentEnvironment.PRO,
    tables: [table, global],
    advancedBackupFeatures: true,
    sampleExport: { bucket },
    access: [TeamAccess.sre(sre)],
  });

  // ---- fixtures: the user's resources ----
  fixture(vpc, 'network of the test databases',
    'AwsSolutions-VPC7', ...inPacks('VPCDefaultSecurityGroupClosed'), ...inPacks('VPCFlowLogsEnabled'));
  fixture(instance, 'minimal database', 'AwsSolutions-RDS3', 'AwsSolutions-RDS10', 'AwsSolutions-RDS11',
    ...inPacks('RDSEnhancedMonitoringEnabled', ['HIPAA.Security', 'NIST.800.53.R5']),
    ...inPacks('RDSInstanceDeletionProtectionEnabled', ['HIPAA.Security', 'NIST.800.53.R5']),
    ...inPacks('RDSMultiAZSupport', ['HIPAA.Security', 'NIST.800.53.R5']),
    ...inPacks('RDSLoggingEnabled[LogExport::postgresql]'), ...inPacks('RDSLoggingEnabled[LogExport::upgrade]'));
  fixture(cluster, 'minimal Aurora cluster', 'AwsSolutions-RDS6', 'AwsSolutions-RDS10',
    ...inPacks('RDSEnhancedMonitoringEnabled', ['HIPAA.Security', 'NIST.800.53.R5']),
    ...inPacks('RDSInstanceDeletionProtectionEnabled', ['HIPAA.Security', 'NIST.800.53.R5']),
    ...inPacks('RDSLoggingEnabled[LogExport::postgresql]'));
  for (const db of [instance, cluster]) {
    fixture(db.node.findChild('Secret'), 'generated master secret', 'AwsSolutions-SMG4',
      ...inPacks('SecretsManagerRotationEnabled', ['HIPAA.Security', 'NIST.800.53.R5']), ...inPacks('SecretsManagerUsingKMSKey'));
  }
  // (a CloudFormation template-validation warning, acknowledged through aws-cdk-lib directly)
  cluster.node.findAll().filter((c) => c instanceof rds.CfnDBInstance).forEach((m) =>
    Validations.of(m).acknowledge({ id: 'CloudFormation-Validate::W9008', reason: 'test fixture: Aurora members are encrypted by their cluster' }));
  fixture(bucket, 'export bucket', 'AwsSolutions-S1', ...inPacks('S3BucketLoggingEnabled'), ...inPacks('S3BucketReplicationEnabled'),
    ...inPacks('S3BucketPublicReadProhibited'), ...inPacks('S3BucketPublicWriteProhibited'));
  // What a team role gets from TeamAccess: recovery-point patterns (foundation), and from these constructs
  // restore targets named <source>-restore-*, the subnet/option/parameter groups a restore may name, and
  // the export prefixes.
  fixture(sre, 'team role receiving the grants', ...inPacks('IAMNoInlinePolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:backup:eu-west-1:111111111111:recovery-point:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:eu-west-1:111111111111:table/*/backup/*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:snapshot:awsbackup:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:cluster-snapshot:awsbackup:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:db:<Db5D02A0A9>-restore-*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:cluster:<ClusterEB0386A7>-restore-*]',
    'AwsSolutions-IAM5[Resource::<TableCD117FA1.Arn>-restore-*]',
    'AwsSolutions-IAM5[Resource::<Global7C59AC82.Arn>-restore-*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:subgrp:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:og:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:pg:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:eu-west-1:111111111111:cluster-pg:*]',
    'AwsSolutions-IAM5[Resource::<Exports25637AFB.Arn>/rds-snapshot-exports/*]',
    'AwsSolutions-IAM5[Resource::<Exports25637AFB.Arn>/dynamodb-samples/*]',
  );
}

describe('cdk-nag: AwsSolutions, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321', () => {
  let all: string[];
  beforeAll(() => {
    all = nagFindings(build, TEST_CONTEXT);
  });

  test('the constructs and the shared machinery they create have no unacknowledged finding', () => {
    expect(all.filter((f) => / at NagStack\/(Rds|Dynamo|BackupDr)/.test(f))).toEqual([]);
  });

  test('no unacknowledged finding at all', () => {
    expect(all).toEqual([]);
  });

  test('the check can fail: without the fixture acknowledgements the fixtures are reported', () => {
    const findings = nagFindings((app) => {
      const stack = new Stack(app, 'Bare', { env: TEST_ENV });
      new DynamoPitrBackup(stack, 'Dynamo', {
        objectives: RecoveryTier.STANDARD,
        environment: DeploymentEnvironment.DEV,
        tables: [new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } })],
        sampleExport: { bucket: new s3.Bucket(stack, 'Unacknowledged') },
      });
    }, TEST_CONTEXT);
    expect(findings).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-S1 .*at Bare\/Unacknowledged\/Resource$/)]));
    expect(findings.filter((f) => / at Bare\/(Dynamo|BackupDr)/.test(f))).toEqual([]);
  });

  test('every acknowledgement made by the constructs carries a reason', () => {
    const app = new App({ context: TEST_CONTEXT });
    build(app);
    const library = app.node.findAll().filter((c) => /^NagStack\/(Rds|Dynamo|BackupDr)/.test(c.node.path));
    const reasons = library.flatMap((c) => c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.values(m.data as Record<string, string>)));
    expect(reasons.length).toBeGreaterThan(10);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
  });
});
