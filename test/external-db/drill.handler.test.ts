/**
 * Restore drill against the real servers: a real backup (runBackup → the local S3 server), then the drill
 * restores the latest dump into a throw-away server of the same engine (initdb/pg_ctl from $BDR_PG_BIN_DIR,
 * mariadb-install-db/mariadbd), compares row counts with the manifest and publishes the duration; a
 * corrupted dump, a dump without manifest and a row-count difference fail it loudly.
 */
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { emfRecords } from './support/assertions';
import { EngineAdapter, engineAdapters } from './support/engines';
import { deletePrefix, describeWithServices, ensureBucket, getText, testS3Client, uniquePrefix } from './support/services';
import { BackupManifest, runBackup } from '../../src/external-db/handler/backup';
import { keySegment } from '../../src/external-db/handler/config';
import {
  compareRowCounts, countRows, DrillError, drillOptionsFromEnv, DrillOptions, findLatestDump, runDrill,
} from '../../src/external-db/handler/drill';
import { main } from '../../src/external-db/handler/index';

jest.setTimeout(240_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:drill-AbCdEf';

describeWithServices('external-db restore drill', (svc) => {
  describe.each(engineAdapters(svc).map((a) => [a.name, a] as [string, EngineAdapter]))('%s', (_name, db) => {
    const source = `bdr_drill_${db.engine}_${process.pid}`;
    const prefix = uniquePrefix(`drill-${db.engine}`);
    let s3: S3Client;
    let manifest: BackupManifest;
    let sourceCounts: Record<string, number>;

    beforeAll(async () => {
      s3 = testS3Client(svc.s3);
      await ensureBucket(s3, svc.s3.bucket);
      await db.recreate(source);
      await db.seed(source);
      // Secrets Manager at the client boundary: the connection secret of the source database.
      const secretsManager = { send: async () => ({ SecretString: JSON.stringify(db.secret(source)) }) } as unknown as SecretsManagerClient;
      const run = await runBackup(db.config(SECRET_ARN, `${prefix}base/`, { rtoMinutes: 240 }), { s3, secretsManager, log: () => undefined });
      manifest = JSON.parse(await getText(s3, svc.s3.bucket, run.results[0].manifestKey!)) as BackupManifest;
      const t = db.target(source);
      const conn = { host: t.host, port: t.port, username: t.username, password: t.password, tlsMode: t.tlsMode };
      sourceCounts = await countRows(db.engine, conn, source);
    });

    afterAll(async () => {
      await db.drop(source);
      await deletePrefix(s3, svc.s3.bucket, prefix);
      s3.destroy();
    });

    /** A dump directory under `<prefix><caseName>/`: a copy of the real dump, its manifest changed by `edit` (or none). */
    interface StageOptions { edit?: (m: Record<string, unknown>) => void; corrupt?: boolean; manifest?: boolean; dir?: string }
    async function stage(caseName: string, opts: StageOptions = {}) {
      const dir = `${prefix}${caseName}/${keySegment(source)}/${opts.dir ?? '20990101T000000Z-drill'}/`;
      const objectKey = `${dir}${manifest.objectKey.split('/').pop()}`;
      if (opts.corrupt) {
        const original = await s3.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: manifest.objectKey }));
        const body = Buffer.from(await original.Body!.transformToByteArray());
        // One byte changed in the middle: same size, different SHA-256.
        const mid = Math.floor(body.length / 2);
        body[mid] = 255 - body[mid];
        await s3.send(new PutObjectCommand({ Bucket: svc.s3.bucket, Key: objectKey, Body: body }));
      } else {
        await s3.send(new CopyObjectCommand({ Bucket: svc.s3.bucket, Key: objectKey, CopySource: `${svc.s3.bucket}/${manifest.objectKey}` }));
      }
      if (opts.manifest !== false) {
        const m: Record<string, unknown> = { ...manifest, objectKey, objectETag: undefined, objectVersionId: undefined };
        opts.edit?.(m);
        await s3.send(new PutObjectCommand({ Bucket: svc.s3.bucket, Key: `${dir}manifest.json`, Body: JSON.stringify(m) }));
      }
      return `${prefix}${caseName}/`;
    }

    const options = (dumpPrefix: string): DrillOptions => ({
      bucket: svc.s3.bucket,
      prefix: dumpPrefix,
      engine: db.engine,
      databases: [source],
      rtoMinutes: 240,
      environment: 'QA',
      metricsNamespace: 'CdkBackupDr/ExternalDb',
      backupJob: 'Stack/Crm',
      serverBinDir: process.env.BDR_PG_BIN_DIR,
    });

    test('the backup wrote the source\'s row counts into the manifest', () => {
      expect(manifest.rowCounts).toEqual(sourceCounts);
      expect(Object.keys(sourceCounts).length).toBe(3);
    });

    test('restores the latest dump into a throw-away server, row counts equal the manifest the backup wrote, duration published', async () => {
      // The manifest as the backup wrote it (its rowCounts included), only moved to the staged directory.
      const dumpPrefix = await stage('ok');
      // An older complete dump is ignored: the newest one is drilled.
      await stage('ok', { dir: '20200101T000000Z-old', corrupt: true });
      const lines: string[] = [];
      const [result] = await runDrill(options(dumpPrefix), { s3, log: (l) => lines.push(l) });
      expect(result).toMatchObject({ database: source, success: true, rowCountsCompared: true, withinRto: true });
      expect(result.manifestKey).toMatch(/20990101T000000Z-drill\/manifest\.json$/);
      expect(result.rowCounts).toEqual(sourceCounts);
      expect(Object.values(sourceCounts).reduce((a, b) => a + b, 0)).toBeGreaterThan(100_000);
      const emf = emfRecords(lines);
      expect(emf).toEqual([expect.objectContaining({ Database: source, Environment: 'QA', BackupJob: 'Stack/Crm', DrillSuccess: 1, DrillWithinRto: 1 })]);
      expect(emf[0].DrillDurationSeconds).toBeGreaterThan(0);
      expect(JSON.stringify(emf[0]._aws)).toMatch(/DrillDurationSeconds/);
    });

    test('a manifest without rowCounts (a dump of an older version): restored and reported, with a warning that nothing was compared', async () => {
      const lines: string[] = [];
      const [result] = await runDrill(options(await stage('nocounts', { edit: (m) => { delete m.rowCounts; } })), { s3, log: (l) => lines.push(l) });
      expect(result).toMatchObject({ success: true, rowCountsCompared: false });
      expect(lines.join('\n')).toMatch(/"level":"WARN","msg":"the manifest has no rowCounts/);
    });

    test('row counts that differ from the manifest (tampered rowCounts) fail the drill, naming the table', async () => {
      const [table, n] = Object.entries(sourceCounts)[0];
      const dumpPrefix = await stage('diff', { edit: (m) => { m.rowCounts = { ...sourceCounts, [table]: n + 1 }; } });
      const lines: string[] = [];
      await expect(runDrill(options(dumpPrefix), { s3, log: (l) => lines.push(l) }))
        .rejects.toThrow(new RegExp(`Row counts of the restored "${source}" differ from the manifest: ${table.replace('.', '\\.')}: restored ${n}, manifest ${n + 1}`));
      expect(emfRecords(lines)[0]).toMatchObject({ DrillSuccess: 0 });
    });

    test('a corrupted dump fails the drill before anything is restored', async () => {
      const lines: string[] = [];
      await expect(runDrill(options(await stage('corrupt', { corrupt: true })), { s3, log: (l) => lines.push(l) }))
        .rejects.toThrow(/does not match its manifest: .* expected \d+ bytes with [0-9a-f]{64}\. Nothing was restored/);
      expect(emfRecords(lines)[0]).toMatchObject({ DrillSuccess: 0 });
      expect(lines.join('\n')).toMatch(/"level":"ERROR","msg":"drill FAILED"/);
    });

    test('a newest dump without a manifest fails the drill loudly (no silent fallback to an older dump)', async () => {
      await stage('nomanifest', { dir: '20200101T000000Z-old' });
      const dumpPrefix = await stage('nomanifest', { manifest: false });
      await expect(runDrill(options(dumpPrefix), { s3, log: () => undefined }))
        .rejects.toThrow(/The newest dump of "bdr_drill_.*" \(.*20990101T000000Z-drill\/.*\) has no manifest/);
    });
  });
});

describe('drill helpers', () => {
  test('compareRowCounts names missing, extra and different tables', () => {
    expect(compareRowCounts({ a: 1, b: 2, c: 3 }, { a: 1, b: 3, d: 4 })).toEqual([
      'b: restored 2, manifest 3', 'c: restored 3, manifest not listed', 'd: restored missing, manifest 4',
    ]);
  });

  test('options from the dump job environment', () => {
    expect(drillOptionsFromEnv({ BUCKET: 'b', PREFIX: '/dumps', ENGINE: 'MariaDB', DATABASES: 'crm, erp', RTO_MINUTES: '240', ENVIRONMENT: 'Pro' })).toMatchObject({
      bucket: 'b', prefix: 'dumps/', engine: 'mariadb', databases: ['crm', 'erp'], rtoMinutes: 240, environment: 'Pro', metricsNamespace: 'CdkBackupDr/ExternalDb',
    });
    expect(() => drillOptionsFromEnv({ BUCKET: 'b' })).toThrow(DrillError);
    expect(() => drillOptionsFromEnv({ BUCKET: 'b', ENGINE: 'oracle' })).toThrow(/ENGINE must be one of/);
  });

  test('the image entry point dispatches `drill` (exit code 1 and an ERROR line on a bad option)', async () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(main(['drill', '--bogus'])).resolves.toBe(1);
      expect(String(errors.mock.calls[0][0])).toMatch(/"level":"ERROR","msg":"drill failed".*Unknown option --bogus/);
    } finally {
      errors.mockRestore();
    }
  });

  test('no dump at all is an error', async () => {
    const s3 = { send: async () => ({ Contents: [] }) } as unknown as S3Client;
    await expect(findLatestDump(s3, 'b', 'p/', 'crm')).rejects.toThrow(/No dump of database "crm" under s3:\/\/b\/p\/crm\//);
  });
});
