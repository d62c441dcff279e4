import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  AccessLevel, BackupCatalogMetadata, BackupContent, DeploymentEnvironment, S3ArchiveLifecycle, DumpCompression, DumpCompute, DumpDestination,
  ExternalDbBackupLambda, ExternalDbBackupLambdaProps, ExternalDbEngine, RecoveryTier, TeamAccess,
} from '../../src';
import { synthTemplate, testStack } from '../support/app';
import { buildDump } from './support/dump-construct';

const { DEV } = DeploymentEnvironment;

function setup(overrides: Partial<ExternalDbBackupLambdaProps> = {}, stack: Stack = testStack()) {
  return buildDump(stack, overrides);
}

describe('ExternalDbBackupLambda', () => {
  test('container-image Lambda on Node.js 22 base, timeout within the RPO, no overlapping runs, config without secrets', () => {
    const { stack } = setup();
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Timeout: 900,
      MemorySize: 2048,
      ReservedConcurrentExecutions: 1,
      Architectures: ['x86_64'],
      KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveKey'), 'Arn'] },
      Environment: {
        Variables: Match.objectLike({
          SECRET_ARN: { Ref: Match.stringLikeRegexp('Conn') },
          ENGINE: 'postgres',
          ENGINE_MAJOR: '16',
          DATABASES: 'crm,billing',
          PREFIX: 'external-db/crm/',
          BUCKET: { Ref: Match.stringLikeRegexp('Archive') },
          TLS_MODE: 'require',
          COMPRESSION: 'zstd',
          RPO_MINUTES: '60',
          RTO_MINUTES: '240',
          ENVIRONMENT: 'Pro',
          MAX_DATABASE_SIZE_BYTES: String(100 * 1024 ** 3),
          SAFETY_MARGIN_MS: '60000',
        }),
      },
    });
    const env = JSON.stringify(t.findResources('AWS::Lambda::Function'));
    expect(env).not.toMatch(/password|SecretString/i);
    // The image's build context is staged with the engine major as build argument; it is built at deploy time, not at synth.
    const assembly = (stack.node.root as App).synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf-8'));
    const [image] = Object.values(manifest.dockerImages) as any[];
    expect(image.source).toMatchObject({ dockerBuildArgs: { ENGINE: 'postgres', ENGINE_MAJOR: '16' }, platform: 'linux/amd64' });
    expect(fs.existsSync(path.join(assembly.directory, image.source.directory, 'Dockerfile'))).toBe(true);
  });

  test('EventBridge Scheduler every RPO, no flexible window, no retry, dead letters to an encrypted queue', () => {
    const { stack } = setup();
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DumpFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } },
      },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveKey'), 'Arn'] } });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 });
    t.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } },
    });
    // The scheduler may only invoke this function and write to this queue.
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('SchedulerRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] } }),
          Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DumpFunction'), 'Arn'] } }),
        ]),
      },
    });
  });

  test.each<[Duration, string, number]>([
    [Duration.minutes(15), 'rate(15 minutes)', 900],
    [Duration.minutes(20), 'rate(15 minutes)', 900],
    [Duration.hours(6), 'rate(6 hours)', 900],
    [Duration.days(1), 'rate(1 day)', 900],
    [Duration.days(3), 'rate(1 day)', 900],
  ])('RPO %s → %s, timeout %d s', (rpo, expression, timeout) => {
    const { stack } = setup({ objectives: { rpo, rto: Duration.hours(8) } });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: expression });
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: timeout });
  });

  test('least privilege: this secret, this key, put/abort under this prefix only', () => {
    const { stack } = setup();
    const t = synthTemplate(stack);
    // Managed policies only: no inline policy on the job role.
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('DumpJobRole');
    const statements = Object.values(t.findResources('AWS::IAM::ManagedPolicy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes('DumpJobRole'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 's3:PutObject', 's3:AbortMultipartUpload', 'kms:GenerateDataKey']));
    // A dump whose manifest could not be written is removed (a delete marker in a versioned archive); old versions never.
    expect(actions).toContain('s3:DeleteObject');
    expect(actions).not.toContain('s3:DeleteObjectVersion');
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucketMultipartUploads']));
    expect(actions.filter((a: string) => a.includes('*'))).toEqual([]);
    const put = statements.find((s: any) => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(put.Resource)).toContain('/external-db/crm/*');
    const secret = statements.find((s: any) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(secret.Resource).toEqual({ Ref: expect.stringMatching(/Conn/) });
    expect(actions).not.toContain('ec2:CreateNetworkInterface'); // not in a VPC
  });

  test('one missed-backup alarm per database: no success within the RPO, missing data breaching', () => {
    const { stack } = setup();
    const t = synthTemplate(stack);
    for (const db of ['crm', 'billing']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'CdkBackupDr/ExternalDb',
        MetricName: 'BackupSuccess',
        Statistic: 'Sum',
        Period: 3600,
        Dimensions: Match.arrayWith([{ Name: 'Database', Value: db }, { Name: 'Environment', Value: 'Pro' }]),
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('DumpAlarmTopic') }],
      });
    }
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
  });

  test('RPO over a day: N daily periods, all without a success', () => {
    const { stack } = setup({ objectives: RecoveryTier.ARCHIVE, databases: ['crm'] });
    synthTemplate(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BackupSuccess', Period: 86400, EvaluationPeriods: 7, DatapointsToAlarm: 7,
    });
  });

  test('without a database list: the secret\'s dbname is dumped and one job-level alarm watches it', () => {
    const { stack } = setup({ databases: undefined });
    const t = synthTemplate(stack);
    const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0] as any;
    expect(fn.Properties.Environment.Variables.DATABASES).toBeUndefined();
    const job = fn.Properties.Environment.Variables.BACKUP_JOB;
    expect(job).toMatch(/Dump/);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BackupSuccess', Dimensions: Match.arrayWith([{ Name: 'BackupJob', Value: job }]),
    });
  });

  test('in a VPC: security group egress only to the database port and HTTPS', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    setup({ vpc, databasePeer: ec2.Peer.ipv4('10.20.0.0/16') }, stack);
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('external database dump'),
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: '10.20.0.0/16', FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' }),
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
      ],
    });
    t.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }) });
  });

  test('Lambda compute: an alarm fires when a run used 80% of the timeout, naming the fix; every alarm notifies the topic', () => {
    const { stack, dump } = setup();
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkBackupDr/ExternalDb',
      MetricName: 'BackupTimeoutUsedPercent',
      Statistic: 'Maximum',
      Threshold: 80,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp('80% or more of the Lambda timeout \\(15 minutes\\).*DumpCompute.fargate\\(\\)'),
    });
    const topic = stack.resolve((dump.alarmTopic as any).topicArn);
    const alarms = t.findResources('AWS::CloudWatch::Alarm');
    // RPO per database (2), deadline, Lambda errors, dead letters.
    expect(Object.keys(alarms)).toHaveLength(5);
    for (const alarm of Object.values(alarms)) expect(alarm.Properties.AlarmActions).toEqual([topic]);
  });

  test('Fargate compute: failed runs (ERROR log lines) raise the errors alarm; no Lambda deadline alarm', () => {
    const stack = testStack();
    setup({ compute: DumpCompute.fargate(), vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) }, stack);
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '{ $.level = "ERROR" }' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'CdkBackupDr/Jobs', Threshold: 1 });
    expect(Object.values(t.findResources('AWS::CloudWatch::Alarm')).some((a) => a.Properties.MetricName === 'BackupTimeoutUsedPercent')).toBe(false);
  });

  test('Fargate compute: same image as a scheduled task with no time limit', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const { dump } = setup({ vpc, compute: DumpCompute.fargate({ cpu: 2048, memoryLimitMiB: 4096 }) }, stack);
    expect(dump.function).toBeUndefined();
    const t = synthTemplate(stack);
    t.resourceCountIs('AWS::Lambda::Function', 0);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '2048',
      Memory: '4096',
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [Match.objectLike({
        EntryPoint: ['node', 'index.js'],
        Command: ['--once'],
        ReadonlyRootFilesystem: true,
        Environment: Match.arrayWith([{ Name: 'SAFETY_MARGIN_MS', Value: '0' }]),
      })],
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ EcsParameters: Match.objectLike({ LaunchType: 'FARGATE' }) }),
    });
    t.hasResourceProperties('AWS::Logs::MetricFilter', { MetricTransformations: [Match.objectLike({ MetricName: 'BackupSuccess' })] });
  });

  test('options reach the handler configuration', () => {
    const { stack } = setup({
      compression: DumpCompression.GZIP,
      // 20 GiB at 25 MiB/s is about 14 minutes: the largest kind of database a Lambda dump accepts.
      maxDatabaseSize: Size.gibibytes(20),
      engine: ExternalDbEngine.mariadb(11),
      environment: DEV,
      tls: false,
      compute: DumpCompute.lambda({ memorySize: 4096 }),
    });
    synthTemplate(stack).hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 4096,
      Environment: { Variables: Match.objectLike({ COMPRESSION: 'gzip', ENGINE: 'mariadb', ENGINE_MAJOR: '11', TLS_MODE: 'disable', MAX_DATABASE_SIZE_BYTES: String(20 * 1024 ** 3) }) },
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Dump', Match.stringLikeRegexp('tls is false'));
  });

  test('access: VIEW/RESTORE read the dumps, ADMIN may start an on-demand dump', () => {
    const stack = testStack();
    const viewer = new iam.Role(stack, 'Viewer', { assumedBy: new iam.AccountRootPrincipal() });
    const admin = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    setup({ access: [TeamAccess.product(viewer), TeamAccess.sre(admin, AccessLevel.ADMIN)] }, stack);
    const t = synthTemplate(stack);
    const policyOf = (role: string) => Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(policyOf('Viewer')).toEqual(expect.arrayContaining(['s3:GetObject*', 'kms:Decrypt']));
    expect(policyOf('Viewer')).not.toContain('lambda:InvokeFunction');
    expect(policyOf('Viewer').filter((a: string) => /Delete|Put/.test(a))).toEqual([]);
    expect(policyOf('Admin')).toContain('lambda:InvokeFunction');
  });

  test('records its inventory entry', () => {
    const { stack } = setup();
    const entry = BackupCatalogMetadata.entriesOf(stack).find((e) => e.backupName === 'TestStack/Dump')!;
    expect(entry).toMatchObject({ content: 'Current data', environment: 'Pro', periodicity: 'hourly (retention: destination lifecycle)' });
    expect(entry.supportType).toBe('Scheduled dump (Lambda) of postgres 16 to S3');
  });

  test.each<[string, () => Partial<ExternalDbBackupLambdaProps>, RegExp]>([
    ['RPO below 15 minutes', () => ({ objectives: { rpo: Duration.minutes(10), rto: Duration.hours(1) } }),
      /\[TestStack\/Dump\] objectives.rpo is 10 minutes, but this job runs at most every 15 minutes \(a scheduled copy cannot be continuous\)/],
    ['RPO beyond 7 days', () => ({ objectives: { rpo: Duration.days(8), rto: Duration.days(1) } }), /objectives.rpo is 8 days, above the 7 days this job supports \(the missed-backup alarm can look back at most 7 days in CloudWatch\)/],
    ['a dump larger than S3 allows', () => ({ maxDatabaseSize: Size.gibibytes(60_000) }), /maxDatabaseSize is 60000 GiB, above the 50000 GiB/],
    ['an empty database list', () => ({ databases: [] }), /databases is \[\]: give at least one database name/],
    ['a bad database name', () => ({ databases: ['crm; drop'] }), /databases is \[crm; drop\]/],
    ['TLS off for PRO', () => ({ tls: false }), /tls is false for a PRO database/],
    ['Fargate without a VPC', () => ({ compute: DumpCompute.fargate() }), /DumpCompute.fargate\(\) needs vpc/],
    ['a Lambda dump of a database too large for 15 minutes', () => ({ maxDatabaseSize: Size.gibibytes(30) }),
      /maxDatabaseSize is 30.0 GiB: at 25 MiB\/s a dump takes about 21 minutes, more than Lambda's 15-minute limit.*use compute: DumpCompute.fargate\(\)/],
    ['too little memory for the part size', () => ({ maxDatabaseSize: Size.tebibytes(20), compute: DumpCompute.fargate(), vpc: new ec2.Vpc(testStack(), 'V') }),
      /compute: 2048 MiB of memory is too little for maxDatabaseSize 20480 GiB \(2098 MiB multipart parts need about 8904 MiB\); give the task more memory/],
  ])('rejects %s', (_name, overrides, message) => {
    expect(() => setup(overrides())).toThrow(message);
  });

  test.each<[string, () => unknown, RegExp]>([
    ['an unsupported engine version', () => ExternalDbEngine.postgres(9), /postgres major version 9 is not supported; use a whole major version between 10 and 18/],
    ['a destination prefix with a leading slash', () => DumpDestination.bucket(new s3.Bucket(testStack(), 'B'), { prefix: '/dumps/' }), /destination.prefix is '\/dumps\/', but a key prefix must not start with "\/"/],
    ['Lambda memory below 512 MiB', () => DumpCompute.lambda({ memorySize: 256 }), /memorySize is 256 MiB/],
  ])('rejects %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('a new key with rotation when the destination has none', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Plain', { enforceSSL: true });
    new ExternalDbBackupLambda(stack, 'Dump', {
      engine: ExternalDbEngine.mysql(8),
      connectionSecret: new secretsmanager.Secret(stack, 'Conn'),
      destination: DumpDestination.bucket(bucket),
      objectives: RecoveryTier.STANDARD,
      environment: DEV,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('external database dumps') });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ PREFIX: 'external-db/', KMS_KEY_ID: Match.anyValue() }) } });
  });

  test('MySQL sources build the image with the MySQL 8.4 client series; MySQL 5.7 and 9 are refused', () => {
    const stack = testStack();
    new ExternalDbBackupLambda(stack, 'Dump', {
      engine: ExternalDbEngine.mysql(8),
      connectionSecret: new secretsmanager.Secret(stack, 'Conn'),
      destination: DumpDestination.bucket(new s3.Bucket(stack, 'Plain', { enforceSSL: true })),
      objectives: RecoveryTier.STANDARD,
      environment: DEV,
    });
    const assembly = (stack.node.root as App).synth();
    const manifest = fs.readdirSync(assembly.directory).find((f) => f.endsWith('.assets.json'))!;
    const images = JSON.parse(fs.readFileSync(path.join(assembly.directory, manifest), 'utf-8')).dockerImages;
    expect(Object.values(images).map((i: any) => i.source.dockerBuildArgs)).toEqual([{ ENGINE: 'mysql', ENGINE_MAJOR: '8', MYSQL_SERIES: '8.4' }]);
    expect(() => ExternalDbEngine.mysql(5)).toThrow(/mysql major version 5 is not supported; use a whole major version between 8 and 8/);
    expect(() => ExternalDbEngine.mysql(9)).toThrow(/mysql major version 9 is not supported/);
  });
});

describe('DumpDestination.archive', () => {
  test('writes to a CURRENT_DATA archive\'s routine prefix with its key', () => {
    const stack = testStack();
    const archive = new S3ArchiveLifecycle(stack, 'Archive', { content: BackupContent.CURRENT_DATA, environment: DEV, objectives: RecoveryTier.STANDARD, prefix: 'crm/' });
    new ExternalDbBackupLambda(stack, 'Dump', {
      engine: ExternalDbEngine.postgres(15),
      connectionSecret: new secretsmanager.Secret(stack, 'Conn'),
      destination: DumpDestination.archive(archive),
      objectives: RecoveryTier.STANDARD,
      environment: DEV,
      databases: ['crm'],
    });
    const t = synthTemplate(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PREFIX: 'crm/routine/', KMS_KEY_ID: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveKey'), 'Arn'] } }) },
    });
    t.resourcePropertiesCountIs('AWS::KMS::Key', { Description: Match.stringLikeRegexp('external database dumps') }, 0);
  });

  test('other content classes get an external-db/ prefix inside the archive', () => {
    const stack = testStack();
    const archive = new S3ArchiveLifecycle(stack, 'Archive', { content: BackupContent.HISTORICAL_DATA, environment: DEV, objectives: RecoveryTier.ARCHIVE });
    expect(DumpDestination.archive(archive).prefix).toBe('external-db/');
    expect(DumpDestination.archive(archive, { prefix: 'legacy/' }).prefix).toBe('legacy/');
  });
});
