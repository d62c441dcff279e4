/**
 * A tiny HTTP proxy in front of the local S3 server that injects faults into UploadPart traffic
 * (`PUT /bucket/key?partNumber=N&uploadId=...`). Every other request (create, complete, abort, list) is
 * forwarded untouched, so the handler's clean-up can be observed through the same endpoint.
 *
 * Modes:
 * - `pass`: forward everything.
 * - `hold`: keep UploadPart requests waiting without reading their body (the upload stalls, backpressure
 *   reaches the dump tool) until `setMode('pass')`; a request the client gives up on is dropped.
 * - `drop`: forward UploadPart traffic until `dropAfterBytes` body bytes went through in total, then
 *   destroy that connection and every later UploadPart connection (the SDK's retries fail too).
 *
 * Independently of the mode, `addFault` answers matching requests of any S3 operation with an HTTP error
 * (5xx, throttling, 403 AccessDenied): either instead of forwarding them, or after forwarding them (the
 * operation took effect, the client is told it failed: a CompleteMultipartUpload whose answer is lost).
 * That includes the requests of the handler's clean-up: failing AbortMultipartUpload and
 * ListMultipartUploads (e.g. `{ status: 403, code: 'AccessDenied' }`, a role without those permissions)
 * leaves the multipart upload in place, for the test to see and then abort itself. `headSizeDelta`
 * makes HeadObject report a different Content-Length for the dump object (a size mismatch after upload).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';

export type FaultMode = 'pass' | 'hold' | 'drop';

export type S3Operation = 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload'
| 'PutObject' | 'HeadObject' | 'ListMultipartUploads' | 'DeleteObject' | 'Other';

export interface FaultRule {
  readonly op: S3Operation;
  /** HTTP status, e.g. 500 (InternalError) or 503 (SlowDown: throttling). */
  readonly status: number;
  /** S3 error code in the XML body. @default InternalError */
  readonly code?: string;
  /** How many matching requests fail. @default every one */
  readonly times?: number;
  /** Only requests whose key matches (ListMultipartUploads: its `prefix` parameter). */
  readonly key?: RegExp;
  /** Forward the request first (the operation takes effect upstream), then answer with the error. */
  readonly afterForward?: boolean;
}

/** The S3 operation of a path-style request. */
export function s3Operation(method: string | undefined, url: string | undefined): S3Operation {
  const q = new URL(url ?? '/', 'http://x').searchParams;
  if (method === 'PUT' && q.has('partNumber') && q.has('uploadId')) return 'UploadPart';
  if (method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'GET' && q.has('uploads')) return 'ListMultipartUploads';
  if (method === 'PUT') return 'PutObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return 'Other';
}

interface Held {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
}

export class FaultProxy {
  public static async start(target: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  /** UploadPart body bytes forwarded so far. */
  public uploadPartBytes = 0;
  /** UploadPart requests seen (including dropped and held ones). */
  public uploadPartRequests = 0;
  /** UploadPart connections destroyed in `drop` mode. */
  public dropped = 0;
  public dropAfterBytes = Number.POSITIVE_INFINITY;
  /** Requests seen, per operation. */
  public readonly requests: Partial<Record<S3Operation, number>> = {};
  /** Error answers injected, per operation. */
  public readonly injected: Partial<Record<S3Operation, number>> = {};
  /** Added to the Content-Length of HeadObject answers for keys that are not manifests. */
  public headSizeDelta = 0;
  private readonly faults: Array<{ rule: FaultRule; left: number }> = [];
  private mode: FaultMode = 'pass';
  private tripped = false;
  private readonly held: Held[] = [];
  private readonly server: http.Server;

  private constructor(private readonly target: URL) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 1_000;
  }

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** UploadPart requests currently held. */
  public get heldCount(): number {
    return this.held.filter((h) => !h.req.destroyed).length;
  }

  public setMode(mode: FaultMode, dropAfterBytes?: number): void {
    this.mode = mode;
    if (dropAfterBytes !== undefined) this.dropAfterBytes = dropAfterBytes;
    if (mode !== 'hold') {
      for (const h of this.held.splice(0)) {
        if (!h.req.destroyed) this.dispatch(h.req, h.res);
      }
    }
  }

  /** Answers matching requests with an HTTP error (see FaultRule). */
  public addFault(rule: FaultRule): void {
    this.faults.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  public async close(): Promise<void> {
    for (const h of this.held.splice(0)) h.req.socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.isUploadPart(req)) this.uploadPartRequests++;
    const op = s3Operation(req.method, req.url);
    this.requests[op] = (this.requests[op] ?? 0) + 1;
    const url = new URL(req.url ?? '/', 'http://x');
    const key = op === 'ListMultipartUploads' ? url.searchParams.get('prefix') ?? ''
      : decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
    const fault = this.faults.find((f) => f.left > 0 && f.rule.op === op && (!f.rule.key || f.rule.key.test(key)));
    if (fault) {
      fault.left--;
      this.injected[op] = (this.injected[op] ?? 0) + 1;
      this.answerWithError(req, res, fault.rule);
      return;
    }
    this.dispatch(req, res);
  }

  private answerWithError(req: http.IncomingMessage, res: http.ServerResponse, rule: FaultRule): void {
    const body = req.method === 'HEAD' ? '' : '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${rule.code ?? 'InternalError'}</Code><Message>injected by FaultProxy</Message><RequestId>fault</RequestId></Error>`;
    const answer = () => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(rule.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (!rule.afterForward) {
      // Read the body first: a client still sending a part must not see a reset instead of the answer.
      req.on('end', answer);
      req.resume();
      return;
    }
    const upstream = http.request({
      host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers,
    }, (up) => {
      up.resume();
      up.on('end', answer);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!this.isUploadPart(req) || this.mode === 'pass') {
      this.forward(req, res, false);
      return;
    }
    if (this.mode === 'hold') {
      req.pause();
      this.held.push({ req, res });
      return;
    }
    if (this.tripped) {
      this.dropped++;
      req.socket.destroy();
      return;
    }
    this.forward(req, res, true);
  }

  private isUploadPart(req: http.IncomingMessage): boolean {
    return req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '') && /[?&]uploadId=/.test(req.url ?? '');
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, countAndDrop: boolean): void {
    const upstream = http.request({
      host: this.target.hostname,
      port: this.target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    }, (up) => {
      const headers = { ...up.headers };
      if (req.method === 'HEAD' && this.headSizeDelta !== 0 && !/manifest\.json$/.test(req.url ?? '') && headers['content-length']) {
        headers['content-length'] = String(Number(headers['content-length']) + this.headSizeDelta);
      }
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
    if (countAndDrop) {
      req.on('data', (chunk: Buffer) => {
        this.uploadPartBytes += chunk.length;
        if (this.mode === 'drop' && !this.tripped && this.uploadPartBytes > this.dropAfterBytes) {
          this.tripped = true;
          this.dropped++;
          upstream.destroy();
          req.socket.destroy();
        }
      });
    }
    req.pipe(upstream);
    req.resume();
  }
}
