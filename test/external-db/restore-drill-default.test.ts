import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  DeploymentEnvironment, DumpCompute, ExternalDbBackupLambdaProps, ExternalDbEngine, RestoreDrill,
} from '../../src';
import { drillEmf } from '../../src/external-db/handler/drill';
import { TEST_CONTEXT, TEST_ENV, synthTemplate, testStack } from '../support/app';
import { nagFindings } from '../support/nag';
import { buildDump } from './support/dump-construct';

/*
 * ExternalDbBackupLambda gets a restore drill by default (PRO and QA): a Fargate task from the dump
 * image running `node index.js drill`, read-only on the dumps, with log metric filters feeding the
 * RestoreDrill's RTO and failure alarms.
 */

jest.setTimeout(120_000);

const { PRO, QA, DEV } = DeploymentEnvironment;

function build(stack: Stack, overrides: Partial<ExternalDbBackupLambdaProps> = {}, withVpc = true) {
  const vpc = withVpc ? new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }) : undefined;
  return { ...buildDump(stack, { vpc, compute: DumpCompute.fargate(), ...overrides }), vpc };
}

function setup(overrides: Partial<ExternalDbBackupLambdaProps> = {}, withVpc = true) {
  const built = build(testStack(), overrides, withVpc);
  return { ...built, t: synthTemplate(built.stack) };
}

const byId = (t: Template, type: string, pattern: RegExp) =>
  Object.entries(t.findResources(type)).filter(([id]) => pattern.test(id)).map(([, r]) => r);
const drillTask = (t: Template) => {
  const [task] = byId(t, 'AWS::ECS::TaskDefinition', /DrillTask/);
  return task;
};
const drillSchedule = (t: Template) => {
  const [schedule] = byId(t, 'AWS::Scheduler::Schedule', /RestoreDrill/);
  return schedule;
};
const envOf = (task: any): Record<string, unknown> =>
  Object.fromEntries(task.Properties.ContainerDefinitions[0].Environment.map((e: any) => [e.Name, e.Value]));
const noDrill = (t: Template) => {
  expect(byId(t, 'AWS::ECS::TaskDefinition', /Drill/)).toEqual([]);
  expect(byId(t, 'AWS::Scheduler::Schedule', /Drill/)).toEqual([]);
  expect(Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a) => /^Drill/.test(a.Properties.MetricName ?? ''))).toEqual([]);
};

describe('ExternalDbBackupLambda restore drill (PRO, Fargate compute)', () => {
  test('a weekly drill task from the same image: command drill, same cluster, subnets and security groups as the dump', () => {
    const { t, dump } = setup();
    expect(dump.restoreDrill).toBeInstanceOf(RestoreDrill);
    const drill = drillSchedule(t);
    expect(drill.Properties.ScheduleExpression).toBe('cron(0 3 ? * SAT *)');
    const [dumpSchedule] = byId(t, 'AWS::Scheduler::Schedule', /DumpJobSchedule/);
    expect(dumpSchedule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    // Same place as the dump task.
    expect(drill.Properties.Target.Arn).toEqual(dumpSchedule.Properties.Target.Arn);
    expect(drill.Properties.Target.EcsParameters.NetworkConfiguration).toEqual(dumpSchedule.Properties.Target.EcsParameters.NetworkConfiguration);
    expect(drill.Properties.Target.EcsParameters.TaskDefinitionArn).toEqual({ Ref: expect.stringMatching(/^DumpDrillTask/) });

    const task = drillTask(t);
    const container = task.Properties.ContainerDefinitions[0];
    expect(task.Properties.ContainerDefinitions).toHaveLength(1);
    expect(container).toMatchObject({ EntryPoint: ['node', 'index.js'], Command: ['drill'], ReadonlyRootFilesystem: true });
    // The same image asset as the dump container.
    const [dumpTask] = byId(t, 'AWS::ECS::TaskDefinition', /DumpTask/);
    expect(container.Image).toEqual(dumpTask.Properties.ContainerDefinitions[0].Image);
    // Logs to the drill's own log group (its ERROR lines raise the drill job's errors alarm).
    const [drillLogGroup] = Object.keys(t.findResources('AWS::Logs::LogGroup')).filter((id) => /RestoreDrillJobLogGroup/.test(id));
    expect(container.LogConfiguration.Options['awslogs-group']).toEqual({ Ref: drillLogGroup });
  });

  test('the dump\'s configuration without the connection secret: bucket, prefix, engine, databases, namespace, job, environment, RTO', () => {
    const { t } = setup();
    expect(envOf(drillTask(t))).toEqual({
      ENGINE: 'postgres',
      ENGINE_MAJOR: '16',
      DATABASES: 'crm,billing',
      BACKUP_JOB: 'TestStackDump0B68F42C',
      BUCKET: { Ref: expect.stringMatching(/^Archive/) },
      PREFIX: 'external-db/crm/',
      RTO_MINUTES: '240',
      ENVIRONMENT: 'Pro',
      METRICS_NAMESPACE: 'CdkBackupDr/ExternalDb',
    });
    const [dumpTask] = byId(t, 'AWS::ECS::TaskDefinition', /DumpTask/);
    // The backup job name is the dump's (the drill metrics sit next to the dump metrics).
    expect(envOf(dumpTask).BACKUP_JOB).toBe('TestStackDump0B68F42C');
  });

  test('sizing rule: the dump\'s CPU and memory, at least 1 vCPU and 4 GiB; disk = 2 x maxDatabaseSize + 10 GiB within Fargate\'s 21-200 GiB', () => {
    // Default maxDatabaseSize (100 GiB): 210 GiB wanted, Fargate's maximum given, no warning (the default is a bound, not a size).
    const big = setup();
    expect(drillTask(big.t).Properties).toMatchObject({ Cpu: '1024', Memory: '4096', EphemeralStorage: { SizeInGiB: 200 } });
    expect(Annotations.fromStack(big.stack).findWarning('*', Match.stringLikeRegexp('disk'))).toEqual([]);
    // 5 GiB: 20 GiB wanted, Fargate's minimum 21.
    const small = setup({ maxDatabaseSize: Size.gibibytes(5) });
    expect(drillTask(small.t).Properties.EphemeralStorage).toEqual({ SizeInGiB: 21 });
    // 30 GiB: 70 GiB; a bigger dump task keeps its CPU and memory.
    const mid = setup({ maxDatabaseSize: Size.gibibytes(30), compute: DumpCompute.fargate({ cpu: 2048, memoryLimitMiB: 8192 }) });
    expect(drillTask(mid.t).Properties).toMatchObject({ Cpu: '2048', Memory: '8192', EphemeralStorage: { SizeInGiB: 70 } });
    // A declared 150 GiB database may not fit in 200 GiB: a warning naming the fixes.
    const huge = setup({ maxDatabaseSize: Size.gibibytes(150) });
    expect(drillTask(huge.t).Properties.EphemeralStorage).toEqual({ SizeInGiB: 200 });
    Annotations.fromStack(huge.stack).hasWarning('/TestStack/Dump',
      Match.stringLikeRegexp('restore drill of a 150 GiB database may need about 310 GiB of disk.*Lower maxDatabaseSize.*restoreTesting: \\{ enabled: false \\}'));
  });

  test('task role: read-only on the dump prefix, decrypt through S3 only, no access to the connection secret', () => {
    const { t, stack, dump } = setup();
    const task = drillTask(t);
    const roleId = task.Properties.TaskRoleArn['Fn::GetAtt'][0];
    expect(roleId).toMatch(/DrillRole/);
    const role = t.findResources('AWS::IAM::Role')[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: 'sts:AssumeRole', Principal: { Service: 'ecs-tasks.amazonaws.com' } }),
    ]);
    // No inline policy; exactly one managed policy attached.
    expect(Object.values(t.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))).toEqual([]);
    const policies = Object.values(t.findResources('AWS::IAM::ManagedPolicy')).filter((p) => JSON.stringify(p.Properties.Roles ?? []).includes(roleId));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^Archive/), 'Arn'] };
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['external-db/crm/*'] } } },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [bucketArn, '/external-db/crm/*']] } },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: stack.resolve(dump.encryptionKey.keyArn),
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]);
    const everything = JSON.stringify([role, policies]);
    expect(everything).not.toMatch(/secretsmanager|Conn[0-9A-F]{8}|s3:Put|s3:Delete|kms:Encrypt|kms:GenerateDataKey/);
    expect(JSON.stringify(task)).not.toMatch(/SECRET_ARN|Conn[0-9A-F]{8}|KMS_KEY_ID|secretsmanager/);
    // The dump's role, not the drill's, reads the secret.
    expect(JSON.stringify(t.findResources('AWS::IAM::ManagedPolicy'))).toMatch(/secretsmanager:GetSecretValue/);
  });

  test('log metric filters turn the drill\'s JSON line into DrillDurationSeconds and DrillSuccess; both alarms notify the topic', () => {
    const { t, stack, dump } = setup();
    const filters = Object.values(t.findResources('AWS::Logs::MetricFilter'))
      .filter((f) => /^Drill/.test(f.Properties.MetricTransformations[0].MetricName));
    expect(filters.map((f) => f.Properties.MetricTransformations[0].MetricName).sort()).toEqual(['DrillDurationSeconds', 'DrillSuccess']);
    for (const f of filters) {
      const [m] = f.Properties.MetricTransformations;
      expect(f.Properties.FilterPattern).toBe(`{ $.${m.MetricName} >= 0 }`);
      expect(m).toMatchObject({ MetricNamespace: 'CdkBackupDr/ExternalDb', MetricValue: `$.${m.MetricName}`, Unit: m.MetricName === 'DrillSuccess' ? 'Count' : 'Seconds' });
      expect(m.Dimensions).toEqual([{ Key: 'BackupJob', Value: '$.BackupJob' }, { Key: 'Environment', Value: '$.Environment' }]);
      expect(f.Properties.LogGroupName).toEqual(drillTask(t).Properties.ContainerDefinitions[0].LogConfiguration.Options['awslogs-group']);
    }
    const topic = stack.resolve(dump.alarmTopic.topicArn);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DrillDurationSeconds', Threshold: 4 * 3600, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum', AlarmActions: [topic],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DrillSuccess', Threshold: 1, ComparisonOperator: 'LessThanThreshold', Statistic: 'Minimum', AlarmActions: [topic],
    });
    // Every alarm of the construct, the drill's included (errors, dead letters), notifies the construct's topic.
    for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toEqual([topic]);
  });

  test('no drift: the line the drill prints, read by the filters, lands on the metrics the alarms watch', () => {
    const { t } = setup();
    const env = envOf(drillTask(t)) as Record<string, string>;
    // What the dump image prints in drill mode, with the task's environment (src/external-db/handler/drill.ts).
    const line = JSON.parse(drillEmf({
      namespace: env.METRICS_NAMESPACE,
      database: 'crm',
      environment: env.ENVIRONMENT,
      engine: env.ENGINE,
      backupJob: env.BACKUP_JOB,
      durationSeconds: 12.5,
      success: true,
      withinRto: true,
    }));
    const filters = Object.values(t.findResources('AWS::Logs::MetricFilter'))
      .filter((f) => /^Drill/.test(f.Properties.MetricTransformations[0].MetricName));
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a) => /^Drill/.test(a.Properties.MetricName ?? ''));
    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) {
      const filter = filters.find((f) => f.Properties.MetricTransformations[0].MetricName === alarm.Properties.MetricName);
      expect(filter).toBeDefined();
      const m = filter!.Properties.MetricTransformations[0];
      // The filter matches the line (a `{ $.Name >= 0 }` pattern on a number) and reads its value.
      const field = /^\{ \$\.(\w+) >= 0 \}$/.exec(filter!.Properties.FilterPattern)![1];
      expect(typeof line[field]).toBe('number');
      expect(line[field]).toBeGreaterThanOrEqual(0);
      expect(line[m.MetricValue.slice(2)]).toBe(line[alarm.Properties.MetricName]);
      // Same namespace; the dimensions the filter emits for this line are exactly the alarm's.
      expect(m.MetricNamespace).toBe(alarm.Properties.Namespace);
      const emitted = m.Dimensions.map((d: any) => ({ Name: d.Key, Value: line[d.Value.slice(2)] }));
      expect(emitted.sort((a: any, b: any) => a.Name.localeCompare(b.Name)))
        .toEqual([...alarm.Properties.Dimensions].sort((a: any, b: any) => a.Name.localeCompare(b.Name)));
      // The EMF declaration itself agrees (where EMF is extracted, e.g. a CloudWatch agent, the same metric results).
      expect(line._aws.CloudWatchMetrics[0].Namespace).toBe(alarm.Properties.Namespace);
      expect(line._aws.CloudWatchMetrics[0].Dimensions).toContainEqual(alarm.Properties.Dimensions.map((d: any) => d.Name));
    }
  });

  test('cdk-nag AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321: no unacknowledged finding on the drill', () => {
    const findings = nagFindings((app) => {
      const stack = new Stack(app, 'Drilled', { env: TEST_ENV });
      build(stack);
      // The Lambda-in-a-VPC variant: a new cluster for the drill.
      const other = new Stack(app, 'DrilledLambda', { env: TEST_ENV });
      build(other, { compute: DumpCompute.lambda() });
      // A Lambda dump outside a VPC, its drill in drillVpc (a new cluster and security group).
      const third = new Stack(app, 'DrilledDrillVpc', { env: TEST_ENV });
      build(third, { compute: DumpCompute.lambda(), vpc: undefined, drillVpc: new ec2.Vpc(third, 'DrillVpc', { maxAzs: 2, natGateways: 1 }) }, false);
    }, TEST_CONTEXT);
    // Only what the construct creates is this test's business (the VPC, bucket and secret stand for the user's).
    expect(findings.filter((f) => / at Drilled(Lambda|DrillVpc)?\/(Dump|BackupDrOperationsKey)\//.test(f))).toEqual([]);
  });
});

describe('when the drill is on', () => {
  test('DEV: no drill by default; restoreTesting: { enabled: true } turns it on', () => {
    const dev = setup({ environment: DEV });
    expect(dev.dump.restoreDrill).toBeUndefined();
    noDrill(dev.t);
    const on = setup({ environment: DEV, restoreTesting: { enabled: true } });
    expect(on.dump.restoreDrill).toBeDefined();
    expect(drillSchedule(on.t).Properties.ScheduleExpression).toBe('cron(0 3 ? * SAT#1 *)');
  });

  test('PRO with restoreTesting: { enabled: false }: no drill, and no warning about it', () => {
    const off = setup({ restoreTesting: { enabled: false } });
    expect(off.dump.restoreDrill).toBeUndefined();
    noDrill(off.t);
    expect(Annotations.fromStack(off.stack).findWarning('*', Match.stringLikeRegexp('drill'))).toEqual([]);
  });

  test('QA: a drill the first Saturday of each month; restoreTesting.schedule replaces the default', () => {
    const qa = setup({ environment: QA });
    expect(drillSchedule(qa.t).Properties.ScheduleExpression).toBe('cron(0 3 ? * SAT#1 *)');
    expect(envOf(drillTask(qa.t)).ENVIRONMENT).toBe('QA');
    qa.t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DrillSuccess', Dimensions: Match.arrayWith([{ Name: 'Environment', Value: 'QA' }]),
    });
    const custom = setup({ restoreTesting: { schedule: 'cron(30 4 ? * SUN *)' } });
    expect(drillSchedule(custom.t).Properties.ScheduleExpression).toBe('cron(30 4 ? * SUN *)');
    const rate = setup({ restoreTesting: { schedule: 'rate(3 days)' } });
    expect(drillSchedule(rate.t).Properties.ScheduleExpression).toBe('rate(3 days)');
  });

  test('an alarm topic passed in gets the drill alarms too', () => {
    const stack = testStack();
    const alarmTopic = new sns.Topic(stack, 'Ops');
    build(stack, { alarmTopic });
    const t = synthTemplate(stack);
    for (const metric of ['DrillSuccess', 'DrillDurationSeconds']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: metric, AlarmActions: [{ Ref: Match.stringLikeRegexp('^Ops') }] });
    }
  });
});

describe('restoreTesting options that do not apply to a drill', () => {
  test.each([
    ['validationWindow', { validationWindow: Duration.hours(3) }, '3 hours'],
    ['startWindow', { startWindow: Duration.hours(2) }, '2 hours'],
    ['selectionWindow', { selectionWindow: Duration.days(3) }, '3 days'],
    ['rdsInstanceClass', { rdsInstanceClass: 'db.t3.micro' }, '"db.t3.micro"'],
    ['rdsSubnetGroupName', { rdsSubnetGroupName: 'subnets' }, '"subnets"'],
    ['rdsSecurityGroupIds', { rdsSecurityGroupIds: ['sg-1'] }, '["sg-1"]'],
  ])('%s is an error naming the construct, the prop, the value and the fix', (field, restoreTesting, shown) => {
    const escaped = shown.replace(/[[\]]/g, '\\$&');
    expect(() => build(testStack(), { restoreTesting })).toThrow(new RegExp(
      `^\\[TestStack/Dump\\] restoreTesting\\.${field} is ${escaped}, but it tunes AWS Backup restore testing plans.*` +
      `remove ${field} \\(only restoreTesting\\.enabled and restoreTesting\\.schedule apply`));
  });

  test('a schedule EventBridge Scheduler cannot run is an error', () => {
    expect(() => build(testStack(), { restoreTesting: { schedule: 'every saturday' } })).toThrow(
      /^\[TestStack\/Dump\] restoreTesting\.schedule is "every saturday", but the restore drill's EventBridge Scheduler schedule takes cron\(\.\.\.\) or rate\(\.\.\.\)/);
  });

  test('enabled must be a boolean (JavaScript callers)', () => {
    expect(() => build(testStack(), { restoreTesting: { enabled: 'yes' as any } })).toThrow(/restoreTesting\.enabled is "yes", but must be true or false/);
  });
});

describe('Lambda compute', () => {
  test('outside a VPC (as the example app): no drill, and a warning that says how to get one', () => {
    const { t, stack, dump } = setup({ compute: DumpCompute.lambda(), vpc: undefined }, false);
    expect(dump.restoreDrill).toBeUndefined();
    noDrill(t);
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::ECS::Cluster', 0);
    Annotations.fromStack(stack).hasWarning('/TestStack/Dump', Match.stringLikeRegexp(
      '^no restore drill: .*only the dump\'s container image has.*pass drillVpc.*or vpc, or compute: DumpCompute.fargate\\(\\) with vpc \\(or turn the drill off with restoreTesting: \\{ enabled: false \\}\\)'));
    // DEV, or the drill turned off: nothing to warn about.
    const dev = setup({ compute: DumpCompute.lambda(), vpc: undefined, environment: DEV }, false);
    expect(Annotations.fromStack(dev.stack).findWarning('*', Match.stringLikeRegexp('drill'))).toEqual([]);
  });

  test('in a VPC: the drill runs as a Fargate task from the image in a new cluster, in the function\'s subnets and security groups', () => {
    const { t, dump } = setup({ compute: DumpCompute.lambda() });
    expect(dump.function).toBeDefined();
    expect(dump.restoreDrill).toBeDefined();
    const [cluster] = Object.keys(t.findResources('AWS::ECS::Cluster'));
    expect(cluster).toMatch(/DumpDrillCluster/);
    const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0];
    const schedule = drillSchedule(t);
    expect(schedule.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': [cluster, 'Arn'] });
    const net = schedule.Properties.Target.EcsParameters.NetworkConfiguration.AwsvpcConfiguration;
    expect(net.Subnets).toEqual(fn.Properties.VpcConfig.SubnetIds);
    expect(net.SecurityGroups).toEqual(fn.Properties.VpcConfig.SecurityGroupIds);
    expect(net.AssignPublicIp).toBe('DISABLED');
    // Lambda memory 2048: the drill gets its 4 GiB, 1 vCPU minimum.
    expect(drillTask(t).Properties).toMatchObject({ Cpu: '1024', Memory: '4096' });
    expect(drillTask(t).Properties.ContainerDefinitions[0].Command).toEqual(['drill']);
  });

  test('outside a VPC with drillVpc: a new cluster there and a security group with HTTPS egress only; the function stays outside', () => {
    const stack = testStack();
    const drillVpc = new ec2.Vpc(stack, 'DrillVpc', {
      maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const drillVpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const { dump } = build(stack, { compute: DumpCompute.lambda(), vpc: undefined, drillVpc, drillVpcSubnets }, false);
    const t = synthTemplate(stack);
    expect(dump.restoreDrill).toBeDefined();
    const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.VpcConfig).toBeUndefined();
    const net = drillSchedule(t).Properties.Target.EcsParameters.NetworkConfiguration.AwsvpcConfiguration;
    expect(net.Subnets).toEqual(stack.resolve(drillVpc.isolatedSubnets.map((s) => s.subnetId)));
    const sgId = net.SecurityGroups[0]['Fn::GetAtt'][0];
    expect(sgId).toMatch(/DrillSecurityGroup/);
    const sg = t.findResources('AWS::EC2::SecurityGroup')[sgId];
    expect(sg.Properties.VpcId).toEqual(stack.resolve(drillVpc.vpcId));
    expect(sg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })]);
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    t.hasResourceProperties('AWS::ECS::Cluster', {});
    expect(Object.keys(t.findResources('AWS::ECS::Cluster'))[0]).toMatch(/DumpDrillCluster/);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('drill'))).toEqual([]);
  });
});

test('without a database list the drill cannot know what to restore (it has no access to the secret): no drill, a warning', () => {
  const { t, stack, dump } = setup({ databases: undefined });
  expect(dump.restoreDrill).toBeUndefined();
  noDrill(t);
  Annotations.fromStack(stack).hasWarning('/TestStack/Dump', Match.stringLikeRegexp(
    "^no restore drill: .*needs the database names; pass databases: \\['<dbname>'\\] \\(or turn the drill off with restoreTesting: \\{ enabled: false \\}\\)"));
});

test('MySQL sources: no drill (the image\'s throw-away server is MariaDB, which cannot load MySQL 8 dumps), a warning that says so', () => {
  const { t, stack, dump } = setup({ engine: ExternalDbEngine.mysql(8) });
  expect(dump.restoreDrill).toBeUndefined();
  noDrill(t);
  Annotations.fromStack(stack).hasWarning('/TestStack/Dump', Match.stringLikeRegexp('^no restore drill for MySQL sources yet: .*utf8mb4_0900'));
  // MariaDB sources do get one.
  expect(setup({ engine: ExternalDbEngine.mariadb(10) }).dump.restoreDrill).toBeDefined();
});

test('the drill task uses the dump image\'s staged asset: one image for dump and drill', () => {
  const { stack } = setup();
  const assembly = (stack.node.root as App).synth();
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf-8'));
  expect(Object.keys(manifest.dockerImages)).toHaveLength(1);
});

describe('RestoreDrill metricsFromLogs', () => {
  function drill(dimensions: Record<string, string>, metricsFromLogs?: boolean) {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
    taskDefinition.addContainer('c', { image: ecs.ContainerImage.fromRegistry('example/dump'), command: ['drill'] });
    new RestoreDrill(stack, 'Drill', {
      purpose: 'drill',
      environment: PRO,
      rto: Duration.hours(1),
      cluster: new ecs.Cluster(stack, 'Cluster', { vpc }),
      taskDefinition,
      subnets: vpc.isolatedSubnets.map((s) => s.subnetId),
      securityGroups: [new ec2.SecurityGroup(stack, 'Sg', { vpc }).securityGroupId],
      metricsNamespace: 'Ns',
      dimensions,
      alarmTopic: new sns.Topic(stack, 'Topic'),
      metricsFromLogs,
    });
    return stack;
  }

  test('off by default (a task that publishes its own metrics); on: one filter per metric on the drill\'s log group', () => {
    const countDrillFilters = (stack: Stack) => Object.values(synthTemplate(stack).findResources('AWS::Logs::MetricFilter'))
      .filter((f) => /^Drill/.test(f.Properties.MetricTransformations[0].MetricName)).length;
    expect(countDrillFilters(drill({ Job: 'x' }))).toBe(0);
    expect(countDrillFilters(drill({ Job: 'x' }, true))).toBe(2);
  });

  test('more than 3 dimensions is an error (CloudWatch Logs metric filters publish at most 3)', () => {
    expect(() => drill({ A: '1', B: '2', C: '3', D: '4' }, true)).toThrow(
      /^\[TestStack\/Drill\] dimensions has 4 keys \(A, B, C, D\), but a log metric filter \(metricsFromLogs\) publishes at most 3/);
  });
});
