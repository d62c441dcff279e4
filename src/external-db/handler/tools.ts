/**
 * The external tools the job drives: child processes (a minimal environment that carries the password
 * only to the child that needs it, stderr tails, clean kills), redaction of secrets in everything that is
 * logged or thrown, and the per-engine command lines (connection probe, dump, restore, tool versions).
 * Passwords travel only in the child's environment (PGPASSWORD / MYSQL_PWD), never on a command line.
 */
import { ChildProcess, spawn, StdioOptions } from 'child_process';
import * as os from 'os';
import type { Compression, Engine, TlsMode } from './config';

// ---------------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------------

export const REDACTED = '***';

/**
 * Replaces every known secret, and anything that looks like a credential in a connection string or an
 * environment assignment, with `***`.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a secret value (also its URL-encoded form). Empty values are ignored. */
  public add(secret: string | undefined): this {
    if (secret) {
      this.secrets.add(secret);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) this.secrets.add(encoded);
    }
    return this;
  }

  public redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is replaced whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(s).join(REDACTED);
    }
    return redactPatterns(out);
  }
}

/** Credential-shaped substrings, whatever their value. */
export function redactPatterns(text: string): string {
  return text
    // scheme://user:password@host
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi, `$1${REDACTED}@`)
    // password=..., PGPASSWORD=..., MYSQL_PWD=..., "password": "..."
    .replace(/\b((?:PGPASSWORD|MYSQL_PWD|password|passwd|pwd)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&}]+)/gi, `$1${REDACTED}`)
    .replace(/("password"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, `$1"${REDACTED}"`);
}

/** Keeps the last `limit` bytes written to it (a tool's stderr). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit = 8 * 1024) {}

  public push(chunk: Buffer | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.limit) {
      const first = this.chunks[0];
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
      this.dropped = true;
    }
  }

  /** The kept text, trimmed; starts with '…' when older output was dropped. */
  public text(): string {
    const t = Buffer.concat(this.chunks).toString('utf8').trim();
    return this.dropped ? `…${t}` : t;
  }
}

/** The last `maxLines` non-empty lines of a text, joined with ' | ' for a one-line error message. */
export function lastLines(text: string, maxLines = 12): string {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0).slice(-maxLines).join(' | ');
}

// ---------------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------------

/** Variables of the parent environment that the tools may need; everything else (AWS credentials!) is dropped. */
const INHERITED_ENV = [
  'PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'LD_LIBRARY_PATH', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
];

/** Builds a child environment: the inherited allowlist plus `extra` (connection settings, the password). */
export function childEnv(extra: Record<string, string | undefined>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of INHERITED_ENV) if (base[k] !== undefined) env[k] = base[k];
  if (!env.HOME) env.HOME = os.tmpdir();
  if (!env.PATH) env.PATH = '/usr/local/bin:/usr/bin:/bin';
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started (ENOENT: tool not installed). */
  readonly spawnError?: Error;
}

export class ToolError extends Error {
  constructor(
    message: string,
    public readonly tool: string,
    public readonly exit: ExitInfo,
    public readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/**
 * A started tool. `exited` resolves when the process ended (or could not start), `closed` once its stdio
 * closed too (all output consumed); neither rejects.
 */
export class Tool {
  public readonly child: ChildProcess;
  public readonly stderr = new TailBuffer();
  public readonly exited: Promise<ExitInfo>;
  public readonly closed: Promise<ExitInfo>;
  public readonly stderrClosed: Promise<void>;
  public exitInfo?: ExitInfo;
  private killTimer?: NodeJS.Timeout;

  constructor(
    public readonly name: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    stdio: StdioOptions = ['pipe', 'pipe', 'pipe'],
  ) {
    this.child = spawn(command, args, { env, stdio, windowsHide: true });
    this.child.stderr?.on('data', (d: Buffer) => this.stderr.push(d));
    this.stderrClosed = new Promise<void>((resolve) => {
      if (!this.child.stderr) resolve();
      else this.child.stderr.once('close', () => resolve());
    });
    let resolveExited: (e: ExitInfo) => void = () => undefined;
    let resolveClosed: (e: ExitInfo) => void = () => undefined;
    this.exited = new Promise<ExitInfo>((r) => { resolveExited = r; });
    this.closed = new Promise<ExitInfo>((r) => { resolveClosed = r; });
    this.child.once('error', (spawnError) => {
      // A failed spawn emits no 'exit' (and not always 'close').
      if (this.child.pid === undefined) {
        this.exitInfo = { code: null, signal: null, spawnError };
        resolveExited(this.exitInfo);
        resolveClosed(this.exitInfo);
      }
    });
    this.child.once('exit', (code, signal) => {
      if (this.killTimer) clearTimeout(this.killTimer);
      this.exitInfo = { code, signal };
      resolveExited(this.exitInfo);
    });
    this.child.once('close', (code, signal) => {
      this.exitInfo = this.exitInfo ?? { code, signal };
      resolveExited(this.exitInfo);
      resolveClosed(this.exitInfo);
    });
    // A tool that exits early closes its stdin under us: EPIPE is reported through the exit status.
    this.child.stdin?.on('error', () => undefined);
  }

  public get running(): boolean {
    return this.exitInfo === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  public kill(graceMs = 2_000): void {
    if (!this.running || this.child.pid === undefined) return;
    this.child.kill('SIGTERM');
    this.killTimer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, graceMs);
    this.killTimer.unref();
  }

  /** A one-line description of how the tool ended, with the redacted tail of its stderr. */
  public describeFailure(redactor: Redactor, context: string): ToolError {
    const exit = this.exitInfo ?? { code: null, signal: null };
    const tail = redactor.redact(lastLines(this.stderr.text()));
    let how: string;
    if (exit.spawnError) {
      how = (exit.spawnError as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'could not be started: not found on PATH (is the client installed in the image?)'
        : `could not be started: ${exit.spawnError.message}`;
    } else if (exit.signal) {
      how = `was killed by ${exit.signal}`;
    } else {
      how = `exited with code ${exit.code}`;
    }
    return new ToolError(
      redactor.redact(`${this.name} ${how} ${context}${tail ? `: ${tail}` : ''}`),
      this.name, exit, tail,
    );
  }
}

export function succeeded(exit: ExitInfo): boolean {
  return exit.code === 0 && !exit.spawnError;
}

/**
 * Runs a short command to completion and returns its stdout; throws a redacted ToolError when it fails
 * or exceeds `timeoutMs`.
 */
export async function runCapture(
  name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv,
  redactor: Redactor, context: string, timeoutMs = 60_000,
): Promise<string> {
  const tool = new Tool(name, command, args, env, ['ignore', 'pipe', 'pipe']);
  const out: Buffer[] = [];
  tool.child.stdout?.on('data', (d: Buffer) => out.push(d));
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; tool.kill(500); }, Math.max(1, timeoutMs));
  const exit = await tool.closed;
  clearTimeout(timer);
  if (timedOut) {
    throw new ToolError(
      redactor.redact(`${name} did not finish within ${Math.round(timeoutMs / 1000)} s ${context}: ${lastLines(tool.stderr.text())}`),
      name, exit, tool.stderr.text(),
    );
  }
  if (!succeeded(exit)) throw tool.describeFailure(redactor, context);
  return Buffer.concat(out).toString('utf8');
}

export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly tlsMode: TlsMode;
  readonly tlsCaFile?: string;
}

export interface ServerInfo {
  /** Full version string as the server reports it. */
  readonly version: string;
  readonly major: number;
  /** Whether the probe connection was encrypted. */
  readonly tls: boolean;
  /** MySQL family: whether the server is MariaDB. */
  readonly isMariaDb?: boolean;
  /**
   * Size of the database on disk, in bytes (PostgreSQL `pg_database_size`, MySQL family: data and index
   * length of its tables), when the server reports it; sizes the upload's parts.
   */
  readonly databaseBytes?: number;
}

export interface CommandSpec {
  readonly name: string;
  readonly command: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
}

export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export class VersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VersionError';
  }
}

export const isMysqlFamily = (engine: Engine): boolean => engine === 'mysql' || engine === 'mariadb';

const CONNECT_TIMEOUT_S = 15;

// ---------------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------------

function pgEnv(conn: ConnectionSettings, database: string, base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return childEnv({
    PGHOST: conn.host,
    PGPORT: String(conn.port),
    PGUSER: conn.username,
    PGPASSWORD: conn.password,
    PGDATABASE: database,
    PGSSLMODE: conn.tlsMode,
    PGSSLROOTCERT: conn.tlsMode === 'verify-full' ? (conn.tlsCaFile ?? 'system') : undefined,
    PGCONNECT_TIMEOUT: String(CONNECT_TIMEOUT_S),
    PGAPPNAME: 'cdk-backup-dr',
  }, base);
}

/** `pg_dump (PostgreSQL) 16.4 (Debian ...)` → 16; `pg_dump (PostgreSQL) 9.6.24` → 9. */
export function parsePgToolMajor(versionLine: string): number {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(versionLine);
  if (!m) throw new VersionError(`Cannot parse PostgreSQL tool version from "${versionLine.trim()}"`);
  return Number(m[1]);
}

/** server_version_num 160004 → 16; 90624 → 9. */
export function pgMajorFromVersionNum(num: number): number {
  return Math.floor(num / 10000);
}

// ---------------------------------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------------------------------

/**
 * TLS options. MariaDB's client: `--ssl`, `--ssl-verify-server-cert`, `--skip-ssl`. MySQL 8's client:
 * `--ssl-mode` (its `--ssl`/`--skip-ssl` are deprecated, and `--ssl` alone does not refuse plain text).
 */
function mysqlTlsArgs(engine: Engine, conn: ConnectionSettings): string[] {
  const ca = conn.tlsCaFile ? [`--ssl-ca=${conn.tlsCaFile}`] : [];
  if (engine === 'mysql') {
    switch (conn.tlsMode) {
      case 'disable':
        // caching_sha2_password (MySQL 8's default) over plain text needs the server's RSA key for the password.
        return ['--ssl-mode=DISABLED', '--get-server-public-key'];
      case 'verify-full':
        return ['--ssl-mode=VERIFY_IDENTITY', ...ca];
      case 'require':
      default:
        return ['--ssl-mode=REQUIRED'];
    }
  }
  switch (conn.tlsMode) {
    case 'disable':
      return ['--skip-ssl'];
    case 'verify-full':
      return ['--ssl', '--ssl-verify-server-cert', ...ca];
    case 'require':
    default:
      // The MariaDB client falls back to plain text when the server has no TLS, even with --ssl: the
      // probe checks Ssl_cipher and refuses such a server (see probeServer).
      return ['--ssl'];
  }
}

/** Connection options; `--connect-timeout` exists for the clients only (not the dump tools). */
function mysqlConnArgs(engine: Engine, conn: ConnectionSettings, client = true): string[] {
  return [
    `--host=${conn.host}`, `--port=${conn.port}`, `--user=${conn.username}`, '--protocol=TCP',
    ...(client ? [`--connect-timeout=${CONNECT_TIMEOUT_S}`] : []), ...mysqlTlsArgs(engine, conn),
  ];
}

function mysqlEnv(conn: ConnectionSettings, base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return childEnv({ MYSQL_PWD: conn.password }, base);
}

/**
 * The binaries each engine's jobs spawn. MySQL: Oracle's MySQL 8 client (mysqldump, mysql), which speaks
 * caching_sha2_password, GTID-based servers and column statistics; MariaDB: MariaDB's client. The image
 * (src/external-db/docker/Dockerfile) installs exactly these, per ENGINE; test/external-db/unit.handler.test.ts
 * fails when the two drift apart.
 */
export const ENGINE_TOOLS: Readonly<Record<Engine, { readonly dump: string; readonly client: string; readonly restore: string }>> = {
  postgres: { dump: 'pg_dump', client: 'psql', restore: 'pg_restore' },
  mysql: { dump: 'mysqldump', client: 'mysql', restore: 'mysql' },
  mariadb: { dump: 'mariadb-dump', client: 'mariadb', restore: 'mariadb' },
};

/**
 * What the restore drill spawns to start its throw-away server (drill.ts). MySQL sources have no drill: their
 * dumps need a MySQL 8 server, which the image does not carry (the construct warns).
 */
const DRILL_TOOLS: Record<Engine, string[]> = {
  postgres: ['initdb', 'pg_ctl', 'runuser'],
  mysql: [],
  mariadb: ['mariadb-install-db', 'mariadbd'],
};

/** Every binary a job of `engine` spawns (the compressor and the drill's server included). */
export function engineTools(engine: Engine): string[] {
  const t = ENGINE_TOOLS[engine];
  return [...new Set([t.dump, t.client, t.restore, 'zstd', ...DRILL_TOOLS[engine]])].sort();
}

// ---------------------------------------------------------------------------------------------------
// Engine-neutral API
// ---------------------------------------------------------------------------------------------------

export function dumpToolName(engine: Engine): string {
  return ENGINE_TOOLS[engine].dump;
}

export async function toolVersion(engine: Engine, redactor: Redactor, base?: NodeJS.ProcessEnv): Promise<string> {
  const env = childEnv({}, base);
  const dump = ENGINE_TOOLS[engine].dump;
  const out = await runCapture(dump, dump, ['--version'], env, redactor, '(version check)');
  return out.trim();
}

export async function compressorVersion(compression: Compression, redactor: Redactor, base?: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (compression !== 'zstd') return undefined;
  const out = await runCapture('zstd', 'zstd', ['--version'], childEnv({}, base), redactor, '(version check)');
  return out.trim();
}

const sizeOrUndefined = (text: string | undefined): number | undefined => {
  const n = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/**
 * Connects once with the same settings as the dump (fails fast and clearly on a wrong password, an
 * unreachable host or missing TLS) and reads the server version.
 */
export async function probeServer(
  engine: Engine, conn: ConnectionSettings, database: string, redactor: Redactor,
  timeoutMs: number, base?: NodeJS.ProcessEnv,
): Promise<ServerInfo> {
  const where = `${engine} server ${conn.host}:${conn.port} (database "${database}", user "${conn.username}", TLS_MODE=${conn.tlsMode})`;
  let out: string;
  try {
    if (engine === 'postgres') {
      out = await runCapture('psql', 'psql', [
        '-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c',
        "select current_setting('server_version_num') || '|' || coalesce((select ssl::text from pg_stat_ssl where pid = pg_backend_pid()), 'false') || '|' || " +
        "pg_database_size(current_database()) || '|' || current_setting('server_version')",
      ], pgEnv(conn, database, base), redactor, `connecting to ${where}`, timeoutMs);
    } else {
      const client = ENGINE_TOOLS[engine].client;
      out = await runCapture(client, client, [
        '--no-defaults', ...mysqlConnArgs(engine, conn), '--batch', '--skip-column-names',
        "--execute=SELECT VERSION(); SHOW SESSION STATUS LIKE 'Ssl_cipher'; " +
        "SELECT 'size', COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE table_schema = DATABASE()",
        `--database=${database}`,
      ], mysqlEnv(conn, base), redactor, `connecting to ${where}`, timeoutMs);
    }
  } catch (err) {
    throw new ConnectionError(`Cannot connect: ${(err as Error).message}`);
  }
  if (engine === 'postgres') {
    const line = out.trim().split(/\r?\n/).pop() ?? '';
    const [num, ssl, size, ...version] = line.split('|');
    const info: ServerInfo = {
      version: version.join('|'), major: pgMajorFromVersionNum(Number(num)), tls: ssl === 'true' || ssl === 't', databaseBytes: sizeOrUndefined(size),
    };
    if (conn.tlsMode !== 'disable' && !info.tls) {
      throw new ConnectionError(`TLS required (TLS_MODE=${conn.tlsMode}) but the connection to ${where} is not encrypted`);
    }
    return info;
  }
  // Line 1: VERSION(); then "Ssl_cipher<TAB><cipher or empty>" and "size<TAB><bytes>".
  const lines = out.split(/\r?\n/);
  const version = (lines[0] ?? '').trim();
  const field = (name: string) => (lines.find((l) => l.startsWith(`${name}\t`))?.split('\t')[1] ?? '').trim();
  const cipher = field('Ssl_cipher');
  const info: ServerInfo = {
    version,
    major: Number(/^(\d+)/.exec(version)?.[1] ?? NaN),
    tls: cipher.length > 0,
    isMariaDb: /mariadb/i.test(version),
    databaseBytes: sizeOrUndefined(field('size')),
  };
  if (conn.tlsMode !== 'disable' && !info.tls) {
    throw new ConnectionError(
      `TLS required (TLS_MODE=${conn.tlsMode}) but ${where} does not offer TLS (the session has no Ssl_cipher): ` +
      'configure TLS on the server, or set TLS_MODE=disable only for a server on a trusted private network',
    );
  }
  return info;
}

/**
 * The dump command: writes the dump to stdout. PostgreSQL: custom format (`pg_restore` input);
 * zstd/none turn off pg_dump's own compression (`-Z0`), gzip keeps its built-in default; `snapshot` makes
 * pg_dump read an exported snapshot (`--snapshot`).
 */
export function dumpCommand(
  engine: Engine, conn: ConnectionSettings, database: string, compression: Compression, base?: NodeJS.ProcessEnv,
  opts: { readonly snapshot?: string } = {},
): CommandSpec {
  if (engine === 'postgres') {
    return {
      name: 'pg_dump',
      command: 'pg_dump',
      args: [
        '--format=custom', '--no-password', '--lock-wait-timeout=120000',
        ...(compression === 'gzip' ? [] : ['--compress=0']),
        // The snapshot exported by the row-count session (row-counts.ts): dump and counts see the same rows.
        ...(opts.snapshot ? [`--snapshot=${opts.snapshot}`] : []),
      ],
      env: pgEnv(conn, database, base),
    };
  }
  const dump = ENGINE_TOOLS[engine].dump;
  return {
    name: dump,
    command: dump,
    args: [
      '--no-defaults', ...mysqlConnArgs(engine, conn, false),
      '--single-transaction', '--routines', '--triggers', '--events',
      '--hex-blob', '--default-character-set=utf8mb4', '--quick', '--no-tablespaces', '--max-allowed-packet=1G',
      // MySQL 8: no `SET @@GLOBAL.GTID_PURGED` in the dump (a restore into another server, RDS included,
      // would need SUPER and fail on a GTID-enabled target), and no column-statistics queries (they fail
      // against 5.7 and MariaDB servers and are not needed for a restore).
      ...(engine === 'mysql' ? ['--set-gtid-purged=OFF', '--column-statistics=0'] : []),
      database,
    ],
    env: mysqlEnv(conn, base),
  };
}

/** A psql session reading SQL from its stdin (PostgreSQL), for the row-count snapshot session. */
export function psqlSessionCommand(conn: ConnectionSettings, database: string, base?: NodeJS.ProcessEnv): CommandSpec {
  return { name: 'psql', command: 'psql', args: ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'], env: pgEnv(conn, database, base) };
}

/** External compressor between the dump tool and the upload, if any (gzip for SQL dumps is done in-process). */
export function compressCommand(compression: Compression, base?: NodeJS.ProcessEnv): CommandSpec | undefined {
  if (compression !== 'zstd') return undefined;
  return { name: 'zstd', command: 'zstd', args: ['-T0', '-3', '-q', '-c'], env: childEnv({}, base) };
}

export function decompressCommand(compression: Compression, base?: NodeJS.ProcessEnv): CommandSpec | undefined {
  if (compression !== 'zstd') return undefined;
  return { name: 'zstd', command: 'zstd', args: ['-d', '-q', '-c'], env: childEnv({}, base) };
}

/** libpq conninfo value quoting: `'...'` with backslash-escaped quote and backslash. */
export function conninfoQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface RestoreCommandOptions {
  /** PostgreSQL: `--no-owner --no-privileges` (target without the source's roles). */
  readonly noOwner?: boolean;
}

/** The restore command: reads the (decompressed) dump on stdin. */
export function restoreCommand(
  engine: Engine, conn: ConnectionSettings, database: string, opts: RestoreCommandOptions = {}, base?: NodeJS.ProcessEnv,
): CommandSpec {
  if (engine === 'postgres') {
    return {
      name: 'pg_restore',
      command: 'pg_restore',
      args: [
        '--exit-on-error', '--single-transaction', '--no-password',
        ...(opts.noOwner ? ['--no-owner', '--no-privileges'] : []),
        `--dbname=dbname=${conninfoQuote(database)}`,
      ],
      env: pgEnv(conn, database, base),
    };
  }
  const client = ENGINE_TOOLS[engine].restore;
  return {
    name: client,
    command: client,
    args: ['--no-defaults', ...mysqlConnArgs(engine, conn), '--binary-mode', '--default-character-set=utf8mb4', `--database=${database}`],
    env: mysqlEnv(conn, base),
  };
}

export const quotePgIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteMysqlIdent = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** Creates an empty database (fails if it exists). */
export async function createDatabase(
  engine: Engine, conn: ConnectionSettings, database: string, redactor: Redactor, base?: NodeJS.ProcessEnv,
): Promise<void> {
  const where = `on ${conn.host}:${conn.port}`;
  if (engine === 'postgres') {
    await runCapture('psql', 'psql', ['-X', '-w', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${quotePgIdent(database)}`],
      pgEnv(conn, 'postgres', base), redactor, `creating database "${database}" ${where}`);
    return;
  }
  const client = ENGINE_TOOLS[engine].client;
  await runCapture(client, client, [
    '--no-defaults', ...mysqlConnArgs(engine, conn),
    `--execute=CREATE DATABASE ${quoteMysqlIdent(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  ], mysqlEnv(conn, base), redactor, `creating database "${database}" ${where}`);
}

/**
 * Refuses a dump tool older than the server (pg_dump aborts on a newer server anyway, after the upload
 * started) or older than the declared major the image was built for.
 */
export function checkVersions(
  engine: Engine, toolVersionLine: string, server: ServerInfo, declaredMajor: number | undefined,
): string[] {
  const warnings: string[] = [];
  if (engine === 'postgres') {
    const client = parsePgToolMajor(toolVersionLine);
    if (client < server.major) {
      throw new VersionError(
        `pg_dump ${client} is older than the PostgreSQL ${server.major} server (${server.version}); pg_dump refuses to dump ` +
        `a newer server. Rebuild the image with PG_MAJOR=${server.major} (declare ExternalDbEngine.postgres(${server.major}))`,
      );
    }
    if (declaredMajor !== undefined && client < declaredMajor) {
      throw new VersionError(
        `pg_dump ${client} is older than the declared ENGINE_MAJOR=${declaredMajor}: the image was built with the wrong PG_MAJOR`,
      );
    }
    if (declaredMajor !== undefined && server.major > declaredMajor) {
      warnings.push(`server is PostgreSQL ${server.major} but ENGINE_MAJOR=${declaredMajor}: update the declared engine version`);
    }
    return warnings;
  }
  if (declaredMajor !== undefined && Number.isFinite(server.major) && server.major !== declaredMajor) {
    warnings.push(`server version ${server.version} differs from ENGINE_MAJOR=${declaredMajor}`);
  }
  if (engine === 'mysql' && server.isMariaDb) warnings.push(`ENGINE=mysql but the server is MariaDB (${server.version})`);
  if (engine === 'mariadb' && server.isMariaDb === false) warnings.push(`ENGINE=mariadb but the server is MySQL (${server.version})`);
  return warnings;
}
