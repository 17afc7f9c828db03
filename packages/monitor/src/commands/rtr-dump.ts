// `rovkit rtr-dump --rtr HOST:PORT [--tls ...] [--version N] [--format json|csv] [--watch]`:
// syncs from an RTR cache and prints its VRPs, router keys and ASPA records; with
// --watch it stays connected and prints every change.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { formatPrefix, VrpTable, type VrpList } from '@rovkit/core';
import {
  parseCacheAddress,
  RtrClient,
  RTR_TLS_PORT,
  RTR_TCP_PORT,
  type AspaRecord,
  type CacheOption,
  type RouterKeyRecord,
  type RtrDelta,
  type RtrError,
} from '@rovkit/rtr-client';
import { CliUsageError, type Command } from './command.js';

const help = `usage: rovkit rtr-dump --rtr HOST:PORT [options]

Connects to an RPKI-to-Router cache, syncs, prints the VRPs and exits. With --watch it
stays connected and prints every change as it is applied.

Output:
  json  rpki-client JSON: {"metadata": ..., "roas": [{"asn", "prefix", "maxLength"}],
        "bgpsec_keys": [...], "aspas": [...]} (ASPA records of the 8210bis-10 layout,
        as StayRTR 0.5 sends them, under "provider_authorizations": {"ipv4", "ipv6"})
  csv   ASN,IP Prefix,Max Length,Trust Anchor (the trust anchor is not carried by RTR)
  With --watch, after the full set: one line per change, JSON objects
  {"serial", "session_id", "announced": [...], "withdrawn": [...]} or CSV lines
  "+,AS64496,192.0.2.0/24,24" / "-,...".

options:
  --rtr HOST:PORT        cache; repeat for fallbacks in order of preference (port
                         default 323, or 324 with --tls; [v6addr]:port for IPv6)
  --tls                  RTR over TLS
  --ca FILE              CA certificate(s) to trust (PEM), with --tls
  --cert FILE            client certificate (PEM), with --tls
  --key FILE             client key (PEM), with --tls
  --servername NAME      TLS server name (SNI and certificate check)
  --insecure             accept any server certificate (testing only)
  --version N            highest RTR version to speak: 0, 1 or 2 (default 2)
  --format json|csv      output format (default json)
  --watch                keep printing changes until interrupted
  --timeout SECONDS      give up when no sync succeeded within (default 60; 0 = never)
  -h, --help             this help
`;

/** Collects output into large writes and respects backpressure (424k lines must not buffer in memory twice). */
class Output {
  readonly #stream: Writable;
  #buffer = '';

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  async line(text: string): Promise<void> {
    this.#buffer += `${text}\n`;
    if (this.#buffer.length >= 65_536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#buffer === '') return;
    const chunk = this.#buffer;
    this.#buffer = '';
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }
}

interface Roa {
  readonly asn: number;
  readonly prefix: string;
  readonly maxLength: number;
}

function roaAt(list: VrpList, i: number): Roa {
  return {
    asn: list.asn(i),
    prefix: formatPrefix(
      list.family(i),
      list.word(i, 0),
      list.word(i, 1),
      list.word(i, 2),
      list.word(i, 3),
      list.prefixLength(i),
    ),
    maxLength: list.maxLength(i),
  };
}

function roasOf(list: VrpList): Roa[] {
  const out: Roa[] = [];
  for (let i = 0; i < list.length; i++) out.push(roaAt(list, i));
  return out;
}

function csvLine(r: Roa, prefix = ''): string {
  return `${prefix}AS${r.asn},${r.prefix},${r.maxLength},`;
}

function keyJson(k: RouterKeyRecord): object {
  return { asn: k.asn, ski: k.ski, pubkey: k.spki };
}

/** ASPA records as rpki-client JSON: current layout under "aspas", the 8210bis-10 layout by AFI. */
function aspaJson(records: readonly AspaRecord[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const current = records.filter((a) => a.afiFlags === undefined);
  const legacy = records.filter((a) => a.afiFlags !== undefined);
  if (current.length > 0)
    out.aspas = current.map((a) => ({ customer_asid: a.customer, providers: a.providers }));
  if (legacy.length > 0) {
    const byAfi = (afi: number): object[] =>
      legacy
        .filter((a) => a.afiFlags === afi)
        .map((a) => ({ customer_asid: a.customer, providers: a.providers }));
    out.provider_authorizations = { ipv4: byAfi(0), ipv6: byAfi(1) };
  }
  return out;
}

/** What the first sync brought, taken synchronously so that no later delta slips in. */
interface Snapshot {
  readonly vrps: VrpList;
  readonly metadata: Record<string, unknown>;
  readonly routerKeys: readonly RouterKeyRecord[];
  readonly aspas: readonly AspaRecord[];
}

function snapshot(client: RtrClient): Snapshot {
  const table = client.table;
  return {
    // Columnar (typed arrays): 424k VRPs without an object each.
    vrps: table.diff(new VrpTable()).withdrawn,
    metadata: {
      buildtime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      generator: 'rovkit rtr-dump',
      cache: client.cache,
      session_id: client.sessionId,
      serial: client.serial,
      rtr_version: client.version,
      vrps: table.size,
      uniquevrps: table.size,
      bgpsec_pubkeys: client.routerKeys.length,
      aspas: client.aspas.length,
    },
    routerKeys: client.routerKeys,
    aspas: client.aspas,
  };
}

async function printFull(out: Output, snap: Snapshot, format: 'json' | 'csv'): Promise<void> {
  const all = snap.vrps;
  if (format === 'csv') {
    await out.line('ASN,IP Prefix,Max Length,Trust Anchor');
    for (let i = 0; i < all.length; i++) await out.line(csvLine(roaAt(all, i)));
    return out.flush();
  }
  // Written piecewise: one JSON.stringify of 424k objects would hold it all twice.
  await out.line(`{"metadata":${JSON.stringify(snap.metadata)},"roas":[`);
  for (let i = 0; i < all.length; i++) {
    const roa = JSON.stringify(roaAt(all, i));
    await out.line(i === 0 ? roa : `,${roa}`);
  }
  const rest = { bgpsec_keys: snap.routerKeys.map(keyJson), ...aspaJson(snap.aspas) };
  await out.line(`],${JSON.stringify(rest).slice(1)}`);
  return out.flush();
}

async function printDelta(out: Output, delta: RtrDelta, format: 'json' | 'csv'): Promise<void> {
  if (format === 'csv') {
    for (const r of roasOf(delta.withdrawn)) await out.line(csvLine(r, '-,'));
    for (const r of roasOf(delta.announced)) await out.line(csvLine(r, '+,'));
  } else {
    await out.line(
      JSON.stringify({
        reason: delta.reason,
        serial: delta.serial,
        session_id: delta.sessionId,
        cache: delta.cache,
        announced: roasOf(delta.announced),
        withdrawn: roasOf(delta.withdrawn),
        ...(delta.routerKeys.announced.length + delta.routerKeys.withdrawn.length > 0
          ? {
              bgpsec_keys: {
                announced: delta.routerKeys.announced.map(keyJson),
                withdrawn: delta.routerKeys.withdrawn.map(keyJson),
              },
            }
          : {}),
        ...(delta.aspa.announced.length + delta.aspa.withdrawn.length > 0
          ? { aspa: { announced: delta.aspa.announced, withdrawn: delta.aspa.withdrawn } }
          : {}),
      }),
    );
  }
  return out.flush();
}

export interface RtrDumpIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Ends --watch (SIGINT/SIGTERM in the CLI). */
  readonly signal?: AbortSignal;
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliUsageError(`${flag} ${path}: ${(error as Error).message}`);
  }
}

/** The command with its streams given: what the CLI runs and what the tests call. */
export async function rtrDump(argv: string[], io: RtrDumpIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        rtr: { type: 'string', multiple: true },
        tls: { type: 'boolean', default: false },
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        servername: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        version: { type: 'string', default: '2' },
        format: { type: 'string', default: 'json' },
        watch: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '60' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(help);
    return 0;
  }
  if (values.rtr === undefined || values.rtr.length === 0)
    throw new CliUsageError('--rtr HOST:PORT is required (see --help)');
  const format = values.format;
  if (format !== 'json' && format !== 'csv')
    throw new CliUsageError(`--format must be json or csv, not "${format}"`);
  if (!/^[012]$/.test(values.version))
    throw new CliUsageError(`--version must be 0, 1 or 2, not "${values.version}"`);
  const version = Number(values.version) as 0 | 1 | 2;
  if (!/^\d+(\.\d+)?$/.test(values.timeout))
    throw new CliUsageError(`--timeout must be seconds, not "${values.timeout}"`);
  const timeout = Number(values.timeout) * 1000;
  if (!values.tls && (values.ca ?? values.cert ?? values.key ?? values.servername) !== undefined)
    throw new CliUsageError('--ca, --cert, --key and --servername need --tls');
  if ((values.cert === undefined) !== (values.key === undefined))
    throw new CliUsageError('--cert and --key go together');
  const ca = values.ca === undefined ? undefined : readPem(values.ca, '--ca');
  const cert = values.cert === undefined ? undefined : readPem(values.cert, '--cert');
  const key = values.key === undefined ? undefined : readPem(values.key, '--key');
  let caches: CacheOption[];
  try {
    caches = values.rtr.map((text): CacheOption => {
      const { host, port } = parseCacheAddress(text, values.tls ? RTR_TLS_PORT : RTR_TCP_PORT);
      return values.tls
        ? {
            tls: true,
            host,
            port,
            ca,
            cert,
            key,
            servername: values.servername,
            rejectUnauthorized: !values.insecure,
          }
        : { host, port };
    });
  } catch (error) {
    throw new CliUsageError(`--rtr: ${(error as Error).message}`);
  }

  const client = new RtrClient({ caches, version });
  const out = new Output(io.stdout);
  let lastError: RtrError | undefined;
  client.on('error', (error, cache) => {
    lastError = error;
    io.stderr.write(`rovkit rtr-dump: ${cache ?? ''}: ${error.code}: ${error.message}\n`);
  });
  client.on('warning', (w) => io.stderr.write(`rovkit rtr-dump: ${w.cache ?? ''}: warning: ${w.message}\n`));
  let printing: Promise<void> = Promise.resolve();
  let initialDone = false;
  if (values.watch)
    client.on('delta', (delta) => {
      if (!initialDone) return;
      printing = printing.then(() => printDelta(out, delta, format));
    });

  client.start();
  try {
    const synced = await Promise.race([
      client.whenSynced().then(() => true),
      ...(timeout > 0 ? [new Promise<false>((r) => setTimeout(() => r(false), timeout).unref())] : []),
      ...(io.signal === undefined ? [] : [once(io.signal, 'abort').then(() => false)]),
    ]);
    if (!synced) {
      if (io.signal?.aborted) return 130;
      io.stderr.write(
        `rovkit rtr-dump: no sync within ${values.timeout} s${lastError === undefined ? '' : ` (last error: ${lastError.message})`}\n`,
      );
      return 1;
    }
    const snap = snapshot(client);
    initialDone = true;
    printing = printing.then(() => printFull(out, snap, format));
    if (values.watch && io.signal !== undefined && !io.signal.aborted) await once(io.signal, 'abort');
    await printing;
    return 0;
  } finally {
    await client.close();
    await out.flush();
  }
}

export const rtrDumpCommand: Command = {
  async run(argv) {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      return await rtrDump(argv, {
        stdout: process.stdout,
        stderr: process.stderr,
        signal: controller.signal,
      });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
