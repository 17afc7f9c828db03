import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Alerter } from './alerts.js';
import { JsonLogger } from './log.js';

function collector(): { lines: Record<string, unknown>[]; write(s: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}

describe('Alerter', () => {
  it('logs each alert as a JSON line and suppresses duplicates for the interval', () => {
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
