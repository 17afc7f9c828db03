// The monitor's RTR source against StayRTR: caches in preference order, with the
// preferred one unreachable at first. The monitor syncs from the fallback, reports the
// preferred one down, then (once it comes up) goes back to it; alerts and per-cache
// metrics follow. Also `rovkit monitor` with no flags on the bundled data.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Alerter,
  BUNDLED_ROUTES,
  BUNDLED_VRPS,
  Engine,
  JsonLogger,
  loadConfig,
  Monitor,
  RtrSource,
  type MonitorConfig,
} from '@rovkit/monitor';
import { missing, peerCommand, repoRoot } from './support/peers.js';
import { freePort, readRoas, StayRtrPeer, until } from './support/monitor-peers.js';

const skip = missing(peerCommand('stayrtr'));

describe.skipIf(skip !== undefined)('RTR caches in preference order', () => {
  const started: StayRtrPeer[] = [];
  afterAll(async () => {
    for (const s of started) await s.stop();
  });

  it('falls back to the second cache, reports the first down, and returns to it when it comes up', async () => {
    const roas = (await readRoas(BUNDLED_VRPS)).slice(0, 500);
    const fallback = await StayRtrPeer.start(roas);
    started.push(fallback);
    const preferredPort = await freePort();
    const lines: Record<string, unknown>[] = [];
    const log = new JsonLogger({
      write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>),
    });
    const engine = new Engine();
    const source = new RtrSource({
      caches: [`127.0.0.1:${preferredPort}`, `127.0.0.1:${fallback.port}`],
      sink: engine,
      log,
      alerts: new Alerter({ log }),
      backoff: { initial: 100, max: 500 },
      switchBackMs: 500,
    });
    await source.start();
    try {
      await until('the sync from the fallback', () => (engine.ready ? true : undefined));
      const [preferred, second] = source.caches;
      expect(preferred).toMatchObject({ name: `tcp://127.0.0.1:${preferredPort}`, state: 'down' });
      expect(preferred!.lastError).toMatch(/^RTR_ERR_CONNECT/);
      expect(second).toMatchObject({ state: 'synced', version: 2 });
      expect(engine.table.size).toBe(roas.length);
      expect(lines.filter((l) => l.alert === 'rtr_cache_down').map((l) => l.cache)).toEqual([
        preferred!.name,
      ]);
      expect(lines.filter((l) => l.alert === 'rtr_cache_up').map((l) => l.cache)).toEqual([second!.name]);

      // The preferred cache comes up (with more VRPs): the client switches back to it.
      const more = (await readRoas(BUNDLED_VRPS)).slice(0, 600);
      const preferredPeer = await StayRtrPeer.start(more, preferredPort);
      started.push(preferredPeer);
      await until('the switch back', () => (source.caches[0]!.state === 'synced' ? true : undefined), 20_000);
      await until('the preferred data', () => (engine.table.size === more.length ? true : undefined));
      expect(source.caches[1]!.state).toBe('idle');
      expect(lines.filter((l) => l.alert === 'rtr_cache_up').map((l) => l.cache)).toEqual([
        second!.name,
        preferred!.name,
      ]);
    } finally {
      await source.stop();
    }
  }, 60_000);
});

describe.skipIf(skip !== undefined)('RTR data going stale and expiring', () => {
  it('alerts down, stale and expired, and the routes fall back to NotFound', async () => {
    const roas = (await readRoas(BUNDLED_VRPS)).filter((r) => r.asn === 'AS33771');
    const peer = await StayRtrPeer.start(roas);
    const lines: Record<string, unknown>[] = [];
    const log = new JsonLogger({
      write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>),
    });
    const engine = new Engine();
    const routes = engine.registerSource('test');
    engine.announce(routes, 6, 0x2c0ffe38, 0, 0, 0, 32, 33771, false, engine.groupId('own'), -1);
    // Local timers: data expires 2 s after the last sync, so that the test sees it.
    const source = new RtrSource({
      caches: [`127.0.0.1:${peer.port}`],
      sink: engine,
      log,
      alerts: new Alerter({ log }),
      backoff: { initial: 100, max: 300 },
      timers: { refresh: 1, retry: 1, expire: 2 },
    });
    await source.start();
    try {
      await until('the sync', () => (engine.countOf('valid') === 1 ? true : undefined));
      await peer.stop();
      await until('the expiry', () => (source.dataState === 'expired' ? true : undefined), 15_000);
      expect(engine.table.size).toBe(0);
      expect(engine.countOf('not_found')).toBe(1);
      const kinds = lines.filter((l) => typeof l.alert === 'string').map((l) => l.alert);
      expect(kinds).toEqual(['rtr_cache_up', 'rtr_cache_down', 'rtr_cache_stale', 'rtr_cache_expired']);
      expect(engine.stateChanges[0 * 3 + 2]).toBe(1); // valid -> not_found
    } finally {
      await source.stop();
    }
  }, 30_000);
});

const skipTls = missing(peerCommand('stayrtr'), peerCommand('openssl'));

describe.skipIf(skipTls !== undefined)('RTR over TLS', () => {
  it('syncs when the certificate is trusted, and reports one that is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rovkit-monitor-tls-'));
    try {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      const made = spawnSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
      expect(made.status).toBe(0);
      const roas = (await readRoas(BUNDLED_VRPS)).slice(0, 100);
      const peer = await StayRtrPeer.start(roas, undefined, { cert, key });
      const run = async (argv: string[]): Promise<Monitor> => {
        const config = loadConfig([
          '--rtr',
          `127.0.0.1:${peer.tlsPort}`,
          '--rtr-tls',
          ...argv,
          '--routes',
          BUNDLED_ROUTES,
          '--bind',
          '127.0.0.1',
          '--port',
          '0',
        ]) as MonitorConfig;
        const m = new Monitor(config, { out: { write: () => undefined } });
        await m.start();
        return m;
      };
      try {
        const trusted = await run(['--rtr-tls-ca', cert]);
        try {
          await until('the TLS sync', () => (trusted.engine.ready ? true : undefined));
          expect(trusted.engine.table.size).toBe(roas.length);
          expect(trusted.rtr!.caches[0]).toMatchObject({
            name: `tls://127.0.0.1:${peer.tlsPort}`,
            state: 'synced',
          });
        } finally {
          await trusted.stop();
        }
        const untrusted = await run([]);
        try {
          await until('the TLS failure', () =>
            untrusted.rtr!.caches[0]!.state === 'down' ? true : undefined,
          );
          expect(untrusted.rtr!.caches[0]!.lastError).toMatch(/^RTR_ERR_CONNECT/);
          expect(untrusted.engine.ready).toBe(false);
        } finally {
          await untrusted.stop();
        }
      } finally {
        await peer.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('rovkit monitor with no flags', () => {
  it('runs on the bundled data and prints its URLs', async () => {
    // The defaults bind 0.0.0.0:9324; tests bind loopback on a free port, nothing else.
    const child = spawn(process.execPath, [
      join(repoRoot, 'packages/monitor/dist/cli.js'),
      'monitor',
      '--bind',
      '127.0.0.1',
      '--port',
      '0',
    ]);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.resume();
    try {
      const url = await until('the start banner', () => /status page\s+(\S+)/.exec(stderr)?.[1]);
      expect(stderr).toContain('on bundled sample data');
      expect(stderr).toMatch(/metrics\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const routes = (await (await fetch(`${url}api/v1/routes?limit=0`)).json()) as { total: number };
      const lines = (await import('node:fs')).readFileSync(BUNDLED_ROUTES, 'utf8').split('\n');
      expect(routes.total).toBe(lines.filter((l) => l.trim() !== '' && !l.startsWith('#')).length);
      expect((await fetch(`${url}readyz`)).status).toBe(200);
    } finally {
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    }
  });
});
