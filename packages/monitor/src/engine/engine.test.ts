import { VrpList } from '@rovkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, STATE_OF_CODE, STATES } from './engine.js';
import { analyseFallback } from './fallback.js';
import { runToEnd } from './steps.js';

// A naive model: lists of VRPs and routes, validated by scanning every VRP (RFC 6811).
interface V {
  fam: 4 | 6;
  w0: number;
  len: number;
  max: number;
  asn: number;
}
interface R {
  fam: 4 | 6;
  w0: number;
  len: number;
  origin: number;
  set: boolean;
  group: number;
  sources: Set<number>;
}

const mask = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const covers = (v: { fam: number; w0: number; len: number }, r: { fam: number; w0: number; len: number }) =>
  v.fam === r.fam && v.len <= r.len && ((v.w0 ^ r.w0) & mask(v.len)) >>> 0 === 0;

function naiveCode(vrps: V[], r: R): number {
  let covered = false;
  let lengthMiss = false;
  for (const v of vrps) {
    if (!covers(v, r)) continue;
    covered = true;
    if (!r.set && r.origin !== 0 && v.asn === r.origin) {
      if (v.max >= r.len) return 1;
      lengthMiss = true;
    }
  }
  return covered ? (lengthMiss ? 3 : 2) : 0;
}

// Prefixes in a small space (10.0.0.0/8 for IPv4, 2001:db8::/32 for IPv6, second word
// 0) so that VRPs and routes overlap often.
const prefixArb = fc
  .record({ fam: fc.constantFrom<4 | 6>(4, 6), bits: fc.integer({ min: 0, max: 0xffff }), extra: fc.nat(8) })
  .map(({ fam, bits, extra }) => {
    const base = fam === 4 ? 0x0a000000 : 0x20010db8;
    const len = fam === 4 ? 8 + extra * 2 : 32 + extra * 2; // up to /24 resp. /48 in steps of 2
    const w0 = fam === 4 ? (base | ((bits << 8) & 0x00ffffff)) >>> 0 : base;
    // IPv6: keep the variation in word 0 by folding bits into the /32 part is impossible
    // (w0 is the /32), so IPv6 prefixes vary only in length; IPv4 ones in both.
    return { fam, w0: (w0 & mask(fam === 4 ? len : 32)) >>> 0, len };
  });

const vrpArb = prefixArb.chain((p) =>
  fc.record({
    fam: fc.constant(p.fam),
    w0: fc.constant(p.w0),
    len: fc.constant(p.len),
    max: fc.integer({ min: p.len, max: p.fam === 4 ? 26 : 50 }),
    asn: fc.integer({ min: 0, max: 4 }),
  }),
);

type Op =
  | {
      kind: 'announce';
      prefix: { fam: 4 | 6; w0: number; len: number };
      origin: number;
      set: boolean;
      group: number;
      source: number;
    }
  | { kind: 'withdraw'; index: number; source: number }
  | { kind: 'vrps'; add: V[]; remove: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('announce' as const),
    prefix: prefixArb,
    origin: fc.integer({ min: 0, max: 4 }),
    set: fc.boolean(),
    group: fc.integer({ min: 0, max: 2 }),
    source: fc.integer({ min: 0, max: 1 }),
  }),
  fc.record({
    kind: fc.constant('withdraw' as const),
    index: fc.nat(40),
    source: fc.integer({ min: 0, max: 1 }),
  }),
  fc.record({
    kind: fc.constant('vrps' as const),
    add: fc.array(vrpArb, { maxLength: 6 }),
    remove: fc.array(fc.nat(40), { maxLength: 4 }),
  }),
);

function words(p: { fam: 4 | 6; w0: number }): [number, number, number, number] {
  return [p.w0, 0, 0, 0];
}

function vrpList(vrps: V[]): VrpList {
  const list = new VrpList();
  for (const v of vrps) {
    if (v.fam === 4) list.pushV4(v.w0, v.len, v.max, v.asn);
    else list.pushV6(v.w0, 0, 0, 0, v.len, v.max, v.asn);
  }
  return list;
}

function naiveSpace(routes: R[], vrps: V[], group: number, fam: 4 | 6, state: number): number {
  const mine = routes.filter(
    (r) => r.group === group && r.fam === fam && STATE_OF_CODE[naiveCode(vrps, r)] === state,
  );
  let total = 0;
  for (const r of mine) {
    const inside = mine.some(
      (o) => o !== r && covers(o, r) && (o.len < r.len || mine.indexOf(o) < mine.indexOf(r)),
    );
    if (!inside) total += 2 ** ((fam === 4 ? 24 : 48) - r.len);
  }
  return total;
}

describe('Engine', () => {
  it('keeps every route state, the counts and the address space equal to a naive scan', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.boolean(), (ops, subtrees) => {
        // Both revalidation paths: a subtree walk per VRP, and one pass for large deltas.
        const engine = new Engine({ fullPassRatio: subtrees ? 0 : 4 });
        const sources = [engine.registerSource('a'), engine.registerSource('b')];
        const vrpSource = engine.registerVrpSource('v');
        const groups = ['own', 'customer:x', 'customer:y'].map((g) => engine.groupId(g));
        const vrps: V[] = [];
        const routes: R[] = [];
        for (const op of ops) {
          if (op.kind === 'announce') {
            const p = op.prefix;
            const origin = op.set ? 0 : op.origin;
            const [w0, w1, w2, w3] = words(p);
            engine.announce(
              sources[op.source]!,
              p.fam,
              w0,
              w1,
              w2,
              w3,
              p.len,
              origin,
              op.set,
              groups[op.group]!,
              -1,
            );
            let r = routes.find(
              (x) =>
                x.fam === p.fam &&
                x.w0 === p.w0 &&
                x.len === p.len &&
                x.origin === origin &&
                x.set === op.set,
            );
            if (r === undefined) {
              r = { ...p, origin, set: op.set, group: op.group, sources: new Set() };
              routes.push(r);
            }
            r.group = op.group;
            r.sources.add(op.source);
          } else if (op.kind === 'withdraw') {
            const r = routes[op.index % Math.max(1, routes.length)];
            if (r === undefined) continue;
            engine.withdraw(sources[op.source]!, r.fam, r.w0, 0, 0, 0, r.len, r.origin, r.set);
            r.sources.delete(op.source);
            if (r.sources.size === 0) routes.splice(routes.indexOf(r), 1);
          } else {
            // Withdraw present VRPs only: sources hand the engine exact deltas.
            const removed: V[] = [];
            for (const i of new Set(op.remove)) if (i < vrps.length) removed.push(vrps[i]!);
            const added = op.add.filter(
              (v) =>
                !vrps.some(
                  (x) =>
                    x.fam === v.fam && x.w0 === v.w0 && x.len === v.len && x.max === v.max && x.asn === v.asn,
                ) && !removed.includes(v),
            );
            const unique = added.filter(
              (v, i) =>
                added.findIndex(
                  (x) =>
                    x.fam === v.fam && x.w0 === v.w0 && x.len === v.len && x.max === v.max && x.asn === v.asn,
                ) === i,
            );
            engine.applyVrps(vrpSource, vrpList(unique), vrpList(removed), false);
            for (const v of removed) vrps.splice(vrps.indexOf(v), 1);
            vrps.push(...unique);
          }
          // Every route's state equals the naive one.
          expect(engine.store.size).toBe(routes.length);
          for (const r of routes) {
            const id = engine.store.find(r.fam, r.w0, 0, 0, 0, r.len, r.origin, r.set);
            expect(id).toBeGreaterThanOrEqual(0);
            expect(engine.stateOf(id)).toBe(naiveCode(vrps, r));
          }
        }
        // Counts and address space equal naive ones, per group, family and state.
        const space = engine.addressSpace();
        for (let g = 0; g < 3; g++) {
          for (const [afi, fam] of [
            [0, 4],
            [1, 6],
          ] as const) {
            for (let st = 0; st < 3; st++) {
              const naive = routes.filter(
                (r) => r.group === g && r.fam === fam && STATE_OF_CODE[naiveCode(vrps, r)] === st,
              ).length;
              expect(engine.countOf(STATES[st]!, groups[g]!, afi)).toBe(naive);
              expect(space[(groups[g]! * 2 + afi) * 3 + st]).toBeCloseTo(
                naiveSpace(routes, vrps, g, fam, st),
                9,
              );
            }
          }
        }
        // A copy of the columns keeps both walks' answers while the store changes under it.
        const columns = engine.store.columns();
        const fallback = analyseFallback(engine.store);
        for (const r of routes)
          for (const s of r.sources)
            engine.withdraw(sources[s]!, r.fam, r.w0, 0, 0, 0, r.len, r.origin, r.set);
        for (let i = 0; i < 8; i++)
          engine.announce(sources[0]!, 4, 0xc6336400 + i * 256, 0, 0, 0, 24, 7, false, 0, -1);
        expect([...runToEnd(engine.addressSpaceSteps(columns))]).toEqual([...space]);
        expect(analyseFallback(columns)).toEqual(fallback);
      }),
      { numRuns: 200 },
    );
  });

  it('counts state changes and reports them only after the first full VRP set', () => {
    const changes: [number, number][] = [];
    const engine = new Engine({ listener: { routeChanged: (_id, from, to) => changes.push([from, to]) } });
    const source = engine.registerSource('routes');
    const vrps = engine.registerVrpSource('file');
    const own = engine.groupId('own');
    engine.announce(source, 4, 0xc0000200, 0, 0, 0, 24, 64496, false, own, -1);
    const first = new VrpList();
    first.pushV4(0xc0000200, 24, 24, 64496);
    engine.applyVrps(vrps, first, new VrpList(), true);
    expect(engine.ready).toBe(true);
    expect(changes).toEqual([]);
    expect(engine.countOf('valid')).toBe(1);
    const other = new VrpList();
    other.pushV4(0xc0000200, 24, 24, 64511);
    engine.applyVrps(vrps, other, first, false);
    expect(changes).toEqual([[1, 2]]);
    expect(engine.countOf('invalid', own, 0)).toBe(1);
    expect(engine.stateChanges[0 * 3 + 1]).toBe(1);
    const id = engine.store.find(4, 0xc0000200, 0, 0, 0, 24, 64496, false);
    const explanation = engine.explain(id);
    expect(explanation).toMatchObject({
      state: 'invalid',
      reason: 'as',
      prefix: '192.0.2.0/24',
      origin: 64496,
    });
    expect(explanation.unmatchedAs).toEqual([{ prefix: '192.0.2.0/24', maxLength: 24, asn: 64511 }]);
  });

  // A file rewritten with the same VRPs (or a broken one replaced by the good one again)
  // reloads as an empty delta: the analyses that walk every route must not run for it.
  it('says it changed for a VRP delta that changes something, not for an empty one', () => {
    let changed = 0;
    const engine = new Engine({ listener: { changed: () => void changed++ } });
    const vrps = engine.registerVrpSource('file');
    const first = new VrpList();
    first.pushV4(0xc0000200, 24, 24, 64496);
    engine.applyVrps(vrps, first, new VrpList(), true);
    expect(changed).toBe(1);
    engine.applyVrps(vrps, new VrpList(), new VrpList(), false);
    engine.applyVrps(vrps, new VrpList(), new VrpList(), true);
    expect(changed).toBe(1);
    expect(engine.ready).toBe(true);
  });
});
