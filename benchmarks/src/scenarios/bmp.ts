// A router sending its full table over BMP (issue 6's target: the 1.27 M real routes
// ingested and validated within 5 s, memory reported). The monitor side runs in a child
// process of its own (so that its RSS is the monitor's): an Engine holding the 424k-VRP
// file, and the BmpRouteSource listening on 127.0.0.1. This process is the router: it
// encodes every route as BMP Route Monitoring (pre-policy, one peer, prefixes with the
// same origin packed into one UPDATE of at most 4 KiB, as BGP speakers pack prefixes that
// share attributes), then writes the stream to the socket as fast as the monitor reads.
// The clock runs in the child from the router's connection to the End-of-RIB marker that
// ends the stream: every route before it has been parsed, stored in the peer's RIB,
// counted, handed to the engine and validated by then.
// Run as `node bmp.js --child`, this file is the measured program and prints JSON.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  Alerter,
  analyseBmp,
  analyseFallback,
  BmpRouteSource,
  Engine,
  JsonLogger,
  RouteClassifier,
  VrpFileSource,
  type Logger,
} from '@rovkit/monitor';
import { dataFiles, loadRealRoutes, type RouteSet } from '../datasets.js';
import { figure, type Measurement } from '../report.js';
import type { BenchContext, ScenarioModule } from '../run.js';
import { collectGarbage, now, sampleMemory, summarize } from '../stats.js';

const PEER_AS = 64500;
const MAX_UPDATE = 4096;

export interface BmpBenchResult {
  readonly routesSent: number;
  readonly messages: number;
  readonly streamBytes: number;
  /** Routes the engine holds at the end (distinct prefix and origin). */
  readonly routes: number;
  readonly vrps: number;
  /** ms from the router's connection to the End-of-RIB (all routes in and validated). */
  readonly ingestMs: number;
  /** ms of the debounced analyses at this scale (run once after the ingest). */
  readonly fallbackMs: number;
  readonly bmpAnalysisMs: number;
  readonly addressSpaceMs: number;
  /** Highest RSS sampled during the ingest, and RSS after a full GC at the end (bytes). */
  readonly peakRssBytes: number;
  /** RSS with the VRPs loaded and the listener up, before the router connects (bytes). */
  readonly rssBeforeBytes: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly counts: Readonly<Record<string, number>>;
}

// ------------------------------------------------------------- the router

/** The whole BMP stream: Initiation, Peer Up, Route Monitoring, End-of-RIB (v4, v6). */
export function encodeStream(routes: RouteSet): { stream: Buffer; messages: number } {
  const parts: Buffer[] = [];
  let messages = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    messages++;
  };
  push(bmp(4, Buffer.concat([tlv(2, Buffer.from('bench-router')), tlv(1, Buffer.from('rovkit bench'))])));
  const open = bgpOpen(PEER_AS);
  push(
    bmp(
      3,
      Buffer.concat([perPeer(), Buffer.alloc(16), Buffer.from([0, 179, 0x9c, 0x40]), bgpOpen(64999), open]),
    ),
  );
  // One scratch buffer per UPDATE; messages are copied out when full.
  const nlri = Buffer.alloc(MAX_UPDATE);
  const flush = (family: 4 | 6, origin: number, isSet: boolean, used: number): void => {
    if (used === 0) return;
    push(routeMonitoring(update(family, origin, isSet, nlri.subarray(0, used))));
  };
  const { v4, v6 } = routes;
  let used = 0;
  let origin = -1;
  let isSet = false;
  for (let i = 0; i < v4.count; i++) {
    const o = v4.origin[i]!;
    const s = v4.originIsSet[i] === 1;
    if (o !== origin || s !== isSet || used + 5 > MAX_UPDATE - 128) {
      flush(4, origin, isSet, used);
      used = 0;
      origin = o;
      isSet = s;
    }
    const length = v4.length[i]!;
    nlri[used++] = length;
    const a = v4.addr[i]!;
    for (let b = 0; b < (length + 7) >> 3; b++) nlri[used++] = (a >>> (24 - 8 * b)) & 255;
  }
  flush(4, origin, isSet, used);
  used = 0;
  origin = -1;
  for (let i = 0; i < v6.count; i++) {
    const o = v6.origin[i]!;
    const s = v6.originIsSet[i] === 1;
    if (o !== origin || s !== isSet || used + 17 > MAX_UPDATE - 128) {
      flush(6, origin, isSet, used);
      used = 0;
      origin = o;
      isSet = s;
    }
    const length = v6.length[i]!;
    nlri[used++] = length;
    for (let b = 0; b < (length + 7) >> 3; b++) {
      const w = v6.words[i * 4 + (b >> 2)]!;
      nlri[used++] = (w >>> (24 - 8 * (b & 3))) & 255;
    }
  }
  flush(6, origin, isSet, used);
  // End-of-RIB (RFC 4724): an empty UPDATE for IPv4, an empty MP_UNREACH for IPv6.
  push(routeMonitoring(bgp(2, Buffer.from([0, 0, 0, 0]))));
  const eor6 = Buffer.from([0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1]);
  push(routeMonitoring(bgp(2, eor6)));
  return { stream: Buffer.concat(parts), messages };
}

function bmp(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head[0] = 3;
  head.writeUInt32BE(6 + body.length, 1);
  head[5] = type;
  return Buffer.concat([head, body]);
}

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

// Peer type 0 (global), no flags (IPv4 peer, 4-byte AS_PATH, pre-policy), 192.0.2.1.
const PER_PEER = ((): Buffer => {
  const b = Buffer.alloc(42);
  b.writeUInt32BE(0xc0000201, 22);
  b.writeUInt32BE(PEER_AS, 26);
  b.writeUInt32BE(0xc0000201, 30);
  b.writeUInt32BE(1_700_000_000, 34);
  return b;
})();

function perPeer(): Buffer {
  return PER_PEER;
}

function routeMonitoring(message: Buffer): Buffer {
  return bmp(0, Buffer.concat([PER_PEER, message]));
}

function bgp(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + body.length, 16);
  head[18] = type;
  return Buffer.concat([head, body]);
}

function bgpOpen(asn: number): Buffer {
  // Capabilities: 4-byte AS (65), multiprotocol IPv4 and IPv6 unicast (1).
  const caps = Buffer.from([
    2, 6, 65, 4, (asn >>> 24) & 255, (asn >>> 16) & 255, (asn >>> 8) & 255, asn & 255,
    2, 6, 1, 4, 0, 1, 0, 1,
    2, 6, 1, 4, 0, 2, 0, 1,
  ]); // prettier-ignore
  const body = Buffer.alloc(10);
  body[0] = 4;
  body.writeUInt16BE(asn > 0xffff ? 23456 : asn, 1);
  body.writeUInt16BE(90, 3);
  body.writeUInt32BE(0xc0000201, 5);
  body[9] = caps.length;
  return bgp(1, Buffer.concat([body, caps]));
}

function attribute(flags: number, type: number, value: Buffer): Buffer {
  const extended = value.length > 255;
  const head = Buffer.alloc(extended ? 4 : 3);
  head[0] = flags | (extended ? 0x10 : 0);
  head[1] = type;
  if (extended) head.writeUInt16BE(value.length, 2);
  else head[2] = value.length;
  return Buffer.concat([head, value]);
}

function update(family: 4 | 6, origin: number, isSet: boolean, nlri: Buffer): Buffer {
  // AS_PATH: the peer, then the origin (an AS_SET segment for a set origin).
  const path = Buffer.alloc(isSet ? 12 : 10);
  path[0] = 2;
  path[1] = isSet ? 1 : 2;
  path.writeUInt32BE(PEER_AS, 2);
  if (isSet) {
    path[6] = 1;
    path[7] = 1;
    path.writeUInt32BE(origin, 8);
  } else path.writeUInt32BE(origin, 6);
  const attrs = [attribute(0x40, 1, Buffer.from([0])), attribute(0x40, 2, path)];
  if (family === 4) {
    attrs.push(attribute(0x40, 3, Buffer.from([192, 0, 2, 1])));
  } else {
    const nh = Buffer.alloc(16);
    nh.writeUInt32BE(0x20010db8, 0);
    nh[15] = 1;
    attrs.push(attribute(0x80, 14, Buffer.concat([Buffer.from([0, 2, 1, 16]), nh, Buffer.from([0]), nlri])));
  }
  const a = Buffer.concat(attrs);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(a.length, 2);
  return bgp(2, Buffer.concat(family === 4 ? [head, a, nlri] : [head, a]));
}

// -------------------------------------------------------------- the monitor

const quiet: Logger = { log: () => undefined };

async function child(): Promise<BmpBenchResult> {
  const expected = Number(process.argv[process.argv.indexOf('--child') + 1]);
  const engine = new Engine({ capacity: expected + 1024 });
  const alerts = new Alerter({ log: new JsonLogger({ write: () => undefined }) });
  const file = new VrpFileSource({
    file: dataFiles.vrps424k,
    sink: engine,
    log: quiet,
    alerts,
    pollMs: 3_600_000,
  });
  await file.start();
  await file.stop();
  const source = new BmpRouteSource({
    host: '127.0.0.1',
    port: 0,
    sink: engine,
    log: quiet,
    classifier: new RouteClassifier('all', new Set(), 'bmp'),
  });
  let started = 0;
  let memory: ReturnType<typeof sampleMemory> | undefined;
  source.listener.once('routerUp', () => {
    started = now();
    memory = sampleMemory(50);
  });
  const done = new Promise<number>((resolve) =>
    source.listener.on('endOfRib', (_peer, _stage, afi) => {
      if (afi === 2) resolve(now());
    }),
  );
  await source.start();
  collectGarbage();
  const rssBeforeBytes = process.memoryUsage().rss;
  process.stdout.write(`${JSON.stringify({ port: source.listener.address!.port })}\n`);
  const ended = await done;
  const peaks = memory!.stop();
  const ingestMs = ended - started;

  let t = now();
  const fallback = analyseFallback(engine.store);
  const fallbackMs = now() - t;
  t = now();
  analyseBmp(source.listener.routers.values(), engine.table, Date.now());
  const bmpAnalysisMs = now() - t;
  t = now();
  engine.addressSpace();
  const addressSpaceMs = now() - t;
  collectGarbage();
  const m = process.memoryUsage();
  const counts: Record<string, number> = {};
  for (const state of ['valid', 'invalid', 'not_found'] as const) counts[state] = engine.countOf(state);
  counts.invalid_fallback_none = fallback.routes[2]! + fallback.routes[5]!;
  const result = {
    routesSent: expected,
    messages: 0,
    streamBytes: 0,
    routes: engine.store.size,
    vrps: engine.table.size,
    ingestMs,
    fallbackMs,
    bmpAnalysisMs,
    addressSpaceMs,
    peakRssBytes: peaks.peakRss,
    rssBeforeBytes,
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    counts,
  };
  await source.stop();
  return result;
}

/** Starts the monitor child, sends it the full table as a router would, returns its figures. */
export async function measureBmp(routes: RouteSet = loadRealRoutes()): Promise<BmpBenchResult> {
  const { stream, messages } = encodeStream(routes);
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(
    process.execPath,
    ['--max-old-space-size=4096', script, '--child', String(routes.count)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const lines = createInterface({ input: proc.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) throw new Error(`BMP benchmark child exited with ${await exited}`);
  const { port } = JSON.parse(first.value as string) as { port: number };
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  // One write: Node hands the socket as much as the monitor reads, as a router's TCP would.
  socket.end(stream);
  const last = await iterator.next();
  socket.destroy();
  const code = await exited;
  if (last.done === true || code !== 0) throw new Error(`BMP benchmark child exited with ${code}`);
  const result = JSON.parse(last.value as string) as BmpBenchResult;
  return { ...result, messages, streamBytes: stream.length };
}

const MB = 1024 * 1024;

export const bmpScenarios: ScenarioModule = {
  name: 'bmp',
  async run(context: BenchContext): Promise<void> {
    context.log('bmp: a router sends 1.27 M real routes over BMP to the monitor (child process)');
    const r = await measureBmp(context.routes());
    const one = (value: number): Measurement['rovkit'] => figure(summarize([value]), 'ms');
    context.add({
      id: 'bmp.full-table',
      scenario: `BMP: full table (${r.routesSent} routes, ${r.messages} messages) ingested and validated`,
      unit: 'ms',
      better: 'lower',
      rovkit: one(r.ingestMs),
      target: 5000,
    });
    context.add({
      id: 'bmp.rss',
      scenario: `BMP: resident memory after the full table (${r.routes} routes + ${r.vrps} VRPs)`,
      unit: 'MB',
      better: 'lower',
      rovkit: { value: r.rssBytes / MB, repetitions: 1 },
    });
    context.note(
      `BMP: ${Math.round(r.streamBytes / MB)} MB of BMP; RSS before the router connects (VRPs loaded) ${Math.round(r.rssBeforeBytes / MB)} MB; peak RSS during the ingest ${Math.round(r.peakRssBytes / MB)} MB; after it, fallback analysis ${Math.round(r.fallbackMs)} ms, ROV-enforcement analysis ${Math.round(r.bmpAnalysisMs)} ms, address space ${Math.round(r.addressSpaceMs)} ms (all off the scrape path); ${r.counts.invalid} Invalid routes, ${r.counts.invalid_fallback_none} of them with no fallback.`,
    );
  },
};

if (
  process.argv.includes('--child') &&
  realpathSync(process.argv[1]!) === realpathSync(fileURLToPath(import.meta.url))
) {
  child().then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
