// The BMP listener as the monitor's route source, fed over loopback TCP with hand-built
// BMP messages: routes in and out of the engine, groups, ROV enforcement from pre- vs
// post-policy and Loc-RIB, the fallback analysis, and the metrics and API that show them.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  asPath,
  capFourOctetAs,
  nextHop,
  nlri,
  open,
  origin,
  SEQUENCE,
  update,
  type Bytes,
} from '../bgp/testing/build.js';
import { loadConfig, type MonitorConfig } from '../config.js';
import {
  initiation,
  peerDown,
  peerUp,
  POST,
  PRE,
  routeMonitoring,
  type PeerSpec,
} from '../feeds/bmp/testing/build.js';
import { Monitor } from '../monitor.js';
import { RouteClassifier } from '../routes/route-classifier.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-bmp-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// 192.0.2.0/24 AS64500; 198.51.100.0/24 AS64501; 10.0.0.0/8 AS64502 (no more specifics).
const vrps = write(
  'vrps.csv',
  'ASN,IP Prefix,Max Length\nAS64500,192.0.2.0/24,24\nAS64501,198.51.100.0/24,24\nAS64502,10.0.0.0/8,8\n',
);

const announce = (prefixes: string[], ...asns: number[]): Bytes =>
  update({ attributes: [...origin(), ...nextHop(), ...asPath([[SEQUENCE, asns]])], nlri: nlri(prefixes) });
const withdraw = (prefixes: string[]): Bytes => update({ withdrawn: nlri(prefixes) });
const peerA: PeerSpec = { address: '192.0.2.1', asn: 64510 };
const up = (peer: PeerSpec): Bytes =>
  peerUp(peer, {
    sent: open({ asn: 64499, capabilities: [capFourOctetAs(64499)] }),
    received: open({ asn: peer.asn!, capabilities: [capFourOctetAs(peer.asn!)] }),
  });

let monitor: Monitor | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await monitor?.stop();
  monitor = undefined;
});

async function start(argv: string[]): Promise<{ m: Monitor; bmpPort: number; base: string }> {
  const config = loadConfig([
    '--vrps',
    vrps,
    '--bmp',
    '127.0.0.1:0',
    '--bind',
    '127.0.0.1',
    '--port',
    '0',
    ...argv,
  ]) as MonitorConfig;
  const m = new Monitor(config, { out: { write: () => undefined } });
  monitor = m;
  await m.start();
  return { m, bmpPort: m.bmp!.listener.address!.port, base: m.url };
}

async function router(port: number, ...messages: Bytes[]): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await once(socket, 'connect');
  if (messages.length > 0) socket.write(Uint8Array.from(messages.flat()));
  return socket;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

/** The engine's routes as "prefix origin group state", sorted. */
function routes(m: Monitor): string[] {
  const s = m.engine.store;
  const out: string[] = [];
  const states = ['not_found', 'valid', 'invalid', 'invalid'];
  for (let id = 0; id < s.used; id++)
    if (s.live(id))
      out.push(`${s.prefixText(id)} ${s.originValue(id)} ${s.groups[s.group[id]!]} ${states[s.state[id]!]}`);
  return out.sort();
}

async function metric(base: string, line: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${base}metrics`)).text();
  for (const l of text.split('\n')) {
    if (!line.test(l)) continue;
    return Number(l.slice(l.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const invalidTable = [
  routeMonitoring({ ...peerA, flags: PRE }, announce(['192.0.2.0/24'], 64510, 64500)), // Valid
  routeMonitoring({ ...peerA, flags: PRE }, announce(['198.51.100.0/24'], 64510, 64666)), // Invalid (AS)
  routeMonitoring({ ...peerA, flags: PRE }, announce(['10.1.0.0/16'], 64510, 64502)), // Invalid (length)
  routeMonitoring({ ...peerA, flags: PRE }, announce(['203.0.113.0/24'], 64510, 64503)), // NotFound
  // The router's import policy keeps 192.0.2.0/24, 10.1.0.0/16 and 203.0.113.0/24 only.
  routeMonitoring({ ...peerA, flags: POST }, announce(['192.0.2.0/24'], 64510, 64500)),
  routeMonitoring({ ...peerA, flags: POST }, announce(['10.1.0.0/16'], 64510, 64502)),
  routeMonitoring({ ...peerA, flags: POST }, announce(['203.0.113.0/24'], 64510, 64503)),
];

describe('BMP as a route source', () => {
  it('counts pre-policy routes once, groups them, and follows withdrawals, Peer Down and disconnects', async () => {
    const { m, bmpPort } = await start(['--own-asn', 'AS64500', '--bmp-routes', 'all']);
    const r1 = await router(bmpPort, initiation('r1', 'test router'), up(peerA), ...invalidTable);
    await until('4 routes', () => m.engine.store.size === 4);
    expect(routes(m)).toEqual([
      '10.1.0.0/16 64502 bmp invalid',
      '192.0.2.0/24 64500 own valid',
      '198.51.100.0/24 64666 bmp invalid',
      '203.0.113.0/24 64503 bmp not_found',
    ]);
    // A second router holding one of the routes: still one route; it stays when r1 withdraws.
    const peerB: PeerSpec = { address: '192.0.2.9', asn: 64511 };
    await router(
      bmpPort,
      initiation('r2'),
      up(peerB),
      routeMonitoring(peerB, announce(['10.1.0.0/16'], 64511, 64502)),
    );
    await until('r2', () => m.bmp!.listener.routers.size === 2);
    r1.write(
      Uint8Array.from(routeMonitoring({ ...peerA, flags: PRE }, withdraw(['10.1.0.0/16', '203.0.113.0/24']))),
    );
    await until('withdrawal', () => m.engine.store.size === 3);
    expect(routes(m)).toContain('10.1.0.0/16 64502 bmp invalid');
    // Peer Down removes peer A's routes; r2's route stays.
    r1.write(Uint8Array.from(peerDown(peerA, 2, [0, 0])));
    await until('peer down', () => m.engine.store.size === 1);
    expect(routes(m)).toEqual(['10.1.0.0/16 64502 bmp invalid']);
    // r2 disconnecting removes the last route.
    for (const s of sockets.splice(1)) s.destroy();
    await until('disconnect', () => m.engine.store.size === 0);
  });

  it('counts only the operator’s routes with --bmp-routes own, grouped by the route list first', async () => {
    const list = write('routes.txt', '198.51.100.0/22 64501 customer:acme\n');
    const { m, bmpPort } = await start(['--own-asn', '64500', '--bmp-routes', 'own', '--routes', list]);
    await router(bmpPort, initiation('r1'), up(peerA), ...invalidTable);
    await until('BMP routes', () => m.bmp!.routes === 2);
    expect(routes(m)).toEqual([
      '192.0.2.0/24 64500 own valid',
      '198.51.100.0/22 64501 customer:acme not_found',
      '198.51.100.0/24 64666 customer:acme invalid',
    ]);
  });

  it('reports ROV enforcement per router from post-policy, and from Loc-RIB without it', async () => {
    const { m, bmpPort, base } = await start(['--bmp-peer-metrics']);
    // r2 sends pre-policy and its Loc-RIB (best paths), no post-policy: it kept 10.1.0.0/16.
    const peerB: PeerSpec = { address: '192.0.2.9', asn: 64511 };
    const locRib: PeerSpec = { type: 3, address: '0.0.0.0', asn: 64499 };
    await router(bmpPort, initiation('r1'), up(peerA), ...invalidTable);
    await router(
      bmpPort,
      initiation('r2'),
      up(peerB),
      routeMonitoring(peerB, announce(['10.1.0.0/16', '198.51.100.0/24'], 64511, 64502)),
      routeMonitoring(locRib, announce(['10.1.0.0/16'], 64511, 64502)),
    );
    // r3 sends pre-policy only: nothing tells what it kept.
    const peerC: PeerSpec = { address: '192.0.2.10', asn: 64512 };
    await router(
      bmpPort,
      initiation('r3'),
      up(peerC),
      routeMonitoring(peerC, announce(['10.2.0.0/16'], 64512, 64502)),
    );
    await until('the routers', () => m.engine.store.size === 6 && m.bmp!.listener.routers.size === 3);
    m.analyseNow();
    const enforcement = m.bmpAnalysis.routers.map((r) => [
      r.label,
      r.evidence,
      r.accepted,
      r.rejected,
      r.unknown,
    ]);
    expect(enforcement.sort()).toEqual([
      ['r1', 'post-policy', 1, 1, 0],
      ['r2', 'loc-rib', 1, 1, 0],
      ['r3', 'none', 0, 0, 1],
    ]);
    expect(await metric(base, /^rovkit_rov_invalid_accepted\{router="r1"\}/)).toBe(1);
    expect(await metric(base, /^rovkit_rov_invalid_rejected\{router="r1"\}/)).toBe(1);
    expect(await metric(base, /^rovkit_bmp_peers_up\{router="r1"\}/)).toBe(1);
    expect(await metric(base, /^rovkit_bmp_messages_total\{router="r1",type="route_monitoring"\}/)).toBe(7);
    expect(
      await metric(
        base,
        /^rovkit_bmp_peer_routes\{router="r1",peer="192.0.2.1",peer_as="64510",rib="pre-policy",state="invalid"\}/,
      ),
    ).toBe(2);
    expect(
      await metric(
        base,
        /^rovkit_bmp_peer_routes\{router="r1",peer="192.0.2.1",peer_as="64510",rib="post-policy",state="invalid"\}/,
      ),
    ).toBe(1);
    const api = (await (await fetch(`${base}api/v1/rov-enforcement?router=r1`)).json()) as {
      routers: { router: string; peers: { peer: string; invalid_seen: number }[] }[];
      invalid: { prefix: string; origin_asn: string; reason: string; status: string }[];
    };
    expect(api.routers.map((r) => [r.router, r.peers.map((p) => [p.peer, p.invalid_seen])])).toEqual([
      ['r1', [['192.0.2.1', 2]]],
    ]);
    const page = await (await fetch(base)).text();
    expect(page).toContain(
      '<tr class="bmp-router"><td>r1</td><td class="num">1</td><td>post-policy</td><td class="num error">1</td><td class="num">1</td>',
    );
    expect(api.invalid.map((r) => `${r.prefix} ${r.origin_asn} ${r.reason} ${r.status}`)).toEqual([
      '10.1.0.0/16 AS64502 length accepted',
      '198.51.100.0/24 AS64666 as rejected',
    ]);
  });

  it('tells which Invalid routes fall back to a less specific route', async () => {
    const { m, bmpPort, base } = await start([]);
    const s = await router(bmpPort, initiation('r1'), up(peerA), ...invalidTable);
    await until('routes', () => m.engine.store.size === 4);
    m.analyseNow();
    type Fallback = {
      routes: { ipv4: Record<string, number> };
      invalid: { prefix: string; fallback: string }[];
    };
    let body = (await (await fetch(`${base}api/v1/invalid-fallback`)).json()) as Fallback;
    expect(body.routes.ipv4).toEqual({ covered: 0, partial: 0, none: 2 });
    // 10.0.0.0/8 from AS64502 is Valid and covers 10.1.0.0/16.
    s.write(
      Uint8Array.from(routeMonitoring({ ...peerA, flags: PRE }, announce(['10.0.0.0/8'], 64510, 64502))),
    );
    await until('the /8', () => m.engine.store.size === 5);
    m.analyseNow();
    body = (await (await fetch(`${base}api/v1/invalid-fallback`)).json()) as Fallback;
    expect(body.routes.ipv4).toEqual({ covered: 1, partial: 0, none: 1 });
    expect(body.invalid.map((r) => `${r.prefix} ${r.fallback}`).sort()).toEqual([
      '10.1.0.0/16 covered',
      '198.51.100.0/24 none',
    ]);
    expect(await metric(base, /^rovkit_invalid_routes\{fallback="none",afi="ipv4"\}/)).toBe(1);
    expect(await metric(base, /^rovkit_invalid_address_space\{fallback="covered",afi="ipv4"\}/)).toBe(256);
    expect(await metric(base, /^rovkit_invalid_address_space\{fallback="none",afi="ipv4"\}/)).toBe(1);
  });
});

describe('RouteClassifier', () => {
  const listed = [
    { family: 4 as const, w0: 0xc6336400, w1: 0, w2: 0, w3: 0, length: 22, group: 'customer:acme' },
    { family: 4 as const, w0: 0xc6336400, w1: 0, w2: 0, w3: 0, length: 24, group: 'own' },
  ];
  it.each([
    ['all', ['own', 'customer:acme', 'own', 'bmp', 'bmp']],
    ['own', ['own', 'customer:acme', 'own', undefined, undefined]],
    ['listed', ['own', 'customer:acme', undefined, undefined, undefined]],
  ] as const)('with selection %s', (selection, want) => {
    const c = new RouteClassifier(selection, new Set([64500]), 'bmp');
    c.setListed(listed);
    expect([
      c.classify(4, 0xc6336400, 0, 0, 0, 25, 1, false), // inside the listed /24: its group
      c.classify(4, 0xc6336600, 0, 0, 0, 24, 64500, false), // inside the /22 only, own ASN: listed wins
      c.classify(4, 0x0a000000, 0, 0, 0, 8, 64500, false), // own ASN
      c.classify(4, 0x0a000000, 0, 0, 0, 8, 64999, false), // someone else's
      c.classify(4, 0x0a000000, 0, 0, 0, 8, 64500, true), // AS_SET origin: not own
    ]).toEqual(want);
  });
});
