/**
 * MariaDB fault injection with real servers: backend killed mid-dump, TLS required but the server has
 * none, wrong password. Each ends with a clear error and nothing in the bucket.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { emfRecords, expectNothingLeft, expectRunError } from './support/assertions';
import { myDropDatabase, myRecreateDatabase, mySeedBigTable, mySql } from './support/db';
import { FaultProxy } from './support/fault-proxy';
import { deletePrefix, describeWithServices, ensureBucket, testS3Client, uniquePrefix, waitFor } from './support/services';
import { runBackup } from '../../src/external-db/handler/backup';
import { BackupConfig } from '../../src/external-db/handler/config';

jest.setTimeout(120_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:mariadb-faults-AbCdEf';
const WRONG_PASSWORD = 'Wr0ng-My!pass-xyz';

describeWithServices('external-db handler: MariaDB faults', (svc) => {
  const database = `bdr_fault_src_${process.pid}`;
  const prefix = uniquePrefix('mariadb-faults');
  const secretsManager = mockClient(SecretsManagerClient);
  let s3: S3Client;

  const secret = (overrides: Record<string, unknown> = {}) => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      SecretString: JSON.stringify({
        engine: 'mariadb',
        host: svc.mysql.host,
        port: svc.mysql.port,
        username: svc.mysql.user,
        password: svc.mysql.password,
        dbname: database,
        ...overrides,
      }),
    });
  };

  const config = (name: string, overrides: Partial<BackupConfig> = {}): BackupConfig => ({
    secretArn: SECRET_ARN,
    engine: 'mariadb',
    bucket: svc.s3.bucket,
    prefix: `${prefix}${name}/`,
    maxDatabaseSizeBytes: 1024 ** 3,
    tlsMode: 'disable',
    compression: 'none',
    environment: 'QA',
    metricsNamespace: 'Test/ExternalDb',
    safetyMarginMs: 10_000,
    ...overrides,
  });

  beforeAll(async () => {
    s3 = testS3Client(svc.s3);
    await ensureBucket(s3, svc.s3.bucket);
    await myRecreateDatabase(svc.mysql, database);
    await mySeedBigTable(svc.mysql, database);
  });

  beforeEach(() => secret());

  afterAll(async () => {
    await myDropDatabase(svc.mysql, database);
    await deletePrefix(s3, svc.s3.bucket, prefix);
    secretsManager.restore();
    s3.destroy();
  });

  test('the database connection is killed mid-dump', async () => {
    // GIVEN a stalled upload, so mariadb-dump is still reading the big table
    const proxy = await FaultProxy.start(svc.s3.endpoint);
    const proxied = testS3Client(svc.s3, proxy.endpoint);
    try {
      proxy.setMode('hold');
      const lines: string[] = [];
      const run = runBackup(config('killed'), { s3: proxied, secretsManager: new SecretsManagerClient({}), log: (l) => lines.push(l) });
      run.catch(() => undefined);
      const id = await waitFor('mariadb-dump reading the big table', async () => {
        const out = await mySql(svc.mysql, undefined,
          `SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '${database}' AND INFO LIKE 'SELECT /*!40001 SQL_NO_CACHE */ %big%';`);
        return out.trim() || undefined;
      });
      await waitFor('a held part upload', async () => (proxy.heldCount > 0 ? true : undefined));

      // WHEN a second connection kills it
      await mySql(svc.mysql, undefined, `KILL ${id};`);
      proxy.setMode('pass');

      // THEN
      const err = await expectRunError(run);
      expect(err.message).toMatch(/failed \[dump\]: mariadb-dump exited with code \d+ while dumping database "bdr_fault_src_\d+"/);
      expect(err.message).toMatch(/Lost connection|2013|server has gone away|Error 1927|Connection was killed/);
      await expectNothingLeft(s3, svc.s3.bucket, `${prefix}killed/`);
      expect(emfRecords(lines)).toEqual([expect.objectContaining({ Database: database, Environment: 'QA', BackupSuccess: 0 })]);
    } finally {
      proxied.destroy();
      await proxy.close();
    }
  });

  test('TLS required (the default) but the server offers none: refused before dumping', async () => {
    const err = await expectRunError(runBackup(config('tls', { tlsMode: 'require' }), {
      s3, secretsManager: new SecretsManagerClient({}), log: () => undefined,
    }));
    expect(err.message).toMatch(/failed \[connection\]: TLS required \(TLS_MODE=require\) but mariadb server 127\.0\.0\.1:\d+ .* does not offer TLS/);
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}tls/`);
  });

  test('TLS verify-full against a server without TLS is refused by the client itself', async () => {
    const err = await expectRunError(runBackup(config('tls-verify', { tlsMode: 'verify-full' }), {
      s3, secretsManager: new SecretsManagerClient({}), log: () => undefined,
    }));
    expect(err.message).toMatch(/failed \[connection\]: Cannot connect: .*SSL is required, but the server does not support it/);
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}tls-verify/`);
  });

  test('wrong password: clear error, password not echoed', async () => {
    secret({ password: WRONG_PASSWORD });
    const lines: string[] = [];
    const err = await expectRunError(runBackup(config('wrong-password'), { s3, secretsManager: new SecretsManagerClient({}), log: (l) => lines.push(l) }));
    expect(err.message).toMatch(/failed \[connection\]: .*Access denied for user 'bdr_admin'/);
    expect(err.message).not.toContain(WRONG_PASSWORD);
    expect(lines.join('\n')).not.toContain(WRONG_PASSWORD);
    await expectNothingLeft(s3, svc.s3.bucket, `${prefix}wrong-password/`);
  });
});
