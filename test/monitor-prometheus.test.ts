// The monitor's Prometheus side: its /metrics output passes `promtool check metrics`, the
// shipped alerting rules pass `promtool check rules` and their unit tests, and every
// metric the Grafana dashboard and the rules query is one the monitor exports.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_ROUTES, loadConfig, Monitor, type MonitorConfig } from '@rovkit/monitor';
import { missing, peerCommand, repoRoot } from './support/peers.js';
import { freePort } from './support/monitor-peers.js';

const pkg = join(repoRoot, 'packages/monitor');
const rules = join(pkg, 'prometheus/rovkit-alerts.yml');
const dashboard = join(pkg, 'grafana/rovkit-monitor.json');

let monitor: Monitor;
let metrics = '';

beforeAll(async () => {
  // Bundled VRPs and routes, per-route series on, an RTR cache (unreachable, which is
  // not fatal) so that the per-cache series exist too, and a BMP listener with its
  // per-peer series (no router connects here: test/bmp-monitor.test.ts checks them live).
  const config = loadConfig([
    '--vrps',
    join(pkg, 'data/ripe-archive-afrinic-20240101.routinator.json.gz'),
    '--routes',
    BUNDLED_ROUTES,
    '--bmp',
    '127.0.0.1:0',
    '--bmp-peer-metrics',
    '--rtr',
    `127.0.0.1:${await freePort()}`,
    '--bind',
    '127.0.0.1',
    '--port',
    '0',
    '--route-series',
  ]) as MonitorConfig;
  monitor = new Monitor(config, { out: { write: () => undefined } });
  await monitor.start();
  metrics = await (await fetch(`${monitor.url}metrics`)).text();
});

afterAll(async () => {
  await monitor?.stop();
});

/** Metric names declared in an exposition (# TYPE lines). */
function exported(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

/** rovkit_* names in a PromQL expression. */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\brovkit_[a-z0-9_]+/g)].map((m) => m[0]);
}

function dashboardExprs(): string[] {
  const json = JSON.parse(readFileSync(dashboard, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const exprs = json.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of json.templating.list) {
    const q = v.query as { query?: string } | string | undefined;
    if (typeof q === 'object' && q?.query !== undefined) exprs.push(q.query);
  }
  return exprs;
}

describe('the Grafana dashboard and alert rules', () => {
  it('query only metrics the monitor exports, and use every metric of the issue', () => {
    const names = exported(metrics);
    const exprs = [
      ...dashboardExprs(),
      ...[...readFileSync(rules, 'utf8').matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!),
    ];
    expect(exprs.length).toBeGreaterThan(15);
    const used = new Set(exprs.flatMap(namesIn));
    for (const name of used) expect(names, `${name} is queried but not exported`).toContain(name);
    // The issues' lists (5: the monitor, 6: BMP and fallback, 11: hardening), exactly: nothing missing
    // from the exposition, nothing extra.
    expect([...names].sort()).toEqual(
      [
        'rovkit_routes',
        'rovkit_address_space',
        'rovkit_vrps',
        'rovkit_vrp_source_last_update_timestamp_seconds',
        'rovkit_vrp_changes_total',
        'rovkit_rtr_up',
        'rovkit_rtr_state',
        'rovkit_rtr_data_state',
        'rovkit_rtr_serial',
        'rovkit_rtr_version',
        'rovkit_rtr_last_sync_timestamp_seconds',
        'rovkit_rtr_state_changes_total',
        'rovkit_route_state_changes_total',
        'rovkit_build_info',
        'rovkit_route_state',
        'rovkit_invalid_routes',
        'rovkit_invalid_address_space',
        'rovkit_rov_invalid_accepted',
        'rovkit_rov_invalid_rejected',
        'rovkit_bmp_peers_up',
        'rovkit_bmp_messages_total',
        'rovkit_bmp_peer_routes',
        // 11: the BMP listener's limits and malformed UPDATEs.
        'rovkit_bmp_update_errors_total',
        'rovkit_bmp_closed_connections_total',
        'rovkit_bmp_connections',
      ].sort(),
    );
  });

  it('exports explicit zeros for every state/reason/afi/group combination', () => {
    const groups = new Set([...metrics.matchAll(/^rovkit_routes\{[^}]*group="([^"]+)"/gm)].map((m) => m[1]!));
    expect(groups.size).toBeGreaterThan(3);
    const routes = metrics.match(/^rovkit_routes\{/gm)!.length;
    expect(routes).toBe(groups.size * 2 * 4);
    const space = metrics.match(/^rovkit_address_space\{/gm)!.length;
    expect(space).toBe(groups.size * 2 * 3);
    expect(metrics).toMatch(/^rovkit_routes\{state="invalid",reason="as",afi="ipv4",group="own"\} 0$/m);
  });
});

const skip = missing(peerCommand('promtool'));

describe.skipIf(skip !== undefined)('promtool', () => {
  it('check metrics accepts the /metrics output', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('check rules accepts the alerting rules, and their unit tests pass', () => {
    const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    expect(check.stdout).toContain('SUCCESS: 10 rules found');
    expect(check.status).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', 'rovkit-alerts.test.yml'], {
      cwd: join(pkg, 'prometheus'),
      encoding: 'utf8',
    });
    expect(test.stdout + test.stderr).toContain('SUCCESS');
    expect(test.status).toBe(0);
  });
});
