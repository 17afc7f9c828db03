import { VrpList } from '@rovkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { JsonLogger } from '../log.js';
import { createMetrics } from '../metrics.js';
import { HttpServer } from './server.js';

// The HTTP surface over a small engine: 192.0.2.0/24 AS64496 Valid, 192.0.2.0/25 AS64496
// Invalid (length), 198.51.100.0/24 AS64496 Invalid (as), 2001:db8::/32 AS64500 NotFound.
const engine = new Engine({ now: () => Date.UTC(2024, 0, 1) });
const routes = engine.registerSource('test');
const own = engine.groupId('own');
const acme = engine.groupId('customer:acme');
engine.announce(routes, 4, 0xc0000200, 0, 0, 0, 24, 64496, false, own, engine.descriptionId('main'));
engine.announce(routes, 4, 0xc0000200, 0, 0, 0, 25, 64496, false, own, -1);
engine.announce(routes, 4, 0xc6336400, 0, 0, 0, 24, 64496, false, acme, -1);
engine.announce(routes, 6, 0x20010db8, 0, 0, 0, 32, 64500, false, acme, -1);
const server = new HttpServer({
  engine,
  registry: createMetrics(
    { engine, addressSpace: () => engine.addressSpace(), rtrCaches: () => [] },
    { version: 't' },
  ),
  log: new JsonLogger({ write: () => undefined }),
  statusPage: () => '<p>status</p>',
});
let base = '';

beforeAll(async () => {
  const a = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${a.port}`;
});
afterAll(() => server.close());

async function get(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

describe('HTTP', () => {
  it('is not ready before the first full VRP set, then is', async () => {
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/healthz')).body).toBe('ok\n');
    const vrps = new VrpList();
    vrps.pushV4(0xc0000200, 24, 24, 64496);
    vrps.pushV4(0xc6336400, 24, 24, 64511);
    engine.applyVrps(engine.registerVrpSource('file:x'), vrps, new VrpList(1), true);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('answers the validity API in Routinator shape, single and batch', async () => {
    const one = await get('/api/v1/validity/AS64496/192.0.2.0/25');
    expect(one.type).toBe('application/json');
    const body = JSON.parse(one.body);
    expect(body.validated_route.route).toEqual({ origin_asn: 'AS64496', prefix: '192.0.2.0/25' });
    expect(body.validated_route.validity).toMatchObject({ state: 'invalid', reason: 'length' });
    expect(body.generatedTime).toBe('2024-01-01T00:00:00Z');
    const batch = await get('/api/v1/validity', {
      method: 'POST',
      body: JSON.stringify({
        routes: [
          { asn: 'AS64496', prefix: '192.0.2.0/24' },
          { asn: 1, prefix: '10.0.0.0/8' },
        ],
      }),
    });
    expect(
      JSON.parse(batch.body).validated_routes.map((r: { validity: { state: string } }) => r.validity.state),
    ).toEqual(['valid', 'not-found']);
  });

  it.each([
    ['/api/v1/validity/AS64496/192.0.2.1/24', 400, /host bits set/],
    ['/api/v1/validity/ASx/192.0.2.0/24', 400, /invalid AS number "ASx"/],
    ['/api/v1/routes?state=bogus', 400, /unknown state "bogus"/],
    ['/nope', 404, /no such page/],
  ])('GET %s: %d naming the bad value', async (path, status, message) => {
    const r = await get(path);
    expect(r.status).toBe(status);
    expect(r.type.startsWith('application/json') ? JSON.parse(r.body).error : r.body).toMatch(message);
  });

  it('refuses a bad batch and a wrong method', async () => {
    const bad = await get('/api/v1/validity', {
      method: 'POST',
      body: '{"routes": [{"asn": "AS1", "prefix": "300.0.0.0/8"}]}',
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/^routes\[0\]: invalid prefix "300.0.0.0\/8"/);
    expect((await get('/api/v1/validity', { method: 'POST', body: 'nope' })).status).toBe(400);
    const wrong = await get('/metrics', { method: 'POST', body: '' });
    expect(wrong.status).toBe(405);
  });

  it('lists routes by state, group and family with reason, explanation and last change', async () => {
    const r = JSON.parse((await get('/api/v1/routes?state=invalid')).body);
    expect(r.total).toBe(2);
    expect(
      r.routes.map((x: { prefix: string; reason: string; group: string }) => [x.prefix, x.reason, x.group]),
    ).toEqual([
      ['192.0.2.0/25', 'length', 'own'],
      ['198.51.100.0/24', 'as', 'customer:acme'],
    ]);
    expect(r.routes[1].explanation.VRPs.unmatched_as).toEqual([
      { asn: 'AS64511', prefix: '198.51.100.0/24', max_length: '24' },
    ]);
    expect(r.routes[0].last_change).toBe('2024-01-01T00:00:00.000Z');
    const acmeRoutes = JSON.parse((await get('/api/v1/routes?group=customer%3Aacme&afi=ipv6')).body);
    expect(acmeRoutes.routes.map((x: { prefix: string; state: string }) => [x.prefix, x.state])).toEqual([
      ['2001:db8::/32', 'not-found'],
    ]);
    const valid = JSON.parse((await get('/api/v1/routes?state=valid')).body);
    expect(valid.routes[0]).toMatchObject({
      prefix: '192.0.2.0/24',
      description: 'main',
      origin_asn: 'AS64496',
    });
    expect(JSON.parse((await get('/api/v1/routes?limit=1')).body)).toMatchObject({ total: 4 });
  });

  it('serves metrics and the status page', async () => {
    const m = await get('/metrics');
    expect(m.type).toMatch(/^text\/plain/);
    expect(m.body).toContain('rovkit_routes{state="invalid",reason="length",afi="ipv4",group="own"} 1');
    expect(m.body).toContain('rovkit_address_space{state="valid",afi="ipv4",group="own"} 1');
    expect((await get('/')).body).toBe('<p>status</p>');
  });

  it('says the port is in use', async () => {
    const other = new HttpServer({
      engine,
      registry: createMetrics(
        { engine, addressSpace: () => new Float64Array(0), rtrCaches: () => [] },
        { version: 't' },
      ),
      log: new JsonLogger({ write: () => undefined }),
      statusPage: () => '',
    });
    const port = Number(new URL(base).port);
    await expect(other.listen(port, '127.0.0.1')).rejects.toMatchObject({
      code: 'ROVKIT_ERR_LISTEN',
      message: expect.stringMatching(`cannot listen on 127.0.0.1:${port}: the port is in use`),
    });
  });
});
