// `rovkit monitor --bmp` end to end, against Debian's GoBGP 3.10 and StayRTR 0.5.1:
//   StayRTR serves a small VRP set (to rovkit and to GoBGP B over RTR);
//   A (AS 4200000001) holds the routes added and withdrawn with `gobgp global rib` and
//     sends its Loc-RIB over BMP;
//   B (AS 64512) peers with A, validates over RTR, rejects RPKI-invalid routes by import
//     policy and sends BMP pre-policy, post-policy and Loc-RIB ("all").
// The monitor's routes, /metrics and /api follow the CLI steps; it reports B's Invalid
// routes as rejected while the policy is in place, and as accepted once it is removed.
// Every listener binds 127.0.0.1 on a port picked at run time; afterAll stops it all.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, Monitor, type MonitorConfig } from '@rovkit/monitor';
import { bmpServerConfig, Gobgpd, globalConfig, type GobgpPath } from './support/gobgp.js';
import { until } from './support/monitor-peers.js';
import { missing, peerCommand } from './support/peers.js';
import { StayRtr } from './support/stayrtr.js';

const skip = missing(
  peerCommand('gobgpd'),
  peerCommand('gobgp'),
  peerCommand('stayrtr'),
  peerCommand('promtool'),
);

const AS_A = 4200000001;
const AS_B = 64512;
const roas = [
  { asn: 64496, prefix: '192.0.2.0/24', maxLength: 24 },
  { asn: 64497, prefix: '198.51.100.0/24', maxLength: 24 },
  { asn: 64498, prefix: '2001:db8::/32', maxLength: 32 },
];

const timers = `  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
    idle-hold-time-after-reset = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;

/** The routes A originates, with the state the VRPs give them. */
const steps = {
  valid4: ['192.0.2.0/24', 'ipv4', '64496'],
  invalidLength: ['192.0.2.128/25', 'ipv4', '64496'],
  invalidAs: ['198.51.100.0/24', 'ipv4', '64666'],
  notFound: ['203.0.113.0/24', 'ipv4', '64499'],
  valid6: ['2001:db8::/32', 'ipv6', '64498'],
  invalid6: ['2001:db8:1::/48', 'ipv6', '64498'],
} as const;

describe.skipIf(skip !== undefined)(
  'rovkit monitor --bmp against GoBGP and StayRTR',
  { timeout: 120_000 },
  () => {
    let stayrtr: StayRtr | undefined;
    let monitor: Monitor | undefined;
    let a: Gobgpd | undefined;
    let b: Gobgpd | undefined;
    let base = '';

    beforeAll(async () => {
      stayrtr = await StayRtr.start({ json: { roas }, refresh: 1 });
      const config = loadConfig([
        '--rtr',
        stayrtr.address,
        '--bmp',
        '127.0.0.1:0',
        '--bmp-peer-metrics',
        '--own-asn',
        '64496',
        '--bind',
        '127.0.0.1',
        '--port',
        '0',
        '--address-space-delay',
        '0.05',
      ]) as MonitorConfig;
      monitor = new Monitor(config, { out: { write: () => undefined } });
      await monitor.start();
      base = monitor.url;
      const bmpPort = monitor.bmp!.listener.address!.port;
      const rtrPort = stayrtr.port;
      await until('rovkit to hold the VRPs', () =>
        monitor!.engine.table.size === roas.length ? true : undefined,
      );

      a = await Gobgpd.start(
        'a',
        (ports) => `${globalConfig(AS_A, '192.0.2.101', ports)}
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = ${AS_B}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "127.0.0.1"
${timers}
${bmpServerConfig(bmpPort, 'local-rib')}`,
      );
      const aPort = a.ports.bgp;
      b = await Gobgpd.start(
        'b',
        (ports) => `${globalConfig(AS_B, '192.0.2.102', ports)}
[global.apply-policy.config]
  import-policy-list = ["reject-rpki-invalid"]
  default-import-policy = "accept-route"
[[policy-definitions]]
  name = "reject-rpki-invalid"
  [[policy-definitions.statements]]
    name = "invalid"
    [policy-definitions.statements.conditions.bgp-conditions]
      rpki-validation-result = "invalid"
    [policy-definitions.statements.actions]
      route-disposition = "reject-route"
[[rpki-servers]]
  [rpki-servers.config]
    address = "127.0.0.1"
    port = ${rtrPort}
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = ${AS_A}
  [neighbors.transport.config]
    remote-port = ${aPort}
    local-address = "127.0.0.1"
${timers}
${bmpServerConfig(bmpPort, 'all')}`,
      );
      // B validates only once its RTR session holds the VRPs: wait before routes flow.
      await until(
        'GoBGP B to hold the VRPs over RTR',
        async () => {
          const out = await b!.cli('rpki', 'server');
          return /Up\s+\S+\s+2\/1/.test(out) ? true : undefined;
        },
        30_000,
      );
      // GoBGP's first connect attempt comes after its connect-retry timer: wait until A
      // and B see each other up, as their BMP Peer Up messages tell the listener.
      await until(
        'A and B to peer, as BMP tells',
        () => {
          const routers = [...monitor!.bmp!.listener.routers.values()];
          const up = routers.flatMap((r) =>
            [...r.peers.values()].filter((p) => p.up && p.type === 'global').map((p) => p.asn),
          );
          return routers.length === 2 && up.includes(AS_A) && up.includes(AS_B) ? true : undefined;
        },
        60_000,
      );
    }, 120_000);

    afterAll(async () => {
      await b?.stop();
      await a?.stop();
      await monitor?.stop();
      await stayrtr?.stop();
    });

    const add = (route: readonly [string, string, string]): Promise<string> =>
      a!.cli(
        'global',
        'rib',
        'add',
        route[0],
        '-a',
        route[1],
        'aspath',
        route[2],
        'nexthop',
        route[1] === 'ipv4' ? '10.0.0.1' : '2001:db8::1',
      );
    const del = (route: readonly [string, string, string]): Promise<string> =>
      a!.cli('global', 'rib', 'del', route[0], '-a', route[1]);

    async function metrics(): Promise<string> {
      return (await fetch(`${base}metrics`)).text();
    }

    function value(text: string, series: string): number | undefined {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    }

    /** Routes by state over all groups and families, from /metrics. */
    function routeCounts(text: string): Record<string, number> {
      const out: Record<string, number> = { valid: 0, invalid: 0, not_found: 0 };
      for (const m of text.matchAll(/^rovkit_routes\{state="(\w+)",[^}]*\} (\d+)$/gm))
        out[m[1]!]! += Number(m[2]);
      return out;
    }

    async function invalidRoutes(): Promise<string[]> {
      const body = (await (await fetch(`${base}api/v1/routes?state=invalid`)).json()) as {
        routes: { prefix: string; origin_asn: string; reason: string }[];
      };
      return body.routes.map((r) => `${r.prefix} ${r.origin_asn} ${r.reason}`).sort();
    }

    /** B's router label, found by its BGP peer A (A's own Loc-RIB peer has AS_A too). */
    function routerB(): string | undefined {
      return monitor!.bmpAnalysis.routers.find((r) =>
        r.peers.some((p) => p.peer.type === 'global' && p.peer.asn === AS_A),
      )?.label;
    }

    async function enforcement(): Promise<{
      routers: { router: string; evidence: string; invalid_accepted: number; invalid_rejected: number }[];
      invalid: { router: string; prefix: string; origin_asn: string; status: string }[];
    }> {
      return (await (await fetch(`${base}api/v1/rov-enforcement`)).json()) as never;
    }

    /** B's own view: prefixes of the routes from A in its global RIB (post-policy). */
    async function bAccepted(): Promise<string[]> {
      const out: string[] = [];
      for (const family of ['ipv4', 'ipv6']) {
        const rib = await b!.json<Record<string, GobgpPath[]>>('global', 'rib', '-a', family);
        for (const paths of Object.values(rib))
          for (const p of paths) if (p['neighbor-ip'] === '127.0.0.1') out.push(p.nlri.prefix);
      }
      return out.sort();
    }

    it('follows routes added and withdrawn through the gobgp CLI in its routes, /metrics and /api', async () => {
      for (const route of Object.values(steps)) await add(route);
      const all = Object.values(steps).length;
      await until('the monitor to hold every route', () =>
        monitor!.engine.store.size === all ? true : undefined,
      );
      expect(await invalidRoutes()).toEqual([
        '192.0.2.128/25 AS64496 length',
        '198.51.100.0/24 AS64666 as',
        '2001:db8:1::/48 AS64498 length',
      ]);
      let text = await until('the metrics to show every route', async () => {
        const t = await metrics();
        return routeCounts(t).valid === 2 ? t : undefined;
      });
      expect(routeCounts(text)).toEqual({ valid: 2, invalid: 3, not_found: 1 });
      // --own-asn 64496: the routes originated by AS64496 are "own", the others "bmp".
      expect(value(text, 'rovkit_routes{state="valid",reason="none",afi="ipv4",group="own"}')).toBe(1);
      expect(value(text, 'rovkit_routes{state="invalid",reason="length",afi="ipv4",group="own"}')).toBe(1);
      expect(value(text, 'rovkit_routes{state="invalid",reason="as",afi="ipv4",group="bmp"}')).toBe(1);

      await del(steps.invalidAs);
      await del(steps.notFound);
      await until('the withdrawals', () => (monitor!.engine.store.size === all - 2 ? true : undefined));
      text = await until('the metrics to follow', async () => {
        const t = await metrics();
        return routeCounts(t).not_found === 0 ? t : undefined;
      });
      expect(routeCounts(text)).toEqual({ valid: 2, invalid: 2, not_found: 0 });
      expect(await invalidRoutes()).toEqual([
        '192.0.2.128/25 AS64496 length',
        '2001:db8:1::/48 AS64498 length',
      ]);

      // Both remaining Invalid routes lie inside a Valid route: dropping them loses nothing.
      const fallback = await until('the fallback analysis', async () => {
        const body = (await (await fetch(`${base}api/v1/invalid-fallback`)).json()) as {
          total: number;
          invalid: { prefix: string; fallback: string; covered_by: { prefix: string } | null }[];
        };
        return body.total === 2 ? body : undefined;
      });
      expect(fallback.invalid.map((r) => `${r.prefix} ${r.fallback} ${r.covered_by?.prefix}`).sort()).toEqual(
        ['192.0.2.128/25 covered 192.0.2.0/24', '2001:db8:1::/48 covered 2001:db8::/32'],
      );
      expect(value(text, 'rovkit_invalid_routes{fallback="covered",afi="ipv4"}')).toBe(1);

      // Per-peer series with live routers, accepted by promtool.
      expect(text).toMatch(/^rovkit_bmp_peers_up\{router="[^"]+"\} 1$/m);
      expect(text).toMatch(/^rovkit_bmp_messages_total\{router="[^"]+",type="route_monitoring"\} [1-9]/m);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
      await add(steps.invalidAs);
    });

    it('reports the Invalid routes as rejected under B’s RPKI import policy, and as accepted without it', async () => {
      const invalid = ['192.0.2.128/25', '198.51.100.0/24', '2001:db8:1::/48'];
      // GoBGP's own view first: the policy keeps the Invalid routes out of B's RIB.
      const valid = ['192.0.2.0/24', '2001:db8::/32'];
      const held = await until('B to settle on the Valid routes from A', async () => {
        const got = await bAccepted();
        return JSON.stringify(got) === JSON.stringify(valid) ? got : undefined;
      });
      for (const prefix of invalid) expect(held).not.toContain(prefix);

      const rejected = await until('rovkit to report the rejections', async () => {
        const e = await enforcement();
        const r = e.routers.find((x) => x.router === routerB());
        return r !== undefined && r.invalid_rejected === 3 ? e : undefined;
      });
      const label = routerB()!;
      const rb = rejected.routers.find((x) => x.router === label)!;
      expect([rb.evidence, rb.invalid_accepted, rb.invalid_rejected]).toEqual(['post-policy', 0, 3]);
      expect(
        rejected.invalid
          .filter((r) => r.router === label)
          .map((r) => `${r.prefix} ${r.status}`)
          .sort(),
      ).toEqual(invalid.map((p) => `${p} rejected`));
      let text = await metrics();
      expect(value(text, `rovkit_rov_invalid_rejected{router="${label}"}`)).toBe(3);
      expect(value(text, `rovkit_rov_invalid_accepted{router="${label}"}`)).toBe(0);
      // Pre-policy still shows them: the monitor's route metrics count the Invalid routes.
      expect(routeCounts(text).invalid).toBe(3);

      // Remove the policy and have B apply its import side again.
      await b!.cli('global', 'policy', 'import', 'del', 'reject-rpki-invalid');
      for (const family of ['ipv4', 'ipv6'])
        await b!.cli('neighbor', '127.0.0.1', 'softresetin', '-a', family);
      await until('B to accept the Invalid routes', async () =>
        JSON.stringify(await bAccepted()) === JSON.stringify([...valid, ...invalid].sort())
          ? true
          : undefined,
      );
      const accepted = await until('rovkit to report them accepted', async () => {
        const e = await enforcement();
        const r = e.routers.find((x) => x.router === label);
        return r !== undefined && r.invalid_accepted === 3 ? e : undefined;
      });
      const ra = accepted.routers.find((x) => x.router === label)!;
      expect([ra.invalid_accepted, ra.invalid_rejected]).toEqual([3, 0]);
      expect(
        accepted.invalid
          .filter((r) => r.router === label)
          .map((r) => `${r.prefix} ${r.status}`)
          .sort(),
      ).toEqual(invalid.map((p) => `${p} accepted`));
      text = await metrics();
      expect(value(text, `rovkit_rov_invalid_accepted{router="${label}"}`)).toBe(3);
      expect(value(text, `rovkit_rov_invalid_rejected{router="${label}"}`)).toBe(0);
    });
  },
);
