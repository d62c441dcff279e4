import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DumpCompute, DumpComputeKind, DumpDestination } from './dump-options';
import { ExternalDbEngine, ExternalDbEngineFamily, MYSQL_CLIENT_SERIES } from './external-db-engine';
import { AccessLevel, TeamAccess } from '../access/team-access';
import { DeploymentEnvironment } from '../core/environment';
import { ScheduledJob } from '../foundation/scheduled-job';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';
import { COMPLIANCE_NAG_PACKS } from '../nag/nag-packs';

/*
 * Internal pieces of ExternalDbBackupLambda, one concern each: the job's IAM (role and managed policy),
 * the compute (a container-image Lambda function or a Fargate task, both started by the ScheduledJob),
 * the alarms on the dump metrics, and the teams' grants.
 */

/** @internal The dump image's build context (assets/external-db-dump: bundled handler + Dockerfile). */
export const DUMP_ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'external-db-dump');
/** @internal Namespace of the dump metrics (EMF lines written by the handler). */
export const DUMP_METRICS_NAMESPACE = 'CdkBackupDr/ExternalDb';
/** @internal Lambda stops a function after 15 minutes. */
export const LAMBDA_MAX_MINUTES = 15;
/** @internal Share of the Lambda timeout at which the deadline alarm fires (the handler warns at the same point). */
export const DEADLINE_ALARM_PERCENT = 80;

/** @internal The job's role and its one managed policy (no inline policies). */
export interface DumpJobIam {
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
}

/** @internal Role of the dump job: reads this secret, encrypts with this key, writes under this prefix, logs. */
export function dumpJobIam(scope: Construct, options: {
  compute: DumpCompute; secret: secretsmanager.ISecret; key: kms.IKey; destination: DumpDestination; logGroup: logs.ILogGroup; inVpc: boolean;
}): DumpJobIam {
  const isLambda = options.compute.kind === DumpComputeKind.LAMBDA;
  const region = Stack.of(scope).region;
  const role = new iam.Role(scope, 'JobRole', {
    description: `cdk-backup-dr external database dump (${scope.node.path})`,
    assumedBy: new iam.ServicePrincipal(isLambda ? 'lambda.amazonaws.com' : 'ecs-tasks.amazonaws.com'),
  });
  const { secret, key, destination: dest } = options;
  const objects = dest.destinationBucket.arnForObjects(`${dest.prefix}*`);
  const statements = [
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    }),
    new iam.PolicyStatement({ actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
    // Put/abort the multipart upload; read back its size; remove a dump whose manifest could not be written (a dump
    // without a manifest is never restored, and must not linger); list multipart uploads to prove none is left after a failure.
    new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject', 's3:DeleteObject'], resources: [objects] }),
    new iam.PolicyStatement({ actions: ['s3:ListBucketMultipartUploads'], resources: [dest.destinationBucket.bucketArn] }),
    new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [options.logGroup.logGroupArn] }),
  ];
  if (secret.encryptionKey) {
    statements.push(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [secret.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
    }));
  }
  if (isLambda && options.inVpc) {
    // What AWSLambdaVPCAccessExecutionRole grants: the function's network interfaces.
    statements.push(new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: ['*'],
    }));
  }
  const policy = new iam.ManagedPolicy(scope, 'JobPolicy', {
    description: `cdk-backup-dr: external database dump permissions (${scope.node.path})`,
    roles: [role],
    statements,
  });
  NagAcknowledgements.acknowledgeWildcards(policy, [], [objects],
    'the dump writes one object and one manifest per database and run under its prefix; keys are created at run time');
  if (isLambda && options.inVpc) {
    NagAcknowledgements.acknowledgeWildcards(policy, [], ['*'],
      'Lambda creates and deletes its VPC network interfaces; EC2 has no resource-level permissions for these calls (as AWSLambdaVPCAccessExecutionRole)');
  }
  return { role, policy };
}

/** @internal What both computes need. */
export interface DumpComputeRequest {
  readonly compute: DumpCompute;
  readonly engine: ExternalDbEngine;
  readonly environment: Record<string, string>;
  readonly key: kms.IKey;
  readonly job: ScheduledJob;
  readonly iam: DumpJobIam;
  readonly rpo: Duration;
  readonly label: string;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

function imageOptions(engine: ExternalDbEngine) {
  // The image is built by `cdk deploy` (cdk-assets); synth only stages the build context.
  return {
    platform: ecr_assets.Platform.LINUX_AMD64,
    buildArgs: {
      ENGINE: engine.family,
      ENGINE_MAJOR: String(engine.majorVersion),
      // Oracle's MySQL client series that speaks MySQL 8 (caching_sha2_password, GTIDs, column statistics).
      ...(engine.family === ExternalDbEngineFamily.MYSQL ? { MYSQL_SERIES: MYSQL_CLIENT_SERIES } : {}),
    },
  };
}

/** @internal A container-image Lambda function that the job invokes; never longer than the RPO or 15 minutes. */
export function lambdaDump(scope: Construct, r: DumpComputeRequest): lambda.DockerImageFunction {
  const timeout = Duration.minutes(Math.min(LAMBDA_MAX_MINUTES, r.rpo.toMinutes()));
  const fn = new lambda.DockerImageFunction(scope, 'Function', {
    description: `cdk-backup-dr: ${r.label}`.slice(0, 256),
    code: lambda.DockerImageCode.fromImageAsset(DUMP_ASSET_DIR, imageOptions(r.engine)),
    architecture: lambda.Architecture.X86_64,
    memorySize: r.compute.memoryMiB,
    timeout,
    role: r.iam.role.withoutPolicyUpdates(),
    environment: { ...r.environment, SAFETY_MARGIN_MS: String(Math.min(60_000, timeout.toMilliseconds() / 10)) },
    environmentEncryption: r.key,
    logGroup: r.job.logGroup,
    reservedConcurrentExecutions: 1, // dumps never overlap
    vpc: r.vpc,
    vpcSubnets: r.vpc ? r.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
    securityGroups: r.securityGroups,
    // A failed dump is not retried blindly: it alarms, and the next scheduled run starts a fresh one.
    retryAttempts: 0,
    maxEventAge: Duration.hours(1),
    deadLetterQueue: r.job.deadLetterQueue,
  });
  fn.node.addDependency(r.iam.policy);
  r.iam.policy.addStatements(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [r.job.deadLetterQueue.queueArn] }));
  r.job.targetLambda(fn);
  if (!r.vpc) {
    for (const pack of COMPLIANCE_NAG_PACKS) {
      NagAcknowledgements.acknowledge(fn, `${pack}-LambdaInsideVPC`,
        'no vpc was given: the external database is reached over its TLS endpoint (TLS required); pass vpc to run the dump inside a VPC');
    }
  }
  return fn;
}

/** @internal The Fargate dump task and where it runs (the restore drill runs in the same place). */
export interface FargateDump {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly cluster: ecs.ICluster;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
}

/** @internal The same image as a Fargate task that the job runs. */
export function fargateDump(scope: Construct, r: DumpComputeRequest): FargateDump {
  const vpc = r.vpc!; // checked by the construct
  const o = r.compute.fargateOptions ?? {};
  const cluster = o.cluster ?? new ecs.Cluster(scope, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const task = new ecs.FargateTaskDefinition(scope, 'Task', { cpu: o.cpu ?? DEFAULT_FARGATE_CPU, memoryLimitMiB: r.compute.memoryMiB, taskRole: r.iam.role });
  task.addContainer('dump', {
    image: dumpImage(r.engine),
    entryPoint: ['node', 'index.js'],
    command: ['--once'],
    environment: { ...r.environment, SAFETY_MARGIN_MS: '0' },
    logging: ecs.LogDrivers.awsLogs({ logGroup: r.job.logGroup, streamPrefix: 'dump' }),
    readonlyRootFilesystem: true,
  }).addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
  task.addVolume({ name: 'tmp' });
  acknowledgeExecutionRole(task);
  acknowledgeEnvironment(task);
  const target = {
    cluster,
    subnetIds: vpc.selectSubnets(r.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    securityGroupIds: r.securityGroups!.map((sg) => sg.securityGroupId),
  };
  r.job.targetEcsTask({ cluster, taskDefinition: task, subnets: target.subnetIds, securityGroups: target.securityGroupIds });
  return { taskDefinition: task, ...target };
}

const DEFAULT_FARGATE_CPU = 1024;

function dumpImage(engine: ExternalDbEngine): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(DUMP_ASSET_DIR, imageOptions(engine));
}

function acknowledgeEnvironment(task: ecs.TaskDefinition): void {
  NagAcknowledgements.acknowledge(task, 'AwsSolutions-ECS2',
    'the environment holds configuration only (bucket, prefix, engine, database names, job name, ARNs); the database credentials are read ' +
    'from Secrets Manager at run time by the dump (never by the drill) and are never an environment variable');
}

function acknowledgeExecutionRole(task: ecs.TaskDefinition): void {
  const executionRole = task.obtainExecutionRole();
  for (const pack of COMPLIANCE_NAG_PACKS) {
    NagAcknowledgements.acknowledge(executionRole, `${pack}-IAMNoInlinePolicy`,
      'ECS task execution role managed by aws-cdk-lib: pulls this image from the CDK assets repository and writes the task logs');
  }
  NagAcknowledgements.acknowledge(executionRole, 'AwsSolutions-IAM5[Resource::*]',
    'ecr:GetAuthorizationToken has no resource-level permissions (aws-cdk-lib execution role)');
}

/** @internal Least memory of the restore drill task (MiB): it runs a database server, the restore tool and the decompressor besides Node.js. */
export const DRILL_MIN_MEMORY_MIB = 4096;
/** @internal Least CPU of the restore drill task (units; 1 vCPU takes 2 to 8 GiB, so the memory rule always fits). */
export const DRILL_MIN_CPU = 1024;
/** @internal Fargate task ephemeral storage limits (GiB). */
export const FARGATE_EPHEMERAL_MIN_GIB = 21;
export const FARGATE_EPHEMERAL_MAX_GIB = 200;
/** @internal Disk of the restore besides the restored database: WAL, server logs, temporary files (GiB). */
const DRILL_DISK_HEADROOM_GIB = 10;

/** @internal How big the restore drill task is, and whether its disk can hold the restore. */
export interface DrillSizing {
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly ephemeralStorageGiB: number;
  /** Disk the restore is expected to need (GiB), before capping at Fargate's maximum. */
  readonly neededDiskGiB: number;
}

/**
 * @internal The drill's size. Memory and CPU: the dump's, at least 4 GiB and 1 vCPU. Disk (task
 * ephemeral storage, where the throw-away server's data directory lives; the dump itself is streamed
 * from S3, never stored): twice the largest database (data plus rebuilt indexes) plus 10 GiB, between
 * Fargate's 21 and 200 GiB.
 */
export function drillSizing(compute: DumpCompute, maxDatabaseBytes: number): DrillSizing {
  const dumpCpu = compute.kind === DumpComputeKind.FARGATE ? compute.fargateOptions?.cpu ?? DEFAULT_FARGATE_CPU : DEFAULT_FARGATE_CPU;
  const neededDiskGiB = Math.ceil(2 * maxDatabaseBytes / 1024 ** 3) + DRILL_DISK_HEADROOM_GIB;
  return {
    cpu: Math.max(dumpCpu, DRILL_MIN_CPU),
    memoryMiB: Math.max(compute.memoryMiB, DRILL_MIN_MEMORY_MIB),
    ephemeralStorageGiB: Math.min(FARGATE_EPHEMERAL_MAX_GIB, Math.max(FARGATE_EPHEMERAL_MIN_GIB, neededDiskGiB)),
    neededDiskGiB,
  };
}

/** @internal Environment variables of the restore drill: the dump's, less the connection secret and what only a dump needs. */
export const DRILL_ENVIRONMENT_KEYS: readonly string[] = [
  'ENGINE', 'ENGINE_MAJOR', 'DATABASES', 'BACKUP_JOB', 'BUCKET', 'PREFIX', 'RTO_MINUTES', 'ENVIRONMENT', 'METRICS_NAMESPACE',
];

/**
 * @internal The restore drill's task definition: the dump image with the command `drill`, a role that
 * may only read the dumps under the prefix and decrypt them (no access to the connection secret: the
 * drill restores into a throw-away server inside the task). The container is added by `addDrillContainer`
 * once the drill's log group exists.
 */
export function drillTaskDefinition(scope: Construct, options: {
  sizing: DrillSizing; destination: DumpDestination; key: kms.IKey;
}): ecs.FargateTaskDefinition {
  const dest = options.destination;
  const role = new iam.Role(scope, 'DrillRole', {
    description: `cdk-backup-dr external database restore drill, read-only (${scope.node.path})`,
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
  });
  const objects = dest.destinationBucket.arnForObjects(`${dest.prefix}*`);
  const policy = new iam.ManagedPolicy(scope, 'DrillPolicy', {
    description: `cdk-backup-dr: external database restore drill reads the dumps (${scope.node.path})`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [dest.destinationBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${dest.prefix}*`] } },
      }),
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }),
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [options.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } },
      }),
    ],
  });
  NagAcknowledgements.acknowledgeWildcards(policy, [], [objects],
    'the drill reads the newest dump and manifest of each database under the dump prefix; their keys are created at run time');
  const task = new ecs.FargateTaskDefinition(scope, 'DrillTask', {
    cpu: options.sizing.cpu,
    memoryLimitMiB: options.sizing.memoryMiB,
    ephemeralStorageGiB: options.sizing.ephemeralStorageGiB,
    taskRole: role,
  });
  task.node.addDependency(policy);
  acknowledgeExecutionRole(task);
  acknowledgeEnvironment(task);
  return task;
}

/** @internal The drill container: the dump image, `node index.js drill`, logging to the drill's log group. */
export function addDrillContainer(task: ecs.FargateTaskDefinition, options: {
  engine: ExternalDbEngine; environment: Record<string, string>; logGroup: logs.ILogGroup;
}): ecs.ContainerDefinition {
  const environment = Object.fromEntries(Object.entries(options.environment).filter(([k]) => DRILL_ENVIRONMENT_KEYS.includes(k)));
  const container = task.addContainer('drill', {
    image: dumpImage(options.engine),
    entryPoint: ['node', 'index.js'],
    command: ['drill'],
    environment,
    // The whole task memory (CT.ECS.PR.7 wants a container limit): the drill is the only container.
    memoryLimitMiB: Number(task.memoryMiB),
    logging: ecs.LogDrivers.awsLogs({ logGroup: options.logGroup, streamPrefix: 'drill' }),
    readonlyRootFilesystem: true,
  });
  // The throw-away server's data directory: the drill works in os.tmpdir(), on the task's ephemeral storage.
  container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
  task.addVolume({ name: 'tmp' });
  return container;
}

/**
 * @internal Alarm when a database (or the job) had no successful dump within the RPO (missing data is
 * breaching). CloudWatch evaluates at most 7 days: up to a day, one period of the RPO; beyond, N daily
 * periods all empty.
 */
export function freshnessAlarm(job: ScheduledJob, id: string, dimensionsMap: Record<string, string>, rpo: Duration): cloudwatch.Alarm {
  const rpoMinutes = rpo.toMinutes();
  const daily = rpoMinutes > 1440;
  const periods = daily ? Math.ceil(rpoMinutes / 1440) : 1;
  return job.addAlarm(id, {
    alarmDescription: `No successful dump (${Object.values(dimensionsMap).join(', ')}) within the RPO (${rpo.toHumanString()})`,
    metric: new cloudwatch.Metric({
      namespace: DUMP_METRICS_NAMESPACE,
      metricName: 'BackupSuccess',
      dimensionsMap,
      statistic: 'Sum',
      period: daily ? Duration.days(1) : rpo,
    }),
    threshold: 1,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
}

/**
 * @internal Alarm before a Lambda dump reaches its timeout: the handler publishes the share of the
 * timeout each run used; a database that outgrows Lambda would otherwise fail every later run the same way.
 */
export function deadlineAlarm(job: ScheduledJob, dimensionsMap: Record<string, string>, timeout: Duration): cloudwatch.Alarm {
  return job.addAlarm('DeadlineAlarm', {
    alarmDescription: `A dump (${Object.values(dimensionsMap).join(', ')}) used ${DEADLINE_ALARM_PERCENT}% or more of the Lambda timeout ` +
      `(${timeout.toHumanString()}): the database is outgrowing Lambda. Fix: switch to DumpCompute.fargate() (no time limit) before runs start failing`,
    metric: new cloudwatch.Metric({
      namespace: DUMP_METRICS_NAMESPACE,
      metricName: 'BackupTimeoutUsedPercent',
      dimensionsMap,
      statistic: 'Maximum',
      period: Duration.days(1),
    }),
    threshold: DEADLINE_ALARM_PERCENT,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** @internal VIEW and RESTORE read dumps and manifests under the prefix; ADMIN may also start an on-demand dump. */
export function grantDumpAccess(
  access: TeamAccess, environment: DeploymentEnvironment, dest: DumpDestination, key: kms.IKey, fn?: lambda.IFunction,
): void {
  const level = access.levelFor(environment);
  NagAcknowledgements.acknowledgeGrant(access.grantee, dest.destinationBucket.grantRead(access.grantee, `${dest.prefix}*`),
    'cdk-backup-dr TeamAccess: read the dumps and manifests under the dump prefix, whose keys are created at run time');
  key.grantDecrypt(access.grantee);
  if (level === AccessLevel.ADMIN && fn) fn.grantInvoke(access.grantee);
}
