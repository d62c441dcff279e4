import { Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { findingsOf, stackIn } from './findings';

const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 });

function instance(scope: Construct, id: string, props: Partial<rds.DatabaseInstanceProps> = {}): rds.DatabaseInstance {
  const vpc = (scope.node.tryFindChild('Vpc') as ec2.Vpc | undefined) ?? new ec2.Vpc(scope, 'Vpc', { maxAzs: 2, natGateways: 0 });
  return new rds.DatabaseInstance(scope, id, {
    engine, vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, storageEncrypted: true, ...props,
  });
}

function cluster(scope: Construct, id: string): rds.DatabaseCluster {
  const vpc = new ec2.Vpc(scope, 'Vpc', { maxAzs: 2, natGateways: 0 });
  return new rds.DatabaseCluster(scope, id, {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    writer: rds.ClusterInstance.serverlessV2('Writer'),
  });
}

describe('RDSInstanceBackedUp', () => {
  test('an instance no selection covers is a finding', () => {
    expect(findingsOf('RDSInstanceBackedUp', (app) => { instance(stackIn(app), 'Db'); }))
      .toEqual(['BackupDR-RDSInstanceBackedUp at Stack/Db/Resource']);
  });

  test('an instance selected by construct is compliant', () => {
    expect(findingsOf('RDSInstanceBackedUp', (app) => {
      const stack = stackIn(app);
      const db = instance(stack, 'Db');
      backup.BackupPlan.daily35DayRetention(stack, 'Plan').addSelection('Sel', { resources: [backup.BackupResource.fromRdsDatabaseInstance(db)] });
    })).toEqual([]);
  });

  test('an instance with a known identifier is covered by an ARN pattern', () => {
    expect(findingsOf('RDSInstanceBackedUp', (app) => {
      const stack = stackIn(app);
      instance(stack, 'Db', { instanceIdentifier: 'Orders-DB' });
      backup.BackupPlan.daily35DayRetention(stack, 'Plan')
        .addSelection('Sel', { resources: [backup.BackupResource.fromArn('arn:aws:rds:eu-west-1:111111111111:db:orders-*')] });
    })).toEqual([]);
  });

  test('Aurora cluster members are not applicable (the cluster is checked)', () => {
    expect(findingsOf('RDSInstanceBackedUp', (app) => { cluster(stackIn(app), 'Aurora'); })).toEqual([]);
  });
});

describe('RDSClusterBackedUp', () => {
  test('a cluster no selection covers is a finding', () => {
    expect(findingsOf('RDSClusterBackedUp', (app) => { cluster(stackIn(app), 'Aurora'); }))
      .toEqual(['BackupDR-RDSClusterBackedUp at Stack/Aurora/Resource']);
  });

  test('a cluster selected by construct is compliant', () => {
    expect(findingsOf('RDSClusterBackedUp', (app) => {
      const stack = stackIn(app);
      const db = cluster(stack, 'Aurora');
      backup.BackupPlan.daily35DayRetention(stack, 'Plan').addSelection('Sel', { resources: [backup.BackupResource.fromRdsDatabaseCluster(db)] });
    })).toEqual([]);
  });
});

describe('RDSBackupRetentionEnabled', () => {
  test('backup retention 0 is a finding', () => {
    expect(findingsOf('RDSBackupRetentionEnabled', (app) => { instance(stackIn(app), 'Db', { backupRetention: Duration.days(0) }); }))
      .toEqual(['BackupDR-RDSBackupRetentionEnabled at Stack/Db/Resource']);
  });

  test('the default and an explicit retention comply', () => {
    expect(findingsOf('RDSBackupRetentionEnabled', (app) => {
      const stack = stackIn(app);
      instance(stack, 'Db');
      cluster(stackIn(app, 'Other'), 'Aurora');
    })).toEqual([]);
  });
});
