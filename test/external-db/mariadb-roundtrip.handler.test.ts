/**
 * MariaDB round trip against real servers: seed → runBackup (real mariadb-dump --single-transaction
 * --routines --triggers --events, zstd/gzip, S3 server; Secrets Manager mocked) → runRestore (verify
 * SHA-256, mariadb client) into a fresh database → same rows, routines, triggers and events.
 * The local MariaDB has no TLS, so these runs use TLS_MODE=disable (the TLS refusal is a fault test).
 */
import { createHash } from 'crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { MY_SEED, myDropDatabase, myFingerprint, myRecreateDatabase, mySql } from './support/db';
import {
  deletePrefix, describeWithServices, ensureBucket, getText, listKeys, listUploads, testS3Client, uniquePrefix,
} from './support/services';
import { BackupManifest, runBackup } from '../../src/external-db/handler/backup';
import { BackupConfig, Compression } from '../../src/external-db/handler/config';
import { runRestore } from '../../src/external-db/handler/restore';

jest.setTimeout(120_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:mariadb-source-AbCdEf';

describeWithServices('external-db handler: MariaDB backup and restore round trip', (svc) => {
  const suffix = `${process.pid}`;
  const source = `bdr_rt_src_${suffix}`;
  const restored: string[] = [];
  const prefix = uniquePrefix('mariadb-roundtrip');
  const secretsManager = mockClient(SecretsManagerClient);
  let s3: S3Client;
  let expected: Record<string, string>;

  beforeAll(async () => {
    s3 = testS3Client(svc.s3);
    await ensureBucket(s3, svc.s3.bucket);
    await myRecreateDatabase(svc.mysql, source);
    await mySql(svc.mysql, source, MY_SEED);
    expected = await myFingerprint(svc.mysql, source);
  });

  beforeEach(() => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      SecretString: JSON.stringify({
        engine: 'mariadb', host: svc.mysql.host, port: svc.mysql.port, username: svc.mysql.user, password: svc.mysql.password, dbname: source,
      }),
    });
  });

  afterAll(async () => {
    for (const db of [source, ...restored]) await myDropDatabase(svc.mysql, db);
    await deletePrefix(s3, svc.s3.bucket, prefix);
    secretsManager.restore();
    s3.destroy();
  });

  const config = (compression: Compression): BackupConfig => ({
    secretArn: SECRET_ARN,
    engine: 'mariadb',
    engineMajor: svc.mysql.major,
    bucket: svc.s3.bucket,
    prefix: `${prefix}${compression}/`,
    maxDatabaseSizeBytes: 1024 ** 3,
    tlsMode: 'disable',
    compression,
    rpoMinutes: 1440,
    rtoMinutes: 480,
    environment: 'Dev',
    metricsNamespace: 'Test/ExternalDb',
    safetyMarginMs: 30_000,
  });

  test.each<Compression>(['zstd', 'gzip'])('compression %s: backup, verify, restore into a fresh database', async (compression) => {
    const lines: string[] = [];
    const run = await runBackup(config(compression), { s3, secretsManager: new SecretsManagerClient({ region: 'us-east-1' }), log: (l) => lines.push(l) });

    const r = run.results[0];
    expect(r.success).toBe(true);
    expect(await listKeys(s3, svc.s3.bucket, `${prefix}${compression}/`)).toEqual([r.manifestKey, r.objectKey].sort());
    const manifest = JSON.parse(await getText(s3, svc.s3.bucket, r.manifestKey!)) as BackupManifest;
    expect(manifest).toMatchObject({
      engine: 'mariadb',
      database: source,
      compression,
      objectKey: r.objectKey,
      bytes: r.bytes,
      sha256: r.sha256,
      format: 'sql',
      environment: 'Dev',
      objectives: { rpoMinutes: 1440, rtoMinutes: 480 },
      tlsMode: 'disable',
    });
    expect(manifest.serverVersion).toMatch(/MariaDB/);
    expect(manifest.toolVersion).toMatch(/mariadb-dump|mysqldump/);
    expect(r.objectKey).toMatch(compression === 'zstd' ? /\.sql\.zst$/ : /\.sql\.gz$/);
    const body = await s3.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: r.objectKey }));
    const bytes = Buffer.from(await body.Body!.transformToByteArray());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256);
    expect(await listUploads(s3, svc.s3.bucket, prefix)).toEqual([]);
    const emf = lines.map((l) => JSON.parse(l)).find((o) => o._aws);
    expect(emf).toMatchObject({ Database: source, Environment: 'Dev', BackupSuccess: 1, BackupBytes: manifest.bytes });
    expect(lines.join('\n')).not.toContain(svc.mysql.password);

    const target = `bdr_rt_dst_${compression}_${suffix}`;
    restored.push(target);
    await myDropDatabase(svc.mysql, target);
    await runRestore({
      bucket: svc.s3.bucket,
      manifestKey: r.manifestKey!,
      createDatabase: true,
      target: { host: svc.mysql.host, port: svc.mysql.port, username: svc.mysql.user, password: svc.mysql.password, database: target, tlsMode: 'disable' },
    }, { s3, log: () => undefined });
    expect(await myFingerprint(svc.mysql, target)).toEqual(expected);
  });

  test('expected fingerprint covers the seeded data (guards the comparison itself)', () => {
    expect(expected.customers).toMatch(/^6:\d+$/);
    expect(expected.blobs).toMatch(/^2003:\d+$/);
    expect(expected.events).toMatch(/^120000:\d+$/);
    expect(expected).toMatchObject({ function: '42', routines: '1', triggers: '1', scheduled_events: '1' });
  });
});
