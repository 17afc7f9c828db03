// RtrSource states against the in-process fake cache over loopback TCP: the connection
// state and the data state apart, rovkit_rtr_up only in sync, and /readyz 503 once the
// only data expired (issue 11).
import { VrpList } from '@rovkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCache, type FakeVrp } from '../../../rtr-client/src/testing/fake-cache.js';
import { cacheResponse, encode, prefix } from '../../../rtr-client/src/testing/pdus.js';
import { PduType } from '../../../rtr-client/src/pdu.js';
import { Alerter } from '../alerts.js';
import { Engine } from '../engine/engine.js';
import { HttpServer } from '../http/server.js';
import { JsonLogger } from '../log.js';
import { createMetrics } from '../metrics.js';
import { RtrSource } from './rtr-source.js';
import { until } from '../testing/watch.js';

const A: FakeVrp = { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 };
const B: FakeVrp = { prefix: '198.51.100.0/22', maxLength: 24, asn: 64497 };

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function cache(vrps: FakeVrp[], name: string, sessionId: number): Promise<[FakeCache, string]> {
  const c = new FakeCache({ name, sessionId });
  c.update(vrps, undefined, false);
  const port = await c.listen();
  stops.push(() => c.stop());
  return [c, `127.0.0.1:${port}`];
}

interface Setup {
  readonly engine: Engine;
  readonly source: RtrSource;
  readonly alerts: string[];
  get(path: string): Promise<{ status: number; body: string }>;
}

async function setup(
  caches: string[],
  options: Partial<ConstructorParameters<typeof RtrSource>[0]> = {},
  before?: (engine: Engine) => void,
): Promise<Setup> {
  const engine = new Engine();
  before?.(engine);
  const alerts: string[] = [];
  const log = new JsonLogger({
    write: (s: string) => {
      const line = JSON.parse(s) as { alert?: string };
      if (line.alert !== undefined) alerts.push(line.alert);
    },
  });
  const source = new RtrSource({
    caches,
    sink: engine,
    log,
    alerts: new Alerter({ log }),
    backoff: { initial: 20, max: 50 },
    ...options,
  });
  const server = new HttpServer({
    engine,
    registry: createMetrics(
      {
        engine,
        addressSpace: () => engine.addressSpace(),
        rtrCaches: () => source.caches,
        rtrDataState: () => source.dataState,
      },
      { version: 't' },
    ),
    log,
    statusPage: () => '',
  });
  const { port } = await server.listen(0, '127.0.0.1');
  stops.push(() => server.close());
  await source.start();
  stops.push(() => source.stop());
  return {
    engine,
    source,
    alerts,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    },
  };
}

function metric(text: string, line: string): number | undefined {
  const m = text.split('\n').find((l) => l.startsWith(`${line} `));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
}

describe('RtrSource: the truth about RTR state', () => {
  it('does not count a cache that is still syncing its first set as up (it trickles)', async () => {
    const [evil, address] = await cache([A], 'trickle', 7);
    evil.onQuery = (conn, q) => {
      if (q.type !== PduType.ResetQuery) return false;
      const bytes = encode(cacheResponse(q.version, 7), prefix(q.version, '10.0.0.0/24', 24, 1));
      let i = 0;
      const timer = setInterval(() => {
        if (conn.closed || i >= bytes.length) return clearInterval(timer);
        conn.socket.write(bytes.subarray(i, ++i));
      }, 20);
      stops.push(() => clearInterval(timer));
      return true;
    };
    const s = await setup([address], { responseTimeoutMs: 5000 });
    await until('syncing', () => s.source.caches[0]!.state === 'syncing');
    await new Promise((r) => setTimeout(r, 100));
    const text = (await s.get('/metrics')).body;
    expect(metric(text, `rovkit_rtr_up{cache="tcp://${address}"}`)).toBe(0);
    expect(metric(text, 'rovkit_rtr_data_state{state="none"}')).toBe(1);
    expect((await s.get('/readyz')).status).toBe(503);
  });

  it('keeps an idle backup idle (not down) and the one in use up', async () => {
    const [, primary] = await cache([A, B], 'primary', 1);
    const [, backup] = await cache([A], 'backup', 2);
    const s = await setup([primary, backup]);
    await until('the sync', () => s.source.dataState === 'synced');
    const text = (await s.get('/metrics')).body;
    expect(metric(text, `rovkit_rtr_up{cache="tcp://${primary}"}`)).toBe(1);
    expect(metric(text, `rovkit_rtr_up{cache="tcp://${backup}"}`)).toBe(0);
    expect(metric(text, `rovkit_rtr_state{cache="tcp://${backup}",state="idle"}`)).toBe(1);
    expect(metric(text, `rovkit_rtr_state{cache="tcp://${backup}",state="down"}`)).toBe(0);
    expect(metric(text, 'rovkit_rtr_data_state{state="synced"}')).toBe(1);
    expect((await s.get('/readyz')).status).toBe(200);
  });

  it('stays expired (and /readyz 503) through the retries after the data expired, until a sync', async () => {
    const [c, address] = await cache([A, B], 'dying', 3);
    const s = await setup([address], { timers: { expire: 0.3 } });
    await until('the sync', () => s.engine.table.size === 2);
    expect((await s.get('/readyz')).status).toBe(200);
    c.down = true;
    await c.stop();
    await until('expired', () => s.source.dataState === 'expired');
    // Several rounds of retries later the data is still expired, the cache down.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.source.dataState).toBe('expired');
    expect(s.source.caches[0]!.state).toBe('down');
    const text = (await s.get('/metrics')).body;
    expect(metric(text, 'rovkit_rtr_data_state{state="expired"}')).toBe(1);
    expect(metric(text, `rovkit_rtr_up{cache="tcp://${address}"}`)).toBe(0);
    const ready = await s.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('no usable VRPs');
    expect(s.alerts).toEqual(['rtr_cache_up', 'rtr_cache_down', 'rtr_cache_stale', 'rtr_cache_expired']);
  });

  it('stays ready on the data of a VRP file when the RTR data expired', async () => {
    const [c, address] = await cache([A], 'dying', 4);
    const s = await setup([address], { timers: { expire: 0.3 } }, (engine) => {
      const vrps = new VrpList();
      vrps.pushV4(0xcb007100, 24, 24, 64511);
      engine.applyVrps(engine.registerVrpSource('file:x'), vrps, new VrpList(1), true);
    });
    await until('the sync', () => s.engine.table.size === 2);
    await c.stop();
    c.down = true;
    await until('expired', () => s.source.dataState === 'expired');
    expect((await s.get('/readyz')).status).toBe(200);
  });

  it('stays synced (and up) through refresh polls on the live session', async () => {
    const [c, address] = await cache([A], 'polled', 5);
    const s = await setup([address], { timers: { refresh: 0.02 } });
    await until('the sync', () => s.source.caches[0]!.state === 'synced');
    const seen = new Set<string>();
    const polls = c.log[0]!.received.length;
    const started = Date.now();
    while (Date.now() - started < 300) {
      seen.add(s.source.caches[0]!.state);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(c.log[0]!.received.length).toBeGreaterThan(polls + 2);
    expect([...seen]).toEqual(['synced']);
    expect(s.alerts).toEqual(['rtr_cache_up']);
  });
});
