// Serial number arithmetic of RFC 1982 with SERIAL_BITS = 32, as RFC 8210 §2 requires
// for RTR serials: they wrap at 2^32, and two serials exactly 2^31 apart cannot be ordered.

const HALF = 0x8000_0000;

/**
 * Compares two serials: -1 when `a` comes before `b`, 1 when after, 0 when equal, and
 * `undefined` when they are 2^31 apart and RFC 1982 leaves the order undefined.
 */
export function compareSerial(a: number, b: number): -1 | 0 | 1 | undefined {
  a >>>= 0;
  b >>>= 0;
  if (a === b) return 0;
  const d = (b - a) >>> 0;
  if (d === HALF) return undefined;
  return d < HALF ? -1 : 1;
}

/** `a` comes strictly before `b` in serial order (false when unorderable). */
export function serialBefore(a: number, b: number): boolean {
  return compareSerial(a, b) === -1;
}

/** `s + n` modulo 2^32; RFC 1982 §3.1 allows adding 0..2^31-1. */
export function serialAdd(s: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n >= HALF)
    throw new RangeError(`cannot add ${n} to a serial (0..2^31-1)`);
  return (s + n) >>> 0;
}
