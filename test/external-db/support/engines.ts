/**
 * One adapter per database engine, so the round-trip and fault suites are written once and run for
 * PostgreSQL and MariaDB alike (`describe.each(engineAdapters(svc))`). An adapter knows how to seed,
 * fingerprint and drop a database, how its dump session looks on the server (to kill it), and what the
 * handler's configuration and secret for it are.
 */
import {
  myDropDatabase, myFingerprint, myRecreateDatabase, MY_SEED, mySeedBigTable, mySql,
  pgDropDatabase, pgFingerprint, pgRecreateDatabase, PG_SEED, pgSeedBigTable, pgSql,
} from './db';
import type { Services } from './services';
import { shQuote } from './tool-shims';
import type { BackupConfig, Compression, Engine, TlsMode } from '../../../src/external-db/handler/config';
import type { RestoreTarget } from '../../../src/external-db/handler/restore';

export interface EngineAdapter {
  /** Title in test names. */
  readonly name: string;
  readonly engine: Engine;
  /** The dump tool the handler spawns. */
  readonly dumpTool: string;
  /** TLS mode the local server supports (PostgreSQL has TLS, the local MariaDB has none). */
  readonly tlsMode: TlsMode;
  readonly major: number;
  /** `format` in the manifest. */
  readonly format: string;
  /** Object key ending per compression. */
  readonly extension: (c: Compression) => RegExp;
  /** Compressions the handler offers for the engine and the round trip covers. */
  readonly compressions: readonly Compression[];
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** What a wrong password looks like in the error. */
  readonly wrongPasswordError: RegExp;
  /** What a killed dump session looks like in the error. */
  readonly killedSessionError: RegExp;
  secret(database: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  config(secretArn: string, prefix: string, overrides?: Partial<BackupConfig>): BackupConfig;
  target(database: string): RestoreTarget;
  recreate(database: string): Promise<void>;
  drop(database: string): Promise<void>;
  exists(database: string): Promise<boolean>;
  /** Tables of several types, unicode, NULLs, binary data, views, routines (db.ts *_SEED). */
  seed(database: string): Promise<void>;
  /** A ~30 MB table: a dump held up by a stalled upload is still reading it. */
  seedBig(database: string): Promise<void>;
  fingerprint(database: string): Promise<Record<string, string>>;
  /** Id of the server session of the dump while it reads the big table, or undefined. */
  dumpSessionReadingBig(database: string): Promise<string | undefined>;
  /** Terminates that session from a second connection. */
  killSession(id: string): Promise<void>;
  /** Number of open dump sessions of the handler. */
  dumpSessions(database: string): Promise<number>;
  /** The key of a table in the manifest's `rowCounts` ("public.t" for PostgreSQL, "t" for MariaDB). */
  rowCountKey(table: string): string;
  /** A shell command running `sql` in `database`, for a tool shim (it inherits the dump tool's environment: the password). */
  shellSql(database: string, sql: string): string;
}

export function engineAdapters(svc: Services): EngineAdapter[] {
  const pg = svc.pg;
  const my = svc.mysql;
  const base = (engine: Engine, tlsMode: TlsMode, major: number, secretArn: string, prefix: string): BackupConfig => ({
    secretArn,
    engine,
    engineMajor: major,
    bucket: svc.s3.bucket,
    prefix,
    maxDatabaseSizeBytes: 1024 ** 3,
    tlsMode,
    compression: 'none',
    environment: 'QA',
    metricsNamespace: 'Test/ExternalDb',
    safetyMarginMs: 10_000,
  });
  const postgres: EngineAdapter = {
    name: 'PostgreSQL',
    engine: 'postgres',
    dumpTool: 'pg_dump',
    tlsMode: 'require',
    major: pg.major,
    format: 'pg_dump-custom',
    extension: (c) => (c === 'zstd' ? /\.pgdump\.zst$/ : /\.pgdump$/),
    // 'none' restores in the fault suite (its recovered faults back up uncompressed).
    compressions: ['zstd', 'gzip'],
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    secret: (database, overrides = {}) => ({
      engine: 'postgres', host: pg.host, port: pg.port, username: pg.user, password: pg.password, dbname: database, ...overrides,
    }),
    config: (secretArn, prefix, overrides = {}) => ({ ...base('postgres', 'require', pg.major, secretArn, prefix), ...overrides }),
    target: (database) => ({ host: pg.host, port: pg.port, username: pg.user, password: pg.password, database, tlsMode: 'require' }),
    recreate: (database) => pgRecreateDatabase(pg, database),
    drop: (database) => pgDropDatabase(pg, database),
    exists: async (database) => (await pgSql(pg, 'postgres', `SELECT count(*) FROM pg_database WHERE datname = '${database}';`)).trim() === '1',
    seed: async (database) => { await pgSql(pg, database, PG_SEED); },
    seedBig: (database) => pgSeedBigTable(pg, database),
    fingerprint: (database) => pgFingerprint(pg, database),
    dumpSessionReadingBig: async () => (await pgSql(pg, 'postgres',
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'cdk-backup-dr' AND query LIKE 'COPY public.big %';")).trim() || undefined,
    killSession: async (id) => { await pgSql(pg, 'postgres', `SELECT pg_terminate_backend(${Number(id)});`); },
    dumpSessions: async (database) => Number((await pgSql(pg, 'postgres',
      `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cdk-backup-dr' AND datname = '${database}' AND pid <> pg_backend_pid();`)).trim()),
    rowCountKey: (table) => `public.${table}`,
    shellSql: (database, sql) => `psql -X -w -q -v ON_ERROR_STOP=1 -d ${shQuote(database)} -c ${shQuote(sql)}`,
    wrongPasswordError: /failed \[connection\]: Cannot connect: psql exited with code 2 connecting to postgres server .*password authentication failed for user "bdr_admin"/,
    // Over TLS the server's FATAL message is lost with the connection: libpq reports the EOF.
    killedSessionError: /pg_dump exited with code 1 while dumping database "[^"]+".*Dumping the contents of table "big" failed.*(terminating connection|server closed the connection|SSL SYSCALL error: EOF detected)/,
  };
  const mariadb: EngineAdapter = {
    name: 'MariaDB',
    engine: 'mariadb',
    dumpTool: 'mariadb-dump',
    tlsMode: 'disable',
    major: my.major,
    format: 'sql',
    extension: (c) => (c === 'zstd' ? /\.sql\.zst$/ : c === 'gzip' ? /\.sql\.gz$/ : /\.sql$/),
    compressions: ['zstd', 'gzip'],
    host: my.host,
    port: my.port,
    user: my.user,
    password: my.password,
    secret: (database, overrides = {}) => ({
      engine: 'mariadb', host: my.host, port: my.port, username: my.user, password: my.password, dbname: database, ...overrides,
    }),
    config: (secretArn, prefix, overrides = {}) => ({ ...base('mariadb', 'disable', my.major, secretArn, prefix), ...overrides }),
    target: (database) => ({ host: my.host, port: my.port, username: my.user, password: my.password, database, tlsMode: 'disable' }),
    recreate: (database) => myRecreateDatabase(my, database),
    drop: (database) => myDropDatabase(my, database),
    exists: async (database) => (await mySql(my, undefined,
      `SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${database}';`)).trim() === '1',
    seed: async (database) => { await mySql(my, database, MY_SEED); },
    seedBig: (database) => mySeedBigTable(my, database),
    fingerprint: (database) => myFingerprint(my, database),
    dumpSessionReadingBig: async (database) => (await mySql(my, undefined,
      `SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '${database}' AND INFO LIKE 'SELECT /*!40001 SQL_NO_CACHE */ %big%';`)).trim() || undefined,
    killSession: async (id) => { await mySql(my, undefined, `KILL ${Number(id)};`); },
    dumpSessions: async (database) => Number((await mySql(my, undefined,
      `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '${database}' AND ID <> CONNECTION_ID();`)).trim()),
    rowCountKey: (table) => table,
    shellSql: (database, sql) => `mariadb --no-defaults --host=${my.host} --port=${my.port} --user=${my.user} --protocol=TCP --skip-ssl ` +
      `--database=${shQuote(database)} -e ${shQuote(sql)}`,
    wrongPasswordError: /failed \[connection\]: .*Access denied for user 'bdr_admin'/,
    killedSessionError: /mariadb-dump exited with code \d+ while dumping database "[^"]+".*(Lost connection|2013|server has gone away|Error 1927|Connection was killed)/,
  };
  return [postgres, mariadb];
}
