// `rovkit monitor` refuses bad input with an error naming the file, line and reason, and
// keeps its data when a watched file turns bad. The CLI cases run the built CLI (`npm
// test` builds first) as an operator would; the reload cases run the Monitor in-process.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, Monitor, OPTIONS, type MonitorConfig } from '@rovkit/monitor';
import { repoRoot } from './support/peers.js';
import { freePort, until } from './support/monitor-peers.js';
import { startMonitor } from './support/monitor-process.js';

const cli = join(repoRoot, 'packages/monitor/dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rovkit-monitor-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function rovkit(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'monitor', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const vrps = file(
  'vrps.csv',
  'ASN,IP Prefix,Max Length,Trust Anchor\nAS64496,192.0.2.0/24,24,ripe\nAS64497,198.51.100.0/24,24,ripe\n',
);
const routes = file(
  'routes.txt',
  '192.0.2.0/24 AS64496\n198.51.100.0/24 AS64496 customer:acme\n203.0.113.0/24 AS1\n',
);
const local = ['--bind', '127.0.0.1', '--port', '0'];

describe('rovkit monitor refuses to start on bad input', () => {
  it('documents every option in --help', () => {
    const r = rovkit(['--help']);
    expect(r.status).toBe(0);
    expect(Object.keys(OPTIONS).length).toBeGreaterThan(20);
    for (const name of [...Object.keys(OPTIONS), 'config', 'help']) expect(r.stdout).toContain(`--${name}`);
    expect(r.stdout).toContain('9324');
  });

  it('names the config file, line and reason', () => {
    const config = file('config.json', '{\n  "routes": ["routes.txt"],\n  "prot": 9000\n}\n');
    const r = rovkit(['--config', config, ...local]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`rovkit monitor: ${config}:3: unknown option "prot"`);
    const broken = file('broken.json', '{\n  "port": 9000,\n  "bind": \n}\n');
    const b = rovkit(['--config', broken]);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(new RegExp(`${broken}:[34]: `));
    const typed = file('typed.json', '{\n  "vrps": "vrps.csv",\n  "port": "high"\n}\n');
    expect(rovkit(['--config', typed]).stderr).toContain(`${typed}:3: "port" takes a number, not "high"`);
  });

  it('names a bad flag value, and exits 2 for an unknown flag', () => {
    const r = rovkit(['--vrps', vrps, '--routes', routes, '--port', '70000']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('command line: --port must be at most 65535, not 70000');
    const u = rovkit(['--colour']);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/Unknown option '--colour'/);
  });

  it('names the route file, line and reason', () => {
    const bad = file('bad-routes.txt', '192.0.2.0/24 AS64496\n192.0.2.1/24 AS64496\n');
    const r = rovkit(['--vrps', vrps, '--routes', bad, ...local]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `rovkit monitor: ${bad}:2: invalid prefix "192.0.2.1/24": host bits set beyond /24`,
    );
  });

  it('names the VRP file and line', () => {
    const bad = file('bad-vrps.json', '{"roas": [\n{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 7}]}');
    const r = rovkit(['--vrps', bad, '--routes', routes, ...local]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`rovkit monitor: ${bad}:2: invalid maxLength 7`);
  });

  it('says the port is in use', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runAsync([
        '--vrps',
        vrps,
        '--routes',
        routes,
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`rovkit monitor: cannot listen on 127.0.0.1:${port}: the port is in use`);
    } finally {
      server.close();
    }
  });

  it('starts with an unreachable cache: state down, not ready, alert logged, retrying', async () => {
    const port = await freePort();
    const monitor = await startMonitor(['--rtr', `127.0.0.1:${port}`, '--routes', routes, ...local]);
    const stdout = (): string => monitor.stdout();
    try {
      const url = monitor.url;
      await until('the down alert', () => (stdout().includes('"alert":"rtr_cache_down"') ? true : undefined));
      const alert = stdout()
        .split('\n')
        .filter((l) => l.includes('"alert":"rtr_cache_down"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)[0]!;
      expect(alert).toMatchObject({ cache: `tcp://127.0.0.1:${port}`, level: 'error' });
      expect(String(alert.error)).toContain('RTR_ERR_CONNECT');
      const metrics = await (await fetch(`${url}metrics`)).text();
      expect(metrics).toContain(`rovkit_rtr_up{cache="tcp://127.0.0.1:${port}"} 0`);
      expect(metrics).toContain(`rovkit_rtr_state{cache="tcp://127.0.0.1:${port}",state="down"} 1`);
      expect((await fetch(`${url}readyz`)).status).toBe(503);
      expect((await fetch(`${url}healthz`)).status).toBe(200);
    } finally {
      expect(await monitor.stop()).toBe(0);
    }
  });
});

function runAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'monitor', ...args]);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return once(child, 'exit').then(([status]) => {
    clearTimeout(timer);
    return { status: status as number | null, stderr };
  });
}

describe('rovkit monitor keeps its data when a watched file turns bad', () => {
  it('keeps the routes of a broken route file and the VRPs of a broken VRP file, then takes the fixed ones', async () => {
    const routeFile = file(
      'watched-routes.yml',
      '192.0.2.0/24:\n  asn: 64496\n198.51.100.0/24:\n  asn: 64496\n',
    );
    const vrpFile = file('watched-vrps.csv', 'ASN,IP Prefix,Max Length\nAS64496,192.0.2.0/24,24\n');
    const lines: Record<string, unknown>[] = [];
    const config = loadConfig([
      '--vrps',
      vrpFile,
      '--routes',
      routeFile,
      ...local,
      '--reload-interval',
      '0.05',
    ]) as MonitorConfig;
    const monitor = new Monitor(config, {
      out: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
    });
    await monitor.start();
    const counts = (): string =>
      `${monitor.engine.countOf('valid')} ${monitor.engine.countOf('not_found')} ${monitor.engine.countOf('invalid')}`;
    try {
      expect(counts()).toBe('1 1 0');
      // Broken route file (line 3): the two routes stay, an alert names file and line.
      writeAtomically(routeFile, '192.0.2.0/24:\n  asn: 64496\n198.51.100.0/24:\n  asn: [64496, bogus]\n');
      const alert = await until('the route file alert', () =>
        lines.find((l) => l.alert === 'route_source_error'),
      );
      expect(alert).toMatchObject({ file: routeFile, line: 4 });
      expect(String(alert.message)).toContain(`${routeFile}:4: invalid AS number "bogus"`);
      expect(counts()).toBe('1 1 0');
      // Broken VRP file: the VRP stays.
      writeAtomically(
        vrpFile,
        'ASN,IP Prefix,Max Length\nAS64496,192.0.2.0/24,24\nAS64497,198.51.100.0/24,33\n',
      );
      const vrpAlert = await until('the VRP file alert', () =>
        lines.find((l) => l.alert === 'vrp_source_error'),
      );
      expect(vrpAlert).toMatchObject({ file: vrpFile, line: 3 });
      expect(monitor.engine.table.size).toBe(1);
      expect(counts()).toBe('1 1 0');
      // Fixed files: a new VRP makes the second route Invalid, a new route arrives.
      writeAtomically(
        vrpFile,
        'ASN,IP Prefix,Max Length\nAS64496,192.0.2.0/24,24\nAS64497,198.51.100.0/24,24\n',
      );
      await until('the VRP reload', () => (monitor.engine.table.size === 2 ? true : undefined));
      writeAtomically(
        routeFile,
        '192.0.2.0/24:\n  asn: 64496\n198.51.100.0/24:\n  asn: 64496\n203.0.113.0/24:\n  asn: 1\n',
      );
      await until('the route reload', () => (monitor.engine.store.size === 3 ? true : undefined));
      expect(counts()).toBe('1 1 1');
    } finally {
      await monitor.stop();
    }
  });
});

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
