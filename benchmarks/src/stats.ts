// Repetitions, medians and memory figures for the benchmarks. Every figure is a median
// over several repetitions with its min/max beside it, because a single run on a shared
// two-core machine says little.
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Timings of one scenario. Times in milliseconds; ops/s derived from `ops` per repetition. */
export interface Summary {
  readonly repetitions: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** (max - min) / median: 0.05 means the slowest and fastest runs lie 5 % of the median apart. */
  readonly spread: number;
  /** Operations per repetition (validations, VRPs loaded...), when the scenario counts any. */
  readonly ops?: number;
  /** ops / median time. */
  readonly opsPerSec?: number;
  /** ops / slowest time. */
  readonly opsPerSecMin?: number;
  /** ops / fastest time. */
  readonly opsPerSecMax?: number;
  readonly samplesMs: readonly number[];
  /**
   * V8 heap in use and resident set of the measuring process right after the timed runs
   * (measure/measureAsync): what the process held while running the scenario, its data
   * (routes, tables) included.
   */
  readonly heapBytes?: number;
  readonly rssBytes?: number;
}

function withMemory(summary: Summary): Summary {
  const m = process.memoryUsage();
  return { ...summary, heapBytes: m.heapUsed, rssBytes: m.rss };
}

export interface MeasureOptions {
  /** Timed runs (default 5). */
  repetitions?: number;
  /** Untimed runs first, for the JIT (default 1). */
  warmup?: number;
  /** Operations one run performs, to report ops/s. */
  ops?: number;
  /** Runs before each repetition, untimed (e.g. to build a fresh table). */
  setup?: () => void;
}

/** High-resolution clock in milliseconds. */
export function now(): number {
  return performance.now();
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Summarises timed samples (ms); `ops` is the operation count of one sample. */
export function summarize(samplesMs: readonly number[], ops?: number): Summary {
  const medianMs = median(samplesMs);
  const minMs = Math.min(...samplesMs);
  const maxMs = Math.max(...samplesMs);
  const summary: Summary = {
    repetitions: samplesMs.length,
    medianMs,
    minMs,
    maxMs,
    spread: medianMs > 0 ? (maxMs - minMs) / medianMs : 0,
    samplesMs: [...samplesMs],
  };
  if (ops === undefined) return summary;
  return {
    ...summary,
    ops,
    opsPerSec: (ops * 1000) / medianMs,
    opsPerSecMin: (ops * 1000) / maxMs,
    opsPerSecMax: (ops * 1000) / minMs,
  };
}

/** Times `fn` `repetitions` times after `warmup` untimed runs. */
export function measure(fn: () => unknown, options: MeasureOptions = {}): Summary {
  const { repetitions = 5, warmup = 1, ops, setup } = options;
  for (let i = 0; i < warmup; i++) {
    setup?.();
    fn();
  }
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    setup?.();
    const start = now();
    fn();
    samples.push(now() - start);
  }
  return withMemory(summarize(samples, ops));
}

/** As measure, for asynchronous work; `setup` may return a promise. */
export async function measureAsync(
  fn: () => Promise<unknown>,
  options: Omit<MeasureOptions, 'setup'> & { setup?: () => unknown } = {},
): Promise<Summary> {
  const { repetitions = 5, warmup = 1, ops, setup } = options;
  for (let i = 0; i < warmup; i++) {
    await setup?.();
    await fn();
  }
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    await setup?.();
    const start = now();
    await fn();
    samples.push(now() - start);
  }
  return withMemory(summarize(samples, ops));
}

// ---------------------------------------------------------------- memory

export interface MemorySample {
  /** V8 heap in use (JS objects). */
  readonly heapUsed: number;
  /** Memory outside the V8 heap, including typed-array backing stores. */
  readonly external: number;
  /** The part of `external` that is ArrayBuffer storage. */
  readonly arrayBuffers: number;
  readonly rss: number;
}

export function memory(): MemorySample {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

let gcFunction: (() => void) | undefined;

/**
 * Runs a full garbage collection, twice so that weak references and finalisers settle.
 * Works without --expose-gc: the flag is set at run time and `gc` fetched from a fresh context.
 */
export function collectGarbage(): void {
  if (gcFunction === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') gcFunction = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    }
  }
  gcFunction();
  gcFunction();
}

export interface Held<T> {
  readonly value: T;
  /** Growth of the V8 heap that survives a full GC. */
  readonly heapBytes: number;
  /** Growth of external memory (typed arrays, Buffers) that survives a full GC. */
  readonly externalBytes: number;
  /** heapBytes + externalBytes: what the value keeps alive. */
  readonly totalBytes: number;
  /** Growth of the resident set (coarse: the allocator keeps freed pages). */
  readonly rssBytes: number;
}

/**
 * Memory held by what `build` returns: full GC, build, full GC, difference. Garbage made
 * while building is not counted; only what stays reachable from the value (and anything
 * else `build` leaves reachable) is.
 */
export function heldMemory<T>(build: () => T): Held<T> {
  collectGarbage();
  const before = memory();
  const value = build();
  collectGarbage();
  const after = memory();
  const heapBytes = after.heapUsed - before.heapUsed;
  const externalBytes = after.external - before.external;
  return {
    value,
    heapBytes,
    externalBytes,
    totalBytes: heapBytes + externalBytes,
    rssBytes: after.rss - before.rss,
  };
}

export interface MemoryPeaks {
  readonly peakHeapUsed: number;
  readonly peakExternal: number;
  readonly peakRss: number;
  readonly samples: number;
}

/**
 * Samples memory every `intervalMs` while asynchronous work runs (timers cannot fire
 * during synchronous code, so use it around awaited scenarios such as an RTR sync).
 * `stop()` takes a last sample and returns the peaks.
 */
export function sampleMemory(intervalMs = 10): { stop(): MemoryPeaks } {
  let peakHeapUsed = 0;
  let peakExternal = 0;
  let peakRss = 0;
  let samples = 0;
  const take = (): void => {
    const m = memory();
    peakHeapUsed = Math.max(peakHeapUsed, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.external);
    peakRss = Math.max(peakRss, m.rss);
    samples++;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop(): MemoryPeaks {
      clearInterval(timer);
      take();
      return { peakHeapUsed, peakExternal, peakRss, samples };
    },
  };
}

/** Peak resident set of this process so far (bytes), from getrusage. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
