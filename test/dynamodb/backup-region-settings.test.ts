import { Match } from 'aws-cdk-lib/assertions';
import { BackupRegionSettings } from '../../src/dynamodb';
import { synthTemplate, testStack } from '../support/app';

describe('BackupRegionSettings', () => {
  test('one per stack through BackupRegionSettings.of', () => {
    // GIVEN
    const stack = testStack();
    // WHEN
    const a = BackupRegionSettings.of(stack);
    const b = BackupRegionSettings.of(stack);
    // THEN
    expect(a).toBe(b);
    const t = synthTemplate(stack);
    t.resourceCountIs('Custom::BackupRegionSettings', 1);
    t.hasResourceProperties('Custom::BackupRegionSettings', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProviderframeworkonEvent'), 'Arn'] },
      EnableDynamoDbAdvancedFeatures: 'true',
      OptInDynamoDb: 'true',
      RestoreOnDelete: 'false',
    });
  });

  test('props map to the handler contract', () => {
    const stack = testStack();
    new BackupRegionSettings(stack, 'Settings', { dynamoDbAdvancedFeatures: false, restoreOnDelete: true });
    synthTemplate(stack).hasResourceProperties('Custom::BackupRegionSettings', {
      EnableDynamoDbAdvancedFeatures: 'false', OptInDynamoDb: 'true', RestoreOnDelete: 'true',
    });
  });

  test('the handler is the bundled asset on Node.js 24 with reserved concurrency and an encrypted log group', () => {
    const stack = testStack();
    BackupRegionSettings.of(stack);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Lambda::Function', 2);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      ReservedConcurrentExecutions: 1,
      Environment: Match.absent(),
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('HandlerLogGroup') } },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      ReservedConcurrentExecutions: 1,
      LoggingConfig: Match.objectLike({ LogGroup: { Ref: Match.stringLikeRegexp('ProviderLogGroup') } }),
    });
    t.resourceCountIs('AWS::Logs::LogGroup', 2);
    t.allResourcesProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('BackupDrOperationsKey'), 'Arn'] },
    });
  });

  test('least privilege with managed policies only: backup Region settings on "*", invoke of the handler only', () => {
    const stack = testStack();
    BackupRegionSettings.of(stack);
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::IAM::Policy', 0);
    for (const role of Object.values(t.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.Policies).toBeUndefined();
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('HandlerRole') }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['backup:DescribeRegionSettings', 'backup:UpdateRegionSettings'], Resource: '*' },
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('HandlerLogGroup'), 'Arn'] } },
        ],
      },
    });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProviderRole') }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['lambda:GetFunction', 'lambda:InvokeFunction'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('RegionSettingsHandler[0-9A-F]+$'), 'Arn'] } },
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProviderLogGroup'), 'Arn'] } },
        ],
      },
    });
    t.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  test('the functions run after their policies exist', () => {
    const stack = testStack();
    BackupRegionSettings.of(stack);
    const t = synthTemplate(stack);
    t.hasResource('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' }, DependsOn: Match.arrayWith([Match.stringLikeRegexp('HandlerPolicy')]) });
    t.hasResource('AWS::Lambda::Function', { Properties: { Handler: 'framework.onEvent' }, DependsOn: Match.arrayWith([Match.stringLikeRegexp('ProviderPolicy')]) });
  });
});
