/**
 * External DB dump benchmark (`npx projen bench:dump`): the handler against the bare tools, like with like,
 * on PostgreSQL databases of ~100 MB and ~1 GB (generated once, reused: bench_100mb, bench_1gb).
 *
 * Compared, per database, in alternating order (bare zstd, handler zstd, bare gzip, handler gzip, ...),
 * BENCH_REPEATS times (default 3), reporting the median and the spread (min–max) of each:
 *   - `pg_dump -Fc -Z0 | zstd -T0 -3` (bare)  vs  the handler with COMPRESSION=zstd (the default);
 *   - `pg_dump -Fc` (bare, built-in gzip)     vs  the handler with COMPRESSION=gzip;
 *   - `pg_dump -Fd -j 2` (directory format, two jobs) vs `pg_dump -Fd -j 1`, for the parallel-dump question.
 * Every clock starts at the same point: just before the bench spawns the child process (a bash running the
 * bare pipeline, or a Node process running the handler bundle: Node's start-up, the bundle's load, the
 * connection probe, the dump, the upload to the local S3 server and the manifest are all inside), and
 * stops when that child has exited.
 *
 * Memory: `treeMaxRssMiB` is the peak, over samples every 50 ms, of the summed RSS (/proc/PID/statm) of
 * the child and all its descendants (handler: node + pg_dump + zstd + the short psql probe; bare: bash +
 * pg_dump + zstd + wc). RSS counts shared library pages once per process, so the sum slightly
 * overstates the tree; a spike shorter than 50 ms can be missed. `maxRssMiB` is the handler process alone
 * (getrusage). The database server's own memory is not part of the job and not counted.
 * CPU: the handler child's CPU seconds and the local S3 server's (on these 2 shared cores the S3 server
 * competes with pg_dump and zstd; on AWS it does not). The child runs with the image's glibc malloc
 * settings (the `ENV MALLOC_*` lines of src/external-db/docker/Dockerfile).
 *
 * Needs the servers of .ci/services.sh (`source .ci/services.sh`). Env: BENCH_REPEATS (default 3),
 * BENCH_SIZES (default "100,1000" MB), BENCH_PARALLEL=0 to skip the directory-format runs,
 * BENCH_HANDLER_ENV (JSON: extra environment for the handler child, e.g. '{"UPLOAD_QUEUE_SIZE":"4"}'),
 * BENCH_S3=sink (upload over HTTPS to bench/s3-sink.ts, which counts the bytes and keeps nothing, instead
 * of the local S3 server over HTTP: what remains is the handler's own cost, with TLS and S3's request
 * signing as against S3; the results say which was used),
 * BENCH_COMPRESSIONS (default "zstd,gzip"), BENCH_CHILD (a copy of assets/external-db-dump/index.js built
 * earlier, to compare versions of the handler; default: the asset as it ships, minified).
 * Results: bench/.out/dump-results.json.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

const ROOT = path.join(__dirname, '..');
const OUT = path.join(__dirname, '.out');
const MiB = 1024 * 1024;

interface Env {
  pgHost: string;
  pgPort: number;
  pgUser: string;
  pgPassword: string;
  pgMajor: number;
  s3Endpoint: string;
  s3Bucket: string;
  /** The S3 endpoint's certificate, when it is HTTPS with a self-signed one (the sink). */
  s3CaFile?: string;
}

function loadEnv(): Env {
  const need = ['BDR_PG_HOST', 'BDR_PG_PORT', 'BDR_PG_USER', 'BDR_PG_PASSWORD', 'BDR_S3_ENDPOINT', 'BDR_S3_BUCKET'];
  const missing = need.filter((k) => !process.env[k]);
  if (missing.length > 0) {
    console.error(`bench:dump needs the local servers (${missing.join(', ')} unset): run \`source .ci/services.sh\` first`);
    process.exit(1);
  }
  const e = process.env;
  return {
    pgHost: e.BDR_PG_HOST!,
    pgPort: Number(e.BDR_PG_PORT),
    pgUser: e.BDR_PG_USER!,
    pgPassword: e.BDR_PG_PASSWORD!,
    pgMajor: Number(e.BDR_PG_MAJOR ?? '0'),
    s3Endpoint: e.BDR_S3_ENDPOINT!,
    s3Bucket: e.BDR_S3_BUCKET!,
  };
}

function pgEnv(env: Env, db: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: env.pgHost,
    PGPORT: String(env.pgPort),
    PGUSER: env.pgUser,
    PGPASSWORD: env.pgPassword,
    PGDATABASE: db,
    PGSSLMODE: 'require',
  };
}

function psql(env: Env, db: string, sql: string): string {
  const r = spawnSync('psql', ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: pgEnv(env, db), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Creates (or reuses) a database of about `targetMB` on disk, with mixed, realistically compressible rows. */
function ensureDatabase(env: Env, db: string, targetMB: number): number {
  const exists = psql(env, 'postgres', `SELECT count(*) FROM pg_database WHERE datname = '${db}'`) === '1';
  if (exists) {
    const size = Number(psql(env, db, 'SELECT pg_database_size(current_database())'));
    if (size >= targetMB * MiB * 0.8) {
      console.log(`reusing ${db}: ${(size / MiB).toFixed(0)} MiB`);
      return size;
    }
    psql(env, 'postgres', `DROP DATABASE "${db}" WITH (FORCE)`);
  }
  console.log(`generating ${db} (~${targetMB} MiB)...`);
  psql(env, 'postgres', `CREATE DATABASE "${db}"`);
  psql(env, db, `CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, amount numeric(12,2),
    note text, payload jsonb, created_at timestamptz NOT NULL)`);
  psql(env, db, 'CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, country text, created_at timestamptz NOT NULL)');
  psql(env, db, `INSERT INTO customers SELECT i, 'Customer ' || i, 'c' || i || '@example.com', (ARRAY['DE','FR','ES','IT','SE','US'])[1 + i % 6],
    timestamptz '2020-01-01' + i * interval '1 minute' FROM generate_series(1, 100000) i`);
  const batch = 500_000;
  let next = 1;
  let size = 0;
  while (size < targetMB * MiB) {
    psql(env, db, `INSERT INTO orders SELECT i, i % 100000 + 1, (ARRAY['new','paid','shipped','cancelled'])[1 + i % 4],
      CASE WHEN i % 17 = 0 THEN NULL ELSE ((i::bigint * 7919) % 1000000) / 100.0 END,
      'order ' || i || ' ' || md5(i::text) || CASE WHEN i % 3 = 0 THEN ' gift wrap, deliver after 5pm' ELSE '' END,
      jsonb_build_object('sku', 'SKU-' || (i % 5000), 'qty', 1 + i % 7, 'channel', (ARRAY['web','app','store'])[1 + i % 3],
        'discount', (i % 4) * 5),
      timestamptz '2024-01-01' + i * interval '7 seconds'
      FROM generate_series(${next}, ${next + batch - 1}) i`);
    next += batch;
    size = Number(psql(env, db, 'SELECT pg_database_size(current_database())'));
    process.stdout.write(`  ${(size / MiB).toFixed(0)} MiB\r`);
  }
  psql(env, db, 'CREATE INDEX orders_customer ON orders (customer_id)');
  psql(env, db, 'VACUUM ANALYZE');
  size = Number(psql(env, db, 'SELECT pg_database_size(current_database())'));
  console.log(`  ${db}: ${(size / MiB).toFixed(0)} MiB, ${next - 1} orders`);
  return size;
}

// ---------------------------------------------------------------------------------------------------
// Measuring a child process tree
// ---------------------------------------------------------------------------------------------------

const PAGE = 4096;

/** pid → ppid for every process. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      table.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

/** Summed resident set of `root` and its descendants, in bytes. */
function treeRssBytes(root: number): number {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
    } catch {
      // exited meanwhile
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** CPU seconds used so far by the process listening on `port` (the local S3 server), if it can be found. */
function listenerCpuSeconds(port: number): number | undefined {
  const ss = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const pid = /pid=(\d+)/.exec(ss.stdout ?? '')?.[1];
  if (!pid) return undefined;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

interface Run {
  /** From just before spawn to the child's exit. */
  readonly seconds: number;
  readonly treeMaxRssMiB: number;
  readonly stdout: string;
  readonly s3ServerCpuSeconds?: number;
}

async function measure(command: string, args: string[], env: NodeJS.ProcessEnv, s3Port: number): Promise<Run> {
  const s3Before = listenerCpuSeconds(s3Port);
  const t0 = process.hrtime.bigint();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let peak = 0;
  const sample = () => { if (child.pid) peak = Math.max(peak, treeRssBytes(child.pid)); };
  const timer = setInterval(sample, 50);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  const s3After = listenerCpuSeconds(s3Port);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stdout.slice(0, 2000)}`);
  return {
    seconds,
    treeMaxRssMiB: peak / MiB,
    stdout,
    s3ServerCpuSeconds: s3Before !== undefined && s3After !== undefined ? s3After - s3Before : undefined,
  };
}

// ---------------------------------------------------------------------------------------------------
// The bare pipelines and the handler
// ---------------------------------------------------------------------------------------------------

interface BareRun { seconds: number; bytes: number; treeMaxRssMiB: number }

async function bare(env: Env, db: string, pipeline: string, s3Port: number): Promise<BareRun> {
  const r = await measure('bash', ['-o', 'pipefail', '-c', pipeline], pgEnv(env, db), s3Port);
  return { seconds: r.seconds, bytes: Number(r.stdout.trim() || '0'), treeMaxRssMiB: r.treeMaxRssMiB };
}

/** The shipped handler bundle (`npx projen bundle`; `npm run bench:dump` builds it first). */
const ASSET = path.join(ROOT, 'assets', 'external-db-dump', 'index.js');

/**
 * Writes the child that runs runBackup from a handler bundle: by default the Lambda asset itself
 * (assets/external-db-dump/index.js, minified, as it ships), so the bench measures the bytes that deploy.
 * Only the Secrets Manager call is replaced, by the secret in BENCH_SECRET (no AWS here).
 */
function writeChild(bundle: string): string {
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} does not exist: run \`npx projen bundle\` first`);
  if (bundle === ASSET) {
    const handlerDir = path.join(ROOT, 'src', 'external-db', 'handler');
    const newest = Math.max(...fs.readdirSync(handlerDir).filter((f) => f.endsWith('.ts')).map((f) => fs.statSync(path.join(handlerDir, f)).mtimeMs));
    if (newest > fs.statSync(ASSET).mtimeMs) throw new Error(`${ASSET} is older than ${handlerDir}: run \`npx projen bundle\` first`);
  }
  fs.mkdirSync(OUT, { recursive: true });
  const outfile = path.join(OUT, 'dump-child.js');
  fs.writeFileSync(outfile, `
    const { runBackup, configFromEnv } = require(${JSON.stringify(bundle)});
    const secret = JSON.parse(process.env.BENCH_SECRET);
    runBackup(configFromEnv(process.env), { fetchSecret: async () => secret, log: () => undefined })
      .then((r) => {
        const ru = process.resourceUsage();
        process.stdout.write(JSON.stringify({ ok: true, bytes: r.results[0].bytes, maxRssKiB: ru.maxRSS, cpuSeconds: (ru.userCPUTime + ru.systemCPUTime) / 1e6 }));
      }, (e) => { process.stdout.write(JSON.stringify({ ok: false, error: String(e.message) })); process.exitCode = 1; });
  `);
  return outfile;
}

/** The glibc malloc settings the image sets (`ENV MALLOC_...=` in src/external-db/docker/Dockerfile), for the child. */
function imageMallocEnv(): Record<string, string> {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'src', 'external-db', 'docker', 'Dockerfile'), 'utf8');
  return Object.fromEntries([...dockerfile.matchAll(/^ENV (MALLOC_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

interface HandlerRun extends BareRun { maxRssMiB: number; cpuSeconds: number; s3ServerCpuSeconds?: number }

async function handlerRun(env: Env, child: string, db: string, compression: string, prefix: string, s3Port: number): Promise<HandlerRun> {
  const extra = JSON.parse(process.env.BENCH_HANDLER_ENV || '{}') as Record<string, string>;
  const r = await measure(process.execPath, [child], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SECRET_ARN: 'bench',
    ENGINE: 'postgres',
    ...(env.pgMajor ? { ENGINE_MAJOR: String(env.pgMajor) } : {}),
    DATABASES: db,
    BUCKET: env.s3Bucket,
    PREFIX: prefix,
    TLS_MODE: 'require',
    COMPRESSION: compression,
    ENVIRONMENT: 'Dev',
    METRICS_NAMESPACE: 'Bench',
    SAFETY_MARGIN_MS: '0',
    S3_ENDPOINT: env.s3Endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    BENCH_SECRET: JSON.stringify({ host: env.pgHost, port: env.pgPort, username: env.pgUser, password: env.pgPassword, dbname: db }),
    AWS_ACCESS_KEY_ID: process.env.BDR_S3_ACCESS_KEY_ID ?? 'S3RVER',
    AWS_SECRET_ACCESS_KEY: process.env.BDR_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
    AWS_REGION: 'us-east-1',
    NODE_NO_WARNINGS: '1',
    ...imageMallocEnv(),
    ...(env.s3CaFile ? { NODE_EXTRA_CA_CERTS: env.s3CaFile } : {}),
    ...extra,
  }, s3Port);
  const out = JSON.parse(r.stdout) as { ok: boolean; bytes: number; maxRssKiB: number; cpuSeconds: number; error?: string };
  if (!out.ok) throw new Error(`handler failed: ${out.error}`);
  return {
    seconds: r.seconds,
    bytes: out.bytes,
    treeMaxRssMiB: r.treeMaxRssMiB,
    maxRssMiB: out.maxRssKiB / 1024,
    cpuSeconds: out.cpuSeconds,
    s3ServerCpuSeconds: r.s3ServerCpuSeconds,
  };
}

async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  for (;;) {
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (list.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
}

// ---------------------------------------------------------------------------------------------------
// Statistics and output
// ---------------------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n: number, d = 2) => n.toFixed(d);
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

/** Median, min, max and the spread as ±% of the median (half the range). */
function stats(xs: number[]): { median: number; min: number; max: number; spreadPct: number; runs: number[] } {
  const med = median(xs);
  return {
    median: round(med),
    min: round(Math.min(...xs)),
    max: round(Math.max(...xs)),
    spreadPct: round((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / med, 1),
    runs: xs.map((x) => round(x)),
  };
}

function summarize<T extends BareRun>(runs: T[]) {
  return {
    seconds: median(runs.map((r) => r.seconds)),
    secondsStats: stats(runs.map((r) => r.seconds)),
    MiB: round(median(runs.map((r) => r.bytes)) / MiB, 1),
    treeMaxRssMiB: round(Math.max(...runs.map((r) => r.treeMaxRssMiB)), 1),
  };
}

/**
 * Starts bench/s3-sink.ts in its own process (its CPU is measured like the S3 server's), over HTTPS with a
 * self-signed certificate made here (openssl), as S3 is: the handler pays for TLS and signs as against S3.
 */
async function startSink(): Promise<{ endpoint: string; caFile: string; stop: () => void }> {
  const dir = path.join(OUT, 'sink-tls');
  fs.mkdirSync(dir, { recursive: true });
  const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (cert.status !== 0) throw new Error(`openssl req failed: ${cert.stderr}`);
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 's3-sink.ts'), '--port', '0',
    '--key', keyFile, '--cert', certFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`s3-sink exited with ${code}`)));
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
  });
  child.unref();
  process.on('exit', () => child.kill());
  return { endpoint: `https://127.0.0.1:${port}`, caFile: certFile, stop: () => child.kill() };
}

async function main(): Promise<void> {
  const env = loadEnv();
  const sink = process.env.BENCH_S3 === 'sink' ? await startSink() : undefined;
  if (sink) Object.assign(env, { s3Endpoint: sink.endpoint, s3CaFile: sink.caFile });
  const repeats = Number(process.env.BENCH_REPEATS ?? '3');
  const sizes = (process.env.BENCH_SIZES ?? '100,1000').split(',').map(Number);
  const parallel = process.env.BENCH_PARALLEL !== '0';
  const s3Port = Number(new URL(env.s3Endpoint).port);
  const s3 = new S3Client({
    endpoint: env.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: process.env.BDR_S3_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: process.env.BDR_S3_SECRET_ACCESS_KEY ?? 'S3RVER' },
    ...(env.s3CaFile ? { requestHandler: { httpsAgent: new https.Agent({ ca: fs.readFileSync(env.s3CaFile) }) } } : {}),
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: env.s3Bucket }));
  } catch {
    // exists
  }
  const child = writeChild(process.env.BENCH_CHILD ? path.resolve(process.env.BENCH_CHILD) : ASSET);
  const compressions = (process.env.BENCH_COMPRESSIONS ?? 'zstd,gzip').split(',') as Array<'zstd' | 'gzip'>;
  const prefix = `bench-dump-${Date.now()}/`;
  const results: Array<Record<string, unknown>> = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dump-'));

  for (const mb of sizes) {
    const db = mb >= 1000 ? `bench_${mb / 1000}gb` : `bench_${mb}mb`;
    const dbBytes = ensureDatabase(env, db, mb);
    console.log(`\n== ${db} (${fmt(dbBytes / MiB, 0)} MiB on disk), ${repeats} alternating runs, median (min–max) ==`);
    const runs = {
      bareZstd: [] as BareRun[],
      bareGzip: [] as BareRun[],
      zstd: [] as HandlerRun[],
      gzip: [] as HandlerRun[],
      dir1: [] as BareRun[],
      dir2: [] as BareRun[],
    };
    for (let i = 0; i < repeats; i++) {
      if (compressions.includes('zstd')) {
        runs.bareZstd.push(await bare(env, db, 'pg_dump -Fc -Z0 | zstd -T0 -3 -q -c | wc -c', s3Port));
        runs.zstd.push(await handlerRun(env, child, db, 'zstd', `${prefix}${db}/zstd/`, s3Port));
        await deletePrefix(s3, env.s3Bucket, prefix);
      }
      if (compressions.includes('gzip')) {
        runs.bareGzip.push(await bare(env, db, 'pg_dump -Fc | wc -c', s3Port));
        runs.gzip.push(await handlerRun(env, child, db, 'gzip', `${prefix}${db}/gzip/`, s3Port));
        await deletePrefix(s3, env.s3Bucket, prefix);
      }
      if (parallel) {
        // Directory format to local disk, compressed per file with zstd afterwards (pg_dump 15 has no zstd).
        for (const [jobs, list] of [[1, runs.dir1], [2, runs.dir2]] as const) {
          const dir = path.join(scratch, `j${jobs}`);
          fs.rmSync(dir, { recursive: true, force: true });
          list.push(await bare(env, db, `pg_dump -Fd -Z0 -j ${jobs} -f ${dir} && zstd -T0 -3 -q --rm ${dir}/*.dat && cat ${dir}/* | wc -c`, s3Port));
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      process.stdout.write(`  run ${i + 1}/${repeats} done\r`);
    }
    const bareOf = { zstd: runs.bareZstd, gzip: runs.bareGzip };
    const measured = compressions.filter((c) => runs[c].length > 0);
    const row = {
      database: db,
      dbMiB: Math.round(dbBytes / MiB),
      runs: repeats,
      bare: {
        ...(runs.bareZstd.length > 0 ? { 'pg_dump -Fc -Z0 | zstd -T0 -3': summarize(runs.bareZstd) } : {}),
        ...(runs.bareGzip.length > 0 ? { 'pg_dump -Fc (gzip)': summarize(runs.bareGzip) } : {}),
        ...(parallel ? {
          'pg_dump -Fd -j 1, then zstd -T0 -3 per file': summarize(runs.dir1),
          'pg_dump -Fd -j 2, then zstd -T0 -3 per file': summarize(runs.dir2),
        } : {}),
      },
      handler: Object.fromEntries(measured.map((c) => [c, {
        ...summarize(runs[c]),
        maxRssMiB: round(Math.max(...runs[c].map((r) => r.maxRssMiB)), 1),
        cpuSeconds: round(median(runs[c].map((r) => r.cpuSeconds))),
        s3ServerCpuSeconds: runs[c].every((r) => r.s3ServerCpuSeconds !== undefined)
          ? round(median(runs[c].map((r) => r.s3ServerCpuSeconds!))) : undefined,
      }])),
      throughputVsSamePipeline: Object.fromEntries(measured.map((c) =>
        [c, round(median(bareOf[c].map((r) => r.seconds)) / median(runs[c].map((r) => r.seconds)))])),
      /** Per run i (bare and handler ran back to back): bare_i / handler_i, to show the pairwise spread. */
      pairedRatios: Object.fromEntries(measured.map((c) => [c, runs[c].map((h, i) => round(bareOf[c][i].seconds / h.seconds))])),
    };
    results.push(row);
    const line = (name: string, r: ReturnType<typeof summarize>) =>
      console.log(`  ${name.padEnd(46)} ${fmt(r.secondsStats.median)} s (${fmt(r.secondsStats.min)}–${fmt(r.secondsStats.max)}, ` +
        `±${fmt(r.secondsStats.spreadPct, 0)}%)  ${fmt(r.MiB, 1)} MiB  tree peak RSS ${fmt(r.treeMaxRssMiB, 0)} MiB`);
    for (const [k, v] of Object.entries(row.bare)) line(`bare ${k}`, v);
    for (const [k, v] of Object.entries(row.handler)) {
      line(`handler COMPRESSION=${k}`, v);
      console.log(`  ${''.padEnd(46)} handler process peak ${fmt(v.maxRssMiB, 0)} MiB, CPU: handler ${fmt(v.cpuSeconds)} s, ` +
        `${sink ? 'S3 sink' : 'S3 server'} ${v.s3ServerCpuSeconds === undefined ? '?' : fmt(v.s3ServerCpuSeconds)} s`);
    }
    for (const c of measured) {
      console.log(`  throughput vs the same bare pipeline, ${c}: ${fmt(row.throughputVsSamePipeline[c])}x median/median` +
        `${c === 'zstd' ? ' (target >= 0.9x)' : ''}; per run ${row.pairedRatios[c].map((x) => fmt(x)).join(', ')}`);
    }
  }

  if (results.length >= 2 && compressions.includes('zstd')) {
    const tree = results.map((r) => (r.handler as Record<string, { treeMaxRssMiB: number }>).zstd.treeMaxRssMiB);
    console.log(`\nwhole-job peak RSS (handler, zstd): ${tree.map((r) => `${fmt(r, 0)} MiB`).join(' → ')}; ` +
      `ratio ${fmt(Math.max(...tree) / Math.min(...tree))}x (target <= 1.2x)`);
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'dump-results.json'), JSON.stringify({
    when: new Date().toISOString(), s3: sink ? 'sink over HTTPS (bench/s3-sink.ts: counts the bytes, keeps nothing)' : 's3rver', repeats, cpus: os.cpus().length, loadAverage: os.loadavg(), handlerEnv: process.env.BENCH_HANDLER_ENV, handlerBundle: process.env.BENCH_CHILD ?? ASSET, results,
  }, null, 2));
  console.log(`\nresults: ${path.relative(ROOT, path.join(OUT, 'dump-results.json'))}`);
  s3.destroy();
  sink?.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
