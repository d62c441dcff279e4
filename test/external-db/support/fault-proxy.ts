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
 */
import * as http from 'http';
import type { AddressInfo } from 'net';

export type FaultMode = 'pass' | 'hold' | 'drop';

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

  public async close(): Promise<void> {
    for (const h of this.held.splice(0)) h.req.socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.isUploadPart(req)) this.uploadPartRequests++;
    this.dispatch(req, res);
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
      res.writeHead(up.statusCode ?? 502, up.headers);
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
