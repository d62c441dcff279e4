/**
 * A byte sink that speaks just enough S3 for the dump handler's success path (bench:dump with
 * BENCH_S3=sink): CreateMultipartUpload, UploadPart, CompleteMultipartUpload, PutObject, HeadObject,
 * CreateBucket and an empty ListObjectsV2. It reads and counts every byte and keeps nothing: no MD5, no
 * disk, no signature check.
 *
 * Why: the local S3 server (s3rver) hashes every part, writes it to disk and concatenates the parts again
 * on completion, on the same two cores as pg_dump and zstd. With the sink in its place, what remains is
 * the handler's own cost; the bench reports the sink's CPU as it does the S3 server's. It is a measuring
 * aid, not a stand-in for S3 in tests (those run against s3rver).
 *
 * HTTPS with `--key key.pem --cert cert.pem` (what bench:dump uses): the handler then talks TLS and signs
 * its requests as it does against S3, where the part bodies are not hashed for the signature (see
 * src/external-db/handler/multipart.ts).
 *
 * Usage: `node -r ts-node/register/transpile-only bench/s3-sink.ts --port 54570 [--key k.pem --cert c.pem]`.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import type { AddressInfo } from 'net';

const sizes = new Map<string, number>();
const uploads = new Map<string, { key: string; bytes: number }>();

function drain(req: http.IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    req.on('data', (chunk: Buffer) => { n += chunk.length; });
    req.on('end', () => resolve(n));
    req.on('error', reject);
  });
}

const xml = (res: http.ServerResponse, body: string): void => {
  res.writeHead(200, { 'Content-Type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
};

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sink');
  const [bucket, ...rest] = url.pathname.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
  const key = rest.join('/');
  const q = url.searchParams;
  const etag = `"${randomBytes(16).toString('hex')}"`;
  if (req.method === 'POST' && q.has('uploads')) {
    await drain(req);
    const id = randomBytes(12).toString('hex');
    uploads.set(id, { key, bytes: 0 });
    xml(res, `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
  } else if (req.method === 'PUT' && q.has('uploadId')) {
    const upload = uploads.get(q.get('uploadId')!);
    const n = await drain(req);
    if (!upload) return void res.writeHead(404).end();
    upload.bytes += n;
    res.writeHead(200, { ETag: etag }).end();
  } else if (req.method === 'POST' && q.has('uploadId')) {
    await drain(req);
    const upload = uploads.get(q.get('uploadId')!);
    if (!upload) return void res.writeHead(404).end();
    uploads.delete(q.get('uploadId')!);
    sizes.set(`${bucket}/${key}`, upload.bytes);
    xml(res, `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>${etag}</ETag></CompleteMultipartUploadResult>`);
  } else if (req.method === 'PUT') {
    const n = await drain(req);
    if (key) sizes.set(`${bucket}/${key}`, n);
    res.writeHead(200, { ETag: etag }).end();
  } else if (req.method === 'HEAD') {
    await drain(req);
    const n = sizes.get(`${bucket}/${key}`);
    if (n === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': n, 'ETag': etag }).end();
  } else if (req.method === 'GET' && !key) {
    await drain(req);
    xml(res, `<ListBucketResult><Name>${bucket}</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`);
  } else {
    await drain(req);
    res.writeHead(501).end();
  }
}

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const port = Number(arg('--port') ?? '0');
const [keyFile, certFile] = [arg('--key'), arg('--cert')];
const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  handle(req, res).catch(() => res.writeHead(500).end());
};
const server = keyFile && certFile
  ? https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, onRequest)
  : http.createServer(onRequest);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
