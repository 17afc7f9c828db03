// The byte mutations every fuzz script starts from, on a seedable Random so that a run
// replays from its seed: one byte changed, a cut, random bytes inserted, a run of the input
// repeated elsewhere, a run deleted. Each script adds the mutations of its own format
// (length fields, tokens, bit flips) beside these.
import type { Random } from './random.js';

export function randomBytes(r: Random, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = r.below(256);
  return b;
}

/** How many kinds `mutateBytes` has: pass `r.below(BYTE_MUTATIONS)` or a kind of your choosing. */
export const BYTE_MUTATIONS = 5;

/**
 * Mutation `kind` (0 to BYTE_MUTATIONS - 1) of `b` at a random place, runs of at most
 * `maxRun` bytes. Returns a new buffer or a view of `b`; `b` itself is never written.
 */
export function mutateBytes(r: Random, b: Buffer, kind: number, maxRun = 24): Buffer {
  const at = r.below(b.length + 1);
  switch (kind) {
    case 0: {
      const copy = Buffer.from(b);
      if (copy.length > 0) copy[Math.min(at, copy.length - 1)] = r.below(256);
      return copy;
    }
    case 1:
      return b.subarray(0, at);
    case 2:
      return Buffer.concat([b.subarray(0, at), randomBytes(r, 1 + r.below(maxRun)), b.subarray(at)]);
    case 3: {
      const from = r.below(b.length + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(from, from + 1 + r.below(maxRun)), b.subarray(at)]);
    }
    default:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.below(maxRun))]);
  }
}
