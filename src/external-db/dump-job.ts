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

/** @internal The same image as a Fargate task that the job runs. */
export function fargateDump(scope: Construct, r: DumpComputeRequest): ecs.FargateTaskDefinition {
  const vpc = r.vpc!; // checked by the construct
  const o = r.compute.fargateOptions ?? {};
  const cluster = o.cluster ?? new ecs.Cluster(scope, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const task = new ecs.FargateTaskDefinition(scope, 'Task', { cpu: o.cpu ?? 1024, memoryLimitMiB: r.compute.memoryMiB, taskRole: r.iam.role });
  task.addContainer('dump', {
    image: ecs.ContainerImage.fromAsset(DUMP_ASSET_DIR, imageOptions(r.engine)),
    entryPoint: ['node', 'index.js'],
    command: ['--once'],
    environment: { ...r.environment, SAFETY_MARGIN_MS: '0' },
    logging: ecs.LogDrivers.awsLogs({ logGroup: r.job.logGroup, streamPrefix: 'dump' }),
    readonlyRootFilesystem: true,
  }).addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
  task.addVolume({ name: 'tmp' });
  const executionRole = task.obtainExecutionRole();
  for (const pack of COMPLIANCE_NAG_PACKS) {
    NagAcknowledgements.acknowledge(executionRole, `${pack}-IAMNoInlinePolicy`,
      'ECS task execution role managed by aws-cdk-lib: pulls this image from the CDK assets repository and writes the task logs');
  }
  NagAcknowledgements.acknowledge(executionRole, 'AwsSolutions-IAM5[Resource::*]',
    'ecr:GetAuthorizationToken has no resource-level permissions (aws-cdk-lib execution role)');
  r.job.targetEcsTask({
    cluster,
    taskDefinition: task,
    subnets: vpc.selectSubnets(r.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    securityGroups: r.securityGroups!.map((sg) => sg.securityGroupId),
  });
  return task;
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
