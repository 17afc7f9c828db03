// The trie against a list scan (testing/naive-rov.ts) on random overlapping VRP sets:
// every fast path must agree with the oracle on every route.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPrefix, parsePrefix } from './prefix.js';
import { NaiveRov } from './testing/naive-rov.js';
import { ValidationCode, validityOf } from './validity.js';
import { VrpTable } from './vrp-table.js';

// Addresses from a small pool of bit patterns so that prefixes overlap often.
const v4Prefix = fc
  .tuple(
    fc.constantFrom(0x0a000000, 0x0a010000, 0x0a018000, 0xc0000200, 0xffffffff, 0),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 0xff }),
  )
  .map(([base, length, noise]) => {
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    const address = ((base ^ (noise << 8)) & mask) >>> 0;
    return formatPrefix(4, address, 0, 0, 0, length);
  });

const v6Prefix = fc
  .tuple(
    fc.constantFrom(
      [0x20010db8, 0, 0, 0],
      [0x20010db8, 0x00010000, 0, 0],
      [0, 0, 0xffff, 0xc0000200],
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    ),
    fc.integer({ min: 0, max: 128 }),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([base, length, flip]) => {
    const words: number[] = [...base];
    words[flip] = (words[flip]! ^ 0x00008000) >>> 0;
    for (let w = 0; w < 4; w++) {
      const bits = length - 32 * w;
      const mask = bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
      words[w] = (words[w]! & mask) >>> 0;
    }
    return formatPrefix(6, words[0]!, words[1]!, words[2]!, words[3]!, length);
  });

const anyPrefix = fc.oneof(v4Prefix, v6Prefix);
const asn = fc.constantFrom(0, 1, 2, 64496, 4294967295);

const vrp = anyPrefix.chain((prefix) => {
  const p = parsePrefix(prefix);
  const familyMax = p.family === 4 ? 32 : 128;
  return fc.record({
    prefix: fc.constant(prefix),
    maxLength: fc.integer({ min: p.length, max: familyMax }),
    asn,
  });
});

const origin = fc.oneof(asn, fc.constant('none' as const));
const route = fc.tuple(anyPrefix, origin);

function checkAgainstOracle(table: VrpTable, oracle: NaiveRov, routes: [string, number | 'none'][]): void {
  for (const [prefix, org] of routes) {
    const expected = oracle.validate(prefix, org);
    expect(table.validate(prefix, org), `${prefix} ${org}`).toBe(expected);
    const code = table.validateCode(prefix, org);
    expect(validityOf(code)).toBe(expected);
    if (expected === 'invalid') {
      expect(code === ValidationCode.InvalidLength ? 'length' : 'as').toBe(oracle.reason(prefix, org));
    }
    const p = parsePrefix(prefix);
    const numericOrigin = org === 'none' ? 0 : org;
    const numeric =
      p.family === 4
        ? table.validateV4(p.words[0], p.length, numericOrigin)
        : table.validateV6(p.words[0], p.words[1], p.words[2], p.words[3], p.length, numericOrigin);
    expect(numeric).toBe(code);
    const explanation = table.explain(prefix, org);
    expect(explanation.state).toBe(expected);
    expect(
      explanation.matched.length + explanation.unmatchedAs.length + explanation.unmatchedLength.length,
    ).toBe(new Set(oracle.covering(prefix).map((v) => v.key)).size);
  }
  // The batch paths, over the same routes at once.
  const v4 = routes.filter(([p]) => !p.includes(':'));
  const v6 = routes.filter(([p]) => p.includes(':'));
  const addrs = new Uint32Array(v4.length);
  const lengths4 = new Uint8Array(v4.length);
  const origins4 = new Uint32Array(v4.length);
  v4.forEach(([p, o], i) => {
    const parsed = parsePrefix(p);
    addrs[i] = parsed.words[0];
    lengths4[i] = parsed.length;
    origins4[i] = o === 'none' ? 0 : o;
  });
  const out4 = new Uint8Array(v4.length);
  table.validateBatchV4(addrs, lengths4, origins4, out4);
  v4.forEach(([p, o], i) => expect(validityOf(out4[i]!)).toBe(oracle.validate(p, o)));
  const words = new Uint32Array(v6.length * 4);
  const lengths6 = new Uint8Array(v6.length);
  const origins6 = new Uint32Array(v6.length);
  v6.forEach(([p, o], i) => {
    const parsed = parsePrefix(p);
    words.set(parsed.words, i * 4);
    lengths6[i] = parsed.length;
    origins6[i] = o === 'none' ? 0 : o;
  });
  const out6 = new Uint8Array(v6.length);
  table.validateBatchV6(words, lengths6, origins6, out6);
  v6.forEach(([p, o], i) => expect(validityOf(out6[i]!)).toBe(oracle.validate(p, o)));
}

describe('VrpTable agrees with a naive scan', () => {
  it('on random overlapping VRP sets and announcements', () => {
    fc.assert(
      fc.property(
        fc.array(vrp, { maxLength: 60 }),
        fc.array(route, { minLength: 1, maxLength: 40 }),
        (vrps, routes) => {
          const oracle = new NaiveRov();
          for (const v of vrps) oracle.add(v.prefix, v.maxLength, v.asn);
          // Lookups from the root, and (indexAfter 0) through the IPv4 /16 start index.
          for (const indexAfter of [undefined, 0]) {
            const table = new VrpTable({ capacity: 4, ...(indexAfter === undefined ? {} : { indexAfter }) });
            for (const v of vrps) table.add(v);
            expect(table.size).toBe(oracle.uniqueKeys().size);
            // Routes both random and equal to VRP prefixes (the boundary cases).
            checkAgainstOracle(table, oracle, [
              ...routes,
              ...vrps.map((v) => [v.prefix, v.asn] as [string, number]),
            ]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('through random add/remove sequences, with reference counts', () => {
    const op = fc.tuple(fc.boolean(), vrp);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.array(route, { maxLength: 30 }), (ops, routes) => {
        const table = new VrpTable({ capacity: 2 });
        const oracle = new NaiveRov();
        const added: (typeof ops)[number][1][] = [];
        for (const [isAdd, v] of ops) {
          // Removals mostly target something added before, so that counts go to zero.
          const target =
            !isAdd && added.length > 0 && v.maxLength % 3 !== 0 ? added[v.maxLength % added.length]! : v;
          if (isAdd) {
            table.add(target);
            oracle.add(target.prefix, target.maxLength, target.asn);
            added.push(target);
          } else {
            expect(table.remove(target)).toBe(oracle.remove(target.prefix, target.maxLength, target.asn));
          }
          expect(table.size).toBe(oracle.uniqueKeys().size);
        }
        const listed = [...table].map((v) => `${v.prefix} ${v.maxLength} ${v.asn}`);
        expect(new Set(listed)).toEqual(oracle.uniqueKeys());
        expect(listed.length).toBe(oracle.uniqueKeys().size);
        checkAgainstOracle(table, oracle, [
          ...routes,
          ...added.map((v) => [v.prefix, v.asn] as [string, number]),
        ]);
        // Removing everything leaves an empty trie, with every node given back.
        for (const v of [...table]) while (table.remove(v));
        expect(table.size).toBe(0);
        expect(table.v4.nodeCount + table.v6.nodeCount).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('with the IPv4 /16 start index built after every change, between adds and removes', () => {
    // indexAfter 0: the lookup after a change builds the index and every later one uses it.
    const op = fc.tuple(fc.boolean(), vrp, fc.array(route, { maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const table = new VrpTable({ capacity: 2, indexAfter: 0 });
        const oracle = new NaiveRov();
        const added: (typeof ops)[number][1][] = [];
        for (const [isAdd, v, routes] of ops) {
          const target = !isAdd && added.length > 0 ? added[v.maxLength % added.length]! : v;
          if (isAdd) {
            table.add(target);
            oracle.add(target.prefix, target.maxLength, target.asn);
            added.push(target);
          } else table.remove(target);
          if (!isAdd) oracle.remove(target.prefix, target.maxLength, target.asn);
          checkAgainstOracle(table, oracle, [
            ...routes,
            ...added.slice(-3).map((a) => [a.prefix, a.asn] as [string, number]),
          ]);
        }
      }),
      { numRuns: 60 },
    );
  });

  // diff compares sets of unique VRPs and applyDelta moves one reference per VRP listed,
  // which is how the sources use them: each holds every VRP once (a file's table is
  // replaced by the next, an RTR table refuses duplicates with error 7). So the tables
  // diffed here hold each VRP once; the generator's duplicates are added once.
  it('diff and applyDelta turn any set into any other', () => {
    const key = (v: { prefix: string; maxLength: number; asn: number }): string =>
      `${v.prefix} ${v.maxLength} ${v.asn}`;
    const unique = fc.uniqueArray(vrp, { maxLength: 40, selector: key });
    fc.assert(
      fc.property(unique, unique, (a, b) => {
        const from = new VrpTable();
        const to = new VrpTable();
        a.forEach((v) => from.add(v));
        b.forEach((v) => to.add(v));
        const { announced, withdrawn } = from.diff(to);
        from.applyDelta(announced, withdrawn);
        expect([...from]).toEqual([...to]);
      }),
      { numRuns: 200 },
    );
  });

  // The counterexample of a generator that let duplicates through (seed -1586962040): a VRP
  // added twice is listed once by diff, and withdrawing it once leaves one reference.
  it('diff lists a VRP held twice once; applying it withdraws one reference', () => {
    const from = new VrpTable();
    const v = { prefix: '0.0.0.0/0', maxLength: 3, asn: 2 };
    from.add(v);
    from.add(v);
    const { announced, withdrawn } = from.diff(new VrpTable());
    expect(announced.length).toBe(0);
    expect(withdrawn.length).toBe(1);
    from.applyDelta(announced, withdrawn);
    expect(from.count(v)).toBe(1);
    from.applyDelta(announced, withdrawn);
    expect(from.size).toBe(0);
  });
});
