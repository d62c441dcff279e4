/**
 * SQL through the real command-line clients (psql, mariadb): seeding, per-table checksums, killing a
 * backend from a second connection.
 */
import { spawn } from 'child_process';
import type { MysqlService, PgService } from './services';

export async function runCli(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${command} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------------

export function pgSql(pg: PgService, database: string, sql: string): Promise<string> {
  return runCli('psql', ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
    PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password, PGDATABASE: database, PGSSLMODE: 'prefer',
  }, sql);
}

export async function pgRecreateDatabase(pg: PgService, database: string): Promise<void> {
  await pgSql(pg, 'postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE);`);
  await pgSql(pg, 'postgres', `CREATE DATABASE "${database}";`);
}

export async function pgDropDatabase(pg: PgService, database: string): Promise<void> {
  await pgSql(pg, 'postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE);`);
}

/** Several tables: unicode, NULLs, quotes/control characters, bytea incl. all 256 byte values, 120k rows. */
export const PG_SEED = String.raw`
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text, city text, note text,
  created_at timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z');
INSERT INTO customers (name, email, city, note) VALUES
  ('Zoë Ångström', 'zoe@example.com', 'Malmö', NULL),
  ('山田太郎', NULL, '東京', '漢字 and emoji 🎉🚀'),
  ('Οδυσσέας', 'odysseus@example.gr', NULL, 'Ελληνικά'),
  ('O''Brien "quoted" \backslash', 'ob@example.ie', 'Dublin', E'tab\there\nnewline\r\n'),
  ('Null Everything', NULL, NULL, NULL),
  ('', '', '', '');
CREATE TABLE blobs (id int PRIMARY KEY, data bytea, label text);
INSERT INTO blobs SELECT i, decode(md5(i::text) || md5((i * 7)::text), 'hex'),
  CASE WHEN i % 3 = 0 THEN NULL ELSE 'blob-' || i || '-ü' END FROM generate_series(1, 2000) i;
INSERT INTO blobs VALUES
  (0, (SELECT string_agg(set_byte('\x00'::bytea, 0, b), ''::bytea ORDER BY b) FROM generate_series(0, 255) b), 'all 256 byte values'),
  (-1, NULL, 'null blob'),
  (-2, ''::bytea, 'empty blob');
CREATE TABLE events (id bigint PRIMARY KEY, account_id int NOT NULL, kind text NOT NULL, amount numeric(12,2),
  payload jsonb, tags text[], happened_at timestamptz NOT NULL);
INSERT INTO events SELECT i, i % 997, (ARRAY['login','purchase','refund','logout'])[1 + i % 4],
  CASE WHEN i % 10 = 0 THEN NULL ELSE round((i % 100000) / 7.0, 2) END,
  CASE WHEN i % 13 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'ü', 'ß', 'nested', jsonb_build_array(i, NULL, true)) END,
  ARRAY['t' || (i % 5), NULL], timestamptz '2024-01-01' + i * interval '1 second'
  FROM generate_series(1, 120000) i;
CREATE INDEX events_account ON events (account_id);
CREATE VIEW purchase_totals AS SELECT account_id, sum(amount) AS total FROM events WHERE kind = 'purchase' GROUP BY account_id;
CREATE FUNCTION add_one(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
CREATE SEQUENCE invoice_seq START 1000;
SELECT nextval('invoice_seq');
SELECT nextval('invoice_seq');
`;

export const PG_TABLES = ['customers', 'blobs', 'events'];

/** `count:md5` of every row's text form, per table, plus a few schema objects. */
export async function pgFingerprint(pg: PgService, database: string): Promise<Record<string, string>> {
  const parts = PG_TABLES.map((t) =>
    `SELECT '${t}', count(*) || ':' || md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM ${t} x`);
  parts.push("SELECT 'view', count(*) || ':' || coalesce(sum(total), 0) FROM purchase_totals");
  parts.push("SELECT 'function', add_one(41)::text");
  parts.push("SELECT 'sequence', last_value::text FROM invoice_seq");
  const out = await pgSql(pg, database, `${parts.join(' UNION ALL ')};`);
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('|') as [string, string]));
}

/** A table big enough that a dump blocked by a stalled upload is still reading it (~30 MB). */
export async function pgSeedBigTable(pg: PgService, database: string, rows = 400_000): Promise<void> {
  await pgSql(pg, database, `CREATE TABLE big AS SELECT i AS id, md5(i::text) || md5((i + 1)::text) AS payload FROM generate_series(1, ${rows}) i;`);
}

// ---------------------------------------------------------------------------------------------------
// MariaDB
// ---------------------------------------------------------------------------------------------------

export function mySql(my: MysqlService, database: string | undefined, sql: string): Promise<string> {
  return runCli('mariadb', [
    '--no-defaults', `--host=${my.host}`, `--port=${my.port}`, `--user=${my.user}`, '--protocol=TCP', '--skip-ssl',
    '--batch', '--skip-column-names', '--default-character-set=utf8mb4', ...(database ? [`--database=${database}`] : []),
  ], { MYSQL_PWD: my.password }, sql);
}

export async function myRecreateDatabase(my: MysqlService, database: string): Promise<void> {
  await mySql(my, undefined, `DROP DATABASE IF EXISTS \`${database}\`; CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`);
}

export async function myDropDatabase(my: MysqlService, database: string): Promise<void> {
  await mySql(my, undefined, `DROP DATABASE IF EXISTS \`${database}\`;`);
}

export const MY_SEED = String.raw`
CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL, email VARCHAR(200) NULL,
  city VARCHAR(100) NULL, note TEXT NULL) CHARACTER SET utf8mb4;
INSERT INTO customers (name, email, city, note) VALUES
  ('Zoë Ångström', 'zoe@example.com', 'Malmö', NULL),
  ('山田太郎', NULL, '東京', '漢字 and emoji 🎉🚀'),
  ('Οδυσσέας', 'odysseus@example.gr', NULL, 'Ελληνικά'),
  ('O\'Brien "quoted" \\backslash', 'ob@example.ie', 'Dublin', 'tab\there\nnewline\r\n'),
  ('Null Everything', NULL, NULL, NULL),
  ('', '', '', '');
CREATE TABLE blobs (id INT PRIMARY KEY, data LONGBLOB NULL, label VARCHAR(100) NULL) CHARACTER SET utf8mb4;
INSERT INTO blobs SELECT seq, UNHEX(CONCAT(MD5(seq), MD5(seq * 7))), IF(seq % 3 = 0, NULL, CONCAT('blob-', seq, '-ü')) FROM seq_1_to_2000;
INSERT INTO blobs VALUES
  (0, (SELECT GROUP_CONCAT(CHAR(seq USING binary) ORDER BY seq SEPARATOR '') FROM seq_0_to_255), 'all 256 byte values'),
  (-1, NULL, 'null blob'),
  (-2, '', 'empty blob');
CREATE TABLE events (id BIGINT PRIMARY KEY, account_id INT NOT NULL, kind VARCHAR(20) NOT NULL, amount DECIMAL(12,2) NULL,
  payload JSON NULL, happened_at DATETIME(3) NOT NULL, KEY events_account (account_id)) CHARACTER SET utf8mb4;
INSERT INTO events SELECT seq, seq % 997, ELT(1 + seq % 4, 'login', 'purchase', 'refund', 'logout'),
  IF(seq % 10 = 0, NULL, ROUND((seq % 100000) / 7, 2)),
  IF(seq % 13 = 0, NULL, JSON_OBJECT('i', seq, 'ü', 'ß', 'nested', JSON_ARRAY(seq, NULL, TRUE))),
  TIMESTAMP('2024-01-01') + INTERVAL seq SECOND FROM seq_1_to_120000;
CREATE VIEW purchase_totals AS SELECT account_id, SUM(amount) AS total FROM events WHERE kind = 'purchase' GROUP BY account_id;
CREATE TRIGGER customers_trim BEFORE INSERT ON customers FOR EACH ROW SET NEW.name = TRIM(NEW.name);
CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
CREATE EVENT purge_negative ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM events WHERE id < 0;
`;

export const MY_TABLES = ['customers', 'blobs', 'events'];

export async function myFingerprint(my: MysqlService, database: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const t of MY_TABLES) {
    const out = await mySql(my, database, `SELECT COUNT(*) FROM \`${t}\`; CHECKSUM TABLE \`${t}\` EXTENDED;`);
    const [count, checksumLine] = out.trim().split('\n');
    result[t] = `${count}:${checksumLine.split('\t')[1]}`;
  }
  const objects = await mySql(my, database, [
    "SELECT CONCAT('view:', COUNT(*), ':', IFNULL(SUM(total), 0)) FROM purchase_totals;",
    'SELECT CONCAT(\'function:\', add_one(41));',
    `SELECT CONCAT('routines:', COUNT(*)) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${database}';`,
    `SELECT CONCAT('triggers:', COUNT(*)) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${database}';`,
    `SELECT CONCAT('scheduled_events:', COUNT(*)) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${database}';`,
  ].join('\n'));
  for (const line of objects.trim().split('\n')) {
    const i = line.indexOf(':');
    result[line.slice(0, i)] = line.slice(i + 1);
  }
  return result;
}

export async function mySeedBigTable(my: MysqlService, database: string, rows = 400_000): Promise<void> {
  await mySql(my, database, `CREATE TABLE big (id INT PRIMARY KEY, payload CHAR(64) NOT NULL) ENGINE=InnoDB;
INSERT INTO big SELECT seq, CONCAT(MD5(seq), MD5(seq + 1)) FROM seq_1_to_${rows};`);
}
