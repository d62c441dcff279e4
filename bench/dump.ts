/**
 * External DB dump benchmark (`npx projen bench:dump`): the handler (runBackup, bundled like the Lambda
 * asset, in a child process) against the local S3 server, compared in the same run with bare pg_dump to
 * /dev/null, on PostgreSQL databases of ~100 MB and ~1 GB.
 *
 * Prints, per database size:
 *   - throughput of the handler as a ratio to bare `pg_dump -Fc` (target >= 0.9x), and to the bare
 *     pipeline of the same compression (the cost of hashing + S3 multipart streaming alone);
 *   - the handler's peak RSS (process.resourceUsage().maxRSS of the child; target < 256 MB and flat
 *     within 1.2x from ~100 MB to ~1 GB);
 *   - the compression comparison: size and time of `pg_dump -Fc` (built-in gzip), `pg_dump -Fc -Z0 |
 *     zstd -T0 -3`, and uncompressed.
 *
 * The child runs with the image's MALLOC_MMAP_THRESHOLD_ (see the Dockerfile), so the RSS is the image's.
 * Also printed: CPU seconds of the handler process and of the local S3 server during the run (on a
 * 2-core machine the S3 server competes with pg_dump and zstd; on AWS it is not on the same CPUs).
 * Needs the servers of .ci/services.sh (`source .ci/services.sh`). Databases bench_100mb and bench_1gb
 * are generated once and reused. Env: BENCH_REPEATS (default 2, best run is kept), BENCH_SIZES
 * (default "100,1000" MB).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { buildSync } from 'esbuild';

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

interface Timed { seconds: number; bytes: number }

/** Runs a shell pipeline whose stdout is counted (`wc -c`), returns wall time and output bytes. */
function timePipeline(env: Env, db: string, pipeline: string): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `${pipeline} | wc -c`], { env: pgEnv(env, db), encoding: 'utf8', maxBuffer: MiB });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${pipeline} failed: ${r.stderr}`);
  return { seconds, bytes: Number(r.stdout.trim()) };
}

/** Bundles the child that runs runBackup the way the Lambda asset does (esbuild, one file). */
function bundleChild(): string {
  fs.mkdirSync(OUT, { recursive: true });
  const outfile = path.join(OUT, 'dump-child.js');
  buildSync({
    stdin: {
      contents: `
        import { runBackup } from './src/external-db/handler/backup';
        import { createS3Client } from './src/external-db/handler/aws';
        const cfg = JSON.parse(process.env.BENCH_CONFIG);
        const secret = JSON.parse(process.env.BENCH_SECRET);
        const t0 = process.hrtime.bigint();
        runBackup(cfg, { s3: createS3Client({ endpoint: cfg.s3Endpoint, forcePathStyle: true }), fetchSecret: async () => secret, log: () => undefined })
          .then((r) => {
            const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
            const ru = process.resourceUsage();
            process.stdout.write(JSON.stringify({ ok: true, seconds, bytes: r.results[0].bytes, maxRssKiB: ru.maxRSS, cpuSeconds: (ru.userCPUTime + ru.systemCPUTime) / 1e6 }));
          }, (e) => { process.stdout.write(JSON.stringify({ ok: false, error: String(e.message) })); process.exitCode = 1; });
      `,
      resolveDir: ROOT,
      sourcefile: 'bench-dump-child.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

interface HandlerRun { seconds: number; wallSeconds: number; bytes: number; maxRssMiB: number; cpuSeconds: number; s3ServerCpuSeconds?: number }

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

async function runHandler(env: Env, child: string, db: string, compression: string, prefix: string): Promise<HandlerRun> {
  const config = {
    secretArn: 'bench',
    engine: 'postgres',
    engineMajor: env.pgMajor || undefined,
    databases: [db],
    bucket: env.s3Bucket,
    prefix,
    maxDatabaseSizeBytes: 100 * 1024 * MiB,
    tlsMode: 'require',
    compression,
    environment: 'Dev',
    metricsNamespace: 'Bench',
    safetyMarginMs: 0,
    s3Endpoint: env.s3Endpoint,
  };
  const secret = { host: env.pgHost, port: env.pgPort, username: env.pgUser, password: env.pgPassword, dbname: db };
  const s3Port = Number(new URL(env.s3Endpoint).port);
  const s3CpuBefore = listenerCpuSeconds(s3Port);
  const t0 = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, [child], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        BENCH_CONFIG: JSON.stringify(config),
        BENCH_SECRET: JSON.stringify(secret),
        AWS_ACCESS_KEY_ID: process.env.BDR_S3_ACCESS_KEY_ID ?? 'S3RVER',
        AWS_SECRET_ACCESS_KEY: process.env.BDR_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
        AWS_REGION: 'us-east-1',
        NODE_NO_WARNINGS: '1',
        // As in the image (src/external-db/docker/Dockerfile).
        MALLOC_MMAP_THRESHOLD_: '131072',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let s = '';
    p.stdout.on('data', (d: Buffer) => { s += d.toString(); });
    p.on('error', reject);
    p.on('close', () => resolve(s));
  });
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const s3CpuAfter = listenerCpuSeconds(s3Port);
  const r = JSON.parse(out) as { ok: boolean; seconds: number; bytes: number; maxRssKiB: number; cpuSeconds: number; error?: string };
  if (!r.ok) throw new Error(`handler failed: ${r.error}`);
  return {
    seconds: r.seconds,
    wallSeconds,
    bytes: r.bytes,
    maxRssMiB: r.maxRssKiB / 1024,
    cpuSeconds: r.cpuSeconds,
    s3ServerCpuSeconds: s3CpuBefore !== undefined && s3CpuAfter !== undefined ? s3CpuAfter - s3CpuBefore : undefined,
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

const best = <T extends { seconds: number }>(runs: T[]): T => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const fmt = (n: number, d = 2) => n.toFixed(d);

async function main(): Promise<void> {
  const env = loadEnv();
  const repeats = Number(process.env.BENCH_REPEATS ?? '2');
  const sizes = (process.env.BENCH_SIZES ?? '100,1000').split(',').map(Number);
  const s3 = new S3Client({
    endpoint: env.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: process.env.BDR_S3_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: process.env.BDR_S3_SECRET_ACCESS_KEY ?? 'S3RVER' },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: env.s3Bucket }));
  } catch {
    // exists
  }
  const child = bundleChild();
  const prefix = `bench-dump-${Date.now()}/`;
  const results: Array<Record<string, unknown>> = [];

  for (const mb of sizes) {
    const db = mb >= 1000 ? `bench_${mb / 1000}gb` : `bench_${mb}mb`;
    const dbBytes = ensureDatabase(env, db, mb);
    const repeat = <T extends { seconds: number }>(f: () => T | Promise<T>) => async () => {
      const runs: T[] = [];
      for (let i = 0; i < repeats; i++) runs.push(await f());
      return best(runs);
    };
    console.log(`\n== ${db} (${fmt(dbBytes / MiB, 0)} MiB on disk), best of ${repeats} ==`);
    const bareGzip = await repeat(() => timePipeline(env, db, 'pg_dump -Fc'))();
    const bareZstd = await repeat(() => timePipeline(env, db, 'pg_dump -Fc -Z0 | zstd -T0 -3 -q -c'))();
    const bareNone = await repeat(() => timePipeline(env, db, 'pg_dump -Fc -Z0'))();
    const handler: Record<string, HandlerRun> = {};
    for (const compression of ['zstd', 'gzip']) {
      handler[compression] = await repeat(async () => {
        const r = await runHandler(env, child, db, compression, `${prefix}${db}/${compression}/`);
        await deletePrefix(s3, env.s3Bucket, prefix);
        return r;
      })();
    }
    const h = handler.zstd;
    const row = {
      database: db,
      dbMiB: Math.round(dbBytes / MiB),
      bare: {
        'pg_dump -Fc (gzip)': { seconds: bareGzip.seconds, MiB: bareGzip.bytes / MiB },
        'pg_dump -Fc -Z0 | zstd -T0 -3': { seconds: bareZstd.seconds, MiB: bareZstd.bytes / MiB },
        'pg_dump -Fc -Z0 (none)': { seconds: bareNone.seconds, MiB: bareNone.bytes / MiB },
      },
      handler: Object.fromEntries(Object.entries(handler).map(([k, v]) => [k, {
        seconds: v.seconds, MiB: v.bytes / MiB, maxRssMiB: v.maxRssMiB, cpuSeconds: v.cpuSeconds, s3ServerCpuSeconds: v.s3ServerCpuSeconds,
      }])),
      throughputVsBarePgDumpFc: bareGzip.seconds / h.seconds,
      throughputVsSamePipeline: { zstd: bareZstd.seconds / handler.zstd.seconds, gzip: bareGzip.seconds / handler.gzip.seconds },
    };
    results.push(row);
    console.log('compression (bare, to /dev/null):');
    console.log(`  pg_dump -Fc (built-in gzip)     ${fmt(bareGzip.seconds)} s  ${fmt(bareGzip.bytes / MiB, 1)} MiB`);
    console.log(`  pg_dump -Fc -Z0 | zstd -T0 -3   ${fmt(bareZstd.seconds)} s  ${fmt(bareZstd.bytes / MiB, 1)} MiB` +
      `  (${fmt(bareGzip.seconds / bareZstd.seconds)}x faster, ${fmt(100 * (1 - bareZstd.bytes / bareGzip.bytes), 1)}% smaller than -Fc)`);
    console.log(`  pg_dump -Fc -Z0 (none)          ${fmt(bareNone.seconds)} s  ${fmt(bareNone.bytes / MiB, 1)} MiB`);
    console.log('handler (runBackup → local S3 server, child process):');
    for (const [k, v] of Object.entries(handler)) {
      console.log(`  COMPRESSION=${k.padEnd(5)} ${fmt(v.seconds)} s (process ${fmt(v.wallSeconds)} s)  ${fmt(v.bytes / MiB, 1)} MiB  peak RSS ${fmt(v.maxRssMiB, 1)} MiB` +
        `  CPU: handler ${fmt(v.cpuSeconds)} s, S3 server ${v.s3ServerCpuSeconds === undefined ? '?' : fmt(v.s3ServerCpuSeconds)} s`);
    }
    console.log(`throughput: handler (zstd, default) vs bare pg_dump -Fc: ${fmt(row.throughputVsBarePgDumpFc)}x (target >= 0.9x)`);
    console.log(`            handler vs the same bare pipeline: zstd ${fmt(row.throughputVsSamePipeline.zstd)}x, gzip ${fmt(row.throughputVsSamePipeline.gzip)}x`);
  }

  if (results.length >= 2) {
    const rss = results.map((r) => (r.handler as Record<string, { maxRssMiB: number }>).zstd.maxRssMiB);
    const ratio = Math.max(...rss) / Math.min(...rss);
    console.log(`\npeak RSS (zstd): ${rss.map((r) => `${fmt(r, 1)} MiB`).join(' → ')}; ratio ${fmt(ratio)}x (target <= 1.2x, < 256 MiB)`);
  }
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'dump-results.json'), JSON.stringify({ when: new Date().toISOString(), repeats, results }, null, 2));
  console.log(`\nresults: ${path.relative(ROOT, path.join(OUT, 'dump-results.json'))}`);
  s3.destroy();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
