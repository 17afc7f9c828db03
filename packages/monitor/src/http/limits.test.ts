// The HTTP listener's limits, each tested one step past it over real loopback sockets:
// silent and trickling connections, the connection limit, bodies over the limit (a real
// 413 that the client reads), strict paths, and batch validity work that stays bounded in
// bytes, memory and event-loop time under a table whose VRPs heavily cover the routes.
import { connect, type Socket } from 'node:net';
import { VrpList } from '@rovkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { JsonLogger } from '../log.js';
import { createMetrics } from '../metrics.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits.js';
import { HttpServer } from './server.js';
import { closedWithin, open, post, raw } from './testing/raw-http.js';

function routesBody(routes: Array<{ asn: string; prefix: string }>, padTo = 0): Buffer {
  const text = JSON.stringify({ routes });
  return Buffer.from(text.length < padTo ? text + ' '.repeat(padTo - text.length) : text);
}

// A table whose VRPs heavily cover the routes: `perPrefix` origins on each of 10.0.0.0/8
// and 10.0.0.0/16 (max length 24), so every 10.0.x.0/24 route is covered by 2 * perPrefix
// VRPs and its answer lists them all.
function coveredEngine(perPrefix: number): Engine {
  const engine = new Engine({ now: () => Date.UTC(2024, 0, 1) });
  const vrps = new VrpList();
  for (let asn = 1; asn <= perPrefix; asn++) {
    vrps.pushV4(0x0a000000, 8, 24, asn);
    vrps.pushV4(0x0a000000, 16, 24, 100_000 + asn);
  }
  engine.applyVrps(engine.registerVrpSource('file:covering'), vrps, new VrpList(1), true);
  return engine;
}

function serverOf(engine: Engine, limits: Partial<HttpLimits> = {}): HttpServer {
  return new HttpServer(
    {
      engine,
      registry: createMetrics(
        { engine, addressSpace: () => new Float64Array(0), rtrCaches: () => [] },
        { version: 't' },
      ),
      log: new JsonLogger({ write: () => undefined }),
      statusPage: () => '<p>status</p>',
    },
    limits,
  );
}

const servers: HttpServer[] = [];
async function started(engine: Engine, limits: Partial<HttpLimits> = {}): Promise<number> {
  const s = serverOf(engine, limits);
  servers.push(s);
  return (await s.listen(0, '127.0.0.1')).port;
}
afterAll(async () => {
  for (const s of servers) await s.close();
});

const small = new Engine({ now: () => Date.UTC(2024, 0, 1) });
let defaults = 0;
beforeAll(async () => {
  defaults = await started(small);
});

describe('HTTP connection limits', () => {
  it('closes a connection that sends nothing within seconds (default limits)', async () => {
    const s = await open(defaults);
    // Node's own defaults would keep it 60 to 90 s.
    expect(await closedWithin(s, 20_000)).toBe(true);
  }, 30_000);

  it('cuts a client that sends a header byte every 300 ms at the header timeout (408)', async () => {
    const port = await started(small, { headersTimeoutMs: 1500, idleTimeoutMs: 1000 });
    const s = await open(port);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    const text = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`;
    let i = 0;
    const trickle = setInterval(() => {
      if (!s.destroyed) s.write(text[i++ % text.length]!);
    }, 300);
    try {
      expect(await closedWithin(s, 10_000)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(got).toMatch(/^HTTP\/1\.1 408 /);
    // Each byte came within the idle timeout: only the header deadline cut it.
    expect(i).toBeGreaterThan(1500 / 300 - 1);
  }, 20_000);

  it('refuses one connection past --http-max-connections; /metrics answers once others close', async () => {
    const max = 8;
    const port = await started(small, {
      maxConnections: max,
      idleTimeoutMs: 30_000,
      headersTimeoutMs: 30_000,
    });
    const held: Socket[] = [];
    try {
      for (let k = 0; k < max; k++) held.push(await open(port));
      // Accepted by the server (same process: a turn of the loop later).
      await new Promise((r) => setTimeout(r, 100));
      const extra = connect(port, '127.0.0.1');
      extra.on('error', () => undefined);
      let answered = false;
      extra.on('data', () => (answered = true));
      extra.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await closedWithin(extra, 5_000)).toBe(true);
      expect(answered).toBe(false);
      expect(held.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const s of held) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    const m = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('rovkit_');
  }, 20_000);

  it('states its defaults', () => {
    expect(DEFAULT_HTTP_LIMITS).toMatchObject({
      maxConnections: 1024,
      idleTimeoutMs: 5000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxBodyBytes: 100_000,
    });
  });
});

describe('HTTP request limits', () => {
  const route = { asn: 'AS1', prefix: '10.0.0.0/24' };

  it('answers a body of exactly --http-max-body, and 413 one byte past it', async () => {
    const at = routesBody([route], DEFAULT_HTTP_LIMITS.maxBodyBytes);
    expect(at.length).toBe(DEFAULT_HTTP_LIMITS.maxBodyBytes);
    const ok = await raw(defaults, post('/api/v1/validity', at.length), at);
    expect(ok.status).toBe(200);
    const over = routesBody([route], DEFAULT_HTTP_LIMITS.maxBodyBytes + 1);
    const r = await raw(defaults, post('/api/v1/validity', over.length), over);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toBe(`request body over ${DEFAULT_HTTP_LIMITS.maxBodyBytes} bytes`);
  });

  it('sends the 413 and drains the body: a client writing 5 MB before reading sees no reset', async () => {
    const big = Buffer.alloc(5_000_000, 0x20);
    const r = await raw(defaults, post('/api/v1/validity', big.length), big);
    expect(r.status).toBe(413);
    expect(r.error).toBeUndefined();
    expect(JSON.parse(r.body).error).toMatch(/request body over 100000 bytes/);
  });

  it('refuses a chunked body as it grows past the limit, with a 413', async () => {
    const piece = 'x'.repeat(4096);
    const chunks = Array.from({ length: 40 }, () => `1000\r\n${piece}\r\n`).join('') + '0\r\n\r\n';
    const r = await raw(defaults, post('/api/v1/validity', 'chunked'), Buffer.from(chunks));
    expect(r.status).toBe(413);
    expect(r.error).toBeUndefined();
  });

  it('refuses an oversized body announced with Expect: 100-continue before it is sent', async () => {
    const r = await raw(
      defaults,
      'POST /api/v1/validity HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 200000000\r\n\r\n',
    );
    expect(r.status).toBe(413);
  });

  it.each([
    ['/api/v1/validity/AS1/%E0%A4%A', /bad percent-escape in "%E0%A4%A"/],
    ['/api/v1/validity/AS%zz/10.0.0.0%2F8', /bad percent-escape in "AS%zz"/],
  ])('GET %s: 400 naming the bad escape, not 500', async (path, message) => {
    const r = await raw(defaults, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatch(message);
  });

  it.each(['//metrics', '/metrics/../', '/metrics/', '/./metrics', '/%6detrics', '//', '/metrics/..'])(
    'GET %s is not a known path: 404, never the status page',
    async (path) => {
      const r = await raw(defaults, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(r.status).toBe(404);
      expect(r.body).not.toContain('status');
    },
  );

  it.each(['/api/v1/routes', '/api/v1/invalid-fallback'])(
    'GET %s?limit= one past --http-max-list is 400',
    async (path) => {
      const port = await started(small, { maxListLimit: 20 });
      const ok = await raw(port, `GET ${path}?limit=20 HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(ok.status).toBe(200);
      const r = await raw(port, `GET ${path}?limit=21 HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).error).toBe('limit 21 is over 20 (--http-max-list)');
      const d = await raw(defaults, `GET ${path}?limit=10001 HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(d.status).toBe(400);
    },
  );

  it('takes an absolute-form target by its path (RFC 9112 3.2.2)', async () => {
    const r = await raw(defaults, 'GET http://localhost/healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok\n');
  });
});

describe('batch validity work is bounded', () => {
  // 2 x 1000 covering VRPs: about 120 kB of answer per route.
  const heavy = coveredEngine(1000);
  const routes = Array.from({ length: 1500 }, (_, i) => ({
    asn: 'AS64496',
    prefix: `10.0.${i % 256}.0/24`,
  }));

  it('refuses with 413 (and little memory) an answer that would exceed --http-max-answer', async () => {
    const port = await started(heavy);
    const body = routesBody(routes);
    // Unbounded, this answer would be about 180 MB.
    expect(body.length).toBeLessThan(DEFAULT_HTTP_LIMITS.maxBodyBytes);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const r = await raw(port, post('/api/v1/validity', body.length), body, 60_000);
    clearInterval(sample);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toMatch(
      /^the answer would exceed 16777216 bytes \(at routes\[\d+\] of 1500/,
    );
    expect(r.body.length).toBeLessThan(1000);
    expect(peak - before).toBeLessThan(400e6);
  }, 90_000);

  it('keeps answering /metrics between slices of a long batch, and answers it whole', async () => {
    const port = await started(heavy, { maxAnswerBytes: 64 << 20 });
    const body = routesBody(routes.slice(0, 200));
    let batchDone = false;
    const batch = raw(port, post('/api/v1/validity', body.length), body, 60_000).then((r) => {
      batchDone = true;
      return r;
    });
    const scrapedAt: number[] = [];
    while (!batchDone) {
      const m = await fetch(`http://127.0.0.1:${port}/metrics`);
      await m.text();
      scrapedAt.push(performance.now());
    }
    const r = await batch;
    expect(r.status).toBe(200);
    const answer = JSON.parse(r.body) as {
      validated_routes: Array<{ validity: { state: string; VRPs: { unmatched_as: unknown[] } } }>;
    };
    expect(answer.validated_routes).toHaveLength(200);
    expect(answer.validated_routes[0]!.validity.state).toBe('invalid');
    expect(answer.validated_routes[0]!.validity.VRPs.unmatched_as).toHaveLength(2000);
    // Scrapes answered while the batch was worked on (before its first byte): the
    // synchronous answer of old let none through.
    expect(scrapedAt.filter((t) => t < r.firstByteAt).length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('answers a long batch to a client that half-closed after its request (nc -N)', async () => {
    const port = await started(heavy, { maxAnswerBytes: 64 << 20 });
    const body = routesBody(routes.slice(0, 50));
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => undefined);
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.end(Buffer.concat([Buffer.from(post('/api/v1/validity', body.length)), body]));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).validated_routes).toHaveLength(50);
  });

  it('works on --http-max-batches at once; one more gets 503 with Retry-After', async () => {
    const port = await started(heavy, { maxConcurrentBatches: 1, maxAnswerBytes: 64 << 20 });
    const body = routesBody(routes.slice(0, 100));
    const first = raw(port, post('/api/v1/validity', body.length), body, 60_000);
    await new Promise((r) => setTimeout(r, 30));
    const second = await raw(port, post('/api/v1/validity', body.length), body, 60_000);
    expect(second.status).toBe(503);
    expect(second.headers).toMatch(/\r\nretry-after: 1/i);
    expect((await first).status).toBe(200);
    const again = await raw(port, post('/api/v1/validity', body.length), body, 60_000);
    expect(again.status).toBe(200);
  }, 90_000);

  it('refuses one route past --http-max-batch-routes with 413', async () => {
    const port = await started(heavy, { maxBatchRoutes: 10 });
    const ok = routesBody(routes.slice(0, 10));
    expect((await raw(port, post('/api/v1/validity', ok.length), ok)).status).toBe(200);
    const over = routesBody(routes.slice(0, 11));
    const r = await raw(port, post('/api/v1/validity', over.length), over);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toBe('11 routes in one request; at most 10 (--http-max-batch-routes)');
  });
});
