// Fuzzing both bzip2 decoders of @rovkit/monitor (bunzip2 in this thread, bunzip2Parallel
// with blocks in a worker thread) against each other and against the reference `bzip2 -dc`
// (issue 11: a large run here, a million inputs; `npm test` runs a few hundred in
// packages/monitor/src/compress/bzip2.test.ts). Inputs: real streams written by `bzip2 -c`
// (text-like data with long runs, random bytes, the start of a real MRT RIB dump, an empty
// stream, two concatenated streams, a stream of three blocks), mutated: bits flipped
// anywhere or in the block header (magic, CRC, randomised bit, BWT origin, symbol map) or
// in the Huffman tables (selectors, code lengths), cut, bytes inserted, deleted, replaced
// or duplicated, garbage appended; and random bodies behind a valid stream header.
//
// Checked for every input, each decoder fed in its own random chunks: only DecompressError
// escapes, with a known code and `outputBytes` equal to what was emitted; both decoders
// emit the same bytes and raise the same code; an unmutated stream decodes to its data.
// Against `bzip2 -dc` (spawned per input, so only on every `--reference-every` Nth input,
// default 32; 1 compares every input): when rovkit decodes, bzip2 exits 0 with the same
// bytes; when rovkit raises, bzip2 fails too and what rovkit emitted is a prefix of what
// bzip2 wrote (bzip2 writes a block's output before it checks the block's CRC; rovkit emits
// only blocks whose CRC matched). Where the two legitimately differ, the input is counted
// under `differences`, not as a violation:
// - trailing-garbage: after a complete stream, bytes that do not start a stream header
//   ("BZh" + 1-9) are a warning for bzip2 (exit 0, "trailing garbage after EOF ignored") and
//   BZIP2_ERR_FORMAT for rovkit, after emitting the same bytes;
// - randomised: rovkit does not decode randomised blocks (bzip2 0.9.0, BZIP2_ERR_UNSUPPORTED);
//   bzip2 does.
// - long-header: a block header over 40 kB (BZIP2_MAX_HEADER) is BZIP2_ERR_DATA for rovkit
//   and fine for bzip2; only code-length steps that undo each other make one, which these
//   mutations do not (bzip2.test.ts has the case).
// How bzip2 and rovkit name an error (bzip2: "ends unexpectedly", "data integrity error",
// "not a bzip2 file") is tallied in `errorPairs`, with an input of each pair in
// `pairExamples`. The names differ, never the verdict, where an input is cut: rovkit says
// BZIP2_ERR_TRUNCATED once its reader looked past the end (a block's magic and CRC are read
// as 80 bits, Huffman codes 20 bits ahead), where bzip2, reading bit by bit, first found a
// wrong magic byte or a bad code in the bits it had; BZIP2_ERR_UNSUPPORTED is raised at a
// randomised block's header, where bzip2 decodes on into the cut. bzip2 also checks the BWT
// origin before the symbols and rovkit after.
// Memory: the V8 heap after a full GC, every 10% of the run, must not grow.
//
// node benchmarks/dist/fuzz-bzip2.js [--inputs N] [--seed S] [--reference-every N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { bunzip2, bunzip2Parallel, Bzip2Workspace, DecompressError, sharedBzip2Pool } from '@rovkit/monitor';

import { collectGarbage, memory } from './stats.js';
import { fuzzMain, type FuzzReport } from './fuzz-main.js';
import { mutateBytes, randomBytes } from './mutate.js';
import { Random } from './random.js';

export interface FuzzBzip2Options {
  /** Inputs to play (default 1,000,000). */
  readonly inputs?: number;
  /** PRNG seed (default 1); the same seed plays the same inputs. */
  readonly seed?: number;
  /** Compare with `bzip2 -dc` on every Nth input (default 32; 0: never). */
  readonly referenceEvery?: number;
  readonly log?: (text: string) => void;
}

export interface FuzzBzip2Result extends FuzzReport {
  /** Inputs also decoded by `bzip2 -dc`, and on which input number (every Nth). */
  readonly referenceInputs: number;
  readonly referenceEvery: number;
  /** rovkit outcome | bzip2 verdict, over the inputs compared with bzip2. */
  readonly errorPairs: Readonly<Record<string, number>>;
  /** The first input (hex, cut to 4 kB) of each pair, to look at. */
  readonly pairExamples: Readonly<Record<string, string>>;
  /** Inputs where rovkit and bzip2 differ as documented above. */
  readonly differences: Readonly<Record<string, number>>;
  /** Decompressed bytes emitted by rovkit (per decoder). */
  readonly outputBytes: number;
}

const CODES = new Set([
  'BZIP2_ERR_FORMAT',
  'BZIP2_ERR_DATA',
  'BZIP2_ERR_CRC',
  'BZIP2_ERR_TRUNCATED',
  'BZIP2_ERR_UNSUPPORTED',
]);

// ---------------------------------------------------------------- base streams

/** bzip2 processes running at once beside the decoders. */
const REFERENCE_PROCESSES = 2;

function bzip2Async(
  args: string[],
  input: Uint8Array,
): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bzip2', args);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    // bzip2 may stop reading its input at an error.
    child.stdin.on('error', () => undefined);
    child.on('close', (status) =>
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.end(input);
  });
}

function bzip2(args: string[], input: Uint8Array): { status: number | null; stdout: Buffer; stderr: string } {
  const result = spawnSync('bzip2', args, { input, maxBuffer: 1 << 28 });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

/** Text-like bytes with runs of up to 600 equal bytes (every run-length path of bzip2). */
function textLike(r: Random, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size;) {
    const x = r.u32();
    if (x % 7 === 0) {
      const run = Math.min(size - i, 1 + r.below(600));
      out.fill(x & 0xff, i, i + run);
      i += run;
    } else out[i++] = 0x61 + (x % 20);
  }
  return out;
}

interface Base {
  name: string;
  data: Buffer;
  compressed: Buffer;
  /** Relative frequency. */
  weight: number;
}

/** The MRT RIB dump in ../shared/data, its first `size` decompressed bytes, if present. */
function mrtStart(size: number): Buffer | undefined {
  const file = fileURLToPath(
    new URL('../../../shared/data/mrt/pyasn-data-rib.20140523.0600_firstMB.bz2', import.meta.url),
  );
  if (!existsSync(file)) return undefined;
  // The file is the first MB of a larger one: bzip2 fails at the cut after writing its blocks.
  return bzip2(['-dc'], readFileSync(file)).stdout.subarray(0, size);
}

function bases(): Base[] {
  const r = new Random(7);
  const make = (name: string, data: Buffer, level: number, weight: number): Base => ({
    name,
    data,
    compressed: bzip2(['-c', `-${level}`], data).stdout,
    weight,
  });
  const list = [
    make('text 4 KB', textLike(r, 4000), 9, 6),
    make('random 1 KB', Buffer.from(Array.from({ length: 1000 }, () => r.below(256))), 9, 3),
    make('runs of 20k and 300 bytes', Buffer.concat([Buffer.alloc(20_000, 0x41), textLike(r, 300)]), 9, 2),
    make('one byte', Buffer.from('x'), 9, 1),
    make('empty', Buffer.alloc(0), 9, 1),
    make('three blocks of level 1', textLike(r, 210_000), 1, 1),
  ];
  const a = textLike(r, 1500);
  const b = textLike(r, 800);
  list.push({
    name: 'two streams',
    data: Buffer.concat([a, b]),
    compressed: Buffer.concat([bzip2(['-c', '-9'], a).stdout, bzip2(['-c', '-2'], b).stdout]),
    weight: 2,
  });
  const mrt = mrtStart(12_000);
  if (mrt !== undefined) list.push(make('MRT RIB start', mrt, 9, 4));
  return list;
}

// ---------------------------------------------------------------- mutations

function pick(r: Random, list: Base[]): Base {
  let total = 0;
  for (const base of list) total += base.weight;
  let at = r.below(total);
  for (const base of list) {
    if (at < base.weight) return base;
    at -= base.weight;
  }
  return list[0]!;
}

function flip(bytes: Buffer, bit: number): void {
  if (bit >>> 3 < bytes.length) bytes[bit >>> 3] ^= 0x80 >>> (bit & 7);
}

/** One mutation of `bytes` (a copy when the length changes). */
function mutateOnce(r: Random, bytes: Buffer): Buffer {
  const n = bytes.length;
  const kind = r.below(11);
  switch (kind) {
    case 0:
    case 1:
      // Anywhere after the stream header.
      flip(bytes, 32 + r.below(Math.max(1, n * 8 - 32)));
      return bytes;
    case 2:
      // The first block's header: magic, CRC, randomised bit, origin, symbol map (ranges).
      flip(bytes, 32 + r.below(48 + 32 + 1 + 24 + 16 + 64));
      return bytes;
    case 3:
      // The selectors and code lengths come next: a few hundred bytes for small blocks.
      flip(bytes, 32 + 48 + 32 + 1 + 24 + 16 + r.below(Math.min(n * 8, 4000)));
      return bytes;
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
      // A byte changed, a cut, random bytes inserted, a run repeated or deleted.
      return mutateBytes(r, bytes, kind - 4, 32);
    case 9: {
      // Garbage after the stream: random bytes, a cut or bad stream header, a header and noise.
      const tails = [
        randomBytes(r, 1 + r.below(20)),
        Buffer.from('BZh'.slice(0, 1 + r.below(3))),
        Buffer.from(`BZh${r.below(10)}`),
        Buffer.concat([Buffer.from('BZh9'), randomBytes(r, r.below(30))]),
      ];
      return Buffer.concat([bytes, tails[r.below(tails.length)]!]);
    }
    default: {
      // Flip a run of adjacent bits (a damaged byte range).
      const start = 32 + r.below(Math.max(1, n * 8 - 32));
      for (let i = 0, count = 2 + r.below(30); i < count; i++) flip(bytes, start + i);
      return bytes;
    }
  }
}

// ---------------------------------------------------------------- decoding

interface Outcome {
  output: Buffer;
  code: string;
  /** A broken rule of the decoder's contract, if any. */
  broken?: string;
}

/** The input in chunks of `size` bytes. */
async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** A chunk size: the whole input half of the time. */
function chunkSize(r: Random, bytes: Buffer): number {
  return r.chance(0.5) ? Math.max(1, bytes.length) : 1 + r.below(Math.max(1, bytes.length));
}

async function decode(stream: AsyncIterable<Buffer>): Promise<Outcome> {
  const parts: Buffer[] = [];
  let code = 'ok';
  let broken: string | undefined;
  try {
    for await (const part of stream) parts.push(Buffer.from(part));
  } catch (error) {
    if (!(error instanceof DecompressError)) broken = `threw ${String(error)}`;
    else if (!CODES.has(error.code)) broken = `unknown code ${error.code}`;
    else {
      code = error.code;
      const emitted = parts.reduce((sum, part) => sum + part.length, 0);
      if (error.outputBytes !== emitted) broken = `outputBytes ${error.outputBytes}, emitted ${emitted}`;
    }
  }
  return { output: Buffer.concat(parts), code, broken };
}

/**
 * Before an error, rovkit emits the blocks whose CRC matched; bzip2 writes in pieces of
 * BZIP2_WRITE bytes (bzip2.c reads 5000 at a time with BZ2_bzRead and writes them), including
 * those of the failing block before its CRC is checked, and drops the piece it was filling
 * when the error comes (but writes what it has at the end of each stream). So one output is
 * a prefix of the other, and rovkit's is longer by less than a piece at most.
 */
function emittedAlike(rovkit: Buffer, reference: Buffer): boolean {
  if (rovkit.length <= reference.length) return reference.subarray(0, rovkit.length).equals(rovkit);
  return (
    rovkit.length - reference.length < BZIP2_WRITE && rovkit.subarray(0, reference.length).equals(reference)
  );
}

const BZIP2_WRITE = 5000;

/** bzip2's verdict: ok, or what its message says. */
function verdict(status: number | null, stderr: string): string {
  if (status === 0) return stderr.includes('trailing garbage') ? 'ok (trailing garbage)' : 'ok';
  if (stderr.includes('ends unexpectedly')) return 'ends unexpectedly';
  if (stderr.includes('Data integrity error')) return 'data integrity error';
  if (stderr.includes('not a bzip2 file') || stderr.includes('bad magic')) return 'not a bzip2 file';
  return `exit ${status}: ${stderr.split('\n')[0]}`;
}

export async function fuzzBzip2(options: FuzzBzip2Options = {}): Promise<FuzzBzip2Result> {
  const inputs = options.inputs ?? 1_000_000;
  const seed = options.seed ?? 1;
  const referenceEvery = options.referenceEvery ?? 32;
  const log = options.log ?? (() => undefined);
  // One worker: on two cores, it and this thread are busy.
  process.env.ROVKIT_BZIP2_WORKERS ??= '1';
  const pool = sharedBzip2Pool();
  if (pool === undefined) throw new Error('no bzip2 worker pool (is packages/monitor built?)');
  const r = new Random(seed);
  const list = bases();
  log(`fuzz-bzip2: bases ${list.map((b) => `${b.name} (${b.compressed.length} B)`).join(', ')}`);
  const workspace = new Bzip2Workspace();
  const outcomes: Record<string, number> = {};
  const errorPairs: Record<string, number> = {};
  const pairExamples: Record<string, string> = {};
  const differences: Record<string, number> = {};
  const violations: string[] = [];
  const heapMb: number[] = [];
  const count = (table: Record<string, number>, key: string): void => {
    table[key] = (table[key] ?? 0) + 1;
  };
  let referenceInputs = 0;
  const running = new Set<Promise<void>>();
  const report = (i: number, base: Base, bytes: Buffer, problem: string): void => {
    if (violations.length < 20)
      violations.push(`input ${i} (${base.name}): ${problem} on ${bytes.toString('hex').slice(0, 600)}`);
  };
  /** Runs `bzip2 -dc` on the input; returns what is wrong with rovkit's outcome, if anything. */
  const compareWithBzip2 = async (bytes: Buffer, here: Outcome): Promise<string | undefined> => {
    const reference = await bzip2Async(['-dc'], bytes);
    const says = verdict(reference.status, reference.stderr);
    const pair = `${here.code} | ${says}`;
    count(errorPairs, pair);
    pairExamples[pair] ??= bytes.toString('hex').slice(0, 8000);
    const alike = emittedAlike(here.output, reference.stdout);
    if (says.startsWith('exit')) return `bzip2 ${says}`;
    if (here.code === 'ok') {
      if (says === 'ok' && reference.stdout.equals(here.output)) return undefined;
      return `rovkit decoded ${here.output.length} B, bzip2: ${says} after ${reference.stdout.length} B`;
    }
    if (says === 'ok (trailing garbage)' && here.code === 'BZIP2_ERR_FORMAT') {
      if (!reference.stdout.equals(here.output))
        return `trailing garbage: rovkit emitted ${here.output.length} B, bzip2 ${reference.stdout.length} B`;
      count(differences, 'trailing-garbage');
      return undefined;
    }
    if (says.startsWith('ok') && here.code === 'BZIP2_ERR_UNSUPPORTED' && alike) {
      count(differences, 'randomised');
      return undefined;
    }
    if (says.startsWith('ok'))
      return `rovkit ${here.code} after ${here.output.length} B, bzip2: ${says} (${reference.stdout.length} B)`;
    if (!alike)
      return `rovkit emitted ${here.output.length} B, bzip2 ${reference.stdout.length} B, not alike`;
    return undefined;
  };
  let outputBytes = 0;
  const every = Math.max(1, Math.floor(inputs / 10));
  collectGarbage();
  heapMb.push(memory().heapUsed / 1e6);
  const start = performance.now();
  for (let i = 1; i <= inputs; i++) {
    const base = pick(r, list);
    const kind = r.below(20);
    let bytes: Buffer;
    let mutated = true;
    if (kind === 0) {
      bytes = base.compressed;
      mutated = false;
    } else if (kind === 1) {
      const head = r.chance(0.5) ? [0x31, 0x41, 0x59, 0x26, 0x53, 0x59] : [];
      bytes = Buffer.concat([
        Buffer.from([0x42, 0x5a, 0x68, 0x31 + r.below(9), ...head]),
        randomBytes(r, r.below(200)),
      ]);
    } else {
      bytes = Buffer.from(base.compressed);
      for (let m = 0, times = 1 + (r.chance(0.3) ? r.below(3) : 0); m < times; m++)
        bytes = mutateOnce(r, bytes);
    }
    // Both at once: the worker decodes while this thread does.
    const [here, there] = await Promise.all([
      decode(bunzip2(chunks(bytes, chunkSize(r, bytes)), workspace)),
      decode(bunzip2Parallel(chunks(bytes, chunkSize(r, bytes)), pool)),
    ]);
    count(outcomes, here.code);
    outputBytes += here.output.length;
    let broken: string | undefined;
    if (here.broken !== undefined) broken = `in this thread: ${here.broken}`;
    else if (there.broken !== undefined) broken = `in workers: ${there.broken}`;
    else if (here.code !== there.code || !here.output.equals(there.output))
      broken = `decoders differ: ${here.code} after ${here.output.length} B here, ${there.code} after ${there.output.length} B in workers`;
    else if (!mutated && (here.code !== 'ok' || !here.output.equals(base.data)))
      broken = `unmutated ${base.name}: ${here.code} after ${here.output.length} of ${base.data.length} B`;
    else if (referenceEvery > 0 && i % referenceEvery === 0) {
      referenceInputs++;
      // bzip2 runs beside the decoders; at most REFERENCE_PROCESSES at once.
      if (running.size >= REFERENCE_PROCESSES) await Promise.race(running);
      const done = compareWithBzip2(bytes, here).then((problem) => {
        running.delete(done);
        if (problem !== undefined) report(i, base, bytes, problem);
      });
      running.add(done);
    }
    if (broken !== undefined) report(i, base, bytes, broken);
    if (i % every === 0) {
      collectGarbage();
      heapMb.push(memory().heapUsed / 1e6);
      log(`fuzz-bzip2: ${i} inputs, heap ${heapMb.at(-1)!.toFixed(1)} MB, ${violations.length} violations`);
    }
  }
  await Promise.all(running);
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return {
    inputs,
    seed,
    seconds,
    inputsPerSecond: inputs / seconds,
    referenceInputs,
    referenceEvery,
    outcomes,
    errorPairs,
    pairExamples,
    differences,
    outputBytes,
    violations,
    heapMb,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--reference-every');
  const referenceEvery = i < 0 ? undefined : Number(process.argv[i + 1]);
  await fuzzMain((options) => fuzzBzip2({ ...options, referenceEvery }));
}
