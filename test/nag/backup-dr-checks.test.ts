import { Duration, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { backupDrFindings, stackIn } from './rules/findings';
import { buildUnprotectedApp } from '../../examples/unprotected-app';
import { DeploymentEnvironment, RecoveryTier } from '../../src/core';
import { DynamoPitrBackup } from '../../src/dynamodb';
import { BackupDrChecks } from '../../src/nag/backup-dr-checks';
import { NagAcknowledgements } from '../../src/nag/nag-acknowledgements';

const pk = { name: 'pk', type: dynamodb.AttributeType.STRING };

describe('BackupDrChecks', () => {
  test('is a cdk-nag 3 validation plugin named BackupDR', () => {
    const pack = new BackupDrChecks();
    expect(pack.name).toBe('BackupDR');
    expect(pack.readPackName).toBe('BackupDR');
  });

  test('a finding names the resource, the rule and the fix', () => {
    const findings = backupDrFindings((app) => { new s3.Bucket(stackIn(app), 'Uploads'); });
    expect(findings).toContainEqual({
      rule: 'BackupDR-S3BucketBackedUp',
      path: 'Stack/Uploads/Resource',
      severity: 'error',
      description: expect.stringMatching(/S3 bucket is not protected.*Fix: protect it with a cdk-backup-dr construct/),
    });
  });

  test('verbose adds the explanation', () => {
    const findings = backupDrFindings((app) => { new s3.Bucket(stackIn(app), 'Uploads'); }, { verbose: true });
    expect(findings.find((f) => f.rule === 'BackupDR-S3BucketBackedUp')?.description).toMatch(/lost for good/);
  });

  test('acknowledgements through Validations.of and NagAcknowledgements silence exactly the acknowledged findings', () => {
    const build = (acknowledge: boolean) => (app: any) => {
      const stack = stackIn(app);
      const bucket = new s3.Bucket(stack, 'Scratch');
      const table = new dynamodb.Table(stack, 'Cache', { partitionKey: pk });
      const plan = new backup.BackupPlan(stack, 'Plan', { backupVault: new backup.BackupVault(stack, 'Vault', { blockRecoveryPointDeletion: true }) });
      plan.addRule(new backup.BackupPlanRule({ ruleName: 'Short', deleteAfter: Duration.days(3) }));
      plan.addSelection('Sel', { resources: [backup.BackupResource.fromDynamoDbTable(table)] });
      if (acknowledge) {
        Validations.of(bucket).acknowledge({ id: 'BackupDR-S3BucketBackedUp', reason: 'scratch space, rebuilt from the source on every run' });
        NagAcknowledgements.acknowledge(table, 'BackupDR-DynamoDBPointInTimeRecovery', 'cache: rebuilt from the orders table in minutes');
        NagAcknowledgements.acknowledge(plan, 'BackupDR-BackupPlanMinimumRetention[Short]', 'cache backups only bridge a deployment');
      }
    };
    const rules = (ack: boolean) => backupDrFindings(build(ack), { defaultEnvironment: DeploymentEnvironment.DEV }).map((f) => `${f.rule} at ${f.path}`).sort();
    expect(rules(false)).toEqual([
      'BackupDR-BackupPlanMinimumRetention[Short] at Stack/Plan/Resource',
      'BackupDR-DynamoDBPointInTimeRecovery at Stack/Cache/Resource',
      'BackupDR-S3BucketBackedUp at Stack/Scratch/Resource',
    ]);
    expect(rules(true)).toEqual([]);
  });

  test('an app protected by the library constructs has only the findings the roadmap explains (no DR site yet)', () => {
    const findings = backupDrFindings((app) => {
      const stack = stackIn(app);
      const tables = [1, 2].map((i) => new dynamodb.Table(stack, `T${i}`, { partitionKey: pk }));
      new DynamoPitrBackup(stack, 'Backup', { tables, objectives: RecoveryTier.CRITICAL, environment: DeploymentEnvironment.PRO });
    }, { maxRpo: Duration.hours(24) });
    expect(findings.map((f) => f.rule)).toEqual(['BackupDR-BackupPlanProCopiesToDrSite']);
  });

  test('finds every gap of examples/unprotected-app.ts', () => {
    const findings = backupDrFindings((app) => { buildUnprotectedApp(app); }, { maxRpo: Duration.hours(24) });
    expect(findings.map((f) => `${f.rule} at ${f.path}`).sort()).toEqual([
      'BackupDR-BackupPlanMeetsRpo at ShopData/ProdPlan/Resource',
      'BackupDR-BackupPlanMinimumRetention[Daily] at ShopData/ProdPlan/Resource',
      'BackupDR-BackupPlanProCopiesToDrSite at ShopData/ProdPlan/Resource',
      'BackupDR-BackupVaultDeniesRecoveryPointDeletion at ShopData/ProdVault/Resource',
      'BackupDR-BackupVaultProLocked at ShopData/ProdVault/Resource',
      'BackupDR-DynamoDBPointInTimeRecovery at ShopData/Orders/Resource',
      'BackupDR-DynamoDBPointInTimeRecovery at ShopData/Sessions/Resource',
      'BackupDR-DynamoDBTableBackedUp at ShopData/Sessions/Resource',
      'BackupDR-EFSFileSystemBackedUp at ShopData/SharedFiles/Resource',
      'BackupDR-RDSBackupRetentionEnabled at ShopData/Billing/Resource',
      'BackupDR-RDSInstanceBackedUp at ShopData/Billing/Resource',
      'BackupDR-S3BucketBackedUp at ShopData/Uploads/Resource',
    ]);
  });
});
