import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_ROUTES, BUNDLED_VRPS, HELP, loadConfig, OPTIONS, type MonitorConfig } from './config.js';
import { ConfigError } from './errors.js';
import { DEFAULT_HTTP_LIMITS } from './http/limits.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(argv: string[]): MonitorConfig {
  const c = loadConfig(argv);
  if (c === 'help') throw new Error('help');
  return c;
}

function failure(argv: string[]): ConfigError {
  try {
    loadConfig(argv);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('monitor configuration', () => {
  it('runs on the bundled data with no flags, binding all interfaces on 9324', () => {
    const c = config([]);
    expect(c).toMatchObject({
      vrps: [BUNDLED_VRPS],
      routes: [BUNDLED_ROUTES],
      rtr: [],
      bind: '0.0.0.0',
      port: 9324,
    });
    expect(c.bundled).toEqual({ vrps: true, routes: true });
    // Bundled data is used only for what is not configured.
    expect(config(['--rtr', 'rtr.example.net:323'])).toMatchObject({ vrps: [], routes: [BUNDLED_ROUTES] });
  });

  it('reads the file, resolves its paths against its folder, and lets flags win', () => {
    const file = join(dir, 'monitor.json');
    writeFileSync(
      file,
      JSON.stringify({
        routes: 'routes.yml',
        rtr: ['a:323', 'b:3323'],
        port: 9000,
        'alert-suppress': 60,
        'route-series': true,
      }),
    );
    const c = config(['--config', file, '--port', '9100']);
    expect(c.routes).toEqual([join(dir, 'routes.yml')]);
    expect(c.rtr).toEqual(['a:323', 'b:3323']);
    expect(c.port).toBe(9100);
    expect(c.alertSuppress).toBe(60_000);
    expect(c.routeSeries).toBe(true);
    expect(c.vrps).toEqual([]);
  });

  it.each([
    ['{\n  "port": 1,\n  "colour": "red"\n}', 3, 'unknown option "colour" (see rovkit monitor --help)'],
    ['{\n  "port": "x"\n}', 2, '"port" takes a number, not "x"'],
    ['{\n  "rtr": [1]\n}', 2, '"rtr" takes a string or a list of strings'],
    ['{\n  "port": 1,\n  "port": 2\n}', 3, /Map keys must be unique/],
    ['[1]', 1, 'expected a JSON object of options'],
    ['{\n  "webhook": "ftp://x"\n}', 2, '"webhook" must be an http:// or https:// URL, not "ftp://x"'],
  ])('names file, line and reason for %j', (text, line, reason) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, text);
    const e = failure(['--config', file]);
    expect(e.code).toBe('ROVKIT_ERR_CONFIG');
    expect([e.file, e.line]).toEqual([file, line]);
    expect(e.reason).toMatch(reason);
  });

  it.each([
    [['--port=-1'], '--port takes a number, not "-1"'],
    [['--rtr-version', '3'], '--rtr-version must be at most 2, not 3'],
    [['--rtr-tls-ca', 'ca.pem'], '--rtr-tls-ca needs --rtr-tls'],
    [['--rtr-tls', '--rtr-tls-cert', 'c.pem'], '--rtr-tls-cert needs both --rtr-tls-cert and --rtr-tls-key'],
    [['--log-level', 'loud'], '--log-level must be debug, info, warn or error, not "loud"'],
    [['--rtr', 'a b'], '--rtr expects HOST:PORT, not "a b"'],
    [['--bmp', 'host:port'], '--bmp expects [HOST:]PORT, not "host:port"'],
    [['--bmp', '70000'], '--bmp expects [HOST:]PORT, not "70000"'],
    [['--own-asn', '64500'], '--own-asn needs --bmp'],
    [['--bmp', '1', '--own-asn', 'AS12x'], '--own-asn expects AS numbers, not "AS12x"'],
    [['--bmp', '1', '--bmp-routes', 'mine'], '--bmp-routes must be all, own or listed, not "mine"'],
    [
      ['--bmp', '1', '--bmp-routes', 'own'],
      '--bmp-routes own needs --own-asn or --routes to tell your routes',
    ],
    [['--bmp', '1', '--bmp-routes', 'listed'], '--bmp-routes listed needs --routes'],
    [['--bmp-init-timeout', '5'], '--bmp-init-timeout needs --bmp'],
    [['--mrt-max-record', '4095'], '--mrt-max-record must be at least 4096, not 4095'],
    [['--bmp', '1', '--bmp-max-pending', '0'], '--bmp-max-pending must be at least 1, not 0'],
    [['--bmp', '1', '--bmp-max-message', '4143'], '--bmp-max-message must be at least 4144, not 4143'],
    [
      ['--bmp', '1', '--bmp-rib', 'pre-policy,adj-rib-in'],
      '--bmp-rib takes pre-policy, post-policy, loc-rib, adj-rib-out-pre-policy or adj-rib-out-post-policy, not "adj-rib-in"',
    ],
  ])('names the flag for %j', (argv, reason) => {
    const e = failure(argv);
    expect(e.file).toBe('command line');
    expect(e.reason).toBe(reason);
  });

  it('reads the BMP options, with the listener on 127.0.0.1 unless a host is given', () => {
    const c = config(['--bmp', '11019', '--own-asn', 'AS64500,64501', '--own-asn', '4200000000']);
    expect(c).toMatchObject({
      bmp: { host: '127.0.0.1', port: 11019 },
      bmpRibs: [0, 4],
      bmpRoutes: 'all',
      ownAsns: [64500, 64501, 4200000000],
      bmpGroup: 'bmp',
      bmpPeerMetrics: false,
      bmpMaxRouters: 256,
      bmpMaxPending: 64,
      bmpInitTimeout: 10_000,
      bmpIdleTimeout: 0,
      bmpMaxMessage: 262_144,
    });
    expect(
      config([
        '--bmp',
        '1',
        '--bmp-max-routers',
        '2',
        '--bmp-max-pending',
        '3',
        '--bmp-init-timeout',
        '0.5',
        '--bmp-idle-timeout',
        '3600',
        '--bmp-max-message',
        '65583',
      ]),
    ).toMatchObject({
      bmpMaxRouters: 2,
      bmpMaxPending: 3,
      bmpInitTimeout: 500,
      bmpIdleTimeout: 3_600_000,
      bmpMaxMessage: 65583,
    });
    // BMP is a route source: the bundled routes are not loaded beside it.
    expect(c.routes).toEqual([]);
    expect(config(['--bmp', '[::1]:0', '--bmp-rib', 'post-policy']).bmp).toEqual({ host: '::1', port: 0 });
    expect(config(['--bmp', '0.0.0.0:11019', '--bmp-rib', 'loc-rib,post-policy']).bmpRibs).toEqual([4, 1]);
    expect(config([]).bmp).toBeUndefined();
    expect(config([]).mrtMaxRecord).toBe(16 * 1024 * 1024);
    expect(config(['--mrt-max-record', '65536']).mrtMaxRecord).toBe(65536);
  });

  it('documents every option in the help', () => {
    for (const name of Object.keys(OPTIONS)) expect(HELP).toContain(`--${name}`);
    expect(loadConfig(['-h'])).toBe('help');
  });
});

describe('HTTP limit flags', () => {
  it('default to the documented limits and take each flag', () => {
    expect(config([]).httpLimits).toEqual(DEFAULT_HTTP_LIMITS);
    const c = config([
      '--http-max-connections',
      '64',
      '--http-idle-timeout',
      '2.5',
      '--http-header-timeout',
      '4',
      '--http-request-timeout',
      '20',
      '--http-max-body',
      '500000',
      '--http-max-batch-routes',
      '5000',
      '--http-max-answer',
      '1000000',
      '--http-max-batches',
      '4',
      '--http-max-list',
      '50000',
    ]);
    expect(c.httpLimits).toEqual({
      ...DEFAULT_HTTP_LIMITS,
      maxConnections: 64,
      idleTimeoutMs: 2500,
      headersTimeoutMs: 4000,
      requestTimeoutMs: 20_000,
      maxBodyBytes: 500_000,
      maxBatchRoutes: 5000,
      maxAnswerBytes: 1_000_000,
      maxConcurrentBatches: 4,
      maxListLimit: 50_000,
    });
  });

  it('refuses a header timeout longer than the request timeout, and a zero limit', () => {
    expect(failure(['--http-header-timeout', '40']).message).toContain(
      '--http-header-timeout (40 s) must not be longer than --http-request-timeout (30 s)',
    );
    expect(failure(['--http-request-timeout', '5']).message).toContain(
      '--http-request-timeout (5 s) must not be shorter than --http-header-timeout (10 s)',
    );
    expect(failure(['--http-max-connections', '0']).message).toContain(
      '--http-max-connections must be at least 1, not 0',
    );
  });
});
