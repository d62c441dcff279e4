/**
 * Streams bytes into one S3 object with a multipart upload whose part buffers are reused: `queueSize + 1`
 * buffers of `partSize` bytes are allocated once and refilled, part after part.
 *
 * Why not `@aws-sdk/lib-storage`'s `Upload`: it concatenates each part from the stream's chunks into a
 * freshly allocated buffer (`Buffer.concat`), so every byte of the dump lands in memory the process has
 * never touched. Page faults on fresh memory are what that costs, and on the Lambda/Firecracker machines
 * the benchmark runs on they made the concatenation the handler's largest CPU cost (bench/dump.ts,
 * `npm run bench:dump`). Reused buffers are touched once, and keep memory flat.
 *
 * Contract: the source's chunks are copied before the next one is read, so the source may reuse them.
 * A part buffer goes back to the pool only when its UploadPart settled (the SDK's retries resend it).
 * On failure nothing is aborted here: the caller owns clean-up (cleanUpFailedUpload in aws.ts), which
 * also removes an object completed despite a failure.
 *
 * Integrity of each request body: every part (and the single PutObject) carries a CRC32 checksum
 * (`x-amz-checksum-crc32`, computed natively by zlib) that S3 verifies before it accepts the part. The
 * multipart upload is created with the CRC32 algorithm and completed with every part's checksum (S3's
 * documented composite-checksum flow: the object keeps a checksum S3 can report). Over
 * HTTPS the body is then not hashed a second time for the SigV4 signature (`x-amz-content-sha256:
 * UNSIGNED-PAYLOAD`, as the AWS CLI and the SDK for Java do over HTTPS): TLS protects the bytes in transit,
 * the CRC32 catches corruption at either end, and the dump's SHA-256 in the manifest is checked at restore.
 * Over plain HTTP (a local test server) the payload stays signed.
 */
import { crc32 } from 'zlib';
import {
  CompleteMultipartUploadCommand, CompletedPart, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';

/** A body's CRC32 as S3 wants it in `x-amz-checksum-crc32`: big-endian, base64. */
export function crc32Base64(body: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(body));
  return out.toString('base64');
}

/** SigV4's marker for a body that is not part of the signature. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/**
 * Runs just before the SDK signs: over HTTPS, a request whose body carries an `x-amz-checksum-*` header is
 * signed without hashing the body.
 */
export const unsignedPayloadOverTls: Parameters<UploadPartCommand['middlewareStack']['add']>[0] = (next) => async (args) => {
  const request = args.request as { protocol?: string; headers?: Record<string, string> };
  const headers = request.headers ?? {};
  const names = Object.keys(headers).map((h) => h.toLowerCase());
  if (request.protocol === 'https:' && names.some((h) => h.startsWith('x-amz-checksum-')) && !names.includes('x-amz-content-sha256')) {
    headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
  }
  return next(args);
};

/** The command (its CRC32 set by the caller), signed over HTTPS without a body hash (see above). */
function unsignedOverTls<T extends PutObjectCommand | UploadPartCommand>(command: T): T {
  command.middlewareStack.addRelativeTo(unsignedPayloadOverTls, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'bdrUnsignedPayloadOverTls' });
  return command;
}

export interface PooledUploadTarget {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** SSE-KMS with this key (and an S3 Bucket Key); otherwise the bucket's default encryption. */
  readonly kmsKeyId?: string;
}

export interface PooledUploadOptions {
  readonly partSize: number;
  /** Parts uploading at once; memory is (queueSize + 1) x partSize. */
  readonly queueSize: number;
  /** S3's limit (10,000 parts): a longer stream fails before asking S3 for part maxParts + 1 (the caller's size check comes first). */
  readonly maxParts: number;
}

export interface PooledUploadResult {
  readonly etag?: string;
  readonly versionId?: string;
  readonly parts: number;
}

/** Uploads `source` to `target`; single PutObject when it fits in one part. */
export async function uploadPooled(
  s3: S3Client, source: AsyncIterable<Buffer>, target: PooledUploadTarget, opts: PooledUploadOptions,
): Promise<PooledUploadResult> {
  const { partSize, queueSize, maxParts } = opts;
  const sse = target.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: target.kmsKeyId, BucketKeyEnabled: true } : {};
  const pool: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const completed: CompletedPart[] = [];
  let created: Promise<string> | undefined;
  let failure: { error: unknown } | undefined;
  let partNumber = 0;
  let buffer: Buffer = Buffer.allocUnsafeSlow(partSize);
  let filled = 0;

  const startUpload = (): Promise<string> => {
    created ??= s3.send(new CreateMultipartUploadCommand({
      Bucket: target.bucket, Key: target.key, ContentType: target.contentType, ChecksumAlgorithm: 'CRC32', ...sse,
    })).then((out) => {
      if (!out.UploadId) throw new Error(`CreateMultipartUpload for s3://${target.bucket}/${target.key} returned no UploadId`);
      return out.UploadId;
    });
    return created;
  };

  const sendPart = (part: Buffer, length: number): void => {
    const number = ++partNumber;
    if (number > maxParts) throw new Error(`internal: part ${number} exceeds ${maxParts} parts (the size check comes first)`);
    const body = part.subarray(0, length);
    const checksum = crc32Base64(body);
    const sent: Promise<void> = startUpload()
      .then((id) => s3.send(unsignedOverTls(new UploadPartCommand({
        Bucket: target.bucket, Key: target.key, UploadId: id, PartNumber: number, Body: body, ContentLength: length, ChecksumCRC32: checksum,
      }))))
      .then((out) => { completed.push({ PartNumber: number, ETag: out.ETag, ChecksumCRC32: checksum }); })
      .catch((error: unknown) => { failure ??= { error }; })
      .finally(() => { inFlight.delete(sent); pool.push(part); });
    inFlight.add(sent);
  };

  const throwIfFailed = (): void => {
    if (failure) throw failure.error;
  };

  /** Sends the filled buffer once an upload slot is free (the next part fills while queueSize parts upload). */
  const sendWhenSlotFree = async (): Promise<void> => {
    while (inFlight.size >= queueSize) await Promise.race(inFlight);
    throwIfFailed();
    sendPart(buffer, filled);
  };

  try {
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(partSize - filled, chunk.length - offset);
        chunk.copy(buffer, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled < partSize) continue;
        await sendWhenSlotFree();
        buffer = pool.pop() ?? Buffer.allocUnsafeSlow(partSize);
        filled = 0;
      }
    }
    if (partNumber === 0) {
      // The whole object fits in one part: one request, no multipart upload.
      const body = buffer.subarray(0, filled);
      const checksum = crc32Base64(body);
      const out = await s3.send(unsignedOverTls(new PutObjectCommand({
        Bucket: target.bucket, Key: target.key, ContentType: target.contentType, Body: body, ContentLength: filled, ChecksumCRC32: checksum, ...sse,
      })));
      return { etag: out.ETag, versionId: out.VersionId, parts: 0 };
    }
    if (filled > 0) await sendWhenSlotFree();
    while (inFlight.size > 0) await Promise.race(inFlight);
    throwIfFailed();
    const out = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: await startUpload(),
      MultipartUpload: { Parts: [...completed].sort((a, b) => a.PartNumber! - b.PartNumber!) },
    }));
    return { etag: out.ETag, versionId: out.VersionId, parts: partNumber };
  } finally {
    // Parts still in flight settle (a failure has aborted their requests) before the caller cleans up.
    await Promise.allSettled([...inFlight]);
  }
}
