import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { missing, sharedFile, sharedPath } from '../../../test/support/peers.js';
import { loadConfig, type MonitorConfig } from './config.js';
import { Monitor, type MonitorDeps } from './monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-monitor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return path;
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const header = 'ASN,IP Prefix,Max Length\n';
let monitor: Monitor | undefined;
afterEach(async () => {
  await monitor?.stop();
  monitor = undefined;
});

function start(
  argv: string[],
  deps: Partial<MonitorDeps> = {},
): { monitor: Monitor; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const config = loadConfig([
    ...argv,
    '--bind',
    '127.0.0.1',
    '--port',
    '0',
    '--reload-interval',
    '0.05',
  ]) as MonitorConfig;
  monitor = new Monitor(config, {
    out: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
    ...deps,
  });
  return { monitor, lines };
}

const alerts = (lines: Record<string, unknown>[], kind: string) => lines.filter((l) => l.alert === kind);

describe('Monitor alerts', () => {
  it('alerts on a mass withdrawal, caps route alerts per update with a summary, and alerts each change back and forth', async () => {
    const vrps = write(
      'a.csv',
      `${header}AS1,192.0.2.0/24,24\nAS1,198.51.100.0/24,24\nAS1,203.0.113.0/24,24\n`,
    );
    const routes = write('a.txt', '192.0.2.0/24 AS1\n198.51.100.0/24 AS1\n203.0.113.0/24 AS1\n');
    const { monitor, lines } = start([
      '--vrps',
      vrps,
      '--routes',
      routes,
      '--vrp-withdrawal-alert',
      '1',
      '--route-alerts-per-update',
      '2',
    ]);
    await monitor.start();
    expect(monitor.engine.countOf('valid')).toBe(3);
    // All three VRPs go to another AS: 3 withdrawn, 3 routes turn Invalid.
    write('a.csv', `${header}AS2,192.0.2.0/24,24\nAS2,198.51.100.0/24,24\nAS2,203.0.113.0/24,24\n`);
    await until('the summary', () => alerts(lines, 'route_state_changes')[0]);
    expect(alerts(lines, 'vrp_mass_withdrawal')).toMatchObject([
      { withdrawn: 3, announced: 3, source: `file:${vrps}` },
    ]);
    expect(alerts(lines, 'route_state_change')).toHaveLength(2);
    expect(alerts(lines, 'route_state_changes')).toMatchObject([{ routes: 3, alerted: 2 }]);
    // Back and forth: each change of the route is told, the second "turned invalid" too.
    write('a.csv', `${header}AS1,192.0.2.0/24,24\nAS2,198.51.100.0/24,24\nAS2,203.0.113.0/24,24\n`);
    await until('the recovery', () => (monitor.engine.countOf('valid') === 1 ? true : undefined));
    write('a.csv', `${header}AS2,192.0.2.0/24,24\nAS2,198.51.100.0/24,24\nAS2,203.0.113.0/24,24\n`);
    await until('the relapse', () => (monitor.engine.countOf('valid') === 0 ? true : undefined));
    const changes = alerts(lines, 'route_state_change').map((l) => [
      (l.route as { prefix: string }).prefix,
      l.from,
      l.to,
    ]);
    expect(changes).toEqual([
      ['192.0.2.0/24', 'valid', 'invalid'],
      ['198.51.100.0/24', 'valid', 'invalid'],
      ['192.0.2.0/24', 'invalid', 'valid'],
      ['192.0.2.0/24', 'valid', 'invalid'],
    ]);
    expect(monitor.alerter.suppressed).toBe(0);
  });

  it('alerts a second mass withdrawal once a normal update came in between', async () => {
    const full = `${header}AS1,192.0.2.0/24,24\nAS1,198.51.100.0/24,24\nAS1,203.0.113.0/24,24\n`;
    const vrps = write('w.csv', full);
    const routes = write('w.txt', '192.0.2.0/24 AS1\n');
    const { monitor, lines } = start(['--vrps', vrps, '--routes', routes, '--vrp-withdrawal-alert', '2']);
    await monitor.start();
    const applied = (n: number) => () =>
      lines.filter((l) => l.event === 'vrp_file_loaded').length === n ? true : undefined;
    write('w.csv', header);
    await until('the first withdrawal', applied(2));
    write('w.csv', full);
    await until('the normal update', applied(3));
    write('w.csv', header);
    await until('the second withdrawal', applied(4));
    expect(alerts(lines, 'vrp_mass_withdrawal')).toMatchObject([{ withdrawn: 3 }, { withdrawn: 3 }]);
  });

  it('alerts when a VRP source has not updated for the configured time', async () => {
    const vrps = write('b.csv', `${header}AS1,192.0.2.0/24,24\n`);
    const routes = write('b.txt', '192.0.2.0/24 AS1\n');
    const { monitor, lines } = start(['--vrps', vrps, '--routes', routes, '--vrp-stale-after', '1']);
    await monitor.start();
    const alert = await until('the overdue alert', () => alerts(lines, 'vrp_update_overdue')[0], 5000);
    expect(alert).toMatchObject({ source: `file:${vrps}`, level: 'warn' });
    expect(alert.message).toMatch(/^no VRP update from file:.* for \d+ s \(alert after 1 s\)$/);
    // An update ends the condition and says so.
    write('b.csv', `${header}AS1,192.0.2.0/24,24\nAS2,198.51.100.0/24,24\n`);
    const resumed = await until('the resumed alert', () => alerts(lines, 'vrp_update_resumed')[0], 5000);
    expect(resumed).toMatchObject({ source: `file:${vrps}`, resolves: 'vrp_update_overdue' });
  });

  it('moves a route between groups when the route list changes its group', async () => {
    const vrps = write('c.csv', `${header}AS1,192.0.2.0/24,24\n`);
    const routes = write('c.yml', '192.0.2.0/24:\n  asn: 1\n  group: own\n');
    const { monitor } = start(['--vrps', vrps, '--routes', routes]);
    await monitor.start();
    const own = monitor.engine.groupId('own');
    expect(monitor.engine.countOf('valid', own)).toBe(1);
    write('c.yml', '192.0.2.0/24:\n  asn: 1\n  group: customer:acme\n  description: moved\n');
    const acme = await until('the new group', () => {
      const g = monitor.engine.store.groups.indexOf('customer:acme');
      return g >= 0 && monitor.engine.countOf('valid', g) === 1 ? g : undefined;
    });
    expect(monitor.engine.countOf('valid', own)).toBe(0);
    expect(monitor.statusPage()).toContain('customer:acme');
    expect(acme).toBeGreaterThan(own);
  });
});

const skipMrt = missing(sharedFile('mrt/bgpdump-testdata-bview.ipv6_unicast_add_path.gz'));

describe.skipIf(skipMrt !== undefined)('Monitor with an MRT dump as a route source', () => {
  it('takes each (prefix, origin) of the RIB once, in the --mrt-group group', async () => {
    const vrps = write('d.csv', `${header}AS1,192.0.2.0/24,24\n`);
    const { monitor } = start([
      '--vrps',
      vrps,
      '--mrt',
      sharedPath('mrt/bgpdump-testdata-bview.ipv6_unicast_add_path.gz'),
      '--mrt-group',
      'ris',
    ]);
    await monitor.start();
    const g = monitor.engine.store.groups.indexOf('ris');
    expect(g).toBeGreaterThan(0);
    expect(monitor.engine.store.size).toBeGreaterThan(0);
    expect(monitor.engine.countOf('not_found', g)).toBe(monitor.engine.store.size);
    expect(monitor.engine.store.sizeV6).toBe(monitor.engine.store.size);
  });

  it('runs the fallback analysis over the dump: every Invalid route is classified once', async () => {
    // AS1 for 2001:db8:10::/44: the dump's /48s in it turn Invalid, the others stay NotFound.
    const vrps = write('e.csv', `${header}AS1,2001:db8:10::/44,48\n`);
    const { monitor } = start([
      '--vrps',
      vrps,
      '--mrt',
      sharedPath('mrt/bgpdump-testdata-bview.ipv6_unicast_add_path.gz'),
    ]);
    await monitor.start();
    const invalid = monitor.engine.countOf('invalid');
    expect(invalid).toBeGreaterThan(0);
    expect(invalid).toBeLessThan(monitor.engine.store.size);
    const body = (await (await fetch(`${monitor.url}api/v1/invalid-fallback?limit=0`)).json()) as {
      total: number;
      routes: { ipv6: Record<string, number> };
      address_space: { ipv6: { covered: number; none: number } };
    };
    expect(body.total).toBe(invalid);
    expect(Object.values(body.routes.ipv6).reduce((a, b) => a + b, 0)).toBe(invalid);
    expect(body.address_space.ipv6.covered + body.address_space.ipv6.none).toBeGreaterThan(0);
  });
});

describe('Monitor analyses after changes', () => {
  it('recomputes the address space and fallback in slices, equal to a walk to the end', async () => {
    const vrps = write('f.csv', `${header}AS1,192.0.2.0/24,24\nAS2,198.51.100.0/24,24\n`);
    const routes = write('f.txt', '192.0.2.0/24 AS1\n198.51.100.0/24 AS1\n');
    const { monitor } = start(['--vrps', vrps, '--routes', routes, '--address-space-delay', '0.05']);
    await monitor.start();
    const before = monitor.analyses;
    // A route appears: the sliced analysis that follows sees it.
    const source = monitor.engine.registerSource('test');
    monitor.engine.announce(source, 4, 0xcb007100, 0, 0, 0, 24, 3, false, 0, -1);
    const deadline = Date.now() + 10_000;
    while (monitor.analyses === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(monitor.analyses).toBeGreaterThan(before);
    expect([...monitor.addressSpace]).toEqual([...monitor.engine.addressSpace()]);
    // One Invalid IPv4 route (198.51.100.0/24, AS2's), with no fallback: (afi 0) * 3 + none.
    expect(monitor.fallback?.routes[2]).toBe(1);
  });

  it('finishes a sliced analysis over routes that change between slices, with the routes of its start', async () => {
    const vrps = write('g.csv', `${header}AS1,10.0.0.0/8,24\n`);
    // sliceMs 0: every 4096 trie nodes a slice, so 20,000 routes take many.
    const { monitor } = start(['--vrps', vrps, '--address-space-delay', '0.05'], { sliceMs: 0 });
    await monitor.start();
    const initial = monitor.analyses;
    const table = monitor.engine.registerSource('table');
    for (let i = 0; i < 20_000; i++)
      monitor.engine.announce(table, 4, 0x0a000000 + i * 256, 0, 0, 0, 24, 1, false, 0, -1);
    const settle = async (count: number): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (monitor.analyses < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(monitor.analyses).toBeGreaterThanOrEqual(count);
    };
    await settle(initial + 1);
    const before = monitor.analyses;
    // One more route in group "churn" on every turn of the event loop, that is between
    // any two slices, until an analysis finishes.
    const churn = monitor.engine.registerSource('churn');
    const group = monitor.engine.groupId('churn');
    let announced = 0;
    await new Promise<void>((resolve) => {
      const step = (): void => {
        if (monitor.analyses > before) return resolve();
        monitor.engine.announce(churn, 4, 0xc0000000 + announced++ * 256, 0, 0, 0, 24, 9, false, group, -1);
        setImmediate(step);
      };
      step();
    });
    // The run that finished saw the churn routes announced before it took its copy, not
    // those announced while it ran: it was neither started again nor finished at once.
    const seen = monitor.addressSpace[(group * 2 + 0) * 3 + 2]!;
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(announced);
    // The change during the run armed the next one, which sees every route.
    await settle(monitor.analyses + 1);
    expect([...monitor.addressSpace]).toEqual([...monitor.engine.addressSpace()]);
    expect(monitor.addressSpace[(group * 2 + 0) * 3 + 2]).toBe(announced);
  });
});
