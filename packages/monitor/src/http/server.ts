// One HTTP port for everything: /metrics, /healthz, /readyz, the JSON API and the status
// page. node:http only; request bodies are bounded before they are read whole.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ListenError } from '../errors.js';
import type { Logger } from '../log.js';
import { ApiError, invalidFallback, listRoutes, rovEnforcement, validityBatch, validityOne } from './api.js';
import type { FallbackResult } from '../engine/fallback.js';
import type { BmpAnalysis } from '../sources/bmp-analysis.js';
import type { Engine } from '../engine/engine.js';

/** Default port of `rovkit monitor` (beside 9323, Docker's metrics port). */
export const DEFAULT_PORT = 9324;
/** Largest POST body read (a batch of about 20,000 routes). */
export const MAX_BODY_BYTES = 4 << 20;

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
  readonly #deps: HttpHandlerDeps;

  constructor(deps: HttpHandlerDeps) {
    this.#deps = deps;
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (error instanceof ApiError && !res.headersSent) {
          send(res, error.status, 'application/json', `${JSON.stringify({ error: error.message })}\n`);
          return;
        }
        deps.log.log('error', 'http_error', { path: req.url ?? '', error: error as Error });
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
    // Scrapers and browsers keep connections open; do not let them hold up stop().
    this.server.keepAliveTimeout = 5000;
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
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
    } else if (path.startsWith('/api/v1/validity/') && get) {
      json(res, () => validityOne(engine, path.slice('/api/v1/validity/'.length)));
    } else if (path === '/api/v1/validity' && method === 'POST') {
      const body = await readJson(req);
      json(res, () => validityBatch(engine, body));
    } else if (path === '/api/v1/routes' && get) {
      const q = url.searchParams;
      const limit = q.get('limit');
      json(res, () =>
        listRoutes(engine, {
          state: q.get('state') ?? undefined,
          group: q.get('group') ?? undefined,
          afi: q.get('afi') ?? undefined,
          limit: limit === null ? undefined : Number(limit),
        }),
      );
    } else if (path === '/api/v1/invalid-fallback' && get) {
      const q = url.searchParams;
      const limit = q.get('limit');
      const f = this.#deps.fallback?.() ?? { result: undefined, computedAt: 0 };
      json(res, () =>
        invalidFallback(engine, f.result, f.computedAt, {
          fallback: q.get('fallback') ?? undefined,
          afi: q.get('afi') ?? undefined,
          group: q.get('group') ?? undefined,
          limit: limit === null ? undefined : Number(limit),
        }),
      );
    } else if (path === '/api/v1/rov-enforcement' && get && this.#deps.bmpAnalysis !== undefined) {
      const q = url.searchParams;
      const limit = q.get('limit');
      const analysis = this.#deps.bmpAnalysis();
      json(res, () =>
        rovEnforcement(analysis, {
          status: q.get('status') ?? undefined,
          router: q.get('router') ?? undefined,
          limit: limit === null ? undefined : Number(limit),
        }),
      );
    } else if (path === '/api/v1/rov-enforcement' && get) {
      send(
        res,
        404,
        'application/json',
        `${JSON.stringify({ error: 'no BMP listener: start the monitor with --bmp' })}\n`,
      );
    } else if (
      [
        '/metrics',
        '/healthz',
        '/readyz',
        '/',
        '/api/v1/routes',
        '/api/v1/validity',
        '/api/v1/invalid-fallback',
        '/api/v1/rov-enforcement',
      ].includes(path) ||
      path.startsWith('/api/v1/validity/')
    ) {
      res.setHeader('allow', path === '/api/v1/validity' ? 'POST' : 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', `method ${method} not allowed on ${path}\n`);
    } else {
      send(res, 404, 'text/plain; charset=utf-8', `no such page: ${path}\n`);
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, answer: () => unknown): void {
  try {
    send(res, 200, 'application/json', `${JSON.stringify(answer(), null, 2)}\n`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    send(res, error.status, 'application/json', `${JSON.stringify({ error: error.message })}\n`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.destroy();
      throw new ApiError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(400, `request body is not JSON: ${(error as Error).message}`, { cause: error });
  }
}
