// The soak (issue 11): `rovkit monitor` at full scale, started as a user starts it (the CLI,
// in a child process: the 424k-VRP file, a route list of the 1.27 M real routes, StayRTR
// behind a hostile primary RTR cache, a BMP listener), under every hostile load of the
// hardening issue at once for five minutes (30 s with --quick):
// - HTTP: idle connections, slowloris headers, oversized bodies, heavy batch requests,
//   malformed requests;
// - BMP: silent connections and connections that trickle a byte at a time;
// - RTR: a primary cache that in turn trickles, sends a payload that never ends, sends
//   garbage, resets mid-PDU and stays silent;
// - files: a second VRP file replaced in turn by truncated, binary and huge-token files.
// Meanwhile this process scrapes /metrics every second as Prometheus would (keep-alive),
// samples the monitor's RSS from /proc, checks that the VRPs and routes held never change,
// and connects a well-behaved BMP router every 15 s, timing how long until its routes
// show in /metrics. Targets: /metrics p99 < 100 ms, RSS < 1 GB, a router connecting in
// under 10 s, no VRP or route lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  dataFiles,
  formatRoute,
  repoRoot,
  vrpJsonWithoutExpires,
  workDir,
  type RouteSet,
} from '../datasets.js';
import type { Measurement } from '../report.js';
import type { BenchContext, ScenarioModule } from '../run.js';
import { freePort, onPath, startStayRtr, type Served } from '../rtr-sync.js';
import { encodeStream } from './bmp.js';

const cli = join(repoRoot, 'packages', 'monitor', 'dist', 'cli.js');
const soakDir = join(workDir, 'soak');
/** Routes the well-behaved router announces each time it connects. */
const ROUTER_ROUTES = 2_000;
/** Hostile connections held open at once. */
const HOSTILE = {
  httpIdle: 400,
  httpSlowloris: 50,
  bmpSilent: 300,
  bmpTrickle: 20,
} as const;
/**
 * New connections per second each holder opens at most to replace the ones the monitor
 * closed: a scanner's pace. Without a cap the holders turn into a connection flood (over
 * 1,000 a second against the BMP listener, whose pending connections are evicted oldest
 * first), which measures the kernel and the event loop, not the limits under test.
 */
const RECONNECTS_PER_SECOND = 100;

export interface SoakResult {
  readonly seconds: number;
  readonly scrapes: number;
  readonly scrapeMs: readonly number[];
  readonly scrapeFailures: number;
  readonly rssSamples: readonly number[];
  /** VmHWM of the monitor at the end (bytes). */
  readonly peakRssBytes: number;
  readonly routerConnectMs: readonly number[];
  readonly routerFailures: number;
  /** Scrapes whose VRP or route counts differed from the start. */
  readonly dataMismatches: number;
  readonly vrps: number;
  readonly routes: number;
  readonly alive: boolean;
  /** Hostile requests and connections made, by kind. */
  readonly attacks: Readonly<Record<string, number>>;
  /** HTTP statuses the hostile requests got. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
}

// ------------------------------------------------------------- input files

/**
 * The well-behaved BMP router's routes: /25s of 100.64.0.0/14, which no route of the
 * list covers, so that they count in the BMP group (a BMP route inside a listed prefix
 * counts in the list's group) and the list's counts stay as they were.
 */
function routerRoutes(): RouteSet {
  const n = ROUTER_ROUTES;
  const v4 = {
    addr: Uint32Array.from({ length: n }, (_, k) => (0x64400000 + k * 128) >>> 0),
    length: new Uint8Array(n).fill(25),
    origin: Uint32Array.from({ length: n }, (_, k) => 64512 + (k % 100)),
    originIsSet: new Uint8Array(n),
    count: n,
  };
  const v6 = {
    words: new Uint32Array(0),
    length: new Uint8Array(0),
    origin: new Uint32Array(0),
    originIsSet: new Uint8Array(0),
    count: 0,
  };
  return { v4, v6, count: n };
}

function routeList(routes: RouteSet): string {
  const path = join(soakDir, 'routes.txt');
  if (existsSync(path)) return path;
  mkdirSync(soakDir, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < routes.count; i++) {
    const v4 = i < routes.v4.count;
    const j = v4 ? i : i - routes.v4.count;
    const isSet = (v4 ? routes.v4.originIsSet[j] : routes.v6.originIsSet[j]) === 1;
    const origin = v4 ? routes.v4.origin[j]! : routes.v6.origin[j]!;
    lines.push(`${formatRoute(routes, i)} ${isSet ? 'none' : `AS${origin}`}`);
  }
  writeFileSync(`${path}.tmp`, `${lines.join('\n')}\n`);
  renameSync(`${path}.tmp`, path);
  return path;
}

/** The second VRP file's good content and its broken replacements, written in turn. */
function churnVariants(): { good: Buffer; broken: readonly (readonly [string, Buffer])[] } {
  const good = readFileSync(dataFiles.vrpsAfrinic);
  const random = Buffer.alloc(64 << 10);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  // A 64 MB string token: the reader must stop at its token limit, not hold the token.
  const huge = Buffer.alloc(64 << 20, 0x41);
  huge.write('{"roas":[{"prefix":"', 0);
  return {
    good,
    broken: [
      ['truncated', good.subarray(0, Math.floor(good.length / 2))],
      ['binary', random],
      ['huge-token', gzipSync(huge)],
      ['empty', Buffer.alloc(0)],
    ],
  };
}

// ------------------------------------------------------------- the hostile RTR cache

/** A primary cache that misbehaves in turn: trickle, endless payload, garbage, reset, silence. */
function evilCache(counts: Record<string, number>): Promise<{ port: number; close(): Promise<void> }> {
  const modes = ['trickle', 'endless', 'garbage', 'reset', 'silent'] as const;
  let next = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    const mode = modes[next++ % modes.length]!;
    counts[`rtr-${mode}`] = (counts[`rtr-${mode}`] ?? 0) + 1;
    socket.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    socket.on('close', () => clearInterval(timer));
    socket.once('data', (query) => {
      const version = query[0] ?? 1;
      const response = Buffer.from([version, 3, 0x12, 0x34, 0, 0, 0, 8]);
      if (mode === 'silent') return;
      if (mode === 'garbage') {
        const junk = Buffer.alloc(4096);
        for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + next) & 255;
        socket.end(junk);
        return;
      }
      const prefix = (i: number): Buffer => {
        const b = Buffer.alloc(20);
        b[0] = version;
        b[1] = 4;
        b.writeUInt32BE(20, 4);
        b[8] = 1;
        b[9] = 24;
        b[10] = 24;
        b.writeUInt32BE((0x0b000000 + i * 256) >>> 0, 12);
        b.writeUInt32BE(64512 + (i & 1023), 16);
        return b;
      };
      if (mode === 'reset') {
        socket.write(Buffer.concat([response, prefix(0).subarray(0, 11)]), () => socket.resetAndDestroy());
        return;
      }
      if (mode === 'trickle') {
        const stream = Buffer.concat([response, ...Array.from({ length: 64 }, (_, i) => prefix(i))]);
        let at = 0;
        timer = setInterval(() => {
          if (at < stream.length) socket.write(stream.subarray(at, ++at));
        }, 500);
        return;
      }
      // Endless: valid prefix PDUs as fast as the client reads, never an End of Data.
      socket.write(response);
      let i = 0;
      const batch = (): void => {
        while (!socket.destroyed) {
          const chunk = Buffer.concat(Array.from({ length: 512 }, () => prefix(i++ & 0xfffff)));
          if (!socket.write(chunk)) {
            socket.once('drain', batch);
            return;
          }
        }
      };
      batch();
    });
  });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of open) socket.destroy();
    });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as { port: number }).port, close }),
    ),
  );
}

// ------------------------------------------------------------- helpers

function rssOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Sum of a metric's samples whose labels contain `match`. */
function metricSum(text: string, name: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------- the run

export async function runSoak(options: {
  readonly quick: boolean;
  readonly routes: RouteSet;
  readonly log: (text: string) => void;
}): Promise<SoakResult> {
  const { log } = options;
  const seconds = Number(process.env.ROVKIT_SOAK_SECONDS ?? (options.quick ? 30 : 300));
  const notes: string[] = [];
  const attacks: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  // Attacks other than the steady connection holders, with their time, for the profile
  // of slow scrapes.
  const events: [number, string][] = [];
  const steady = new Set(['http-idle', 'http-slowloris', 'bmp-silent', 'bmp-trickle']);
  const count = (kind: string): void => {
    attacks[kind] = (attacks[kind] ?? 0) + 1;
    if (!steady.has(kind)) events.push([Date.now(), kind]);
  };

  mkdirSync(soakDir, { recursive: true });
  const routesFile = routeList(options.routes);
  const churnFile = join(soakDir, 'churn.json.gz');
  const churn = churnVariants();
  writeFileSync(churnFile, churn.good);
  const vrpFile = join(soakDir, 'vrps-424k.json.gz');
  copyFileSync(dataFiles.vrps424k, vrpFile);

  const evil = await evilCache(attacks);
  let stayrtr: Served | undefined;
  if (onPath('stayrtr')) stayrtr = await startStayRtr(vrpJsonWithoutExpires(dataFiles.vrpsLacnic), log);
  else
    notes.push(
      'stayrtr is not installed (apt-get install stayrtr): no healthy RTR cache behind the hostile one',
    );

  const httpPort = await freePort();
  const bmpPort = await freePort();
  const args = [
    cli,
    'monitor',
    '--vrps',
    vrpFile,
    '--vrps',
    churnFile,
    '--routes',
    routesFile,
    '--rtr',
    `127.0.0.1:${evil.port}`,
    ...(stayrtr === undefined ? [] : ['--rtr', stayrtr.address]),
    '--bmp',
    `127.0.0.1:${bmpPort}`,
    '--bind',
    '127.0.0.1',
    '--port',
    String(httpPort),
    '--reload-interval',
    '1',
    '--log-level',
    'error',
  ];
  // ROVKIT_SOAK_NODE_FLAGS: flags for the monitor's node, e.g. --cpu-prof for its profile or
  // --trace-gc, whose lines go to the file ROVKIT_SOAK_STDOUT names.
  const flags = process.env.ROVKIT_SOAK_NODE_FLAGS?.split(' ').filter((f) => f !== '') ?? [];
  const stdoutFile = process.env.ROVKIT_SOAK_STDOUT;
  const stdout = stdoutFile === undefined || stdoutFile === '' ? 'ignore' : openSync(stdoutFile, 'w');
  const monitor: ChildProcess = spawn(process.execPath, [...flags, ...args], {
    stdio: ['ignore', stdout, 'pipe'],
  });
  if (typeof stdout === 'number') closeSync(stdout);
  let stderr = '';
  monitor.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const pid = monitor.pid!;
  const base = `http://127.0.0.1:${httpPort}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  const get = (path: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { agent, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });

  // Wait for the full data: every file loaded, StayRTR synced.
  const started = Date.now();
  let vrps = 0;
  let routes = 0;
  for (;;) {
    if (monitor.exitCode !== null) throw new Error(`monitor exited during start: ${stderr}`);
    if (Date.now() - started > 300_000) throw new Error(`monitor did not load within 300 s: ${stderr}`);
    try {
      const text = (await get('/metrics')).body;
      const rtrSynced = stayrtr === undefined || metricSum(text, 'rovkit_vrps', 'source="rtr"') > 0;
      const files = metricSum(text, 'rovkit_vrps', 'source="file');
      vrps = metricSum(text, 'rovkit_vrps');
      routes = metricSum(text, 'rovkit_routes', 'group="own"');
      if (rtrSynced && files > 424_000 && routes > 1_000_000) break;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  log(`soak: monitor up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${vrps} VRPs, ${routes} routes`);

  const deadline = Date.now() + seconds * 1000;
  const running = (): boolean => Date.now() < deadline && monitor.exitCode === null;
  const sockets = new Set<Socket>();

  // Keeps `n` connections to `port` open, each fed by `feed` (nothing for silent ones).
  const hold = async (
    kind: string,
    port: number,
    n: number,
    feed?: (socket: Socket) => NodeJS.Timeout,
  ): Promise<void> => {
    let open = 0;
    while (running()) {
      for (let opened = 0; open < n && opened < RECONNECTS_PER_SECOND / 5 && running(); opened++) {
        open++;
        count(kind);
        const socket = connect(port, '127.0.0.1');
        sockets.add(socket);
        let timer: NodeJS.Timeout | undefined;
        socket.on('connect', () => {
          if (feed !== undefined) timer = feed(socket);
        });
        socket.on('error', () => undefined);
        socket.on('data', () => undefined);
        socket.on('close', () => {
          clearInterval(timer);
          sockets.delete(socket);
          open--;
        });
      }
      await sleep(200);
    }
  };
  const slowloris = (socket: Socket): NodeJS.Timeout => {
    const head = Buffer.from(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(4000)}`);
    let at = 0;
    return setInterval(() => socket.write(head.subarray(at, ++at)), 1000);
  };
  const bmpTrickle = (socket: Socket): NodeJS.Timeout => {
    const initiation = Buffer.from([3, 0, 0, 0, 20, 4, 0, 2, 0, 10, ...Buffer.from('trickle-rt')]);
    let at = 0;
    return setInterval(
      () => socket.write(initiation.subarray(at % initiation.length, (at++ % initiation.length) + 1)),
      1000,
    );
  };

  // Hostile HTTP requests: one raw request at a time per loop, answered or cut.
  const raw = (payload: Buffer | string, kind: string): Promise<void> =>
    new Promise((resolve) => {
      count(kind);
      const socket = connect(httpPort, '127.0.0.1');
      let answer = '';
      const done = (): void => {
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 'none';
        statuses[`${kind} ${status}`] = (statuses[`${kind} ${status}`] ?? 0) + 1;
        socket.destroy();
        resolve();
      };
      socket.setTimeout(15_000, done);
      socket.on('error', done);
      socket.on('close', done);
      socket.on('data', (c: Buffer) => {
        if (answer.length < 64) answer += c.toString('latin1');
      });
      socket.on('connect', () => socket.write(payload, () => undefined));
    });
  const batchBody = ((): string => {
    const list = [];
    for (let i = 0; i < 2_000; i++) {
      const j = (i * 613) % options.routes.count;
      list.push({
        asn: `AS${j < options.routes.v4.count ? options.routes.v4.origin[j] : 1}`,
        prefix: formatRoute(options.routes, j),
      });
    }
    return JSON.stringify({ routes: list });
  })();
  const requests = async (): Promise<void> => {
    const huge = Buffer.alloc(8 << 20, 0x20);
    const cases: readonly [string, () => Buffer | string][] = [
      [
        'http-oversized',
        () =>
          Buffer.concat([
            Buffer.from(
              `POST /api/v1/validity HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${huge.length}\r\n\r\n`,
            ),
            huge,
          ]),
      ],
      [
        'http-batch',
        () =>
          `POST /api/v1/validity HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(batchBody)}\r\nConnection: close\r\n\r\n${batchBody}`,
      ],
      [
        'http-bad-escape',
        () => 'GET /api/v1/validity/AS1/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      ],
      ['http-garbage', () => Buffer.from([0x16, 3, 1, 0, 0xff, 0, 1, 2, 3, 13, 10, 13, 10])],
      [
        'http-huge-header',
        () => `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(64 << 10)}\r\n\r\n`,
      ],
    ];
    let i = 0;
    while (running()) {
      const [kind, make] = cases[i++ % cases.length]!;
      await raw(make(), kind);
      await sleep(50);
    }
  };

  // Replaces the second VRP file with a broken variant, then the good one, in turn.
  const files = async (): Promise<void> => {
    let i = 0;
    while (running()) {
      const [kind, content] = churn.broken[i++ % churn.broken.length]!;
      count(`file-${kind}`);
      writeFileSync(`${churnFile}.tmp`, content);
      renameSync(`${churnFile}.tmp`, churnFile);
      await sleep(4_000);
      // The good content again, byte for byte the first one: nothing may change.
      writeFileSync(`${churnFile}.tmp`, churn.good);
      renameSync(`${churnFile}.tmp`, churnFile);
      await sleep(4_000);
    }
  };

  // A well-behaved router every 15 s: connect, send its table, wait until /metrics shows it.
  const router = routerRoutes();
  const { stream } = encodeStream(router);
  const routerConnectMs: number[] = [];
  let routerFailures = 0;
  const routers = async (): Promise<void> => {
    while (running()) {
      const t0 = Date.now();
      count('bmp-router');
      const socket = connect(bmpPort, '127.0.0.1');
      socket.on('error', () => undefined);
      let held = false;
      try {
        await once(socket, 'connect');
        socket.write(stream);
        while (Date.now() - t0 < 30_000) {
          const text = (await get('/metrics')).body;
          if (metricSum(text, 'rovkit_routes', 'group="bmp"') >= ROUTER_ROUTES) {
            held = true;
            break;
          }
          await sleep(100);
        }
      } catch {
        // counted as a failure below
      }
      if (held) routerConnectMs.push(Date.now() - t0);
      else routerFailures++;
      socket.destroy();
      count('bmp-router-gone');
      await sleep(15_000);
    }
  };

  const scrapeMs: number[] = [];
  const scrapeAt: number[] = [];
  const scrapeRss: number[] = [];
  const rssSamples: number[] = [];
  let scrapeFailures = 0;
  let dataMismatches = 0;
  const scrapes = async (): Promise<void> => {
    while (running()) {
      const t0 = performance.now();
      try {
        const { status, body } = await get('/metrics');
        scrapeMs.push(performance.now() - t0);
        scrapeAt.push(Date.now());
        scrapeRss.push(rssOf(pid, 'VmRSS'));
        if (status !== 200) scrapeFailures++;
        // The churn file's VRPs, StayRTR's and the 424k stay exactly held; the hostile cache adds none.
        if (
          metricSum(body, 'rovkit_vrps') !== vrps ||
          metricSum(body, 'rovkit_routes', 'group="own"') !== routes
        )
          dataMismatches++;
      } catch {
        scrapeFailures++;
      }
      rssSamples.push(rssOf(pid, 'VmRSS'));
      await sleep(1000);
    }
  };

  log(`soak: ${seconds} s of combined hostile load`);
  await Promise.all([
    hold('http-idle', httpPort, HOSTILE.httpIdle),
    hold('http-slowloris', httpPort, HOSTILE.httpSlowloris, slowloris),
    hold('bmp-silent', bmpPort, HOSTILE.bmpSilent),
    hold('bmp-trickle', bmpPort, HOSTILE.bmpTrickle, bmpTrickle),
    requests(),
    files(),
    routers(),
    scrapes(),
  ]);
  for (const socket of sockets) socket.destroy();
  // The profile of the misses: the slowest scrapes and the attacks in the 3 s before each.
  const slowest = scrapeMs
    .map((ms, i) => [ms, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 8);
  for (const [ms, i] of slowest) {
    const at = scrapeAt[i]!;
    const before = events.filter(([t]) => t <= at && t > at - ms - 3000).map(([, k]) => k);
    notes.push(
      `slow scrape ${ms.toFixed(0)} ms at +${((at - deadline) / 1000 + seconds).toFixed(0)} s, RSS ${(scrapeRss[i]! / 2 ** 20).toFixed(0)} MB; attacks in the 3 s before: ${[...new Set(before)].join(', ') || 'only the steady holders'}`,
    );
  }
  const alive = monitor.exitCode === null;
  const peakRssBytes = rssOf(pid, 'VmHWM');
  if (!alive) notes.push(`the monitor exited during the soak: ${stderr.slice(-500)}`);
  if (alive) {
    monitor.kill('SIGTERM');
    await once(monitor, 'exit');
  }
  agent.destroy();
  await evil.close();
  await stayrtr?.stop();
  return {
    seconds,
    scrapes: scrapeMs.length,
    scrapeMs,
    scrapeFailures,
    rssSamples,
    peakRssBytes,
    routerConnectMs,
    routerFailures,
    dataMismatches,
    vrps,
    routes,
    alive,
    attacks,
    statuses,
    notes,
  };
}

export function soakMeasurements(r: SoakResult): Measurement[] {
  const attacks = Object.entries(r.attacks)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const load = `${r.seconds} s under combined hostile load (${attacks})`;
  const max = (values: readonly number[]): number => values.reduce((a, b) => Math.max(a, b), -Infinity);
  return [
    {
      id: 'soak.metrics.p99',
      scenario: `Soak: /metrics p99, ${load}`,
      unit: 'ms',
      better: 'lower',
      target: 100,
      rovkit: {
        value: percentile(r.scrapeMs, 99),
        min: percentile(r.scrapeMs, 50),
        max: max(r.scrapeMs),
        repetitions: r.scrapes,
      },
      note: `min is the median; ${r.scrapeFailures} scrapes failed or were not 200`,
    },
    {
      id: 'soak.rss',
      scenario: `Soak: monitor RSS (424k + 9.8k file VRPs, StayRTR, 1.27 M listed routes), highest sample`,
      unit: 'MB',
      better: 'lower',
      target: 1024,
      rovkit: {
        value: max(r.rssSamples) / 2 ** 20,
        min: Math.min(...r.rssSamples) / 2 ** 20,
        max: r.peakRssBytes / 2 ** 20,
        repetitions: r.rssSamples.length,
      },
      note: 'max is the kernel high-water mark (VmHWM), start-up included',
    },
    {
      id: 'soak.bmp.router',
      scenario: `Soak: a real BMP router's ${ROUTER_ROUTES} routes held, from connect (slowest of ${r.routerConnectMs.length})`,
      unit: 's',
      better: 'lower',
      target: 10,
      ...(r.routerConnectMs.length === 0
        ? {}
        : {
            rovkit: {
              value: max(r.routerConnectMs) / 1000,
              min: Math.min(...r.routerConnectMs) / 1000,
              max: max(r.routerConnectMs) / 1000,
              repetitions: r.routerConnectMs.length,
            },
          }),
      note: `${r.routerFailures} connections not held within 30 s`,
    },
    {
      id: 'soak.data.lost',
      scenario: `Soak: scrapes whose VRP (${r.vrps}) or route (${r.routes}) counts changed`,
      unit: 'scrapes',
      better: 'lower',
      target: 0,
      rovkit: { value: r.dataMismatches + (r.alive ? 0 : 1), repetitions: r.scrapes },
      note: `${r.alive ? 'monitor alive at the end' : 'MONITOR DIED'}; hostile answers: ${Object.entries(
        r.statuses,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    },
  ];
}

export const soakScenarios: ScenarioModule = {
  name: 'soak',
  async run(context: BenchContext) {
    const result = await runSoak({ quick: context.quick, routes: context.routes(), log: context.log });
    for (const row of soakMeasurements(result)) context.add(row);
    for (const note of result.notes) context.note(`Soak: ${note}`);
  },
};
