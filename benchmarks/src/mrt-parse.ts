// MRT reading speed (issue 6: at least 1 million routes per second, measured beside
// `bgpdump -m` on the same file in one run). Inputs are the real dumps of
// ../shared/data/mrt plus two derived from them in benchmarks/.work/mrt: the RouteViews
// IPv4 RIB sample decompressed (cut to whole records) and gzipped again, so that the
// figures separate parsing from bzip2 and gzip decompression.
//
// Three ways of reading each file:
// - rovkit in process: MrtRouteSource (the monitor's `--mrt` source: decompression, MRT
//   and BGP parsing, origin per route) into a sink that counts, numbers only;
// - rovkit CLI: `node packages/monitor/dist/cli.js mrt --file F`, text to /dev/null
//   (includes Node's start-up, about 50 ms);
// - bgpdump: `bgpdump -q -m F`, text to /dev/null (libz / libbz2, its own parser).
// Routes per second = RIB entries + announcements + withdrawals, the lines bgpdump prints.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { MrtRouteSource, sharedBzip2Pool, type Logger, type RouteSink } from '@rovkit/monitor';

import { repoRoot, sharedDataDir, workDir } from './datasets.js';
import { figure, type Measurement } from './report.js';
import {
  collectGarbage,
  measureAsync,
  memory,
  sampleMemory,
  summarize,
  type MemoryPeaks,
  type Summary,
} from './stats.js';

export interface MrtParseOptions {
  /** Fewer repetitions and only the two RouteViews samples. */
  quick?: boolean;
  /** Timed repetitions per file and reader (default 5, quick 2). */
  repetitions?: number;
  log?: (text: string) => void;
}

export interface MrtParseRow {
  /** Short name of the input, e.g. "rib.20140523 (bzip2, cut at 1 MiB)". */
  label: string;
  file: string;
  /** Routes rovkit read: RIB entries and announcements (as bgpdump prints them, B/A lines). */
  routes: number;
  /** bgpdump's B/A lines for the same file; equal to `routes` unless something is wrong. */
  bgpdumpRoutes: number | undefined;
  rovkit: Summary;
  /** Peak V8 heap and RSS while rovkit read the file. */
  rovkitMemory: MemoryPeaks;
  /**
   * Peak heap minus the heap after a full GC before the reads: what reading this file
   * added, garbage not yet collected included (the reader streams, so this is bounded by
   * the chunk and record sizes and V8's collection policy, not by the file size).
   */
  rovkitHeapGrowth: number;
  /** CPU time of the whole process (all threads) per read, in ms. */
  rovkitCpuMs: number;
  /** Worker threads decoding bzip2 blocks (0: none, or not bzip2). */
  bzip2Workers: number;
  rovkitCli: Summary | undefined;
  bgpdump: Summary | undefined;
  notes: string[];
}

interface Input {
  label: string;
  file: string;
}

const countingSink = (): RouteSink & { routes: number } => ({
  routes: 0,
  registerSource: () => 0,
  groupId: () => 0,
  descriptionId: () => 0,
  announce(): void {
    this.routes++;
  },
  withdraw(): void {},
  withdrawAll(): void {},
});

const quietLog: Logger = { log: () => undefined };

/** Whole MRT records at the start of `data` (a cut dump ends inside one). */
function wholeRecords(data: Buffer): Buffer {
  let p = 0;
  while (p + 12 <= data.length) {
    const next = p + 12 + data.readUInt32BE(p + 8);
    if (next > data.length) break;
    p = next;
  }
  return data.subarray(0, p);
}

/** The real inputs plus the derived plain and gzip RouteViews RIB. */
function inputs(quick: boolean): Input[] {
  const mrt = join(sharedDataDir, 'mrt');
  const rib = join(mrt, 'pyasn-data-rib.20140523.0600_firstMB.bz2');
  const rib6 = join(mrt, 'pyasn-data-rib6.20151101.0600_firstMB.bz2');
  const out: Input[] = [
    { label: 'RouteViews IPv4 RIB 2014-05-23, bzip2 cut at 1 MiB', file: rib },
    { label: 'RouteViews IPv6 RIB 2015-11-01, bzip2 cut at 1 MiB', file: rib6 },
  ];
  const dir = join(workDir, 'mrt');
  mkdirSync(dir, { recursive: true });
  const plain = join(dir, 'rib.20140523.0600.mrt');
  const gz = join(dir, 'rib.20140523.0600.mrt.gz');
  if (!existsSync(plain) || !existsSync(gz)) {
    // bzip2 -dc writes what it decoded before it stops at the cut (exit status 2).
    const decoded = spawnSync('bzip2', ['-dc', rib], { maxBuffer: 1 << 28 }).stdout;
    const records = wholeRecords(decoded);
    writeFileSync(plain, records);
    writeFileSync(gz, gzipSync(records, { level: 6 }));
  }
  out.push(
    { label: 'RouteViews IPv4 RIB 2014-05-23, uncompressed', file: plain },
    { label: 'RouteViews IPv4 RIB 2014-05-23, gzip', file: gz },
  );
  if (!quick) {
    out.push({
      label: 'RIS updates 2016-08-11 16:00, gzip',
      file: join(mrt, 'bgpdump-testdata-updates.20160811.1600.gz'),
    });
  }
  return out;
}

function timeCommand(command: string, args: string[], repetitions: number, ops: number): Summary | undefined {
  const samples: number[] = [];
  for (let i = 0; i <= repetitions; i++) {
    const start = performance.now();
    const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    const ms = performance.now() - start;
    if (result.error !== undefined) return undefined;
    if (i > 0) samples.push(ms); // the first run warms the page cache
  }
  return summarize(samples, ops);
}

function bgpdumpRouteCount(file: string): number | undefined {
  const result = spawnSync('bgpdump', ['-q', '-m', file], { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (result.error !== undefined) return undefined;
  let count = 0;
  for (const line of result.stdout.split('\n')) {
    const kind = line.split('|', 3)[2];
    if (kind === 'A' || kind === 'B') count++;
  }
  return count;
}

/** Measures rovkit's MRT reader and bgpdump on each input; returns one row per input. */
export async function benchMrtParse(options: MrtParseOptions = {}): Promise<MrtParseRow[]> {
  const quick = options.quick ?? false;
  const repetitions = options.repetitions ?? (quick ? 2 : 5);
  const log = options.log ?? (() => undefined);
  const cli = join(repoRoot, 'packages', 'monitor', 'dist', 'cli.js');
  const rows: MrtParseRow[] = [];
  for (const input of inputs(quick)) {
    log(`mrt-parse: ${basename(input.file)}`);
    const notes: string[] = [];
    let routes = 0;
    const read = async (): Promise<void> => {
      const sink = countingSink();
      await new MrtRouteSource({ file: input.file, sink, log: quietLog }).start();
      routes = sink.routes;
    };
    await read();
    collectGarbage();
    const baseline = memory().heapUsed;
    const peaks = sampleMemory(5);
    const cpuBefore = process.cpuUsage();
    const rovkit = await measureAsync(read, { repetitions, warmup: 0, ops: routes });
    const cpu = process.cpuUsage(cpuBefore);
    const rovkitMemory = peaks.stop();
    const pool = input.file.endsWith('.bz2') ? sharedBzip2Pool() : undefined;

    const bgpdumpRoutes = bgpdumpRouteCount(input.file);
    if (bgpdumpRoutes === undefined) notes.push('bgpdump is not installed (apt-get install bgpdump)');
    else if (bgpdumpRoutes !== routes)
      notes.push(`route counts differ: rovkit ${routes}, bgpdump ${bgpdumpRoutes}`);
    const bgpdump =
      bgpdumpRoutes === undefined
        ? undefined
        : timeCommand('bgpdump', ['-q', '-m', input.file], repetitions, routes);

    let rovkitCli: Summary | undefined;
    if (existsSync(cli))
      rovkitCli = timeCommand(process.execPath, [cli, 'mrt', '--file', input.file], repetitions, routes);
    else notes.push('packages/monitor/dist/cli.js is not built (npm run build)');

    rows.push({
      label: input.label,
      file: input.file,
      routes,
      bgpdumpRoutes,
      rovkit,
      rovkitMemory,
      rovkitHeapGrowth: rovkitMemory.peakHeapUsed - baseline,
      rovkitCpuMs: (cpu.user + cpu.system) / 1000 / repetitions,
      bzip2Workers: pool?.size ?? 0,
      rovkitCli,
      bgpdump,
      notes,
    });
  }
  return rows;
}

/** The rows as report measurements (routes/s, target 1 M/s, bgpdump as the peer). */
export function mrtParseMeasurements(rows: readonly MrtParseRow[]): Measurement[] {
  return rows.map((row, i) => {
    const peers: Record<string, ReturnType<typeof figure>> = {};
    if (row.bgpdump !== undefined) peers['bgpdump -m'] = figure(row.bgpdump, 'opsPerSec');
    if (row.rovkitCli !== undefined) peers['rovkit mrt (CLI, text)'] = figure(row.rovkitCli, 'opsPerSec');
    const size = readFileSync(row.file).length;
    const notes = [
      `${row.routes.toLocaleString('en-US')} routes from ${(size / 1e6).toFixed(1)} MB`,
      `heap growth while reading ${(row.rovkitHeapGrowth / 1e6).toFixed(0)} MB (garbage included)`,
      `CPU ${row.rovkitCpuMs.toFixed(0)} ms per read (all threads)` +
        (row.bzip2Workers > 0 ? `, bzip2 blocks decoded in ${row.bzip2Workers} worker threads` : ''),
      ...row.notes,
    ];
    return {
      id: `mrt.parse.${i}`,
      scenario: `MRT read: ${row.label}`,
      unit: 'routes/s',
      better: 'higher',
      rovkit: figure(row.rovkit, 'opsPerSec', {
        heapBytes: row.rovkitMemory.peakHeapUsed,
        rssBytes: row.rovkitMemory.peakRss,
      }),
      target: 1_000_000,
      peers,
      note: notes.join('; '),
    } satisfies Measurement;
  });
}
