import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSerial, serialAdd, serialBefore } from './serial.js';

// RFC 1982 §3.2 as written, with BigInt so that nothing wraps by accident.
function oracle(a: number, b: number): -1 | 0 | 1 | undefined {
  const i1 = BigInt(a);
  const i2 = BigInt(b);
  const half = 2n ** 31n;
  if (i1 === i2) return 0;
  if ((i1 < i2 && i2 - i1 < half) || (i1 > i2 && i1 - i2 > half)) return -1;
  if ((i1 < i2 && i2 - i1 > half) || (i1 > i2 && i1 - i2 < half)) return 1;
  return undefined;
}

describe('serial arithmetic (RFC 1982, 32 bits)', () => {
  it('orders across the wrap at 2^32', () => {
    expect(compareSerial(0xffffffff, 0)).toBe(-1);
    expect(compareSerial(0, 0xffffffff)).toBe(1);
    expect(serialBefore(0xfffffff0, 5)).toBe(true);
    expect(serialAdd(0xffffffff, 1)).toBe(0);
    expect(serialAdd(0xfffffffe, 5)).toBe(3);
  });

  it('cannot order serials exactly 2^31 apart, and can order 2^31 - 1 apart', () => {
    expect(compareSerial(0, 0x8000_0000)).toBeUndefined();
    expect(compareSerial(0x8000_0000, 0)).toBeUndefined();
    expect(compareSerial(1, 0x8000_0001)).toBeUndefined();
    expect(compareSerial(0, 0x7fff_ffff)).toBe(-1);
    expect(compareSerial(0, 0x8000_0001)).toBe(1);
    expect(compareSerial(0x8000_0001, 0)).toBe(-1);
    expect(serialBefore(0, 0x8000_0000)).toBe(false);
    expect(serialBefore(0x8000_0000, 0)).toBe(false);
  });

  it('refuses increments outside 0..2^31-1', () => {
    expect(() => serialAdd(1, 0x8000_0000)).toThrow(RangeError);
    expect(() => serialAdd(1, -1)).toThrow(RangeError);
    expect(serialAdd(1, 0x7fff_ffff)).toBe(0x8000_0000);
  });

  it('agrees with the RFC formula (property)', () => {
    const serial = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(serial, serial, (a, b) => {
        expect(compareSerial(a, b)).toBe(oracle(a, b));
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(serial, fc.integer({ min: 1, max: 0x7fffffff }), (s, n) => {
        expect(serialBefore(s, serialAdd(s, n))).toBe(true);
      }),
    );
  });
});
