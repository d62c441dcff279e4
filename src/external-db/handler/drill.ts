/**
 * Restore drill of an external database (the dump image's `drill` mode): find the latest dump of each
 * database, verify it against its manifest (size, SHA-256), restore it with the same code as the restore
 * CLI (`runRestore`) into a throw-away server of the same engine started inside the task (initdb/pg_ctl,
 * or mariadb-install-db/mariadbd, in a temporary directory on a free loopback port), count the rows of
 * every table and compare them with the manifest's `rowCounts` when it has them, then publish the drill's
 * duration as CloudWatch embedded metrics (DrillDurationSeconds, DrillSuccess) next to the dump metrics.
 *
 * It fails loudly (exit code 1, DrillSuccess=0, an ERROR log line) when the newest dump has no manifest,
 * when a dump does not match its manifest, when the restore fails or when row counts differ.
 *
 *   node index.js drill [--database NAME]      (same environment variables as the backup: BUCKET, PREFIX, ENGINE, DATABASES, ...)
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from './aws';
import type { BackupManifest } from './backup';
import { DEFAULT_METRICS_NAMESPACE, Engine, ENGINES, keySegment, normalizePrefix, parseDatabases } from './config';
import { fetchManifest, RestoreResult, runRestore } from './restore';
import { parseRowCounts, PG_ROW_COUNTS_SQL } from './row-counts';
import { ConnectionSettings, quoteMysqlIdent, Redactor, runCapture } from './tools';

const run = promisify(execFile);

/** The manifest the drill reads; `rowCounts` (written since the backup counts rows) is optional: older dumps have none. */
export type DrillManifest = BackupManifest;

export class DrillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillError';
  }
}

export interface DrillOptions {
  readonly bucket: string;
  /** Key prefix of the dumps (as the backup writes them: `<prefix><database>/<timestamp>-<run>/`). */
  readonly prefix: string;
  readonly engine: Engine;
  readonly databases: readonly string[];
  /** The RTO, for the log line and the `DrillWithinRto` metric. */
  readonly rtoMinutes?: number;
  readonly environment: string;
  readonly metricsNamespace: string;
  readonly backupJob?: string;
  /** Directory of initdb/pg_ctl (PostgreSQL). @default - $PG_BIN_DIR, else the first of /usr/pgsql-<n>/bin, /usr/lib/postgresql/<n>/bin, PATH */
  readonly serverBinDir?: string;
  /** Parent of the throw-away server's directory. @default os.tmpdir() */
  readonly workDir?: string;
}

export interface DrillDeps {
  readonly s3?: S3Client;
  readonly log?: (line: string) => void;
  readonly now?: () => number;
}

export interface DatabaseDrillResult {
  readonly database: string;
  readonly success: boolean;
  readonly manifestKey?: string;
  readonly dumpFinishedAt?: string;
  readonly durationSeconds: number;
  readonly restoreSeconds?: number;
  readonly rowCounts?: Record<string, number>;
  /** Whether the manifest had row counts to compare with. */
  readonly rowCountsCompared: boolean;
  readonly withinRto?: boolean;
  readonly error?: string;
}

// ---------------------------------------------------------------------------------------------------
// Finding the latest dump
// ---------------------------------------------------------------------------------------------------

export interface LatestDump {
  readonly manifestKey: string;
  readonly dir: string;
}

/**
 * The newest dump directory of `database` (`<prefix><db>/<yyyymmddThhmmssZ>-<run>/`, sortable). Fails when
 * there is none, or when the newest one has a dump object but no manifest (a dump without a manifest is
 * not a backup: the drill says so instead of silently testing an older one).
 */
export async function findLatestDump(s3: S3Client, bucket: string, prefix: string, database: string): Promise<LatestDump> {
  const base = `${normalizePrefix(prefix)}${keySegment(database)}/`;
  const dirs = new Map<string, { manifest?: string; objects: string[] }>();
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }));
    for (const o of out.Contents ?? []) {
      const rest = o.Key!.slice(base.length);
      const slash = rest.indexOf('/');
      if (slash <= 0) continue;
      const dir = rest.slice(0, slash);
      const entry = dirs.get(dir) ?? { objects: [] };
      if (rest.slice(slash + 1) === 'manifest.json') entry.manifest = o.Key!;
      else entry.objects.push(o.Key!);
      dirs.set(dir, entry);
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  const newest = [...dirs.keys()].sort().pop();
  if (!newest) throw new DrillError(`No dump of database "${database}" under s3://${bucket}/${base}: nothing to drill`);
  const entry = dirs.get(newest)!;
  if (!entry.manifest) {
    throw new DrillError(`The newest dump of "${database}" (s3://${bucket}/${base}${newest}/: ${entry.objects.join(', ')}) has no manifest: ` +
      'it is incomplete or was not written by the backup job, and cannot be trusted as a backup. Check the backup job\'s logs');
  }
  return { manifestKey: entry.manifest, dir: `${base}${newest}/` };
}

// ---------------------------------------------------------------------------------------------------
// Throw-away servers
// ---------------------------------------------------------------------------------------------------

export interface ThrowawayServer {
  readonly conn: ConnectionSettings;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

/** Runs a server tool as `user` when we are root (initdb and mariadbd refuse to run as root). */
function asUser(user: string, bin: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', user, '--', bin, ...args]] : [bin, args];
}

export function findPgBinDir(explicit?: string): string {
  const candidates = [
    explicit,
    process.env.PG_BIN_DIR,
    ...globDirs('/usr', /^pgsql-\d+$/).map((d) => path.join(d, 'bin')),
    ...globDirs('/usr/lib/postgresql', /^\d+$/).map((d) => path.join(d, 'bin')),
  ].filter((d): d is string => !!d);
  for (const d of candidates) if (fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'pg_ctl'))) return d;
  const onPath = (process.env.PATH ?? '').split(':').find((d) => d && fs.existsSync(path.join(d, 'initdb')));
  if (onPath) return onPath;
  throw new DrillError('initdb/pg_ctl not found (PostgreSQL server package missing from the image?): set PG_BIN_DIR or install postgresql<major>-server');
}

function globDirs(parent: string, pattern: RegExp): string[] {
  try {
    return fs.readdirSync(parent).filter((n) => pattern.test(n)).sort((a, b) => Number(b.replace(/\D/g, '')) - Number(a.replace(/\D/g, ''))).map((n) => path.join(parent, n));
  } catch {
    return [];
  }
}

export async function startPostgres(opts: { binDir?: string; workDir?: string } = {}): Promise<ThrowawayServer> {
  const bin = findPgBinDir(opts.binDir);
  const dir = fs.mkdtempSync(path.join(opts.workDir ?? os.tmpdir(), 'bdr-drill-pg-'));
  const data = path.join(dir, 'data');
  const user = 'bdr_drill';
  const password = randomBytes(18).toString('base64url');
  const port = await freePort();
  try {
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(data, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'pw'), `${password}\n`, { mode: 0o600 });
    if (isRoot()) await run('chown', ['-R', 'postgres:postgres', dir]);
    await run(...asUser('postgres', path.join(bin, 'initdb'), ['-D', data, '-U', user, `--pwfile=${path.join(dir, 'pw')}`,
      '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']));
    // A drill measures the restore, not durability: no fsync.
    fs.appendFileSync(path.join(data, 'postgresql.conf'), '\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 20\n');
    await run(...asUser('postgres', path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '120',
      '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, 'start']));
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new DrillError(`Starting the throw-away PostgreSQL server failed: ${(err as Error).message}`);
  }
  return {
    conn: { host: '127.0.0.1', port, username: user, password, tlsMode: 'disable' },
    stop: async () => {
      try {
        await run(...asUser('postgres', path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function startMariadb(opts: { workDir?: string } = {}): Promise<ThrowawayServer> {
  const dir = fs.mkdtempSync(path.join(opts.workDir ?? os.tmpdir(), 'bdr-drill-mariadb-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const userArgs = isRoot() ? ['--user=mysql'] : [];
  let child: ChildProcess | undefined;
  try {
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(data);
    if (isRoot()) await run('chown', ['-R', 'mysql:mysql', dir]);
    await run('mariadb-install-db', ['--no-defaults', ...userArgs, `--datadir=${data}`, '--skip-test-db', '--auth-root-authentication-method=normal']);
    const server = ['/usr/sbin/mariadbd', '/usr/libexec/mariadbd'].find((f) => fs.existsSync(f)) ?? 'mariadbd';
    child = spawn(server, ['--no-defaults', ...userArgs, `--datadir=${data}`, '--bind-address=127.0.0.1', `--port=${port}`,
      `--socket=${path.join(dir, 'sock')}`, `--pid-file=${path.join(dir, 'pid')}`, `--log-error=${path.join(dir, 'log')}`,
      // Restored events exist but never run (OFF, not DISABLED: a dump's DROP/CREATE EVENT needs the scheduler).
      '--event-scheduler=OFF', '--skip-ssl', '--skip-name-resolve', '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci',
      '--innodb-buffer-pool-size=128M', '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0', '--max-allowed-packet=1G'],
    { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    const conn: ConnectionSettings = { host: '127.0.0.1', port, username: 'bdr_drill', password: randomBytes(18).toString('base64url'), tlsMode: 'disable' };
    const socket = path.join(dir, 'sock');
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        // root has no password on a fresh data directory, reachable only through the socket of this task's directory.
        await runCapture('mariadb', 'mariadb', ['--no-defaults', '-S', socket, '-u', 'root', '-e',
          `CREATE USER '${conn.username}'@'127.0.0.1' IDENTIFIED BY '${conn.password}'; ` +
          `GRANT ALL PRIVILEGES ON *.* TO '${conn.username}'@'127.0.0.1' WITH GRANT OPTION`],
        { ...process.env }, new Redactor().add(conn.password), 'preparing the throw-away MariaDB server', 5000);
        break;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline) {
          const log = fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8').split('\n').slice(-10).join('\n') : '';
          throw new Error(`${(err as Error).message}\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const started = child;
    return {
      conn,
      stop: async () => {
        try {
          started.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
          if (started.exitCode === null) started.kill('SIGKILL');
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw new DrillError(`Starting the throw-away MariaDB server failed: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Row counts
// ---------------------------------------------------------------------------------------------------

/**
 * Exact row count of every table of the restored database (PostgreSQL keys: "schema.table", the same
 * tables and query as the backup's count, row-counts.ts; MariaDB/MySQL: "table").
 */
export async function countRows(engine: Engine, conn: ConnectionSettings, database: string): Promise<Record<string, number>> {
  const redactor = new Redactor().add(conn.password);
  let out: string;
  if (engine === 'postgres') {
    out = await runCapture('psql', 'psql', ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', PG_ROW_COUNTS_SQL], {
      ...process.env,
      PGHOST: conn.host,
      PGPORT: String(conn.port),
      PGUSER: conn.username,
      PGPASSWORD: conn.password,
      PGDATABASE: database,
      PGSSLMODE: conn.tlsMode,
    }, redactor, `counting rows in "${database}"`, 600_000);
  } else {
    const args = ['--no-defaults', '--protocol=TCP', '-h', conn.host, '-P', String(conn.port), '-u', conn.username,
      ...(conn.tlsMode === 'disable' ? ['--skip-ssl'] : ['--ssl']), '--batch', '--skip-column-names'];
    const env = { ...process.env, MYSQL_PWD: conn.password };
    const tables = (await runCapture('mariadb', 'mariadb', [...args, '-e',
      `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database.replace(/'/g, "''")}' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1`],
    env, redactor, `listing tables of "${database}"`)).split('\n').filter((l) => l.length > 0);
    if (tables.length === 0) return {};
    const sql = tables.map((t) => `SELECT '${t.replace(/'/g, "''")}', COUNT(*) FROM ${quoteMysqlIdent(database)}.${quoteMysqlIdent(t)}`).join(' UNION ALL ');
    out = await runCapture('mariadb', 'mariadb', [...args, '-e', sql], env, redactor, `counting rows in "${database}"`, 600_000);
  }
  return parseRowCounts(out);
}

/** Differences between the restored and the expected row counts ("table: restored N, manifest M"). */
export function compareRowCounts(restored: Record<string, number>, expected: Record<string, number>): string[] {
  const diffs: string[] = [];
  for (const table of [...new Set([...Object.keys(expected), ...Object.keys(restored)])].sort()) {
    if (restored[table] !== expected[table]) {
      diffs.push(`${table}: restored ${restored[table] ?? 'missing'}, manifest ${expected[table] ?? 'not listed'}`);
    }
  }
  return diffs;
}

// ---------------------------------------------------------------------------------------------------
// The drill
// ---------------------------------------------------------------------------------------------------

export function drillEmf(m: {
  namespace: string;
  database: string;
  environment: string;
  engine: string;
  backupJob?: string;
  durationSeconds: number;
  success: boolean;
  withinRto?: boolean;
  timestamp?: number;
}): string {
  const metrics = [{ Name: 'DrillDurationSeconds', Unit: 'Seconds' }, { Name: 'DrillSuccess', Unit: 'Count' }];
  if (m.withinRto !== undefined) metrics.push({ Name: 'DrillWithinRto', Unit: 'Count' });
  return JSON.stringify({
    _aws: {
      Timestamp: m.timestamp ?? Date.now(),
      CloudWatchMetrics: [{
        Namespace: m.namespace,
        Dimensions: m.backupJob ? [['Database', 'Environment'], ['BackupJob', 'Environment']] : [['Database', 'Environment']],
        Metrics: metrics,
      }],
    },
    Database: m.database,
    Environment: m.environment,
    ...(m.backupJob ? { BackupJob: m.backupJob } : {}),
    Engine: m.engine,
    DrillDurationSeconds: Math.round(m.durationSeconds * 1000) / 1000,
    DrillSuccess: m.success ? 1 : 0,
    ...(m.withinRto !== undefined ? { DrillWithinRto: m.withinRto ? 1 : 0 } : {}),
  });
}

/** Drills every database; throws a DrillError naming the failed ones after all were tried. */
export async function runDrill(opts: DrillOptions, deps: DrillDeps = {}): Promise<DatabaseDrillResult[]> {
  const s3 = deps.s3 ?? createS3Client({ endpoint: process.env.S3_ENDPOINT, forcePathStyle: /^(1|true|yes)$/i.test(process.env.S3_FORCE_PATH_STYLE ?? '') });
  const log = deps.log ?? ((line: string) => console.log(line));
  const now = deps.now ?? Date.now;
  const emit = (level: string, msg: string, fields: Record<string, unknown>) =>
    log(JSON.stringify({ level, msg, ...fields, time: new Date(now()).toISOString() }));
  if (opts.databases.length === 0) throw new DrillError('No database to drill: set DATABASES (or pass --database)');

  const results: DatabaseDrillResult[] = [];
  for (const database of opts.databases) {
    const t0 = now();
    let server: ThrowawayServer | undefined;
    let manifestKey: string | undefined;
    let manifest: DrillManifest | undefined;
    let restore: RestoreResult | undefined;
    let counts: Record<string, number> | undefined;
    let error: string | undefined;
    try {
      manifestKey = (await findLatestDump(s3, opts.bucket, opts.prefix, database)).manifestKey;
      manifest = await fetchManifest(s3, opts.bucket, manifestKey) as DrillManifest;
      if (manifest.engine !== opts.engine && !(manifest.engine !== 'postgres' && opts.engine !== 'postgres')) {
        throw new DrillError(`The dump of "${database}" was taken from a ${manifest.engine} server, but this drill runs ${opts.engine}`);
      }
      server = opts.engine === 'postgres'
        ? await startPostgres({ binDir: opts.serverBinDir, workDir: opts.workDir })
        : await startMariadb({ workDir: opts.workDir });
      restore = await runRestore({
        bucket: opts.bucket,
        manifestKey,
        createDatabase: true,
        noOwner: true,
        target: { ...server.conn, database: manifest.database },
      }, { s3, log });
      counts = await countRows(opts.engine, server.conn, manifest.database);
      if (manifest.rowCounts) {
        const diffs = compareRowCounts(counts, manifest.rowCounts);
        if (diffs.length > 0) throw new DrillError(`Row counts of the restored "${database}" differ from the manifest: ${diffs.join('; ')}`);
      } else {
        emit('WARN', 'the manifest has no rowCounts: the restored row counts are reported, not compared', { database, manifestKey });
      }
    } catch (err) {
      error = `${(err as Error).name}: ${(err as Error).message}`;
    } finally {
      if (server) {
        try {
          await server.stop();
        } catch (err) {
          emit('WARN', 'stopping the throw-away server failed', { database, error: (err as Error).message });
        }
      }
    }
    const durationSeconds = (now() - t0) / 1000;
    const withinRto = opts.rtoMinutes !== undefined ? durationSeconds <= opts.rtoMinutes * 60 : undefined;
    const success = error === undefined;
    log(drillEmf({
      namespace: opts.metricsNamespace,
      database,
      environment: opts.environment,
      engine: opts.engine,
      backupJob: opts.backupJob,
      durationSeconds,
      success,
      withinRto,
      timestamp: now(),
    }));
    const result: DatabaseDrillResult = {
      database,
      success,
      manifestKey,
      dumpFinishedAt: manifest?.finishedAt,
      durationSeconds,
      restoreSeconds: restore?.restoreSeconds,
      rowCounts: counts,
      rowCountsCompared: !!manifest?.rowCounts && success,
      withinRto,
      error,
    };
    emit(success ? 'INFO' : 'ERROR', success ? 'drill passed' : 'drill FAILED', { ...result });
    if (success && withinRto === false) {
      emit('WARN', 'the drill took longer than the RTO', { database, durationSeconds, rtoSeconds: opts.rtoMinutes! * 60 });
    }
    results.push(result);
  }
  const failed = results.filter((r) => !r.success);
  if (failed.length > 0) {
    throw new DrillError(`Restore drill failed for ${failed.map((f) => `"${f.database}" (${f.error})`).join(', ')}`);
  }
  return results;
}

/** Drill options from the dump job's environment (BUCKET, PREFIX, ENGINE, DATABASES, RTO_MINUTES, ...). */
export function drillOptionsFromEnv(env: NodeJS.ProcessEnv, databases?: string[]): DrillOptions {
  const need = (name: string) => {
    const v = env[name]?.trim();
    if (!v) throw new DrillError(`Environment variable ${name} is required`);
    return v;
  };
  const engine = need('ENGINE').toLowerCase() as Engine;
  if (!ENGINES.includes(engine)) throw new DrillError(`ENGINE must be one of ${ENGINES.join(', ')}, got "${engine}"`);
  const rto = env.RTO_MINUTES ? Number(env.RTO_MINUTES) : undefined;
  return {
    bucket: need('BUCKET'),
    prefix: normalizePrefix(env.PREFIX),
    engine,
    databases: databases ?? parseDatabases(env.DATABASES) ?? [],
    rtoMinutes: rto !== undefined && Number.isFinite(rto) && rto > 0 ? rto : undefined,
    environment: env.ENVIRONMENT?.trim() || 'Unknown',
    metricsNamespace: env.METRICS_NAMESPACE?.trim() || DEFAULT_METRICS_NAMESPACE,
    backupJob: env.BACKUP_JOB?.trim() || undefined,
    serverBinDir: env.PG_BIN_DIR?.trim() || undefined,
  };
}

/** `node index.js drill [--database NAME]...`; returns the exit code. */
export async function drillCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const databases: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--database') databases.push(argv[++i] ?? '');
      else if (argv[i].startsWith('--database=')) databases.push(argv[i].slice('--database='.length));
      else throw new DrillError(`Unknown option ${argv[i]}; usage: drill [--database NAME]...`);
    }
    await runDrill(drillOptionsFromEnv(env, databases.length > 0 ? databases : undefined));
    return 0;
  } catch (err) {
    console.error(JSON.stringify({ level: 'ERROR', msg: 'drill failed', error: `${(err as Error).name}: ${(err as Error).message}` }));
    return 1;
  }
}
