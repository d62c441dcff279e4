#!/usr/bin/env node
/**
 * Two-region example: a DR site in eu-central-1 and a Pro workload in eu-west-1 that copies and
 * replicates into it; plus a cross-account variant whose DR site lives in a second account.
 *
 *   npx cdk synth --app "npx ts-node --prefer-ts-exts examples/dr-app.ts"                  # two regions, one account
 *   npx cdk synth --app "npx ts-node --prefer-ts-exts examples/dr-app.ts" -c variant=cross-account
 *
 * Placeholder accounts (111111111111, 222222222222): synth works offline. Deploy the DR stack first
 * (`cdk deploy BackupDrExampleDrSite`); the primary stack depends on it. See docs/dr-site.md.
 */
import { App, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import {
  BackupContent, DeploymentEnvironment, DynamoPitrBackup, NagAcknowledgements, RdsBackupPolicy, RecoveryTier, S3ArchiveLifecycle,
} from '../src';
import { DrSecondarySite } from '../src/dr';
import { IDrSecondarySite } from '../src/foundation/dr-site';
import { COMPLIANCE_NAG_PACKS } from '../src/nag/nag-packs';

/** Primary region and account (placeholder). */
export const DR_EXAMPLE_PRIMARY_ENV = { account: '111111111111', region: 'eu-west-1' };
/** DR region, same account. */
export const DR_EXAMPLE_DR_ENV = { account: '111111111111', region: 'eu-central-1' };
/** DR region in a second (recovery) account of the same organization. */
export const DR_EXAMPLE_DR_ACCOUNT_ENV = { account: '222222222222', region: 'eu-central-1' };
/**
 * Cross-account replication names the site key by ARN (KMS does not resolve aliases across accounts): after the
 * first deployment of the DR stack, replace this placeholder by its `SiteKeyArn` output.
 */
export const DR_EXAMPLE_SITE_KEY_ARN = 'arn:aws:kms:eu-central-1:222222222222:key/00000000-0000-0000-0000-000000000000';

const PRO = DeploymentEnvironment.PRO;

/** The DR stack: the site (vault with its own key, replica buckets created on demand, outputs). */
export class DrSiteStack extends Stack {
  public readonly site: DrSecondarySite;

  constructor(scope: Construct, id: string, props: StackProps & { readonly crossAccount?: boolean }) {
    super(scope, id, props);
    this.site = new DrSecondarySite(this, 'Site', {
      environment: PRO,
      siteName: 'backup-dr-example',
      // No strategy: every workload gets the cheapest strategy meeting its objectives (reported at synth).
      ...(props.crossAccount ? {
        sourceAccounts: [DR_EXAMPLE_PRIMARY_ENV.account],
        encryptionKeyArn: DR_EXAMPLE_SITE_KEY_ARN,
        logicallyAirGapped: true,
      } : {}),
    });
  }
}

/** Props of the primary stack. */
export interface DrPrimaryStackProps extends StackProps {
  readonly drSite: IDrSecondarySite;
  /** Cross-account site: RDS and Aurora stay out (AWS Backup copies them cross-account or cross-Region, not both). */
  readonly crossAccount?: boolean;
}

/**
 * The Pro workload: a critical DynamoDB table (WARM_STANDBY: a replica in the DR region), a standard table
 * (copies), an RDS instance with an hourly RPO (PILOT_LIGHT: cross-region automated backups), and a
 * historical-data archive replicated into a replica bucket.
 */
export class DrPrimaryStack extends Stack {
  constructor(scope: Construct, id: string, props: DrPrimaryStackProps) {
    super(scope, id, props);
    const drSite = props.drSite;

    const table = (name: string) => new dynamodb.TableV2(this, name, {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      deletionProtection: true,
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    });
    if (!props.crossAccount) {
      // WARM_STANDBY needs a replica in the DR region; global table replicas live in the table's account.
      new DynamoPitrBackup(this, 'OrdersBackup', { tables: [table('Orders')], objectives: RecoveryTier.CRITICAL, environment: PRO, drSite });
    }
    new DynamoPitrBackup(this, 'CatalogBackup', { tables: [table('Catalog')], objectives: RecoveryTier.STANDARD, environment: PRO, drSite });

    if (!props.crossAccount) {
      const vpc = exampleVpc(this);
      const key = new kms.Key(this, 'DatabaseKey', { enableKeyRotation: true, description: 'example database and its credentials' });
      const db = new rds.DatabaseInstance(this, 'Billing', {
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
        instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        multiAz: true,
        credentials: rds.Credentials.fromGeneratedSecret('billing_admin', { encryptionKey: key }),
        storageEncrypted: true,
        storageEncryptionKey: key,
        deletionProtection: true,
        iamAuthentication: true,
        enablePerformanceInsights: true,
        monitoringInterval: Duration.seconds(60),
        cloudwatchLogsExports: ['postgresql', 'upgrade'],
        port: 5433,
        removalPolicy: RemovalPolicy.SNAPSHOT,
      });
      acknowledgeExampleDatabase(db);
      new RdsBackupPolicy(this, 'BillingBackup', {
        instances: [db], objectives: { rpo: Duration.hours(1), rto: Duration.hours(8) }, environment: PRO, drSite,
      });
    }

    new S3ArchiveLifecycle(this, 'History', {
      content: BackupContent.HISTORICAL_DATA,
      objectives: RecoveryTier.ARCHIVE,
      environment: PRO,
      drSite,
      drArchiveName: 'history',
      // Pro archives use Object Lock: the replica bucket in the DR site gets Object Lock too.
    });
  }
}

/** Two regions, one account. */
export function buildDrExampleApp(app: App): Stack[] {
  const dr = new DrSiteStack(app, 'BackupDrExampleDrSite', { env: DR_EXAMPLE_DR_ENV });
  const primary = new DrPrimaryStack(app, 'BackupDrExamplePrimary', { env: DR_EXAMPLE_PRIMARY_ENV, drSite: dr.site });
  primary.addStackDependency(dr, 'the DR vault, key and replica buckets must exist before copies and replication target them');
  return [dr, primary];
}

/** Two regions, two accounts of one organization (the DR account is the recovery account). */
export function buildCrossAccountDrExampleApp(app: App): Stack[] {
  const dr = new DrSiteStack(app, 'BackupDrExampleDrAccount', { env: DR_EXAMPLE_DR_ACCOUNT_ENV, crossAccount: true });
  const primary = new DrPrimaryStack(app, 'BackupDrExamplePrimaryCrossAccount', { env: DR_EXAMPLE_PRIMARY_ENV, drSite: dr.site, crossAccount: true });
  primary.addStackDependency(dr, 'the DR vault, key and replica buckets must exist before copies and replication target them');
  return [dr, primary];
}

function exampleVpc(scope: Construct): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2, // zones of the placeholder account come from cdk.json's context: synth needs no AWS credentials
    natGateways: 0,
    subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const key = new kms.Key(scope, 'VpcFlowLogsKey', { enableKeyRotation: true });
  key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${Stack.of(scope).region}.amazonaws.com`));
  const flowLogs = new logs.LogGroup(scope, 'VpcFlowLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: key });
  const flowLog = vpc.addFlowLog('FlowLogs', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) });
  for (const pack of COMPLIANCE_NAG_PACKS) {
    NagAcknowledgements.acknowledge(flowLog, `${pack}-IAMNoInlinePolicy`, 'aws-cdk-lib flow-log role: writes this VPC\'s flow logs to its log group');
    NagAcknowledgements.acknowledge(vpc, `${pack}-VPCDefaultSecurityGroupClosed`, 'example VPC: every resource has its own security group and the default one is unused');
  }
  return vpc;
}

function acknowledgeExampleDatabase(db: Construct): void {
  const why = 'example database: credentials are generated in Secrets Manager; rotation, proxies and backtracking belong to the application';
  for (const id of ['AwsSolutions-SMG4', 'AwsSolutions-RDS14']) NagAcknowledgements.acknowledge(db, id, why);
  NagAcknowledgements.acknowledge(db, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    'RDS enhanced monitoring role: the AWS-managed policy is the one RDS documents for it');
  for (const pack of COMPLIANCE_NAG_PACKS) NagAcknowledgements.acknowledge(db, `${pack}-SecretsManagerRotationEnabled`, why);
}

if (require.main === module) {
  const app = new App();
  if (app.node.tryGetContext('variant') === 'cross-account') buildCrossAccountDrExampleApp(app);
  else buildDrExampleApp(app);
  app.synth();
}
