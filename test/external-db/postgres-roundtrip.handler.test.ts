/**
 * PostgreSQL round trip against real servers: seed → runBackup (real pg_dump, zstd, S3 server; Secrets
 * Manager mocked) → runRestore (verify SHA-256, pg_restore) into a fresh database → same rows.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as path from 'path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { PG_SEED, pgDropDatabase, pgFingerprint, pgRecreateDatabase, pgSql } from './support/db';
import {
  deletePrefix, describeWithServices, ensureBucket, getText, listKeys, listUploads, testS3Client, uniquePrefix,
} from './support/services';
import { BackupManifest, runBackup } from '../../src/external-db/handler/backup';
import { BackupConfig, Compression } from '../../src/external-db/handler/config';
import { main } from '../../src/external-db/handler/index';
import { runRestore } from '../../src/external-db/handler/restore';

jest.setTimeout(120_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:pg-source-AbCdEf';

describeWithServices('external-db handler: PostgreSQL backup and restore round trip', (svc) => {
  const suffix = `${process.pid}`;
  const source = `bdr_rt_src_${suffix}`;
  const restored: string[] = [];
  const prefix = uniquePrefix('pg-roundtrip');
  const secretsManager = mockClient(SecretsManagerClient);
  let s3: S3Client;
  let expected: Record<string, string>;

  beforeAll(async () => {
    s3 = testS3Client(svc.s3);
    await ensureBucket(s3, svc.s3.bucket);
    await pgRecreateDatabase(svc.pg, source);
    await pgSql(svc.pg, source, PG_SEED);
    expected = await pgFingerprint(svc.pg, source);
  });

  beforeEach(() => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      SecretString: JSON.stringify({
        engine: 'postgres', host: svc.pg.host, port: svc.pg.port, username: svc.pg.user, password: svc.pg.password, dbname: source,
      }),
    });
  });

  afterAll(async () => {
    for (const db of [source, ...restored]) await pgDropDatabase(svc.pg, db);
    await deletePrefix(s3, svc.s3.bucket, prefix);
    secretsManager.restore();
    s3.destroy();
  });

  const config = (compression: Compression): BackupConfig => ({
    secretArn: SECRET_ARN,
    engine: 'postgres',
    engineMajor: svc.pg.major,
    bucket: svc.s3.bucket,
    prefix: `${prefix}${compression}/`,
    maxDatabaseSizeBytes: 1024 ** 3,
    tlsMode: 'require',
    compression,
    rpoMinutes: 60,
    rtoMinutes: 240,
    environment: 'QA',
    metricsNamespace: 'Test/ExternalDb',
    safetyMarginMs: 30_000,
  });

  test.each<Compression>(['zstd', 'gzip', 'none'])('compression %s: backup, verify, restore into a fresh database', async (compression) => {
    // GIVEN a seeded database; WHEN it is backed up
    const lines: string[] = [];
    const run = await runBackup(config(compression), { s3, secretsManager: new SecretsManagerClient({ region: 'us-east-1' }), log: (l) => lines.push(l) });

    // THEN the dump and its manifest are in the bucket, the manifest describes the object exactly
    expect(run.results).toHaveLength(1);
    const r = run.results[0];
    expect(r.success).toBe(true);
    const keys = await listKeys(s3, svc.s3.bucket, `${prefix}${compression}/`);
    expect(keys).toEqual([r.manifestKey, r.objectKey].sort());
    const manifest = JSON.parse(await getText(s3, svc.s3.bucket, r.manifestKey!)) as BackupManifest;
    expect(manifest).toMatchObject({
      engine: 'postgres',
      database: source,
      compression,
      objectKey: r.objectKey,
      bytes: r.bytes,
      sha256: r.sha256,
      environment: 'QA',
      objectives: { rpoMinutes: 60, rtoMinutes: 240 },
      format: 'pg_dump-custom',
      tlsMode: 'require',
    });
    expect(manifest.serverVersion).toMatch(new RegExp(`^${svc.pg.major}\\.`));
    expect(manifest.toolVersion).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
    expect(Date.parse(manifest.finishedAt)).toBeGreaterThanOrEqual(Date.parse(manifest.startedAt));
    const body = await s3.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: r.objectKey }));
    const bytes = Buffer.from(await body.Body!.transformToByteArray());
    expect(bytes.length).toBe(manifest.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256);
    if (compression === 'zstd') expect(bytes.readUInt32LE(0)).toBe(0xfd2fb528); // zstd frame magic
    else expect(bytes.subarray(0, 5).toString('latin1')).toBe('PGDMP');
    expect(await listUploads(s3, svc.s3.bucket, prefix)).toEqual([]);

    // AND the metrics say so, and no log line carries the password
    const emf = lines.map((l) => JSON.parse(l)).find((o) => o._aws);
    expect(emf).toMatchObject({ Database: source, Environment: 'QA', BackupSuccess: 1, BackupBytes: manifest.bytes });
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Test/ExternalDb', Dimensions: [['Database', 'Environment']] });
    expect(lines.join('\n')).not.toContain(svc.pg.password);

    // WHEN it is restored into a fresh database THEN every table has the same rows
    const target = `bdr_rt_dst_${compression}_${suffix}`;
    restored.push(target);
    await pgDropDatabase(svc.pg, target);
    const restoreLog: string[] = [];
    const res = await runRestore({
      bucket: svc.s3.bucket,
      manifestKey: r.manifestKey!,
      createDatabase: true,
      target: { host: svc.pg.host, port: svc.pg.port, username: svc.pg.user, password: svc.pg.password, database: target, tlsMode: 'require' },
    }, { s3, log: (l) => restoreLog.push(l) });
    expect(res.sha256).toBe(manifest.sha256);
    expect(await pgFingerprint(svc.pg, target)).toEqual(expected);
    expect(restoreLog.join('\n')).not.toContain(svc.pg.password);
  });

  test('a dump that does not match its manifest is refused before anything is restored', async () => {
    // GIVEN a backup whose dump object was altered afterwards (one byte flipped)
    const run = await runBackup(config('none'), { s3, secretsManager: new SecretsManagerClient({}), log: () => undefined });
    const r = run.results[0];
    const body = await s3.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: r.objectKey }));
    const bytes = Buffer.from(await body.Body!.transformToByteArray());
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = 255 - bytes[middle];
    await s3.send(new PutObjectCommand({ Bucket: svc.s3.bucket, Key: r.objectKey, Body: bytes }));

    // WHEN it is restored THEN verification fails and the target database was not even created
    const target = `bdr_rt_tampered_${suffix}`;
    restored.push(target);
    await pgDropDatabase(svc.pg, target);
    await expect(runRestore({
      bucket: svc.s3.bucket,
      manifestKey: r.manifestKey!,
      createDatabase: true,
      target: { host: svc.pg.host, port: svc.pg.port, username: svc.pg.user, password: svc.pg.password, database: target, tlsMode: 'require' },
    }, { s3, log: () => undefined })).rejects.toThrow(/does not match its manifest: \d+ bytes with SHA-256 [0-9a-f]{64}, expected .* Nothing was restored/);
    expect((await pgSql(svc.pg, 'postgres', `SELECT count(*) FROM pg_database WHERE datname = '${target}';`)).trim()).toBe('0');
  });

  test('the restore script runs from the command line (ts-node), password from the environment', async () => {
    const run = await runBackup(config('zstd'), { s3, secretsManager: new SecretsManagerClient({}), log: () => undefined });
    const target = `bdr_rt_cli_${suffix}`;
    restored.push(target);
    await pgDropDatabase(svc.pg, target);
    const script = path.join(__dirname, '../../src/external-db/handler/restore.ts');
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script,
        '--manifest', `s3://${svc.s3.bucket}/${run.results[0].manifestKey}`, '--target-host', svc.pg.host, '--target-port', String(svc.pg.port),
        '--target-user', svc.pg.user, '--target-db', target, '--create-db'], {
        env: {
          ...process.env,
          TARGET_PASSWORD: svc.pg.password,
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
    expect(output).not.toContain(svc.pg.password);
    expect(await pgFingerprint(svc.pg, target)).toEqual(expected);
  });

  test('the Fargate entry point (`node index.js --once`) backs up from the environment and exits 0', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      SECRET_ARN,
      ENGINE: 'postgres',
      ENGINE_MAJOR: String(svc.pg.major),
      BUCKET: svc.s3.bucket,
      PREFIX: `${prefix}fargate`,
      MAX_DATABASE_SIZE_BYTES: String(1024 ** 3),
      TLS_MODE: 'require',
      ENVIRONMENT: 'Pro',
      SAFETY_MARGIN_MS: '0',
      S3_ENDPOINT: svc.s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      BACKUP_JOB: 'pg-job',
    });
    const logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await main(['--once'])).toBe(0);
      const keys = await listKeys(s3, svc.s3.bucket, `${prefix}fargate/`);
      expect(keys).toEqual([expect.stringMatching(/\.pgdump\.zst$/), expect.stringMatching(/manifest\.json$/)]);
      const lines = logSpy.mock.calls.map((c) => String(c[0]));
      expect(lines.map((l) => JSON.parse(l)).find((o) => o._aws)).toMatchObject({ BackupJob: 'pg-job', BackupSuccess: 1 });
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
    expect(expected.sequence).toBe('1001');
  });
});
