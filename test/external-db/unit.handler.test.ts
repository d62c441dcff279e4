/**
 * Unit tests of the external-db handler's pure parts (no servers needed), plus sanity checks of the
 * test support itself (the S3 server's multipart extensions, the fault proxy) when the servers are up.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  AbortMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { emfRecords } from './support/assertions';
import { FaultProxy } from './support/fault-proxy';
import { describeWithServices, ensureBucket, listUploads, testS3Client, uniquePrefix } from './support/services';
import { cleanUpFailedUpload, parseDbSecret } from '../../src/external-db/handler/aws';
import { BackupRunError, emfRecord, runBackup } from '../../src/external-db/handler/backup';
import {
  backupKeys, BackupConfig, computePartSize, configFromEnv, dumpObjectFormat, Engine, GiB, MiB, normalizePrefix, partSizeForDatabase, S3_MAX_PARTS,
} from '../../src/external-db/handler/config';
import { handler } from '../../src/external-db/handler/index';
import { parseRestoreArgs, parseS3Uri } from '../../src/external-db/handler/restore';
import {
  checkVersions, childEnv, conninfoQuote, dumpCommand, engineTools, parsePgToolMajor, Redactor, redactPatterns, restoreCommand, runCapture,
  TailBuffer, Tool,
} from '../../src/external-db/handler/tools';

jest.setTimeout(30_000);

describe('partSizeForDatabase', () => {
  test('from the database\'s size on disk (x4), at least 5 MiB, never above the part size of MAX_DATABASE_SIZE_BYTES', () => {
    expect(partSizeForDatabase(100 * MiB, 100 * GiB)).toBe(5 * MiB);
    expect(partSizeForDatabase(12 * GiB, 100 * GiB)).toBe(5 * MiB);
    expect(partSizeForDatabase(30 * GiB, 1024 * GiB)).toBe(computePartSize(120 * GiB));
    expect(partSizeForDatabase(30 * GiB, 1024 * GiB)).toBe(13 * MiB);
    expect(partSizeForDatabase(80 * GiB, 100 * GiB)).toBe(computePartSize(100 * GiB));
  });

  test('unknown or empty size: the part size of MAX_DATABASE_SIZE_BYTES', () => {
    for (const size of [undefined, 0, Number.NaN, -1]) expect(partSizeForDatabase(size, 100 * GiB)).toBe(computePartSize(100 * GiB));
  });
});

describe('computePartSize', () => {
  test.each([
    [1, 5 * MiB],
    [5 * MiB * S3_MAX_PARTS, 5 * MiB], // exactly the 5 MiB cap (~48.8 GiB)
    [5 * MiB * S3_MAX_PARTS + 1, 6 * MiB], // one byte more needs bigger parts
    [100 * GiB, 11 * MiB],
    [1024 * GiB, 105 * MiB],
  ])('%d bytes → %d-byte parts', (max, part) => {
    expect(computePartSize(max)).toBe(part);
  });

  test('every maximum fits in 10,000 parts, parts are whole MiB and at least 5 MiB', () => {
    for (const max of [1, 49 * GiB, 123_456_789_012, 3 * 1024 * GiB, 48 * 1024 * GiB]) {
      const part = computePartSize(max);
      expect(part * S3_MAX_PARTS).toBeGreaterThanOrEqual(max);
      expect(part % MiB).toBe(0);
      expect(part).toBeGreaterThanOrEqual(5 * MiB);
      expect(part).toBeLessThanOrEqual(5 * GiB);
    }
  });

  test('refuses what cannot fit in 10,000 parts of at most 5 GiB, and nonsense', () => {
    expect(() => computePartSize(5 * GiB * S3_MAX_PARTS + 1)).toThrow(/more than S3's 5 GiB part limit/);
    expect(() => computePartSize(0)).toThrow(/positive/);
    expect(() => computePartSize(Number.NaN)).toThrow(/positive/);
  });
});

describe('redaction', () => {
  test('removes registered secrets and their URL-encoded form', () => {
    const r = new Redactor().add('p@ss w0rd!');
    expect(r.redact('FATAL: bad p@ss w0rd! and p%40ss%20w0rd! here')).toBe('FATAL: bad *** and *** here');
  });

  test('removes credential-shaped text whatever the value', () => {
    expect(redactPatterns('postgresql://admin:s3cr3t@db:5432/app')).toBe('postgresql://admin:***@db:5432/app');
    expect(redactPatterns('PGPASSWORD=abc MYSQL_PWD=def password=ghi')).toBe('PGPASSWORD=*** MYSQL_PWD=*** password=***');
    expect(redactPatterns('{"username":"u","password":"x\\"y"}')).toBe('{"username":"u","password":"***"}');
    expect(redactPatterns('password authentication failed for user "bdr"')).toBe('password authentication failed for user "bdr"');
  });

  test('an empty secret changes nothing', () => {
    expect(new Redactor().add('').add(undefined).redact('plain text')).toBe('plain text');
  });

  test('TailBuffer keeps the last bytes and says when it dropped some', () => {
    const t = new TailBuffer(10);
    t.push('0123456789');
    expect(t.text()).toBe('0123456789');
    t.push('abcdef');
    expect(t.text()).toBe('…6789abcdef');
  });
});

describe('configuration from the environment', () => {
  const base = { SECRET_ARN: 'arn:secret', ENGINE: 'postgres', BUCKET: 'b' };

  test('defaults: zstd, TLS required, 100 GiB, 60 s margin', () => {
    expect(configFromEnv(base)).toMatchObject({
      engine: 'postgres',
      compression: 'zstd',
      tlsMode: 'require',
      maxDatabaseSizeBytes: 100 * GiB,
      safetyMarginMs: 60_000,
      prefix: '',
      environment: 'Unknown',
      metricsNamespace: 'CdkBackupDr/ExternalDb',
    });
  });

  test('parses every variable', () => {
    const c = configFromEnv({
      ...base,
      ENGINE: 'MariaDB',
      ENGINE_MAJOR: '10.11',
      DATABASES: ' app , billing ,',
      PREFIX: '/dumps/prod/',
      KMS_KEY_ID: 'alias/k',
      MAX_DATABASE_SIZE_BYTES: '1000',
      TLS_MODE: 'disable',
      COMPRESSION: 'gzip',
      RPO_MINUTES: '15',
      RTO_MINUTES: '60',
      ENVIRONMENT: 'Pro',
      METRICS_NAMESPACE: 'Ns',
      SAFETY_MARGIN_MS: '0',
      S3_ENDPOINT: 'http://127.0.0.1:1',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(c).toMatchObject({
      engine: 'mariadb',
      engineMajor: 10,
      databases: ['app', 'billing'],
      prefix: 'dumps/prod/',
      kmsKeyId: 'alias/k',
      maxDatabaseSizeBytes: 1000,
      tlsMode: 'disable',
      compression: 'gzip',
      rpoMinutes: 15,
      rtoMinutes: 60,
      environment: 'Pro',
      metricsNamespace: 'Ns',
      safetyMarginMs: 0,
      s3Endpoint: 'http://127.0.0.1:1',
      s3ForcePathStyle: true,
    });
  });

  test('names the variable and the value on errors', () => {
    expect(() => configFromEnv({ ...base, SECRET_ARN: '' })).toThrow(/SECRET_ARN is required/);
    expect(() => configFromEnv({ ...base, ENGINE: undefined })).toThrow(/ENGINE is required/);
    expect(() => configFromEnv({ ...base, ENGINE: 'oracle' })).toThrow(/ENGINE must be one of postgres, mysql, mariadb, got "oracle"/);
    expect(() => configFromEnv({ ...base, COMPRESSION: 'lz4' })).toThrow(/COMPRESSION must be one of zstd, gzip, none/);
    expect(() => configFromEnv({ ...base, TLS_MODE: 'prefer' })).toThrow(/TLS_MODE must be one of require, verify-full, disable/);
    expect(() => configFromEnv({ ...base, MAX_DATABASE_SIZE_BYTES: '1e3.5' })).toThrow(/MAX_DATABASE_SIZE_BYTES must be a positive integer/);
    expect(() => configFromEnv({ ...base, DATABASES: 'app,--all-databases' })).toThrow(/Invalid database name "--all-databases"/);
  });

  test('prefix normalisation and key layout', () => {
    expect(normalizePrefix(undefined)).toBe('');
    expect(normalizePrefix('//a/b//')).toBe('a/b/');
    const keys = backupKeys('dumps/', 'my db/ü', Date.UTC(2025, 0, 2, 3, 4, 5), 'abc123', 'pgdump.zst');
    expect(keys).toEqual({
      dir: 'dumps/my_db__/20250102T030405Z-abc123/',
      objectKey: 'dumps/my_db__/20250102T030405Z-abc123/my_db__.pgdump.zst',
      manifestKey: 'dumps/my_db__/20250102T030405Z-abc123/manifest.json',
    });
    expect(dumpObjectFormat('postgres', 'gzip')).toMatchObject({ extension: 'pgdump', format: 'pg_dump-custom' });
    expect(dumpObjectFormat('mysql', 'gzip')).toMatchObject({ extension: 'sql.gz', contentType: 'application/gzip' });
  });
});

describe('secrets', () => {
  test('validates fields without echoing values', () => {
    const err = (() => {
      try {
        parseDbSecret(JSON.stringify({ host: 'h', password: 'Sup3rSecret' }), 'postgres', 'arn:s');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toBe('Secret arn:s lacks username');
    expect(() => parseDbSecret('not json Sup3rSecret', 'postgres', 'arn:s')).toThrow(/^Secret arn:s is not JSON; expected/);
    expect(() => parseDbSecret(JSON.stringify({ host: 'h', username: 'u', password: 'p', engine: 'mysql' }), 'postgres', 'arn:s'))
      .toThrow(/is for engine "mysql" but ENGINE=postgres/);
  });

  test('default ports and the RDS secret shape', () => {
    expect(parseDbSecret(JSON.stringify({ host: 'h', username: 'u', password: 'p', dbname: 'd', engine: 'aurora-postgresql' }), 'postgres', 'a'))
      .toMatchObject({ port: 5432, dbname: 'd' });
    expect(parseDbSecret(JSON.stringify({ host: 'h', username: 'u', password: 'p', port: '3307' }), 'mariadb', 'a')).toMatchObject({ port: 3307 });
  });
});

describe('commands: passwords only in the child environment', () => {
  const conn = { host: 'db', port: 5432, username: 'u', password: 'Pw-123', tlsMode: 'require' as const };

  test('pg_dump: custom format, TLS mode and password in env, compression per setting', () => {
    const zstd = dumpCommand('postgres', conn, 'app', 'zstd', { PATH: '/bin', AWS_SECRET_ACCESS_KEY: 'leak' });
    expect(zstd.args).toEqual(expect.arrayContaining(['--format=custom', '--compress=0']));
    expect(zstd.args.join(' ')).not.toContain('Pw-123');
    expect(zstd.env).toMatchObject({ PGPASSWORD: 'Pw-123', PGSSLMODE: 'require', PGDATABASE: 'app', PATH: '/bin' });
    expect(zstd.env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(dumpCommand('postgres', conn, 'app', 'gzip').args).not.toContain('--compress=0');
    // The snapshot exported by the row-count session, when there is one.
    expect(dumpCommand('postgres', conn, 'app', 'zstd', undefined, { snapshot: '00000003-0000002E-1' }).args).toContain('--snapshot=00000003-0000002E-1');
    expect(zstd.args.join(' ')).not.toContain('--snapshot');
  });

  test('mariadb-dump: consistent snapshot with routines, triggers and events; TLS options per mode', () => {
    const my = dumpCommand('mariadb', { ...conn, port: 3306 }, 'app', 'zstd');
    expect(my.args).toEqual(expect.arrayContaining(['--single-transaction', '--routines', '--triggers', '--events', '--hex-blob', '--ssl']));
    expect(my.args[my.args.length - 1]).toBe('app');
    expect(my.args.join(' ')).not.toContain('Pw-123');
    expect(my.env.MYSQL_PWD).toBe('Pw-123');
    expect(my.command).toBe('mariadb-dump');
    expect(dumpCommand('mariadb', { ...conn, tlsMode: 'disable' }, 'app', 'none').args).toContain('--skip-ssl');
    expect(dumpCommand('mariadb', { ...conn, tlsMode: 'verify-full', tlsCaFile: '/ca.pem' }, 'app', 'none').args)
      .toEqual(expect.arrayContaining(['--ssl-verify-server-cert', '--ssl-ca=/ca.pem']));
    expect(my.args).not.toContain('--set-gtid-purged=OFF');
  });

  test('MySQL 8: Oracle\'s mysqldump with --ssl-mode, no GTID_PURGED, no column statistics', () => {
    const my = dumpCommand('mysql', { ...conn, port: 3306 }, 'app', 'zstd');
    expect(my.command).toBe('mysqldump');
    expect(my.args).toEqual(expect.arrayContaining([
      '--single-transaction', '--routines', '--triggers', '--events', '--ssl-mode=REQUIRED', '--set-gtid-purged=OFF', '--column-statistics=0',
    ]));
    expect(my.args).not.toContain('--ssl');
    expect(my.args[my.args.length - 1]).toBe('app');
    expect(dumpCommand('mysql', { ...conn, tlsMode: 'disable' }, 'app', 'none').args)
      .toEqual(expect.arrayContaining(['--ssl-mode=DISABLED', '--get-server-public-key']));
    expect(dumpCommand('mysql', { ...conn, tlsMode: 'verify-full', tlsCaFile: '/ca.pem' }, 'app', 'none').args)
      .toEqual(expect.arrayContaining(['--ssl-mode=VERIFY_IDENTITY', '--ssl-ca=/ca.pem']));
    const restore = restoreCommand('mysql', conn, 'app');
    expect(restore.command).toBe('mysql');
    expect(restore.args).toEqual(expect.arrayContaining(['--ssl-mode=REQUIRED', '--binary-mode', '--database=app']));
  });

  test('pg_restore gets the database as a quoted conninfo value', () => {
    expect(conninfoQuote("we'ird\\db")).toBe("'we\\'ird\\\\db'");
    expect(restoreCommand('postgres', conn, 'a=b', { noOwner: true }).args)
      .toEqual(expect.arrayContaining(['--no-owner', "--dbname=dbname='a=b'", '--single-transaction', '--exit-on-error']));
  });

  test('child environment keeps PATH & co. only', () => {
    expect(childEnv({ X: '1' }, { PATH: '/p', AWS_ACCESS_KEY_ID: 'a', HOME: '/h' })).toEqual({ PATH: '/p', HOME: '/h', X: '1' });
  });
});

describe('versions', () => {
  test('parses tool versions', () => {
    expect(parsePgToolMajor('pg_dump (PostgreSQL) 16.4 (Debian 16.4-1.pgdg120+1)')).toBe(16);
    expect(parsePgToolMajor('pg_dump (PostgreSQL) 9.6.24')).toBe(9);
    expect(() => parsePgToolMajor('garbage')).toThrow(/Cannot parse/);
  });

  test('pg_dump older than the server is refused with the fix', () => {
    expect(() => checkVersions('postgres', 'pg_dump (PostgreSQL) 15.8', { version: '16.2', major: 16, tls: true }, 15))
      .toThrow(/pg_dump 15 is older than the PostgreSQL 16 server .* Rebuild the image with PG_MAJOR=16/);
    expect(() => checkVersions('postgres', 'pg_dump (PostgreSQL) 15.8', { version: '14.1', major: 14, tls: true }, 16))
      .toThrow(/older than the declared ENGINE_MAJOR=16/);
    expect(checkVersions('postgres', 'pg_dump (PostgreSQL) 17.0', { version: '16.2', major: 16, tls: true }, 15))
      .toEqual([expect.stringMatching(/server is PostgreSQL 16 but ENGINE_MAJOR=15/)]);
    expect(checkVersions('postgres', 'pg_dump (PostgreSQL) 17.0', { version: '17.0', major: 17, tls: true }, 17)).toEqual([]);
  });
});

describe('metrics', () => {
  test('embedded metric format with Database/Environment dimensions', () => {
    expect(emfRecord({
      namespace: 'Ns', database: 'app', environment: 'Pro', engine: 'postgres', bytes: 42, durationSeconds: 1.23456, success: true, timestamp: 1,
    })).toEqual({
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [{
          Namespace: 'Ns',
          Dimensions: [['Database', 'Environment']],
          Metrics: [
            { Name: 'BackupBytes', Unit: 'Bytes' },
            { Name: 'BackupDurationSeconds', Unit: 'Seconds' },
            { Name: 'BackupSuccess', Unit: 'Count' },
          ],
        }],
      },
      Database: 'app',
      Environment: 'Pro',
      Engine: 'postgres',
      BackupBytes: 42,
      BackupDurationSeconds: 1.235,
      BackupSuccess: 1,
    });
  });
});

describe('metrics with a backup job name', () => {
  test('adds the BackupJob/Environment dimension set', () => {
    const r = emfRecord({
      namespace: 'Ns', database: 'app', environment: 'QA', engine: 'mysql', backupJob: 'orders-db', bytes: 1, durationSeconds: 1, success: false,
    }) as { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }; BackupJob: string; BackupSuccess: number };
    expect(r._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Database', 'Environment'], ['BackupJob', 'Environment']]);
    expect(r).toMatchObject({ BackupJob: 'orders-db', BackupSuccess: 0 });
  });
});

describe('processes', () => {
  test('a missing tool is reported as such', async () => {
    const redactor = new Redactor();
    await expect(runCapture('pg_dump', '/nonexistent/pg_dump', ['--version'], childEnv({}), redactor, '(version check)'))
      .rejects.toThrow(/pg_dump could not be started: not found on PATH/);
  });

  test('failure messages carry the redacted stderr tail', async () => {
    const tool = new Tool('sh', 'sh', ['-c', 'echo "FATAL: password=hunter2 for Pw-9 rejected" >&2; exit 3'], childEnv({}));
    await tool.closed;
    const err = tool.describeFailure(new Redactor().add('Pw-9'), 'while testing');
    expect(err.message).toBe('sh exited with code 3 while testing: FATAL: password=*** for *** rejected');
  });
});

describe('runBackup without servers', () => {
  const sm = mockClient(SecretsManagerClient);
  afterAll(() => sm.restore());
  const config: BackupConfig = {
    secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
    engine: 'postgres',
    databases: ['app'],
    bucket: 'b',
    prefix: '',
    maxDatabaseSizeBytes: GiB,
    tlsMode: 'require',
    compression: 'zstd',
    environment: 'Dev',
    metricsNamespace: 'Ns',
    safetyMarginMs: 1000,
  };
  const unusedS3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

  test('a run that used 80% of its time budget says so, with the fix, and publishes the share used', async () => {
    // GIVEN a Lambda time budget of 1 ms and a database that cannot be reached (port 9: nothing listens)
    const lines: string[] = [];
    await expect(runBackup({ ...config, timeBudgetMs: 1 }, {
      s3: unusedS3, fetchSecret: async () => ({ host: '127.0.0.1', port: 9, username: 'u', password: 'Pw-not-used-1' }), log: (l) => lines.push(l),
    })).rejects.toThrow(BackupRunError);
    // THEN the warning names Fargate compute, and the metric has the share used and why it failed
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((o) => o.msg === 'backup is nearing the Lambda timeout');
    expect(warning).toMatchObject({ level: 'WARN', fix: expect.stringMatching(/Fargate compute \(compute: DumpCompute\.fargate\(\)/) });
    expect(emfRecords(lines)[0]).toMatchObject({ BackupSuccess: 0, FailureKind: 'connection', BackupTimeoutUsedPercent: expect.any(Number) });
    expect(emfRecords(lines)[0].BackupTimeoutUsedPercent as number).toBeGreaterThanOrEqual(80);
  });

  test('no warning and no time metric without a budget (Fargate)', async () => {
    const lines: string[] = [];
    await expect(runBackup(config, {
      s3: unusedS3, fetchSecret: async () => ({ host: '127.0.0.1', port: 9, username: 'u', password: 'Pw-not-used-1' }), log: (l) => lines.push(l),
    })).rejects.toThrow(BackupRunError);
    expect(lines.join('\n')).not.toContain('nearing the Lambda timeout');
    expect(emfRecords(lines)[0]).not.toHaveProperty('BackupTimeoutUsedPercent');
  });

  test('an unreadable secret fails with a failure metric', async () => {
    sm.reset();
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const lines: string[] = [];
    const err = await runBackup(config, { s3: unusedS3, secretsManager: new SecretsManagerClient({ region: 'us-east-1' }), log: (l) => lines.push(l) })
      .then(() => undefined, (e: BackupRunError) => e);
    expect(err).toBeInstanceOf(BackupRunError);
    expect(err!.message).toMatch(/Backup failed \[secret\]: Cannot read secret arn:.*: AccessDeniedException: User is not authorized/);
    expect(emfRecords(lines)).toEqual([expect.objectContaining({ Database: 'app', BackupSuccess: 0 })]);
  });

  test('a secret that is not JSON: the value never reaches the message', async () => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'host=db password=Sup3r' });
    const err = await runBackup(config, { s3: unusedS3, secretsManager: new SecretsManagerClient({ region: 'us-east-1' }), log: () => undefined })
      .then(() => undefined, (e: BackupRunError) => e);
    expect(err!.message).toMatch(/is not JSON/);
    expect(err!.message).not.toContain('Sup3r');
  });

  test('a maximum size beyond S3 limits is a configuration error', async () => {
    const err = await runBackup({ ...config, maxDatabaseSizeBytes: 60 * 1024 * 1024 * GiB }, { s3: unusedS3, log: () => undefined })
      .then(() => undefined, (e: BackupRunError) => e);
    expect(err!.message).toMatch(/Backup failed \[config\]: MAX_DATABASE_SIZE_BYTES=.* cannot be uploaded/);
  });

  test('the Lambda handler fails on missing configuration', async () => {
    const saved = { ...process.env };
    try {
      delete process.env.SECRET_ARN;
      Object.assign(process.env, { ENGINE: 'postgres', BUCKET: 'b', DATABASES: 'app', ENVIRONMENT: 'Pro', BACKUP_JOB: 'job1' });
      const logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      await expect(handler({}, { getRemainingTimeInMillis: () => 900_000 })).rejects.toThrow(/Environment variable SECRET_ARN is required/);
      expect(emfRecords(logSpy.mock.calls.map((c) => String(c[0])))).toEqual([
        expect.objectContaining({ Database: 'app', Environment: 'Pro', BackupJob: 'job1', BackupSuccess: 0 }),
      ]);
      logSpy.mockRestore();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('clean-up after a failure with the job role\'s least privilege', () => {
  const denied = () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  const notFound = () => Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

  test('aborts the known upload; checks it may not do are skipped, not reported', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const m = mockClient(s3);
    m.on(ListMultipartUploadsCommand).rejects(denied());
    m.on(AbortMultipartUploadCommand).resolves({});
    m.on(HeadObjectCommand).rejects(denied());
    expect(await cleanUpFailedUpload(s3, 'b', 'k', 'u1', 1)).toEqual([]);
    expect(m.commandCalls(AbortMultipartUploadCommand)[0].args[0].input).toEqual({ Bucket: 'b', Key: 'k', UploadId: 'u1' });
    m.restore();
  });

  test('aborts uploads still listed, removes an object whose completion raced the failure, reports what it cannot fix', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const m = mockClient(s3);
    m.on(ListMultipartUploadsCommand).resolvesOnce({ Uploads: [{ Key: 'k', UploadId: 'u2' }, { Key: 'k2', UploadId: 'other' }] }).resolves({});
    m.on(AbortMultipartUploadCommand, { UploadId: 'u1' }).rejects(Object.assign(new Error('gone'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } }));
    m.on(AbortMultipartUploadCommand, { UploadId: 'u2' }).resolves({});
    m.on(HeadObjectCommand).resolves({ ContentLength: 5 });
    m.on(DeleteObjectCommand).rejects(denied());
    const problems = await cleanUpFailedUpload(s3, 'b', 'k', 'u1', 1);
    expect(m.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input.UploadId).sort()).toEqual(['u1', 'u2']);
    expect(problems).toEqual([expect.stringMatching(/^removing an object completed despite the failure \(it has no manifest\) failed: AccessDenied/)]);
    m.reset();
    m.on(ListMultipartUploadsCommand).resolves({});
    m.on(HeadObjectCommand).rejects(notFound());
    expect(await cleanUpFailedUpload(s3, 'b', 'k', undefined, 1)).toEqual([]);
    m.restore();
  });
});

describe('restore command line', () => {
  test('parses the manifest URI and options; refuses passwords on the command line', () => {
    expect(parseS3Uri('s3://b/k/manifest.json')).toEqual({ bucket: 'b', key: 'k/manifest.json' });
    expect(parseRestoreArgs(['--manifest', 's3://b/p/manifest.json', '--target-host', 'h', '--target-port=6543', '--target-db', 'd', '--no-owner', '--create-db']))
      .toMatchObject({ bucket: 'b', manifestKey: 'p/manifest.json', host: 'h', port: 6543, database: 'd', noOwner: true, createDatabase: true, tlsMode: 'require' });
    expect(() => parseRestoreArgs(['--manifest', 's3://b/k', '--target-password', 'x'])).toThrow(/never accepted on the command line/);
    expect(() => parseRestoreArgs(['--target-host', 'h'])).toThrow(/--manifest s3:\/\/bucket\/key is required/);
    expect(() => parseRestoreArgs(['--manifest', 's3://b/k', '--tls', 'prefer'])).toThrow(/--tls must be one of/);
  });
});

describeWithServices('test support sanity (the assertions can fail)', (svc) => {
  test('the S3 server lists and aborts multipart uploads', async () => {
    const s3 = testS3Client(svc.s3);
    try {
      await ensureBucket(s3, svc.s3.bucket);
      const prefix = uniquePrefix('support');
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: svc.s3.bucket, Key: `${prefix}x` }));
      expect(await listUploads(s3, svc.s3.bucket, prefix)).toEqual([{ key: `${prefix}x`, uploadId: UploadId }]);
      expect(await listUploads(s3, svc.s3.bucket, `${prefix}y`)).toEqual([]);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: svc.s3.bucket, Key: `${prefix}x`, UploadId }));
      expect(await listUploads(s3, svc.s3.bucket, prefix)).toEqual([]);
      await expect(s3.send(new AbortMultipartUploadCommand({ Bucket: svc.s3.bucket, Key: `${prefix}x`, UploadId })))
        .rejects.toMatchObject({ name: 'NoSuchUpload' });
    } finally {
      s3.destroy();
    }
  });

  test('the fault proxy drops UploadPart connections after the byte budget', async () => {
    const proxy = await FaultProxy.start(svc.s3.endpoint);
    const s3 = testS3Client(svc.s3, proxy.endpoint);
    try {
      proxy.setMode('drop', 1024);
      const prefix = uniquePrefix('support');
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: svc.s3.bucket, Key: `${prefix}x` }));
      await expect(s3.send(new UploadPartCommand({ Bucket: svc.s3.bucket, Key: `${prefix}x`, UploadId, PartNumber: 1, Body: Buffer.alloc(64 * 1024) })))
        .rejects.toThrow();
      expect(proxy.dropped).toBeGreaterThanOrEqual(2); // the trip, then the SDK's retries
      proxy.setMode('pass');
      await s3.send(new AbortMultipartUploadCommand({ Bucket: svc.s3.bucket, Key: `${prefix}x`, UploadId }));
    } finally {
      s3.destroy();
      await proxy.close();
    }
  });
});

describe('the dump image and the handler agree on the tools', () => {
  // The image cannot be built here: this reads the Dockerfile's per-ENGINE branches, whose `tools` lists
  // the image build checks (`command -v` on each), and compares them with what the handler spawns.
  const dockerfile = fs.readFileSync(path.join(__dirname, '../../src/external-db/docker/Dockerfile'), 'utf8');
  const branchTools = (condition: RegExp): string[] => {
    const lines = dockerfile.split('\n');
    const start = lines.findIndex((l) => condition.test(l));
    expect(start).toBeGreaterThan(0);
    const indent = /^\s*/.exec(lines[start])![0];
    const end = lines.findIndex((l, i) => i > start && l === `${indent}fi; \\`);
    const assigned = lines.slice(start, end).map((l) => /tools="\$\{tools\} ([^"]+)"/.exec(l)?.[1]).filter((t): t is string => !!t);
    return assigned.join(' ').split(/\s+/);
  };
  const common = /^\s*tools="([^"$]+)"; \\$/m.exec(dockerfile)?.[1].split(/\s+/) ?? [];

  test.each<[Engine, RegExp]>([
    ['postgres', /if \[ -z "\$\{ENGINE\}" \] \|\| \[ "\$\{ENGINE\}" = "postgres" \]; then/],
    ['mysql', /if \[ "\$\{ENGINE\}" = "mysql" \]; then/],
    ['mariadb', /if \[ -z "\$\{ENGINE\}" \] \|\| \[ "\$\{ENGINE\}" = "mariadb" \]; then/],
  ])('ENGINE=%s: the image installs and checks exactly the tools the handler spawns', (engine, branch) => {
    expect([...new Set([...common, ...branchTools(branch)])].sort()).toEqual(engineTools(engine));
  });

  test('the MySQL branch installs Oracle\'s MySQL 8 client, not MariaDB\'s', () => {
    const mysqlBranch = dockerfile.slice(dockerfile.indexOf('if [ "${ENGINE}" = "mysql" ]; then'));
    expect(mysqlBranch.slice(0, mysqlBranch.indexOf('fi; \\'))).toMatch(/pkgs="\$\{pkgs\} mysql-community-client"/);
    expect(dockerfile).toMatch(/^ARG MYSQL_SERIES=8\.\d$/m);
    expect(dockerfile).toMatch(/for t in \$\{tools\}; do command -v "\$\{t\}"/);
  });
});
