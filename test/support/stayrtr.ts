// Starts and stops a StayRTR on 127.0.0.1 with a free port, serving a JSON file.
// StayRTR drops every VRP (and ASPA) whose `expires` lies in the past, even with
// -checktime=false, so the file served is a copy without `expires`, in a temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The VRP-file shapes StayRTR 0.5 reads (rpki-client and Routinator JSON). */
export interface VrpJson {
  metadata?: Record<string, unknown>;
  roas: { asn: number | string; prefix: string; maxLength: number; ta?: string; expires?: number }[];
  provider_authorizations?: { ipv4?: AspaJson[]; ipv6?: AspaJson[] };
  [key: string]: unknown;
}
interface AspaJson {
  customer_asid: number;
  providers: number[];
  expires?: number;
}

/** Reads a VRP JSON file (gzip transparently). */
export async function readVrpJson(path: string): Promise<VrpJson> {
  const raw = await readFile(path);
  const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  return JSON.parse(text) as VrpJson;
}

/** A copy StayRTR serves in full: no `expires`, and a metadata block it accepts. */
export function servable(json: VrpJson): VrpJson {
  const roas = json.roas.map(({ asn, prefix, maxLength, ta }) => ({
    asn,
    prefix,
    maxLength,
    ...(ta === undefined ? {} : { ta }),
  }));
  const out: VrpJson = { metadata: { buildtime: '2023-05-04T14:52:07Z', ...(json.metadata ?? {}) }, roas };
  if (Array.isArray(json.bgpsec_keys))
    out.bgpsec_keys = (json.bgpsec_keys as Record<string, unknown>[]).map(
      ({ expires: _expires, ...key }) => key,
    );
  const pa = json.provider_authorizations;
  if (pa !== undefined) {
    const strip = (list: AspaJson[] | undefined): AspaJson[] =>
      (list ?? []).map(({ customer_asid, providers }) => ({ customer_asid, providers }));
    out.provider_authorizations = { ipv4: strip(pa.ipv4), ipv6: strip(pa.ipv6) };
  }
  return out;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export interface StayRtrOptions {
  /** Data to serve (already servable or not: `expires` is removed either way). */
  readonly json: VrpJson;
  /** -protocol (default 2). */
  readonly protocol?: number;
  /** Seconds between re-reads of the file (-refresh, default 1). */
  readonly refresh?: number;
  /** Fixed port (e.g. to restart on the same one); a free one otherwise. */
  readonly port?: number;
  readonly args?: readonly string[];
}

export class StayRtr {
  readonly port: number;
  readonly address: string;
  readonly file: string;
  readonly #dir: string;
  readonly #options: StayRtrOptions;
  #child: ChildProcess | undefined;
  #log = '';
  #startedAt = 0;

  private constructor(dir: string, port: number, options: StayRtrOptions) {
    this.#dir = dir;
    this.port = port;
    this.address = `127.0.0.1:${port}`;
    this.file = join(dir, 'vrps.json');
    this.#options = options;
  }

  static async start(options: StayRtrOptions): Promise<StayRtr> {
    const dir = await mkdtemp(join(tmpdir(), 'rovkit-stayrtr-'));
    const s = new StayRtr(dir, options.port ?? (await freePort()), options);
    await writeFile(s.file, JSON.stringify(servable(options.json)));
    await s.#spawn();
    return s;
  }

  /** StayRTR's log so far. */
  get log(): string {
    return this.#log;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async #spawn(): Promise<void> {
    // StayRTR 0.5.1 derives its session id from the wall-clock second it starts in: two
    // starts within one second get the same session id (and serials restart at 0), which
    // no client can tell from a cache that kept its state. Restarts wait for a new second.
    const wait = this.#startedAt + 1100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.#startedAt = Date.now();
    this.#log = '';
    const args = [
      '-bind',
      this.address,
      '-cache',
      this.file,
      '-checktime=false',
      '-metrics.addr',
      '127.0.0.1:0',
      '-refresh',
      String(this.#options.refresh ?? 1),
      '-protocol',
      String(this.#options.protocol ?? 2),
      ...(this.#options.args ?? []),
    ];
    const child = spawn('stayrtr', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const onLog = (chunk: Buffer): void => {
      this.#log += chunk.toString();
    };
    child.stdout!.on('data', onLog);
    child.stderr!.on('data', onLog);
    await this.waitForLog(/StayRTR Server started/, 60_000);
  }

  #count(): number {
    return this.#log.split('new serial').length - 1;
  }

  /** Waits until the log matches `pattern`. */
  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    while (!pattern.test(this.#log)) {
      if (this.#child?.exitCode !== null && this.#child?.exitCode !== undefined)
        throw new Error(`stayrtr exited (${this.#child.exitCode}): ${this.#log.slice(-2000)}`);
      if (Date.now() - started > timeoutMs)
        throw new Error(`stayrtr log never matched ${pattern}: ${this.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Serves new data: rewrites the file and waits until StayRTR has a new serial. */
  async serve(json: VrpJson, timeoutMs = 60_000): Promise<void> {
    const before = this.#count();
    await writeFile(this.file, JSON.stringify(servable(json)));
    const started = Date.now();
    while (this.#count() <= before) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`stayrtr did not pick up the new file: ${this.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL, as a crash. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  /** Stops StayRTR (SIGTERM) and removes its files. */
  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
    await rm(this.#dir, { recursive: true, force: true });
  }

  /** Starts it again on the same port (a new session id), serving `json` when given. */
  async restart(json?: VrpJson): Promise<void> {
    await this.#signal('SIGTERM');
    if (json !== undefined) await writeFile(this.file, JSON.stringify(servable(json)));
    await this.#spawn();
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}
