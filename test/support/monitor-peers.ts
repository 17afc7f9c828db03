// Real peers for the monitor's end-to-end tests: StayRTR serving a VRP JSON, a Prometheus
// of our own scraping the monitor, headless Chromium rendering the status page, and a
// webhook receiver. Everything binds 127.0.0.1 on a port picked at run time and is
// stopped by the test that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface RoaJson {
  asn: number | string;
  prefix: string;
  maxLength: number;
  ta?: string;
  expires?: number;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The `roas` of a Routinator or rpki-client JSON file (gzip transparently). */
export async function readRoas(path: string): Promise<RoaJson[]> {
  const raw = await readFile(path);
  const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  return (JSON.parse(text) as { roas: RoaJson[] }).roas;
}

/** Waits until `check` returns a value other than undefined, polling. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

class Child {
  log = '';
  readonly #child: ChildProcess;

  constructor(command: string, args: string[]) {
    this.#child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onLog = (chunk: Buffer): void => {
      this.log += chunk.toString();
    };
    this.#child.stdout!.on('data', onLog);
    this.#child.stderr!.on('data', onLog);
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** StayRTR on 127.0.0.1, serving a JSON file without `expires` (it drops expired VRPs). */
export class StayRtrPeer {
  readonly port: number;
  readonly #dir: string;
  readonly #child: Child;

  private constructor(dir: string, port: number, child: Child) {
    this.#dir = dir;
    this.port = port;
    this.#child = child;
  }

  /** TLS port when started with `tls`. */
  tlsPort: number | undefined;

  /**
   * Starts on `port` (e.g. one a client is already retrying), or a free one; with `tls`,
   * also serves RTR over TLS with that PEM certificate and key on `tlsPort`.
   */
  static async start(
    roas: RoaJson[],
    port?: number,
    tls?: { cert: string; key: string },
  ): Promise<StayRtrPeer> {
    const dir = await mkdtemp(join(tmpdir(), 'rovkit-monitor-stayrtr-'));
    const file = join(dir, 'vrps.json');
    await writeFile(file, servable(roas));
    port ??= await freePort();
    const tlsPort = tls === undefined ? undefined : await freePort();
    const tlsArgs =
      tls === undefined
        ? []
        : ['-tls.bind', `127.0.0.1:${tlsPort}`, '-tls.cert', tls.cert, '-tls.key', tls.key];
    const child = new Child('stayrtr', [
      '-bind',
      `127.0.0.1:${port}`,
      '-cache',
      file,
      '-checktime=false',
      '-metrics.addr',
      '127.0.0.1:0',
      '-refresh',
      '1',
      ...tlsArgs,
    ]);
    const peer = new StayRtrPeer(dir, port, child);
    peer.tlsPort = tlsPort;
    await until('StayRTR to start', () => {
      if (child.exited) throw new Error(`stayrtr exited: ${child.log}`);
      return /StayRTR Server started/.test(child.log) ? true : undefined;
    });
    return peer;
  }

  get log(): string {
    return this.#child.log;
  }

  /** Serves new data (StayRTR re-reads the file every second and notifies its clients). */
  async serve(roas: RoaJson[]): Promise<void> {
    const file = join(this.#dir, 'vrps.json');
    await writeFile(`${file}.tmp`, servable(roas));
    await import('node:fs/promises').then((fs) => fs.rename(`${file}.tmp`, file));
  }

  async stop(): Promise<void> {
    await this.#child.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

function servable(roas: RoaJson[]): string {
  return JSON.stringify({
    metadata: { buildtime: '2024-01-01T05:03:25Z' },
    roas: roas.map(({ asn, prefix, maxLength, ta }) => ({
      asn,
      prefix,
      maxLength,
      ...(ta === undefined ? {} : { ta }),
    })),
  });
}

/** A Prometheus of our own (temp config and storage), scraping `target` every second. */
export class PrometheusPeer {
  readonly port: number;
  readonly #dir: string;
  readonly #child: Child;

  private constructor(dir: string, port: number, child: Child) {
    this.#dir = dir;
    this.port = port;
    this.#child = child;
  }

  static async start(target: string): Promise<PrometheusPeer> {
    const dir = await mkdtemp(join(tmpdir(), 'rovkit-monitor-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: rovkit',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const child = new Child('prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
    const peer = new PrometheusPeer(dir, port, child);
    await until(
      'Prometheus to be ready',
      async () => {
        if (child.exited) throw new Error(`prometheus exited: ${child.log}`);
        const res = await fetch(`http://127.0.0.1:${port}/-/ready`);
        return res.ok ? true : undefined;
      },
      30_000,
    );
    return peer;
  }

  get log(): string {
    return this.#child.log;
  }

  /** An instant PromQL query; the result vector as label sets with numeric values. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async stop(): Promise<void> {
    await this.#child.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Headless Chromium: the DOM after load (--dump-dom), or a screenshot file. */
export async function chromium(
  url: string,
  mode: { dumpDom: true } | { screenshot: string },
  windowSize = '1280,1600',
): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'rovkit-monitor-chromium-'));
  try {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      `--window-size=${windowSize}`,
      'dumpDom' in mode ? '--dump-dom' : `--screenshot=${mode.screenshot}`,
      url,
    ];
    const child = spawn('chromium', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    if (code !== 0) throw new Error(`chromium exited with ${code}: ${err.slice(-2000)}`);
    return out;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** An HTTP server on 127.0.0.1 collecting the JSON bodies POSTed to it. */
export class WebhookReceiver {
  readonly bodies: Record<string, unknown>[] = [];
  readonly #server: Server;
  port = 0;

  constructor() {
    this.#server = createHttpServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        this.bodies.push(JSON.parse(text) as Record<string, unknown>);
        res.statusCode = 204;
        res.end();
      });
    });
  }

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/alerts`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
