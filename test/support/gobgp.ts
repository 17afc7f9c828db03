// Runs Debian's gobgpd for interop tests: a temporary TOML config, every listener on
// 127.0.0.1 (BGP through global port/local-address-list, gRPC through --api-hosts,
// pprof disabled), ports chosen at run time, and stop() kills the process and removes
// its directory. The `gobgp` CLI talks to it through its API port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A TCP port that was free a moment ago (bound on 127.0.0.1 port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface GobgpdPorts {
  /** BGP listening port (global.config.port). */
  bgp: number;
  /** gRPC API port (--api-hosts). */
  api: number;
}

export class Gobgpd {
  readonly name: string;
  readonly ports: GobgpdPorts;
  readonly dir: string;
  readonly #process: ChildProcess;
  #exited: Promise<unknown>;

  private constructor(name: string, ports: GobgpdPorts, dir: string, child: ChildProcess) {
    this.name = name;
    this.ports = ports;
    this.dir = dir;
    this.#process = child;
    this.#exited = once(child, 'exit');
  }

  /**
   * Starts gobgpd with the TOML that `config` returns for its ports, and waits until its
   * API answers. The config must set `port` and `local-address-list = ["127.0.0.1"]` in
   * [global.config] from the ports given (see `globalConfig`).
   */
  static async start(name: string, config: (ports: GobgpdPorts) => string): Promise<Gobgpd> {
    const ports = { bgp: await freePort(), api: await freePort() };
    const dir = mkdtempSync(join(tmpdir(), `rovkit-gobgpd-${name}-`));
    const file = join(dir, 'gobgpd.toml');
    writeFileSync(file, config(ports));
    const log = join(dir, 'gobgpd.log');
    const out = openSync(log, 'w');
    const child = spawn(
      'gobgpd',
      [
        '-f',
        file,
        '-t',
        'toml',
        `--api-hosts=127.0.0.1:${ports.api}`,
        '--pprof-disable',
        '-p',
        '-l',
        'debug',
      ],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    const daemon = new Gobgpd(name, ports, dir, child);
    try {
      await daemon.#waitForApi();
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  /** The daemon's log so far (for failure messages). */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'gobgpd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async #waitForApi(): Promise<void> {
    let last: unknown;
    for (let i = 0; i < 100; i++) {
      if (this.#process.exitCode !== null) throw new Error(`gobgpd ${this.name} exited: ${this.log()}`);
      try {
        await this.cli('global');
        return;
      } catch (error) {
        last = error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`gobgpd ${this.name} API did not answer: ${String(last)}\n${this.log()}`);
  }

  /** Runs `gobgp <args>` against this daemon; resolves with stdout. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('gobgp', ['-u', '127.0.0.1', '-p', String(this.ports.api), ...args], {
      timeout: 10_000,
    });
    return stdout;
  }

  /** Runs `gobgp -j <args>` and parses the JSON. */
  async json<T>(...args: string[]): Promise<T> {
    return JSON.parse(await this.cli('-j', ...args)) as T;
  }

  /** Kills the daemon (SIGTERM, then SIGKILL after 3 s) and removes its directory. */
  async stop(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.kill('SIGTERM');
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 3000);
      await this.#exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The [global.config] block binding BGP to 127.0.0.1 on the daemon's port. */
export function globalConfig(asn: number, routerId: string, ports: GobgpdPorts): string {
  return `[global.config]
  as = ${asn}
  router-id = "${routerId}"
  port = ${ports.bgp}
  local-address-list = ["127.0.0.1"]
`;
}

/** The `[[bmp-servers]]` block that points GoBGP at a BMP listener on 127.0.0.1:`port`. */
export function bmpServerConfig(port: number, routeMonitoringPolicy: 'local-rib' | 'all'): string {
  return `[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = ${port}
    route-monitoring-policy = "${routeMonitoringPolicy}"
`;
}

/** A path in `gobgp -j global rib` / `neighbor X adj-in` output. */
export interface GobgpPath {
  nlri: { prefix: string };
  best?: boolean;
  'neighbor-ip'?: string;
  attrs: Array<{ type: number; as_paths?: Array<{ segment_type: number; asns: number[] }> }>;
}

/** RFC 6811 origin of a GoBGP JSON path: last AS of a final AS_SEQUENCE, "none" for AS_SET, `local` when empty. */
export function gobgpOrigin(path: GobgpPath, local: number): string {
  const segments = path.attrs.find((a) => a.type === 2)?.as_paths ?? [];
  const last = segments.at(-1);
  if (last === undefined || last.segment_type > 2) return String(local);
  if (last.segment_type === 1) return 'none';
  return String(last.asns.at(-1));
}
