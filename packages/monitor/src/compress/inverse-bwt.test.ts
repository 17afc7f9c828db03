// The interleaved walkers against the plain inverse BWT (one walk of `count` steps from the
// head, as bzip2 does it), with walkers and chunks small enough that short blocks use every
// path: many segments, chunks chained, periodic blocks, and links from arbitrary bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InverseBwt } from './inverse-bwt.js';

/** The BWT as bzip2 writes it: last column of the sorted rotations, and the original's row. */
function forwardBwt(text: Uint8Array): { last: Uint8Array; origPtr: number } {
  const n = text.length;
  const rows = Array.from({ length: n }, (_, i) => i);
  rows.sort((a, b) => {
    for (let k = 0; k < n; k++) {
      const d = text[(a + k) % n] - text[(b + k) % n];
      if (d !== 0) return d;
    }
    return a - b;
  });
  return {
    last: Uint8Array.from(rows, (r) => text[(r + n - 1) % n]),
    origPtr: rows.indexOf(0),
  };
}

/** The single walk: link the entries, then follow the chain `count` steps from the head. */
function plainInverse(last: Uint8Array, origPtr: number): Uint8Array {
  const n = last.length;
  const counts = new Int32Array(256);
  for (const byte of last) counts[byte]++;
  const cumulative = new Int32Array(256);
  for (let i = 1; i < 256; i++) cumulative[i] = cumulative[i - 1] + counts[i - 1];
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) next[cumulative[last[i]]++] = i;
  const out = new Uint8Array(n);
  let p = next[origPtr];
  for (let k = 0; k < n; k++) {
    out[k] = last[p];
    p = next[p];
  }
  return out;
}

function run(inverse: InverseBwt, last: Uint8Array, origPtr: number): Uint8Array | undefined {
  const counts = new Int32Array(256);
  for (const byte of last) counts[byte]++;
  // Bytes past `count` must not be read: give the column room filled with other values.
  const column = new Uint8Array(last.length + 7).fill(0xff);
  column.set(last);
  return inverse.run(column, counts, origPtr, last.length)?.slice(0, last.length);
}

const walkerOptions = fc.record({
  walkers: fc.integer({ min: 1, max: 12 }),
  chunkBytes: fc.integer({ min: 1, max: 40 }),
});

describe('InverseBwt', () => {
  it('undoes the BWT of text over small alphabets', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 1500, max: 3 }),
        walkerOptions,
        (text, options) => {
          const { last, origPtr } = forwardBwt(text);
          expect(run(new InverseBwt(options), last, origPtr)).toEqual(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('undoes the BWT of periodic blocks (one chain per repetition)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 2, max: 60 }),
        walkerOptions,
        (piece, times, options) => {
          const text = new Uint8Array(piece.length * times);
          for (let i = 0; i < times; i++) text.set(piece, i * piece.length);
          const { last, origPtr } = forwardBwt(text);
          expect(run(new InverseBwt(options), last, origPtr)).toEqual(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives what the single walk gives for arbitrary bytes (corrupt blocks), and always ends', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.nat(),
        walkerOptions,
        (last, pointer, options) => {
          const origPtr = pointer % last.length;
          expect(run(new InverseBwt(options), last, origPtr)).toEqual(plainInverse(last, origPtr));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reuses its buffers across blocks of different sizes', () => {
    const inverse = new InverseBwt({ walkers: 4, chunkBytes: 8 });
    for (const size of [500, 60, 2000, 1, 333]) {
      const text = Uint8Array.from({ length: size }, (_, i) => (i * 7919) % 251);
      const { last, origPtr } = forwardBwt(text);
      expect(run(inverse, last, origPtr)).toEqual(text);
    }
  });
});
