import { Duration, Tags } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { findingsOf, stackIn } from './findings';
import { DeploymentEnvironment, RecoveryTier } from '../../../src/core';
import { DynamoPitrBackup } from '../../../src/dynamodb';
import { RecoveryVault } from '../../../src/foundation';

const pk = { name: 'pk', type: dynamodb.AttributeType.STRING };

/** A plan with one rule and a selection of a table tagged with `env`. */
function plainPlan(scope: Construct, rule: Partial<backup.BackupPlanRuleProps>, opts: { env?: string; vault?: backup.IBackupVault } = {}) {
  const plan = new backup.BackupPlan(scope, 'Plan', { backupVault: opts.vault ?? new backup.BackupVault(scope, 'Vault') });
  plan.addRule(new backup.BackupPlanRule({ ruleName: 'Routine', deleteAfter: Duration.days(35), ...rule }));
  const table = new dynamodb.Table(scope, 'Orders', { partitionKey: pk });
  if (opts.env) Tags.of(table).add('environment', opts.env);
  plan.addSelection('Sel', { resources: [backup.BackupResource.fromDynamoDbTable(table)] });
  return plan;
}

describe('BackupPlanProCopiesToDrSite', () => {
  test('a plan selecting a table tagged environment=Pro without copy actions is a finding', () => {
    expect(findingsOf('BackupPlanProCopiesToDrSite', (app) => { plainPlan(stackIn(app), {}, { env: 'Pro' }); }))
      .toEqual(['BackupDR-BackupPlanProCopiesToDrSite at Stack/Plan/Resource']);
  });

  test('a PRO plan that copies to another vault is compliant; a Dev plan is not applicable', () => {
    expect(findingsOf('BackupPlanProCopiesToDrSite', (app) => {
      const stack = stackIn(app);
      const dr = backup.BackupVault.fromBackupVaultArn(stack, 'Dr', 'arn:aws:backup:eu-central-1:111111111111:backup-vault:dr');
      plainPlan(stack, { copyActions: [{ destinationBackupVault: dr, deleteAfter: Duration.days(35) }] }, { env: 'production' });
      plainPlan(new Construct(stackIn(app, 'Dev'), 'X'), {}, { env: 'Dev' });
    })).toEqual([]);
  });

  test('a plan tagged cdk-backup-dr:environment=Pro is PRO whatever it selects', () => {
    expect(findingsOf('BackupPlanProCopiesToDrSite', (app) => {
      Tags.of(plainPlan(stackIn(app), {})).add('cdk-backup-dr:environment', 'Pro');
    })).toEqual(['BackupDR-BackupPlanProCopiesToDrSite at Stack/Plan/Resource']);
  });

  test('a library PRO plan (PRO vault recorded by the construct) without a DR site is a finding', () => {
    expect(findingsOf('BackupPlanProCopiesToDrSite', (app) => {
      const stack = stackIn(app);
      const table = new dynamodb.Table(stack, 'Orders', { partitionKey: pk });
      new DynamoPitrBackup(stack, 'Backup', { tables: [table], objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO });
    })).toEqual(['BackupDR-BackupPlanProCopiesToDrSite at Stack/BackupDrPlanRegistry/Plan1/Resource']);
  });
});

describe('BackupVaultProLocked', () => {
  test('a vault of a PRO plan without lock is a finding', () => {
    expect(findingsOf('BackupVaultProLocked', (app) => { plainPlan(stackIn(app), {}, { env: 'Pro' }); }))
      .toEqual(['BackupDR-BackupVaultProLocked at Stack/Vault/Resource']);
  });

  test('a locked PRO vault is compliant; an unlocked QA vault is not applicable', () => {
    expect(findingsOf('BackupVaultProLocked', (app) => {
      const stack = stackIn(app);
      plainPlan(stack, {}, { env: 'Pro', vault: new backup.BackupVault(stack, 'Locked', { lockConfiguration: { minRetention: Duration.days(7) } }) });
      plainPlan(stackIn(app, 'Qa'), {}, { env: 'QA' });
    })).toEqual([]);
  });

  test('a RecoveryVault recorded PRO by a construct is locked by default; with vaultLock: false it is a finding', () => {
    const build = (vaultLock: boolean) => (app: any) => {
      const stack = stackIn(app);
      const vault = new RecoveryVault(stack, 'Vault', { environment: DeploymentEnvironment.PRO, vaultLock });
      new DynamoPitrBackup(stack, 'Backup', {
        tables: [new dynamodb.Table(stack, 'Orders', { partitionKey: pk })], objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO, vault,
      });
    };
    expect(findingsOf('BackupVaultProLocked', build(true))).toEqual([]);
    expect(findingsOf('BackupVaultProLocked', build(false))).toEqual(['BackupDR-BackupVaultProLocked at Stack/Vault/Resource/Resource']);
  });
});

describe('BackupVaultDeniesRecoveryPointDeletion', () => {
  test('a vault without access policy is a finding', () => {
    expect(findingsOf('BackupVaultDeniesRecoveryPointDeletion', (app) => { new backup.BackupVault(stackIn(app), 'Vault'); }))
      .toEqual(['BackupDR-BackupVaultDeniesRecoveryPointDeletion at Stack/Vault/Resource']);
  });

  test('blockRecoveryPointDeletion and RecoveryVault comply', () => {
    expect(findingsOf('BackupVaultDeniesRecoveryPointDeletion', (app) => {
      const stack = stackIn(app);
      new backup.BackupVault(stack, 'Vault', { blockRecoveryPointDeletion: true });
      new RecoveryVault(stack, 'Recovery', { environment: DeploymentEnvironment.DEV });
    })).toEqual([]);
  });

  test('a policy that allows deletion to everyone is a finding even next to a deny', () => {
    expect(findingsOf('BackupVaultDeniesRecoveryPointDeletion', (app) => {
      const doc = new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ effect: iam.Effect.ALLOW, principals: [new iam.AnyPrincipal()], actions: ['backup:*'], resources: ['*'] }),
          new iam.PolicyStatement({ effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['backup:Delete*'], resources: ['*'] }),
        ],
      });
      new backup.BackupVault(stackIn(app), 'Vault', { accessPolicy: doc });
    })).toEqual(['BackupDR-BackupVaultDeniesRecoveryPointDeletion at Stack/Vault/Resource']);
  });
});

describe('BackupPlanMeetsRpo', () => {
  test('a daily rule with the default 8-hour start window misses a 24-hour maxRpo', () => {
    expect(findingsOf('BackupPlanMeetsRpo', (app) => {
      plainPlan(stackIn(app), { scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }) });
    }, { maxRpo: Duration.hours(24) })).toEqual(['BackupDR-BackupPlanMeetsRpo at Stack/Plan/Resource']);
  });

  test('the same rule with a 60-minute start window misses 24 h too; a 12-hourly one meets it', () => {
    const build = (hour: string) => (app: any) => {
      plainPlan(stackIn(app), { scheduleExpression: events.Schedule.cron({ hour, minute: '0' }), startWindow: Duration.minutes(60) });
    };
    expect(findingsOf('BackupPlanMeetsRpo', build('3'), { maxRpo: Duration.hours(24) })).toHaveLength(1);
    expect(findingsOf('BackupPlanMeetsRpo', build('0/12'), { maxRpo: Duration.hours(24) })).toEqual([]);
  });

  test('the plan tag cdk-backup-dr:rpo-minutes declares the RPO; without tag or maxRpo the rule does not apply', () => {
    const build = (tag?: string) => (app: any) => {
      const plan = plainPlan(stackIn(app), { scheduleExpression: events.Schedule.cron({ hour: '0/12', minute: '0' }), startWindow: Duration.hours(1) });
      if (tag) Tags.of(plan).add('cdk-backup-dr:rpo-minutes', tag);
    };
    expect(findingsOf('BackupPlanMeetsRpo', build('240'))).toEqual(['BackupDR-BackupPlanMeetsRpo at Stack/Plan/Resource']);
    expect(findingsOf('BackupPlanMeetsRpo', build('780'))).toEqual([]);
    expect(findingsOf('BackupPlanMeetsRpo', build())).toEqual([]);
  });

  test('a continuous-backup rule meets a 15-minute RPO; library plans meet the RPO they derive from', () => {
    expect(findingsOf('BackupPlanMeetsRpo', (app) => {
      plainPlan(stackIn(app), { enableContinuousBackup: true });
    }, { maxRpo: Duration.minutes(15) })).toEqual([]);
    expect(findingsOf('BackupPlanMeetsRpo', (app) => {
      const stack = stackIn(app);
      new DynamoPitrBackup(stack, 'Backup', {
        tables: [new dynamodb.Table(stack, 'Orders', { partitionKey: pk })], objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.DEV,
      });
    }, { maxRpo: Duration.hours(24) })).toEqual([]);
  });

  test('a plan whose tables all have PITR meets the RPO natively', () => {
    expect(findingsOf('BackupPlanMeetsRpo', (app) => {
      const stack = stackIn(app);
      const plan = new backup.BackupPlan(stack, 'Plan', { backupVault: new backup.BackupVault(stack, 'Vault') });
      plan.addRule(new backup.BackupPlanRule({ ruleName: 'Daily', deleteAfter: Duration.days(35) }));
      const table = new dynamodb.Table(stack, 'Orders', { partitionKey: pk, pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } });
      plan.addSelection('Sel', { resources: [backup.BackupResource.fromDynamoDbTable(table)] });
    }, { maxRpo: Duration.minutes(15) })).toEqual([]);
  });

  test('maxRpo must be concrete and positive', () => {
    expect(() => findingsOf('BackupPlanMeetsRpo', () => undefined, { maxRpo: Duration.minutes(0) })).toThrow(/maxRpo is 0 minutes/);
  });
});

describe('BackupPlanMinimumRetention', () => {
  test('a PRO rule keeping 7 days is a finding named after the rule', () => {
    expect(findingsOf('BackupPlanMinimumRetention', (app) => { plainPlan(stackIn(app), { deleteAfter: Duration.days(7) }, { env: 'Pro' }); }))
      .toEqual(['BackupDR-BackupPlanMinimumRetention[Routine] at Stack/Plan/Resource']);
  });

  test('7 days comply in Dev; an unknown environment uses defaultEnvironment', () => {
    const build = (env?: string) => (app: any) => { plainPlan(stackIn(app), { deleteAfter: Duration.days(7) }, { env }); };
    expect(findingsOf('BackupPlanMinimumRetention', build('Dev'))).toEqual([]);
    expect(findingsOf('BackupPlanMinimumRetention', build())).toEqual([]);
    expect(findingsOf('BackupPlanMinimumRetention', build(), { defaultEnvironment: DeploymentEnvironment.QA })).toHaveLength(1);
  });

  test('the library PRO plan complies', () => {
    expect(findingsOf('BackupPlanMinimumRetention', (app) => {
      const stack = stackIn(app);
      new DynamoPitrBackup(stack, 'Backup', {
        tables: [new dynamodb.Table(stack, 'Orders', { partitionKey: pk })], objectives: RecoveryTier.CRITICAL, environment: DeploymentEnvironment.PRO,
      });
    })).toEqual([]);
  });
});
