#!/usr/bin/env node
/**
 * A small plain aws-cdk-lib app with the backup gaps teams typically have, checked by the BackupDrChecks
 * cdk-nag pack. It uses no cdk-backup-dr construct: the pack is meant to be adopted first, to find the gaps.
 *
 *   npx ts-node --prefer-ts-exts examples/unprotected-app.ts
 *
 * CDK prints the validation report (message and fix of every finding); the script then lists the findings one per
 * line and exits with 1 when there are any.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupDrChecks } from '../src/nag/backup-dr-checks';

/** Adds the unprotected shop stack to `app`. */
export function buildUnprotectedApp(app: App): Stack {
  const stack = new Stack(app, 'ShopData', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });

  // Backed up by tag, but without point-in-time recovery.
  const orders = new dynamodb.Table(stack, 'Orders', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
  Tags.of(orders).add('backup', 'daily');
  // Not backed up at all.
  new dynamodb.Table(stack, 'Sessions', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
  new s3.Bucket(stack, 'Uploads', { enforceSSL: true, versioned: true });
  new efs.FileSystem(stack, 'SharedFiles', { vpc, enableAutomaticBackups: false, encrypted: true });
  new rds.DatabaseInstance(stack, 'Billing', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    storageEncrypted: true,
    backupRetention: Duration.days(0),
  });

  // A production plan: daily at 03:00 with the default 8-hour start window, kept 14 days, in an unlocked
  // vault without access policy, and no copy to another region.
  const plan = new backup.BackupPlan(stack, 'ProdPlan', { backupVault: new backup.BackupVault(stack, 'ProdVault') });
  plan.addRule(new backup.BackupPlanRule({ ruleName: 'Daily', deleteAfter: Duration.days(14) }));
  plan.addSelection('Tagged', { resources: [backup.BackupResource.fromTag('backup', 'daily')] });
  Tags.of(plan).add('cdk-backup-dr:environment', 'Pro');
  return stack;
}

if (require.main === module) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'unprotected-'));
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  buildUnprotectedApp(app);
  Validations.of(app).addPlugins(new BackupDrChecks(app, { maxRpo: Duration.hours(24) }));
  try {
    app.synth();
  } catch (e) {
    if (!/Validation failed|ValidationFailed/.test(String(e))) throw e;
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf-8'));
  let count = 0;
  for (const plugin of report.pluginReports) {
    for (const v of plugin.violations ?? []) {
      for (const c of v.violatingConstructs ?? []) {
        count++;
        console.log(`[${v.severity}] ${v.ruleName} at ${c.constructPath}`);
      }
    }
  }
  console.log(`${count} findings`);
  fs.rmSync(outdir, { recursive: true, force: true });
  process.exitCode = count > 0 ? 1 : 0;
}
