import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { DR_OTHER_ACCOUNT, twoRegions } from './support';
import { DrStrategy } from '../../src/core/dr-strategy';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { DynamoPitrBackup } from '../../src/dynamodb/dynamo-pitr-backup';
import { RdsBackupPolicy } from '../../src/rds/rds-backup-policy';
import { synthTemplate } from '../support/app';

const PRO = DeploymentEnvironment.PRO;
const pk = { name: 'pk', type: dynamodb.AttributeType.STRING };
const DR_VAULT = 'arn:aws:backup:eu-central-1:111111111111:backup-vault:backup-dr-pro-vault';
const copiesToDr = Match.objectLike({ CopyActions: [Match.objectLike({ DestinationBackupVaultArn: DR_VAULT })] });
/** Every construct given a drSite copies its recovery points into the DR vault (through the plan registry). */
function expectCopies(t: Template) {
  t.hasResourceProperties('AWS::Backup::BackupPlan', { BackupPlan: { BackupPlanRule: Match.arrayWith([copiesToDr]) } });
}

describe('constructs wired to a DR site', () => {
  test('DynamoPitrBackup: copies into the DR vault, advanced features on, replica for a CRITICAL table', () => {
    const { site, primary } = twoRegions();
    const orders = new dynamodb.TableV2(primary, 'Orders', { partitionKey: pk });
    const b = new DynamoPitrBackup(primary, 'OrdersBackup', { tables: [orders], objectives: RecoveryTier.CRITICAL, environment: PRO, drSite: site });
    expect(b.regionSettings).toBeDefined();
    const t = synthTemplate(primary);
    expectCopies(t);
    t.hasResourceProperties('Custom::BackupRegionSettings', Match.anyValue());
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([Match.objectLike({
        Region: 'eu-central-1', PointInTimeRecoverySpecification: Match.objectLike({ PointInTimeRecoveryEnabled: true }),
      })]),
    });
  });

  test('DynamoPitrBackup: advancedBackupFeatures: false with a DR site is refused with the construct path', () => {
    const { site, primary } = twoRegions();
    const t = new dynamodb.TableV2(primary, 'T', { partitionKey: pk });
    expect(() => new DynamoPitrBackup(primary, 'B', {
      tables: [t], objectives: RecoveryTier.STANDARD, environment: PRO, drSite: site, advancedBackupFeatures: false,
    })).toThrow(/\[Primary\/B\] advancedBackupFeatures is false, but copies of DynamoDB backups to the DR site/);
  });

  test('RdsBackupPolicy: copies plus cross-Region automated backups for an hourly RPO', () => {
    const { site, primary } = twoRegions(DrStrategy.PILOT_LIGHT);
    const vpc = new ec2.Vpc(primary, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const db = new rds.DatabaseInstance(primary, 'Db', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      storageEncryptionKey: new kms.Key(primary, 'Key', { enableKeyRotation: true }),
    });
    new RdsBackupPolicy(primary, 'DbBackup', { instances: [db], objectives: { rpo: Duration.hours(1), rto: Duration.hours(8) }, environment: PRO, drSite: site });
    const t = synthTemplate(primary);
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      AutomaticBackupReplicationRegion: 'eu-central-1',
      AutomaticBackupReplicationKmsKeyId: 'arn:aws:kms:eu-central-1:111111111111:alias/backup-dr-pro',
      AutomaticBackupReplicationRetentionPeriod: Match.anyValue(),
    });
    expectCopies(t);
    Annotations.fromStack(site.node.scope as any).hasInfo('/Dr/Site', Match.stringLikeRegexp('^DR strategy PILOT_LIGHT \\(declared\\)'));
  });

  test('RdsBackupPolicy: a cross-account site is refused for databases', () => {
    const { site, primary } = twoRegions(undefined, { sourceAccounts: ['111111111111'] }, DR_OTHER_ACCOUNT);
    const vpc = new ec2.Vpc(primary, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const db = new rds.DatabaseInstance(primary, 'Db', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      storageEncryptionKey: new kms.Key(primary, 'Key', { enableKeyRotation: true }),
    });
    expect(() => new RdsBackupPolicy(primary, 'DbBackup', { instances: [db], objectives: RecoveryTier.STANDARD, environment: PRO, drSite: site }))
      .toThrow(/\[Primary\/DbBackup\] drSite: RDS instances copies to the DR site Dr\/Site would go to another account/);
  });
});

