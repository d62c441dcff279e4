import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { findingsOf, stackIn } from './findings';
import { BackupCatalogMetadata, CatalogResourceType } from '../../../src/core/catalog-metadata';

const pk = { name: 'pk', type: dynamodb.AttributeType.STRING };

describe('DynamoDBTableBackedUp', () => {
  test('a table no selection covers is a finding naming the table', () => {
    expect(findingsOf('DynamoDBTableBackedUp', (app) => {
      new dynamodb.Table(stackIn(app), 'Orders', { partitionKey: pk });
    })).toEqual(['BackupDR-DynamoDBTableBackedUp at Stack/Orders/Resource']);
  });

  test('a table selected by construct (ARN reference) is compliant', () => {
    expect(findingsOf('DynamoDBTableBackedUp', (app) => {
      const stack = stackIn(app);
      const table = new dynamodb.Table(stack, 'Orders', { partitionKey: pk });
      backup.BackupPlan.daily35DayRetention(stack, 'Plan').addSelection('Sel', { resources: [backup.BackupResource.fromDynamoDbTable(table)] });
    })).toEqual([]);
  });

  test('a TableV2 (GlobalTable) selected by tag is compliant; another tag value is not', () => {
    const build = (value: string) => (app: any) => {
      const stack = stackIn(app);
      const table = new dynamodb.TableV2(stack, 'Orders', { partitionKey: pk, removalPolicy: RemovalPolicy.DESTROY });
      Tags.of(table).add('backup', value);
      backup.BackupPlan.daily35DayRetention(stack, 'Plan').addSelection('Sel', { resources: [backup.BackupResource.fromTag('backup', 'daily')] });
    };
    expect(findingsOf('DynamoDBTableBackedUp', build('daily'))).toEqual([]);
    expect(findingsOf('DynamoDBTableBackedUp', build('never'))).toEqual(['BackupDR-DynamoDBTableBackedUp at Stack/Orders/Resource']);
  });

  test('a table in another stack selected by ARN (cross-stack import) is compliant', () => {
    expect(findingsOf('DynamoDBTableBackedUp', (app) => {
      const table = new dynamodb.Table(stackIn(app, 'Data'), 'Orders', { partitionKey: pk });
      backup.BackupPlan.daily35DayRetention(stackIn(app, 'Backup'), 'Plan')
        .addSelection('Sel', { resources: [backup.BackupResource.fromArn(table.tableArn)] });
    })).toEqual([]);
  });

  test('an ARN wildcard selection covers every table; NotResources takes one out', () => {
    expect(findingsOf('DynamoDBTableBackedUp', (app) => {
      const stack = stackIn(app);
      new dynamodb.Table(stack, 'Orders', { partitionKey: pk, tableName: 'orders' });
      new dynamodb.Table(stack, 'Scratch', { partitionKey: pk, tableName: 'scratch' });
      const plan = backup.BackupPlan.daily35DayRetention(stack, 'Plan');
      new backup.CfnBackupSelection(stack, 'Sel', {
        backupPlanId: plan.backupPlanId,
        backupSelection: {
          selectionName: 'all-tables',
          iamRoleArn: 'arn:aws:iam::111111111111:role/backup',
          resources: ['arn:aws:dynamodb:*:*:table/*'],
          notResources: ['arn:aws:dynamodb:eu-west-1:111111111111:table/scratch'],
        },
      });
    })).toEqual(['BackupDR-DynamoDBTableBackedUp at Stack/Scratch/Resource']);
  });

  test('a table listed in the resources of a cdk-backup-dr inventory row is covered', () => {
    const build = (listed: boolean) => (app: any) => {
      const stack = stackIn(app);
      const table = new dynamodb.Table(stack, 'Orders', { partitionKey: pk });
      BackupCatalogMetadata.record(new Construct(stack, 'Protection'), {
        backupName: 'Stack/Protection',
        content: 'Current data',
        periodicity: 'daily',
        environment: 'Pro',
        supportType: 'native PITR',
        location: 'eu-west-1',
        rpo: '15 minutes',
        rto: '1 hour',
        resources: listed ? [{ type: CatalogResourceType.DYNAMODB_TABLE, identifier: table.tableName, arn: table.tableArn }] : [],
      });
    };
    expect(findingsOf('DynamoDBTableBackedUp', build(true))).toEqual([]);
    expect(findingsOf('DynamoDBTableBackedUp', build(false))).toHaveLength(1);
  });

  test('tag Conditions are ANDed with the resources', () => {
    const build = (env: string) => (app: any) => {
      const stack = stackIn(app);
      const table = new dynamodb.Table(stack, 'Orders', { partitionKey: pk });
      Tags.of(table).add('env', env);
      const plan = backup.BackupPlan.daily35DayRetention(stack, 'Plan');
      new backup.CfnBackupSelection(stack, 'Sel', {
        backupPlanId: plan.backupPlanId,
        backupSelection: {
          selectionName: 'prod',
          iamRoleArn: 'arn:aws:iam::111111111111:role/backup',
          resources: ['*'],
          conditions: { StringEquals: [{ ConditionKey: 'aws:ResourceTag/env', ConditionValue: 'prod' }] },
        },
      });
    };
    expect(findingsOf('DynamoDBTableBackedUp', build('prod'))).toEqual([]);
    expect(findingsOf('DynamoDBTableBackedUp', build('dev'))).toHaveLength(1);
  });
});

describe('DynamoDBPointInTimeRecovery', () => {
  test('a table without PITR is a finding', () => {
    expect(findingsOf('DynamoDBPointInTimeRecovery', (app) => {
      new dynamodb.Table(stackIn(app), 'Orders', { partitionKey: pk });
    })).toEqual(['BackupDR-DynamoDBPointInTimeRecovery at Stack/Orders/Resource']);
  });

  test('a table with PITR is compliant', () => {
    expect(findingsOf('DynamoDBPointInTimeRecovery', (app) => {
      new dynamodb.Table(stackIn(app), 'Orders', { partitionKey: pk, pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } });
    })).toEqual([]);
  });

  test('a TableV2 needs PITR on every replica', () => {
    const build = (on: boolean) => (app: any) => {
      new dynamodb.TableV2(stackIn(app), 'Orders', {
        partitionKey: pk,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        replicas: [{ region: 'eu-central-1', pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: on } }],
      });
    };
    expect(findingsOf('DynamoDBPointInTimeRecovery', build(true))).toEqual([]);
    expect(findingsOf('DynamoDBPointInTimeRecovery', build(false))).toEqual(['BackupDR-DynamoDBPointInTimeRecovery at Stack/Orders/Resource']);
  });

  test('an escape-hatch override that turns PITR off is seen', () => {
    expect(findingsOf('DynamoDBPointInTimeRecovery', (app) => {
      const t = new dynamodb.Table(stackIn(app), 'Orders', { partitionKey: pk, pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } });
      (t.node.defaultChild as dynamodb.CfnTable).addPropertyOverride('PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled', false);
    })).toHaveLength(1);
  });
});
