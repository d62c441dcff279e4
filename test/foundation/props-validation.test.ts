import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  DeploymentEnvironment, DumpDestination, DynamoPitrBackup, ExternalDbBackupLambda, ExternalDbEngine, RdsBackupPolicy, RecoveryTier, TeamAccess,
} from '../../src';
import { BackupDrConfigError } from '../../src/core/validation';
import { testStack } from '../support/app';

/*
 * What a plain JavaScript or Python caller can pass: missing or mistyped required props. Every case is a
 * BackupDrConfigError naming the construct path, the prop, the bad value and the fix, never a TypeError.
 */

type Build = (stack: Stack, props: Record<string, unknown>) => unknown;

function table(stack: Stack) {
  return new dynamodb.TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
}

const constructs: Array<[string, Build, (stack: Stack) => Record<string, unknown>]> = [
  ['DynamoPitrBackup', (stack, props) => new DynamoPitrBackup(stack, 'Protect', props as any), (stack) => ({ tables: [table(stack)] })],
  ['RdsBackupPolicy', (stack, props) => new RdsBackupPolicy(stack, 'Protect', props as any), (stack) => ({
    instances: [rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
      instanceIdentifier: 'db', instanceEndpointAddress: 'db.example', port: 5432, securityGroups: [],
    })],
  })],
  ['ExternalDbBackupLambda', (stack, props) => new ExternalDbBackupLambda(stack, 'Protect', props as any), (stack) => ({
    engine: ExternalDbEngine.postgres(16),
    connectionSecret: new secretsmanager.Secret(stack, 'Conn'),
    destination: DumpDestination.bucket(new s3.Bucket(stack, 'Dumps', { encryptionKey: new kms.Key(stack, 'K'), encryption: s3.BucketEncryption.KMS })),
  })],
];

const base = { objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.DEV };

describe.each(constructs)('%s: required props from a plain JavaScript caller', (_name, build, specific) => {
  test.each<[string, (stack: Stack) => Record<string, unknown>, RegExp]>([
    ['no objectives', () => ({ objectives: undefined }), /\[TestStack\/Protect\] objectives is required but was not given; declare the RPO and RTO/],
    ['objectives without an RTO', () => ({ objectives: { rpo: Duration.hours(4) } }), /\[TestStack\/Protect\] objectives.rto is undefined, but must be a Duration/],
    ['an RPO given as a number', () => ({ objectives: { rpo: 4, rto: Duration.hours(8) } }), /objectives.rpo is 4, but must be a Duration; e.g. Duration.hours\(4\)/],
    ['an unknown environment string', () => ({ environment: 'Production' }), /\[TestStack\/Protect\] environment is "Production", which is not one of "Pro", "QA", "Dev"; use the enum/],
    ['no environment', () => ({ environment: undefined }), /environment is undefined, which is not one of/],
    ['an access entry that is not a TeamAccess', () => ({ access: [{ team: 'SRE' }] }), /access\[0\] is object, but must be a TeamAccess/],
  ])('%s', (_case, override, message) => {
    const stack = testStack();
    const props = { ...base, ...specific(stack), ...override(stack) };
    let error: unknown;
    try {
      build(stack, props);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackupDrConfigError);
    expect((error as Error).message).toMatch(message);
  });

  test('the same props with valid values are accepted', () => {
    const stack = testStack();
    expect(build(stack, { ...base, ...specific(stack), access: [TeamAccess.sre(new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() }))] }))
      .toBeDefined();
    expect(stack.node.findAll().length).toBeGreaterThan(5);
  });
});

test.each<[string, () => unknown, RegExp]>([
  ['ExternalDbBackupLambda without connectionSecret', () => {
    const stack = testStack();
    return new ExternalDbBackupLambda(stack, 'Protect', {
      ...base, engine: ExternalDbEngine.postgres(16), destination: DumpDestination.bucket(new s3.Bucket(stack, 'B')),
    } as any);
  }, /\[TestStack\/Protect\] connectionSecret is required but was not given; pass the Secrets Manager secret/],
  ['ExternalDbBackupLambda without destination', () => {
    const stack = testStack();
    return new ExternalDbBackupLambda(stack, 'Protect', { ...base, engine: ExternalDbEngine.postgres(16), connectionSecret: new secretsmanager.Secret(stack, 'C') } as any);
  }, /\[TestStack\/Protect\] destination is required but was not given/],
  ['an undefined grantee (refused where the TeamAccess is made)', () => TeamAccess.sre(undefined as unknown as iam.IGrantable),
    /TeamAccess.sre\(grantee\) got undefined as grantee; pass the role, user or group of the team/],
  ['DynamoPitrBackup with tables not a list', () => new DynamoPitrBackup(testStack(), 'Protect', { ...base, tables: 'orders' } as any),
    /\[TestStack\/Protect\] tables is empty; pass at least one dynamodb.ITable/],
  ['the same table in a PRO and a DEV policy', () => {
    const stack = testStack();
    const t = table(stack);
    new DynamoPitrBackup(stack, 'ProPolicy', { objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO, tables: [t] });
    return new DynamoPitrBackup(stack, 'DevPolicy', { ...base, tables: [t] });
  }, /\[TestStack\/DevPolicy\] a resource protected here for Dev is already protected by TestStack\/ProPolicy for Pro/],
])('refuses %s', (_name, build, message) => {
  expect(build).toThrow(BackupDrConfigError);
  expect(build).toThrow(message);
});

test('the same table in two policies of the same environment is accepted (their plans differ, the grants agree)', () => {
  const stack = testStack();
  const t = table(stack);
  new DynamoPitrBackup(stack, 'A', { ...base, tables: [t] });
  expect(() => new DynamoPitrBackup(stack, 'B', { ...base, objectives: RecoveryTier.CRITICAL, tables: [t] })).not.toThrow();
});
