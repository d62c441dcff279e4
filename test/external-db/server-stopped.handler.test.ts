/**
 * The database server itself stops mid-dump (not only the dump's session): a throw-away PostgreSQL
 * instance (support/throwaway-postgres.ts) is stopped while pg_dump reads a big table, then started
 * again. The failed run leaves no manifest and nothing in the bucket, and says why; the next run, once
 * the server is back, restores row-exact.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { emfRecords, expectNothingLeft, expectRunError } from './support/assertions';
import { pgSeedBigTable, pgSql } from './support/db';
import { FaultProxy } from './support/fault-proxy';
import {
  deletePrefix, describeWithServices, ensureBucket, listKeys, PgService, testS3Client, uniquePrefix, waitFor,
} from './support/services';
import { ThrowawayPostgres } from './support/throwaway-postgres';
import type { DbSecret } from '../../src/external-db/handler/aws';
import { runBackup } from '../../src/external-db/handler/backup';
import { BackupConfig } from '../../src/external-db/handler/config';
import { runRestore } from '../../src/external-db/handler/restore';

jest.setTimeout(180_000);

describeWithServices('external-db handler: the PostgreSQL server stops mid-dump', (svc) => {
  const database = 'bdr_stopped_src';
  const prefix = uniquePrefix('server-stopped');
  let server: ThrowawayPostgres;
  let pg: PgService;
  let s3: S3Client;
  let proxy: FaultProxy;
  let proxied: S3Client;

  /** Row count and checksum of the big table, and the sequence. */
  const fingerprint = async (db: string) => pgSql(pg, db,
    "SELECT count(*) || ':' || md5(string_agg(id || ',' || payload, E'\\n' ORDER BY id)) FROM big UNION ALL SELECT last_value::text FROM invoice_seq;");
  const secret = async (): Promise<DbSecret> =>
    ({ host: server.host, port: server.port, username: server.user, password: server.password, dbname: database });
  const config = (name: string): BackupConfig => ({
    secretArn: 'throwaway',
    engine: 'postgres',
    engineMajor: svc.pg.major,
    bucket: svc.s3.bucket,
    prefix: `${prefix}${name}/`,
    maxDatabaseSizeBytes: 1024 ** 3,
    tlsMode: 'disable',
    compression: 'none',
    environment: 'QA',
    metricsNamespace: 'Test/ExternalDb',
    safetyMarginMs: 10_000,
  });

  beforeAll(async () => {
    s3 = testS3Client(svc.s3);
    await ensureBucket(s3, svc.s3.bucket);
    server = await ThrowawayPostgres.create();
    pg = { host: server.host, port: server.port, user: server.user, password: server.password, major: svc.pg.major };
    await server.sql('postgres', `CREATE DATABASE ${database}`);
    // ~72 MB of rows: far more than the upload buffers hold while a part is held, so pg_dump is still reading when the server stops.
    await pgSeedBigTable(pg, database, 1_000_000);
    await pgSql(pg, database, 'CREATE SEQUENCE invoice_seq START 1000; SELECT nextval(\'invoice_seq\');');
    // The throw-away server runs with synchronous_commit off: a checkpoint makes the fixture survive the
    // immediate shutdown below (under load its last commits could still be in the WAL buffers).
    await server.sql('postgres', 'CHECKPOINT');
    proxy = await FaultProxy.start(svc.s3.endpoint);
    proxied = testS3Client(svc.s3, proxy.endpoint);
  });

  afterAll(async () => {
    proxied?.destroy();
    await proxy?.close();
    await server?.destroy();
    await deletePrefix(s3, svc.s3.bucket, prefix);
    s3?.destroy();
  });

  test('stopped mid-dump: clean failure; started again: the next run restores row-exact', async () => {
    // GIVEN a stalled upload, so pg_dump is still reading the big table
    proxy.setMode('hold');
    const lines: string[] = [];
    const run = runBackup(config('stopped'), { s3: proxied, fetchSecret: secret, log: (l) => lines.push(l) });
    run.catch(() => undefined);
    await waitFor('pg_dump copying the big table', async () => ((await server.sql('postgres',
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'cdk-backup-dr' AND query LIKE 'COPY public.big %'")).trim() || undefined));
    await waitFor('a held part upload', async () => (proxy.heldCount > 0 ? true : undefined));

    expect(await server.sql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cdk-backup-dr' AND query LIKE 'COPY public.big %'"))
      .toMatch(/^1\s*$/); // pg_dump is still reading the big table
    // WHEN the server itself stops (immediate shutdown: every backend is gone at once)
    await server.stop('immediate');
    proxy.setMode('pass');

    // THEN the run fails with pg_dump's error, leaves nothing behind, and the metric says why
    const err = await expectRunError(run);
    expect(err.message).toMatch(/failed \[dump\]: pg_dump exited with code 1 while dumping database "bdr_stopped_src".*(terminating connection|server closed the connection|connection to server was lost|administrator command)/);
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}stopped/`);
    expect(emfRecords(lines)).toEqual([expect.objectContaining({ BackupSuccess: 0, FailureKind: 'dump' })]);

    // WHEN the server is back and the job runs again
    await server.start();
    // (after an immediate shutdown, crash recovery advances sequences by their WAL prefetch: compare with now)
    const expected = await fingerprint(database);
    const again: string[] = [];
    const ok = await runBackup(config('again'), { s3: proxied, fetchSecret: secret, log: (l) => again.push(l) });

    // THEN that backup is complete and restores row-exact
    expect(await listKeys(s3, svc.s3.bucket, `${prefix}again/`)).toEqual([ok.results[0].objectKey, ok.results[0].manifestKey].sort());
    expect(emfRecords(again)).toEqual([expect.objectContaining({ BackupSuccess: 1 })]);
    await runRestore({
      bucket: svc.s3.bucket,
      manifestKey: ok.results[0].manifestKey!,
      createDatabase: true,
      target: { host: server.host, port: server.port, username: server.user, password: server.password, database: 'bdr_stopped_dst', tlsMode: 'disable' },
    }, { s3, log: () => undefined });
    expect(await fingerprint('bdr_stopped_dst')).toBe(expected);
    expect(expected).toMatch(/^1000000:[0-9a-f]{32}\n10\d\d\n$/);
  });
});
