import * as path from 'path';
import { Annotations, ArnFormat, Duration, Names, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DumpCompression, DumpCompute, DumpDestination, dumpSecurityGroup } from './dump-options';
import { ExternalDbEngine } from './external-db-engine';
import { AccessLevel, TeamAccess } from '../access/team-access';
import { BackupCatalogMetadata } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { BackupDrConfigError, concreteMinutes, inScope } from '../core/validation';
import { allowCloudWatchToPublish } from '../foundation/alarm-topic';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/** Properties of ExternalDbBackupLambda. */
export interface ExternalDbBackupLambdaProps {
  /** Engine and major version of the external database. */
  readonly engine: ExternalDbEngine;
  /**
   * Secret with JSON keys host, port, username, password, dbname; read at run time, never put in
   * environment variables or the template.
   */
  readonly connectionSecret: secretsmanager.ISecret;
  /**
   * Databases to dump, each to its own object.
   * @default - the secret's `dbname`
   */
  readonly databases?: string[];
  /** Where dumps and manifests are written. */
  readonly destination: DumpDestination;
  /** Declared RPO and RTO: the schedule runs at an interval no longer than the RPO (15 minutes to 7 days). */
  readonly objectives: RecoveryObjectives;
  /** Environment of the database. */
  readonly environment: DeploymentEnvironment;
  /**
   * VPC to run in (required for Fargate; for Lambda when the database is only reachable privately).
   * @default - Lambda runs outside a VPC and reaches the database over its (TLS) endpoint
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets in `vpc`.
   * @default - private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the dump job.
   * @default - one allowing egress only to the database port and HTTPS
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Where the database is, for the default security group's egress rule.
   * @default ec2.Peer.anyIpv4()
   */
  readonly databasePeer?: ec2.IPeer;
  /**
   * Database port, for the default security group's egress rule.
   * @default - the engine's default port
   */
  readonly databasePort?: number;
  /**
   * Largest database (dump) expected: drives the multipart part size so it fits in 10,000 parts.
   * @default Size.gibibytes(100)
   */
  readonly maxDatabaseSize?: Size;
  /**
   * Require TLS to the database. Turning it off is a warning, and an error for PRO.
   * @default true
   */
  readonly tls?: boolean;
  /**
   * Compression of the dump stream.
   * @default DumpCompression.ZSTD (measured faster and smaller than pg_dump's built-in zlib; see README)
   */
  readonly compression?: DumpCompression;
  /**
   * Where the dump runs.
   * @default DumpCompute.lambda()
   */
  readonly compute?: DumpCompute;
  /**
   * Topic for the alarms (missed RPO, failed runs, dead letters).
   * @default - a new topic encrypted with the dump key, TLS-only
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Who may read (VIEW, RESTORE: download and restore dumps) or run on-demand dumps (ADMIN).
   * @default - no grants
   */
  readonly access?: TeamAccess[];
}

const ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'external-db-dump');
const MIN_RPO_MINUTES = 15;
const MAX_RPO_MINUTES = 7 * 24 * 60;
const LAMBDA_MAX_MINUTES = 15;
const MAX_OBJECT = Size.gibibytes(5 * 10_000);
const METRICS_NAMESPACE = 'CdkBackupDr/ExternalDb';

/**
 * Scheduled logical dumps of a database AWS does not manage (on-premises, another cloud, EC2) into S3,
 * a different service, as the backup policy asks. The dump is streamed into a multipart upload (never
 * to /tmp), encrypted with a customer-managed key, checksummed, and followed by a manifest; an alarm
 * fires when no dump succeeded within the RPO.
 */
export class ExternalDbBackupLambda extends Construct {
  /** The Lambda function (Lambda compute only). */
  public readonly function?: lambda.IFunction;
  /** The Fargate task definition (Fargate compute only). */
  public readonly taskDefinition?: ecs.FargateTaskDefinition;
  /** Key encrypting the dumps. */
  public readonly encryptionKey: kms.IKey;
  /** Topic receiving the alarms. */
  public readonly alarmTopic: sns.ITopic;
  /** Alarms that fire when a database had no successful dump within the RPO, one per database. */
  public readonly rpoAlarms: cloudwatch.Alarm[];
  /** Dead-letter queue of failed scheduled runs. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Schedule interval derived from the RPO. */
  public readonly scheduleInterval: Duration;

  constructor(scope: Construct, id: string, props: ExternalDbBackupLambdaProps) {
    super(scope, id);
    const { rpoMinutes, databases, compute } = inScope(this, () => this.validate(props));
    /** Metric dimension naming this job, for the missed-backup alarm when the databases are not listed. */
    const jobName = Names.uniqueResourceName(this, { maxLength: 64 });
    const dest = props.destination;
    const prefix = dest.prefix;
    this.scheduleInterval = Duration.minutes(rpoMinutes);

    this.encryptionKey = dest.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `cdk-backup-dr external database dumps (${props.environment}) for ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const region = Stack.of(this).region;
    // The log group is encrypted with the same key.
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': Stack.of(this).formatArn({
            service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }));

    this.alarmTopic = props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', {
      displayName: `External DB backup alarms (${props.environment})`,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    allowCloudWatchToPublish(this.alarmTopic);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.environment === DeploymentEnvironment.PRO ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The image is built by `cdk deploy` (cdk-assets); synth only stages the build context.
    const image = {
      platform: ecr_assets.Platform.LINUX_AMD64,
      buildArgs: { ENGINE: props.engine.family, ENGINE_MAJOR: String(props.engine.majorVersion) },
    };

    const environment: Record<string, string> = {
      SECRET_ARN: props.connectionSecret.secretArn,
      ENGINE: props.engine.family,
      ENGINE_MAJOR: String(props.engine.majorVersion),
      ...(databases ? { DATABASES: databases.join(',') } : {}),
      BACKUP_JOB: jobName,
      BUCKET: dest.destinationBucket.bucketName,
      PREFIX: prefix,
      KMS_KEY_ID: this.encryptionKey.keyArn,
      MAX_DATABASE_SIZE_BYTES: String((props.maxDatabaseSize ?? Size.gibibytes(100)).toBytes()),
      TLS_MODE: props.tls === false ? 'disable' : 'require',
      COMPRESSION: props.compression ?? DumpCompression.ZSTD,
      RPO_MINUTES: String(rpoMinutes),
      RTO_MINUTES: String(concreteMinutes(props.objectives.rto, 'objectives.rto')),
      ENVIRONMENT: props.environment,
      METRICS_NAMESPACE,
    };

    const port = props.databasePort ?? props.engine.defaultPort;
    const securityGroups = props.vpc
      ? props.securityGroups ?? [dumpSecurityGroup(this, props.vpc, port, props.databasePeer ?? ec2.Peer.anyIpv4())]
      : undefined;

    // Every permission is in managed policies (no inline default policies): the job's role reads this
    // secret, encrypts with this key and writes under this prefix; the scheduler role starts the job.
    const isLambda = compute.kind === 'LAMBDA';
    const jobRole = new iam.Role(this, 'JobRole', {
      description: `cdk-backup-dr external database dump (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal(isLambda ? 'lambda.amazonaws.com' : 'ecs-tasks.amazonaws.com'),
    });
    const secret = props.connectionSecret;
    const objects = dest.destinationBucket.arnForObjects(`${prefix}*`);
    const jobStatements = [
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
      }),
      new iam.PolicyStatement({ actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.encryptionKey.keyArn] }),
      // Put/abort the multipart upload; read back its size; list multipart uploads to prove none is left after a failure.
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'], resources: [objects] }),
      new iam.PolicyStatement({ actions: ['s3:ListBucketMultipartUploads'], resources: [dest.destinationBucket.bucketArn] }),
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    ];
    if (secret.encryptionKey) {
      jobStatements.push(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [secret.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
      }));
    }
    if (isLambda && props.vpc) {
      // What AWSLambdaVPCAccessExecutionRole grants: the function's network interfaces.
      jobStatements.push(new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: ['*'],
      }));
    }
    const jobPolicy = new iam.ManagedPolicy(this, 'JobPolicy', {
      description: `cdk-backup-dr: external database dump permissions (${this.node.path})`,
      roles: [jobRole],
      statements: jobStatements,
    });
    NagAcknowledgements.acknowledgeWildcards(jobPolicy, [], [objects],
      'the dump writes one object and one manifest per database and run under its prefix; keys are created at run time');
    if (isLambda && props.vpc) {
      NagAcknowledgements.acknowledgeWildcards(jobPolicy, [], ['*'],
        'Lambda creates and deletes its VPC network interfaces; EC2 has no resource-level permissions for these calls (as AWSLambdaVPCAccessExecutionRole)');
    }

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: starts the external database dump',
    });
    const schedulerStatements = [
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.encryptionKey.keyArn] }),
    ];
    const deadLetterConfig = { arn: this.deadLetterQueue.queueArn };
    let target: scheduler.CfnSchedule.TargetProperty;

    if (isLambda) {
      const timeout = Duration.minutes(Math.min(LAMBDA_MAX_MINUTES, rpoMinutes));
      const fn = new lambda.DockerImageFunction(this, 'Function', {
        description: `cdk-backup-dr: ${props.engine.family} ${props.engine.majorVersion} dump to s3 (${props.environment})`,
        code: lambda.DockerImageCode.fromImageAsset(ASSET_DIR, image),
        architecture: lambda.Architecture.X86_64,
        memorySize: compute.memoryMiB,
        timeout,
        role: jobRole.withoutPolicyUpdates(),
        environment: { ...environment, SAFETY_MARGIN_MS: String(Math.min(60_000, timeout.toMilliseconds() / 10)) },
        environmentEncryption: this.encryptionKey,
        logGroup,
        reservedConcurrentExecutions: 1, // dumps never overlap
        vpc: props.vpc,
        vpcSubnets: props.vpc ? props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
        securityGroups,
        // A failed dump is not retried blindly: it alarms, and the next scheduled run starts a fresh one.
        retryAttempts: 0,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetterQueue,
      });
      fn.node.addDependency(jobPolicy);
      jobPolicy.addStatements(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));
      schedulerStatements.push(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }));
      this.function = fn;
      target = {
        arn: fn.functionArn,
        roleArn: schedulerRole.roleArn,
        input: JSON.stringify({ source: 'cdk-backup-dr', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        retryPolicy: { maximumRetryAttempts: 0 },
        deadLetterConfig,
      };
      new cloudwatch.Alarm(this, 'ErrorsAlarm', {
        alarmDescription: `External DB dump ${this.node.path} failed (Lambda errors)`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new cw_actions.SnsAction(this.alarmTopic));
      if (!props.vpc) {
        for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
          NagAcknowledgements.acknowledge(fn, `${pack}-LambdaInsideVPC`,
            'no vpc was given: the external database is reached over its TLS endpoint (TLS required); pass vpc to run the dump inside a VPC');
        }
      }
    } else {
      const vpc = props.vpc!; // checked in validate()
      const o = compute.fargateOptions ?? {};
      const cluster = o.cluster ?? new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
      const task = new ecs.FargateTaskDefinition(this, 'Task', { cpu: o.cpu ?? 1024, memoryLimitMiB: compute.memoryMiB, taskRole: jobRole });
      task.addContainer('dump', {
        image: ecs.ContainerImage.fromAsset(ASSET_DIR, image),
        entryPoint: ['node', 'index.js'],
        command: ['--once'],
        environment: { ...environment, SAFETY_MARGIN_MS: '0' },
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'dump' }),
        readonlyRootFilesystem: true,
      }).addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
      task.addVolume({ name: 'tmp' });
      // On Fargate the dump's EMF lines are turned into the same metric by a metric filter.
      new logs.MetricFilter(this, 'SuccessMetric', {
        logGroup,
        metricNamespace: METRICS_NAMESPACE,
        metricName: 'BackupSuccess',
        filterPattern: logs.FilterPattern.exists('$.BackupSuccess'),
        metricValue: '$.BackupSuccess',
        dimensions: databases ? { Database: '$.Database', Environment: '$.Environment' } : { BackupJob: '$.BackupJob', Environment: '$.Environment' },
      });
      schedulerStatements.push(
        new iam.PolicyStatement({ actions: ['ecs:RunTask'], resources: [task.taskDefinitionArn] }),
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [jobRole.roleArn, task.obtainExecutionRole().roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
      for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
        NagAcknowledgements.acknowledge(task.obtainExecutionRole(), `${pack}-IAMNoInlinePolicy`,
          'ECS task execution role managed by aws-cdk-lib: pulls this image from the CDK assets repository and writes the task logs');
      }
      NagAcknowledgements.acknowledge(task.obtainExecutionRole(), 'AwsSolutions-IAM5[Resource::*]',
        'ecr:GetAuthorizationToken has no resource-level permissions (aws-cdk-lib execution role)');
      this.taskDefinition = task;
      target = {
        arn: cluster.clusterArn,
        roleArn: schedulerRole.roleArn,
        ecsParameters: {
          taskDefinitionArn: task.taskDefinitionArn,
          launchType: 'FARGATE',
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
              securityGroups: securityGroups!.map((sg) => sg.securityGroupId),
              assignPublicIp: 'DISABLED',
            },
          },
        },
        retryPolicy: { maximumRetryAttempts: 0 },
        deadLetterConfig,
      };
    }
    new iam.ManagedPolicy(this, 'SchedulerPolicy', {
      description: `cdk-backup-dr: EventBridge Scheduler starts the dump (${this.node.path})`,
      roles: [schedulerRole],
      statements: schedulerStatements,
    });

    new scheduler.CfnSchedule(this, 'Schedule', {
      description: `Dump ${props.engine.family} databases every ${this.scheduleInterval.toHumanString()} (RPO ${props.objectives.rpo.toHumanString()})`,
      scheduleExpression: rateExpression(rpoMinutes),
      flexibleTimeWindow: { mode: 'OFF' },
      target,
    });

    this.rpoAlarms = databases
      ? databases.map((db, i) => freshnessAlarm(this, `RpoAlarm${i}`, { Database: db, Environment: props.environment }, rpoMinutes))
      : [freshnessAlarm(this, 'RpoAlarm', { BackupJob: jobName, Environment: props.environment }, rpoMinutes)];
    for (const alarm of this.rpoAlarms) alarm.addAlarmAction(new cw_actions.SnsAction(this.alarmTopic));
    new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Scheduled dump runs of ${this.node.path} that could not be delivered or failed`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new cw_actions.SnsAction(this.alarmTopic));

    for (const access of props.access ?? []) {
      grantDumpAccess(access, props.environment, dest, this.encryptionKey, this.function);
    }

    BackupCatalogMetadata.record(this, {
      backupName: this.node.path,
      content: BackupContent.CURRENT_DATA,
      periodicity: `every ${this.scheduleInterval.toHumanString()} (retention: destination lifecycle)`,
      environment: props.environment,
      supportType: `Scheduled dump (${compute.kind === 'LAMBDA' ? 'Lambda' : 'ECS Fargate'}) of ${props.engine.family} ${props.engine.majorVersion} to S3`,
      location: `https://${dest.destinationBucket.bucketRegionalDomainName}/${prefix}`,
      rpo: props.objectives.rpo.toHumanString(),
      rto: props.objectives.rto.toHumanString(),
    });
  }

  private validate(props: ExternalDbBackupLambdaProps): { rpoMinutes: number; databases?: string[]; compute: DumpCompute } {
    const rpo = concreteMinutes(props.objectives.rpo, 'objectives.rpo');
    if (rpo < MIN_RPO_MINUTES) {
      throw new BackupDrConfigError(
        `objectives.rpo is ${props.objectives.rpo.toHumanString()}: a logical dump cannot do continuous backup, and runs at most every ` +
        `${MIN_RPO_MINUTES} minutes; declare an RPO of at least ${MIN_RPO_MINUTES} minutes, or replicate the database into RDS/Aurora and use RdsBackupPolicy`,
      );
    }
    if (rpo > MAX_RPO_MINUTES) {
      throw new BackupDrConfigError(
        `objectives.rpo is ${props.objectives.rpo.toHumanString()}: the missed-backup alarm can look back at most 7 days (CloudWatch); declare an RPO of 7 days or less`,
      );
    }
    const max = props.maxDatabaseSize;
    if (max && !max.isUnresolved() && max.toBytes() > MAX_OBJECT.toBytes()) {
      throw new BackupDrConfigError(
        `maxDatabaseSize is ${max.toGibibytes()} GiB, above the ${MAX_OBJECT.toGibibytes()} GiB an S3 object can hold (10,000 parts of 5 GiB); split the database into several dumps (databases)`,
      );
    }
    const compute = props.compute ?? DumpCompute.lambda();
    if (compute.kind === 'FARGATE' && !props.vpc) {
      throw new BackupDrConfigError('compute: DumpCompute.fargate() needs vpc (Fargate tasks run in a VPC); pass vpc or use DumpCompute.lambda()');
    }
    const maxBytes = (props.maxDatabaseSize ?? Size.gibibytes(100)).toBytes();
    // The handler buffers about 4 multipart parts (queue + 2) besides ~512 MiB for Node.js, the dump tool and zstd.
    const partMiB = Math.max(5, Math.ceil(maxBytes / 10_000 / 1024 ** 2));
    const neededMiB = 4 * partMiB + 512;
    if (compute.memoryMiB < neededMiB) {
      throw new BackupDrConfigError(
        `compute: ${compute.memoryMiB} MiB of memory is too little for maxDatabaseSize ${(maxBytes / 1024 ** 3).toFixed(0)} GiB ` +
        `(${partMiB} MiB multipart parts need about ${neededMiB} MiB); give the ${compute.kind === 'LAMBDA' ? 'function' : 'task'} more memory ` +
        '(DumpCompute.lambda({ memorySize }) up to 10240, or DumpCompute.fargate({ memoryLimitMiB }))',
      );
    }
    const databases = props.databases;
    if (databases && (databases.length === 0 || databases.some((d) => !/^[A-Za-z0-9_$-]{1,64}$/.test(d)))) {
      throw new BackupDrConfigError(`databases is [${databases.join(', ')}]: give at least one database name (letters, digits, _ $ -), or omit it to dump the secret's dbname`);
    }
    if (props.tls === false) {
      if (props.environment === DeploymentEnvironment.PRO) {
        throw new BackupDrConfigError('tls is false for a PRO database: credentials and data would cross the network in clear text; enable TLS on the server and remove tls: false');
      }
      Annotations.of(this).addWarningV2('cdk-backup-dr:external-db-tls', 'tls is false: the dump connects without TLS; only acceptable on a private, trusted network');
    }
    return { rpoMinutes: Math.floor(rpo), databases, compute };
  }
}

/** `rate(...)` for a whole number of minutes, in the largest exact unit. */
function rateExpression(minutes: number): string {
  if (minutes % 1440 === 0) return `rate(${minutes / 1440} ${minutes === 1440 ? 'day' : 'days'})`;
  if (minutes % 60 === 0) return `rate(${minutes / 60} ${minutes === 60 ? 'hour' : 'hours'})`;
  return `rate(${minutes} minutes)`;
}

/**
 * Alarm when `database` had no successful dump within the RPO (missing data is breaching).
 * CloudWatch evaluates at most 7 days: up to a day, one period of the RPO; beyond, N daily periods all empty.
 */
function freshnessAlarm(scope: Construct, id: string, dimensionsMap: Record<string, string>, rpoMinutes: number): cloudwatch.Alarm {
  const daily = rpoMinutes > 1440;
  const periods = daily ? Math.ceil(rpoMinutes / 1440) : 1;
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: `No successful dump (${Object.values(dimensionsMap).join(', ')}) within the RPO (${Duration.minutes(rpoMinutes).toHumanString()})`,
    metric: new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'BackupSuccess',
      dimensionsMap,
      statistic: 'Sum',
      period: daily ? Duration.days(1) : Duration.minutes(rpoMinutes),
    }),
    threshold: 1,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
}

/** VIEW and RESTORE read dumps and manifests under the prefix; ADMIN may also start an on-demand dump. */
function grantDumpAccess(access: TeamAccess, environment: DeploymentEnvironment, dest: DumpDestination, key: kms.IKey, fn?: lambda.IFunction) {
  const level = access.levelFor(environment);
  NagAcknowledgements.acknowledgeGrant(access.grantee, dest.destinationBucket.grantRead(access.grantee, `${dest.prefix}*`),
    'cdk-backup-dr TeamAccess: read the dumps and manifests under the dump prefix, whose keys are created at run time');
  key.grantDecrypt(access.grantee);
  if (level === AccessLevel.ADMIN && fn) fn.grantInvoke(access.grantee);
}
