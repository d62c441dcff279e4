/**
 * Restore a backup written by runBackup: read the manifest, verify the dump's SHA-256 and size against
 * it (a full streamed read, nothing written to disk), then stream the same object version again through
 * the decompressor into pg_restore / mariadb, hashing once more and refusing to let the restore finish
 * if the bytes differ.
 *
 *   npx ts-node --transpile-only src/external-db/handler/restore.ts --manifest s3://bucket/key ...
 *   node index.js restore --manifest s3://bucket/key ...        (inside the backup image)
 *
 * See docs/external-db-restore.md.
 */
import { createHash } from 'crypto';
import { Readable, Transform, TransformCallback } from 'stream';
import * as zlib from 'zlib';
import { GetObjectCommand, GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { createS3Client, createSecretsManagerClient, secretsManagerFetcher } from './aws';
import type { BackupManifest } from './backup';
import { COMPRESSIONS, ENGINES, Engine, TLS_MODES, TlsMode } from './config';
import { ConnectionSettings, createDatabase, decompressCommand, Redactor, restoreCommand, succeeded, Tool } from './tools';

export interface RestoreTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  readonly tlsMode: TlsMode;
  readonly tlsCaFile?: string;
}

export interface RestoreOptions {
  readonly bucket: string;
  readonly manifestKey: string;
  /** Where to restore; not needed with `verifyOnly`. */
  readonly target?: RestoreTarget;
  /** Create the target database first (it must not exist). */
  readonly createDatabase?: boolean;
  /** PostgreSQL: skip ownership and grants (target without the source's roles). */
  readonly noOwner?: boolean;
  /** Only check the dump against the manifest. */
  readonly verifyOnly?: boolean;
}

export interface RestoreDeps {
  readonly s3?: S3Client;
  readonly log?: (line: string) => void;
  readonly baseEnv?: NodeJS.ProcessEnv;
}

export interface RestoreResult {
  readonly manifest: BackupManifest;
  readonly bytes: number;
  readonly sha256: string;
  readonly verifySeconds: number;
  readonly restoreSeconds?: number;
  readonly database?: string;
}

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

class HashMeter extends Transform {
  public bytes = 0;
  public sha256?: string;
  private readonly hash = createHash('sha256');
  constructor(private readonly expected?: { bytes: number; sha256: string }) {
    super({ highWaterMark: 1024 * 1024 });
  }
  public _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
  public _flush(cb: TransformCallback): void {
    this.sha256 = this.hash.digest('hex');
    if (this.expected && (this.sha256 !== this.expected.sha256 || this.bytes !== this.expected.bytes)) {
      cb(new RestoreError(`Checksum mismatch while restoring: read ${this.bytes} bytes with SHA-256 ${this.sha256}, ` +
        `the manifest says ${this.expected.bytes} bytes with ${this.expected.sha256}; the restore was stopped before it completed`));
      return;
    }
    cb();
  }
}

/** `s3://bucket/key` → {bucket, key}. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new RestoreError(`Not an s3://bucket/key URI: ${uri}`);
  return { bucket: m[1], key: m[2] };
}

async function bodyStream(out: GetObjectCommandOutput): Promise<Readable> {
  if (!out.Body) throw new RestoreError('GetObject returned no body');
  return out.Body as Readable;
}

export async function fetchManifest(s3: S3Client, bucket: string, key: string): Promise<BackupManifest> {
  let text: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await out.Body!.transformToString('utf8');
  } catch (err) {
    throw new RestoreError(`Cannot read the manifest s3://${bucket}/${key}: ${(err as Error).name}: ${(err as Error).message}`);
  }
  let m: BackupManifest;
  try {
    m = JSON.parse(text) as BackupManifest;
  } catch {
    throw new RestoreError(`s3://${bucket}/${key} is not a backup manifest (not JSON)`);
  }
  const problems: string[] = [];
  if (typeof m.formatVersion !== 'number' || m.formatVersion > 1) problems.push(`unsupported formatVersion ${m.formatVersion}`);
  if (!ENGINES.includes(m.engine)) problems.push(`unknown engine ${m.engine}`);
  if (!COMPRESSIONS.includes(m.compression)) problems.push(`unknown compression ${m.compression}`);
  if (typeof m.objectKey !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256 ?? '') || typeof m.bytes !== 'number') {
    problems.push('objectKey, sha256 or bytes missing');
  }
  if (problems.length > 0) throw new RestoreError(`Invalid manifest s3://${bucket}/${key}: ${problems.join('; ')}`);
  return m;
}

/** Streams the dump once and checks size and SHA-256 against the manifest. Returns the ETag read. */
export async function verifyBackup(
  s3: S3Client, bucket: string, manifest: BackupManifest,
): Promise<{ bytes: number; sha256: string; etag?: string }> {
  const out = await s3.send(new GetObjectCommand({
    Bucket: manifest.bucket ?? bucket,
    Key: manifest.objectKey,
    ...(manifest.objectVersionId ? { VersionId: manifest.objectVersionId } : {}),
  }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await bodyStream(out)) {
    bytes += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== manifest.sha256 || bytes !== manifest.bytes) {
    throw new RestoreError(`Backup s3://${manifest.bucket ?? bucket}/${manifest.objectKey} does not match its manifest: ` +
      `${bytes} bytes with SHA-256 ${sha256}, expected ${manifest.bytes} bytes with ${manifest.sha256}. Nothing was restored.`);
  }
  return { bytes, sha256, etag: out.ETag };
}

/** Verifies, then restores a backup into `target.database`. */
export async function runRestore(opts: RestoreOptions, deps: RestoreDeps = {}): Promise<RestoreResult> {
  const s3 = deps.s3 ?? createS3Client({
    endpoint: process.env.S3_ENDPOINT,
    forcePathStyle: /^(1|true|yes)$/i.test(process.env.S3_FORCE_PATH_STYLE ?? ''),
  });
  const log = deps.log ?? ((line: string) => console.log(line));
  const redactor = new Redactor().add(opts.target?.password);
  const info = (msg: string, fields: Record<string, unknown> = {}) =>
    log(redactor.redact(JSON.stringify({ level: 'INFO', msg, ...fields, time: new Date().toISOString() })));

  const manifest = await fetchManifest(s3, opts.bucket, opts.manifestKey);
  const bucket = manifest.bucket ?? opts.bucket;
  info('manifest read', { manifestKey: opts.manifestKey, database: manifest.database, engine: manifest.engine, bytes: manifest.bytes, finishedAt: manifest.finishedAt });
  const t0 = Date.now();
  const verified = await verifyBackup(s3, opts.bucket, manifest);
  const verifySeconds = (Date.now() - t0) / 1000;
  info('backup verified', { objectKey: manifest.objectKey, bytes: verified.bytes, sha256: verified.sha256, verifySeconds });
  if (opts.verifyOnly) return { manifest, bytes: verified.bytes, sha256: verified.sha256, verifySeconds };

  const target = opts.target;
  if (!target) throw new RestoreError('A restore target (host, port, user, database) is required unless --verify-only is given');
  const conn: ConnectionSettings = {
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    tlsMode: target.tlsMode,
    tlsCaFile: target.tlsCaFile,
  };
  const engine: Engine = manifest.engine;
  if (opts.createDatabase) {
    await createDatabase(engine, conn, target.database, redactor, deps.baseEnv);
    info('target database created', { database: target.database });
  }

  const t1 = Date.now();
  // Same object version as verified (If-Match on the ETag; VersionId when the bucket is versioned).
  const out = await s3.send(new GetObjectCommand({
    Bucket: bucket,
    Key: manifest.objectKey,
    ...(manifest.objectVersionId ? { VersionId: manifest.objectVersionId } : {}),
    ...(verified.etag ? { IfMatch: verified.etag } : {}),
  }));
  const body = await bodyStream(out);
  const meter = new HashMeter({ bytes: manifest.bytes, sha256: manifest.sha256 });
  const tools: Tool[] = [];
  let failure: Error | undefined;
  const fail = (err: Error) => {
    if (failure) return;
    failure = err;
    for (const t of tools) t.kill();
    body.destroy();
    meter.destroy();
  };

  const restoreSpec = restoreCommand(engine, conn, target.database, { noOwner: opts.noOwner }, deps.baseEnv);
  const restorer = new Tool(restoreSpec.name, restoreSpec.command, restoreSpec.args, restoreSpec.env, ['pipe', 'pipe', 'pipe']);
  restorer.child.stdout?.resume();
  let source: Readable = body.pipe(meter);
  const decSpec = decompressCommand(manifest.compression, deps.baseEnv);
  if (decSpec) {
    const dec = new Tool(decSpec.name, decSpec.command, decSpec.args, decSpec.env, ['pipe', 'pipe', 'pipe']);
    tools.push(dec);
    source.pipe(dec.child.stdin!);
    source = dec.child.stdout!;
  } else if (manifest.compression === 'gzip' && engine !== 'postgres') {
    const gunzip = zlib.createGunzip();
    gunzip.on('error', (err) => fail(new RestoreError(`gunzip failed: ${err.message}`)));
    source.pipe(gunzip);
    source = gunzip;
  }
  tools.push(restorer);
  meter.on('error', (err) => fail(err));
  body.on('error', (err) => fail(new RestoreError(`Reading s3://${bucket}/${manifest.objectKey} failed: ${err.message}`)));
  source.pipe(restorer.child.stdin!);
  const context = `while restoring into database "${target.database}" on ${target.host}:${target.port}`;
  for (const t of tools) {
    void t.exited.then(async (exit) => {
      if (succeeded(exit)) return;
      await Promise.race([t.stderrClosed, new Promise((r) => setTimeout(r, 500))]);
      fail(new RestoreError(t.describeFailure(redactor, context).message));
    });
  }
  await Promise.all(tools.map((t) => t.closed));
  if (failure) throw failure;
  const bad = tools.find((t) => t.exitInfo && !succeeded(t.exitInfo));
  if (bad) throw new RestoreError(bad.describeFailure(redactor, context).message);
  if (meter.sha256 !== manifest.sha256) {
    throw new RestoreError('The restore finished without the dump being fully verified; treat the target as incomplete');
  }
  const restoreSeconds = (Date.now() - t1) / 1000;
  info('restore completed', { database: target.database, bytes: meter.bytes, restoreSeconds });
  return { manifest, bytes: meter.bytes, sha256: meter.sha256, verifySeconds, restoreSeconds, database: target.database };
}

// ---------------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------------

export const RESTORE_USAGE = `Restore a backup written by the external-db dump job.

  restore --manifest s3://BUCKET/KEY/manifest.json [target options] [--create-db] [--no-owner]
  restore --manifest s3://BUCKET/KEY/manifest.json --verify-only

Target (where to restore):
  --target-secret-arn ARN   Secrets Manager secret {host, port, username, password[, dbname]}
  --target-host HOST        overrides the secret's host
  --target-port PORT        overrides the secret's port
  --target-user USER        overrides the secret's username
  --target-db NAME          database to restore into (default: the secret's dbname)
  --tls require|verify-full|disable   (default require)
  --tls-ca FILE             CA bundle for verify-full
Password: from --target-secret-arn, else the environment variable TARGET_PASSWORD (never a flag).
Options:
  --create-db               create the target database first (it must not exist)
  --no-owner                PostgreSQL: skip ownership and grants (roles missing on the target)
  --verify-only             check size and SHA-256 against the manifest, restore nothing
Environment: AWS credentials/region as usual; S3_ENDPOINT and S3_FORCE_PATH_STYLE for an S3-compatible server.`;

export interface ParsedRestoreArgs {
  readonly bucket: string;
  readonly manifestKey: string;
  readonly verifyOnly: boolean;
  readonly createDatabase: boolean;
  readonly noOwner: boolean;
  readonly targetSecretArn?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly database?: string;
  readonly tlsMode: TlsMode;
  readonly tlsCaFile?: string;
  readonly help: boolean;
}

export function parseRestoreArgs(argv: readonly string[]): ParsedRestoreArgs {
  const flags = new Set(['--verify-only', '--create-db', '--no-owner', '--help', '-h']);
  const valued = new Set(['--manifest', '--bucket', '--manifest-key', '--target-secret-arn', '--target-host', '--target-port',
    '--target-user', '--target-db', '--tls', '--tls-ca']);
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    if (/pass(word)?|pwd/i.test(name)) throw new RestoreError(`${name}: passwords are never accepted on the command line; use TARGET_PASSWORD or --target-secret-arn`);
    if (flags.has(name)) { seen.add(name); continue; }
    if (!valued.has(name)) throw new RestoreError(`Unknown option ${name}\n\n${RESTORE_USAGE}`);
    const v = inline ?? argv[++i];
    if (v === undefined) throw new RestoreError(`${name} needs a value`);
    values.set(name, v);
  }
  const help = seen.has('--help') || seen.has('-h');
  let bucket = values.get('--bucket');
  let manifestKey = values.get('--manifest-key');
  if (values.has('--manifest')) ({ bucket, key: manifestKey } = parseS3Uri(values.get('--manifest')!));
  if (!help && (!bucket || !manifestKey)) throw new RestoreError(`--manifest s3://bucket/key is required\n\n${RESTORE_USAGE}`);
  const tls = (values.get('--tls') ?? 'require') as TlsMode;
  if (!TLS_MODES.includes(tls)) throw new RestoreError(`--tls must be one of ${TLS_MODES.join(', ')}`);
  const port = values.has('--target-port') ? Number(values.get('--target-port')) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port <= 0 || port > 65535)) throw new RestoreError('--target-port must be a port number');
  return {
    bucket: bucket ?? '',
    manifestKey: manifestKey ?? '',
    help,
    verifyOnly: seen.has('--verify-only'),
    createDatabase: seen.has('--create-db'),
    noOwner: seen.has('--no-owner'),
    targetSecretArn: values.get('--target-secret-arn'),
    host: values.get('--target-host'),
    port,
    user: values.get('--target-user'),
    database: values.get('--target-db'),
    tlsMode: tls,
    tlsCaFile: values.get('--tls-ca'),
  };
}

/** Command-line entry; returns the exit code. */
export async function restoreCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const args = parseRestoreArgs(argv);
    if (args.help) {
      console.log(RESTORE_USAGE);
      return 0;
    }
    const s3 = createS3Client({ endpoint: env.S3_ENDPOINT, forcePathStyle: /^(1|true|yes)$/i.test(env.S3_FORCE_PATH_STYLE ?? '') });
    let target: RestoreTarget | undefined;
    if (!args.verifyOnly) {
      const manifest = await fetchManifest(s3, args.bucket, args.manifestKey);
      const secret = args.targetSecretArn
        ? await secretsManagerFetcher(createSecretsManagerClient(), manifest.engine)(args.targetSecretArn)
        : undefined;
      const password = secret?.password ?? env.TARGET_PASSWORD;
      const host = args.host ?? secret?.host;
      const user = args.user ?? secret?.username;
      const database = args.database ?? secret?.dbname;
      const missing = [
        !host && '--target-host', !user && '--target-user', !database && '--target-db', password === undefined && 'TARGET_PASSWORD',
      ].filter(Boolean);
      if (missing.length > 0) throw new RestoreError(`Missing ${missing.join(', ')} (or --target-secret-arn)`);
      target = {
        host: host!,
        port: args.port ?? secret?.port ?? (manifest.engine === 'postgres' ? 5432 : 3306),
        username: user!,
        password: password!,
        database: database!,
        tlsMode: args.tlsMode,
        tlsCaFile: args.tlsCaFile,
      };
    }
    const result = await runRestore({
      bucket: args.bucket,
      manifestKey: args.manifestKey,
      target,
      verifyOnly: args.verifyOnly,
      createDatabase: args.createDatabase,
      noOwner: args.noOwner,
    }, { s3 });
    console.log(JSON.stringify({ level: 'INFO', msg: args.verifyOnly ? 'verified' : 'restored', bytes: result.bytes, sha256: result.sha256, database: result.database }));
    return 0;
  } catch (err) {
    console.error(`restore failed: ${(err as Error).message}`);
    return 1;
  }
}

// Run as a script (`ts-node restore.ts ...`), not when bundled into index.js (which dispatches `restore` itself).
if (require.main === module && /restore\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  restoreCli(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
