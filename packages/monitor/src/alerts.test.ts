import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeCache } from '../../rtr-client/src/testing/fake-cache.js';
import { Alerter } from './alerts.js';
import { JsonLogger } from './log.js';
import { RtrSource } from './sources/rtr-source.js';

function collector(): { lines: Record<string, unknown>[]; write(s: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}

describe('Alerter', () => {
  it('logs each alert as a JSON line and repeats a lasting condition once per interval', () => {
    let now = 1_000_000;
    const out = collector();
    const alerter = new Alerter({
      log: new JsonLogger(out, { now: () => now }),
      suppressMs: 60_000,
      now: () => now,
    });
    const alert = {
      kind: 'rtr_cache_down',
      key: 'tcp://a:1',
      severity: 'critical',
      message: 'down',
    } as const;
    alerter.raise(alert);
    alerter.raise(alert);
    alerter.raise({ ...alert, key: 'tcp://b:1' });
    now += 60_000;
    alerter.raise(alert);
    expect(out.lines.map((l) => [l.alert, l.message, l.level])).toEqual([
      ['rtr_cache_down', 'down', 'error'],
      ['rtr_cache_down', 'down', 'error'],
      ['rtr_cache_down', 'down', 'error'],
    ]);
    expect(alerter.suppressed).toBe(1);
    expect(out.lines[0]!.time).toBe(new Date(1_000_000).toISOString());
  });

  it('alerts a condition again at once after it cleared, and never suppresses events', () => {
    const now = 1_000_000;
    const out = collector();
    const alerter = new Alerter({ log: new JsonLogger(out), now: () => now });
    const down = { kind: 'rtr_cache_down', key: 'c', severity: 'critical', message: 'down' } as const;
    const up = { kind: 'rtr_cache_up', key: 'c', severity: 'info', message: 'up' } as const;
    alerter.raise(down);
    alerter.raise(down); // still down: suppressed
    expect(alerter.clear(['rtr_cache_down', 'rtr_cache_stale'], 'c')).toBe(true);
    alerter.notify(up);
    expect(alerter.clear(['rtr_cache_down'], 'c')).toBe(false);
    alerter.notify(up);
    alerter.raise(down);
    expect(out.lines.map((l) => l.alert)).toEqual([
      'rtr_cache_down',
      'rtr_cache_up',
      'rtr_cache_up',
      'rtr_cache_down',
    ]);
    expect(alerter.suppressed).toBe(1);
  });

  it('RtrSource: a cache down, up and down again gives up, down, up, down', async () => {
    const cache = new FakeCache();
    cache.update([{ prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 }]);
    const port = await cache.listen();
    const out = collector();
    const log = new JsonLogger(out);
    const sink = { registerVrpSource: () => 0, applyVrps: () => undefined };
    const source = new RtrSource({
      caches: [`127.0.0.1:${port}`],
      sink,
      log,
      alerts: new Alerter({ log }),
      backoff: { initial: 20, max: 50 },
    });
    const kinds = () => out.lines.filter((l) => l.event === 'alert').map((l) => l.alert);
    const until = async (kind: string, n: number): Promise<void> => {
      for (let i = 0; i < 400 && kinds().filter((k) => k === kind).length < n; i++)
        await new Promise((r) => setTimeout(r, 25));
    };
    try {
      await source.start();
      await until('rtr_cache_up', 1);
      await cache.stop();
      await until('rtr_cache_stale', 1);
      await cache.listen(port);
      await until('rtr_cache_up', 2);
      await cache.stop();
      await until('rtr_cache_stale', 2);
      // Retries flip the cache between down and stale; repeats of each are suppressed while
      // it stays unreachable, and each return is told.
      expect(kinds()).toEqual([
        'rtr_cache_up',
        'rtr_cache_down',
        'rtr_cache_stale',
        'rtr_cache_up',
        'rtr_cache_down',
        'rtr_cache_stale',
      ]);
    } finally {
      await source.stop();
      await cache.stop();
    }
  });

  it('POSTs alerts to a webhook and logs a failing one', async () => {
    const bodies: unknown[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(text));
        res.statusCode = bodies.length === 1 ? 204 : 500;
        res.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      const out = collector();
      const alerter = new Alerter({
        log: new JsonLogger(out),
        webhook: new URL(`http://127.0.0.1:${port}/hook/secret`),
      });
      alerter.raise({
        kind: 'vrp_mass_withdrawal',
        key: 'f',
        severity: 'warning',
        message: 'm',
        fields: { withdrawn: 5 },
      });
      await alerter.flush();
      alerter.raise({ kind: 'vrp_mass_withdrawal', key: 'g', severity: 'warning', message: 'm' });
      await alerter.flush();
      expect(bodies[0]).toMatchObject({ alert: 'vrp_mass_withdrawal', withdrawn: 5, severity: 'warning' });
      const failed = out.lines.find((l) => l.event === 'webhook_failed');
      expect(failed).toMatchObject({ reason: 'HTTP 500', url: `http://127.0.0.1:${port}/…` });
    } finally {
      server.close();
    }
  });
});
