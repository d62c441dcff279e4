import * as path from 'path';
import { App, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  BackupComplianceFramework, BackupContent, BackupKey, DeploymentEnvironment, DumpDestination, DynamoPitrBackup, ExternalDbBackupLambda,
  ExternalDbEngine,
  NagAcknowledgements, RdsBackupPolicy, RecoveryTier, RecoveryVault, S3ArchiveLifecycle, TeamAccess,
} from '../src';
import { COMPLIANCE_NAG_PACKS as NAG_COMPLIANCE_PACKS } from '../src/nag/nag-packs';

/** Placeholder accounts/region: synth works offline, no credentials needed. */
export const EXAMPLE_ENV = { account: '111111111111', region: 'eu-west-1' };
/**
 * Dev lives in an account of its own: IAM cannot keep environments apart everywhere inside one account
 * (AWS Backup's list APIs have no resource-level permissions), so production and development backups
 * are separated by account, as AWS recommends.
 */
export const EXAMPLE_DEV_ENV = { account: '222222222222', region: 'eu-west-1' };


/** The four teams of the backup policy, as roles assumed from the account (SSO permission sets in real life). */
export class TeamRoles extends Construct {
  public readonly sre: iam.Role;
  public readonly product: iam.Role;
  public readonly productOwner: iam.Role;
  public readonly development: iam.Role;
  public readonly breakGlass: iam.Role;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const role = (name: string) => new iam.Role(this, name, { assumedBy: new iam.AccountRootPrincipal(), description: `${name} team access to backups` });
    this.sre = role('Sre');
    this.product = role('Product');
    this.productOwner = role('ProductOwner');
    this.development = role('Development');
    this.breakGlass = role('BreakGlass');
    for (const pack of NAG_COMPLIANCE_PACKS) {
      NagAcknowledgements.acknowledge(this, `${pack}-IAMNoInlinePolicy`,
        'team roles receive least-privilege grants as their default policy (iam.Grant); in production they are SSO permission sets');
    }
  }

  /** The access list every protected workload uses; levels default per team and environment. */
  public access(): TeamAccess[] {
    return [
      TeamAccess.sre(this.sre),
      TeamAccess.product(this.product),
      TeamAccess.productOwner(this.productOwner),
      TeamAccess.development(this.development),
    ];
  }
}

export interface WorkloadStackProps extends StackProps {
  readonly environment: DeploymentEnvironment;
}

/**
 * Pro: an Aurora PostgreSQL cluster and an RDS instance, two DynamoDB tables at different tiers, an
 * on-premises PostgreSQL database dumped to S3, and archives for historical data, code and documentation.
 */
export class ProWorkloadStack extends Stack {
  public readonly teams: TeamRoles;
  public readonly vault: RecoveryVault;

  constructor(scope: Construct, id: string, props: WorkloadStackProps) {
    super(scope, id, props);
    const environment = props.environment;
    this.teams = new TeamRoles(this, 'Teams');
    const access = this.teams.access();
    this.vault = new RecoveryVault(this, 'Vault', { environment, breakGlassRole: this.teams.breakGlass });

    // Archives, one per content class of the policy.
    const currentData = new S3ArchiveLifecycle(this, 'CurrentDataArchive', {
      content: BackupContent.CURRENT_DATA, objectives: RecoveryTier.STANDARD, environment, access,
    });
    new S3ArchiveLifecycle(this, 'HistoricalArchive', { content: BackupContent.HISTORICAL_DATA, objectives: RecoveryTier.ARCHIVE, environment, access });
    const code = new S3ArchiveLifecycle(this, 'CodeArchive', { content: BackupContent.CODE, objectives: RecoveryTier.STANDARD, environment, access });
    const ci = new iam.Role(this, 'CiRole', { assumedBy: new iam.AccountRootPrincipal(), description: 'CI pipeline pushing git bundles' });
    code.grantBundleUpload(ci, 'payments-api');
    NagAcknowledgements.acknowledge(ci, 'HIPAA.Security-IAMNoInlinePolicy', 'CI role of the example; grants are its default policy');
    NagAcknowledgements.acknowledge(ci, 'NIST.800.53.R5-IAMNoInlinePolicy', 'CI role of the example; grants are its default policy');
    NagAcknowledgements.acknowledge(ci, 'PCI.DSS.321-IAMNoInlinePolicy', 'CI role of the example; grants are its default policy');
    const documentation = new S3ArchiveLifecycle(this, 'DocumentationArchive', {
      content: BackupContent.DOCUMENTATION, objectives: RecoveryTier.ARCHIVE, environment, access,
    });
    documentation.addDocuments('Procedures', [s3deploy.Source.asset(path.join(__dirname, 'docs'))], 'procedures/');

    // Relational databases: Aurora (critical) and an RDS instance, in isolated subnets.
    const vpc = exampleVpc(this);
    const dbKey = BackupKey.create(this, 'DatabaseKey', { description: 'example databases and their credentials' });
    const aurora = new rds.DatabaseCluster(this, 'Ledger', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
      writer: rds.ClusterInstance.provisioned('Writer', { instanceType: ec2.InstanceType.of(ec2.InstanceClass.R6G, ec2.InstanceSize.LARGE) }),
      readers: [rds.ClusterInstance.provisioned('Reader', { instanceType: ec2.InstanceType.of(ec2.InstanceClass.R6G, ec2.InstanceSize.LARGE) })],
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      credentials: rds.Credentials.fromGeneratedSecret('ledger_admin', { encryptionKey: dbKey }),
      storageEncrypted: true,
      storageEncryptionKey: dbKey,
      deletionProtection: true,
      iamAuthentication: true,
      cloudwatchLogsExports: ['postgresql'],
      monitoringInterval: Duration.seconds(60),
      port: 5433,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    const reporting = new rds.DatabaseInstance(this, 'Reporting', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      multiAz: true,
      credentials: rds.Credentials.fromGeneratedSecret('reporting_admin', { encryptionKey: dbKey }),
      storageEncrypted: true,
      storageEncryptionKey: dbKey,
      deletionProtection: true,
      iamAuthentication: true,
      enablePerformanceInsights: true,
      monitoringInterval: Duration.seconds(60),
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      port: 5433,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    acknowledgeExampleDatabase(aurora);
    // CloudFormation best-practice rule W9008 expects StorageEncrypted on every DBInstance; Aurora members are
    // encrypted by their cluster (aws-cdk-lib matches this acknowledgement app-wide: no other DBInstance here).
    Validations.of(aurora).acknowledge({ id: 'CloudFormation-Validate::W9008', reason: 'Aurora cluster members are encrypted by their cluster' });
    acknowledgeExampleDatabase(reporting);
    new RdsBackupPolicy(this, 'LedgerBackup', {
      clusters: [aurora],
      objectives: RecoveryTier.CRITICAL,
      environment,
      access,
      vault: this.vault,
      sampleExport: { bucket: currentData.bucket, prefix: 'rds-samples/' },
    });
    new RdsBackupPolicy(this, 'ReportingBackup', { instances: [reporting], objectives: RecoveryTier.STANDARD, environment, access, vault: this.vault });

    // DynamoDB: orders are critical, sessions standard.
    const orders = exampleTable(this, 'Orders');
    const sessions = exampleTable(this, 'Sessions');
    new DynamoPitrBackup(this, 'OrdersBackup', {
      tables: [orders],
      objectives: RecoveryTier.CRITICAL,
      environment,
      access,
      vault: this.vault,
      sampleExport: { bucket: currentData.bucket, prefix: 'dynamodb-samples/' },
    });
    new DynamoPitrBackup(this, 'SessionsBackup', { tables: [sessions], objectives: RecoveryTier.STANDARD, environment, access, vault: this.vault });

    // An on-premises PostgreSQL 15 database, dumped hourly to the current-data archive (a different service).
    const onPrem = new secretsmanager.Secret(this, 'CrmConnection', {
      description: 'Connection of the on-premises CRM database (host, port, username, password, dbname); set by the DBA',
      encryptionKey: BackupKey.create(this, 'CrmConnectionKey'),
    });
    NagAcknowledgements.acknowledge(onPrem, 'AwsSolutions-SMG4', 'credentials of an external database are rotated by its DBA, outside AWS');
    for (const pack of NAG_COMPLIANCE_PACKS) {
      NagAcknowledgements.acknowledge(onPrem, `${pack}-SecretsManagerRotationEnabled`, 'credentials of an external database are rotated by its DBA, outside AWS');
    }
    new ExternalDbBackupLambda(this, 'CrmDump', {
      engine: ExternalDbEngine.postgres(15),
      connectionSecret: onPrem,
      databases: ['crm'],
      destination: DumpDestination.archive(currentData),
      objectives: { rpo: Duration.hours(1), rto: Duration.hours(4) },
      environment,
      access,
      alarmTopic: this.vault.notificationTopic,
      // The weekly restore drill runs as a Fargate task in the workload's VPC (the dump itself stays outside).
      drillVpc: vpc,
      drillVpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });

    // Run-time proof: restore testing and the recovery-point monitor come with the constructs above (PRO);
    // the AWS Backup Audit Manager framework checks the same objectives, reporting into the documentation archive.
    new BackupComplianceFramework(this, 'Compliance', {
      environment,
      breakGlassRoles: [this.teams.breakGlass],
      access,
      reportBucket: documentation.bucket,
      reportKeyPrefix: 'procedures/backup-compliance-reports/',
    });
  }
}

/** Dev: one DynamoDB table and a code archive, with the Dev defaults (7 days, no samples, no lock). */
export class DevWorkloadStack extends Stack {
  public readonly teams: TeamRoles;

  constructor(scope: Construct, id: string, props: WorkloadStackProps) {
    super(scope, id, props);
    const environment = props.environment;
    this.teams = new TeamRoles(this, 'Teams');
    const access = this.teams.access();
    new DynamoPitrBackup(this, 'OrdersBackup', { tables: [exampleTable(this, 'Orders')], objectives: RecoveryTier.STANDARD, environment, access });
    new S3ArchiveLifecycle(this, 'CodeArchive', { content: BackupContent.CODE, objectives: RecoveryTier.STANDARD, environment, access });
  }
}

function exampleTable(scope: Construct, id: string): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, id, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    deletionProtection: true,
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
  });
}

function exampleVpc(scope: Construct): ec2.Vpc {
  const cidr = '10.0.0.0/16';
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr(cidr),
    maxAzs: 2, // zones of the placeholder account come from cdk.json's context: synth needs no AWS credentials
    natGateways: 0,
    subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const flowLogs = new logs.LogGroup(scope, 'VpcFlowLogs', {
    retention: logs.RetentionDays.ONE_YEAR,
    encryptionKey: (() => {
      const key = BackupKey.create(scope, 'VpcFlowLogsKey');
      key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${Stack.of(scope).region}.amazonaws.com`));
      return key;
    })(),
  });
  const flowLog = vpc.addFlowLog('FlowLogs', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) });
  // No internet route: the restore drill's task pulls its image from ECR and reads the dumps through endpoints,
  // reachable over HTTPS from the VPC only.
  vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  const endpoints = new ec2.SecurityGroup(scope, 'EndpointsSecurityGroup', { vpc, description: 'VPC endpoints: HTTPS from the VPC', allowAllOutbound: false });
  endpoints.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
  for (const [id, service] of [
    ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
    ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
    ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
  ] as const) {
    vpc.addInterfaceEndpoint(id, { service, securityGroups: [endpoints], open: false });
  }
  for (const pack of NAG_COMPLIANCE_PACKS) {
    NagAcknowledgements.acknowledge(flowLog, `${pack}-IAMNoInlinePolicy`, 'aws-cdk-lib flow-log role: writes this VPC\'s flow logs to its log group');
    NagAcknowledgements.acknowledge(vpc, `${pack}-VPCDefaultSecurityGroupClosed`,
      'example VPC: every resource has its own security group and the default one is unused');
  }
  return vpc;
}

/** Findings on the example's databases that belong to the application, not to backup, each with its reason. */
function acknowledgeExampleDatabase(db: Construct): void {
  const why = 'example database: credentials are generated in Secrets Manager; rotation, proxies and backtracking belong to the application';
  for (const id of ['AwsSolutions-SMG4', 'AwsSolutions-RDS14']) NagAcknowledgements.acknowledge(db, id, why);
  NagAcknowledgements.acknowledge(db, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    'RDS enhanced monitoring role: the AWS-managed policy is the one RDS documents for it');

  for (const pack of NAG_COMPLIANCE_PACKS) {
    NagAcknowledgements.acknowledge(db, `${pack}-SecretsManagerRotationEnabled`, why);
  }
}

/** Builds the example app: a Pro and a Dev workload stack. */
export function buildExampleApp(app: App): Stack[] {
  return [
    new ProWorkloadStack(app, 'BackupDrExamplePro', { env: EXAMPLE_ENV, environment: DeploymentEnvironment.PRO }),
    new DevWorkloadStack(app, 'BackupDrExampleDev', { env: EXAMPLE_DEV_ENV, environment: DeploymentEnvironment.DEV }),
  ];
}
