/**
 * uploadPooled (src/external-db/handler/multipart.ts) against the local S3 server: byte-exact objects
 * whatever the chunking, one request for a small object, part buffers allocated once and reused, never
 * more than queueSize parts in flight, and failures that reject only after every request settled.
 */
import { spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { startS3Server } from './support/s3-server';
import { listUploads, deletePrefix, describeWithServices, ensureBucket, listKeys, testS3Client, uniquePrefix } from './support/services';
import { cleanUpFailedUpload } from '../../src/external-db/handler/aws';
import { MiB } from '../../src/external-db/handler/config';
import { UNSIGNED_PAYLOAD, unsignedPayloadOverTls, uploadPooled } from '../../src/external-db/handler/multipart';

jest.setTimeout(60_000);

const PART = 5 * MiB;

/** Random bytes (compared by SHA-256 after the round trip). */
const bytes = (length: number): Buffer => randomBytes(length);

/** `data` in chunks of the given sizes, cycling; with `reuse`, every chunk is the same buffer, overwritten after it was read. */
async function* chunks(data: Buffer, sizes: number[], reuse = false): AsyncGenerator<Buffer> {
  const scratch = Buffer.alloc(Math.max(...sizes));
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - offset);
    if (reuse) {
      data.copy(scratch, 0, offset, offset + n);
      yield scratch.subarray(0, n);
      scratch.fill(0xee);
    } else {
      yield data.subarray(offset, offset + n);
    }
    offset += n;
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Sent { command: string; input: Record<string, unknown>; at: number; settled?: number }

/** The real client, recording each request and the number of UploadPart requests in flight. */
function recording(
  client: S3Client, opts: { failPart?: number; delayPart?: number } = {},
): { s3: S3Client; sent: Sent[]; maxPartsInFlight: () => number } {
  const sent: Sent[] = [];
  let inFlight = 0;
  let max = 0;
  const s3 = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const rec: Sent = { command: command.constructor.name.replace(/Command$/, ''), input: command.input, at: Date.now() };
        sent.push(rec);
        const isPart = rec.command === 'UploadPart';
        if (isPart) max = Math.max(max, ++inFlight);
        try {
          if (isPart && command.input.PartNumber === opts.delayPart) await new Promise((r) => setTimeout(r, 400));
          if (isPart && command.input.PartNumber === opts.failPart) {
            await new Promise((r) => setTimeout(r, 50));
            throw Object.assign(new Error('injected'), { name: 'InternalError' });
          }
          return await (target.send as (c: unknown) => Promise<unknown>)(command);
        } finally {
          if (isPart) inFlight--;
          rec.settled = Date.now();
        }
      };
    },
  }) as S3Client;
  return { s3, sent, maxPartsInFlight: () => max };
}

interface Signed { command: string; headers: Record<string, string>; body?: Buffer }

/** Records every request as sent: after the checksum and signing middleware, with its headers and body. */
function recordSigned(client: S3Client): Signed[] {
  const signed: Signed[] = [];
  client.middlewareStack.add((next, context) => async (args) => {
    const request = args.request as { headers: Record<string, string>; body?: unknown };
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    signed.push({ command: String(context.commandName), headers: { ...request.headers }, body });
    return next(args);
  }, { step: 'deserialize', name: 'recordSigned' });
  return signed;
}

/** The `x-amz-checksum-crc32` value S3 expects for `body`: the big-endian CRC32, base64. */
const crc32Header = (body: Buffer): string => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(body));
  return out.toString('base64');
};

describeWithServices('uploadPooled', (svc) => {
  const prefix = uniquePrefix('multipart');
  let client: S3Client;

  beforeAll(async () => {
    client = testS3Client(svc.s3);
    await ensureBucket(client, svc.s3.bucket);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await deletePrefix(client, svc.s3.bucket, prefix);
    client.destroy();
  });

  const target = (name: string) => ({ bucket: svc.s3.bucket, key: `${prefix}${name}`, contentType: 'application/octet-stream' });
  const download = async (key: string): Promise<Buffer> => {
    const out = await client.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  };

  test.each([
    ['chunks smaller than a part, crossing part boundaries', [64 * 1024 + 7, 1000, 3 * 1024 * 1024 + 1]],
    ['chunks larger than a part', [PART * 2 + 3]],
  ])('%s: the object is byte-exact, in ceil(size / partSize) parts', async (name, sizes) => {
    const data = bytes(2 * PART + 1234567);
    const { s3, sent } = recording(client);
    const out = await uploadPooled(s3, chunks(data, sizes as number[]), target(name), { partSize: PART, queueSize: 2, maxParts: 10_000 });
    expect(out.parts).toBe(3);
    expect(sent.filter((s) => s.command === 'UploadPart').map((s) => (s.input.Body as Buffer).length).sort((a, b) => a - b))
      .toEqual([1234567, PART, PART]);
    expect(sha256(await download(`${prefix}${name}`))).toBe(sha256(data));
    expect(out.etag).toBe((await client.send(new HeadObjectCommand({ Bucket: svc.s3.bucket, Key: `${prefix}${name}` }))).ETag);
  });

  test('parts that finish out of order are listed in ascending order in CompleteMultipartUpload (S3 requires it)', async () => {
    const data = bytes(2 * PART + 10);
    const { s3, sent } = recording(client, { delayPart: 1 });
    await uploadPooled(s3, chunks(data, [PART]), target('order'), { partSize: PART, queueSize: 3, maxParts: 10_000 });
    const settled = sent.filter((x) => x.command === 'UploadPart').sort((a, b) => a.settled! - b.settled!).map((x) => x.input.PartNumber);
    expect(settled[0]).not.toBe(1); // part 1 really finished after another part
    const complete = sent.find((x) => x.command === 'CompleteMultipartUpload')!;
    expect((complete.input.MultipartUpload as { Parts: Array<{ PartNumber: number }> }).Parts.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect(sha256(await download(`${prefix}order`))).toBe(sha256(data));
  });

  test('a CreateMultipartUpload answer without an UploadId: rejects, naming the object', async () => {
    const fake = { send: async () => ({}) } as unknown as S3Client;
    await expect(uploadPooled(fake, chunks(bytes(PART + 1), [PART]), target('no-id'), { partSize: PART, queueSize: 2, maxParts: 10_000 }))
      .rejects.toThrow(`CreateMultipartUpload for s3://${svc.s3.bucket}/${prefix}no-id returned no UploadId`);
  });

  test('a source that reuses its chunk buffer: every chunk is copied before the next is read', async () => {
    const data = bytes(PART + 777_777);
    const out = await uploadPooled(client, chunks(data, [100_003], true), target('reuse'), { partSize: PART, queueSize: 2, maxParts: 10_000 });
    expect(out.parts).toBe(2);
    expect(sha256(await download(`${prefix}reuse`))).toBe(sha256(data));
  });

  test('exactly one part: a multipart upload of one part; less than a part: one PutObject, no multipart upload', async () => {
    const whole = bytes(PART);
    const one = recording(client);
    expect((await uploadPooled(one.s3, chunks(whole, [65536]), target('exact'), { partSize: PART, queueSize: 2, maxParts: 10_000 })).parts).toBe(1);
    expect(one.sent.map((s) => s.command)).toEqual(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']);
    expect(sha256(await download(`${prefix}exact`))).toBe(sha256(whole));

    const small = bytes(PART - 1);
    const put = recording(client);
    const out = await uploadPooled(put.s3, chunks(small, [65536]), { ...target('small'), contentType: 'application/zstd' }, {
      partSize: PART, queueSize: 2, maxParts: 10_000,
    });
    expect(out.parts).toBe(0);
    expect(put.sent.map((s) => s.command)).toEqual(['PutObject']);
    expect(put.sent[0].input).toMatchObject({ ContentType: 'application/zstd', ContentLength: PART - 1 });
    expect(sha256(await download(`${prefix}small`))).toBe(sha256(small));
  });

  test('part buffers are allocated once: queueSize + 1 buffers for 8 parts, at most queueSize parts in flight', async () => {
    const data = bytes(7 * PART + 99);
    const alloc = jest.spyOn(Buffer, 'allocUnsafeSlow');
    const { s3, maxPartsInFlight } = recording(client);
    const out = await uploadPooled(s3, chunks(data, [256 * 1024]), target('pool'), { partSize: PART, queueSize: 2, maxParts: 10_000 });
    expect(out.parts).toBe(8);
    expect(alloc.mock.calls.filter(([size]) => size === PART)).toHaveLength(3);
    expect(maxPartsInFlight()).toBe(2);
    alloc.mockRestore();
    expect(sha256(await download(`${prefix}pool`))).toBe(sha256(data));
  });

  test('SSE-KMS: the key goes on CreateMultipartUpload and on PutObject, with an S3 Bucket Key', async () => {
    // Recorded, not sent: the local S3 server has no KMS.
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    const fake = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: command.constructor.name, input: command.input });
        if (command instanceof CreateMultipartUploadCommand) return { UploadId: 'u1' };
        if (command instanceof UploadPartCommand) return { ETag: `"e${String(command.input.PartNumber)}"` };
        return { ETag: '"x"' };
      },
    } as unknown as S3Client;
    const kms = { ...target('kms'), kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/k' };
    const sse = { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kms.kmsKeyId, BucketKeyEnabled: true };
    await uploadPooled(fake, chunks(bytes(PART + 1), [PART]), kms, { partSize: PART, queueSize: 2, maxParts: 10_000 });
    expect(sent.find((s) => s.name === 'CreateMultipartUploadCommand')!.input).toMatchObject(sse);
    expect(sent.at(-1)!.input).toMatchObject({ UploadId: 'u1', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"e1"' }, { PartNumber: 2, ETag: '"e2"' }] } });
    sent.length = 0;
    await uploadPooled(fake, chunks(bytes(10), [10]), kms, { partSize: PART, queueSize: 2, maxParts: 10_000 });
    expect(sent).toEqual([{ name: PutObjectCommand.name, input: expect.objectContaining(sse) }]);
  });

  test('a failed part: rejects with its error, after every other request settled, and completes nothing', async () => {
    const { s3, sent } = recording(client, { failPart: 2 });
    const err = await uploadPooled(s3, chunks(bytes(4 * PART), [PART]), target('fails'), { partSize: PART, queueSize: 2, maxParts: 10_000 })
      .then(() => undefined, (e: Error) => e);
    const rejectedAt = Date.now();
    expect(err).toMatchObject({ name: 'InternalError', message: 'injected' });
    expect(sent.map((s) => s.command)).not.toContain('CompleteMultipartUpload');
    for (const s of sent) expect(s.settled).toBeLessThanOrEqual(rejectedAt);
    // The caller cleans up (cleanUpFailedUpload): here, the upload is still there to abort.
    const uploads = await listUploads(client, svc.s3.bucket, `${prefix}fails`);
    expect(uploads).toHaveLength(1);
    expect(await listKeys(client, svc.s3.bucket, `${prefix}fails`)).toEqual([]);
    await cleanUpFailedUpload(client, svc.s3.bucket, uploads[0].key, uploads[0].uploadId);
    expect(await listUploads(client, svc.s3.bucket, `${prefix}fails`)).toEqual([]);
  });

  test('more parts than maxParts: rejects before asking S3 for the extra part', async () => {
    const { s3, sent } = recording(client);
    const err = await uploadPooled(s3, chunks(bytes(2 * PART + 1), [PART]), target('too-many'), { partSize: PART, queueSize: 2, maxParts: 2 })
      .then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/part 3 exceeds 2 parts/);
    expect(sent.filter((s) => s.command === 'UploadPart')).toHaveLength(2);
    expect(sent.map((s) => s.command)).not.toContain('CompleteMultipartUpload');
  });

  test('a source that fails: rejects with the source\'s error', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield bytes(PART + 10);
      throw new Error('the dump tool died');
    }
    await expect(uploadPooled(client, broken(), target('broken'), { partSize: PART, queueSize: 2, maxParts: 10_000 })).rejects.toThrow('the dump tool died');
    expect(await listKeys(client, svc.s3.bucket, `${prefix}broken`)).toEqual([]);
  });

  describe('request bodies: a CRC32 checksum on every part; the payload hashed for the signature over HTTP only', () => {
    const withBody = (signed: Signed[]) => signed.filter((r) => r.command === 'UploadPartCommand' || r.command === 'PutObjectCommand');

    test('the rule: UNSIGNED-PAYLOAD only over HTTPS, only beside a checksum header, never replacing a payload hash already set', async () => {
      const signedAs = async (request: { protocol: string; headers: Record<string, string> }): Promise<Record<string, string>> => {
        let seen: { headers: Record<string, string> } | undefined;
        const next = async (args: { request: unknown }) => {
          seen = args.request as { headers: Record<string, string> };
          return { output: {}, response: {} };
        };
        type Mw = (n: typeof next, c: object) => (args: { input: object; request: unknown }) => Promise<unknown>;
        await (unsignedPayloadOverTls as unknown as Mw)(next, {})({ input: {}, request });
        return seen!.headers;
      };
      const crc = { 'x-amz-checksum-crc32': 'AAAAAA==' };
      expect((await signedAs({ protocol: 'https:', headers: { ...crc } }))['x-amz-content-sha256']).toBe(UNSIGNED_PAYLOAD);
      expect(await signedAs({ protocol: 'https:', headers: { 'content-length': '0' } })).toEqual({ 'content-length': '0' });
      expect(await signedAs({ protocol: 'http:', headers: { ...crc } })).toEqual(crc);
      expect(await signedAs({ protocol: 'https:', headers: { ...crc, 'X-Amz-Content-Sha256': 'f'.repeat(64) } }))
        .toEqual({ ...crc, 'X-Amz-Content-Sha256': 'f'.repeat(64) });
    });

    test('over HTTP: created with CRC32, completed with each part\'s CRC32; every body carries its CRC32 and is signed with its SHA-256', async () => {
      const http = testS3Client(svc.s3);
      const signed = recordSigned(http);
      const data = bytes(2 * PART + 4321);
      const { s3, sent: commands } = recording(http);
      await uploadPooled(s3, chunks(data, [PART]), target('crc-http'), { partSize: PART, queueSize: 2, maxParts: 10_000 });
      // S3's composite-checksum flow: the upload is created with CRC32 and completed with each part's checksum.
      expect(commands.find((c) => c.command === 'CreateMultipartUpload')!.input).toMatchObject({ ChecksumAlgorithm: 'CRC32' });
      const parts = (commands.find((c) => c.command === 'CompleteMultipartUpload')!.input.MultipartUpload as { Parts: unknown[] }).Parts;
      expect(parts).toEqual([0, 1, 2].map((i) => expect.objectContaining({
        PartNumber: i + 1, ChecksumCRC32: crc32Header(data.subarray(i * PART, Math.min((i + 1) * PART, data.length))),
      })));
      await uploadPooled(http, chunks(bytes(999), [999]), target('crc-http-small'), { partSize: PART, queueSize: 2, maxParts: 10_000 });
      const sent = withBody(signed);
      expect(sent.map((r) => r.command)).toEqual(['UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'PutObjectCommand']);
      for (const r of sent) {
        expect(r.headers['x-amz-checksum-crc32']).toBe(crc32Header(r.body!));
        expect(r.headers['x-amz-content-sha256']).toBe(sha256(r.body!));
      }
      expect(sha256(await download(`${prefix}crc-http`))).toBe(sha256(data));
      http.destroy();
    });

    test('over HTTPS: parts are signed with UNSIGNED-PAYLOAD (their CRC32 stays), bodiless requests keep their hash, and the object is byte-exact', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bdr-s3-tls-'));
      const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
      expect(made.status).toBe(0);
      const cert = fs.readFileSync(certFile, 'utf8');
      const server = await startS3Server({ directory: path.join(dir, 's3'), buckets: [svc.s3.bucket], tls: { key: fs.readFileSync(keyFile, 'utf8'), cert } });
      const tls = new S3Client({
        endpoint: server.endpoint,
        region: svc.s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: svc.s3.accessKeyId, secretAccessKey: svc.s3.secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: { httpsAgent: new https.Agent({ ca: cert }) },
      });
      try {
        expect(server.endpoint).toMatch(/^https:/);
        const signed = recordSigned(tls);
        const data = bytes(2 * PART + 4321);
        const small = bytes(999);
        await uploadPooled(tls, chunks(data, [PART]), target('crc-https'), { partSize: PART, queueSize: 2, maxParts: 10_000 });
        await uploadPooled(tls, chunks(small, [999]), target('crc-https-small'), { partSize: PART, queueSize: 2, maxParts: 10_000 });
        const sent = withBody(signed);
        expect(sent.map((r) => r.command)).toEqual(['UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'PutObjectCommand']);
        for (const r of sent) {
          expect(r.headers['x-amz-checksum-crc32']).toBe(crc32Header(r.body!));
          expect(r.headers['x-amz-content-sha256']).toBe(UNSIGNED_PAYLOAD);
          expect(r.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
        }
        for (const r of signed.filter((x) => !sent.includes(x))) expect(r.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
        // The server checked each signature (s3rver verifies SigV4) and stored the bytes.
        const get = async (key: string) => {
          const out = await tls.send(new GetObjectCommand({ Bucket: svc.s3.bucket, Key: key }));
          return Buffer.from(await out.Body!.transformToByteArray());
        };
        expect(sha256(await get(`${prefix}crc-https`))).toBe(sha256(data));
        expect(sha256(await get(`${prefix}crc-https-small`))).toBe(sha256(small));
      } finally {
        tls.destroy();
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
