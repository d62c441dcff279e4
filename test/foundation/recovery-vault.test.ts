import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DeploymentEnvironment, RecoveryVault } from '../../src';
import { synthTemplate, testStack } from '../support/app';

const { PRO, QA, DEV } = DeploymentEnvironment;

describe('RecoveryVault', () => {
  test('PRO vault: CMK with rotation, locked in compliance mode after a 3-day cooling-off, retained', () => {
    const stack = testStack();
    new RecoveryVault(stack, 'Vault', { environment: PRO });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResource('AWS::Backup::BackupVault', {
      Properties: {
        LockConfiguration: { ChangeableForDays: 3, MinRetentionDays: 1 },
        EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('VaultKey'), 'Arn'] },
      },
      DeletionPolicy: 'Retain',
    });
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  test.each([QA, DEV])('%s vault is not locked by default', (environment) => {
    const stack = testStack();
    new RecoveryVault(stack, 'Vault', { environment });
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupVault', { LockConfiguration: Match.absent() });
  });

  test('lock can be turned off for PRO and on for DEV, with custom retention bounds', () => {
    const stack = testStack();
    new RecoveryVault(stack, 'Pro', { environment: PRO, vaultLock: false });
    new RecoveryVault(stack, 'Dev', {
      environment: DEV,
      vaultLock: true,
      vaultLockOptions: { minRetention: Duration.days(7), maxRetention: Duration.days(400), changeableFor: Duration.days(10) },
    });
    const t = synthTemplate(stack);
    t.resourcePropertiesCountIs('AWS::Backup::BackupVault', { LockConfiguration: Match.absent() }, 1);
    t.hasResourceProperties('AWS::Backup::BackupVault', {
      LockConfiguration: { MinRetentionDays: 7, MaxRetentionDays: 400, ChangeableForDays: 10 },
    });
  });

  test('access policy denies deleting recovery points and shortening lifecycles to everyone', () => {
    const stack = testStack();
    new RecoveryVault(stack, 'Vault', { environment: DEV });
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupVault', {
      AccessPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'DenyRecoveryPointDeletionExceptBreakGlass',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'],
          Resource: '*',
          Condition: Match.absent(),
        })]),
      },
    });
  });

  test('break-glass role is the only exception to the deny', () => {
    const stack = testStack();
    const breakGlassRole = new iam.Role(stack, 'BreakGlass', { assumedBy: new iam.AccountRootPrincipal() });
    new RecoveryVault(stack, 'Vault', { environment: PRO, breakGlassRole });
    synthTemplate(stack).hasResourceProperties('AWS::Backup::BackupVault', {
      AccessPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('BreakGlass'), 'Arn'] } } },
        })]),
      },
    });
  });

  test('failure notifications: encrypted TLS-only topic, vault failure events, EventBridge rule for failed backup jobs', () => {
    const stack = testStack();
    new RecoveryVault(stack, 'Vault', { environment: PRO });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('VaultKey'), 'Arn'] } });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          // AWS Backup, EventBridge and the CloudWatch alarms of the constructs using the vault publish there.
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: ['backup.amazonaws.com', 'cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::Backup::BackupVault', {
      Notifications: { BackupVaultEvents: ['COPY_JOB_FAILED', 'S3_BACKUP_OBJECT_FAILED', 'S3_RESTORE_OBJECT_FAILED'] },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.backup'],
        'detail-type': ['Backup Job State Change'],
        'detail': { state: ['FAILED', 'ABORTED', 'EXPIRED'], backupVaultName: [{ 'Fn::GetAtt': [Match.anyValue(), 'BackupVaultName'] }] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('VaultNotifications') } })],
    });
    // Failed copy jobs out of this vault (DR copies) and failed restore jobs reach the topic too.
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.backup'],
        'detail-type': ['Copy Job State Change'],
        'detail': { state: ['FAILED', 'ABORTED'], sourceBackupVaultArn: [{ 'Fn::GetAtt': [Match.anyValue(), 'BackupVaultArn'] }] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('VaultNotifications') } })],
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.backup'], 'detail-type': ['Restore Job State Change'], 'detail': { status: ['FAILED', 'ABORTED'] } },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('VaultNotifications') } })],
    });
    t.resourceCountIs('AWS::Events::Rule', 3);
    // The key lets the publishers encrypt messages for the topic.
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Principal: { Service: ['backup.amazonaws.com', 'cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
        })]),
      },
    });
  });

  test('uses a given key and topic instead of creating them', () => {
    const stack = testStack();
    const encryptionKey = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const notificationTopic = new sns.Topic(stack, 'MyTopic', { masterKey: encryptionKey, enforceSSL: true });
    new RecoveryVault(stack, 'Vault', { environment: DEV, encryptionKey, notificationTopic, backupVaultName: 'my-vault', removalPolicy: RemovalPolicy.DESTROY });
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResource('AWS::Backup::BackupVault', {
      Properties: { BackupVaultName: 'my-vault', Notifications: { SNSTopicArn: { Ref: Match.stringLikeRegexp('MyTopic') } } },
      DeletionPolicy: 'Delete',
    });
  });

  test('forStack creates one vault per stack and environment, on first use', () => {
    const stack = testStack();
    const a = RecoveryVault.forStack(stack, PRO);
    const b = RecoveryVault.forStack(new Construct(stack, 'Nested'), PRO);
    const c = RecoveryVault.forStack(stack, DEV);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    Template.fromStack(stack).resourceCountIs('AWS::Backup::BackupVault', 2);
  });

  test('fromVaultAttributes imports a vault with its lock bounds', () => {
    const stack = testStack();
    const v = RecoveryVault.fromVaultAttributes(stack, 'Imported', {
      backupVaultName: 'shared', environment: PRO, lockMinRetention: Duration.days(7), lockMaxRetention: Duration.days(3650),
    });
    expect(v.backupVault.backupVaultName).toBe('shared');
    expect(v.lockMinRetentionDays).toBe(7);
    expect(v.lockMaxRetentionDays).toBe(3650);
    expect(v.encryptionKey).toBeUndefined();
  });

  test.each<[string, any, RegExp]>([
    ['lock options without a lock', { environment: DEV, vaultLockOptions: { minRetention: Duration.days(2) } },
      /\[TestStack\/Vault\] vaultLockOptions is set but vaultLock is false/],
    ['cooling-off below 3 days', { environment: PRO, vaultLockOptions: { changeableFor: Duration.days(2) } },
      /vaultLockOptions.changeableFor is 2 days, but AWS Backup requires a cooling-off period of at least 3 days/],
    ['max below min', { environment: PRO, vaultLockOptions: { minRetention: Duration.days(30), maxRetention: Duration.days(10) } },
      /vaultLockOptions.maxRetention \(days\) is 10, but must be between 30 and 36500/],
    ['min beyond 100 years', { environment: PRO, vaultLockOptions: { minRetention: Duration.days(40_000) } },
      /vaultLockOptions.minRetention \(days\) is 40000/],
  ])('rejects %s', (_name, props, message) => {
    const stack = testStack();
    expect(() => new RecoveryVault(stack, 'Vault', props)).toThrow(message);
  });
});
