/**
 * PostgreSQL fault injection with real servers. Each fault must end with a clear error, a failure
 * metric, and nothing in the bucket: no dump object, no manifest, no multipart upload.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { emfRecords, expectNothingLeft, expectRunError } from './support/assertions';
import { pgDropDatabase, pgRecreateDatabase, pgSeedBigTable, pgSql } from './support/db';
import { FaultProxy } from './support/fault-proxy';
import {
  closedPort, deletePrefix, describeWithServices, ensureBucket, testS3Client, uniquePrefix, waitFor,
} from './support/services';
import { runBackup } from '../../src/external-db/handler/backup';
import { BackupConfig } from '../../src/external-db/handler/config';
import { handler } from '../../src/external-db/handler/index';

jest.setTimeout(120_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:pg-faults-AbCdEf';
const WRONG_PASSWORD = 'Wr0ng-Pa55!word-xyz';

describeWithServices('external-db handler: PostgreSQL faults', (svc) => {
  const database = `bdr_fault_src_${process.pid}`;
  const prefix = uniquePrefix('pg-faults');
  const secretsManager = mockClient(SecretsManagerClient);
  let s3: S3Client;
  let proxy: FaultProxy | undefined;
  let proxied: S3Client | undefined;

  const secret = (overrides: Record<string, unknown> = {}) => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      SecretString: JSON.stringify({
        engine: 'postgres',
        host: svc.pg.host,
        port: svc.pg.port,
        username: svc.pg.user,
        password: svc.pg.password,
        dbname: database,
        ...overrides,
      }),
    });
  };

  const config = (name: string, overrides: Partial<BackupConfig> = {}): BackupConfig => ({
    secretArn: SECRET_ARN,
    engine: 'postgres',
    engineMajor: svc.pg.major,
    bucket: svc.s3.bucket,
    prefix: `${prefix}${name}/`,
    maxDatabaseSizeBytes: 1024 ** 3,
    tlsMode: 'require',
    // Uncompressed: the ~30 MB dump of the big table spans several 5 MiB parts.
    compression: 'none',
    environment: 'Pro',
    metricsNamespace: 'Test/ExternalDb',
    safetyMarginMs: 10_000,
    ...overrides,
  });

  const pgDumpSessions = async (): Promise<string[]> => {
    const out = await pgSql(svc.pg, 'postgres', "SELECT pid FROM pg_stat_activity WHERE application_name = 'cdk-backup-dr' AND pid <> pg_backend_pid();");
    return out.trim().split('\n').filter((l) => l.length > 0);
  };

  beforeAll(async () => {
    s3 = testS3Client(svc.s3);
    await ensureBucket(s3, svc.s3.bucket);
    await pgRecreateDatabase(svc.pg, database);
    await pgSql(svc.pg, database, 'CREATE TABLE small (id int PRIMARY KEY, note text); INSERT INTO small VALUES (1, \'x\');');
    await pgSeedBigTable(svc.pg, database);
  });

  beforeEach(async () => {
    secret();
    proxy = await FaultProxy.start(svc.s3.endpoint);
    proxied = testS3Client(svc.s3, proxy.endpoint);
  });

  afterEach(async () => {
    proxied?.destroy();
    await proxy?.close();
    proxy = undefined;
  });

  afterAll(async () => {
    await pgDropDatabase(svc.pg, database);
    await deletePrefix(s3, svc.s3.bucket, prefix);
    secretsManager.restore();
    s3.destroy();
  });

  test('the database backend is killed mid-dump', async () => {
    // GIVEN an upload that stalls, so pg_dump is still streaming the big table
    proxy!.setMode('hold');
    const lines: string[] = [];
    const run = runBackup(config('killed'), { s3: proxied, secretsManager: new SecretsManagerClient({}), log: (l) => lines.push(l) });
    run.catch(() => undefined);
    const pid = await waitFor('pg_dump copying the big table', async () => {
      const out = await pgSql(svc.pg, 'postgres',
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'cdk-backup-dr' AND query LIKE 'COPY public.big %';");
      return out.trim() || undefined;
    });
    await waitFor('a held part upload', async () => (proxy!.heldCount > 0 ? true : undefined));

    // WHEN a second connection terminates its backend
    await pgSql(svc.pg, 'postgres', `SELECT pg_terminate_backend(${pid});`);
    proxy!.setMode('pass');

    // THEN the run fails clearly, and leaves nothing behind
    const err = await expectRunError(run);
    expect(err.message).toMatch(/pg_dump exited with code 1 while dumping database "bdr_fault_src_\d+"/);
    // Over TLS the server's FATAL message is lost with the connection: libpq reports the EOF.
    expect(err.message).toMatch(/Dumping the contents of table "big" failed.*(terminating connection|server closed the connection|SSL SYSCALL error: EOF detected)/);
    expect(err.results[0]).toMatchObject({ success: false, failureKind: 'dump' });
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}killed/`);
    expect(emfRecords(lines)).toEqual([expect.objectContaining({ Database: database, Environment: 'Pro', BackupSuccess: 0 })]);
  });

  test('the S3 endpoint fails mid-upload (connections dropped after N bytes of UploadPart traffic)', async () => {
    // GIVEN an S3 endpoint that drops every UploadPart connection once 6 MiB of parts went through
    proxy!.setMode('drop', 6 * 1024 * 1024);
    const lines: string[] = [];

    // WHEN the backup runs THEN it fails with the S3 error after the SDK's retries
    const err = await expectRunError(runBackup(config('s3-drop'), { s3: proxied, secretsManager: new SecretsManagerClient({}), log: (l) => lines.push(l) }));
    expect(proxy!.uploadPartBytes).toBeGreaterThan(6 * 1024 * 1024);
    expect(proxy!.dropped).toBeGreaterThanOrEqual(2);
    expect(err.message).toMatch(/failed \[upload\]: S3 UploadPart for s3:\/\/bdr-test\/.*\.pgdump failed after retries/);
    expect(err.results[0].failureKind).toBe('upload');
    // AND pg_dump was stopped, and nothing is left (the abort went through the same endpoint)
    await waitFor('pg_dump to disconnect', async () => ((await pgDumpSessions()).length === 0 ? true : undefined), 10_000);
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}s3-drop/`);
    expect(emfRecords(lines)[0]).toMatchObject({ BackupSuccess: 0 });
  });

  test('wrong password: clear error, password not echoed', async () => {
    secret({ password: WRONG_PASSWORD });
    const lines: string[] = [];
    const err = await expectRunError(runBackup(config('wrong-password'), { s3, secretsManager: new SecretsManagerClient({}), log: (l) => lines.push(l) }));
    expect(err.message).toMatch(/failed \[connection\]: Cannot connect: psql exited with code 2 connecting to postgres server 127\.0\.0\.1:\d+/);
    expect(err.message).toMatch(/password authentication failed for user "bdr_admin"/);
    expect(err.message).not.toContain(WRONG_PASSWORD);
    expect(lines.join('\n')).not.toContain(WRONG_PASSWORD);
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}wrong-password/`);
    expect(emfRecords(lines)[0]).toMatchObject({ BackupSuccess: 0, BackupBytes: 0 });
  });

  test('unreachable host (closed port)', async () => {
    secret({ port: await closedPort() });
    const err = await expectRunError(runBackup(config('unreachable'), { s3, secretsManager: new SecretsManagerClient({}), log: () => undefined }));
    expect(err.message).toMatch(/failed \[connection\]: Cannot connect: .*Connection refused/);
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}unreachable/`);
  });

  test('deadline reached: the Lambda handler stops SAFETY_MARGIN_MS before its timeout and aborts', async () => {
    // GIVEN the Lambda environment, an invocation with 61.5 s left, a 60 s safety margin, and a stalled upload
    proxy!.setMode('hold');
    const saved = { ...process.env };
    Object.assign(process.env, {
      SECRET_ARN,
      ENGINE: 'postgres',
      ENGINE_MAJOR: String(svc.pg.major),
      BUCKET: svc.s3.bucket,
      PREFIX: `${prefix}deadline`,
      MAX_DATABASE_SIZE_BYTES: String(1024 ** 3),
      TLS_MODE: 'require',
      COMPRESSION: 'none',
      ENVIRONMENT: 'Pro',
      METRICS_NAMESPACE: 'Test/ExternalDb',
      SAFETY_MARGIN_MS: '60000',
      S3_ENDPOINT: proxy!.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      RPO_MINUTES: '60',
      RTO_MINUTES: '240',
    });
    const logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const started = Date.now();
      // WHEN the handler runs
      const outcome = await handler({}, { getRemainingTimeInMillis: () => 61_500 }).then(() => undefined, (e: Error) => e);
      const elapsed = Date.now() - started;

      // THEN it stopped at the deadline with a clear error, well inside the remaining margin
      expect(outcome).toBeInstanceOf(Error);
      expect(outcome!.message).toMatch(/failed \[deadline\]: Deadline reached: stopped the backup of database "bdr_fault_src_\d+" after \d+\.\d s, 60000 ms \(SAFETY_MARGIN_MS\) before the Lambda timeout/);
      expect(outcome!.message).toMatch(/Run the job on Fargate/);
      expect(elapsed).toBeGreaterThanOrEqual(1_400);
      expect(elapsed).toBeLessThan(20_000);
      expect(proxy!.uploadPartRequests).toBeGreaterThan(0);
      await expectNothingLeft(s3, svc.s3.bucket, `${prefix}deadline/`);
      const metrics = emfRecords(logSpy.mock.calls.map((c) => String(c[0])));
      expect(metrics).toEqual([expect.objectContaining({ Database: database, BackupSuccess: 0 })]);
      await waitFor('pg_dump to disconnect', async () => ((await pgDumpSessions()).length === 0 ? true : undefined), 10_000);
    } finally {
      logSpy.mockRestore();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
