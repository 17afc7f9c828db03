// Both decoders (in this thread, and blocks in worker threads) against the reference bzip2
// binary: what `bzip2 -c` compresses comes back byte for byte, across block sizes, run
// lengths, symbol sets, stream concatenation and chunkings; every cut is a
// BZIP2_ERR_TRUNCATED after a correct prefix; corruption never emits wrong data (block CRCs
// are checked before output). The worker threads run the built dist/ (npm test builds).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, peerCommand } from '../../../../test/support/peers.js';
import { findMagics } from './bzip2-blocks.js';
import { bunzip2Parallel } from './bzip2-parallel.js';
import { Bzip2Pool, workerScript } from './bzip2-pool.js';
import { bunzip2, bzip2Crc, BZIP2_MAX_HEADER } from './bzip2.js';
import { DecompressError } from './errors.js';

const fuzzRuns = Number(process.env.ROVKIT_FUZZ_RUNS ?? 150);
const fuzzSeed = Number(process.env.ROVKIT_FUZZ_SEED ?? 20261204);

function compress(data: Uint8Array, level = 9): Buffer {
  const result = spawnSync('bzip2', ['-c', `-${level}`], { input: data, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`bzip2 failed: ${result.stderr.toString()}`);
  return result.stdout;
}

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(i + size, data.length));
}

interface Outcome {
  output: Buffer;
  error?: unknown;
}

type Decoder = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Buffer>;

const script = workerScript();
const pool = script === undefined ? undefined : new Bzip2Pool(2, script);
afterAll(() => pool?.close());

function inWorkers(): Decoder {
  if (pool === undefined) throw new Error('dist/compress/bzip2-worker.js is not built (npm run build)');
  return (source) => bunzip2Parallel(source, pool);
}

const decoders: Array<[string, () => Decoder]> = [
  ['in this thread', () => bunzip2],
  ['in worker threads', inWorkers],
];

async function run(decoder: Decoder, data: Uint8Array, chunkSize = 65536): Promise<Outcome> {
  const parts: Buffer[] = [];
  try {
    for await (const part of decoder(chunked(data, chunkSize))) parts.push(part);
  } catch (error) {
    return { output: Buffer.concat(parts), error };
  }
  return { output: Buffer.concat(parts) };
}

/** Text-like data with long runs, so that every run-length path is used. */
function sample(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let i = 0; i < size;) {
    const r = next();
    if (r % 7 === 0) {
      const run = Math.min(size - i, 1 + (next() % 600));
      out.fill(r & 0xff, i, i + run);
      i += run;
    } else {
      out[i++] = 0x61 + (r % 20);
    }
  }
  return out;
}

const skip = missing(peerCommand('bzip2'));

/**
 * A one-block stream (from `bzip2 -c -9` of `data`) whose block header is made `extraSteps`
 * code-length steps longer: pairs that undo each other (+1 then -1, or -1 then +1, 4 bits
 * each) before the first symbol's length, which bzip2 accepts in any number. Returns the
 * stream and the length of its block header in bits (from the block magic to the end of
 * the code lengths).
 */
function withLongHeader(data: Buffer, extraSteps: number): { stream: Buffer; headerBits: number } {
  const original = compress(data, 9);
  const bits = Array.from(original, (byte) => byte.toString(2).padStart(8, '0')).join('');
  let at = 32 + 48 + 32 + 1 + 24;
  const read = (n: number): number => {
    const value = parseInt(bits.slice(at, at + n), 2);
    at += n;
    return value;
  };
  const ranges = read(16);
  let inUse = 0;
  for (let i = 0; i < 16; i++)
    if ((ranges & (0x8000 >>> i)) !== 0) inUse += read(16).toString(2).split('1').length - 1;
  const groups = read(3);
  const selectors = read(15);
  for (let i = 0; i < selectors; i++) while (read(1) === 1);
  let insertAt = 0;
  let first = 0;
  for (let t = 0; t < groups; t++) {
    let current = read(5);
    if (t === 0) {
      insertAt = at;
      first = current;
    }
    for (let symbol = 0; symbol < inUse + 2; symbol++) {
      while (read(1) === 1) current += read(1) === 0 ? 1 : -1;
    }
  }
  const headerBits = at - 32 + 4 * extraSteps;
  // The stream ends with the end magic and the 32-bit CRC, then padding to a byte.
  const end = bits.lastIndexOf((0x177245385090).toString(2).padStart(48, '0')) + 80;
  const pair = first > 1 ? '1110' : '1011';
  let out = bits.slice(0, insertAt) + pair.repeat(extraSteps) + bits.slice(insertAt, end);
  out = out.padEnd(Math.ceil(out.length / 8) * 8, '0');
  const stream = Buffer.alloc(out.length / 8);
  for (let i = 0; i < stream.length; i++) stream[i] = parseInt(out.slice(i * 8, i * 8 + 8), 2);
  return { stream, headerBits };
}

describe('bzip2Crc', () => {
  it('is CRC-32/BZIP2 (check value of "123456789" is 0xfc891918)', () => {
    expect(bzip2Crc(Buffer.from('123456789'))).toBe(0xfc891918);
  });
});

describe.skipIf(skip !== undefined).each(decoders)('bunzip2 %s against the bzip2 binary', (_how, decoder) => {
  const decode = (data: Uint8Array, chunkSize?: number): Promise<Outcome> => run(decoder(), data, chunkSize);

  const inputs: Array<[string, Buffer, number]> = [
    ['empty input', Buffer.alloc(0), 9],
    ['one byte', Buffer.from('x'), 9],
    ['all byte values', Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i & 255)), 9],
    ['random bytes over several 100k blocks', randomBytes(350_000), 1],
    ['long runs and text', sample(700_000, 7), 9],
    ['a run of 5 MB of zeros (run-length heavy)', Buffer.alloc(5_000_000), 9],
    ['runs of exactly 4 and 5 bytes', Buffer.from('aaaabbbbbccccdddddaaaa'.repeat(5000)), 2],
    // Blocks of 128k entries and more are walked by 32 interleaved walkers.
    ['a periodic block (one BWT chain per repetition)', Buffer.from('abc'.repeat(200_000)), 9],
    ['a periodic block of random bytes', Buffer.concat(Array<Buffer>(400).fill(randomBytes(997))), 9],
  ];

  it.each(inputs)('round-trips %s', async (_name, data, level) => {
    const compressed = compress(data, level);
    const { output, error } = await decode(compressed);
    expect(error).toBeUndefined();
    expect(output.equals(data)).toBe(true);
  });

  it('decodes concatenated streams', async () => {
    const a = sample(150_000, 1);
    const b = randomBytes(1000);
    const { output, error } = await decode(Buffer.concat([compress(a, 1), compress(b, 9)]));
    expect(error).toBeUndefined();
    expect(output.equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('gives the same output for every chunking', async () => {
    const data = sample(120_000, 3);
    const compressed = compress(data, 1);
    for (const size of [1, 2, 3, 7, 127, 4096, 100_000]) {
      const { output, error } = await decode(compressed, size);
      expect(error).toBeUndefined();
      expect(output.equals(data)).toBe(true);
    }
  });

  it('reports every cut as BZIP2_ERR_TRUNCATED after emitting only complete blocks', async () => {
    const data = sample(250_000, 11);
    const compressed = compress(data, 1);
    const step = Math.max(1, Math.floor(compressed.length / 300));
    const cuts = new Set<number>([0, 1, 2, 3, 4, 5, compressed.length - 1, compressed.length - 2]);
    for (let cut = 0; cut < compressed.length; cut += step) cuts.add(cut);
    let withOutput = 0;
    for (const cut of cuts) {
      const { output, error } = await decode(compressed.subarray(0, cut), 8192);
      expect(error).toBeInstanceOf(DecompressError);
      expect((error as DecompressError).code).toBe('BZIP2_ERR_TRUNCATED');
      expect((error as DecompressError).outputBytes).toBe(output.length);
      // Only whole 100k blocks (level 1) come out before the cut.
      expect(data.subarray(0, output.length).equals(output)).toBe(true);
      if (output.length > 0) withOutput++;
    }
    expect(withOutput).toBeGreaterThan(0);
  });

  it('never emits corrupted data: a flipped bit gives a typed error or a CRC-correct prefix', async () => {
    // Two blocks: 200k entries (interleaved walkers) and a short one (a single walker).
    const data = sample(260_000, 5);
    const compressed = compress(data, 2);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4, max: compressed.length - 1 }),
        fc.integer({ min: 0, max: 7 }),
        async (at, bit) => {
          const broken = Buffer.from(compressed);
          broken[at] ^= 1 << bit;
          const { output, error } = await decode(broken, 4096);
          if (error !== undefined) {
            expect(error).toBeInstanceOf(DecompressError);
          }
          expect(data.subarray(0, output.length).equals(output)).toBe(true);
        },
      ),
      { numRuns: fuzzRuns },
    );
  });

  it('decodes Huffman code lengths that oversubscribe the code space as bzip2 -dc does', async () => {
    // Found by benchmarks/src/fuzz-bzip2.ts: two streams, a bit of the second one's code
    // lengths flipped. Only unused codes fall off the end, so bzip2 decodes it (and the
    // block CRC matches); rovkit used to reject the table.
    const input = Buffer.from(
      '425a6839314159265359a5151c7000000441cd80013ffbf80000020800200000040808200048a9faa7a40f1269e146' +
        '41953d4da023230d4d2168a19ca550e60a04b24d5c10633c459a2e8966f79dab7df0fd8a3c70beb31d8a203b02f4' +
        '2ac87279f10c0393f177245385090a5151c700425a683231415926535997d77c850000139fc3000100020004002037' +
        '75d8084000084008002000314006234d3c68429934c7aa7ea00692f143d125f2830347da88675c5ee0648f79ac98' +
        '308b4595cacee745dc914e142425f5df2140',
      'hex',
    );
    const reference = spawnSync('bzip2', ['-dc'], { input });
    expect(reference.status).toBe(0);
    expect(reference.stdout.length).toBe(2300);
    const { output, error } = await decode(input);
    expect(error).toBeUndefined();
    expect(output.equals(reference.stdout)).toBe(true);
  });

  it('accepts a block header of up to 40 kB, whatever the chunks, and raises BZIP2_ERR_DATA past it', async () => {
    // bzip2 accepts any number of code-length steps that undo each other; rovkit reads at
    // most BZIP2_MAX_HEADER bytes of header. In this thread, a longer one used to decode
    // when it came in one chunk and be BZIP2_ERR_TRUNCATED when it came in small ones.
    const data = Buffer.from('a header of many steps '.repeat(40));
    const short = withLongHeader(data, 0).headerBits;
    const steps = Math.floor((BZIP2_MAX_HEADER * 8 - short) / 4);
    for (const [extra, fits] of [
      [steps, true],
      [steps + 1, false],
      [steps + 1000, false],
    ] as const) {
      const { stream, headerBits } = withLongHeader(data, extra);
      expect(headerBits <= BZIP2_MAX_HEADER * 8).toBe(fits);
      const reference = spawnSync('bzip2', ['-dc'], { input: stream });
      expect(reference.status).toBe(0);
      expect(reference.stdout.equals(data)).toBe(true);
      for (const chunkSize of [1000, 4096, 65536, stream.length]) {
        const { output, error } = await decode(stream, chunkSize);
        if (fits) {
          expect(error).toBeUndefined();
          expect(output.equals(data)).toBe(true);
        } else {
          expect((error as DecompressError).code).toBe('BZIP2_ERR_DATA');
          expect((error as DecompressError).message).toContain(`longer than ${BZIP2_MAX_HEADER} bytes`);
        }
      }
    }
  });

  it('detects a wrong stream CRC', async () => {
    const compressed = Buffer.from(compress(Buffer.from('hello, world\n'.repeat(10)), 9));
    // The stream ends with the 48-bit end magic and the 32-bit combined CRC (then padding);
    // flip a bit of the last full byte, which is inside the combined CRC.
    compressed[compressed.length - 2] ^= 0x01;
    const { error } = await decode(compressed);
    expect((error as DecompressError).code).toBe('BZIP2_ERR_CRC');
  });
});

describe.each(decoders)('bunzip2 %s on hand-made input', (_how, decoder) => {
  const decode = (data: Uint8Array, chunkSize?: number): Promise<Outcome> => run(decoder(), data, chunkSize);

  it('rejects input that is not bzip2', async () => {
    const { error } = await decode(Buffer.from('hello world'));
    expect((error as DecompressError).code).toBe('BZIP2_ERR_FORMAT');
    const { error: level } = await decode(Buffer.from('BZh0aaaa'));
    expect((level as DecompressError).code).toBe('BZIP2_ERR_FORMAT');
  });

  it('treats an empty input and a cut signature as truncated', async () => {
    for (const text of ['', 'B', 'BZ', 'BZh']) {
      const { error } = await decode(Buffer.from(text));
      expect((error as DecompressError).code).toBe('BZIP2_ERR_TRUNCATED');
    }
  });

  it('raises only DecompressError on random input behind a valid signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean(), async (body, magic) => {
        const head = magic ? [0x31, 0x41, 0x59, 0x26, 0x53, 0x59] : [];
        const { output, error } = await decode(Buffer.from([0x42, 0x5a, 0x68, 0x39, ...head, ...body]));
        expect(error).toBeInstanceOf(DecompressError);
        expect(output.length).toBe(0);
      }),
      { numRuns: fuzzRuns * 2 },
    );
  });
});

describe.skipIf(skip !== undefined)('bunzip2 in worker threads, block boundaries', () => {
  const data = Buffer.concat([sample(230_000, 21), randomBytes(30_000), sample(150_000, 22)]);
  const compressed = Buffer.concat([compress(data, 1), compress(sample(5_000, 23), 9)]);

  it('decodes the same when magics are also found where no block starts', async () => {
    // Real data has a false magic once in 2^48 bits; add them at chosen places instead.
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: compressed.length * 8 - 1 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 70_000 }),
        async (falseBits, chunkSize) => {
          const finder: typeof findMagics = (bytes, from, to) => {
            const hits = findMagics(bytes, from, to);
            // The finder sees the reader's window: offsets in it are relative to its start,
            // which is not known here, so false hits go at the same offsets in every window.
            for (const bit of falseBits) {
              if (bit >> 3 >= from && bit >> 3 < to) hits.push(bit);
            }
            return hits.sort((a, b) => a - b);
          };
          const parts: Buffer[] = [];
          for await (const part of bunzip2Parallel(chunked(compressed, chunkSize), pool!, {
            findMagics: finder,
          }))
            parts.push(part);
          expect(Buffer.concat(parts).equals(Buffer.concat([data, sample(5_000, 23)]))).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe.skipIf(skip !== undefined)('bunzip2 in worker threads against the one in this thread', () => {
  // Three blocks at level 2 and a second stream: block, stream and multi-stream paths.
  const data = sample(450_000, 31);
  const compressed = Buffer.concat([compress(data, 2), compress(data.subarray(0, 120_000), 1)]);

  /** The input with bit `bit` of byte `at` flipped, then cut to `cut` bytes (null: not cut). */
  function corrupt(at: number, bit: number, cut: number | null): Buffer {
    const broken = Buffer.from(compressed);
    broken[at] ^= 1 << bit;
    return cut === null ? broken : broken.subarray(0, cut);
  }

  async function expectSame(input: Buffer): Promise<Outcome> {
    const here = await run(bunzip2, input, 50_000);
    const there = await run(inWorkers(), input, 50_000);
    expect(there.output.equals(here.output)).toBe(true);
    expect((there.error as DecompressError | undefined)?.code).toBe(
      (here.error as DecompressError | undefined)?.code,
    );
    return here;
  }

  // Counterexamples found by the property below; each one is a fixed example as well.
  const counterexamples: Array<[number, number, number | null]> = [
    // Corrupts the first block so that it reads past the next block's magic: the workers'
    // first piece ran out (a truncation only of the piece), and that error was kept over
    // the real one found when joined with the next piece (BZIP2_ERR_TRUNCATED, not DATA).
    [12705, 0, null],
  ];

  it.each(counterexamples)(
    'flipping bit %i.%i (cut %s) gives the same result as bzip2 -dc',
    async (at, bit, cut) => {
      const input = corrupt(at, bit, cut);
      const here = await expectSame(input);
      const reference = spawnSync('bzip2', ['-dc'], { input, maxBuffer: 1 << 28 });
      expect(reference.status).toBe(2);
      expect(reference.stderr.toString()).toContain('Data integrity error');
      expect((here.error as DecompressError).code).toBe('BZIP2_ERR_DATA');
      // bzip2 writes in pieces of 5000 bytes and drops the one it fills when the error comes.
      expect(here.output.length).toBeGreaterThanOrEqual(reference.stdout.length);
      expect(here.output.subarray(0, reference.stdout.length).equals(reference.stdout)).toBe(true);
    },
  );

  it('emits a block whose next magic is corrupted, then raises BZIP2_ERR_DATA, as bzip2 -dc does', async () => {
    // More compressed data after the first block than a block can take: the workers used to
    // join the first piece with the next ones until that limit and then fail, not emitting it.
    const random = randomBytes(500_000);
    const stream = compress(random, 1);
    const magics = findMagics(stream, 0, stream.length);
    expect(magics.length).toBeGreaterThanOrEqual(6);
    const broken = Buffer.from(stream);
    broken[(magics[1]! >>> 3) + 2] ^= 0x10;
    const here = await expectSame(broken);
    expect((here.error as DecompressError).code).toBe('BZIP2_ERR_DATA');
    expect(here.output.length).toBe(99_981);
    expect(here.output.equals(random.subarray(0, 99_981))).toBe(true);
    const reference = spawnSync('bzip2', ['-dc'], { input: broken, maxBuffer: 1 << 28 });
    expect(reference.status).toBe(2);
    // bzip2 writes in pieces of 5000 bytes and drops the one it fills when the error comes.
    expect(reference.stdout.length).toBe(95_000);
    expect(here.output.subarray(0, 95_000).equals(reference.stdout)).toBe(true);
  });

  it('emits the same bytes and raises the same error on corrupted and cut streams', async () => {
    // The property holds for every input (checked with 20,000 runs on several seeds); the
    // seed is fixed so that a run in CI plays the same inputs as the last check.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4, max: compressed.length - 1 }),
        fc.integer({ min: 0, max: 7 }),
        fc.option(fc.integer({ min: 0, max: compressed.length }), { freq: 4 }),
        async (at, bit, cut) => {
          await expectSame(corrupt(at, bit, cut));
        },
      ),
      { numRuns: fuzzRuns, seed: fuzzSeed, examples: counterexamples },
    );
  });
});

describe.skipIf(skip !== undefined)('bunzip2 memory on a stream of maximal run-length blocks', () => {
  // One 900k block of the first stage's runs (4 bytes + a count of 255, 5 bytes for 259)
  // expands to 46.6 MB; a few hundred compressed bytes hold it. Thirty of them are 1.4 GB:
  // both decoders must emit block by block, holding a few blocks at most, not the output.
  const block = compress(Buffer.alloc(46_000_000), 9);
  const copies = 30;
  const stream = Buffer.concat(Array<Buffer>(copies).fill(block));
  const zeros = Buffer.alloc(46_000_000);

  it.each([
    ['in this thread', (source: AsyncIterable<Uint8Array>) => bunzip2(source)],
    // As the MRT reader reads: the memory of each chunk goes back to the workers.
    [
      'in worker threads',
      (source: AsyncIterable<Uint8Array>) => bunzip2Parallel(source, pool!, { reuseChunks: true }),
    ],
  ])(
    '%s holds a bounded number of blocks',
    async (_how, decoder) => {
      expect(block.length).toBeLessThan(1000);
      const before = process.memoryUsage().rss;
      let peak = 0;
      let total = 0;
      let chunks = 0;
      for await (const chunk of decoder(chunked(stream, 4096))) {
        total += chunk.length;
        chunks++;
        if (!zeros.subarray(0, chunk.length).equals(chunk)) throw new Error('not zeros');
        peak = Math.max(peak, process.memoryUsage().rss - before);
      }
      expect(total).toBe(46_000_000 * copies);
      expect(chunks).toBeGreaterThanOrEqual(copies);
      expect(peak).toBeLessThan(600e6);
    },
    120_000,
  );
});
