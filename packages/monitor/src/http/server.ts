// One HTTP port for everything: /metrics, /healthz, /readyz, the JSON API and the status
// page. node:http only. Every limit (connections, timeouts, header, body, batch work and
// answer size) comes from limits.ts; a request is refused with a status and a message, and
// a body not read is drained for a while so that the client reads the answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ListenError } from '../errors.js';
import type { Logger } from '../log.js';
import { ApiError, invalidFallback, listRoutes, rovEnforcement, validityBatch, validityOne } from './api.js';
import type { FallbackResult } from '../engine/fallback.js';
import type { BmpAnalysis } from '../sources/bmp-analysis.js';
import type { Engine } from '../engine/engine.js';
import { DEFAULT_HTTP_LIMITS, LINGER_BYTES, LINGER_MS, TIMEOUT_CHECK_MS, type HttpLimits } from './limits.js';

/** Default port of `rovkit monitor` (beside 9323, Docker's metrics port). */
export const DEFAULT_PORT = 9324;

/** The paths served, exactly as a request must name them (no decoding, no dot segments). */
const PATHS = [
  '/metrics',
  '/healthz',
  '/readyz',
  '/',
  '/api/v1/routes',
  '/api/v1/validity',
  '/api/v1/invalid-fallback',
  '/api/v1/rov-enforcement',
];
const VALIDITY_ONE = '/api/v1/validity/';

export interface HttpHandlerDeps {
  readonly engine: Engine;
  readonly registry: Registry;
  readonly log: Logger;
  /** The status page's HTML. */
  statusPage(): string;
  /** The last fallback analysis and when it ran (ms since the epoch). */
  fallback?(): { result: FallbackResult | undefined; computedAt: number };
  /** The last analysis of the BMP routers' RIBs; absent without a BMP listener. */
  bmpAnalysis?(): BmpAnalysis;
}

export class HttpServer {
  readonly server: Server;
  readonly limits: HttpLimits;
  readonly #deps: HttpHandlerDeps;
  /** Batch validity requests being worked on. */
  #batches = 0;

  constructor(deps: HttpHandlerDeps, limits: Partial<HttpLimits> = {}) {
    this.#deps = deps;
    const l = { ...DEFAULT_HTTP_LIMITS, ...limits };
    this.limits = l;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.#handle(req, res).catch((error: unknown) => {
        if (error instanceof ApiError) {
          if (!res.headersSent) sendError(res, error);
          return;
        }
        deps.log.log('error', 'http_error', { path: req.url ?? '', error: error as Error });
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    };
    this.server = createServer(
      {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        // Node checks the two above every 30 s by default: a slow client would get 30 s more.
        connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, l.headersTimeoutMs),
        maxHeaderSize: l.maxHeaderBytes,
      },
      onRequest,
    );
    // Scrapers and browsers keep connections open; do not let them hold up stop().
    this.server.keepAliveTimeout = l.keepAliveTimeoutMs;
    this.server.maxConnections = l.maxConnections;
    // A client that half-closes after its request (`nc -N`, shutdown(SHUT_WR)) still gets
    // the answer of a batch worked in slices: Node would otherwise drop it at the FIN.
    (this.server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // A socket without a byte either way for this long is destroyed (no 'timeout' listener).
    this.server.setTimeout(l.idleTimeoutMs);
    // Expect: 100-continue: refuse an oversized body before the client sends it.
    this.server.on('checkContinue', (req, res) => {
      if (declaredLength(req) > l.maxBodyBytes) {
        res.setHeader('connection', 'close');
        sendError(res, bodyTooLarge(l.maxBodyBytes));
        return;
      }
      res.writeContinue();
      onRequest(req, res);
    });
  }

  /** Listens; rejects with ListenError naming the address and the reason (e.g. port in use). */
  listen(port: number, host: string): Promise<AddressInfo> {
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        this.server.off('listening', onListening);
        const reason =
          error.code === 'EADDRINUSE'
            ? 'the port is in use (another rovkit monitor or exporter?); choose another with --port'
            : error.code === 'EACCES'
              ? 'permission denied (ports below 1024 need privileges)'
              : error.code === 'EADDRNOTAVAIL'
                ? 'no such local address; check --bind'
                : error.message;
        reject(new ListenError(where, reason, { cause: error }));
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, host);
    });
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, query: q } = requestTarget(req.url ?? '/');
    const { engine, registry } = this.#deps;
    const method = req.method ?? 'GET';
    const get = method === 'GET' || method === 'HEAD';

    if (path === '/metrics' && get) {
      send(res, 200, registry.contentType, await registry.metrics());
    } else if (path === '/healthz' && get) {
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    } else if (path === '/readyz' && get) {
      if (engine.ready && engine.hasUsableVrps) send(res, 200, 'text/plain; charset=utf-8', 'ready\n');
      else if (engine.ready)
        send(res, 503, 'text/plain; charset=utf-8', 'not ready: no usable VRPs (the VRP data expired)\n');
      else send(res, 503, 'text/plain; charset=utf-8', 'not ready: waiting for the first full VRP set\n');
    } else if (path === '/' && get) {
      send(res, 200, 'text/html; charset=utf-8', this.#deps.statusPage());
    } else if (path.startsWith(VALIDITY_ONE) && get) {
      json(res, () => validityOne(engine, path.slice(VALIDITY_ONE.length)));
    } else if (path === '/api/v1/validity' && method === 'POST') {
      await this.#batch(req, res);
    } else if (path === '/api/v1/routes' && get) {
      const limit = this.#listLimit(q);
      json(res, () =>
        listRoutes(engine, {
          state: q.get('state') ?? undefined,
          group: q.get('group') ?? undefined,
          afi: q.get('afi') ?? undefined,
          limit,
        }),
      );
    } else if (path === '/api/v1/invalid-fallback' && get) {
      const limit = this.#listLimit(q);
      const f = this.#deps.fallback?.() ?? { result: undefined, computedAt: 0 };
      json(res, () =>
        invalidFallback(engine, f.result, f.computedAt, {
          fallback: q.get('fallback') ?? undefined,
          afi: q.get('afi') ?? undefined,
          group: q.get('group') ?? undefined,
          limit,
        }),
      );
    } else if (path === '/api/v1/rov-enforcement' && get && this.#deps.bmpAnalysis !== undefined) {
      const limit = this.#listLimit(q);
      const analysis = this.#deps.bmpAnalysis();
      json(res, () =>
        rovEnforcement(analysis, {
          status: q.get('status') ?? undefined,
          router: q.get('router') ?? undefined,
          limit,
        }),
      );
    } else if (path === '/api/v1/rov-enforcement' && get) {
      send(
        res,
        404,
        'application/json',
        `${JSON.stringify({ error: 'no BMP listener: start the monitor with --bmp' })}\n`,
      );
    } else if (PATHS.includes(path) || path.startsWith(VALIDITY_ONE)) {
      res.setHeader('allow', path === '/api/v1/validity' ? 'POST' : 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', `method ${method} not allowed on ${shorten(path)}\n`);
    } else {
      send(res, 404, 'text/plain; charset=utf-8', `no such page: ${shorten(path)}\n`);
    }
  }

  /** The `limit=` of a route list: at most maxListLimit. */
  #listLimit(q: URLSearchParams): number | undefined {
    const text = q.get('limit');
    if (text === null) return undefined;
    const limit = Number(text);
    if (limit > this.limits.maxListLimit)
      throw new ApiError(400, `limit ${text} is over ${this.limits.maxListLimit} (--http-max-list)`);
    return limit;
  }

  /** POST /api/v1/validity: body bounded, at most maxConcurrentBatches at once, work in slices. */
  async #batch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const l = this.limits;
    const text = (await readBody(req, l.maxBodyBytes)).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new ApiError(400, `request body is not JSON: ${(error as Error).message}`, { cause: error });
    }
    // Counted once the body is in: a client trickling its body holds a connection, not a slot.
    if (this.#batches >= l.maxConcurrentBatches) {
      res.setHeader('retry-after', '1');
      throw new ApiError(
        503,
        `${l.maxConcurrentBatches} batch validity requests are being answered; retry in a second`,
      );
    }
    this.#batches++;
    try {
      const answer = await validityBatch(this.#deps.engine, body, {
        maxRoutes: l.maxBatchRoutes,
        maxAnswerBytes: l.maxAnswerBytes,
        abandoned: () => res.destroyed,
      });
      send(res, 200, 'application/json', answer);
    } finally {
      this.#batches--;
    }
  }
}

/** Path and query of a request target, taken as sent; an absolute-form target is reduced to its path. */
function requestTarget(url: string): { path: string; query: URLSearchParams } {
  let target = url;
  const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
  if (absolute !== null) target = target.slice(absolute[0].length) || '/';
  if (!target.startsWith('/')) throw new ApiError(400, 'the request target must be a path starting with /');
  const q = target.indexOf('?');
  return q < 0
    ? { path: target, query: new URLSearchParams() }
    : { path: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) };
}

/** A request path for a message: JSON-quoted (no raw control bytes), at most 100 characters. */
function shorten(path: string): string {
  return JSON.stringify(path.length > 100 ? `${path.slice(0, 100)}...` : path);
}

function bodyTooLarge(max: number): ApiError {
  return new ApiError(413, `request body over ${max} bytes`);
}

/** Content-Length, or -1 when there is none or it is not a number. */
function declaredLength(req: IncomingMessage): number {
  const v = req.headers['content-length'];
  return v === undefined || !/^\d+$/.test(v) ? -1 : Number(v);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  const req = res.req;
  // Answered before the body was read: a client writing its whole body before reading
  // would lose the answer to a reset if we closed now. Read and drop the rest (bounded).
  if (!req.complete && (declaredLength(req) > 0 || req.headers['transfer-encoding'] !== undefined))
    linger(req);
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

function linger(req: IncomingMessage): void {
  let dropped = 0;
  const cut = (): void => {
    req.socket.destroy();
  };
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.socket.once('close', () => clearTimeout(timer));
  req.resume();
}

function sendError(res: ServerResponse, error: ApiError): void {
  send(res, error.status, 'application/json', `${JSON.stringify({ error: error.message })}\n`);
}

function json(res: ServerResponse, answer: () => unknown): void {
  try {
    send(res, 200, 'application/json', `${JSON.stringify(answer(), null, 2)}\n`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    sendError(res, error);
  }
}

/**
 * The body, at most `max` bytes: a Content-Length over it is refused before reading, a
 * body growing past it as soon as it does (413). Read with listeners, not an async
 * iterator: leaving one early destroys the socket, and the client would see a reset
 * instead of the 413.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  if (declaredLength(req) > max) return Promise.reject(bodyTooLarge(max));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        done();
        reject(bodyTooLarge(max));
      } else chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onClose = (): void => {
      done();
      reject(new ApiError(400, 'the client closed the connection before the end of the body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}
