import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteRefs } from './route-refs.js';

const fuzzRuns = Number(process.env.ROVKIT_FUZZ_RUNS ?? 200);

describe('RouteRefs', () => {
  it('counts holders per (prefix, origin), keeping a second origin and AS_SET apart', () => {
    const refs = new RouteRefs();
    expect(refs.add(4, 0xc0000200, 0, 0, 0, 24, 64500, false)).toBe(1);
    expect(refs.add(4, 0xc0000200, 0, 0, 0, 24, 64500, false)).toBe(2);
    expect(refs.add(4, 0xc0000200, 0, 0, 0, 24, 64501, false)).toBe(1);
    expect(refs.add(4, 0xc0000200, 0, 0, 0, 24, 0, true)).toBe(1);
    expect(refs.add(4, 0xc0000200, 0, 0, 0, 24, 0, false)).toBe(1);
    expect(refs.add(6, 0x20010db8, 0, 0, 0, 32, 64500, false)).toBe(1);
    expect(refs.size).toBe(5);
    expect(refs.remove(4, 0xc0000200, 0, 0, 0, 24, 64500, false)).toBe(1);
    expect(refs.remove(4, 0xc0000200, 0, 0, 0, 24, 64500, false)).toBe(0);
    expect(refs.remove(4, 0xc0000200, 0, 0, 0, 24, 64500, false)).toBe(-1);
    expect(refs.remove(4, 0xc0000200, 0, 0, 0, 24, 64501, false)).toBe(0);
    expect(refs.remove(4, 0xc0000200, 0, 0, 0, 25, 64501, false)).toBe(-1);
    expect(refs.size).toBe(3);
  });

  it('agrees with a map of string keys under any order of adds and removes (fast-check)', () => {
    const op = fc.record({
      add: fc.boolean(),
      family: fc.constantFrom<4 | 6>(4, 6),
      w0: fc.constantFrom(0, 0xc0000200, 0xffffff00),
      length: fc.constantFrom(0, 24, 32),
      origin: fc.constantFrom(0, 1, 4294967295),
      isSet: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const refs = new RouteRefs();
        const naive = new Map<string, number>();
        for (const o of ops) {
          const key = `${o.family} ${o.w0} ${o.length} ${o.isSet ? 'set' : o.origin}`;
          const origin = o.isSet ? 0 : o.origin;
          if (o.add) {
            naive.set(key, (naive.get(key) ?? 0) + 1);
            expect(refs.add(o.family, o.w0, 0, 0, 0, o.length, origin, o.isSet)).toBe(naive.get(key));
          } else {
            const had = naive.get(key);
            const want = had === undefined ? -1 : had - 1;
            if (had === 1) naive.delete(key);
            else if (had !== undefined) naive.set(key, had - 1);
            expect(refs.remove(o.family, o.w0, 0, 0, 0, o.length, origin, o.isSet)).toBe(want);
          }
          expect(refs.size).toBe(naive.size);
        }
      }),
      { numRuns: fuzzRuns * 2 },
    );
  });
});
