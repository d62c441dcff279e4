import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContextBeta1, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { BackupKey } from '../../src/foundation/backup-key';
import { synthTemplate, testStack } from '../support/app';

/** CT.KMS.PR.3 exactly as AWS Control Tower ships it (the cfn-guard rule bundled in @cdklabs/cdk-validator-cfnguard). */
const CT_KMS_PR_3 = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')),
  'rules/control-tower/cfn-guard/keymanagementservice/ct-kms-pr-3.guard');

/** Runs CT.KMS.PR.3 on a template and returns the logical IDs it flags. */
function ctKmsPr3Violations(template: Template): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-kms-pr-3-'));
  const file = path.join(dir, 'template.json');
  fs.writeFileSync(file, JSON.stringify(template.toJSON()));
  const validator = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: [CT_KMS_PR_3] });
  const report = validator.validate({ templatePaths: [file] } as unknown as IPolicyValidationContextBeta1);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => r.resourceLogicalId)).sort();
}

const denyCreateGrant = {
  Sid: 'DenyCreateGrantExceptForAwsServices',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'kms:CreateGrant',
  Resource: '*',
  Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
};

describe('BackupKey', () => {
  test('rotation on, retained, and a key policy where only AWS services create grants', () => {
    const stack = testStack();
    BackupKey.create(stack, 'Key', { description: 'vault key' });
    const t = synthTemplate(stack);
    t.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Description: 'vault key',
        EnableKeyRotation: true,
        KeyPolicy: { Version: '2012-10-17', Statement: Match.arrayWith([denyCreateGrant]) },
      }),
    });
  });

  test('passes AWS Control Tower CT.KMS.PR.3; a plain kms.Key does not', () => {
    const stack = testStack();
    BackupKey.create(stack, 'Hardened');
    new kms.Key(stack, 'Plain', { enableKeyRotation: true });
    expect(ctKmsPr3Violations(synthTemplate(stack))).toEqual([
      expect.stringMatching(/^Plain/),
    ]);
  });

  test('restrictGrantsToAwsServices hardens a key created elsewhere, and reports an imported key it cannot edit', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'AppKey', { enableKeyRotation: true });
    expect(BackupKey.restrictGrantsToAwsServices(key)).toBe(true);
    const imported = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(BackupKey.restrictGrantsToAwsServices(imported)).toBe(false);
    expect(ctKmsPr3Violations(synthTemplate(stack))).toEqual([]);
  });

  test('options reach the template: removal policy, rotation period, pending window, alias', () => {
    const stack = testStack();
    BackupKey.create(stack, 'Key', {
      removalPolicy: RemovalPolicy.DESTROY,
      rotationPeriod: Duration.days(180),
      pendingWindow: Duration.days(7),
      alias: 'backups/dev',
    });
    const t = synthTemplate(stack);
    t.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ EnableKeyRotation: true, RotationPeriodInDays: 180, PendingWindowInDays: 7 }),
    });
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/backups/dev' });
  });

  test('default description names the key\'s construct path', () => {
    const stack = new Stack(undefined, 'Standalone');
    BackupKey.create(stack, 'Key');
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', { Description: 'cdk-backup-dr key for Standalone/Key' });
  });

  test('a bad pending window is a BackupDrConfigError naming the construct path', () => {
    const stack = testStack();
    expect(() => BackupKey.create(stack, 'Key', { pendingWindow: Duration.days(3) })).toThrow(/\[TestStack\] pendingWindow \(days\) is 3, but must be between 7 and 30/);
  });
});
