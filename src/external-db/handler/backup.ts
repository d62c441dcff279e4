/**
 * runBackup: dump each database with its engine's tool, stream stdout (through zstd) straight into an S3
 * multipart upload (bounded memory, no temporary file), hash on the fly, and write the manifest only
 * after the upload completed. Any failure aborts the upload and leaves no object, no manifest and no
 * multipart upload behind.
 */
import { createHash, randomBytes } from 'crypto';
import { Readable, Transform, TransformCallback } from 'stream';
import * as zlib from 'zlib';
import {
  AbortMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  cleanUpFailedUpload, isAccessDenied, createS3Client, createSecretsManagerClient, DbSecret, SecretError, SecretFetcher, secretsManagerFetcher,
} from './aws';
import {
  backupKeys, BackupConfig, Compression, computePartSize, ConfigError, DATABASE_SIZE_HEADROOM, DEFAULT_QUEUE_SIZE, dumpObjectFormat, Engine, MiB,
  partSizeForDatabase,
  S3_MAX_PARTS, TlsMode, validateDatabaseName,
} from './config';
import { uploadPooled } from './multipart';
import { PgSnapshotSession, RowCountTap } from './row-counts';
import {
  checkVersions, compressCommand, compressorVersion, ConnectionError, ConnectionSettings, dumpCommand, isMysqlFamily, probeServer,
  psqlSessionCommand, Redactor, ServerInfo, succeeded, Tool, ToolError, toolVersion, VersionError,
} from './tools';

export const MANIFEST_FORMAT_VERSION = 1;

/** What a manifest says about one backup. Written next to the dump only after the upload completed. */
export interface BackupManifest {
  readonly formatVersion: number;
  readonly producer: string;
  readonly engine: Engine;
  readonly engineMajorDeclared?: number;
  readonly serverVersion: string;
  readonly toolVersion: string;
  readonly compressorVersion?: string;
  readonly database: string;
  readonly host: string;
  readonly port: number;
  readonly tlsMode: TlsMode;
  readonly format: string;
  readonly compression: Compression;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly bucket: string;
  readonly objectKey: string;
  readonly objectETag?: string;
  readonly objectVersionId?: string;
  readonly partSizeBytes: number;
  readonly kmsKeyId?: string;
  readonly objectives: { readonly rpoMinutes?: number; readonly rtoMinutes?: number };
  readonly environment: string;
  /**
   * Rows of every table in the dump ("schema.table" keys for PostgreSQL, counted in the dump's own
   * snapshot; "table" keys for MySQL/MariaDB, counted in the dump stream). The restore drill compares them
   * with the restored database. Absent in manifests of older versions.
   */
  readonly rowCounts?: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------------
// Metrics: CloudWatch embedded metric format (EMF), one JSON log line per database and run. Lambda
// extracts the metrics from its log stream; on Fargate the log group must be processed the same way.
// ---------------------------------------------------------------------------------------------------

export interface BackupMetrics {
  readonly namespace: string;
  readonly database: string;
  readonly environment: string;
  readonly engine: string;
  /** Adds the dimension set BackupJob/Environment (alarms on a job whose databases are not listed). */
  readonly backupJob?: string;
  readonly bytes: number;
  readonly durationSeconds: number;
  readonly success: boolean;
  /** Why the backup failed; adds the BackupFailures metric with a FailureKind dimension. */
  readonly failureKind?: FailureKind;
  /** Share of the invocation's time budget (the Lambda timeout) the backup used, when there is one. */
  readonly timeoutUsedPercent?: number;
  readonly timestamp?: number;
}

export const METRIC_NAMES = ['BackupBytes', 'BackupDurationSeconds', 'BackupSuccess', 'BackupTimeoutUsedPercent', 'BackupFailures'] as const;

/** Share of the time budget at which the handler warns (and the construct's alarm fires): 80%. */
export const DEADLINE_WARNING_RATIO = 0.8;

export function emfRecord(m: BackupMetrics): Record<string, unknown> {
  const dimensions = m.backupJob ? [['Database', 'Environment'], ['BackupJob', 'Environment']] : [['Database', 'Environment']];
  const directives: Array<Record<string, unknown>> = [{
    Namespace: m.namespace,
    Dimensions: dimensions,
    Metrics: [
      { Name: 'BackupBytes', Unit: 'Bytes' },
      { Name: 'BackupDurationSeconds', Unit: 'Seconds' },
      { Name: 'BackupSuccess', Unit: 'Count' },
      ...(m.timeoutUsedPercent !== undefined ? [{ Name: 'BackupTimeoutUsedPercent', Unit: 'Percent' }] : []),
    ],
  }];
  if (!m.success && m.failureKind) {
    // Why it failed, as a metric of its own (one dimension value per kind, so the alarm's graph says why).
    directives.push({
      Namespace: m.namespace,
      Dimensions: [['Environment', 'FailureKind'], ...(m.backupJob ? [['BackupJob', 'Environment', 'FailureKind']] : [])],
      Metrics: [{ Name: 'BackupFailures', Unit: 'Count' }],
    });
  }
  return {
    _aws: {
      Timestamp: m.timestamp ?? Date.now(),
      CloudWatchMetrics: directives,
    },
    Database: m.database,
    Environment: m.environment,
    ...(m.backupJob ? { BackupJob: m.backupJob } : {}),
    Engine: m.engine,
    BackupBytes: m.bytes,
    BackupDurationSeconds: Math.round(m.durationSeconds * 1000) / 1000,
    BackupSuccess: m.success ? 1 : 0,
    ...(m.timeoutUsedPercent !== undefined ? { BackupTimeoutUsedPercent: Math.round(m.timeoutUsedPercent * 10) / 10 } : {}),
    ...(!m.success && m.failureKind ? { FailureKind: m.failureKind, BackupFailures: 1 } : {}),
  };
}

export function emfLine(m: BackupMetrics): string {
  return JSON.stringify(emfRecord(m));
}

export type FailureKind = 'config' | 'secret' | 'connection' | 'version' | 'dump' | 'upload' | 'deadline' | 'size' | 'manifest' | 'internal';

/** A failed database backup. `message` says what failed and never contains the password. */
export class BackupError extends Error {
  constructor(public readonly kind: FailureKind, message: string, public readonly bytesStreamed = 0) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface DatabaseBackupResult {
  readonly database: string;
  readonly success: boolean;
  readonly bytes: number;
  readonly durationSeconds: number;
  readonly objectKey?: string;
  readonly manifestKey?: string;
  readonly sha256?: string;
  readonly manifest?: BackupManifest;
  readonly error?: string;
  readonly failureKind?: FailureKind;
}

export interface BackupRunResult {
  readonly results: DatabaseBackupResult[];
}

/** Thrown by runBackup when at least one database failed; `results` has every database's outcome. */
export class BackupRunError extends Error {
  constructor(message: string, public readonly results: DatabaseBackupResult[]) {
    super(message);
    this.name = 'BackupRunError';
  }
}

/** Everything runBackup talks to, injectable for tests and the Fargate entrypoint. */
export interface BackupDeps {
  /** S3 client (default: created from the config, with S3_ENDPOINT for tests). */
  readonly s3?: S3Client;
  /** Secrets Manager client used by the default secret fetcher. */
  readonly secretsManager?: SecretsManagerClient;
  /** Replaces the Secrets Manager fetch altogether. */
  readonly fetchSecret?: SecretFetcher;
  /** Receives every log line (JSON) and EMF metric line. @default console.log */
  readonly log?: (line: string) => void;
  readonly now?: () => number;
  /** Environment the tools inherit PATH & co. from (never the AWS credentials). @default process.env */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Wait this long after a failure for the upload to wind down before cleaning up ourselves. @default 10 s */
  readonly failureGraceMs?: number;
  /** Parts the size limit is computed from (limit = part size x maxParts); tests lower it. @default 10,000 (S3's limit) */
  readonly maxParts?: number;
}

const PRODUCER = 'cdk-backup-dr/external-db-dump';
/** A wait that does not keep the process alive. */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const fmtMiB = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
/** `Name: message` of an SDK error, without the SDK's generic wrapper wording. */
const describeError = (err: Error): string => {
  const msg = err.message.replace(/^AWS SDK error wrapper for /, '');
  return err.name && err.name !== 'Error' ? `${err.name}: ${msg}` : msg;
};

class Logger {
  constructor(private readonly sink: (line: string) => void, private readonly redactor: Redactor) {}
  public info(msg: string, fields: Record<string, unknown> = {}): void { this.write('INFO', msg, fields); }
  public warn(msg: string, fields: Record<string, unknown> = {}): void { this.write('WARN', msg, fields); }
  public error(msg: string, fields: Record<string, unknown> = {}): void { this.write('ERROR', msg, fields); }
  public raw(line: string): void { this.sink(line); }
  private write(level: string, msg: string, fields: Record<string, unknown>): void {
    this.sink(this.redactor.redact(JSON.stringify({ level, msg, ...fields, time: new Date().toISOString() })));
  }
}

/**
 * Counts and hashes the bytes on their way to S3, enforces the size the parts were computed for, and
 * ends the stream only after every tool exited successfully: a dump tool that dies after writing
 * partial output makes the upload fail (and abort) instead of completing a truncated object.
 */
class DumpMeter extends Transform {
  public bytes = 0;
  public sha256?: string;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly maxBytes: number, private readonly limitReason: string, private readonly waitForTools: () => Promise<Error | undefined>,
  ) {
    super({ highWaterMark: MiB });
  }

  public _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      cb(new BackupError('size', `The dump exceeds ${this.maxBytes} bytes (${this.limitReason})`, this.bytes));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  public _flush(cb: TransformCallback): void {
    this.waitForTools().then((err) => {
      if (err) {
        cb(err);
      } else {
        this.sha256 = this.hash.digest('hex');
        cb();
      }
    }, (err: Error) => cb(err));
  }
}

const isCommand = (cmd: unknown, ctor: { name: string }): boolean =>
  cmd instanceof (ctor as unknown as new () => object) || (cmd as { constructor?: { name?: string } })?.constructor?.name === ctor.name;

/**
 * Wraps the S3 client for one upload: records the multipart upload id, reports the first S3 failure
 * (after the SDK's retries) at once, and lets a failure cancel requests in flight. AbortMultipartUpload
 * is never cancelled.
 */
function guardClient(
  client: S3Client, signal: AbortSignal, onUploadId: (id: string) => void, onError: (err: Error, command: string) => void,
): S3Client {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (command: { constructor: { name: string } }, options?: Record<string, unknown>) => {
        const isAbort = isCommand(command, AbortMultipartUploadCommand);
        const opts = isAbort ? options : { ...options, abortSignal: signal };
        return (target.send as (c: unknown, o?: unknown) => Promise<Record<string, unknown>>)(command, opts).then(
          (res) => {
            if (isCommand(command, CreateMultipartUploadCommand) && typeof res.UploadId === 'string') onUploadId(res.UploadId);
            return res;
          },
          (err: Error) => {
            if (!isAbort) onError(err, command.constructor.name.replace(/Command$/, ''));
            throw err;
          },
        );
      };
    },
  });
}

interface RunContext {
  readonly config: BackupConfig;
  readonly s3: S3Client;
  readonly secret: DbSecret;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly now: () => number;
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Part size of the upload (per database: `partSizeForDatabase`). */
  readonly partSize: number;
  /** Why the dump is limited to partSize x maxParts, and the fix, for the size error. */
  readonly partSizeReason: string;
  readonly queueSize: number;
  readonly failureGraceMs: number;
  readonly maxParts: number;
}

interface StreamResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly etag?: string;
  readonly versionId?: string;
  /** MySQL/MariaDB: the rows counted in the dump stream (undefined when the counter could not read it). */
  readonly rowCounts?: Record<string, number>;
}

interface StreamOptions {
  /** PostgreSQL: the snapshot pg_dump reads (`--snapshot`). */
  readonly snapshot?: string;
  /** Resolves when a session the dump depends on ended: fails the dump at once. */
  readonly sessionLost?: Promise<Error>;
  /** Called once every tool exited cleanly (all bytes read), while the upload's last parts may still be in flight. */
  readonly onToolsDone?: () => void;
}

function deadlineMessage(ctx: RunContext, database: string, startedAt: number, bytes: number): string {
  return `Deadline reached: stopped the backup of database "${database}" after ${((ctx.now() - startedAt) / 1000).toFixed(1)} s, ` +
    `${ctx.config.safetyMarginMs} ms (SAFETY_MARGIN_MS) before the Lambda timeout, with ${fmtMiB(bytes)} streamed; ` +
    'the multipart upload was aborted and no backup was written. Run the job on Fargate compute (compute: DumpCompute.fargate(), ' +
    'no time limit, same image: `node index.js --once`) or raise the function timeout.';
}

/** Streams one dump into S3. Throws BackupError; on failure nothing is left in the bucket. */
async function streamDump(
  ctx: RunContext, database: string, conn: ConnectionSettings, objectKey: string, contentType: string, startedAt: number,
  opts: StreamOptions = {},
): Promise<StreamResult> {
  const { config, redactor } = ctx;
  const where = `from ${config.engine} ${conn.host}:${conn.port}`;
  const tools: Tool[] = [];
  const abort = new AbortController();
  let failure: BackupError | undefined;
  let uploadId: string | undefined;
  let onFailure: (err: BackupError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    onFailure = (err) => setTimeout(() => reject(err), ctx.failureGraceMs).unref();
  });
  failed.catch(() => undefined);

  const firstToolFailure = (): Error | undefined => {
    const bad = tools.find((t) => t.exitInfo && !succeeded(t.exitInfo));
    return bad ? new BackupError('dump', bad.describeFailure(redactor, `while dumping database "${database}" ${where}`).message) : undefined;
  };
  const meter = new DumpMeter(ctx.partSize * ctx.maxParts, ctx.partSizeReason, async () => {
    await Promise.all(tools.map((t) => t.closed));
    const toolFailure = firstToolFailure();
    if (!toolFailure) opts.onToolsDone?.();
    return toolFailure;
  });

  const fail = (err: Error): void => {
    if (failure) return;
    failure = err instanceof BackupError ? err : new BackupError('internal', redactor.redact(err.message), meter.bytes);
    for (const t of tools) t.kill();
    abort.abort();
    meter.destroy(failure);
    onFailure(failure);
  };
  meter.on('error', (err) => fail(err));

  // Tools: dump [| row counter] [| zstd] [| gzip in-process] → meter → Upload. PostgreSQL: the dump tool
  // writes straight into the compressor's stdin, a kernel pipe as in a shell pipeline: the uncompressed
  // bytes never pass through Node. MySQL/MariaDB: the SQL passes through Node once, unchanged (same
  // buffers), for the row counter (RowCountTap), on its way to the compressor.
  const dumpSpec = dumpCommand(config.engine, conn, database, config.compression, ctx.baseEnv, { snapshot: opts.snapshot });
  const compSpec = compressCommand(config.compression, ctx.baseEnv);
  const tap = isMysqlFamily(config.engine) ? new RowCountTap(MiB) : undefined;
  tap?.on('error', (err) => fail(new BackupError('dump', `counting rows in the dump failed: ${err.message}`, meter.bytes)));
  let source: Readable;
  if (compSpec) {
    const comp = new Tool(compSpec.name, compSpec.command, compSpec.args, compSpec.env, ['pipe', 'pipe', 'pipe']);
    const compIn = comp.child.stdin!;
    const dump = new Tool(dumpSpec.name, dumpSpec.command, dumpSpec.args, dumpSpec.env, ['ignore', tap ? 'pipe' : compIn, 'pipe']);
    tools.push(dump, comp);
    if (tap) {
      dump.child.stdout!.pipe(tap).pipe(compIn);
    } else {
      // The dump tool holds the pipe's write end now: the compressor sees EOF when the dump tool exits.
      compIn.destroy();
    }
    source = comp.child.stdout!;
  } else {
    const dump = new Tool(dumpSpec.name, dumpSpec.command, dumpSpec.args, dumpSpec.env, ['ignore', 'pipe', 'pipe']);
    tools.push(dump);
    source = tap ? dump.child.stdout!.pipe(tap) : dump.child.stdout!;
    if (config.compression === 'gzip' && config.engine !== 'postgres') {
      const gz = zlib.createGzip({ level: 6 });
      gz.on('error', (err) => fail(new BackupError('dump', `gzip failed: ${err.message}`, meter.bytes)));
      source.pipe(gz);
      source = gz;
    }
  }
  source.on('error', (err) => fail(new BackupError('dump', `reading the dump failed: ${err.message}`, meter.bytes)));
  source.pipe(meter);
  // A tool that fails is reported at once (not only when its output has drained).
  for (const t of tools) {
    void t.exited.then(async (exit) => {
      if (succeeded(exit)) return;
      await Promise.race([t.stderrClosed, sleep(500)]);
      fail(new BackupError('dump', t.describeFailure(redactor, `while dumping database "${database}" ${where}`).message, meter.bytes));
    });
  }

  let finished = false;
  void opts.sessionLost?.then(async (err) => {
    // A server that went away ends both sessions: give the dump tool's own error (the better one) a moment to win.
    await Promise.race([Promise.all(tools.map((t) => t.exited)), sleep(1_000)]);
    await sleep(600);
    if (!finished) fail(new BackupError('dump', `${err.message} (while dumping database "${database}")`, meter.bytes));
  });

  let deadlineTimer: NodeJS.Timeout | undefined;
  if (config.deadlineAt !== undefined) {
    deadlineTimer = setTimeout(
      () => fail(new BackupError('deadline', deadlineMessage(ctx, database, startedAt, meter.bytes), meter.bytes)),
      Math.max(0, config.deadlineAt - ctx.now()),
    );
  }

  const client = guardClient(ctx.s3, abort.signal, (id) => { uploadId = id; }, (err, command) => fail(new BackupError('upload',
    `S3 ${command} for s3://${config.bucket}/${objectKey} failed after retries: ${describeError(err)}`, meter.bytes)));
  const done = uploadPooled(client, meter, { bucket: config.bucket, key: objectKey, contentType, kmsKeyId: config.kmsKeyId }, {
    partSize: ctx.partSize, queueSize: ctx.queueSize, maxParts: S3_MAX_PARTS,
  });
  done.catch(() => undefined);

  try {
    const out = await Promise.race([done, failed]);
    if (deadlineTimer) clearTimeout(deadlineTimer);
    if (!meter.sha256) throw new BackupError('internal', 'upload finished before the dump was verified', meter.bytes);
    finished = true;
    let rowCounts: Record<string, number> | undefined;
    if (tap) {
      if (tap.counter.problems.length === 0) {
        rowCounts = tap.counter.result();
      } else {
        ctx.logger.warn('the dump\'s rows could not all be counted: the manifest has no rowCounts (the drill reports, does not compare)', {
          database, problems: tap.counter.problems.slice(0, 5),
        });
      }
    }
    return { bytes: meter.bytes, sha256: meter.sha256, etag: out.etag, versionId: out.versionId, rowCounts };
  } catch (err) {
    finished = true;
    if (deadlineTimer) clearTimeout(deadlineTimer);
    fail(err as Error);
    const error = failure!;
    // Let the upload wind down (its requests were cancelled), then abort it and remove what it left.
    await Promise.race([done.catch(() => undefined), sleep(ctx.failureGraceMs)]);
    await Promise.race([Promise.all(tools.map((t) => t.exited)), sleep(3_000)]);
    const problems = await cleanUpFailedUpload(ctx.s3, config.bucket, objectKey, uploadId);
    if (problems.length > 0) {
      ctx.logger.error('clean-up after a failed backup incomplete', { bucket: config.bucket, key: objectKey, uploadId, problems });
      throw new BackupError(error.kind, `${error.message} [clean-up incomplete: ${problems.join('; ')}; the bucket's ` +
        'AbortIncompleteMultipartUpload lifecycle rule removes a leftover upload]', error.bytesStreamed);
    }
    throw error;
  }
}

async function backupDatabase(ctx: RunContext, database: string): Promise<DatabaseBackupResult> {
  const { config, secret, redactor, logger } = ctx;
  const startedAt = ctx.now();
  validateDatabaseName(database);
  const conn: ConnectionSettings = {
    host: secret.host,
    port: secret.port,
    username: secret.username,
    password: secret.password,
    tlsMode: config.tlsMode,
    tlsCaFile: config.tlsCaFile,
  };
  const remaining = () => (config.deadlineAt === undefined ? Infinity : config.deadlineAt - ctx.now());
  if (remaining() <= 0) throw new BackupError('deadline', deadlineMessage(ctx, database, startedAt, 0));

  // PostgreSQL: a session exports the snapshot pg_dump reads, and counts the rows in it once the dump
  // finished. It opens while the tool versions and the connection probe run (it is needed anyway: the dump
  // starts ~0.1-0.2 s sooner), and is always closed (the finally below), whatever fails.
  const cancelOpening = new AbortController();
  const opening = config.engine === 'postgres'
    ? PgSnapshotSession.open(psqlSessionCommand(conn, database, ctx.baseEnv), redactor,
      `for database "${database}" on ${conn.host}:${conn.port}`, Math.min(180_000, remaining()), cancelOpening.signal)
    : undefined;
  opening?.catch(() => undefined); // awaited below, or closed in the finally
  let session: PgSnapshotSession | undefined;
  let streamed: StreamResult;
  let rowCounts: Record<string, number> | undefined;
  let keys: ReturnType<typeof backupKeys>;
  let fmt: ReturnType<typeof dumpObjectFormat>;
  let partSize: number;
  let server: ServerInfo;
  let tool: string;
  let compressor: string | undefined;
  try {
    // Tool versions and the connection probe run in parallel (a missing tool is reported first).
    const [toolRes, compressorRes, serverRes] = await Promise.allSettled([
      toolVersion(config.engine, redactor, ctx.baseEnv),
      compressorVersion(config.compression, redactor, ctx.baseEnv),
      probeServer(config.engine, conn, database, redactor, Math.min(60_000, remaining()), ctx.baseEnv),
    ]);
    if (toolRes.status === 'rejected') throw new BackupError('dump', (toolRes.reason as Error).message);
    if (compressorRes.status === 'rejected') throw new BackupError('dump', (compressorRes.reason as Error).message);
    if (serverRes.status === 'rejected') {
      if (remaining() <= 0) throw new BackupError('deadline', deadlineMessage(ctx, database, startedAt, 0));
      throw new BackupError('connection', redactor.redact((serverRes.reason as Error).message));
    }
    tool = toolRes.value;
    compressor = compressorRes.value;
    server = serverRes.value;
    try {
      for (const w of checkVersions(config.engine, tool, server, config.engineMajor)) logger.warn(w, { database });
    } catch (err) {
      throw new BackupError('version', (err as Error).message);
    }

    // Parts sized for this database (flat upload memory for small and large databases alike).
    partSize = partSizeForDatabase(server.databaseBytes, config.maxDatabaseSizeBytes);
    const dbCtx: RunContext = {
      ...ctx,
      partSize,
      partSizeReason: partSize < ctx.partSize
        ? `${ctx.maxParts} parts of ${partSize} bytes, sized for ${DATABASE_SIZE_HEADROOM} times the database's ${server.databaseBytes} bytes on disk: ` +
          'a dump this much larger than its database is not expected; please report it with the database\'s size and the dump\'s'
        : `${ctx.maxParts} parts of ${partSize} bytes, the part size computed from MAX_DATABASE_SIZE_BYTES: raise MAX_DATABASE_SIZE_BYTES`,
    };
    const runId = randomBytes(3).toString('hex');
    fmt = dumpObjectFormat(config.engine, config.compression);
    keys = backupKeys(config.prefix, database, startedAt, runId, fmt.extension);
    logger.info('backup started', {
      database,
      engine: config.engine,
      serverVersion: server.version,
      toolVersion: tool,
      tls: server.tls,
      compression: config.compression,
      key: keys.objectKey,
      databaseBytes: server.databaseBytes,
      partSizeBytes: partSize,
    });

    if (opening) {
      try {
        session = await opening;
      } catch (err) {
        if (remaining() <= 0) throw new BackupError('deadline', deadlineMessage(ctx, database, startedAt, 0));
        throw new BackupError('dump', redactor.redact((err as Error).message));
      }
    }
    // PostgreSQL: the rows are counted once pg_dump has exited (not competing with it), in its snapshot,
    // while the upload's last parts and its completion are still in flight.
    let counting: Promise<Record<string, number>> | undefined;
    const startCount = session ? () => {
      counting = session!.countRows(remaining());
      counting.catch(() => undefined); // awaited below, after the upload
    } : undefined;
    streamed = await streamDump(dbCtx, database, conn, keys.objectKey, fmt.contentType, startedAt,
      { snapshot: session?.snapshot, sessionLost: session?.lost, onToolsDone: startCount });
    rowCounts = streamed.rowCounts;
    if (session) {
      // A failure fails the backup.
      try {
        rowCounts = await (counting ?? session.countRows(remaining()));
      } catch (err) {
        await cleanUpFailedUpload(ctx.s3, config.bucket, keys.objectKey, undefined);
        if (remaining() <= 0) throw new BackupError('deadline', deadlineMessage(ctx, database, startedAt, streamed.bytes), streamed.bytes);
        throw new BackupError('dump', `Counting the rows of the dump failed; the dump object was removed: ${redactor.redact((err as Error).message)}`,
          streamed.bytes);
      }
    }
  } finally {
    cancelOpening.abort();
    await (session ?? await opening?.catch(() => undefined))?.close();
  }

  // The object must be what was hashed: same size (catches a proxy or server mangling the body). Needs
  // s3:GetObject on the prefix; without it (403) the check is skipped with a warning.
  try {
    const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: config.bucket, Key: keys.objectKey }));
    if (head.ContentLength !== undefined && head.ContentLength !== streamed.bytes) {
      throw new Error(`stored object has ${head.ContentLength} bytes, ${streamed.bytes} were streamed`);
    }
  } catch (err) {
    if (isAccessDenied(err)) {
      logger.warn('size check of the uploaded object skipped: no s3:GetObject permission', { key: keys.objectKey });
    } else {
      await cleanUpFailedUpload(ctx.s3, config.bucket, keys.objectKey, undefined);
      throw new BackupError('upload', `Verifying s3://${config.bucket}/${keys.objectKey} failed: ${(err as Error).message}`, streamed.bytes);
    }
  }

  const finishedAt = ctx.now();
  const manifest: BackupManifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    producer: PRODUCER,
    engine: config.engine,
    engineMajorDeclared: config.engineMajor,
    serverVersion: server.version,
    toolVersion: tool,
    compressorVersion: compressor,
    database,
    host: conn.host,
    port: conn.port,
    tlsMode: config.tlsMode,
    format: fmt.format,
    compression: config.compression,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationSeconds: (finishedAt - startedAt) / 1000,
    bytes: streamed.bytes,
    sha256: streamed.sha256,
    bucket: config.bucket,
    objectKey: keys.objectKey,
    objectETag: streamed.etag,
    objectVersionId: streamed.versionId,
    partSizeBytes: partSize,
    kmsKeyId: config.kmsKeyId,
    objectives: { rpoMinutes: config.rpoMinutes, rtoMinutes: config.rtoMinutes },
    environment: config.environment,
    rowCounts,
  };
  try {
    await ctx.s3.send(new PutObjectCommand({
      Bucket: config.bucket,
      Key: keys.manifestKey,
      Body: JSON.stringify(manifest, null, 2),
      ContentType: 'application/json',
      ...(config.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: config.kmsKeyId, BucketKeyEnabled: true } : {}),
    }));
  } catch (err) {
    // A dump without a manifest is not a backup: remove it.
    try {
      await ctx.s3.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: keys.objectKey }));
    } catch {
      // reported below; the object has no manifest, restore tooling ignores it
    }
    throw new BackupError('manifest', `Writing the manifest s3://${config.bucket}/${keys.manifestKey} failed: ${(err as Error).name}: ` +
      `${(err as Error).message}; the dump object was removed`, streamed.bytes);
  }
  const durationSeconds = (ctx.now() - startedAt) / 1000;
  logger.info('backup completed', {
    database, key: keys.objectKey, manifestKey: keys.manifestKey, bytes: streamed.bytes, sha256: streamed.sha256, durationSeconds,
  });
  return {
    database,
    success: true,
    bytes: streamed.bytes,
    durationSeconds,
    objectKey: keys.objectKey,
    manifestKey: keys.manifestKey,
    sha256: streamed.sha256,
    manifest,
  };
}

/**
 * Backs up every configured database (one after the other), emits the metrics, and throws a
 * BackupRunError naming each failure if any database failed. Called by the Lambda handler (with a
 * deadline), by the Fargate entrypoint `node index.js --once` (without) and by the tests.
 */
export async function runBackup(config: BackupConfig, deps: BackupDeps = {}): Promise<BackupRunResult> {
  const now = deps.now ?? Date.now;
  const sink = deps.log ?? ((line: string) => console.log(line));
  const redactor = new Redactor();
  const logger = new Logger(sink, redactor);
  const runStarted = now();
  const budget = config.timeBudgetMs !== undefined && config.timeBudgetMs > 0 ? config.timeBudgetMs : undefined;
  const emit = (database: string, bytes: number, durationSeconds: number, success: boolean, failureKind?: FailureKind) => logger.raw(emfLine({
    namespace: config.metricsNamespace,
    database,
    environment: config.environment,
    engine: config.engine,
    backupJob: config.backupJob,
    bytes,
    durationSeconds,
    success,
    failureKind: success ? undefined : failureKind,
    timeoutUsedPercent: budget === undefined ? undefined : (100 * (now() - runStarted)) / budget,
  }));
  const failAll = (databases: readonly string[], err: BackupError): never => {
    const results = databases.map((database) => {
      emit(database, 0, (now() - runStarted) / 1000, false, err.kind);
      return { database, success: false, bytes: 0, durationSeconds: 0, error: err.message, failureKind: err.kind };
    });
    logger.error('backup failed', { error: err.message, kind: err.kind });
    throw new BackupRunError(`Backup failed [${err.kind}]: ${err.message}`, results);
  };

  let partSize: number;
  let secret: DbSecret;
  try {
    partSize = computePartSize(config.maxDatabaseSizeBytes);
    for (const d of config.databases ?? []) validateDatabaseName(d);
    if (!config.bucket) throw new ConfigError('BUCKET is required');
  } catch (err) {
    return failAll(config.databases ?? ['default'], new BackupError('config', (err as Error).message));
  }
  try {
    const fetchSecret = deps.fetchSecret ?? secretsManagerFetcher(deps.secretsManager ?? createSecretsManagerClient(), config.engine);
    secret = await fetchSecret(config.secretArn);
  } catch (err) {
    const msg = err instanceof SecretError ? err.message : `Cannot read secret ${config.secretArn}: ${(err as Error).message}`;
    return failAll(config.databases ?? ['default'], new BackupError('secret', redactor.redact(msg)));
  }
  redactor.add(secret.password);
  const databases = config.databases ?? (secret.dbname ? [secret.dbname] : []);
  if (databases.length === 0) {
    return failAll(['default'], new BackupError('config', 'No database to back up: set DATABASES or put dbname in the secret'));
  }

  const ctx: RunContext = {
    config,
    s3: deps.s3 ?? createS3Client({ endpoint: config.s3Endpoint, forcePathStyle: config.s3ForcePathStyle }),
    secret,
    redactor,
    logger,
    now,
    baseEnv: deps.baseEnv,
    partSize,
    partSizeReason: '',
    queueSize: config.queueSize ?? DEFAULT_QUEUE_SIZE,
    failureGraceMs: deps.failureGraceMs ?? Math.min(10_000, Math.max(1_000, Math.floor(config.safetyMarginMs / 4))),
    maxParts: deps.maxParts ?? S3_MAX_PARTS,
  };
  const results: DatabaseBackupResult[] = [];
  let deadlineHit = false;
  for (const database of databases) {
    const started = now();
    if (deadlineHit) {
      const msg = `Skipped: the deadline was reached before database "${database}" was started`;
      results.push({ database, success: false, bytes: 0, durationSeconds: 0, error: msg, failureKind: 'deadline' });
      emit(database, 0, 0, false, 'deadline');
      continue;
    }
    try {
      const r = await backupDatabase(ctx, database);
      results.push(r);
      emit(database, r.bytes, r.durationSeconds, true);
    } catch (err) {
      const e = err instanceof BackupError ? err
        : new BackupError(err instanceof ConnectionError ? 'connection' : err instanceof VersionError ? 'version'
          : err instanceof ToolError ? 'dump' : err instanceof ConfigError ? 'config' : 'internal', redactor.redact((err as Error).message));
      const durationSeconds = (now() - started) / 1000;
      const message = redactor.redact(`Backup of database "${database}" (${config.engine} ${secret.host}:${secret.port}) failed [${e.kind}]: ${e.message}`);
      logger.error('backup failed', { database, kind: e.kind, error: message, bytesStreamed: e.bytesStreamed, durationSeconds });
      results.push({ database, success: false, bytes: e.bytesStreamed, durationSeconds, error: message, failureKind: e.kind });
      emit(database, e.bytesStreamed, durationSeconds, false, e.kind);
      if (e.kind === 'deadline') deadlineHit = true;
    }
  }
  if (budget !== undefined && now() - runStarted >= DEADLINE_WARNING_RATIO * budget) {
    logger.warn('backup is nearing the Lambda timeout', {
      usedPercent: Math.round((1000 * (now() - runStarted)) / budget) / 10,
      elapsedSeconds: (now() - runStarted) / 1000,
      timeoutSeconds: budget / 1000,
      fix: 'The dumps take more than 80% of the Lambda timeout and will soon fail every run: switch the job to ' +
        'Fargate compute (compute: DumpCompute.fargate(), no time limit, same image), or split the databases over several jobs',
    });
  }
  const failures = results.filter((r) => !r.success);
  if (failures.length > 0) {
    throw new BackupRunError(
      `${failures.length} of ${results.length} database backup(s) failed: ${failures.map((f) => f.error).join(' || ')}`, results);
  }
  return { results };
}
