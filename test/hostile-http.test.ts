// The `rovkit monitor` HTTP listener against hostile clients, end to end: the built CLI
// in a child process, loopback only. Silent and trickling connections, more connections
// than the limit, oversized and malformed requests, greedy batch validity requests.
// After each case the daemon is alive, /metrics answers, the data held is exactly what it
// was, and its resident memory stays bounded. Every case is bounded in count and time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedWithin, open, post, raw } from '../packages/monitor/src/http/testing/raw-http.js';
import { until } from './support/monitor-peers.js';
import { startMonitor, type MonitorProcess } from './support/monitor-process.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-hostile-http-'));

// VRPs that heavily cover 10.0.0.0/8: 1000 origins on the /8 and 1000 on 10.0.0.0/16 (max
// length 24), so the answer for any 10.0.x.0/24 route lists 2000 VRPs (about 120 kB).
const COVERING = 1000;
const vrpFile = join(dir, 'vrps.csv');
writeFileSync(
  vrpFile,
  [
    'ASN,IP Prefix,Max Length,Trust Anchor',
    'AS64496,192.0.2.0/24,24,ripe',
    ...Array.from({ length: COVERING }, (_, i) => `AS${i + 1},10.0.0.0/8,24,ripe`),
    ...Array.from({ length: COVERING }, (_, i) => `AS${100_000 + i},10.0.0.0/16,24,ripe`),
  ].join('\n') + '\n',
);
const routeFile = join(dir, 'routes.txt');
writeFileSync(routeFile, '192.0.2.0/24 AS64496\n10.0.1.0/24 AS64496 customer:acme\n203.0.113.0/24 AS1\n');

let monitor: MonitorProcess;
let port = 0;
let base = '';
let held = '';

/** What the daemon holds: its routes with state and explanation, and the VRP and route counts. */
async function holding(): Promise<string> {
  const routes = await (await fetch(`${base}api/v1/routes?limit=10`)).text();
  const metrics = await (await fetch(`${base}metrics`)).text();
  const counts = metrics
    .split('\n')
    .filter((l) => /^rovkit_(routes|vrps)\{/.test(l))
    .join('\n');
  return `${routes}\n${counts}`;
}

function rssMb(): number {
  return monitor.memory().now / 2 ** 20;
}

/** The daemon is alive, /metrics answers on a fresh connection, the data is unchanged, RSS bounded. */
async function stillHealthy(): Promise<void> {
  expect(monitor.child.exitCode).toBeNull();
  const m = await until('/metrics on a fresh connection', async () => {
    const r = await fetch(`${base}metrics`);
    return r.status === 200 ? r.text() : undefined;
  });
  expect(m).toContain('rovkit_vrps{');
  expect(await holding()).toBe(held);
  expect(rssMb()).toBeLessThan(500);
}

beforeAll(async () => {
  monitor = await startMonitor([
    '--vrps',
    vrpFile,
    '--routes',
    routeFile,
    '--bind',
    '127.0.0.1',
    '--port',
    '0',
    '--http-idle-timeout',
    '2',
    '--http-header-timeout',
    '4',
    '--http-request-timeout',
    '8',
    '--log-level',
    'warn',
  ]);
  base = monitor.url;
  port = Number(new URL(base).port);
  held = await holding();
  expect(held).toContain('"total": 3');
  expect(held).toContain(`rovkit_vrps{afi="ipv4",source="file:${vrpFile}"} ${2 * COVERING + 1}`);
});

afterAll(async () => {
  await monitor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the HTTP listener under hostile clients', () => {
  it('closes 50 connections that send nothing within the idle timeout', async () => {
    const sockets = await Promise.all(Array.from({ length: 50 }, () => open(port)));
    try {
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 10_000)));
      expect(closed.every(Boolean)).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await stillHealthy();
  });

  it('cuts 20 slowloris clients (a header byte every second) at the header timeout', async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, () => open(port)));
    const answers = sockets.map(() => '');
    sockets.forEach((s, k) => {
      s.on('data', (d: Buffer) => (answers[k] += d.toString('latin1')));
      s.on('error', () => undefined);
    });
    const text = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}`;
    let sent = 0;
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(text[sent % text.length]!);
      sent++;
    }, 1000);
    try {
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 15_000)));
      expect(closed.every(Boolean)).toBe(true);
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
    // Each byte within the 2 s idle timeout: the 4 s header deadline cut them.
    expect(sent).toBeGreaterThanOrEqual(3);
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 408 /);
    await stillHealthy();
  }, 30_000);

  it('refuses connections past 1024 at once; /metrics answers again once the others are closed', async () => {
    const sockets: Socket[] = [];
    const closed = new Set<Socket>();
    try {
      // In bursts of 100: the kernel's accept queue holds 511.
      for (let k = 0; k < 11; k++)
        sockets.push(
          ...(await Promise.all(
            Array.from(
              { length: 100 },
              () =>
                new Promise<Socket>((resolve) => {
                  const s = connect(port, '127.0.0.1', () => resolve(s));
                  s.on('error', () => resolve(s));
                  s.on('close', () => closed.add(s));
                }),
            ),
          )),
        );
      // The ones past the limit are closed at accept, before the 2 s idle timeout.
      await until('the connections past the limit closed', () =>
        closed.size >= 1100 - 1024 ? true : undefined,
      );
      expect(sockets.length - closed.size).toBeLessThanOrEqual(1024);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await stillHealthy();
  }, 30_000);

  it('answers bodies over 100 kB with a 413 the client reads (declared, chunked, 100-continue)', async () => {
    const over = Buffer.alloc(100_001, 0x20);
    const r = await raw(port, post('/api/v1/validity', over.length), over);
    expect([r.status, r.error]).toEqual([413, undefined]);
    expect(JSON.parse(r.body).error).toBe('request body over 100000 bytes');
    const huge = Buffer.alloc(20_000_000, 0x20);
    const h = await raw(port, post('/api/v1/validity', huge.length), huge);
    expect([h.status, h.error]).toEqual([413, undefined]);
    const chunk = `8000\r\n${'x'.repeat(0x8000)}\r\n`;
    const chunked = Buffer.from(chunk.repeat(8) + '0\r\n\r\n');
    expect((await raw(port, post('/api/v1/validity', 'chunked'), chunked)).status).toBe(413);
    const expect100 = await raw(
      port,
      'POST /api/v1/validity HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n',
    );
    expect(expect100.status).toBe(413);
    await stillHealthy();
  });

  it.each([
    ['a bad percent-escape', 400, 'GET /api/v1/validity/AS1/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a non-canonical path', 404, 'GET //metrics HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a dot segment', 404, 'GET /metrics/../ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a 20 kB header', 431, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`],
    ['garbage bytes', 400, '\x00\x16\x03\x01\x02\x00\x01\x00\xff\xfe garbage\r\n\r\n'],
    ['a bad Content-Length', 400, 'POST /api/v1/validity HTTP/1.1\r\nContent-Length: 1x\r\n\r\n'],
    ['a bad batch', 400, `${post('/api/v1/validity', 13)}{"routes": 1}`],
    ['an unknown method', 405, 'DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n'],
  ] as const)('answers %s with %d', async (_name, status, request) => {
    const r = await raw(port, request);
    expect(r.status).toBe(status);
    if (status === 400 && r.body.startsWith('{')) expect(JSON.parse(r.body).error).toMatch(/\S/);
    await stillHealthy();
  });

  it('closes the connection after bytes that are not HTTP', async () => {
    const r = await raw(port, '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 not http at all\r\n\r\n');
    expect(r.status).toBe(400);
    expect(r.closed).toBe(true);
    await stillHealthy();
  });

  it('refuses a batch whose answer would exceed 16 MiB, and works at most 2 batches at once', async () => {
    const routes = Array.from({ length: 1500 }, (_, i) => ({
      asn: 'AS64496',
      prefix: `10.0.${i % 256}.0/24`,
    }));
    const body = Buffer.from(JSON.stringify({ routes }));
    const r = await raw(port, post('/api/v1/validity', body.length), body, 60_000);
    expect(r.status).toBe(413);
    expect(r.body.length).toBeLessThan(1000);
    expect(JSON.parse(r.body).error).toMatch(/^the answer would exceed 16777216 bytes/);
    // Four at once, each about 12 MB of answer: two worked, the others told to retry.
    const fits = Buffer.from(JSON.stringify({ routes: routes.slice(0, 100) }));
    const batches = Array.from({ length: 4 }, () =>
      raw(port, post('/api/v1/validity', fits.length), fits, 60_000),
    );
    const scrape = await fetch(`${base}metrics`);
    expect(scrape.status).toBe(200);
    const statuses = (await Promise.all(batches)).map((b) => b.status).sort();
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
    expect(statuses).toContain(503);
    await stillHealthy();
  }, 90_000);
});
