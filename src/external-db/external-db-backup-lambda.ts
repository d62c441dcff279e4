import { Annotations, Duration, Names, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DUMP_METRICS_NAMESPACE, FARGATE_EPHEMERAL_MAX_GIB, LAMBDA_MAX_MINUTES, addDrillContainer, deadlineAlarm, drillSizing, drillTaskDefinition,
  dumpJobIam, fargateDump, freshnessAlarm, grantDumpAccess, lambdaDump,
} from './dump-job';
import { DumpCompression, DumpCompute, DumpComputeKind, DumpDestination, dumpSecurityGroup } from './dump-options';
import { ExternalDbEngine, ExternalDbEngineFamily } from './external-db-engine';
import { BackupCatalogMetadata, CatalogResourceType } from '../core/catalog-metadata';
import { BackupContent } from '../core/content';
import { DeploymentEnvironment } from '../core/environment';
import { RestoreTestingOptions } from '../core/restore-testing-options';
import { BackupPolicyDerivation } from '../core/schedule-derivation';
import { BackupDrConfigError, concreteMinutes, inScope, requireProp } from '../core/validation';
import { checkExternalDbDr } from '../dr/external-db-dr';
import { BackupKey } from '../foundation/backup-key';
import { BackupDrBaseProps, catalogAccess, catalogDrSite, checkBaseProps } from '../foundation/protection';
import { ScheduledJob } from '../foundation/scheduled-job';
import { RestoreDrill } from '../verification/restore-drill';

/**
 * Properties of ExternalDbBackupLambda. The schedule runs at the longest interval no longer than the RPO
 * (15 minutes to 7 days, the same derivation every construct uses); `access` grants VIEW and RESTORE
 * read access to the dumps and ADMIN on-demand runs; with `drSite`, the dumps reach the DR Region
 * through the destination archive's replication.
 */
export interface ExternalDbBackupLambdaProps extends BackupDrBaseProps {
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
   * Restore testing of the dumps: a scheduled restore drill (an ECS Fargate task from the dump image,
   * `node index.js drill`) restores the newest dump of every database into a throw-away server inside
   * the task, checks it against its manifest (size, SHA-256, row counts) and publishes
   * DrillDurationSeconds and DrillSuccess; alarms fire on a failed drill and on a drill longer than the
   * RTO. It needs `databases` (the drill has no access to the connection secret) and a network: the
   * Fargate dump's, or `vpc`, or `drillVpc` for a Lambda dump outside a VPC.
   *
   * `enabled` and `schedule` apply (the drill's own EventBridge Scheduler expression, `cron(...)` or
   * `rate(...)`, UTC); the AWS Backup restore testing fields (windows, RDS overrides) do not, and are an error.
   * @default - on for PRO and QA (PRO weekly, Saturday 03:00 UTC; QA the first Saturday of each month), off for DEV
   */
  readonly restoreTesting?: RestoreTestingOptions;
  /**
   * VPC of the restore drill task: needed when the dump has no network of its own (Lambda outside a
   * VPC); given with a dump in a VPC, the drill runs here instead. The drill talks to S3, ECR and
   * CloudWatch Logs only (HTTPS through NAT or VPC endpoints; no public IP): a new cluster and a security
   * group allowing HTTPS egress only are created in it.
   * @default - the dump's network: the cluster, subnets and security groups of the Fargate dump, or `vpc`
   * (with `vpcSubnets` and the security groups) for a Lambda dump in a VPC; none otherwise (no drill, a warning)
   */
  readonly drillVpc?: ec2.IVpc;
  /**
   * Subnets of `drillVpc`.
   * @default - private subnets with egress
   */
  readonly drillVpcSubnets?: ec2.SubnetSelection;
}

/** Fields of RestoreTestingOptions that tune AWS Backup restore testing plans, not the drill of a dump. */
const RESTORE_TESTING_PLAN_FIELDS = [
  'startWindow', 'validationWindow', 'selectionWindow', 'rdsInstanceClass', 'rdsSubnetGroupName', 'rdsSecurityGroupIds',
] as const;

const MAX_OBJECT = Size.gibibytes(5 * 10_000);
/**
 * Throughput a Lambda dump can count on (network from the database, 2 GiB function): the handler
 * measured ~70 MiB/s against a local server; a remote database over TLS is slower. A database declared
 * larger than 15 minutes at this rate cannot finish in Lambda.
 */
const LAMBDA_DUMP_MIB_PER_SECOND = 25;

/**
 * Scheduled logical dumps of a database AWS does not manage (on-premises, another cloud, EC2) into S3,
 * a different service, as the backup policy asks. The dump is streamed into a multipart upload (never
 * to /tmp), encrypted with a customer-managed key, checksummed, and followed by a manifest; an alarm
 * fires when no dump succeeded within the RPO, and (Lambda) when a run used 80% of its time.
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
  public readonly deadLetterQueue: sqs.IQueue;
  /** Schedule interval derived from the RPO. */
  public readonly scheduleInterval: Duration;
  /** The scheduled restore drill of the dumps (see `restoreTesting`), when there is one. */
  public readonly restoreDrill?: RestoreDrill;

  constructor(scope: Construct, id: string, props: ExternalDbBackupLambdaProps) {
    super(scope, id);
    const { schedule, databases, compute, drill } = inScope(this, () => this.validate(props));
    /** Metric dimension naming this job, for the missed-backup alarm when the databases are not listed. */
    const jobName = Names.uniqueResourceName(this, { maxLength: 64 });
    const dest = props.destination;
    this.scheduleInterval = schedule.interval;

    this.encryptionKey = dest.encryptionKey ?? BackupKey.create(this, 'Key', { description: `cdk-backup-dr external database dumps (${props.environment}) for ${this.node.path}` });
    this.alarmTopic = props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', {
      displayName: `External DB backup alarms (${props.environment})`,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    const label = `${props.engine.family} ${props.engine.majorVersion} dump to S3 (${props.environment})`;
    const job = new ScheduledJob(this, 'Job', {
      purpose: `external database ${label} of ${this.node.path}`,
      environment: props.environment,
      alarmTopic: this.alarmTopic,
      encryptionKey: this.encryptionKey,
    });
    this.deadLetterQueue = job.deadLetterQueue;

    const environment: Record<string, string> = {
      SECRET_ARN: props.connectionSecret.secretArn,
      ENGINE: props.engine.family,
      ENGINE_MAJOR: String(props.engine.majorVersion),
      ...(databases ? { DATABASES: databases.join(',') } : {}),
      BACKUP_JOB: jobName,
      BUCKET: dest.destinationBucket.bucketName,
      PREFIX: dest.prefix,
      KMS_KEY_ID: this.encryptionKey.keyArn,
      MAX_DATABASE_SIZE_BYTES: String((props.maxDatabaseSize ?? Size.gibibytes(100)).toBytes()),
      TLS_MODE: props.tls === false ? 'disable' : 'require',
      COMPRESSION: props.compression ?? DumpCompression.ZSTD,
      RPO_MINUTES: String(schedule.interval.toMinutes()),
      RTO_MINUTES: String(concreteMinutes(props.objectives.rto, 'objectives.rto')),
      ENVIRONMENT: props.environment,
      METRICS_NAMESPACE: DUMP_METRICS_NAMESPACE,
    };
    const port = props.databasePort ?? props.engine.defaultPort;
    const securityGroups = props.vpc
      ? props.securityGroups ?? [dumpSecurityGroup(this, props.vpc, port, props.databasePeer ?? ec2.Peer.anyIpv4())]
      : undefined;
    const jobIam = dumpJobIam(this, {
      compute, secret: props.connectionSecret, key: this.encryptionKey, destination: dest, logGroup: job.logGroup, inVpc: !!props.vpc,
    });
    const request = {
      compute,
      engine: props.engine,
      environment,
      key: this.encryptionKey,
      job,
      iam: jobIam,
      rpo: schedule.interval,
      label,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups,
    };
    let drillNetwork: DrillNetwork | undefined;
    if (compute.kind === DumpComputeKind.LAMBDA) {
      const fn = lambdaDump(this, request);
      this.function = fn;
      deadlineAlarm(job, { BackupJob: jobName, Environment: props.environment }, fn.timeout ?? Duration.minutes(LAMBDA_MAX_MINUTES));
    } else {
      const fargate = fargateDump(this, request);
      this.taskDefinition = fargate.taskDefinition;
      drillNetwork = { cluster: fargate.cluster, subnetIds: fargate.subnetIds, securityGroupIds: fargate.securityGroupIds };
      // On Fargate the dump's EMF lines are turned into the same metric by a metric filter.
      new logs.MetricFilter(this, 'SuccessMetric', {
        logGroup: job.logGroup,
        metricNamespace: DUMP_METRICS_NAMESPACE,
        metricName: 'BackupSuccess',
        filterPattern: logs.FilterPattern.exists('$.BackupSuccess'),
        metricValue: '$.BackupSuccess',
        dimensions: databases ? { Database: '$.Database', Environment: '$.Environment' } : { BackupJob: '$.BackupJob', Environment: '$.Environment' },
      });
    }
    job.addSchedule('Schedule', {
      expression: schedule.expression,
      description: `Dump ${props.engine.family} databases ${schedule.label} (RPO ${props.objectives.rpo.toHumanString()})`,
      input: { source: 'cdk-backup-dr' },
    });

    if (drill.enabled) {
      this.restoreDrill = this.addRestoreDrill(props, {
        compute, databases, drillNetwork, securityGroups, environment, jobName, label, schedule: drill.schedule,
      });
    }

    this.rpoAlarms = databases
      ? databases.map((db, i) => freshnessAlarm(job, `RpoAlarm${i}`, { Database: db, Environment: props.environment }, schedule.interval))
      : [freshnessAlarm(job, 'RpoAlarm', { BackupJob: jobName, Environment: props.environment }, schedule.interval)];

    for (const access of props.access ?? []) {
      grantDumpAccess(access, props.environment, dest, this.encryptionKey, this.function);
    }

    BackupCatalogMetadata.record(this, {
      backupName: this.node.path,
      content: BackupContent.CURRENT_DATA,
      periodicity: `${schedule.label} (retention: destination lifecycle)`,
      environment: props.environment,
      supportType: `Scheduled dump (${compute.kind === DumpComputeKind.LAMBDA ? 'Lambda' : 'ECS Fargate'}) of ${props.engine.family} ${props.engine.majorVersion} to S3`,
      location: `https://${dest.destinationBucket.bucketRegionalDomainName}/${dest.prefix}`,
      rpo: props.objectives.rpo.toHumanString(),
      rto: props.objectives.rto.toHumanString(),
      resources: (databases ?? ['<dbname of the connection secret>']).map((db) => ({
        type: CatalogResourceType.EXTERNAL_DATABASE,
        identifier: db,
        bucketName: dest.destinationBucket.bucketName,
        keyPrefix: dest.prefix,
        engine: `${props.engine.family} ${props.engine.majorVersion}`,
      })),
      access: catalogAccess(props),
      drSite: catalogDrSite(props.drSite),
    });
  }

  /**
   * The restore drill: where a drill can run (the Fargate dump's network, `vpc`, or `drillVpc`) and
   * what it restores (`databases`); otherwise a warning that says what is missing and how to get it.
   */
  private addRestoreDrill(props: ExternalDbBackupLambdaProps, c: {
    compute: DumpCompute;
    databases?: string[];
    drillNetwork?: DrillNetwork;
    securityGroups?: ec2.ISecurityGroup[];
    environment: Record<string, string>;
    jobName: string;
    label: string;
    schedule?: string;
  }): RestoreDrill | undefined {
    const off = 'or turn the drill off with restoreTesting: { enabled: false }';
    if (props.engine.family === ExternalDbEngineFamily.MYSQL) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:external-db-drill-mysql',
        'no restore drill for MySQL sources yet: the throw-away server the image can start is MariaDB, which does not load MySQL 8 ' +
        'dumps (utf8mb4_0900_* collations). Restore-test the dumps with the restore CLI into a MySQL 8 server (docs/external-db-restore.md) ' +
        `(${off})`);
      return undefined;
    }
    if (!c.databases) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:external-db-drill-needs-databases',
        `no restore drill: the drill reads the dumps without access to the connection secret, so it needs the database names; pass databases: ['<dbname>'] (${off})`);
      return undefined;
    }
    let network = c.drillNetwork;
    if (props.drillVpc) {
      const sg = new ec2.SecurityGroup(this, 'DrillSecurityGroup', {
        vpc: props.drillVpc,
        allowAllOutbound: false,
        description: 'cdk-backup-dr external database restore drill: HTTPS egress only (S3, ECR, CloudWatch Logs)',
      });
      sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS (or VPC endpoints)');
      network = {
        cluster: new ecs.Cluster(this, 'DrillCluster', { vpc: props.drillVpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }),
        subnetIds: props.drillVpc.selectSubnets(props.drillVpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
        securityGroupIds: [sg.securityGroupId],
      };
    } else if (!network && props.vpc) {
      // A Lambda dump in a VPC: the drill runs as a Fargate task in the function's subnets and security groups.
      network = {
        cluster: new ecs.Cluster(this, 'DrillCluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }),
        subnetIds: props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
        securityGroupIds: c.securityGroups!.map((sg) => sg.securityGroupId),
      };
    }
    if (!network) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:external-db-drill-missing',
        'no restore drill: the drill restores into a throw-away database server, which only the dump\'s container image has, so it runs ' +
        'as an ECS Fargate task and needs a VPC, and this Lambda dump has none. To get the drill, pass drillVpc (a VPC whose subnets ' +
        `reach S3, ECR and CloudWatch Logs; the dump stays outside), or vpc, or compute: DumpCompute.fargate() with vpc (${off})`);
      return undefined;
    }
    const maxBytes = (props.maxDatabaseSize ?? Size.gibibytes(100)).toBytes();
    const sizing = drillSizing(c.compute, maxBytes);
    if (props.maxDatabaseSize && sizing.neededDiskGiB > FARGATE_EPHEMERAL_MAX_GIB) {
      Annotations.of(this).addWarningV2('cdk-backup-dr:external-db-drill-disk',
        `the restore drill of a ${props.maxDatabaseSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE }).toFixed(0)} GiB database may need ` +
        `about ${sizing.neededDiskGiB} GiB of disk, more than the ${FARGATE_EPHEMERAL_MAX_GIB} GiB a Fargate task has: it fails when the restore ` +
        `does not fit. Lower maxDatabaseSize to the real size, split the databases over several constructs, ${off}`);
    }
    const taskDefinition = drillTaskDefinition(this, { sizing, destination: props.destination, key: this.encryptionKey });
    const drill = new RestoreDrill(this, 'RestoreDrill', {
      purpose: `restore drill of the ${c.label} of ${this.node.path}`,
      environment: props.environment,
      rto: props.objectives.rto,
      cluster: network.cluster,
      taskDefinition,
      subnets: network.subnetIds,
      securityGroups: network.securityGroupIds,
      metricsNamespace: DUMP_METRICS_NAMESPACE,
      // The drill's EMF line carries BackupJob and Environment (BACKUP_JOB, ENVIRONMENT below).
      dimensions: { BackupJob: c.jobName, Environment: props.environment },
      schedule: c.schedule,
      alarmTopic: this.alarmTopic,
      metricsFromLogs: true,
    });
    addDrillContainer(taskDefinition, { engine: props.engine, environment: c.environment, logGroup: drill.logGroup });
    return drill;
  }

  private validate(props: ExternalDbBackupLambdaProps) {
    checkBaseProps(props);
    requireProp(props.engine, 'engine', 'pass ExternalDbEngine.postgres(16), .mysql(8) or .mariadb(11)');
    requireProp(props.connectionSecret, 'connectionSecret', 'pass the Secrets Manager secret with host, port, username, password and dbname');
    requireProp(props.destination, 'destination', 'pass DumpDestination.archive(archive) or DumpDestination.bucket(bucket)');
    const schedule = BackupPolicyDerivation.deriveJobSchedule({
      objectives: props.objectives,
      minimumInterval: Duration.minutes(15),
      maximumRpo: Duration.days(7),
      maximumRpoReason: 'the missed-backup alarm can look back at most 7 days in CloudWatch',
    });
    const max = props.maxDatabaseSize;
    if (max && !max.isUnresolved() && max.toBytes() > MAX_OBJECT.toBytes()) {
      throw new BackupDrConfigError(
        `maxDatabaseSize is ${max.toGibibytes()} GiB, above the ${MAX_OBJECT.toGibibytes()} GiB an S3 object can hold (10,000 parts of 5 GiB); split the database into several dumps (databases)`,
      );
    }
    const compute = props.compute ?? DumpCompute.lambda();
    if (compute.kind === DumpComputeKind.FARGATE && !props.vpc) {
      throw new BackupDrConfigError('compute: DumpCompute.fargate() needs vpc (Fargate tasks run in a VPC); pass vpc or use DumpCompute.lambda()');
    }
    if (compute.kind === DumpComputeKind.LAMBDA && max && !max.isUnresolved()) {
      const minutes = max.toMebibytes() / LAMBDA_DUMP_MIB_PER_SECOND / 60;
      if (minutes > LAMBDA_MAX_MINUTES) {
        throw new BackupDrConfigError(
          `maxDatabaseSize is ${max.toGibibytes({ rounding: SizeRoundingBehavior.NONE }).toFixed(1)} GiB: at ${LAMBDA_DUMP_MIB_PER_SECOND} MiB/s a dump takes ` +
          `about ${Math.ceil(minutes)} minutes, more than Lambda's ${LAMBDA_MAX_MINUTES}-minute limit, so every run would fail; ` +
          'use compute: DumpCompute.fargate() (needs vpc), or split the database over several constructs (databases)',
        );
      }
    }
    const maxBytes = (props.maxDatabaseSize ?? Size.gibibytes(100)).toBytes();
    // The handler buffers about 4 multipart parts (queue + 2) besides ~512 MiB for Node.js, the dump tool and zstd.
    const partMiB = Math.max(5, Math.ceil(maxBytes / 10_000 / 1024 ** 2));
    const neededMiB = 4 * partMiB + 512;
    if (compute.memoryMiB < neededMiB) {
      throw new BackupDrConfigError(
        `compute: ${compute.memoryMiB} MiB of memory is too little for maxDatabaseSize ${(maxBytes / 1024 ** 3).toFixed(0)} GiB ` +
        `(${partMiB} MiB multipart parts need about ${neededMiB} MiB); give the ${compute.kind === DumpComputeKind.LAMBDA ? 'function' : 'task'} more memory ` +
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
    if (props.drSite) {
      checkExternalDbDr(this, {
        drSite: props.drSite,
        environment: props.environment,
        objectives: props.objectives,
        destinationPath: props.destination.archivePath ?? props.destination.destinationBucket.node.path,
        destinationDrSite: props.destination.drSite,
      });
    }
    return { schedule, databases, compute, drill: checkRestoreTesting(props) };
  }
}

/** Where the restore drill task runs. */
interface DrillNetwork {
  readonly cluster: ecs.ICluster;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
}

/** `restoreTesting` as the drill reads it: whether it runs and when; the AWS Backup plan fields are an error. */
function checkRestoreTesting(props: ExternalDbBackupLambdaProps): { enabled: boolean; schedule?: string } {
  const o = props.restoreTesting ?? {};
  const only = 'only restoreTesting.enabled and restoreTesting.schedule apply to the restore drill of a dump';
  for (const field of RESTORE_TESTING_PLAN_FIELDS) {
    const value = o[field];
    if (value === undefined) continue;
    const shown = value instanceof Duration ? value.toHumanString() : JSON.stringify(value);
    throw new BackupDrConfigError(
      `restoreTesting.${field} is ${shown}, but it tunes AWS Backup restore testing plans, and the dumps of an external database are ` +
      `tested by a restore drill (an ECS task restoring the newest dump into a throw-away server), not by AWS Backup; remove ${field} (${only})`,
    );
  }
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') {
    throw new BackupDrConfigError(`restoreTesting.enabled is ${JSON.stringify(o.enabled)}, but must be true or false`);
  }
  const schedule = o.schedule;
  if (schedule !== undefined && !Token.isUnresolved(schedule) && !/^(cron|rate)\(.+\)$/.test(schedule)) {
    throw new BackupDrConfigError(
      `restoreTesting.schedule is ${JSON.stringify(schedule)}, but the restore drill's EventBridge Scheduler schedule takes ` +
      'cron(...) or rate(...) (UTC), e.g. cron(0 3 ? * SAT *) for Saturdays at 03:00',
    );
  }
  return { enabled: o.enabled ?? props.environment !== DeploymentEnvironment.DEV, schedule };
}
