import { VrpList } from '@rovkit/core';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine/engine.js';
import { createMetrics } from './metrics.js';
import { renderStatusPage } from './http/status-page.js';

function engineWithRoutes(): Engine {
  const engine = new Engine();
  const source = engine.registerSource('t');
  const own = engine.groupId('own');
  engine.announce(
    source,
    4,
    0xc0000200,
    0,
    0,
    0,
    24,
    64496,
    false,
    own,
    engine.descriptionId('<script>x</script>'),
  );
  engine.announce(source, 4, 0xc0000200, 0, 0, 0, 24, 64511, false, engine.groupId('customer:<b>'), -1);
  engine.announce(source, 4, 0x0a000000, 0, 0, 0, 8, 1, false, own, -1);
  const vrps = new VrpList();
  vrps.pushV4(0xc0000200, 24, 24, 64496);
  engine.applyVrps(engine.registerVrpSource('file:v'), vrps, new VrpList(1), true);
  return engine;
}

describe('per-route series', () => {
  it('are capped, Invalid first, and the cap is reported once', async () => {
    const engine = engineWithRoutes();
    const capped: [number, number][] = [];
    const registry = createMetrics(
      { engine, addressSpace: () => engine.addressSpace(), rtrCaches: () => [] },
      {
        version: 't',
        routeSeries: true,
        routeSeriesLimit: 1,
        onRouteSeriesCapped: (r, l) => capped.push([r, l]),
      },
    );
    const text = await registry.metrics();
    expect(text.match(/^rovkit_route_state\{.*$/gm)).toEqual([
      'rovkit_route_state{prefix="192.0.2.0/24",origin="AS64511",group="customer:<b>"} -1',
    ]);
    await registry.metrics();
    expect(capped).toEqual([[3, 1]]);
    const all = createMetrics(
      { engine, addressSpace: () => engine.addressSpace(), rtrCaches: () => [] },
      { version: 't', routeSeries: true },
    );
    expect((await all.metrics()).match(/^rovkit_route_state\{.*$/gm)?.sort()).toEqual([
      'rovkit_route_state{prefix="10.0.0.0/8",origin="AS1",group="own"} 0',
      'rovkit_route_state{prefix="192.0.2.0/24",origin="AS64496",group="own"} 1',
      'rovkit_route_state{prefix="192.0.2.0/24",origin="AS64511",group="customer:<b>"} -1',
    ]);
  });
});

describe('status page', () => {
  it('escapes what route lists say and lists the Invalid routes', () => {
    const html = renderStatusPage({
      engine: engineWithRoutes(),
      version: 't',
      rtrCaches: [],
      routeSources: [{ name: 'routes:<x>', routes: 3, error: undefined }],
      vrpErrors: new Map(),
      now: Date.UTC(2024, 0, 1),
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('customer:<b>');
    expect(html).toContain('customer:&lt;b&gt;');
    expect(html.match(/<tr class="invalid-route">/g)).toHaveLength(1);
    expect(html).toContain('<code>192.0.2.0/24</code></td><td>AS64511</td>');
    expect(html).toContain('192.0.2.0/24-24 AS64496');
  });
});
