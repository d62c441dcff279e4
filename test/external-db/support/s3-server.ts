/**
 * Local S3-compatible server for the external-db tests and benchmark: s3rver plus the two multipart
 * operations s3rver does not implement and that the backup handler relies on:
 *
 * - `ListMultipartUploads` (`GET /bucket?uploads[&prefix=]`) — the tests assert that a failed backup
 *   leaves no orphan multipart upload;
 * - `AbortMultipartUpload` (`DELETE /bucket/key?uploadId=`) — the handler aborts on every failure.
 *
 * Both are answered from s3rver's own filesystem store (`<dir>/<bucket>/._S3rver_uploads/<id>/{key,metadata,N}`),
 * before s3rver's router (and therefore without signature checks: this is a local test server only).
 *
 * Usage: `node -r ts-node/register/transpile-only test/external-db/support/s3-server.ts --port 54569
 *   --directory /var/tmp/bdr-services/s3 --bucket bdr-test` (started by .ci/services.sh), or
 *   `startS3Server()` from a test.
 */
import { promises as fs } from 'fs';
import type { AddressInfo } from 'net';
import * as path from 'path';
// s3rver ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver');

export interface S3ServerOptions {
  readonly port?: number;
  readonly address?: string;
  readonly directory: string;
  readonly buckets?: string[];
  readonly silent?: boolean;
  /** Serve HTTPS with this key and certificate (PEM), as S3 does. @default HTTP */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface RunningS3Server {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
  set(name: string, value: string): void;
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function xmlError(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Koa middleware adding ListMultipartUploads and AbortMultipartUpload to s3rver. */
export function multipartExtensions(directory: string) {
  // s3rver's FilesystemStore keeps uploads in `<dir>/<bucket>/._S3rver_uploads/<uploadId>/`.
  const uploadsDir = (bucket: string) => path.join(directory, bucket, '._S3rver_uploads');
  return async (ctx: KoaContext, next: () => Promise<unknown>): Promise<unknown> => {
    const segments = ctx.path.split('/').filter((s) => s.length > 0);
    const bucket = segments[0] ? decodeURIComponent(segments[0]) : undefined;
    if (ctx.method === 'GET' && bucket && segments.length === 1 && 'uploads' in ctx.query) {
      try {
        await fs.access(path.join(directory, bucket));
      } catch {
        xmlError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist');
        return;
      }
      const prefix = one(ctx.query.prefix) ?? '';
      let ids: string[] = [];
      try {
        ids = await fs.readdir(uploadsDir(bucket));
      } catch {
        ids = [];
      }
      const uploads: Array<{ key: string; id: string; initiated: Date }> = [];
      for (const id of ids) {
        try {
          const key = await fs.readFile(path.join(uploadsDir(bucket), id, 'key'), 'utf8');
          const st = await fs.stat(path.join(uploadsDir(bucket), id));
          if (key.startsWith(prefix)) uploads.push({ key, id, initiated: st.birthtime });
        } catch {
          // an upload completing or aborting concurrently: skip it
        }
      }
      uploads.sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key.localeCompare(b.key)));
      const items = uploads.map((u) =>
        `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated>` +
        '<StorageClass>STANDARD</StorageClass></Upload>').join('');
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlEscape(bucket)}</Bucket><Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>1000</MaxUploads>` +
        `<IsTruncated>false</IsTruncated>${items}</ListMultipartUploadsResult>`;
      return;
    }
    const uploadId = one(ctx.query.uploadId);
    if (ctx.method === 'DELETE' && bucket && segments.length > 1 && uploadId !== undefined) {
      if (!/^[A-Za-z0-9]+$/.test(uploadId)) {
        xmlError(ctx, 400, 'InvalidArgument', 'Invalid uploadId');
        return;
      }
      const dir = path.join(uploadsDir(bucket), uploadId);
      try {
        await fs.access(dir);
      } catch {
        xmlError(ctx, 404, 'NoSuchUpload', 'The specified multipart upload does not exist.');
        return;
      }
      await fs.rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = null;
      return;
    }
    return next();
  };
}

/** Starts s3rver (with the multipart extensions) and resolves when it listens. */
export async function startS3Server(options: S3ServerOptions): Promise<RunningS3Server> {
  await fs.mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    port: options.port ?? 0,
    address: options.address ?? '127.0.0.1',
    directory: options.directory,
    silent: options.silent ?? true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
  });
  // Run before s3rver's own middleware (logger, XML encoder, router).
  server.middleware.unshift(multipartExtensions(options.directory));
  const addr = (await server.run()) as AddressInfo;
  return {
    endpoint: `${options.tls ? 'https' : 'http'}://${options.address ?? '127.0.0.1'}:${addr.port}`,
    port: addr.port,
    close: () => server.close() as Promise<void>,
  };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const directory = argValue(args, '--directory') ?? path.join(process.cwd(), '.s3rver');
  const port = Number(argValue(args, '--port') ?? '54569');
  const buckets = (argValue(args, '--bucket') ?? '').split(',').filter((b) => b.length > 0);
  startS3Server({ port, directory, buckets, silent: true }).then(
    (s) => {
      process.stdout.write(`s3-server listening on ${s.endpoint} (directory ${directory})\n`);
      const stop = () => { void s.close().finally(() => process.exit(0)); };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`s3-server failed to start: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
