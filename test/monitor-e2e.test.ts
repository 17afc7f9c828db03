// `rovkit monitor` end to end against real peers: StayRTR serves the real AFRINIC VRPs,
// the monitor validates the bundled real routes, a real Prometheus scrapes it, headless
// Chromium renders its status page and a webhook receiver collects its alerts. Expected
// numbers come from a naive scan of the same VRPs, never from the monitor.
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_ROUTES, BUNDLED_VRPS, loadConfig, Monitor, type MonitorConfig } from '@rovkit/monitor';
import { missing, peerCommand, repoRoot } from './support/peers.js';
import {
  chromium,
  PrometheusPeer,
  readRoas,
  StayRtrPeer,
  until,
  WebhookReceiver,
  type RoaJson,
} from './support/monitor-peers.js';

const skip = missing(peerCommand('stayrtr'), peerCommand('prometheus'), peerCommand('chromium'));

// ------------------------------------------------------------ naive oracle

interface Net {
  v6: boolean;
  bits: bigint;
  len: number;
}
function net(prefix: string): Net {
  const [addr, len] = prefix.split('/') as [string, string];
  if (!addr.includes(':')) {
    const n = addr.split('.').reduce((a, o) => (a << 8n) | BigInt(o), 0n);
    return { v6: false, bits: n, len: Number(len) };
  }
  const [head, tail = ''] = addr.split('::') as [string, string?];
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return {
    v6: true,
    bits: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n),
    len: Number(len),
  };
}
function covers(v: Net, r: Net): boolean {
  if (v.v6 !== r.v6 || v.len > r.len) return false;
  const width = v.v6 ? 128n : 32n;
  const shift = width - BigInt(v.len);
  return v.bits >> shift === r.bits >> shift;
}
/** RFC 6811 by scanning every VRP: 'valid' | 'invalid' | 'not_found'. */
function naiveState(roas: RoaJson[], prefix: string, origin: number): string {
  const r = net(prefix);
  let covered = false;
  for (const roa of roas) {
    const v = net(roa.prefix);
    if (!covers(v, r)) continue;
    covered = true;
    const asn = typeof roa.asn === 'number' ? roa.asn : Number(roa.asn.replace(/^AS/i, ''));
    if (asn === origin && origin !== 0 && r.len <= roa.maxLength) return 'valid';
  }
  return covered ? 'invalid' : 'not_found';
}

interface Route {
  prefix: string;
  origin: number;
  group: string;
}
function bundledRoutes(): Route[] {
  return readFileSync(BUNDLED_ROUTES, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [prefix, origin, group] = l.split(/\s+/) as [string, string, string];
      return { prefix, origin: Number(origin.replace('AS', '')), group };
    });
}
function naiveCounts(roas: RoaJson[], routes: Route[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of routes) {
    const key = `${naiveState(roas, r.prefix, r.origin)} ${r.group}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** rovkit_routes summed by state and group, from a /metrics text. */
function metricCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(
    /^rovkit_routes\{state="(\w+)",reason="\w+",afi="\w+",group="([^"]+)"\} (\d+)$/gm,
  )) {
    const key = `${m[1]} ${m[2]}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[3]));
  }
  for (const [k, v] of counts) if (v === 0) counts.delete(k);
  return counts;
}

// -------------------------------------------------------------------- test

describe.skipIf(skip !== undefined)('rovkit monitor with StayRTR, Prometheus, Chromium and a webhook', () => {
  const artifacts = join(repoRoot, 'test-artifacts');
  const routes = bundledRoutes();
  let roas: RoaJson[];
  let changed: RoaJson[];
  let stayrtr: StayRtrPeer;
  let prometheus: PrometheusPeer | undefined;
  let webhook: WebhookReceiver;
  let monitor: Monitor;
  const logLines: Record<string, unknown>[] = [];
  let base = '';

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    roas = await readRoas(BUNDLED_VRPS);
    // The change: the AS2018 VRPs go, and a VRP of another AS covers AS2018's space, so
    // that its Valid routes turn Invalid (reason as).
    const gone = roas.filter((r) => r.asn === 'AS2018');
    expect(gone.length).toBeGreaterThan(0);
    changed = [...roas.filter((r) => r.asn !== 'AS2018'), ...gone.map((r) => ({ ...r, asn: 'AS64511' }))];
    stayrtr = await StayRtrPeer.start(roas);
    webhook = new WebhookReceiver();
    const hook = await webhook.start();
    const config = loadConfig([
      '--rtr',
      `127.0.0.1:${stayrtr.port}`,
      '--routes',
      BUNDLED_ROUTES,
      '--bind',
      '127.0.0.1',
      '--port',
      '0',
      '--webhook',
      hook,
      '--address-space-delay',
      '0.05',
      '--route-series',
    ]) as MonitorConfig;
    monitor = new Monitor(config, {
      out: { write: (s: string) => logLines.push(JSON.parse(s) as Record<string, unknown>) },
    });
    await monitor.start();
    base = monitor.url;
    prometheus = await PrometheusPeer.start(`127.0.0.1:${monitor.address!.port}`);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await monitor?.stop();
    await webhook?.stop();
    await stayrtr?.stop();
  });

  it('becomes ready after the first RTR sync, and its metrics equal a naive count', async () => {
    await until('readyz', async () => ((await fetch(`${base}readyz`)).status === 200 ? true : undefined));
    const text = await (await fetch(`${base}metrics`)).text();
    expect(metricCounts(text)).toEqual(naiveCounts(roas, routes));
    expect(text).toMatch(
      new RegExp(
        `^rovkit_vrps\\{afi="ipv6",source="rtr"\\} ${roas.filter((r) => r.prefix.includes(':')).length}$`,
        'm',
      ),
    );
    expect(text).toMatch(/^rovkit_rtr_up\{cache="tcp:\/\/127\.0\.0\.1:\d+"\} 1$/m);
    expect(text).toMatch(/^rovkit_rtr_state\{cache="tcp:\/\/127\.0\.0\.1:\d+",state="synced"\} 1$/m);
    expect(text).toMatch(/^rovkit_rtr_version\{cache="[^"]+"\} 2$/m);
    // Per-route series: one per route, Invalid first.
    expect(text.match(/^rovkit_route_state\{/gm)?.length).toBe(routes.length);
  });

  it('answers the validity API as the naive scan says', async () => {
    for (const r of routes.slice(0, 20)) {
      const body = (await (await fetch(`${base}api/v1/validity/AS${r.origin}/${r.prefix}`)).json()) as {
        validated_route: { validity: { state: string } };
      };
      expect(body.validated_route.validity.state.replace('-', '_')).toBe(
        naiveState(roas, r.prefix, r.origin),
      );
    }
  });

  it('a real Prometheus scrapes it and PromQL returns the naive counts', async () => {
    const expected = naiveCounts(roas, routes);
    const byStateExpected: Record<string, number> = { valid: 0, invalid: 0, not_found: 0 };
    for (const [key, n] of expected) byStateExpected[key.split(' ')[0]!]! += n;
    const result = await until(
      'Prometheus to have scraped the monitor',
      async () => {
        const r = await prometheus!.query('sum by (state) (rovkit_routes)');
        return r.length === 3 ? r : undefined;
      },
      30_000,
    );
    expect(Object.fromEntries(result.map((r) => [r.metric.state, r.value]))).toEqual(byStateExpected);
    const own = await prometheus!.query('sum(rovkit_routes{group="own",state="valid"})');
    expect(own[0]!.value).toBe(expected.get('valid own') ?? 0);
  });

  it('follows a VRP change: metrics change, the alert is logged and the webhook gets it', async () => {
    const expected = naiveCounts(changed, routes);
    expect(expected).not.toEqual(naiveCounts(roas, routes));
    await stayrtr.serve(changed);
    await until(
      'the metrics to follow the new VRPs',
      async () => {
        const text = await (await fetch(`${base}metrics`)).text();
        const got = metricCounts(text);
        return JSON.stringify([...got].sort()) === JSON.stringify([...expected].sort()) ? text : undefined;
      },
      30_000,
    );
    const turned = routes.filter(
      (r) =>
        naiveState(roas, r.prefix, r.origin) !== 'invalid' &&
        naiveState(changed, r.prefix, r.origin) === 'invalid',
    );
    expect(turned.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${base}metrics`)).text();
    const valid2invalid = turned.filter((r) => naiveState(roas, r.prefix, r.origin) === 'valid').length;
    expect(metrics).toContain(`rovkit_route_state_changes_total{from="valid",to="invalid"} ${valid2invalid}`);
    // One alert per route, logged and posted to the webhook, with its explanation.
    const first = turned[0]!;
    await until('the webhook to receive the alerts', () =>
      webhook.bodies.filter((b) => b.alert === 'route_state_change').length >= turned.length
        ? true
        : undefined,
    );
    const logged = logLines.find(
      (l) => l.alert === 'route_state_change' && (l.route as { prefix: string }).prefix === first.prefix,
    );
    expect(logged).toMatchObject({
      level: 'error',
      to: 'invalid',
      reason: 'as',
      group: first.group,
      route: { prefix: first.prefix, origin_asn: `AS${first.origin}` },
    });
    const posted = webhook.bodies.find(
      (b) => b.alert === 'route_state_change' && (b.route as { prefix: string }).prefix === first.prefix,
    );
    expect(posted).toMatchObject({ to: 'invalid', from: naiveState(roas, first.prefix, first.origin) });
    expect(JSON.stringify((posted!.explanation as { VRPs: unknown }).VRPs)).toContain('AS64511');
    // The routes API lists them with state, reason and last change.
    const api = (await (
      await fetch(`${base}api/v1/routes?state=invalid&group=${encodeURIComponent(first.group)}`)
    ).json()) as {
      total: number;
      routes: { prefix: string; reason: string; last_change: string }[];
    };
    expect(api.total).toBe(expected.get(`invalid ${first.group}`));
    expect(api.routes.find((r) => r.prefix === first.prefix)).toMatchObject({ reason: 'as' });
  });

  it('renders the status page in headless Chromium with the Invalid routes', async () => {
    const dom = await chromium(base, { dumpDom: true });
    const invalid = routes.filter((r) => naiveState(changed, r.prefix, r.origin) === 'invalid');
    const rows = dom.match(/<tr class="invalid-route">/g) ?? [];
    expect(rows.length).toBe(invalid.length);
    for (const r of invalid) expect(dom).toContain(`<code>${r.prefix}</code>`);
    expect(dom).toContain('synced');
    const shot = join(artifacts, 'monitor-status-page.png');
    rmSync(shot, { force: true });
    await chromium(base, { screenshot: shot }, '1280,2400');
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  }, 120_000);
});
