// `rovkit monitor` at full-table scale (issue 5's targets): the 1.27 M real routes of
// ../shared/data against the 424k-VRP file, in a child process of its own so that its
// resident memory is the monitor's and not the rest of the bench run's:
// - initial validation of every route (one pass), target < 1 s;
// - resident memory with everything loaded, target < 300 MB;
// - a /metrics scrape over HTTP, target < 50 ms;
// - a 1,000-VRP delta applied and reflected in a scrape, target < 100 ms.
// Run as `node monitor.js --child`, this file is the measured program and prints JSON.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VrpList } from '@rovkit/core';
import {
  Alerter,
  createMetrics,
  Engine,
  HttpServer,
  JsonLogger,
  VrpFileSource,
  type Logger,
} from '@rovkit/monitor';
import { dataFiles, loadRealRoutes, workDir, type RouteSet } from '../datasets.js';
import { figure, type Measurement } from '../report.js';
import type { BenchContext, ScenarioModule } from '../run.js';
import { collectGarbage, median, now, summarize } from '../stats.js';

export interface MonitorBenchResult {
  readonly routes: number;
  readonly vrps: number;
  /** ms to announce every route into the store (trie insert + validation against no VRPs). */
  readonly routeLoadMs: number;
  /** ms to read the VRP file, apply it as the first full set and revalidate every route. */
  readonly vrpLoadMs: number;
  /** ms of one validation pass over every route (samples). */
  readonly initialValidationMs: readonly number[];
  /** ms to compute rovkit_address_space (samples; done off the scrape path). */
  readonly addressSpaceMs: readonly number[];
  /** ms per GET /metrics over HTTP (samples). */
  readonly scrapeMs: readonly number[];
  readonly scrapeBytes: number;
  /** ms from a 1,000-VRP delta handed to the engine to a scrape showing it (samples). */
  readonly deltaMs: readonly number[];
  /** Routes that changed state, per delta. */
  readonly deltaRouteChanges: readonly number[];
  /** RSS after a full GC with everything loaded (bytes); includes the benchmark's own route columns. */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Bytes of the typed arrays of the route store and the VRP tables. */
  readonly storeBytes: number;
  readonly counts: Readonly<Record<string, number>>;
}

const quiet: Logger = { log: () => undefined };

// The routes go to the child as raw columns in one file: parsing the text dumps in the
// child would leave their decompression buffers in its RSS, which a monitor fed by a route
// list or BMP never holds.
const routesFile = join(workDir, 'monitor-routes.bin');

function writeRoutes(routes: RouteSet): void {
  mkdirSync(workDir, { recursive: true });
  const { v4, v6 } = routes;
  // u32 columns first, so that every one lies 4-aligned in the file and the child maps
  // them without copying.
  const parts = [
    new Uint32Array([v4.count, v6.count]),
    v4.addr,
    v4.origin,
    v6.words,
    v6.origin,
    v4.length,
    v4.originIsSet,
    v6.length,
    v6.originIsSet,
  ];
  writeFileSync(
    `${routesFile}.tmp`,
    Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))),
  );
  renameSync(`${routesFile}.tmp`, routesFile);
}

function readRoutes(): RouteSet {
  const data = readFileSync(routesFile);
  // A file this large gets an ArrayBuffer of its own, at offset 0; check rather than assume.
  if (data.byteOffset % 4 !== 0) throw new Error('route columns are not 4-aligned');
  const buffer = data.buffer;
  let offset = data.byteOffset;
  const u32 = (n: number): Uint32Array => {
    const view = new Uint32Array(buffer, offset, n);
    offset += n * 4;
    return view;
  };
  const u8 = (n: number): Uint8Array => {
    const view = new Uint8Array(buffer, offset, n);
    offset += n;
    return view;
  };
  const [n4, n6] = u32(2) as unknown as [number, number];
  const addr = u32(n4);
  const origin4 = u32(n4);
  const words = u32(n6 * 4);
  const origin6 = u32(n6);
  const v4 = { addr, origin: origin4, length: u8(n4), originIsSet: u8(n4), count: n4 };
  const v6 = { words, origin: origin6, length: u8(n6), originIsSet: u8(n6), count: n6 };
  return { v4, v6, count: n4 + n6 };
}

/** The measured program: everything in this process, result as JSON on stdout. */
async function child(): Promise<MonitorBenchResult> {
  const routes = readRoutes();
  const engine = new Engine({ capacity: routes.count + 1024 });
  const alerts = new Alerter({ log: new JsonLogger({ write: () => undefined }) });
  let space: Float64Array = new Float64Array(0);
  const registry = createMetrics(
    { engine, addressSpace: () => space, rtrCaches: () => [] },
    { version: 'bench' },
  );
  const http = new HttpServer({ engine, registry, log: quiet, statusPage: () => '' });
  const address = await http.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${address.port}/metrics`;

  // Routes first: a route list or a BMP feed arrives while the VRPs load.
  const source = engine.registerSource('bench');
  const group = engine.groupId('own');
  let t = now();
  const { v4, v6 } = routes;
  for (let i = 0; i < v4.count; i++)
    engine.announce(
      source,
      4,
      v4.addr[i]!,
      0,
      0,
      0,
      v4.length[i]!,
      v4.origin[i]!,
      v4.originIsSet[i] === 1,
      group,
      -1,
    );
  for (let i = 0; i < v6.count; i++) {
    const b = i * 4;
    engine.announce(
      source,
      6,
      v6.words[b]!,
      v6.words[b + 1]!,
      v6.words[b + 2]!,
      v6.words[b + 3]!,
      v6.length[i]!,
      v6.origin[i]!,
      v6.originIsSet[i] === 1,
      group,
      -1,
    );
  }
  const routeLoadMs = now() - t;

  const file = new VrpFileSource({
    file: dataFiles.vrps424k,
    sink: engine,
    log: quiet,
    alerts,
    pollMs: 3_600_000,
  });
  t = now();
  await file.start();
  const vrpLoadMs = now() - t;
  await file.stop();

  const initialValidationMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = now();
    engine.revalidateAll();
    initialValidationMs.push(now() - t);
  }
  const addressSpaceMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = now();
    space = engine.addressSpace();
    addressSpaceMs.push(now() - t);
  }

  const scrape = async (): Promise<string> => {
    const res = await fetch(url);
    return res.text();
  };
  let text = await scrape();
  const scrapeMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    t = now();
    text = await scrape();
    scrapeMs.push(now() - t);
  }

  // Deltas of 1,000 VRPs: 500 withdrawn (spread over the table) and 500 announced (the same
  // prefixes for another AS), as an RTR Serial or a file reload would hand them over.
  const all = new VrpList(engine.table.size);
  engine.table.forEachVrp((family, w0, w1, w2, w3, length, maxLength, asn) => {
    if (family === 4) all.pushV4(w0, length, maxLength, asn);
    else all.pushV6(w0, w1, w2, w3, length, maxLength, asn);
  });
  const deltaMs: number[] = [];
  const deltaRouteChanges: number[] = [];
  const step = Math.floor(all.length / 500);
  for (let round = 0; round < 7; round++) {
    const withdrawn = new VrpList(500);
    const announced = new VrpList(500);
    for (let k = 0; k < 500; k++) {
      const i = (k * step + round * 7919) % all.length;
      const copy = (list: VrpList, asn: number): void => {
        if (all.family(i) === 4) list.pushV4(all.word(i, 0), all.prefixLength(i), all.maxLength(i), asn);
        else
          list.pushV6(
            all.word(i, 0),
            all.word(i, 1),
            all.word(i, 2),
            all.word(i, 3),
            all.prefixLength(i),
            all.maxLength(i),
            asn,
          );
      };
      copy(withdrawn, all.asn(i));
      copy(announced, (all.asn(i) + 1 + round) >>> 0);
    }
    const before = engine.stateChanges.reduce((a, b) => a + b, 0);
    t = now();
    applyAsFileReload(engine, withdrawn, announced);
    const after = await scrape();
    deltaMs.push(now() - t);
    if (after === text && round > 0) throw new Error('the scrape did not change after a delta');
    text = after;
    deltaRouteChanges.push(engine.stateChanges.reduce((a, b) => a + b, 0) - before);
    // ...and undo it, so that every round starts from the file's set.
    applyAsFileReload(engine, announced, withdrawn);
  }

  collectGarbage();
  const m = process.memoryUsage();
  await http.close();
  const counts: Record<string, number> = {};
  for (const state of ['valid', 'invalid', 'not_found'] as const) counts[state] = engine.countOf(state);
  return {
    routes: engine.store.size,
    vrps: engine.table.size,
    routeLoadMs,
    vrpLoadMs,
    initialValidationMs,
    addressSpaceMs,
    scrapeMs,
    scrapeBytes: Buffer.byteLength(text),
    deltaMs: deltaMs.slice(2),
    deltaRouteChanges: deltaRouteChanges.slice(2),
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    storeBytes: engine.store.byteLength + engine.table.byteLength + (file.table?.byteLength ?? 0),
    counts,
  };
}

// The file source (id 0) is the one whose set changes, as on a reload of the VRP file.
function applyAsFileReload(engine: Engine, withdrawn: VrpList, announced: VrpList): void {
  engine.applyVrps(0, announced, withdrawn, false);
}

/** Runs the measured program in a child process (its own RSS) and returns its figures. */
export async function measureMonitor(routes: RouteSet = loadRealRoutes()): Promise<MonitorBenchResult> {
  writeRoutes(routes);
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--max-old-space-size=4096', script, '--child'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  if (code !== 0) throw new Error(`monitor benchmark child exited with ${code}`);
  return JSON.parse(out) as MonitorBenchResult;
}

const MB = 1024 * 1024;

export const monitorScenarios: ScenarioModule = {
  name: 'monitor',
  async run(context: BenchContext): Promise<void> {
    context.log('monitor: 1.27 M real routes against the 424k-VRP file (child process)');
    const r = await measureMonitor(context.routes());
    const m = (id: string, scenario: string, samples: readonly number[], target: number): Measurement => ({
      id,
      scenario,
      unit: 'ms',
      better: 'lower',
      rovkit: figure(summarize(samples), 'ms'),
      target,
    });
    context.add(
      m(
        'monitor.initial-validation',
        `Monitor: validate ${r.routes} routes (one pass)`,
        r.initialValidationMs,
        1000,
      ),
    );
    context.add(m('monitor.scrape', `Monitor: GET /metrics at ${r.routes} routes`, r.scrapeMs, 50));
    context.add(m('monitor.delta-1000', 'Monitor: 1,000-VRP delta applied and scraped', r.deltaMs, 100));
    context.add({
      id: 'monitor.rss',
      scenario: `Monitor: resident memory, ${r.routes} routes + ${r.vrps} VRPs`,
      unit: 'MB',
      better: 'lower',
      rovkit: { value: r.rssBytes / MB, repetitions: 1 },
      target: 300,
    });
    context.note(
      `Monitor: route load ${Math.round(r.routeLoadMs)} ms, VRP file load and first validation ${Math.round(r.vrpLoadMs)} ms, address space ${Math.round(median(r.addressSpaceMs))} ms (off the scrape path), store ${Math.round(r.storeBytes / MB)} MB of typed arrays.`,
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
