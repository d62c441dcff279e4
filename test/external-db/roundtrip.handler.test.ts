/**
 * Backup and restore round trip against real servers, one suite for every engine (support/engines.ts):
 * seed → runBackup (the real dump tool, zstd, the local S3 server; Secrets Manager mocked) → runRestore
 * (verify SHA-256, restore) into a fresh database → the same rows, routines and views.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as path from 'path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { emfRecords } from './support/assertions';
import { MY_TABLES, PG_TABLES } from './support/db';
import { EngineAdapter, engineAdapters } from './support/engines';
import {
  deletePrefix, describeWithServices, ensureBucket, getText, listKeys, listUploads, testS3Client, uniquePrefix,
} from './support/services';
import { installShims } from './support/tool-shims';
import type { DbSecret } from '../../src/external-db/handler/aws';
import { BackupManifest, runBackup } from '../../src/external-db/handler/backup';
import { Compression } from '../../src/external-db/handler/config';
import { main } from '../../src/external-db/handler/index';
import { runRestore } from '../../src/external-db/handler/restore';

jest.setTimeout(120_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:source-AbCdEf';

describeWithServices('external-db handler: backup and restore round trip', (svc) => {
  describe.each(engineAdapters(svc).map((a) => [a.name, a] as [string, EngineAdapter]))('%s', (_name, db) => {
    const suffix = `${db.engine}_${process.pid}`;
    const source = `bdr_rt_src_${suffix}`;
    const restored: string[] = [];
    const prefix = uniquePrefix(`roundtrip-${db.engine}`);
    const secretsManager = mockClient(SecretsManagerClient);
    let s3: S3Client;
    let expected: Record<string, string>;
    let sourceRowCounts: Record<string, number>;

    const config = (compression: Compression, name: string = compression) =>
      db.config(SECRET_ARN, `${prefix}${name}/`, { compression, rpoMinutes: 60, rtoMinutes: 240, safetyMarginMs: 30_000 });
    const freshTarget = async (name: string) => {
      const target = `bdr_rt_${name}_${suffix}`;
      restored.push(target);
      await db.drop(target);
      return target;
    };

    beforeAll(async () => {
      s3 = testS3Client(svc.s3);
      await ensureBucket(s3, svc.s3.bucket);
      await db.recreate(source);
      await db.seed(source);
      expected = await db.fingerprint(source);
      // Row counts from the fingerprint ("count:checksum" per table), keyed as the manifest keys them.
      sourceRowCounts = Object.fromEntries((db.engine === 'postgres' ? PG_TABLES : MY_TABLES)
        .map((t) => [db.rowCountKey(t), Number(expected[t].split(':')[0])]));
    });

    beforeEach(() => {
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify(db.secret(source)) });
    });

    afterAll(async () => {
      for (const d of [source, ...restored]) await db.drop(d);
      await deletePrefix(s3, svc.s3.bucket, prefix);
      secretsManager.restore();
      s3.destroy();
    });

    test.each(db.compressions.map((c) => [c]))('compression %s: backup, verify, restore into a fresh database', async (compression) => {
      // GIVEN a seeded database; WHEN it is backed up
      const lines: string[] = [];
      const run = await runBackup(config(compression), { s3, secretsManager: new SecretsManagerClient({ region: 'us-east-1' }), log: (l) => lines.push(l) });

      // THEN the dump and its manifest are in the bucket, the manifest describes the object exactly
      expect(run.results).toHaveLength(1);
      const r = run.results[0];
      expect(r.success).toBe(true);
      expect(r.objectKey).toMatch(db.extension(compression));
      expect(await listKeys(s3, svc.s3.bucket, `${prefix}${compression}/`)).toEqual([r.manifestKey, r.objectKey].sort());
      const manifest = JSON.parse(await getText(s3, svc.s3.bucket, r.manifestKey!)) as BackupManifest;
      expect(manifest).toMatchObject({
        engine: db.engine,
        database: source,
        compression,
        objectKey: r.objectKey,
        bytes: r.bytes,
        sha256: r.sha256,
        environment: 'QA',
        objectives: { rpoMinutes: 60, rtoMinutes: 240 },
        format: db.format,
        tlsMode: db.tlsMode,
      });
      expect(manifest.serverVersion).toMatch(db.engine === 'postgres' ? new RegExp(`^${db.major}\\.`) : /MariaDB/);
      expect(manifest.toolVersion).toMatch(db.engine === 'postgres' ? /^pg_dump \(PostgreSQL\) \d+/ : /mariadb-dump|mysqldump/);
      expect(Date.parse(manifest.finishedAt)).toBeGreaterThanOrEqual(Date.parse(manifest.startedAt));
      // AND it records the rows of every table the dump holds, as the source has them
      expect(manifest.rowCounts).toEqual(sourceRowCounts);
      const body = await s3.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: r.objectKey }));
      const bytes = Buffer.from(await body.Body!.transformToByteArray());
      expect(bytes.length).toBe(manifest.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256);
      if (compression === 'zstd') expect(bytes.readUInt32LE(0)).toBe(0xfd2fb528); // zstd frame magic
      else if (db.engine === 'postgres') expect(bytes.subarray(0, 5).toString('latin1')).toBe('PGDMP');
      else expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip magic
      expect(await listUploads(s3, svc.s3.bucket, prefix)).toEqual([]);

      // AND the metrics say so (no FailureKind, no time budget outside Lambda), and no log line carries the password
      const emf = emfRecords(lines);
      expect(emf).toEqual([expect.objectContaining({ Database: source, Environment: 'QA', BackupSuccess: 1, BackupBytes: manifest.bytes })]);
      expect(emf[0]).not.toHaveProperty('FailureKind');
      expect(emf[0]).not.toHaveProperty('BackupTimeoutUsedPercent');
      expect((emf[0]._aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics).toEqual([
        expect.objectContaining({ Namespace: 'Test/ExternalDb', Dimensions: [['Database', 'Environment']] }),
      ]);
      expect(lines.join('\n')).not.toContain(db.password);

      // WHEN it is restored into a fresh database THEN every table has the same rows
      const target = await freshTarget(`dst_${compression}`);
      const restoreLog: string[] = [];
      const res = await runRestore({ bucket: svc.s3.bucket, manifestKey: r.manifestKey!, createDatabase: true, target: db.target(target) },
        { s3, log: (l) => restoreLog.push(l) });
      expect(res.sha256).toBe(manifest.sha256);
      expect(await db.fingerprint(target)).toEqual(expected);
      expect(restoreLog.join('\n')).not.toContain(db.password);
    });

    test('rows written while the dump runs: the manifest counts exactly the rows of the dump', async () => {
      // GIVEN the seeded database (6 customers), and a dump tool around which 50 customers are written just
      // before it starts and 25 just after it ended (a shell wrapper around the real tool, same connection settings)
      const live = `bdr_rt_live_${suffix}`;
      restored.push(live);
      await db.recreate(live);
      await db.seed(live);
      const insert = (from: number, n: number) => db.engine === 'postgres'
        ? `INSERT INTO customers (id, name) SELECT i, 'live ' || i FROM generate_series(${from}, ${from + n - 1}) i;`
        : `INSERT INTO customers (id, name) SELECT seq, CONCAT('live ', seq) FROM seq_${from}_to_${from + n - 1};`;
      const shims = installShims([{ tool: db.dumpTool, behaviour: 'wrap', before: db.shellSql(live, insert(1000, 50)), after: db.shellSql(live, insert(2000, 25)) }]);
      try {
        // WHEN it is backed up
        const run = await runBackup(config('zstd', 'live'), {
          fetchSecret: async () => db.secret(live) as unknown as DbSecret, s3, log: () => undefined, baseEnv: shims.env,
        });
        const manifest = JSON.parse(await getText(s3, svc.s3.bucket, run.results[0].manifestKey!)) as BackupManifest;

        // THEN PostgreSQL counts in the snapshot pg_dump reads (exported before the dump started: neither the
        // rows written before nor after the dump are in it); MariaDB counts the dump itself (its own snapshot
        // starts with the dump: the rows written before are in it, those after are not)
        const customers = db.rowCountKey('customers');
        expect(manifest.rowCounts?.[customers]).toBe(db.engine === 'postgres' ? 6 : 56);
        expect((await db.fingerprint(live)).customers).toMatch(/^81:/);
        // AND the restored database has exactly the rows the manifest says
        const target = await freshTarget('live_dst');
        await runRestore({ bucket: svc.s3.bucket, manifestKey: run.results[0].manifestKey!, createDatabase: true, target: db.target(target) },
          { s3, log: () => undefined });
        expect((await db.fingerprint(target)).customers).toMatch(new RegExp(`^${manifest.rowCounts?.[customers]}:`));
        expect(manifest.rowCounts).toEqual({ ...sourceRowCounts, [customers]: manifest.rowCounts?.[customers] });
      } finally {
        shims.remove();
      }
    });

    test('a dump that does not match its manifest is refused before anything is restored', async () => {
      // GIVEN a backup whose dump object was altered afterwards (one byte flipped)
      const run = await runBackup(config('zstd', 'tampered'), { s3, secretsManager: new SecretsManagerClient({}), log: () => undefined });
      const r = run.results[0];
      const body = await s3.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: r.objectKey }));
      const bytes = Buffer.from(await body.Body!.transformToByteArray());
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = 255 - bytes[middle];
      await s3.send(new PutObjectCommand({ Bucket: svc.s3.bucket, Key: r.objectKey, Body: bytes }));

      // WHEN it is restored THEN verification fails and the target database was not even created
      const target = await freshTarget('tampered');
      await expect(runRestore({ bucket: svc.s3.bucket, manifestKey: r.manifestKey!, createDatabase: true, target: db.target(target) },
        { s3, log: () => undefined })).rejects.toThrow(/does not match its manifest: \d+ bytes with SHA-256 [0-9a-f]{64}, expected .* Nothing was restored/);
      expect(await db.exists(target)).toBe(false);
    });

    test('the Fargate entry point (`node index.js --once`) backs up from the environment and exits 0', async () => {
      const saved = { ...process.env };
      Object.assign(process.env, {
        SECRET_ARN,
        ENGINE: db.engine,
        ENGINE_MAJOR: String(db.major),
        BUCKET: svc.s3.bucket,
        PREFIX: `${prefix}fargate`,
        MAX_DATABASE_SIZE_BYTES: String(1024 ** 3),
        TLS_MODE: db.tlsMode,
        ENVIRONMENT: 'Pro',
        SAFETY_MARGIN_MS: '0',
        S3_ENDPOINT: svc.s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        BACKUP_JOB: 'the-job',
      });
      const logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        expect(await main(['--once'])).toBe(0);
        const keys = await listKeys(s3, svc.s3.bucket, `${prefix}fargate/`);
        expect(keys).toEqual([expect.stringMatching(db.extension('zstd')), expect.stringMatching(/manifest\.json$/)]);
        const lines = logSpy.mock.calls.map((c) => String(c[0]));
        expect(emfRecords(lines)).toEqual([expect.objectContaining({ BackupJob: 'the-job', BackupSuccess: 1 })]);
      } finally {
        logSpy.mockRestore();
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    });

    test('expected fingerprint covers the seeded data (guards the comparison itself)', () => {
      expect(expected.customers).toMatch(/^6:/);
      expect(expected.blobs).toMatch(/^2003:/);
      expect(expected.events).toMatch(/^120000:/);
      expect(expected.function).toBe('42');
      if (db.engine === 'postgres') expect(expected.sequence).toBe('1001');
      else expect(expected).toMatchObject({ routines: '1', triggers: '1', scheduled_events: '1' });
    });
  });

  describe('the restore command line', () => {
    const db = engineAdapters(svc)[0];
    const suffix = `cli_${process.pid}`;
    const source = `bdr_rt_src_${suffix}`;
    const prefix = uniquePrefix('roundtrip-cli');
    let s3: S3Client;
    let expected: Record<string, string>;
    const restored: string[] = [];
    const freshTarget = async (name: string) => {
      const target = `bdr_rt_${name}_${suffix}`;
      restored.push(target);
      await db.drop(target);
      return target;
    };
    beforeAll(async () => {
      s3 = testS3Client(svc.s3);
      await db.recreate(source);
      await db.seed(source);
      expected = await db.fingerprint(source);
    });
    afterAll(async () => {
      for (const d of [source, ...restored]) await db.drop(d);
      await deletePrefix(s3, svc.s3.bucket, prefix);
      s3.destroy();
    });

    // Engine-independent (argument parsing, password from the environment): runs once, on PostgreSQL.
    test('the restore script runs from the command line (ts-node), password from the environment', async () => {
      const run = await runBackup(db.config(SECRET_ARN, prefix, { compression: 'zstd' }), { s3, fetchSecret: async () => db.secret(source) as unknown as DbSecret, log: () => undefined });
      const target = await freshTarget('cli');
      const script = path.join(__dirname, '../../src/external-db/handler/restore.ts');
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script,
          '--manifest', `s3://${svc.s3.bucket}/${run.results[0].manifestKey}`, '--target-host', db.host, '--target-port', String(db.port),
          '--target-user', db.user, '--target-db', target, '--create-db', '--tls', db.tlsMode], {
          env: {
            ...process.env,
            TARGET_PASSWORD: db.password,
            S3_ENDPOINT: svc.s3.endpoint,
            S3_FORCE_PATH_STYLE: 'true',
            AWS_ACCESS_KEY_ID: svc.s3.accessKeyId,
            AWS_SECRET_ACCESS_KEY: svc.s3.secretAccessKey,
            AWS_REGION: svc.s3.region,
            NODE_NO_WARNINGS: '1',
          },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
        child.on('close', (c) => resolve({ code: c, output: out }));
      });
      expect({ code, output }).toMatchObject({ code: 0, output: expect.stringContaining('"msg":"restored"') });
      expect(output).not.toContain(db.password);
      expect(await db.fingerprint(target)).toEqual(expected);
    });
  });
});
