import { IntrinsicResolver, StackView, displayText, literal, partition, shellText } from '../../src/catalog/intrinsics';

const primary: StackView = {
  artifactId: 'Primary',
  stackName: 'Primary',
  displayName: 'Primary',
  account: '111111111111',
  region: 'eu-west-1',
  template: {
    Parameters: { Env: { Default: 'pro' } },
    Resources: {
      Vault: { Type: 'AWS::Backup::BackupVault', Properties: { BackupVaultName: 'orders-vault' } },
      NamedBucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'my-archive' } },
      Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      Table: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { TableName: { 'Fn::Join': ['-', ['orders', { Ref: 'AWS::Region' }]] } } },
      Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceIdentifier: 'Billing-DB' } },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'alarms' } },
    },
  },
};
const shared: StackView = {
  artifactId: 'Shared',
  stackName: 'shared-vaults',
  displayName: 'Shared',
  account: '111111111111',
  region: 'eu-west-1',
  template: {
    Resources: { SharedVault: { Type: 'AWS::Backup::BackupVault', Properties: { BackupVaultName: 'shared' } } },
    Outputs: {
      VaultArn: {
        Value: { 'Fn::GetAtt': ['SharedVault', 'BackupVaultArn'] },
        Export: { Name: 'shared-vaults:ExportsOutputFnGetAttSharedVaultArn' },
      },
    },
  },
};
const agnostic: StackView = { artifactId: 'Any', stackName: 'Any', displayName: 'Any', template: { Resources: {} } };

const resolver = new IntrinsicResolver([primary, shared, agnostic]);
const text = (value: unknown, stack = primary) => displayText(resolver.resolve(value, stack));

describe('IntrinsicResolver', () => {
  test('literals pass through; pseudo parameters come from the stack environment', () => {
    expect(text('plain')).toBe('plain');
    expect(text({ 'Fn::Join': ['', ['https://s3.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/x']] }))
      .toBe('https://s3.eu-west-1.amazonaws.com/x');
    expect(text({ Ref: 'AWS::AccountId' })).toBe('111111111111');
    expect(text({ Ref: 'AWS::Partition' })).toBe('aws');
    expect(text({ Ref: 'AWS::StackName' })).toBe('Primary');
  });

  test('Ref to a resource with a name property: the physical name (RDS identifiers in lower case)', () => {
    expect(text({ Ref: 'NamedBucket' })).toBe('my-archive');
    expect(text({ Ref: 'Table' })).toBe('orders-eu-west-1');
    expect(text({ Ref: 'Db' })).toBe('billing-db');
  });

  test('Ref without a name, or to a type whose Ref is not its name: assigned at deploy, with stack and logical id', () => {
    expect(text({ Ref: 'Bucket' })).toBe('{assigned at deploy: stack Primary, logical id Bucket}');
    expect(text({ Ref: 'Topic' })).toBe('{assigned at deploy: stack Primary, logical id Topic}');
    expect(text({ Ref: 'Env' })).toBe('{parameter Env, known at deploy: stack Primary}');
  });

  test('GetAtt builds ARNs and domain names from the physical name', () => {
    expect(text({ 'Fn::GetAtt': ['Vault', 'BackupVaultArn'] })).toBe('arn:aws:backup:eu-west-1:111111111111:backup-vault:orders-vault');
    expect(text({ 'Fn::GetAtt': ['Table', 'Arn'] })).toBe('arn:aws:dynamodb:eu-west-1:111111111111:table/orders-eu-west-1');
    expect(text({ 'Fn::GetAtt': ['Db', 'DBInstanceArn'] })).toBe('arn:aws:rds:eu-west-1:111111111111:db:billing-db');
    expect(text({ 'Fn::GetAtt': 'NamedBucket.RegionalDomainName' })).toBe('my-archive.s3.eu-west-1.amazonaws.com');
    expect(text({ 'Fn::GetAtt': ['Bucket', 'Arn'] })).toBe('arn:aws:s3:::{assigned at deploy: stack Primary, logical id Bucket}');
    expect(text({ 'Fn::GetAtt': ['Topic', 'TopicArn'] })).toBe('{TopicArn assigned at deploy: stack Primary, logical id Topic}');
  });

  test('Fn::ImportValue follows the export to the producing stack', () => {
    expect(text({ 'Fn::ImportValue': 'shared-vaults:ExportsOutputFnGetAttSharedVaultArn' }))
      .toBe('arn:aws:backup:eu-west-1:111111111111:backup-vault:shared');
    expect(text({ 'Fn::ImportValue': 'nowhere' })).toBe('{export nowhere, known at deploy}');
  });

  test('Fn::Sub, Fn::Select and Fn::Split', () => {
    expect(text({ 'Fn::Sub': ['s3://${NamedBucket}/${Prefix}/${!Literal}', { Prefix: 'daily' }] })).toBe('s3://my-archive/daily/${Literal}');
    expect(text({ 'Fn::Sub': '${Vault.BackupVaultArn}' })).toBe('arn:aws:backup:eu-west-1:111111111111:backup-vault:orders-vault');
    expect(text({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
    expect(text({ 'Fn::Select': [0, ['first', 'second']] })).toBe('first');
  });

  test('an environment-agnostic stack: region and account are known at deploy', () => {
    expect(text({ 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }]] }, agnostic)).toBe('s3.{region of stack Any, known at deploy}');
    expect(text({ Ref: 'AWS::AccountId' }, agnostic)).toBe('{account of stack Any, known at deploy}');
  });

  test('never prints a token or raw JSON: an unknown intrinsic is named', () => {
    const out = text({ 'Fn::If': ['Cond', 'a', 'b'] });
    expect(out).toBe('{Fn::If, known at deploy: stack Primary}');
    expect(out).not.toMatch(/\$\{Token|\{"/);
  });

  test('literal() is undefined as soon as one piece is only known at deploy', () => {
    expect(literal(resolver.resolve({ Ref: 'NamedBucket' }, primary))).toBe('my-archive');
    expect(literal(resolver.resolve({ Ref: 'Bucket' }, primary))).toBeUndefined();
  });

  test('shell text turns a deploy-time physical id into a describe-stack-resource lookup', () => {
    expect(shellText(resolver.resolve({ 'Fn::GetAtt': ['Bucket', 'Arn'] }, primary))).toBe(
      'arn:aws:s3:::$(aws cloudformation describe-stack-resource --region eu-west-1 --stack-name Primary ' +
      '--logical-resource-id Bucket --query StackResourceDetail.PhysicalResourceId --output text)');
    expect(shellText(resolver.resolve({ 'Fn::GetAtt': ['Topic', 'TopicArn'] }, primary))).toBe(
      '{TopicArn assigned at deploy: stack Primary, logical id Topic}');
  });

  test.each([
    ['eu-west-1', 'aws'], ['cn-north-1', 'aws-cn'], ['us-gov-west-1', 'aws-us-gov'], [undefined, 'aws'],
  ])('partition of %s is %s', (region, expected) => {
    expect(partition({ region })).toBe(expected);
  });
});
