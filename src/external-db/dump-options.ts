import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { checkKeyPrefix } from '../core/key-prefix';
import { BackupDrConfigError } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';
import { S3ArchiveLifecycle } from '../s3/s3-archive-lifecycle';

/** Compression of the dump stream. */
export enum DumpCompression {
  /**
   * `zstd -T0 -3` on an uncompressed dump (`pg_dump -Fc -Z0` for PostgreSQL): multi-threaded, faster
   * and smaller than pg_dump's built-in single-threaded zlib. Restore: `zstd -d | pg_restore`.
   */
  ZSTD = 'zstd',
  /** The dump tool's own gzip/zlib (`pg_dump -Fc` default level; `gzip` for MySQL/MariaDB). */
  GZIP = 'gzip',
  /** No compression. */
  NONE = 'none',
}

/** Where a dump runs. */
export enum DumpComputeKind {
  /** A container-image Lambda function (up to 15 minutes per run). */
  LAMBDA = 'LAMBDA',
  /** The same image as an ECS Fargate task (no time limit; needs a VPC). */
  FARGATE = 'FARGATE',
}

/** Options of the Lambda compute. */
export interface LambdaDumpComputeOptions {
  /**
   * Memory of the function in MiB (also buys CPU for compression).
   * @default 2048
   */
  readonly memorySize?: number;
}

/** Options of the Fargate compute. */
export interface FargateDumpComputeOptions {
  /**
   * Cluster to run the task in.
   * @default - a new cluster in the construct's VPC
   */
  readonly cluster?: ecs.ICluster;
  /**
   * Task CPU units.
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB.
   * @default 2048
   */
  readonly memoryLimitMiB?: number;
}

/**
 * Where the dump runs: a container-image Lambda function (dumps that finish within 15 minutes), or the
 * same image as a scheduled ECS Fargate task for larger databases (no time limit).
 */
export class DumpCompute {
  /** A container-image Lambda function (up to 15 minutes per run). */
  public static lambda(options: LambdaDumpComputeOptions = {}): DumpCompute {
    const memorySize = options.memorySize ?? 2048;
    if (memorySize < 512 || memorySize > 10240) {
      throw new BackupDrConfigError(`compute: memorySize is ${memorySize} MiB; Lambda accepts 128–10240 and the dump needs at least 512`);
    }
    return new DumpCompute(DumpComputeKind.LAMBDA, memorySize, undefined);
  }

  /** The same image as an ECS Fargate task started by EventBridge Scheduler (no 15-minute limit; needs `vpc`). */
  public static fargate(options: FargateDumpComputeOptions = {}): DumpCompute {
    return new DumpCompute(DumpComputeKind.FARGATE, options.memoryLimitMiB ?? 2048, options);
  }

  private constructor(
    /** Lambda or Fargate. */
    public readonly kind: DumpComputeKind,
    /** Memory in MiB. */
    public readonly memoryMiB: number,
    /** Fargate options when kind is FARGATE. */
    public readonly fargateOptions?: FargateDumpComputeOptions,
  ) {}
}

/** Options of a dump destination. */
export interface DumpDestinationOptions {
  /**
   * Key prefix of the dumps (`<prefix><database>/<timestamp>.<ext>` plus a manifest next to it).
   * @default 'external-db/'
   */
  readonly prefix?: string;
  /**
   * Customer-managed key for SSE-KMS of the dumps.
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
}

/** Options of an archive destination. */
export interface ArchiveDumpDestinationOptions {
  /**
   * Key prefix of the dumps in the archive.
   * @default - the archive's routine prefix for CURRENT_DATA archives (its lifecycle keeps them for the
   * routine retention), `<archive prefix>external-db/` otherwise
   */
  readonly prefix?: string;
}

/** Where dumps are written: an `S3ArchiveLifecycle` (recommended: its lifecycle is the retention) or any bucket and prefix. */
export class DumpDestination {
  /** An archive created by `S3ArchiveLifecycle`: its bucket, key and lifecycle. */
  public static archive(archive: S3ArchiveLifecycle, options: ArchiveDumpDestinationOptions = {}): DumpDestination {
    const dest = DumpDestination.bucket(archive.bucket, {
      prefix: options.prefix ?? archive.routinePrefix ?? `${archive.keyPrefix}external-db/`,
      encryptionKey: archive.encryptionKey,
    });
    return new DumpDestination(dest.destinationBucket, dest.prefix, dest.encryptionKey, archive.node.path, archive.drSite);
  }

  /** A bucket and prefix. */
  public static bucket(bucket: s3.IBucket, options: DumpDestinationOptions = {}): DumpDestination {
    const prefix = options.prefix ?? 'external-db/';
    checkKeyPrefix(prefix, 'destination.prefix');
    return new DumpDestination(bucket, prefix, options.encryptionKey ?? bucket.encryptionKey);
  }

  private constructor(
    /** Destination bucket. */
    public readonly destinationBucket: s3.IBucket,
    /** Key prefix. */
    public readonly prefix: string,
    /** Key for SSE-KMS, when known. */
    public readonly encryptionKey?: kms.IKey,
    /** Path of the archive construct, for an archive destination. */
    public readonly archivePath?: string,
    /** DR site the destination archive replicates to. */
    public readonly drSite?: IDrSecondarySite,
  ) {}
}

/** @internal Security-group egress of the dump job: the database port and HTTPS for AWS APIs. */
export function dumpSecurityGroup(scope: Construct, vpc: ec2.IVpc, port: number, peer: ec2.IPeer): ec2.SecurityGroup {
  const sg = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc,
    allowAllOutbound: false,
    description: 'cdk-backup-dr external database dump: egress to the database port and HTTPS (S3, Secrets Manager, logs) only',
  });
  sg.addEgressRule(peer, ec2.Port.tcp(port), 'database');
  sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS (or VPC endpoints)');
  return sg;
}
