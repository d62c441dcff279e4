/**
 * Fault injection with real servers, one suite for every engine (support/engines.ts). Each fault must
 * end with a clear error, a failure metric that says why (BackupSuccess 0, FailureKind), no manifest and
 * nothing left in the bucket: no dump object, no multipart upload. A fault the SDK's retries absorb must
 * end with a backup that restores row-exact.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AbortMultipartUploadCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { emfRecords, expectNothingLeft, expectRunError, logRecords } from './support/assertions';
import { EngineAdapter, engineAdapters } from './support/engines';
import { FaultProxy } from './support/fault-proxy';
import {
  closedPort, deletePrefix, describeWithServices, ensureBucket, getText, listKeys, listUploads, services, testS3Client, uniquePrefix, waitFor,
} from './support/services';
import { installShims, Shims } from './support/tool-shims';
import type { DbSecret } from '../../src/external-db/handler/aws';
import { BackupDeps, FailureKind, runBackup } from '../../src/external-db/handler/backup';
import { BackupConfig, MiB } from '../../src/external-db/handler/config';
import { handler } from '../../src/external-db/handler/index';
import { runRestore } from '../../src/external-db/handler/restore';

jest.setTimeout(120_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:faults-AbCdEf';
const WRONG_PASSWORD = 'Wr0ng-Pa55!word-xyz';
const CLEANUP_INCOMPLETE = 'clean-up after a failed backup incomplete';

/**
 * `BackupDeps.maxParts` such that part size x maxParts (the handler's size limit) is exactly `limit` in
 * floating point: the quotient, or one of its neighbouring doubles when the product rounds off.
 */
function maxPartsFor(limit: number, partSize: number): number {
  const view = new DataView(new ArrayBuffer(8));
  const neighbour = (x: number, steps: number): number => {
    view.setFloat64(0, x);
    view.setBigInt64(0, view.getBigInt64(0) + BigInt(steps));
    return view.getFloat64(0);
  };
  const q = limit / partSize;
  const m = [0, -1, 1, -2, 2].map((d) => neighbour(q, d)).find((c) => partSize * c === limit);
  if (m === undefined) throw new Error(`no maxParts gives a limit of exactly ${limit} bytes with ${partSize}-byte parts`);
  return m;
}

/** Whether a process with this pid exists (a zombie counts: it has not been reaped). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

describeWithServices('external-db handler faults', (svc) => {
  describe.each(engineAdapters(svc).map((a) => [a.name, a] as [string, EngineAdapter]))('%s', (_name, db) => {
    // The seeded tables (~14 MB uncompressed: three 5 MiB parts) for most faults; the same plus a ~30 MB
    // table for the one fault that needs a dump still running behind a stalled upload.
    const database = `bdr_fault_${db.engine}_${process.pid}`;
    const big = `bdr_fault_big_${db.engine}_${process.pid}`;
    const prefix = uniquePrefix(`faults-${db.engine}`);
    const secretsManager = mockClient(SecretsManagerClient);
    const restored: string[] = [];
    let s3: S3Client;
    let proxy: FaultProxy;
    let proxied: S3Client;
    let shims: Shims | undefined;
    let expected: Record<string, string>;

    const secret = (overrides: Record<string, unknown> = {}, dbname = database) => {
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify(db.secret(dbname, overrides)) });
    };
    const config = (name: string, overrides: Partial<BackupConfig> = {}): BackupConfig =>
      db.config(SECRET_ARN, `${prefix}${name}/`, overrides);
    const deps = (lines: string[], extra: Partial<BackupDeps> = {}): BackupDeps =>
      ({ s3: proxied, secretsManager: new SecretsManagerClient({}), log: (l) => lines.push(l), ...extra });

    /**
     * The failure contract: error kind, metric with the kind, no manifest, no object, no upload, and a
     * clean-up that reported no problem (neither in the error nor as an ERROR line).
     */
    const expectCleanFailure = async (
      name: string, lines: string[], err: { message?: string; results: Array<{ failureKind?: FailureKind }> }, kind: FailureKind,
    ) => {
      expect(err.results[0].failureKind).toBe(kind);
      if (err.message !== undefined) expect(err.message).not.toContain('clean-up incomplete');
      expect(logRecords(lines).filter((r) => r.msg === CLEANUP_INCOMPLETE)).toEqual([]);
      await expectNothingLeft(s3, svc.s3.bucket, `${prefix}${name}/`);
      const metrics = emfRecords(lines);
      expect(metrics).toHaveLength(1);
      expect(metrics[0]).toMatchObject({ BackupSuccess: 0, FailureKind: kind, BackupFailures: 1, Environment: 'QA' });
      expect((metrics[0]._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[1].Dimensions)
        .toEqual([['Environment', 'FailureKind']]);
    };

    /** A recovered fault: one manifest and one object, which restore row-exact into a fresh database. */
    const expectRestorable = async (name: string, lines: string[]) => {
      const keys = await listKeys(s3, svc.s3.bucket, `${prefix}${name}/`);
      expect(keys).toHaveLength(2);
      expect(keys.filter((k) => db.extension('none').test(k))).toHaveLength(1);
      expect(keys.filter((k) => k.endsWith('/manifest.json'))).toHaveLength(1);
      expect(await listUploads(s3, svc.s3.bucket, `${prefix}${name}/`)).toEqual([]);
      expect(emfRecords(lines)[0]).toMatchObject({ BackupSuccess: 1 });
      const target = `bdr_fault_rt_${name.replace(/\W/g, '_')}_${process.pid}`;
      restored.push(target);
      await db.drop(target);
      await runRestore({
        bucket: svc.s3.bucket, manifestKey: keys.find((k) => k.endsWith('manifest.json'))!, createDatabase: true, target: db.target(target),
      }, { s3, log: () => undefined });
      const got = await db.fingerprint(target);
      expect(got).toEqual(expected);
    };

    beforeAll(async () => {
      s3 = testS3Client(svc.s3);
      await ensureBucket(s3, svc.s3.bucket);
      await db.recreate(database);
      await db.seed(database);
      expected = await db.fingerprint(database);
      await db.recreate(big);
      await db.seedBig(big);
    });

    beforeEach(async () => {
      secret();
      proxy = await FaultProxy.start(svc.s3.endpoint);
      proxied = testS3Client(svc.s3, proxy.endpoint);
    });

    afterEach(async () => {
      proxied.destroy();
      await proxy.close();
      shims?.remove();
      shims = undefined;
    });

    afterAll(async () => {
      for (const d of [database, big, ...restored]) await db.drop(d);
      await deletePrefix(s3, svc.s3.bucket, prefix);
      secretsManager.restore();
      s3.destroy();
    });

    // ---- the dump tools -------------------------------------------------------------------------

    test('the dump tool exits non-zero after its last byte: no manifest, even though the output looked whole', async () => {
      // GIVEN a dump tool that writes its complete output, closes stdout, and only then fails
      shims = installShims([{ tool: db.dumpTool, behaviour: 'fail-after-output', exitCode: 3 }]);
      const lines: string[] = [];
      // WHEN the backup runs
      const err = await expectRunError(runBackup(config('dump-exit'), deps(lines, { baseEnv: shims.env })));
      // THEN it fails with the tool's exit status and leaves nothing
      expect(err.message).toMatch(new RegExp(`failed \\[dump\\]: ${db.dumpTool} exited with code 3 while dumping database "${database}".*injected failure after the last byte`));
      await expectCleanFailure('dump-exit', lines, err, 'dump');
    });

    test('zstd exits non-zero after its last byte', async () => {
      shims = installShims([{ tool: 'zstd', behaviour: 'fail-after-output', exitCode: 1 }]);
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('zstd-exit', { compression: 'zstd' }), deps(lines, { baseEnv: shims.env })));
      expect(err.message).toMatch(/failed \[dump\]: zstd exited with code 1 while dumping database .*injected failure after the last byte/);
      await expectCleanFailure('zstd-exit', lines, err, 'dump');
    });

    test('zstd fails mid-stream (the dump tool then fails on the broken pipe)', async () => {
      shims = installShims([{ tool: 'zstd', behaviour: 'fail-midstream', afterBytes: 256 * 1024, exitCode: 1 }]);
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('zstd-mid', { compression: 'zstd' }), deps(lines, { baseEnv: shims.env })));
      expect(err.message).toMatch(/failed \[dump\]: (zstd exited with code 1|\S+ (exited with code \d+|was killed by SIGPIPE))/);
      await expectCleanFailure('zstd-mid', lines, err, 'dump');
      await waitFor('the dump session to end', async () => ((await db.dumpSessions(database)) === 0 ? true : undefined), 10_000);
    });

    test.each(['dump tool', 'zstd'] as const)('a failed backup returns only after its tools exited (%s slow to stop): none is left running', async (which) => {
      // GIVEN a tool that is still running when the backup fails and, told to stop (SIGTERM), takes 1.5 s to exit
      const tool = which === 'zstd' ? 'zstd' : db.dumpTool;
      shims = installShims([{ tool, behaviour: 'slow-to-stop', lingerSeconds: 1.5 }]);
      const name = `slow-stop-${which === 'zstd' ? 'zstd' : 'dump'}`;
      const lines: string[] = [];
      // WHEN the backup fails: its (compressed) output outgrows a 100 KiB limit early
      const run = runBackup(config(name, { compression: which === 'zstd' ? 'zstd' : 'none' }),
        deps(lines, { baseEnv: shims.env, maxParts: 0.02, failureGraceMs: 200 }));
      const outcome = await run.then(() => undefined, (e: Error) => e);
      // THEN, the moment runBackup rejects, the tool has exited (and been reaped)
      const pid = Number(fs.readFileSync(path.join(shims.dir, `${tool}.pid`), 'utf8').trim());
      const aliveAtRejection = isAlive(pid);
      expect(outcome).toBeDefined();
      const err = await expectRunError(Promise.reject(outcome));
      expect(err.message).toMatch(/failed \[size\]: The dump exceeds 104857\.?\d* bytes/);
      // (the tool was running at the failure and was told to stop: the wait is what this test is about)
      expect(fs.readFileSync(path.join(shims.dir, `${tool}.term`), 'utf8')).toBe('SIGTERM\n');
      expect(aliveAtRejection).toBe(false);
      await expectCleanFailure(name, lines, err, 'size');
    });

    // MySQL/MariaDB only: the rows are counted in the dump stream (PostgreSQL counts them in its snapshot).
    (db.engine === 'mariadb' ? test : test.skip)('a dump the row counter cannot fully read: stored, its manifest without rowCounts, with a WARN line', async () => {
      // GIVEN a dump tool that writes, after the real dump, an INSERT the counter cannot count (no VALUES
      // list; a no-op when restored)
      const statement = 'INSERT INTO `customers` SELECT * FROM `customers` WHERE 1 = 0;\n';
      shims = installShims([{ tool: db.dumpTool, behaviour: 'append-output', output: statement }]);
      const lines: string[] = [];
      // WHEN the backup runs
      const { results: [r] } = await runBackup(config('uncountable'), deps(lines, { baseEnv: shims.env }));
      // THEN it succeeds, and the manifest (as stored and as returned) has no rowCounts: incomplete counts are not written
      expect(r).toMatchObject({ success: true });
      const stored = JSON.parse(await getText(s3, svc.s3.bucket, r.manifestKey!)) as Record<string, unknown>;
      expect(stored).toMatchObject({ objectKey: r.objectKey, bytes: r.bytes, sha256: r.sha256, engine: db.engine });
      expect(Object.keys(stored)).not.toContain('rowCounts');
      expect(r.manifest!.rowCounts).toBeUndefined();
      // AND the stored dump is the tool's output, the statement included
      expect((await getText(s3, svc.s3.bucket, r.objectKey!)).endsWith(statement)).toBe(true);
      // AND a WARN line says why, with the statement the counter could not read
      expect(logRecords(lines).filter((l) => /rows could not all be counted/.test(String(l.msg)))).toEqual([expect.objectContaining({
        level: 'WARN',
        msg: expect.stringMatching(/^the dump's rows could not all be counted: the manifest has no rowCounts/),
        database,
        problems: [expect.stringMatching(/^unreadable INSERT statement \(no VALUES list\): INSERT INTO `customers` SELECT \* FROM `customers` WHERE 1 = 0$/)],
      })]);
      expect(emfRecords(lines)).toEqual([expect.objectContaining({ BackupSuccess: 1, BackupBytes: r.bytes })]);
    });

    test('the database session is killed mid-dump', async () => {
      // GIVEN an upload that stalls, so the dump is still reading the big table
      secret({}, big);
      proxy.setMode('hold');
      const lines: string[] = [];
      const run = runBackup(config('killed'), deps(lines));
      run.catch(() => undefined);
      const id = await waitFor('the dump reading the big table', () => db.dumpSessionReadingBig(big));
      await waitFor('a held part upload', async () => (proxy.heldCount > 0 ? true : undefined));
      // WHEN a second connection kills it
      await db.killSession(id);
      proxy.setMode('pass');
      // THEN
      const err = await expectRunError(run);
      expect(err.message).toMatch(db.killedSessionError);
      await expectCleanFailure('killed', lines, err, 'dump');
    });

    // PostgreSQL only: the session that exported the dump's snapshot counts the rows after the dump.
    (db.engine === 'postgres' ? test : test.skip)('the row-count snapshot session is terminated: no manifest, nothing left', async () => {
      // GIVEN a dump tool after which a second connection terminates the handler's other session (the snapshot's)
      shims = installShims([{
        tool: db.dumpTool,
        behaviour: 'wrap',
        after: db.shellSql(database, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() ' +
          "AND application_name = 'cdk-backup-dr' AND pid <> pg_backend_pid();"),
      }]);
      const lines: string[] = [];
      // WHEN the backup runs THEN it fails (the counts cannot be taken), with no manifest and no object
      const err = await expectRunError(runBackup(config('count-session'), deps(lines, { baseEnv: shims.env })));
      expect(err.message).toMatch(/failed \[dump\]: .*psql .*\(snapshot session, /);
      await expectCleanFailure('count-session', lines, err, 'dump');
      expect(await db.dumpSessions(database)).toBe(0);
    });

    // ---- S3 ---------------------------------------------------------------------------------------

    test('HTTP 500 and throttling (503 SlowDown) absorbed by the retries: the backup restores row-exact', async () => {
      proxy.addFault({ op: 'CreateMultipartUpload', status: 503, code: 'SlowDown', times: 1 });
      // At most two injected part failures in all: even when both hit the same part, its third attempt
      // (the SDK makes three) goes through.
      proxy.addFault({ op: 'UploadPart', status: 500, code: 'InternalError', times: 1 });
      proxy.addFault({ op: 'UploadPart', status: 503, code: 'SlowDown', times: 1 });
      proxy.addFault({ op: 'CompleteMultipartUpload', status: 500, code: 'InternalError', times: 1 });
      const lines: string[] = [];
      await runBackup(config('s3-recovered'), deps(lines));
      expect(proxy.injected).toEqual({ CreateMultipartUpload: 1, UploadPart: 2, CompleteMultipartUpload: 1 });
      await expectRestorable('s3-recovered', lines);
    });

    test('throttling that outlasts the retries fails the upload', async () => {
      proxy.addFault({ op: 'UploadPart', status: 503, code: 'SlowDown' });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('s3-throttled'), deps(lines)));
      expect(err.message).toMatch(/failed \[upload\]: S3 UploadPart for s3:\/\/bdr-test\/.* failed after retries: SlowDown/);
      await expectCleanFailure('s3-throttled', lines, err, 'upload');
      await waitFor('the dump session to end', async () => ((await db.dumpSessions(database)) === 0 ? true : undefined), 10_000);
    });

    test('HTTP 500 on every part upload fails the upload', async () => {
      proxy.addFault({ op: 'UploadPart', status: 500 });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('s3-500'), deps(lines)));
      expect(err.message).toMatch(/failed \[upload\]: S3 UploadPart .* failed after retries: InternalError/);
      await expectCleanFailure('s3-500', lines, err, 'upload');
    });

    test('the connection drops mid-upload (after N bytes of UploadPart traffic)', async () => {
      proxy.setMode('drop', 6 * 1024 * 1024);
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('s3-drop'), deps(lines)));
      expect(proxy.uploadPartBytes).toBeGreaterThan(6 * 1024 * 1024);
      expect(proxy.dropped).toBeGreaterThanOrEqual(2);
      expect(err.message).toMatch(/failed \[upload\]: S3 UploadPart for s3:\/\/bdr-test\/.* failed after retries/);
      await expectCleanFailure('s3-drop', lines, err, 'upload');
      await waitFor('the dump session to end', async () => ((await db.dumpSessions(database)) === 0 ? true : undefined), 10_000);
    });

    test('CompleteMultipartUpload fails (every attempt): the upload is aborted', async () => {
      proxy.addFault({ op: 'CompleteMultipartUpload', status: 500 });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('complete-fails'), deps(lines)));
      expect(err.message).toMatch(/failed \[upload\]: S3 CompleteMultipartUpload .* failed after retries: InternalError/);
      await expectCleanFailure('complete-fails', lines, err, 'upload');
    });

    test('CompleteMultipartUpload took effect but its answer was an error: the completed object is removed', async () => {
      // The SDK then retries the completion of an upload that no longer exists, and lib-storage's own
      // abort finds nothing to abort: only the handler's clean-up sees and deletes the object.
      proxy.addFault({ op: 'CompleteMultipartUpload', status: 500, afterForward: true });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('complete-lost'), deps(lines)));
      expect(err.message).toMatch(/failed \[upload\]: S3 CompleteMultipartUpload/);
      await expectCleanFailure('complete-lost', lines, err, 'upload');
    });

    test('the abort itself fails at first: the handler\'s clean-up aborts the upload', async () => {
      proxy.addFault({ op: 'UploadPart', status: 500 });
      // lib-storage's abort (three attempts) fails; the handler's clean-up, which comes after, succeeds.
      proxy.addFault({ op: 'AbortMultipartUpload', status: 500, times: 3 });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('abort-fails'), deps(lines)));
      expect(proxy.injected.AbortMultipartUpload).toBe(3);
      expect(proxy.requests.AbortMultipartUpload).toBeGreaterThan(3);
      await expectCleanFailure('abort-fails', lines, err, 'upload');
    });

    test('the clean-up cannot abort the upload (403 on AbortMultipartUpload and ListMultipartUploads): the error and an ERROR line say so, the kind stays', async () => {
      // GIVEN a failing upload, and a role that may neither abort nor list multipart uploads
      proxy.addFault({ op: 'UploadPart', status: 500 });
      proxy.addFault({ op: 'AbortMultipartUpload', status: 403, code: 'AccessDenied' });
      proxy.addFault({ op: 'ListMultipartUploads', status: 403, code: 'AccessDenied' });
      const name = 'cleanup-denied';
      const lines: string[] = [];
      try {
        // WHEN the backup runs
        const err = await expectRunError(runBackup(config(name), deps(lines, { failureGraceMs: 500 })));
        // THEN an ERROR line names the upload left behind and the problems
        const records = logRecords(lines).filter((l) => l.msg === CLEANUP_INCOMPLETE);
        expect(records).toHaveLength(1);
        const rec = records[0] as { level: string; bucket: string; key: string; uploadId: string; problems: string[] };
        expect(rec).toMatchObject({ level: 'ERROR', bucket: svc.s3.bucket, key: expect.stringMatching(new RegExp(`^${prefix}${name}/`)) });
        expect(rec.uploadId).toEqual(expect.any(String));
        expect(rec.problems).toEqual([`AbortMultipartUpload ${rec.uploadId} failed: AccessDenied: injected by FaultProxy`]);
        // AND the error is the original failure, its kind unchanged, with the clean-up's problems
        expect(err.results[0].failureKind).toBe('upload');
        expect(err.message).toContain(`failed [upload]: S3 UploadPart for s3://${svc.s3.bucket}/${rec.key} failed after retries: InternalError`);
        expect(err.message).toContain(`[clean-up incomplete: ${rec.problems[0]}; the bucket's AbortIncompleteMultipartUpload lifecycle rule removes a leftover upload]`);
        expect(err.results[0].error).toContain('clean-up incomplete');
        const metrics = emfRecords(lines);
        expect(metrics).toHaveLength(1);
        expect(metrics[0]).toMatchObject({ BackupSuccess: 0, FailureKind: 'upload', BackupFailures: 1 });
        // AND the clean-up really tried (three rounds of list + abort), and really failed: the upload is still
        // there, with no object and no manifest
        expect(proxy.injected.AbortMultipartUpload).toBeGreaterThanOrEqual(3);
        expect(proxy.injected.ListMultipartUploads).toBeGreaterThanOrEqual(3);
        expect(await listUploads(s3, svc.s3.bucket, `${prefix}${name}/`)).toEqual([{ key: rec.key, uploadId: rec.uploadId }]);
        expect(await listKeys(s3, svc.s3.bucket, `${prefix}${name}/`)).toEqual([]);
      } finally {
        // The leftover upload, aborted here (directly, not through the proxy): the bucket stays clean.
        for (const u of await listUploads(s3, svc.s3.bucket, `${prefix}${name}/`)) {
          await s3.send(new AbortMultipartUploadCommand({ Bucket: svc.s3.bucket, Key: u.key, UploadId: u.uploadId }));
        }
      }
      await expectNothingLeft(s3, svc.s3.bucket, `${prefix}${name}/`);
    });

    test('the manifest write fails: the dump object is removed', async () => {
      proxy.addFault({ op: 'PutObject', status: 500, key: /manifest\.json$/ });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('manifest-fails'), deps(lines)));
      expect(err.message).toMatch(/failed \[manifest\]: Writing the manifest s3:\/\/bdr-test\/.*manifest\.json failed: InternalError.*the dump object was removed/);
      expect(proxy.requests.DeleteObject).toBeGreaterThanOrEqual(1);
      await expectCleanFailure('manifest-fails', lines, err, 'manifest');
    });

    test('bad S3 credentials', async () => {
      const bad = new S3Client({
        endpoint: proxy.endpoint,
        region: svc.s3.region,
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 'AKIAWRONGWRONGWRONG', secretAccessKey: 'wrong' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      const lines: string[] = [];
      try {
        const err = await expectRunError(runBackup(config('bad-credentials'), deps(lines, { s3: bad })));
        expect(err.message).toMatch(/failed \[upload\]: S3 CreateMultipartUpload .* failed after retries: InvalidAccessKeyId/);
        await expectCleanFailure('bad-credentials', lines, err, 'upload');
        await waitFor('the dump session to end', async () => ((await db.dumpSessions(database)) === 0 ? true : undefined), 10_000);
      } finally {
        bad.destroy();
      }
    });

    test('the dump outgrows the size the parts were computed for', async () => {
      const lines: string[] = [];
      // One 5 MiB part allowed: the ~14 MB dump exceeds it.
      const err = await expectRunError(runBackup(config('size-limit'), deps(lines, { maxParts: 1 })));
      expect(err.message).toMatch(/failed \[size\]: The dump exceeds 5242880 bytes \(1 parts of 5242880 bytes, the part size computed from MAX_DATABASE_SIZE_BYTES: raise MAX_DATABASE_SIZE_BYTES\)/);
      await expectCleanFailure('size-limit', lines, err, 'size');
      await waitFor('the dump session to end', async () => ((await db.dumpSessions(database)) === 0 ? true : undefined), 10_000);
    });

    test('the size limit is inclusive: a dump of exactly the limit is stored whole, one byte more fails [size] and leaves nothing', async () => {
      // GIVEN the size of this database's dump (the seeded tables, uncompressed: three 5 MiB parts), from a first backup
      const { results: [measured] } = await runBackup(config('size-measure'), deps([]));
      const bytes = measured.bytes;
      const partSize = measured.manifest!.partSizeBytes;
      expect(partSize).toBe(5 * MiB);
      expect(bytes).toBeGreaterThan(2 * partSize);
      // WHEN the limit (part size x maxParts) is exactly the dump's size
      const exactLines: string[] = [];
      const { results: [exact] } = await runBackup(config('size-exact'), deps(exactLines, { maxParts: maxPartsFor(bytes, partSize) }));
      // THEN the backup is stored, every byte of it (the same size again: the limit was met exactly)
      expect(exact).toMatchObject({ success: true, bytes });
      const keys = await listKeys(s3, svc.s3.bucket, `${prefix}size-exact/`);
      expect(keys).toEqual([exact.manifestKey, exact.objectKey].sort());
      const head = await s3.send(new HeadObjectCommand({ Bucket: svc.s3.bucket, Key: exact.objectKey! }));
      expect(head.ContentLength).toBe(bytes);
      expect(emfRecords(exactLines)).toEqual([expect.objectContaining({ BackupSuccess: 1, BackupBytes: bytes })]);
      // WHEN the limit is one byte less than the dump
      const overLines: string[] = [];
      const err = await expectRunError(runBackup(config('size-over'), deps(overLines, { maxParts: maxPartsFor(bytes - 1, partSize) })));
      // THEN it fails [size] at the dump's last byte (all of it streamed), with no manifest and nothing left
      expect(err.message).toContain(`failed [size]: The dump exceeds ${bytes - 1} bytes (`);
      expect(err.results[0].bytes).toBe(bytes);
      await expectCleanFailure('size-over', overLines, err, 'size');
      expect(emfRecords(overLines)[0]).toMatchObject({ BackupBytes: bytes });
    });

    test('parts are sized from the database\'s size on disk when that is smaller than MAX_DATABASE_SIZE_BYTES allows', async () => {
      const lines: string[] = [];
      // MAX 100 GiB alone would need 11 MiB parts; this small database gets S3's minimum, 5 MiB (one part allowed here).
      const err = await expectRunError(runBackup(config('size-headroom', { maxDatabaseSizeBytes: 100 * 1024 ** 3 }), deps(lines, { maxParts: 1 })));
      expect(err.message).toMatch(
        /failed \[size\]: The dump exceeds 5242880 bytes \(1 parts of 5242880 bytes, sized for 4 times the database's \d+ bytes on disk: a dump this much larger/);
      const started = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((o) => o.msg === 'backup started')!;
      expect(started).toMatchObject({ partSizeBytes: 5 * 1024 * 1024, databaseBytes: expect.any(Number) });
      expect(started.databaseBytes as number).toBeGreaterThan(1024 * 1024);
      await expectCleanFailure('size-headroom', lines, err, 'size');
    });

    test('the stored object\'s size differs from the bytes streamed: removed, no manifest', async () => {
      proxy.headSizeDelta = -1;
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('size-mismatch'), deps(lines)));
      expect(err.message).toMatch(/failed \[upload\]: Verifying s3:\/\/bdr-test\/.* failed: stored object has (\d+) bytes, \d+ were streamed/);
      await expectCleanFailure('size-mismatch', lines, err, 'upload');
    });

    // ---- connection and time ------------------------------------------------------------------------

    test('wrong password: clear error, password not echoed', async () => {
      secret({ password: WRONG_PASSWORD });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('wrong-password'), deps(lines)));
      expect(err.message).toMatch(db.wrongPasswordError);
      expect(err.message).not.toContain(WRONG_PASSWORD);
      expect(lines.join('\n')).not.toContain(WRONG_PASSWORD);
      await expectCleanFailure('wrong-password', lines, err, 'connection');
    });

    test('unreachable host (closed port)', async () => {
      secret({ port: await closedPort() });
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('unreachable'), deps(lines)));
      expect(err.message).toMatch(/failed \[connection\]: Cannot connect: .*(Connection refused|Can't connect)/);
      await expectCleanFailure('unreachable', lines, err, 'connection');
    });

    // PostgreSQL: the snapshot session opens while the versions are checked and the server probed.
    (db.engine === 'postgres' ? test : test.skip)('a refused tool version: [version], and the snapshot session opened beside the probe is closed', async () => {
      secret();
      const lines: string[] = [];
      const err = await expectRunError(runBackup(config('version', { engineMajor: svc.pg.major + 1 }), deps(lines)));
      expect(err.message).toMatch(new RegExp(`failed \\[version\\]: pg_dump \\d+ is older than the declared ENGINE_MAJOR=${svc.pg.major + 1}`));
      await waitFor('the snapshot session to end', async () => ((await db.dumpSessions(database)) === 0 ? true : undefined), 5_000);
      // A session still opening when the version was refused would connect within a second and stay.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await db.dumpSessions(database)).toBe(0);
      await expectCleanFailure('version', lines, err, 'version');
    });

    test('deadline reached: the Lambda handler stops SAFETY_MARGIN_MS before its timeout and aborts', async () => {
      // GIVEN the Lambda environment, an invocation with 63 s left, a 60 s safety margin (3 s to reach a stalled
      // UploadPart, enough on a loaded machine), and a stalled upload
      proxy.setMode('hold');
      const saved = { ...process.env };
      Object.assign(process.env, {
        SECRET_ARN,
        ENGINE: db.engine,
        ENGINE_MAJOR: String(db.major),
        BUCKET: svc.s3.bucket,
        PREFIX: `${prefix}deadline`,
        MAX_DATABASE_SIZE_BYTES: String(1024 ** 3),
        TLS_MODE: db.tlsMode,
        COMPRESSION: 'none',
        ENVIRONMENT: 'QA',
        METRICS_NAMESPACE: 'Test/ExternalDb',
        SAFETY_MARGIN_MS: '60000',
        S3_ENDPOINT: proxy.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
      });
      const logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        const started = Date.now();
        // WHEN the handler runs
        const outcome = await handler({}, { getRemainingTimeInMillis: () => 63_000 }).then(() => undefined, (e: Error) => e);
        const elapsed = Date.now() - started;
        // THEN it stopped at the deadline with a clear error naming the fix, well inside the margin
        expect(outcome).toBeInstanceOf(Error);
        expect(outcome!.message).toMatch(/failed \[deadline\]: Deadline reached: stopped the backup of database "[^"]+" after \d+\.\d s, 60000 ms \(SAFETY_MARGIN_MS\) before the Lambda timeout/);
        expect(outcome!.message).toMatch(/Run the job on Fargate compute \(compute: DumpCompute\.fargate\(\)/);
        expect(elapsed).toBeGreaterThanOrEqual(2_900);
        expect(elapsed).toBeLessThan(20_000);
        expect(proxy.uploadPartRequests).toBeGreaterThan(0);
        const lines = logSpy.mock.calls.map((c) => String(c[0]));
        await expectCleanFailure('deadline', lines, { results: [{ failureKind: 'deadline' }] }, 'deadline');
        // AND the time used is a metric, with the warning that names the fix
        expect(emfRecords(lines)[0].BackupTimeoutUsedPercent).toBeGreaterThan(2);
        await waitFor('the dump session to end', async () => ((await db.dumpSessions(database)) === 0 ? true : undefined), 10_000);
      } finally {
        logSpy.mockRestore();
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    });

    test('expected fingerprint covers the seeded data (guards the comparisons)', () => {
      expect(expected.customers).toMatch(/^6:/);
      expect(expected.blobs).toMatch(/^2003:/);
      expect(expected.events).toMatch(/^120000:/);
      expect(expected.function).toBe('42');
    });
  });

  if (services) {
    const mariadb = engineAdapters(svc).find((a) => a.engine === 'mariadb')!;
    describe('MariaDB without TLS', () => {
      const prefix = uniquePrefix('faults-tls');
      let s3: S3Client;
      beforeAll(() => { s3 = testS3Client(svc.s3); });
      afterAll(() => { s3.destroy(); });

      test.each([
        ['require', /failed \[connection\]: TLS required \(TLS_MODE=require\) but mariadb server 127\.0\.0\.1:\d+ .* does not offer TLS/],
        ['verify-full', /failed \[connection\]: Cannot connect: .*SSL is required, but the server does not support it/],
      ] as const)('TLS_MODE=%s against a server without TLS is refused before dumping', async (tlsMode, message) => {
        const lines: string[] = [];
        const err = await expectRunError(runBackup(mariadb.config(SECRET_ARN, `${prefix}${tlsMode}/`, { tlsMode }), {
          s3, fetchSecret: async () => ({ ...mariadb.secret('mysql') }) as unknown as DbSecret, log: (l) => lines.push(l),
        }));
        expect(err.message).toMatch(message);
        await expectNothingLeft(s3, svc.s3.bucket, `${prefix}${tlsMode}/`);
        expect(emfRecords(lines)[0]).toMatchObject({ BackupSuccess: 0, FailureKind: 'connection' });
      });
    });
  }
});
