// `rovkit monitor --bmp` against hostile or broken BMP peers on loopback: hundreds of
// silent connections, a peer trickling one byte per second, garbage, an oversized length
// field, and a router sending a malformed UPDATE in the middle of its stream. After each
// case the monitor is alive, /metrics answers, the routes it holds are exactly the real
// routers' routes, and memory stays bounded. Every case is bounded in count and time and
// closes what it opened; afterAll stops the monitor.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, Monitor, type MonitorConfig } from '@rovkit/monitor';
import {
  asPath,
  capFourOctetAs,
  nextHop,
  nlri,
  open,
  origin,
  SEQUENCE,
  u32,
  update,
  type Bytes,
} from '../packages/monitor/src/bgp/testing/build.js';
import {
  initiation,
  peerUp,
  routeMonitoring,
  type PeerSpec,
} from '../packages/monitor/src/feeds/bmp/testing/build.js';
import { until } from './support/monitor-peers.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-hostile-bmp-'));
const vrps = join(dir, 'vrps.csv');
writeFileSync(vrps, 'ASN,IP Prefix,Max Length\nAS64500,192.0.2.0/24,24\nAS64501,198.51.100.0/24,24\n');

const announce = (prefixes: string[], ...asns: number[]): Bytes =>
  update({ attributes: [...origin(), ...nextHop(), ...asPath([[SEQUENCE, asns]])], nlri: nlri(prefixes) });
const up = (peer: PeerSpec): Bytes =>
  peerUp(peer, {
    sent: open({ asn: 64499, capabilities: [capFourOctetAs(64499)] }),
    received: open({ asn: peer.asn!, capabilities: [capFourOctetAs(peer.asn!)] }),
  });

/** Real router A: three routes from one peer. */
const peerA: PeerSpec = { address: '192.0.2.1', asn: 64500 };
const routesA = ['192.0.2.0/24 64500', '198.51.100.0/24 64501', '203.0.113.0/24 64502'];
const streamA = (): Bytes[] => [
  initiation('router-a'),
  up(peerA),
  routeMonitoring(peerA, announce(['192.0.2.0/24'], 64500)),
  routeMonitoring(peerA, announce(['198.51.100.0/24'], 64500, 64501)),
  routeMonitoring(peerA, announce(['203.0.113.0/24'], 64500, 64502)),
];

let monitor: Monitor;
let base = '';
let bmpPort = 0;
let heapAtStart = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  const config = loadConfig([
    '--vrps',
    vrps,
    '--bmp',
    '127.0.0.1:0',
    '--bmp-init-timeout',
    '1',
    '--bind',
    '127.0.0.1',
    '--port',
    '0',
  ]) as MonitorConfig;
  monitor = new Monitor(config, { out: { write: () => undefined } });
  await monitor.start();
  base = monitor.url;
  bmpPort = monitor.bmp!.listener.address!.port;
  heapAtStart = process.memoryUsage().heapUsed;
});

afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets.clear();
});

afterAll(async () => {
  await monitor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback connection to the BMP port; the monitor may reset it, which is expected here. */
async function connection(): Promise<Socket> {
  const socket = connect(bmpPort, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
  sockets.add(socket);
  await once(socket, 'connect');
  return socket;
}

async function router(messages: Bytes[]): Promise<Socket> {
  const socket = await connection();
  socket.write(Uint8Array.from(messages.flat()));
  return socket;
}

/** The monitor's routes as "prefix origin", sorted. */
function held(): string[] {
  const s = monitor.engine.store;
  const out: string[] = [];
  for (let id = 0; id < s.used; id++) if (s.live(id)) out.push(`${s.prefixText(id)} ${s.originValue(id)}`);
  return out.sort();
}

async function metric(line: RegExp): Promise<number | undefined> {
  const response = await fetch(`${base}metrics`);
  expect(response.status).toBe(200);
  for (const l of (await response.text()).split('\n'))
    if (line.test(l)) return Number(l.slice(l.lastIndexOf(' ') + 1));
  return undefined;
}

/** Alive, /metrics answers, exactly `expected` held, heap within 64 MB of the start. */
async function healthy(expected: string[]): Promise<void> {
  await until('the held routes', () =>
    JSON.stringify(held()) === JSON.stringify(expected) ? true : undefined,
  );
  expect((await fetch(`${base}healthz`)).status).toBe(200);
  expect(await metric(/^rovkit_bmp_connections\{state="router"\}/)).toBeGreaterThanOrEqual(0);
  expect(process.memoryUsage().heapUsed - heapAtStart).toBeLessThan(64 * 1024 * 1024);
}

describe('rovkit monitor --bmp with hostile peers', { timeout: 60_000 }, () => {
  it('holds a real router’s routes after 300 silent connections', async () => {
    const listener = monitor.bmp!.listener;
    const silent: Socket[] = [];
    for (let i = 0; i < 300; i++) silent.push(await connection());
    await until('the pending connections', () => (listener.pending === 64 ? true : undefined));
    const a = await router(streamA());
    await healthy(routesA);
    expect(listener.routers.size).toBe(1);
    expect(await metric(/^rovkit_bmp_connections\{state="pending"\}/)).toBeLessThanOrEqual(64);
    expect(
      await metric(/^rovkit_bmp_closed_connections_total\{reason="pending_evicted"\}/),
    ).toBeGreaterThanOrEqual(300 - 64);
    // The silent ones that are left run out of time (--bmp-init-timeout 1).
    await until('the deadline', () => (listener.pending === 0 ? true : undefined));
    expect(await metric(/^rovkit_bmp_closed_connections_total\{reason="init_timeout"\}/)).toBeGreaterThan(0);
    a.destroy();
    await healthy([]);
  });

  it('closes a peer trickling one byte per second at the Initiation deadline, and serves others meanwhile', async () => {
    const listener = monitor.bmp!.listener;
    const timeouts = (await metric(/^rovkit_bmp_closed_connections_total\{reason="init_timeout"\}/)) ?? 0;
    const trickle = await connection();
    const bytes = initiation('slow', 'a router that takes its time');
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < bytes.length && !trickle.destroyed) trickle.write(Uint8Array.of(bytes[sent++]));
    }, 1000);
    try {
      const a = await router(streamA());
      await healthy(routesA);
      await until('the trickling peer to be closed', () => (trickle.destroyed ? true : undefined), 10_000);
      expect(sent).toBeLessThan(bytes.length);
      expect(await metric(/^rovkit_bmp_closed_connections_total\{reason="init_timeout"\}/)).toBe(
        timeouts + 1,
      );
      expect([...listener.routers.values()].map((r) => r.sysName)).toEqual(['router-a']);
      a.destroy();
      await healthy([]);
    } finally {
      clearInterval(timer);
    }
  });

  it('closes a peer sending garbage or an oversized length, keeping the real router', async () => {
    const listener = monitor.bmp!.listener;
    const a = await router(streamA());
    await healthy(routesA);
    const errors = (await metric(/^rovkit_bmp_closed_connections_total\{reason="error"\}/)) ?? 0;
    // Garbage: version 0x47 ("GET / HTTP/1.1").
    const garbage = await router([[...Buffer.from('GET / HTTP/1.1\r\n\r\n')]]);
    // An Initiation, then a message claiming 4 GB.
    const oversized = await router([initiation('big'), [3, ...u32(0xffffffff), 0, 1, 2, 3]]);
    await until('both closed', () => (garbage.destroyed && oversized.destroyed ? true : undefined));
    expect(await metric(/^rovkit_bmp_closed_connections_total\{reason="error"\}/)).toBe(errors + 2);
    await healthy(routesA);
    expect([...listener.routers.values()].map((r) => r.sysName)).toEqual(['router-a']);
    a.destroy();
    await healthy([]);
  });

  it('treats a malformed UPDATE from one router per RFC 7606 while another router’s routes stay exact', async () => {
    const a = await router(streamA());
    await healthy(routesA);
    const peerB: PeerSpec = { address: '192.0.2.2', asn: 64510 };
    const b = await router([
      initiation('router-b'),
      up(peerB),
      routeMonitoring(peerB, announce(['10.0.0.0/8', '10.1.0.0/16'], 64510)),
    ]);
    await healthy([...routesA, '10.0.0.0/8 64510', '10.1.0.0/16 64510'].sort());
    // No ADD-PATH: a /33 of four bytes, which must not become a path id and 0.0.0.0/0.
    const slash33 = update({
      attributes: [...origin(), ...nextHop(), ...asPath([[SEQUENCE, [64510]]])],
      nlri: [33, 192, 0, 2, 0],
    });
    b.write(
      Uint8Array.from(
        [routeMonitoring(peerB, slash33), routeMonitoring(peerB, announce(['10.2.0.0/16'], 64510))].flat(),
      ),
    );
    // B's pre-policy IPv4 RIB is forgotten (RFC 7606: the NLRI cannot be read), then
    // follows B's next UPDATE; A is untouched, nothing invented.
    await healthy([...routesA, '10.2.0.0/16 64510'].sort());
    expect(held()).not.toContain('0.0.0.0/0 64510');
    expect(await metric(/^rovkit_bmp_update_errors_total\{router="router-b",treatment="reset"\}/)).toBe(1);
    expect(await metric(/^rovkit_bmp_update_errors_total\{router="router-a",treatment="reset"\}/)).toBe(0);
    expect(monitor.bmp!.listener.routers.size).toBe(2);
    a.destroy();
    b.destroy();
    await healthy([]);
  });
});
