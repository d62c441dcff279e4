/**
 * Configuration of the external database dump job: parsed from the environment variables that the
 * `ExternalDbBackupLambda` construct sets (Lambda and Fargate run the same image with the same variables).
 *
 * Bundled by esbuild into assets/external-db-dump/index.js; not part of the jsii API.
 */

export type Engine = 'postgres' | 'mysql' | 'mariadb';
export type Compression = 'zstd' | 'gzip' | 'none';
/**
 * - `require`: encrypted connection, server certificate not verified (libpq `sslmode=require`); a server
 *   without TLS is refused.
 * - `verify-full`: encrypted and the certificate is verified against `TLS_CA_FILE` (or the system trust
 *   store) including the host name.
 * - `disable`: plain text (only for servers on a private network that cannot do TLS).
 */
export type TlsMode = 'require' | 'verify-full' | 'disable';

export const ENGINES: readonly Engine[] = ['postgres', 'mysql', 'mariadb'];
export const COMPRESSIONS: readonly Compression[] = ['zstd', 'gzip', 'none'];
export const TLS_MODES: readonly TlsMode[] = ['require', 'verify-full', 'disable'];

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** S3 multipart limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_MAX_PART_SIZE = 5 * GiB;
export const S3_MAX_PARTS = 10_000;

/**
 * Default compression. Chosen by measurement (bench/dump.ts, docs/external-db-restore.md): on PostgreSQL
 * `pg_dump -Fc -Z0 | zstd -T0 -3` is about twice as fast as pg_dump's built-in gzip (`-Fc`) and slightly
 * smaller, and zstd decompresses several times faster at restore time.
 */
export const DEFAULT_COMPRESSION: Compression = 'zstd';
export const DEFAULT_MAX_DATABASE_SIZE_BYTES = 100 * GiB;
export const DEFAULT_SAFETY_MARGIN_MS = 60_000;
export const DEFAULT_METRICS_NAMESPACE = 'CdkBackupDr/ExternalDb';
/** Concurrent part uploads: memory is about (queueSize + 1) x part size, so keep it small. */
export const DEFAULT_QUEUE_SIZE = 2;

export interface BackupConfig {
  /** Secrets Manager secret with JSON `{host, port, username, password, dbname, engine?}`. */
  readonly secretArn: string;
  readonly engine: Engine;
  /** Declared major version of the server (the image's client tools are at least this major). */
  readonly engineMajor?: number;
  /** Databases to dump; default: the secret's `dbname`. */
  readonly databases?: readonly string[];
  readonly bucket: string;
  /** Key prefix, normalised to '' or 'something/'. */
  readonly prefix: string;
  /** SSE-KMS key id/ARN/alias; when unset the bucket's default encryption applies. */
  readonly kmsKeyId?: string;
  /** Largest dump object expected (after compression); sizes the multipart parts. */
  readonly maxDatabaseSizeBytes: number;
  readonly tlsMode: TlsMode;
  /** CA bundle for `verify-full` (a path inside the image). */
  readonly tlsCaFile?: string;
  readonly compression: Compression;
  readonly rpoMinutes?: number;
  readonly rtoMinutes?: number;
  readonly environment: string;
  readonly metricsNamespace: string;
  /** Name of the backup job (the construct's); adds a BackupJob/Environment dimension set to the metrics. */
  readonly backupJob?: string;
  /** Stop this long before the deadline (Lambda timeout) to abort the upload cleanly. */
  readonly safetyMarginMs: number;
  /** Epoch milliseconds after which the dump is stopped (already minus the safety margin); none on Fargate. */
  readonly deadlineAt?: number;
  /**
   * The invocation's whole time budget (the Lambda timeout as seen at the start of the run), for the
   * BackupTimeoutUsedPercent metric and the warning at 80%; none on Fargate.
   */
  readonly timeBudgetMs?: number;
  /** Concurrent part uploads. @default 2 */
  readonly queueSize?: number;
  /** Test-only: S3-compatible endpoint. */
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle?: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function requireVar(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new ConfigError(`Environment variable ${name} is required`);
  return v;
}

function optionalVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function parsePositive(env: NodeJS.ProcessEnv, name: string, opts: { integer?: boolean; allowZero?: boolean } = {}): number | undefined {
  const raw = optionalVar(env, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !opts.allowZero) || (opts.integer && !Number.isInteger(n))) {
    throw new ConfigError(`Environment variable ${name} must be a ${opts.integer ? 'positive integer' : 'positive number'}, got "${raw}"`);
  }
  return n;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  const v = value.toLowerCase() as T;
  if (!allowed.includes(v)) {
    throw new ConfigError(`Environment variable ${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return v;
}

/** Normalises a key prefix: no leading slash, exactly one trailing slash (or empty). */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  return p ? `${p}/` : '';
}

/** Parses a declared engine version ("16", "8.0", "10.11") to its major number. */
export function parseMajor(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)/.exec(value);
  if (!m) throw new ConfigError(`ENGINE_MAJOR must start with a number, got "${value}"`);
  return Number(m[1]);
}

export function parseDatabases(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((d) => d.trim()).filter((d) => d.length > 0);
  for (const d of list) validateDatabaseName(d);
  return list.length > 0 ? list : undefined;
}

export function validateDatabaseName(name: string): void {
  // The name is handed to the dump tools as an argument or environment value: refuse what a tool could
  // read as an option or a connection string.
  if (name.startsWith('-') || /[\u0000-\u001f]/.test(name) || name.length > 128) {
    throw new ConfigError(`Invalid database name "${name}"`);
  }
}

/** Reads the configuration from the environment (names as set by the construct). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BackupConfig {
  const engine = oneOf('ENGINE', requireVar(env, 'ENGINE'), ENGINES, 'postgres');
  const tlsMode = oneOf('TLS_MODE', optionalVar(env, 'TLS_MODE'), TLS_MODES, 'require');
  const forcePathStyle = optionalVar(env, 'S3_FORCE_PATH_STYLE');
  return {
    secretArn: requireVar(env, 'SECRET_ARN'),
    engine,
    engineMajor: parseMajor(optionalVar(env, 'ENGINE_MAJOR')),
    databases: parseDatabases(optionalVar(env, 'DATABASES')),
    bucket: requireVar(env, 'BUCKET'),
    prefix: normalizePrefix(optionalVar(env, 'PREFIX')),
    kmsKeyId: optionalVar(env, 'KMS_KEY_ID'),
    maxDatabaseSizeBytes: parsePositive(env, 'MAX_DATABASE_SIZE_BYTES', { integer: true }) ?? DEFAULT_MAX_DATABASE_SIZE_BYTES,
    tlsMode,
    tlsCaFile: optionalVar(env, 'TLS_CA_FILE'),
    compression: oneOf('COMPRESSION', optionalVar(env, 'COMPRESSION'), COMPRESSIONS, DEFAULT_COMPRESSION),
    rpoMinutes: parsePositive(env, 'RPO_MINUTES'),
    rtoMinutes: parsePositive(env, 'RTO_MINUTES'),
    environment: optionalVar(env, 'ENVIRONMENT') ?? 'Unknown',
    metricsNamespace: optionalVar(env, 'METRICS_NAMESPACE') ?? DEFAULT_METRICS_NAMESPACE,
    backupJob: optionalVar(env, 'BACKUP_JOB'),
    safetyMarginMs: parsePositive(env, 'SAFETY_MARGIN_MS', { integer: true, allowZero: true }) ?? DEFAULT_SAFETY_MARGIN_MS,
    queueSize: parsePositive(env, 'UPLOAD_QUEUE_SIZE', { integer: true }),
    s3Endpoint: optionalVar(env, 'S3_ENDPOINT'),
    s3ForcePathStyle: forcePathStyle === undefined ? undefined : /^(1|true|yes)$/i.test(forcePathStyle),
  };
}

/**
 * Multipart part size such that an object of `maxObjectBytes` fits in 10,000 parts: at least 5 MiB
 * (S3's minimum), rounded up to a whole MiB, at most 5 GiB. With the minimum 5 MiB, an object caps at
 * ~48.8 GiB, which is why a fixed part size is not an option.
 */
export function computePartSize(maxObjectBytes: number): number {
  if (!Number.isFinite(maxObjectBytes) || maxObjectBytes <= 0) {
    throw new ConfigError(`MAX_DATABASE_SIZE_BYTES must be a positive number, got ${maxObjectBytes}`);
  }
  const needed = Math.ceil(maxObjectBytes / S3_MAX_PARTS);
  const size = Math.max(S3_MIN_PART_SIZE, Math.ceil(needed / MiB) * MiB);
  if (size > S3_MAX_PART_SIZE) {
    throw new ConfigError(
      `MAX_DATABASE_SIZE_BYTES=${maxObjectBytes} cannot be uploaded: it needs parts of ${size} bytes, ` +
      `more than S3's 5 GiB part limit (at most ${S3_MAX_PARTS} x 5 GiB)`,
    );
  }
  return size;
}

/** Headroom of the part size over a database's size on disk: its dump is not expected to be larger than this multiple. */
export const DATABASE_SIZE_HEADROOM = 4;

/**
 * Part size of one database's dump. From its size on disk when the server reports it (x
 * DATABASE_SIZE_HEADROOM), so databases up to ~12 GiB upload in 5 MiB parts and the memory of the upload
 * buffers does not grow with the database; never larger than the part size for MAX_DATABASE_SIZE_BYTES,
 * which is used when the size is unknown.
 */
export function partSizeForDatabase(databaseBytes: number | undefined, maxObjectBytes: number): number {
  const forMax = computePartSize(maxObjectBytes);
  if (databaseBytes === undefined || !Number.isFinite(databaseBytes) || databaseBytes <= 0) return forMax;
  return Math.min(forMax, computePartSize(DATABASE_SIZE_HEADROOM * databaseBytes));
}

/** File name extension and content type of the dump object. */
export function dumpObjectFormat(engine: Engine, compression: Compression): { extension: string; contentType: string; format: string } {
  if (engine === 'postgres') {
    // gzip: pg_dump's built-in compression inside the custom-format archive.
    if (compression === 'zstd') return { extension: 'pgdump.zst', contentType: 'application/zstd', format: 'pg_dump-custom' };
    return { extension: 'pgdump', contentType: 'application/octet-stream', format: 'pg_dump-custom' };
  }
  if (compression === 'zstd') return { extension: 'sql.zst', contentType: 'application/zstd', format: 'sql' };
  if (compression === 'gzip') return { extension: 'sql.gz', contentType: 'application/gzip', format: 'sql' };
  return { extension: 'sql', contentType: 'application/sql', format: 'sql' };
}

/** Safe path segment for a database name in an S3 key. */
export function keySegment(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** `20250102T030405Z` */
export function compactTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Object keys of one backup: `<prefix><database>/<timestamp>-<runId>/<database>.<ext>` and the
 * `manifest.json` next to it. Keys sort by time within a database.
 */
export function backupKeys(prefix: string, database: string, startedAt: number, runId: string, extension: string): {
  dir: string; objectKey: string; manifestKey: string;
} {
  const db = keySegment(database);
  const dir = `${prefix}${db}/${compactTimestamp(startedAt)}-${runId}/`;
  return { dir, objectKey: `${dir}${db}.${extension}`, manifestKey: `${dir}manifest.json` };
}
