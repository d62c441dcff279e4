import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { DR_OTHER_ACCOUNT, twoRegions } from './support';
import { DrStrategy } from '../../src/core/dr-strategy';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { inScope } from '../../src/core/validation';
import { applyRdsDr } from '../../src/dr/rds-replication';

const PRO = DeploymentEnvironment.PRO;
const HOURLY = { rpo: Duration.hours(1), rto: Duration.hours(8) };

function instance(scope: Construct, id: string, props: Partial<rds.DatabaseInstanceProps> = {}) {
  const vpc = (scope.node.tryFindChild('Vpc') as ec2.Vpc) ?? new ec2.Vpc(scope, 'Vpc', { maxAzs: 2, natGateways: 0 });
  return new rds.DatabaseInstance(scope, id, {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    backupRetention: Duration.days(14),
    ...props,
  });
}

describe('applyRdsDr', () => {
  test('PILOT_LIGHT and up: automated backups replicate to the DR region with the site key and retention', () => {
    const { site, primary, scope } = twoRegions(DrStrategy.PILOT_LIGHT);
    const db = instance(primary, 'Db', { storageEncryptionKey: new kms.Key(primary, 'DbKey', { enableKeyRotation: true }) });
    const plain = instance(primary, 'Plain', { storageEncrypted: false });
    const result = inScope(scope, () => applyRdsDr(scope, { drSite: site, environment: PRO, objectives: HOURLY, instances: [db, plain] }));
    expect(result).toEqual({ instanceStrategy: DrStrategy.PILOT_LIGHT, clusterStrategy: undefined, replicatedInstances: ['Primary/Db', 'Primary/Plain'] });
    const t = Template.fromStack(primary);
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      StorageEncrypted: true,
      AutomaticBackupReplicationRegion: 'eu-central-1',
      AutomaticBackupReplicationKmsKeyId: 'arn:aws:kms:eu-central-1:111111111111:alias/backup-dr-pro',
      AutomaticBackupReplicationRetentionPeriod: 14,
    });
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      StorageEncrypted: false,
      AutomaticBackupReplicationRegion: 'eu-central-1',
      AutomaticBackupReplicationKmsKeyId: Match.absent(),
    });
  });

  test('without a declared strategy, an RPO of 1 hour picks PILOT_LIGHT; 24 hours stays BACKUP_AND_RESTORE (copies only)', () => {
    const a = twoRegions();
    const db = instance(a.primary, 'Db');
    const options = { drSite: a.site, environment: PRO, objectives: HOURLY, instances: [db], replicationRetentionDays: 7 };
    expect(applyRdsDr(a.scope, options).instanceStrategy).toBe(DrStrategy.PILOT_LIGHT);
    Template.fromStack(a.primary).hasResourceProperties('AWS::RDS::DBInstance', { AutomaticBackupReplicationRetentionPeriod: 7 });
    const b = twoRegions();
    const other = instance(b.primary, 'Db');
    const standard = { drSite: b.site, environment: PRO, objectives: RecoveryTier.STANDARD, instances: [other] };
    expect(applyRdsDr(b.scope, standard).replicatedInstances).toEqual([]);
    Template.fromStack(b.primary).hasResourceProperties('AWS::RDS::DBInstance', { AutomaticBackupReplicationRegion: Match.absent() });
  });

  test('Aurora clusters get copies only, with a warning about the global database from PILOT_LIGHT up', () => {
    const { site, primary, scope } = twoRegions(DrStrategy.PILOT_LIGHT);
    const vpc = new ec2.Vpc(primary, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const cluster = new rds.DatabaseCluster(primary, 'Aurora', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
      writer: rds.ClusterInstance.serverlessV2('Writer'),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });
    const result = applyRdsDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, clusters: [cluster] });
    expect(result.clusterStrategy).toBe(DrStrategy.PILOT_LIGHT);
    Annotations.fromStack(primary).hasWarning('/Primary/Protection', Match.stringLikeRegexp('Aurora clusters get copies into the DR vault only'));
  });

  describe('refusals', () => {
    test('cross-account copies of a database encrypted with the AWS-managed key', () => {
      const { site, primary, scope } = twoRegions(undefined, { sourceAccounts: ['111111111111'] }, DR_OTHER_ACCOUNT);
      const db = instance(primary, 'Db', { storageEncrypted: true });
      expect(() => inScope(scope, () => applyRdsDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, instances: [db] })))
        .toThrow(/^\[Primary\/Protection\] drSite: Primary\/Db is encrypted with the AWS-managed key aws\/rds, which cannot be shared with account 222222222222.*encrypt it with a customer-managed key \(storageEncryptionKey\)/);
    });

    test('RDS/Aurora copies that are cross-account and cross-Region at once', () => {
      const { site, primary, scope } = twoRegions(undefined, { sourceAccounts: ['111111111111'] }, DR_OTHER_ACCOUNT);
      const db = instance(primary, 'Db', { storageEncryptionKey: new kms.Key(primary, 'K', { enableKeyRotation: true }) });
      expect(() => applyRdsDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, instances: [db] }))
        .toThrow(/drSite: RDS instances copies to the DR site Dr\/Site would go to another account \(222222222222\) and another Region \(eu-central-1\) at once.*protect RDS and Aurora with a DR site in this account \(111111111111\)/);
    });

    test('an imported instance cannot replicate its automated backups from here', () => {
      const { site, primary, scope } = twoRegions(DrStrategy.PILOT_LIGHT);
      const db = rds.DatabaseInstance.fromDatabaseInstanceAttributes(primary, 'Imported', {
        instanceIdentifier: 'orders', instanceEndpointAddress: 'orders.example', port: 5432, securityGroups: [],
      });
      expect(() => applyRdsDr(scope, { drSite: site, environment: PRO, objectives: HOURLY, instances: [db] }))
        .toThrow(/drSite: Primary\/Imported is not defined in this app, so its AutomaticBackupReplicationRegion cannot be set/);
    });

    test('automated backups off, or a bad replication retention', () => {
      const a = twoRegions(DrStrategy.PILOT_LIGHT);
      const off = instance(a.primary, 'Off', { backupRetention: Duration.days(0) });
      expect(() => applyRdsDr(a.scope, { drSite: a.site, environment: PRO, objectives: HOURLY, instances: [off] }))
        .toThrow(/drSite: Primary\/Off has automated backups turned off \(backupRetention 0\)/);
      const b = twoRegions(DrStrategy.PILOT_LIGHT);
      const db = instance(b.primary, 'Db');
      expect(() => applyRdsDr(b.scope, { drSite: b.site, environment: PRO, objectives: HOURLY, instances: [db], replicationRetentionDays: 60 }))
        .toThrow(/replicated automated backups of Primary\/Db would be kept 60 days, but RDS keeps them 1 to 35 whole days/);
    });

    test('an instance that already replicates to another region', () => {
      const { site, primary, scope } = twoRegions(DrStrategy.PILOT_LIGHT);
      const db = instance(primary, 'Db');
      (db.node.defaultChild as rds.CfnDBInstance).automaticBackupReplicationRegion = 'us-east-1';
      expect(() => applyRdsDr(scope, { drSite: site, environment: PRO, objectives: HOURLY, instances: [db] }))
        .toThrow(/already replicates its automated backups to us-east-1, not to the DR site's region eu-central-1/);
    });

    test('an RTO the strategy cannot meet', () => {
      const { site, primary, scope } = twoRegions(DrStrategy.WARM_STANDBY);
      const db = instance(primary, 'Db');
      expect(() => applyRdsDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.CRITICAL, instances: [db] }))
        .toThrow(/objectives\.rpo 15 minutes \(bound 30 minutes\) and objectives\.rto 1 hour \(bound 4 hours\) of Primary\/Protection \(RDS instances\) cannot be met by strategy WARM_STANDBY/);
    });
  });
});
