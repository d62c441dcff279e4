import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DR_OTHER_ACCOUNT, twoRegions } from './support';
import { DrStrategy } from '../../src/core/dr-strategy';
import { DeploymentEnvironment } from '../../src/core/environment';
import { RecoveryTier } from '../../src/core/recovery-objectives';
import { inScope } from '../../src/core/validation';
import { applyDynamoDbDr } from '../../src/dr/dynamodb-dr';

const PRO = DeploymentEnvironment.PRO;
const pk = { name: 'pk', type: dynamodb.AttributeType.STRING };

describe('applyDynamoDbDr', () => {
  test('WARM_STANDBY adds a replica in the DR region to each TableV2 (once) and needs advanced features', () => {
    const { site, primary, scope } = twoRegions(DrStrategy.WARM_STANDBY);
    const orders = new dynamodb.TableV2(primary, 'Orders', { partitionKey: pk });
    const already = new dynamodb.TableV2(primary, 'Already', { partitionKey: pk, replicas: [{ region: 'eu-central-1' }] });
    const result = applyDynamoDbDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, tables: [orders, already] });
    expect(result).toEqual({ strategy: DrStrategy.WARM_STANDBY, advancedBackupFeatures: true, replicatedTables: ['Primary/Orders', 'Primary/Already'] });
    const t = Template.fromStack(primary);
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
    for (const table of Object.values(t.findResources('AWS::DynamoDB::GlobalTable')) as any[]) {
      expect(table.Properties.Replicas.map((r: any) => r.Region).sort()).toEqual(['eu-central-1', 'eu-west-1']);
    }
  });

  test('without a declared strategy, a CRITICAL table gets a replica; a STANDARD table only copies', () => {
    const { site, primary, scope } = twoRegions();
    const hot = new dynamodb.TableV2(primary, 'Hot', { partitionKey: pk });
    const cold = new dynamodb.TableV2(primary, 'Cold', { partitionKey: pk });
    const base = { drSite: site, environment: PRO };
    expect(applyDynamoDbDr(scope, { ...base, objectives: RecoveryTier.CRITICAL, tables: [hot] }).strategy).toBe(DrStrategy.WARM_STANDBY);
    expect(applyDynamoDbDr(scope, { ...base, objectives: RecoveryTier.STANDARD, tables: [cold] }).replicatedTables).toEqual([]);
    const t = Template.fromStack(primary);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', { Replicas: [Match.objectLike({ Region: 'eu-west-1' })] });
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', { Replicas: Match.arrayWith([Match.objectLike({ Region: 'eu-central-1' })]) });
  });

  describe('refusals', () => {
    test('cross-region copies without advanced DynamoDB features', () => {
      const { site, primary, scope } = twoRegions();
      const t = new dynamodb.TableV2(primary, 'T', { partitionKey: pk });
      const options = { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, tables: [t], advancedBackupFeatures: false };
      expect(() => inScope(scope, () => applyDynamoDbDr(scope, options)))
        .toThrow(/^\[Primary\/Protection\] advancedBackupFeatures is false, but copies of DynamoDB backups to the DR site Dr\/Site .* set advancedBackupFeatures: true/);
    });

    test('a Table (v1) or an imported table cannot get a replica: the error names it', () => {
      const { site, primary, scope } = twoRegions(DrStrategy.WARM_STANDBY);
      const v1 = new dynamodb.Table(primary, 'Legacy', { partitionKey: pk });
      expect(() => applyDynamoDbDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, tables: [v1] }))
        .toThrow(/needs a replica of Primary\/Legacy in eu-central-1, but the table is a dynamodb.Table \(v1\).*define it as a dynamodb.TableV2/);
      const imported = dynamodb.TableV2.fromTableName(primary, 'Imported', 'orders');
      expect(() => applyDynamoDbDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, tables: [imported] }))
        .toThrow(/needs a replica of Primary\/Imported in eu-central-1, but the table is not defined in this app/);
    });

    test('a customer-managed key without a replica key for the DR region', () => {
      const { site, primary, scope } = twoRegions(DrStrategy.MULTI_SITE);
      const key = new kms.Key(primary, 'Key', { enableKeyRotation: true });
      const t = new dynamodb.TableV2(primary, 'T', { partitionKey: pk, encryption: dynamodb.TableEncryptionV2.customerManagedKey(key) });
      expect(() => applyDynamoDbDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, tables: [t] }))
        .toThrow(/encrypted with a customer-managed key and has no replica key for eu-central-1; pass TableEncryptionV2.customerManagedKey\(key, \{ 'eu-central-1'/);
    });

    test('replicas for a cross-account site', () => {
      const { site, primary, scope } = twoRegions(DrStrategy.WARM_STANDBY, { sourceAccounts: ['111111111111'] }, DR_OTHER_ACCOUNT);
      const t = new dynamodb.TableV2(primary, 'T', { partitionKey: pk });
      expect(() => applyDynamoDbDr(scope, { drSite: site, environment: PRO, objectives: RecoveryTier.STANDARD, tables: [t] }))
        .toThrow(/global table replicas live in the table's account \(111111111111\), not in the site's \(222222222222\)/);
    });
  });
});
