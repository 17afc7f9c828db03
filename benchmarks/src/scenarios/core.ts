// @rovkit/core scenarios of `npm run bench` (issue 3's performance targets, issue 7's
// scenarios), side by side with rtrlib's pfx_table (C harness), rpki-validator@2.14.7 and the
// naive scan, on the real data of ../shared/data:
// - loading VRPs (JSON plain and gzip, CSV, snapshot plain and gzip) for the 424k file and
//   the scaled ~1 M and ~2 M sets, plus the memory the table holds per 100k VRPs;
// - validating every real route (string, numeric and batch paths; IPv4 and IPv6 apart),
//   random lookups, and the batch path against the scaled sets;
// - deltas of 10 … 100,000 VRPs on the 424k table;
// - instructions per validation under callgrind (full runs, when valgrind is installed).
// Run as `node core.js --callgrind-child SNAPSHOT ROUTES PASSES`, this file is also the
// small program that callgrind measures.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip, createGzip } from 'node:zlib';

import {
  decodeSnapshot,
  loadSnapshot,
  loadVrpFile,
  saveSnapshot,
  ValidationCode,
  VrpList,
  VrpTable,
} from '@rovkit/core';

import {
  dataFiles,
  formatV4,
  formatV6,
  pickRoutes,
  readVrpFile,
  repoRoot,
  routeOrigin,
  scaledVrpFile,
  workDir,
  type RouteSet,
  type VrpSet,
} from '../datasets.js';
import { figure, type Figure, type Measurement } from '../report.js';
import { NaiveRov } from '../peers/naive.js';
import { benchRpkiValidator, type RpkiValidatorRun } from '../peers/rpki-validator.js';
import { buildRtrlibHarness, encodeRoutes, encodeVrps, runRtrlib, type RtrlibRun } from '../peers/rtrlib.js';
import type { BenchContext, ScenarioModule } from '../run.js';
import { collectGarbage, measure, measureAsync, memory, now, summarize, type Summary } from '../stats.js';

// ---------------------------------------------------------------- plan

interface Plan {
  /** VRP sets whose loading is measured: 424k always, scaled ones in full runs. */
  readonly scaled: readonly number[];
  readonly loadReps: number;
  readonly loadRepsScaled: number;
  readonly validateReps: number;
  readonly rtrlibRuns: number;
  readonly rpkiValidatorLoads: number;
  readonly rpkiValidatorPromiseReps: number;
  readonly naiveSample: number;
  readonly randomRoutes: number;
  /** Timed deltas per size. */
  readonly deltaReps: Readonly<Record<number, number>>;
  readonly callgrind: boolean;
}

const FULL: Plan = {
  scaled: [1_000_000, 2_000_000],
  loadReps: 7,
  loadRepsScaled: 3,
  validateReps: 7,
  rtrlibRuns: 3,
  rpkiValidatorLoads: 3,
  rpkiValidatorPromiseReps: 3,
  naiveSample: 2_000,
  randomRoutes: 1_000_000,
  deltaReps: { 10: 201, 1_000: 51, 10_000: 21, 100_000: 7 },
  callgrind: true,
};

const QUICK: Plan = {
  scaled: [],
  loadReps: 3,
  loadRepsScaled: 1,
  validateReps: 3,
  rtrlibRuns: 1,
  rpkiValidatorLoads: 1,
  rpkiValidatorPromiseReps: 1,
  naiveSample: 300,
  randomRoutes: 200_000,
  deltaReps: { 10: 21, 1_000: 11, 10_000: 7, 100_000: 3 },
  callgrind: false,
};

const DELTA_SIZES = [10, 1_000, 10_000, 100_000] as const;
const CALLGRIND_ROUTES = 200_000;

const RTRLIB = 'rtrlib pfx_table';
const RV_SYNC = 'rpki-validator sync';
const RV_PROMISE = 'rpki-validator Promise';
const NAIVE = 'naive scan';

/** Defeats dead-code elimination of timed loops; logged at the end. */
let sink = 0;

// ---------------------------------------------------------------- derived files

interface SetFiles {
  /** "424k", "1.0 M", "2.0 M". */
  readonly label: string;
  readonly key: string;
  readonly plainJson: string;
  readonly gzJson: string;
  /** CSV and snapshots are written from a loaded table (see ensureCsv, writeSnapshots). */
  readonly csv: string;
  readonly snapshot: string;
  readonly snapshotGz: string;
}

function stemOf(path: string): string {
  return basename(path)
    .replace(/\.gz$/, '')
    .replace(/\.json$/, '');
}

function setFiles(label: string, key: string, plainJson: string, gzJson: string): SetFiles {
  const stem = stemOf(plainJson);
  return {
    label,
    key,
    plainJson,
    gzJson,
    csv: join(workDir, `${stem}.csv`),
    snapshot: join(workDir, `${stem}.rovkit-snapshot`),
    snapshotGz: join(workDir, `${stem}.rovkit-snapshot.gz`),
  };
}

async function streamTo(path: string, transform: 'gzip' | 'gunzip', source: string): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(workDir, { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  await pipeline(
    createReadStream(source),
    transform === 'gzip' ? createGzip({ level: 6 }) : createGunzip(),
    createWriteStream(temporary),
  );
  renameSync(temporary, path);
}

/** The files of the 424k set and of each scaled set, created in benchmarks/.work once. */
async function prepareSets(plan: Plan, context: BenchContext): Promise<SetFiles[]> {
  const plain424k = join(workDir, `${stemOf(dataFiles.vrps424k)}.json`);
  await streamTo(plain424k, 'gunzip', dataFiles.vrps424k);
  const sets = [setFiles('424k', '424k', plain424k, dataFiles.vrps424k)];
  for (const target of plan.scaled) {
    context.log(`preparing the scaled set of ${target} VRPs`);
    const plain = scaledVrpFile(target);
    const gz = `${plain}.gz`;
    await streamTo(gz, 'gzip', plain);
    const label = `${(target / 1e6).toFixed(1)} M`;
    sets.push(setFiles(label, `${target / 1e6}M`, plain, gz));
  }
  return sets;
}

/** Routinator-style CSV of the table (`ASN,IP Prefix,Max Length,Trust Anchor`), once. */
function ensureCsv(table: VrpTable, path: string): void {
  if (existsSync(path)) return;
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    const words = new Uint32Array(4);
    let lines: string[] = ['ASN,IP Prefix,Max Length,Trust Anchor'];
    table.forEachVrp((family, w0, w1, w2, w3, length, maxLength, asn, ta) => {
      let prefix: string;
      if (family === 4) prefix = formatV4(w0, length);
      else {
        words[0] = w0;
        words[1] = w1;
        words[2] = w2;
        words[3] = w3;
        prefix = formatV6(words, 0, length);
      }
      lines.push(`AS${asn},${prefix},${maxLength},${ta ?? 'unknown'}`);
      if (lines.length >= 65536) {
        writeSync(fd, `${lines.join('\n')}\n`);
        lines = [];
      }
    });
    writeSync(fd, `${lines.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

// ---------------------------------------------------------------- helpers

function mb(bytes: number): number {
  return bytes / 1e6;
}

/** Median of numbers (for memory samples). */
function mid(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function perHundredK(bytes: number, vrps: number): number {
  return mb(bytes) / (vrps / 100_000);
}

/** A Figure from one or more plain values (memory, instruction counts). */
function valueFigure(values: readonly number[], extra: Partial<Figure> = {}): Figure {
  return {
    value: mid(values),
    min: Math.min(...values),
    max: Math.max(...values),
    repetitions: values.length,
    ...extra,
  };
}

/** Runs `body`; on failure notes why the peer is missing from the table and returns undefined. */
async function peer<T>(
  context: BenchContext,
  name: string,
  body: () => T | Promise<T>,
): Promise<T | undefined> {
  try {
    return await body();
  } catch (error) {
    context.log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    context.note(`${name} was not measured: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

function peers(entries: [string, Figure | undefined][]): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  for (const [name, f] of entries) if (f !== undefined) out[name] = f;
  return out;
}

/** Every `step`-th route as a RouteSet of its own (for the naive scan and callgrind). */
function sampleRoutes(all: RouteSet, want: number): RouteSet {
  const step = Math.max(1, Math.floor(all.count / want));
  const pick4: number[] = [];
  const pick6: number[] = [];
  for (let i = 0; i < all.count; i += step) {
    if (i < all.v4.count) pick4.push(i);
    else pick6.push(i - all.v4.count);
  }
  return pickRoutes(all, pick4, pick6);
}

/**
 * Random lookups, deterministic (xorshift32): two thirds fall under a random VRP of `vrps`
 * (length from the VRP's up to its maxLength + 2, origin the VRP's AS half of the time),
 * one third anywhere (IPv4 /8–/24, IPv6 /16–/48 inside 2000::/3) with a random origin.
 * Four fifths IPv4, as in the real routes.
 */
function randomRoutes(vrps: VrpSet, count: number): RouteSet {
  let x = 0x9e3779b9;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const below = (n: number): number => rand() % n;
  const mask = (n: number): number => (n <= 0 ? 0 : n >= 32 ? 0xffffffff : (0xffffffff << (32 - n)) >>> 0);
  const n4 = Math.round(count * 0.8);
  const n6 = count - n4;
  const v4 = { addr: new Uint32Array(n4), length: new Uint8Array(n4), origin: new Uint32Array(n4) };
  const v6 = { words: new Uint32Array(n6 * 4), length: new Uint8Array(n6), origin: new Uint32Array(n6) };
  for (let i = 0; i < n4; i++) {
    if (below(3) < 2) {
      const k = below(vrps.v4.count);
      const l = vrps.v4.length[k]!;
      const length = Math.min(32, l + below(vrps.v4.maxLength[k]! - l + 3));
      v4.addr[i] = ((vrps.v4.addr[k]! | (rand() & ~mask(l))) & mask(length)) >>> 0;
      v4.length[i] = length;
      v4.origin[i] = below(2) === 0 ? vrps.v4.asn[k]! : 1 + below(400_000);
    } else {
      const length = 8 + below(17);
      v4.addr[i] = (rand() & mask(length)) >>> 0;
      v4.length[i] = length;
      v4.origin[i] = 1 + below(400_000);
    }
  }
  for (let i = 0; i < n6; i++) {
    const b = i * 4;
    if (below(3) < 2) {
      const k = below(vrps.v6.count);
      const l = vrps.v6.length[k]!;
      const length = Math.min(128, l + below(vrps.v6.maxLength[k]! - l + 3));
      for (let w = 0; w < 4; w++) {
        const own = mask(l - 32 * w);
        const keep = mask(length - 32 * w);
        v6.words[b + w] = (((vrps.v6.words[k * 4 + w]! & own) | (rand() & ~own)) & keep) >>> 0;
      }
      v6.length[i] = length;
      v6.origin[i] = below(2) === 0 ? vrps.v6.asn[k]! : 1 + below(400_000);
    } else {
      const length = 16 + below(33);
      v6.words[b] = ((0x20000000 | (rand() & 0x1fffffff)) & mask(length)) >>> 0;
      v6.words[b + 1] = (rand() & mask(length - 32)) >>> 0;
      v6.length[i] = length;
      v6.origin[i] = 1 + below(400_000);
    }
  }
  return {
    v4: { ...v4, originIsSet: new Uint8Array(n4), count: n4 },
    v6: { ...v6, originIsSet: new Uint8Array(n6), count: n6 },
    count,
  };
}

// ---------------------------------------------------------------- loading

interface LoadFigures {
  readonly vrps: number;
  readonly typedArrayBytes: number;
  readonly json: Summary;
  readonly gz: Summary;
  readonly csv: Summary;
  readonly snapshot: Summary;
  readonly snapshotGz: Summary;
  readonly held: { total: number[]; heap: number[]; external: number[]; rss: number[] };
  /** The gzip file loaded once by a fresh Node process per repetition (424k set only). */
  readonly cold?: Summary;
}

/**
 * Milliseconds for loadVrpFile(file) as the first thing a fresh process does: what a user
 * waits for at start, JIT warm-up included (Node's own start-up excluded).
 */
function coldLoads(file: string, repetitions: number): Summary {
  const script =
    "import { loadVrpFile } from '@rovkit/core';" +
    'const t = performance.now();' +
    `const r = await loadVrpFile(${JSON.stringify(file)});` +
    'process.stdout.write(JSON.stringify({ ms: performance.now() - t, vrps: r.table.size }));';
  const samples: number[] = [];
  let vrps = 0;
  for (let i = 0; i < repetitions; i++) {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(`cold load child failed: ${child.stderr}`);
    const out = JSON.parse(child.stdout) as { ms: number; vrps: number };
    samples.push(out.ms);
    vrps = out.vrps;
  }
  return summarize(samples, vrps);
}

async function timedLoad(reps: number, vrps: number, load: () => Promise<unknown>): Promise<Summary> {
  return measureAsync(load, { repetitions: reps, warmup: 1, ops: vrps, setup: settle });
}

/**
 * Full GCs with event-loop turns between them: V8 frees ArrayBuffer backing stores on a
 * concurrent sweeper, and process.memoryUsage().external drops only once it has run.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Heap + external bytes a table loaded by `load` holds, after settled GCs (`reps` samples). */
async function heldByTable(reps: number, load: () => Promise<VrpTable>): Promise<LoadFigures['held']> {
  const out = { total: [] as number[], heap: [] as number[], external: [] as number[], rss: [] as number[] };
  for (let r = 0; r < reps; r++) {
    await settle();
    const before = memory();
    let table: VrpTable | undefined = await load();
    await settle();
    const after = memory();
    sink += table.size;
    table = undefined;
    out.heap.push(after.heapUsed - before.heapUsed);
    out.external.push(after.external - before.external);
    out.total.push(after.heapUsed + after.external - before.heapUsed - before.external);
    out.rss.push(after.rss - before.rss);
  }
  return out;
}

/** Times every way of loading `set`; returns the figures and a table loaded from plain JSON. */
async function measureLoads(
  context: BenchContext,
  plan: Plan,
  set: SetFiles,
): Promise<{ figures: LoadFigures; table: VrpTable }> {
  const reps = set.key === '424k' ? plan.loadReps : plan.loadRepsScaled;
  context.log(`loading ${set.label}: JSON`);
  const table = (await loadVrpFile(set.plainJson)).table;
  const n = table.size;
  ensureCsv(table, set.csv);
  await saveSnapshot(table, set.snapshot);
  await saveSnapshot(table, set.snapshotGz, { compress: true });
  const json = await timedLoad(reps, n, () => loadVrpFile(set.plainJson));
  const gz = await timedLoad(reps, n, () => loadVrpFile(set.gzJson));
  context.log(`loading ${set.label}: CSV, snapshots, memory`);
  const csv = await timedLoad(reps, n, () => loadVrpFile(set.csv));
  const snapshot = await timedLoad(reps, n, () => loadSnapshot(set.snapshot));
  const snapshotGz = await timedLoad(reps, n, () => loadSnapshot(set.snapshotGz));
  const held = await heldByTable(
    set.key === '424k' ? 3 : 1,
    async () => (await loadVrpFile(set.plainJson)).table,
  );
  const cold = set.key === '424k' ? coldLoads(set.gzJson, reps) : undefined;
  const figures = {
    vrps: n,
    typedArrayBytes: table.byteLength,
    json,
    gz,
    csv,
    snapshot,
    snapshotGz,
    held,
    ...(cold === undefined ? {} : { cold }),
  };
  return { figures, table };
}

/** The load and memory rows of one set; the 424k set carries the peers' figures. */
function loadRows(
  set: SetFiles,
  f: LoadFigures,
  rv: RpkiValidatorRun | undefined,
  rtrlib: RtrlibRun | undefined,
): Measurement[] {
  const { json, gz, csv, snapshot, snapshotGz, held } = f;
  const n = f.vrps;
  const is424k = set.key === '424k';
  const rows: Measurement[] = [
    {
      id: `load.json.${set.key}`,
      scenario: `Load ${set.label} VRPs from rpki-client JSON (plain file)`,
      unit: 'VRPs/s',
      better: 'higher',
      rovkit: figure(json, 'opsPerSec'),
      target: 1e6,
    },
    {
      id: `load.json-gz.${set.key}`,
      scenario: `Load ${set.label} VRPs from rpki-client JSON (gzip file)`,
      unit: 'VRPs/s',
      better: 'higher',
      rovkit: figure(gz, 'opsPerSec'),
      // The issue states the 424k case as "the file in under 0.45 s", i.e. 424,223 / 0.45 s.
      target: is424k ? n / 0.45 : 1e6,
      ...(is424k && rv !== undefined ? { peers: { [RV_SYNC]: figure(rv.load, 'opsPerSec') } } : {}),
      ...(is424k
        ? {
            note:
              'target: the file in under 0.45 s' +
              (rv === undefined
                ? ''
                : '; rpki-validator: readFile + gunzip + JSON.parse + setVRPs + preCache'),
          }
        : {}),
    },
  ];
  if (is424k && f.cold !== undefined) {
    rows.push({
      id: 'load.json-gz.424k.time',
      scenario: 'Load the 424k file as shipped (JSON, gzip) in a fresh process, wall time',
      unit: 'ms',
      better: 'lower',
      rovkit: figure(f.cold, 'ms'),
      note: 'the first load of a new process, JIT warm-up included; the rows above repeat loads in one process, with full GCs between them',
      target: 450,
      ...(rv !== undefined ? { peers: { [RV_SYNC]: figure(rv.load, 'ms') } } : {}),
    });
  }
  rows.push(
    {
      id: `load.csv.${set.key}`,
      scenario: `Load ${set.label} VRPs from Routinator-style CSV (plain file)`,
      unit: 'VRPs/s',
      better: 'higher',
      rovkit: figure(csv, 'opsPerSec'),
    },
    {
      id: `load.snapshot.${set.key}`,
      scenario: `Load ${set.label} VRPs from a snapshot (msgpack file)`,
      unit: 'VRPs/s',
      better: 'higher',
      rovkit: figure(snapshot, 'opsPerSec'),
      target: 5e6,
    },
    {
      id: `load.snapshot-gz.${set.key}`,
      scenario: `Load ${set.label} VRPs from a snapshot (msgpack, gzip file)`,
      unit: 'VRPs/s',
      better: 'higher',
      rovkit: figure(snapshotGz, 'opsPerSec'),
    },
    {
      id: `memory.table.${set.key}`,
      scenario: `Memory held by the ${set.label} table (V8 heap + external, after full GC)`,
      unit: 'MB per 100k VRPs',
      better: 'lower',
      rovkit: valueFigure(
        held.total.map((b) => perHundredK(b, n)),
        { heapBytes: mid(held.total), rssBytes: mid(held.rss) },
      ),
      target: 10,
      ...(is424k
        ? {
            peers: peers([
              [RV_SYNC, rv === undefined ? undefined : valueFigure([perHundredK(rv.heldBytes, rv.vrpsHeld)])],
              [
                RTRLIB,
                rtrlib === undefined
                  ? undefined
                  : valueFigure([perHundredK(rtrlib.tableRssBytes, rtrlib.vrps.added)]),
              ],
            ]),
          }
        : {}),
      note:
        `typed arrays ${perHundredK(f.typedArrayBytes, n).toFixed(2)} MB per 100k; ` +
        `heap ${mb(mid(held.heap)).toFixed(1)} MB + external ${mb(mid(held.external)).toFixed(1)} MB in all` +
        (is424k ? '; rtrlib: RSS growth over its load' : ''),
    },
  );
  return rows;
}

// ---------------------------------------------------------------- validation

interface ValidationRows {
  readonly rows: Measurement[];
  /** Core's batch codes for every route (for the agreement note). */
  readonly codes: Uint8Array;
}

function validationScenarios(
  context: BenchContext,
  plan: Plan,
  table: VrpTable,
  label: string,
  rtrlib: RtrlibRun | undefined,
  rv: RpkiValidatorRun | undefined,
  naive: Summary | undefined,
): ValidationRows {
  const routes = context.routes();
  const prefixes = context.prefixes();
  const { v4, v6 } = routes;
  const n4 = v4.count;
  const origins: (number | 'none')[] = Array.from({ length: routes.count }, (_, i) => routeOrigin(routes, i));
  const reps = plan.validateReps;
  context.log(`validating ${routes.count} routes against ${label}: string API`);
  const stringPass = (from: number, to: number): void => {
    let valid = 0;
    for (let i = from; i < to; i++) if (table.validate(prefixes[i]!, origins[i]!) === 'valid') valid++;
    sink += valid;
  };
  const str4 = measure(() => stringPass(0, n4), { repetitions: reps, ops: n4 });
  const str6 = measure(() => stringPass(n4, routes.count), { repetitions: reps, ops: v6.count });
  const strAll = summarize(
    str4.samplesMs.map((ms, i) => ms + str6.samplesMs[i]!),
    routes.count,
  );
  context.log('numeric and batch paths');
  const num4 = measure(
    () => {
      let s = 0;
      for (let i = 0; i < n4; i++) s += table.validateV4(v4.addr[i]!, v4.length[i]!, v4.origin[i]!);
      sink += s;
    },
    { repetitions: reps, ops: n4 },
  );
  const num6 = measure(
    () => {
      let s = 0;
      const w = v6.words;
      for (let i = 0; i < v6.count; i++) {
        const b = i << 2;
        s += table.validateV6(w[b]!, w[b + 1]!, w[b + 2]!, w[b + 3]!, v6.length[i]!, v6.origin[i]!);
      }
      sink += s;
    },
    { repetitions: reps, ops: v6.count },
  );
  const codes = new Uint8Array(routes.count);
  const out4 = codes.subarray(0, n4);
  const out6 = codes.subarray(n4);
  const batch4 = measure(() => table.validateBatchV4(v4.addr, v4.length, v4.origin, out4), {
    repetitions: reps,
    ops: n4,
  });
  const batch6 = measure(() => table.validateBatchV6(v6.words, v6.length, v6.origin, out6), {
    repetitions: reps,
    ops: v6.count,
  });
  const batchAll = summarize(
    batch4.samplesMs.map((ms, i) => ms + batch6.samplesMs[i]!),
    routes.count,
  );
  const ops = (s: Summary | undefined): Figure | undefined =>
    s === undefined ? undefined : figure(s, 'opsPerSec');
  const routesText = `${(routes.count / 1e6).toFixed(2)} M real routes`;
  const rows: Measurement[] = [
    {
      id: 'validate.string.all',
      scenario: `Validate ${routesText}, string API validate(prefix, origin), ${label} VRPs`,
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(strAll, 'opsPerSec'),
      relativeTarget: { peer: RV_PROMISE, factor: 20 },
      peers: peers([
        [RV_SYNC, ops(rv?.all)],
        [RV_PROMISE, ops(rv?.promiseApi)],
      ]),
      note:
        "target against rpki-validator's documented API, validate() returning a Promise (its README's only validation call); " +
        'its undocumented synchronous validateFromCacheSync, without input checks, is faster and has its own column',
    },
    {
      id: 'validate.string.v4',
      scenario: `Validate ${(n4 / 1e6).toFixed(2)} M real IPv4 routes, string API`,
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(str4, 'opsPerSec'),
      peers: peers([[RV_SYNC, ops(rv?.v4)]]),
    },
    {
      id: 'validate.string.v6',
      scenario: `Validate ${(v6.count / 1e3).toFixed(0)} k real IPv6 routes, string API`,
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(str6, 'opsPerSec'),
      peers: peers([[RV_SYNC, ops(rv?.v6)]]),
    },
    {
      id: 'validate.numeric.v4',
      scenario: 'Validate the real IPv4 routes, numeric validateV4(u32, length, origin)',
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(num4, 'opsPerSec'),
      target: 10e6,
      peers: peers([[RTRLIB, ops(rtrlib?.v4)]]),
    },
    {
      id: 'validate.numeric.v6',
      scenario: 'Validate the real IPv6 routes, numeric validateV6(4 × u32, length, origin)',
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(num6, 'opsPerSec'),
      target: 5e6,
      peers: peers([[RTRLIB, ops(rtrlib?.v6)]]),
    },
    {
      id: 'validate.batch.v4',
      scenario: 'Validate the real IPv4 routes, batch validateBatchV4 (columns in, Uint8Array out)',
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(batch4, 'opsPerSec'),
      target: 10e6,
      peers: peers([[RTRLIB, ops(rtrlib?.v4)]]),
    },
    {
      id: 'validate.batch.v6',
      scenario: 'Validate the real IPv6 routes, batch validateBatchV6',
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(batch6, 'opsPerSec'),
      target: 5e6,
      peers: peers([[RTRLIB, ops(rtrlib?.v6)]]),
    },
    {
      id: 'validate.batch.all',
      scenario: `Validate all ${routesText}, batch API, ${label} VRPs`,
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(batchAll, 'opsPerSec'),
      peers: peers([
        [RTRLIB, ops(rtrlib?.all)],
        [RV_SYNC, ops(rv?.all)],
        [NAIVE, ops(naive)],
      ]),
      ...(naive === undefined
        ? {}
        : { note: `naive scan on every ${Math.floor(routes.count / (naive.ops ?? 1))}th route` }),
    },
  ];
  return { rows, codes };
}

/** The real routes in a random order (each family shuffled apart, deterministic). */
function shuffledRoutes(routes: RouteSet): RouteSet {
  let x = 0x2545f491;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const permutation = (n: number): Uint32Array => {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = rand() % (i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  };
  const { v4, v6 } = routes;
  const p4 = permutation(v4.count);
  const p6 = permutation(v6.count);
  const words = new Uint32Array(v6.count * 4);
  for (let k = 0; k < v6.count; k++) words.set(v6.words.subarray(p6[k]! * 4, p6[k]! * 4 + 4), k * 4);
  return {
    v4: {
      addr: v4.addr.map((_, k) => v4.addr[p4[k]!]!),
      length: v4.length.map((_, k) => v4.length[p4[k]!]!),
      origin: v4.origin.map((_, k) => v4.origin[p4[k]!]!),
      originIsSet: v4.originIsSet.map((_, k) => v4.originIsSet[p4[k]!]!),
      count: v4.count,
    },
    v6: {
      words,
      length: v6.length.map((_, k) => v6.length[p6[k]!]!),
      origin: v6.origin.map((_, k) => v6.origin[p6[k]!]!),
      originIsSet: v6.originIsSet.map((_, k) => v6.originIsSet[p6[k]!]!),
      count: v6.count,
    },
    count: routes.count,
  };
}

/** Numeric lookups over `routes` per family: IPv4 and IPv6 summaries. */
function numericLookups(plan: Plan, table: VrpTable, routes: RouteSet): { v4: Summary; v6: Summary } {
  const { v4, v6 } = routes;
  const s4 = measure(
    () => {
      let s = 0;
      for (let i = 0; i < v4.count; i++) s += table.validateV4(v4.addr[i]!, v4.length[i]!, v4.origin[i]!);
      sink += s;
    },
    { repetitions: plan.validateReps, ops: v4.count },
  );
  const s6 = measure(
    () => {
      let s = 0;
      const w = v6.words;
      for (let i = 0; i < v6.count; i++) {
        const b = i << 2;
        s += table.validateV6(w[b]!, w[b + 1]!, w[b + 2]!, w[b + 3]!, v6.length[i]!, v6.origin[i]!);
      }
      sink += s;
    },
    { repetitions: plan.validateReps, ops: v6.count },
  );
  return { v4: s4, v6: s6 };
}

/**
 * The real routes in random order: the files are sorted by prefix, so consecutive lookups
 * walk the same trie path and stay in cache; shuffled, every lookup pays its cache misses.
 */
function orderScenarios(
  context: BenchContext,
  plan: Plan,
  table: VrpTable,
  shuffled: RouteSet,
  rtrlib: RtrlibRun | undefined,
): Measurement[] {
  context.log('real routes in random order');
  const { v4, v6 } = numericLookups(plan, table, shuffled);
  const ops = (s: Summary | undefined): Figure | undefined =>
    s === undefined ? undefined : figure(s, 'opsPerSec');
  return [
    {
      id: 'validate.shuffled.v4',
      scenario: 'Validate the real IPv4 routes in random order, numeric API, 424k VRPs',
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(v4, 'opsPerSec'),
      peers: peers([[RTRLIB, ops(rtrlib?.v4)]]),
      note: "no target: the issue's 10 M/s is for the routes as they come (sorted by prefix)",
    },
    {
      id: 'validate.shuffled.v6',
      scenario: 'Validate the real IPv6 routes in random order, numeric API, 424k VRPs',
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(v6, 'opsPerSec'),
      peers: peers([[RTRLIB, ops(rtrlib?.v6)]]),
    },
  ];
}

function randomScenarios(
  context: BenchContext,
  plan: Plan,
  table: VrpTable,
  random: RouteSet,
  rtrlib: RtrlibRun | undefined,
): Measurement[] {
  context.log(`random lookups (${random.count})`);
  const { v4, v6 } = numericLookups(plan, table, random);
  const ops = (s: Summary | undefined): Figure | undefined =>
    s === undefined ? undefined : figure(s, 'opsPerSec');
  return [
    {
      id: 'validate.random.v4',
      scenario: `Random lookups, IPv4 (${(random.v4.count / 1e3).toFixed(0)} k, 2/3 under a VRP), numeric API, 424k VRPs`,
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(v4, 'opsPerSec'),
      peers: peers([[RTRLIB, ops(rtrlib?.v4)]]),
    },
    {
      id: 'validate.random.v6',
      scenario: `Random lookups, IPv6 (${(random.v6.count / 1e3).toFixed(0)} k, 2/3 under a VRP), numeric API, 424k VRPs`,
      unit: 'validations/s',
      better: 'higher',
      rovkit: figure(v6, 'opsPerSec'),
      peers: peers([[RTRLIB, ops(rtrlib?.v6)]]),
    },
  ];
}

/** Batch validation of every real route against a scaled table: how lookups grow with the set. */
function scaledValidation(context: BenchContext, plan: Plan, table: VrpTable, set: SetFiles): Measurement {
  const routes = context.routes();
  const { v4, v6 } = routes;
  const out4 = new Uint8Array(v4.count);
  const out6 = new Uint8Array(v6.count);
  const all = measure(
    () => {
      table.validateBatchV4(v4.addr, v4.length, v4.origin, out4);
      table.validateBatchV6(v6.words, v6.length, v6.origin, out6);
    },
    { repetitions: plan.validateReps, ops: routes.count },
  );
  return {
    id: `validate.batch.all.${set.key}`,
    scenario: `Validate all ${(routes.count / 1e6).toFixed(2)} M real routes, batch API, ${set.label} VRPs`,
    unit: 'validations/s',
    better: 'higher',
    rovkit: figure(all, 'opsPerSec'),
  };
}

// ---------------------------------------------------------------- deltas

/** Picks `n` VRPs of `list` evenly spread. */
function pick(list: VrpList, n: number): VrpList {
  const out = new VrpList(n);
  const step = list.length / n;
  for (let k = 0; k < n; k++) {
    const i = Math.floor(k * step);
    if (list.family(i) === 4)
      out.pushV4(list.word(i, 0), list.prefixLength(i), list.maxLength(i), list.asn(i));
    else {
      out.pushV6(
        list.word(i, 0),
        list.word(i, 1),
        list.word(i, 2),
        list.word(i, 3),
        list.prefixLength(i),
        list.maxLength(i),
        list.asn(i),
      );
    }
  }
  return out;
}

async function deltaScenarios(context: BenchContext, plan: Plan, table: VrpTable): Promise<Measurement[]> {
  context.log('deltas');
  // New VRPs: those of the ~1 M scaled set that the 424k set lacks (shifted copies).
  const bigger = (await loadVrpFile(scaledVrpFile(1_000_000))).table;
  const fresh = table.diff(bigger).announced;
  const existing = new VrpList(table.size);
  table.forEachVrp((family, w0, w1, w2, w3, length, maxLength, asn) => {
    if (family === 4) existing.pushV4(w0, length, maxLength, asn);
    else existing.pushV6(w0, w1, w2, w3, length, maxLength, asn);
  });
  const size = table.size;
  const rows: Measurement[] = [];
  for (const n of DELTA_SIZES) {
    const withdrawn = pick(existing, n);
    const announced = pick(fresh, n);
    let applied = false;
    const summary = measure(
      () => {
        table.applyDelta(announced, withdrawn);
        applied = true;
      },
      {
        repetitions: plan.deltaReps[n]!,
        warmup: 2,
        ops: 2 * n,
        // Undo the previous delta, untimed, so that every timed delta meets the same set.
        setup: () => {
          if (applied) table.applyDelta(withdrawn, announced);
          applied = false;
        },
      },
    );
    if (applied) table.applyDelta(withdrawn, announced);
    if (table.size !== size) throw new Error(`delta of ${n} left ${table.size} VRPs, expected ${size}`);
    rows.push({
      id: `delta.${n}`,
      scenario: `Apply a delta to the 424k table: withdraw ${n.toLocaleString('en')} + announce ${n.toLocaleString('en')} VRPs`,
      unit: 'ms',
      better: 'lower',
      rovkit: figure(summary, 'ms'),
      ...(n === 10_000 ? { target: 10, note: 'target is for 10,000 changes; this delta makes 20,000' } : {}),
    });
  }
  return rows;
}

// ---------------------------------------------------------------- callgrind

interface CallgrindRoutes {
  readonly path: string;
  readonly count: number;
}

function callgrindTotal(args: readonly string[], out: string): number {
  const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (run.status !== 0) throw new Error(`valgrind ${args.join(' ')} failed: ${run.stderr.slice(-2000)}`);
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  if (totals === null) throw new Error(`no totals in the callgrind output of ${args.join(' ')}`);
  return Number(totals[1]);
}

/**
 * Instructions per validation: each program is run under callgrind with 2 and with 5
 * validation passes over the same routes, and the difference is divided by 3 × routes.
 * Startup, loading and JIT warm-up (in the first passes) cancel out. Node runs with
 * --single-threaded: valgrind serialises threads, and with V8's background compiler
 * starved the optimised code would arrive late or never, counting interpreter work.
 */
function callgrindScenario(
  context: BenchContext,
  snapshot: string,
  vrps424k: VrpSet,
): Measurement | undefined {
  if (spawnSync('sh', ['-c', 'command -v valgrind'], { stdio: 'ignore' }).status !== 0) {
    context.note('callgrind figures are missing: valgrind is not installed (apt-get install valgrind).');
    return undefined;
  }
  context.log('callgrind (about a minute and a half)');
  const routes = sampleRoutes(context.routes(), CALLGRIND_ROUTES);
  const dir = join(workDir, `callgrind-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const routesFile: CallgrindRoutes = { path: join(dir, 'routes.bin'), count: routes.count };
    writeFileSync(routesFile.path, encodeRoutes(routes));
    const self = fileURLToPath(import.meta.url);
    const node = (passes: number): number =>
      callgrindTotal(
        [
          process.execPath,
          '--single-threaded',
          self,
          '--callgrind-child',
          snapshot,
          routesFile.path,
          String(passes),
        ],
        join(dir, `node-${passes}.out`),
      );
    const ours = (node(5) - node(2)) / (3 * routes.count);
    let theirs: number | undefined;
    try {
      const harness = buildRtrlibHarness();
      const vrpsPath = join(dir, 'vrps.bin');
      writeFileSync(vrpsPath, encodeVrps(vrps424k));
      const c = (passes: number): number =>
        callgrindTotal(
          [harness, vrpsPath, routesFile.path, String(passes), join(dir, 'results.bin')],
          join(dir, `rtrlib-${passes}.out`),
        );
      theirs = (c(5) - c(2)) / (3 * routes.count);
    } catch (error) {
      context.note(
        `rtrlib callgrind figure missing: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return {
      id: 'callgrind.validate.batch',
      scenario: `Instructions per validation under callgrind (batch API, ${(routes.count / 1e3).toFixed(0)} k real routes, 424k VRPs)`,
      unit: 'instructions',
      better: 'lower',
      rovkit: valueFigure([ours]),
      ...(theirs === undefined ? {} : { peers: { [RTRLIB]: valueFigure([theirs]) } }),
      note: 'rtrlib: pfx_table_validate in the C harness, same routes',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The program callgrind measures: load a snapshot, validate the routes file `passes` times. */
function callgrindChild(snapshot: string, routesPath: string, passes: number): void {
  const table = decodeSnapshot(readFileSync(snapshot));
  const data = readFileSync(routesPath);
  const u32 = (offset: number, n: number): Uint32Array =>
    new Uint32Array(data.buffer, data.byteOffset + offset, n);
  const header = u32(0, 4);
  const n4 = header[1]!;
  const n6 = header[2]!;
  const pad = (bytes: number): number => (bytes + 3) & ~3;
  let at = 16;
  const addr = u32(at, n4);
  at += 4 * n4;
  const origin4 = u32(at, n4);
  at += 4 * n4;
  const length4 = new Uint8Array(data.buffer, data.byteOffset + at, n4);
  at += pad(n4);
  const words = u32(at, 4 * n6);
  at += 16 * n6;
  const origin6 = u32(at, n6);
  at += 4 * n6;
  const length6 = new Uint8Array(data.buffer, data.byteOffset + at, n6);
  const out4 = new Uint8Array(n4);
  const out6 = new Uint8Array(n6);
  let valid = 0;
  for (let p = 0; p < passes; p++) {
    table.validateBatchV4(addr, length4, origin4, out4);
    table.validateBatchV6(words, length6, origin6, out6);
    valid += out4[0]! + out6[0]!;
  }
  process.stdout.write(`${valid}\n`);
}

// ---------------------------------------------------------------- the module

async function run(context: BenchContext): Promise<void> {
  const plan = context.quick ? QUICK : FULL;
  const started = now();
  const sets = await prepareSets(plan, context);

  // Loading first, in a heap that holds no route strings yet: a user's process loading its
  // VRPs has no 1.27 M prefix strings for the GC to walk either.
  const loads: { set: SetFiles; figures: LoadFigures }[] = [];
  const scaledRows: Measurement[] = [];
  let table424k: VrpTable | undefined;
  for (const set of sets) {
    const { figures, table } = await measureLoads(context, plan, set);
    loads.push({ set, figures });
    if (set.key === '424k') table424k = table;
    else scaledRows.push(scaledValidation(context, plan, table, set));
  }
  const table = table424k!;

  const routes = context.routes();
  context.prefixes();
  const vrps424k = readVrpFile(dataFiles.vrps424k);
  const shuffled = shuffledRoutes(routes);
  const random = randomRoutes(vrps424k, plan.randomRoutes);

  context.log('rtrlib pfx_table (C harness)');
  const rtrlib = await peer(context, 'rtrlib pfx_table (C harness)', () =>
    runRtrlib(vrps424k, routes, { repetitions: plan.validateReps, runs: plan.rtrlibRuns }),
  );
  const rtrlibShuffled = await peer(context, 'rtrlib pfx_table on shuffled routes', () =>
    runRtrlib(vrps424k, shuffled, { repetitions: plan.validateReps, runs: 1 }),
  );
  const rtrlibRandom = await peer(context, 'rtrlib pfx_table on random lookups', () =>
    runRtrlib(vrps424k, random, { repetitions: plan.validateReps, runs: 1 }),
  );
  context.log('rpki-validator@2.14.7');
  const rv = await peer(context, 'rpki-validator@2.14.7', () =>
    benchRpkiValidator(dataFiles.vrps424k, routes, context.prefixes(), {
      repetitions: plan.validateReps,
      loads: plan.rpkiValidatorLoads,
      promiseRepetitions: plan.rpkiValidatorPromiseReps,
    }),
  );
  context.log('naive scan');
  const naiveRoutes = sampleRoutes(routes, plan.naiveSample);
  const naiveRov = new NaiveRov(vrps424k);
  const naive = measure(
    () => {
      for (let i = 0; i < naiveRoutes.count; i++) sink += naiveRov.validateRoute(naiveRoutes, i);
    },
    { repetitions: 3, warmup: 0, ops: naiveRoutes.count },
  );

  const loadRowList: Measurement[] = [];
  const memoryRows: Measurement[] = [];
  for (const { set, figures } of loads) {
    for (const row of loadRows(set, figures, rv, rtrlib)) {
      (row.id.startsWith('memory.') ? memoryRows : loadRowList).push(row);
    }
  }

  // Building from in-memory columns: no parsing on either side, the fair match for rtrlib.
  const build = measure(
    () => {
      const t = new VrpTable();
      const { v4, v6 } = vrps424k;
      for (let i = 0; i < v4.count; i++) t.addV4(v4.addr[i]!, v4.length[i]!, v4.maxLength[i]!, v4.asn[i]!);
      for (let i = 0; i < v6.count; i++) {
        const b = i * 4;
        t.addV6(
          v6.words[b]!,
          v6.words[b + 1]!,
          v6.words[b + 2]!,
          v6.words[b + 3]!,
          v6.length[i]!,
          v6.maxLength[i]!,
          v6.asn[i]!,
        );
      }
      sink += t.size;
    },
    { repetitions: plan.loadReps, ops: vrps424k.count, setup: collectGarbage },
  );
  loadRowList.push({
    id: 'build.numeric.424k',
    scenario: 'Build the 424k table from in-memory columns (addV4/addV6; no parsing)',
    unit: 'VRPs/s',
    better: 'higher',
    rovkit: figure(build, 'opsPerSec'),
    peers: peers([[RTRLIB, rtrlib === undefined ? undefined : figure(rtrlib.load, 'opsPerSec')]]),
    note: 'rtrlib: pfx_table_add per VRP',
  });

  const validation = validationScenarios(context, plan, table, '424k', rtrlib, rv, naive);
  const lookupRows = [
    ...orderScenarios(context, plan, table, shuffled, rtrlibShuffled),
    ...randomScenarios(context, plan, table, random, rtrlibRandom),
  ];
  const deltaRows = await deltaScenarios(context, plan, table);
  const callgrind = plan.callgrind ? callgrindScenario(context, sets[0]!.snapshot, vrps424k) : undefined;
  if (!plan.callgrind) context.note('Quick mode: no scaled sets and no callgrind; fewer repetitions.');

  for (const row of [
    ...loadRowList,
    ...memoryRows,
    ...validation.rows,
    ...lookupRows,
    ...scaledRows,
    ...deltaRows,
    ...(callgrind === undefined ? [] : [callgrind]),
  ]) {
    context.add(row);
  }

  // The results must agree before the speeds mean anything (test/differential.test.ts checks
  // this in full, with the RFC-decided exceptions; here it is a sanity line).
  const agree = (states: Uint8Array | undefined): string => {
    if (states === undefined) return 'not run';
    let same = 0;
    for (let i = 0; i < states.length; i++) {
      const c = validation.codes[i]!;
      if (states[i] === (c >= ValidationCode.InvalidAs ? 2 : c)) same++;
    }
    return `${same.toLocaleString('en')} of ${states.length.toLocaleString('en')}`;
  };
  context.note(
    `Same state as rovkit on the real routes, 424k VRPs: rtrlib ${agree(rtrlib?.results)}, ` +
      `rpki-validator ${agree(rv?.results)}.`,
  );
  context.note(
    "Data: 424k = rpki-client JSON of RIPE NCC's pre-production test TA (2023-05-04, 424,223 VRPs); " +
      '1.0 M and 2.0 M = that file plus shifted copies in other address space (datasets.scaledVrpFile). ' +
      `Routes: ${routes.v4.count.toLocaleString('en')} IPv4 (CAIDA pfx2as 2024-04-06, multi-origin expanded) + ` +
      `${routes.v6.count.toLocaleString('en')} IPv6 (RIS whois dump 2024-12-20).`,
  );
  context.note(
    'Memory rows: bytes that stay reachable after a full GC, divided per 100k VRPs (MB = 10^6 bytes). ' +
      'Deltas: withdraw N VRPs of the table and announce N new ones in one applyDelta; undone, untimed, between repetitions.',
  );
  context.log(`core scenarios done in ${((now() - started) / 1000).toFixed(0)} s (checksum ${sink})`);
}

export const coreScenarios: ScenarioModule = { name: 'core', run };

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [flag, snapshot, routesPath, passes] = process.argv.slice(2);
  if (
    flag !== '--callgrind-child' ||
    snapshot === undefined ||
    routesPath === undefined ||
    passes === undefined
  ) {
    process.stderr.write('usage: core.js --callgrind-child SNAPSHOT ROUTES PASSES\n');
    process.exitCode = 2;
  } else callgrindChild(snapshot, routesPath, Number(passes));
}
