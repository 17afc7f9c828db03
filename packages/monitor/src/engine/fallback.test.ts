import { VrpList, type Family } from '@rovkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { analyseFallback, Fallback, FALLBACKS } from './fallback.js';

const fuzzRuns = Number(process.env.ROVKIT_FUZZ_RUNS ?? 200);

/**
 * An engine whose VRPs make every route inside 0.0.0.0/1 or ::/1 Valid for AS 1 and
 * Invalid for any other origin; routes outside are NotFound.
 */
function engine(): Engine {
  const e = new Engine();
  const vrps = new VrpList(2);
  vrps.pushV4(0, 1, 32, 1);
  vrps.pushV6(0, 0, 0, 0, 1, 128, 1);
  e.applyVrps(e.registerVrpSource('test'), vrps, new VrpList(0), true);
  return e;
}

interface R {
  family: Family;
  /** The prefix's top 12 bits (bits past `length` zero). */
  top: number;
  length: number;
  origin: number;
}

const BITS = 12;

function announce(e: Engine, routes: readonly R[]): void {
  const source = e.registerSource('test');
  for (const r of routes) {
    const w0 = (r.top << (32 - BITS)) >>> 0;
    e.announce(source, r.family, w0, 0, 0, 0, r.length, r.origin, false, -1, -1);
  }
}

const route = fc
  .record({
    family: fc.constantFrom<Family>(4, 6),
    top: fc.nat((1 << BITS) - 1),
    length: fc.integer({ min: 0, max: BITS }),
    origin: fc.integer({ min: 1, max: 2 }),
  })
  .map((r) => ({ ...r, top: r.length === 0 ? 0 : r.top & ~((1 << (BITS - r.length)) - 1) }));

/** The naive answer: walk every /12 block of the space. */
function oracle(routes: readonly R[]) {
  const invalid = (r: R): boolean => r.length >= 1 && r.top >> (BITS - 1) === 0 && r.origin !== 1;
  const inside = (r: R, block: number): boolean =>
    r.length === 0 || block >> (BITS - r.length) === r.top >> (BITS - r.length);
  // /12 blocks in /24 units (IPv4) and /48 units (IPv6).
  const unit = [2 ** (24 - BITS), 2 ** (48 - BITS)];
  const space = [0, 0, 0, 0];
  const counts = [0, 0, 0, 0, 0, 0];
  const seen = new Set<string>();
  const unique = routes.filter((r) => {
    const key = `${r.family} ${r.top} ${r.length} ${r.origin}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const perRoute = new Map<string, [number, number]>();
  for (const family of [4, 6] as const) {
    const afi = family === 4 ? 0 : 1;
    const mine = unique.filter((r) => r.family === family);
    const good = mine.filter((r) => !invalid(r));
    const bad = mine.filter(invalid);
    for (let block = 0; block < 1 << BITS; block++) {
      const inBad = bad.some((r) => inside(r, block));
      const inGood = good.some((r) => inside(r, block));
      if (inBad) space[afi * 2 + (inGood ? 0 : 1)]! += unit[afi]!;
    }
    for (const r of bad) {
      let covered = 0;
      let total = 0;
      for (let block = 0; block < 1 << BITS; block++) {
        if (!inside(r, block)) continue;
        total++;
        if (good.some((g) => inside(g, block))) covered++;
      }
      const f = covered === total ? Fallback.Covered : covered === 0 ? Fallback.None : Fallback.Partial;
      counts[afi * 3 + f]!++;
      perRoute.set(`${family} ${r.top} ${r.length} ${r.origin}`, [f, covered / total]);
    }
  }
  return { space, counts, perRoute };
}

describe('analyseFallback', () => {
  it('tells covered, partial and uncovered Invalid routes apart', () => {
    const e = engine();
    const source = e.registerSource('t');
    const v4 = (text: string): number => text.split('.').reduce((a, b) => a * 256 + Number(b), 0);
    const add = (prefix: string, origin: number): void => {
      const [a, l] = prefix.split('/');
      e.announce(source, 4, v4(a!), 0, 0, 0, Number(l), origin, false, -1, -1);
    };
    add('10.0.0.0/8', 64500); // Invalid, nothing above it
    add('10.0.0.0/9', 1); // Valid: half of the /8
    add('20.0.0.0/8', 1); // Valid
    add('20.1.0.0/16', 64501); // Invalid under a Valid /8
    add('30.0.0.0/24', 64502); // Invalid, alone
    add('30.0.0.0/25', 64503); // Invalid inside another Invalid: no cover either
    const r = analyseFallback(e.store);
    const byPrefix = new Map<string, [string, number, string | undefined]>();
    for (let k = 0; k < r.ids.length; k++) {
      const id = r.ids[k]!;
      const by = r.coveredBy[k]!;
      byPrefix.set(e.store.prefixText(id), [
        FALLBACKS[r.fallback[k]!]!,
        r.coveredShare[k]!,
        by < 0 ? undefined : `${e.store.prefixText(by)} ${e.store.originValue(by)}`,
      ]);
    }
    expect(Object.fromEntries(byPrefix)).toEqual({
      '10.0.0.0/8': ['partial', 0.5, undefined],
      '20.1.0.0/16': ['covered', 1, '20.0.0.0/8 1'],
      '30.0.0.0/24': ['none', 0, undefined],
      '30.0.0.0/25': ['none', 0, undefined],
    });
    expect([...r.routes]).toEqual([1, 1, 2, 0, 0, 0]);
    // Invalid space: the /8 (65536 /24s, half covered), the /16 (256, covered), the /24.
    expect([...r.space]).toEqual([32768 + 256, 32768 + 1, 0, 0]);
  });

  it('counts IPv6 exactly, down to a /128 under a /0', () => {
    const e = engine();
    const source = e.registerSource('t');
    e.announce(source, 6, 0x20010db8, 0, 0, 0, 32, 64500, false, -1, -1); // Invalid
    e.announce(source, 6, 0x20010db8, 0, 0, 1, 128, 1, false, -1, -1); // Valid, inside it
    const r = analyseFallback(e.store);
    expect([...r.routes]).toEqual([0, 0, 0, 0, 1, 0]);
    expect(r.coveredShare[0]).toBe(2 ** -96);
    expect(r.space[2]).toBe(2 ** -80);
    expect(r.space[3]).toBe(2 ** 16 - 2 ** -80);
  });

  it('follows the routes and states when they change', () => {
    const e = engine();
    const source = e.registerSource('t');
    e.announce(source, 4, 0x0a000000, 0, 0, 0, 8, 64500, false, -1, -1);
    expect([...analyseFallback(e.store).routes]).toEqual([0, 0, 1, 0, 0, 0]);
    e.announce(source, 4, 0x0a000000, 0, 0, 0, 8, 1, false, -1, -1);
    expect([...analyseFallback(e.store).routes]).toEqual([1, 0, 0, 0, 0, 0]);
    e.withdraw(source, 4, 0x0a000000, 0, 0, 0, 8, 64500, false);
    expect(analyseFallback(e.store).ids.length).toBe(0);
  });

  it('agrees with a block-by-block count (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(route, { maxLength: 40 }), (routes) => {
        const e = engine();
        announce(e, routes);
        const r = analyseFallback(e.store);
        const want = oracle(routes);
        expect([...r.space]).toEqual(want.space);
        expect([...r.routes]).toEqual(want.counts);
        expect(r.ids.length).toBe(want.perRoute.size);
        for (let k = 0; k < r.ids.length; k++) {
          const id = r.ids[k]!;
          const family = e.store.family[id] === 4 ? 4 : 6;
          const length = e.store.prefixLength(id);
          const w0 = (family === 4 ? e.store.v4 : e.store.v6).addr[
            e.store.node[id]! * (family === 4 ? 1 : 4)
          ]!;
          const key = `${family} ${w0 >>> (32 - BITS)} ${length} ${e.store.origin[id]}`;
          expect([r.fallback[k], r.coveredShare[k]]).toEqual(want.perRoute.get(key));
        }
      }),
      { numRuns: fuzzRuns * 2 },
    );
  });
});
