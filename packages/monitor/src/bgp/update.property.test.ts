// Random UPDATEs built byte by byte against a naive oracle, and a fuzz run over random and
// mutated messages: only BgpError may escape, whatever is emitted is well formed, and the
// RFC 7606 recovery of a message that does not parse only ever withdraws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BgpError } from './errors.js';
import { OriginKind, type Family, type UpdateSink } from './route.js';
import {
  asPath,
  attribute,
  mpReach,
  mpUnreach,
  nextHop,
  origin,
  pathValue,
  u32,
  update,
  type Bytes,
} from './testing/build.js';
import { UpdateParser } from './update.js';

const fuzzRuns = Number(process.env.ROVKIT_FUZZ_RUNS ?? 300);

interface Route {
  family: Family;
  bytes: number[]; // 4 or 16 raw address bytes, host bits included
  length: number;
  pathId: number;
}

const routeArb = (family: Family): fc.Arbitrary<Route> =>
  fc.record({
    family: fc.constant(family),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), {
      minLength: family === 4 ? 4 : 16,
      maxLength: family === 4 ? 4 : 16,
    }),
    length: fc.integer({ min: 0, max: family === 4 ? 32 : 128 }),
    pathId: fc.integer({ min: 1, max: 0xffffffff }),
  });

function encode(route: Route, addPath: boolean): Bytes {
  const bytes = route.bytes.slice(0, (route.length + 7) >> 3);
  return [...(addPath ? u32(route.pathId) : []), route.length, ...bytes];
}

/** The oracle: the prefix text via BigInt arithmetic, independent of the parser's word code. */
function expectedPrefix(route: Route): string {
  const bits = route.family === 4 ? 32 : 128;
  let value = 0n;
  for (const b of route.bytes) value = (value << 8n) | BigInt(b);
  const mask = route.length === 0 ? 0n : ((1n << BigInt(route.length)) - 1n) << BigInt(bits - route.length);
  value &= mask;
  if (route.family === 4) {
    return `${[24n, 16n, 8n, 0n].map((s) => (value >> s) & 255n).join('.')}/${route.length}`;
  }
  const groups = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return `${new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)}/${route.length}`;
}

function textOf(family: Family, w: number[], length: number): string {
  if (family === 4) return `${[24, 16, 8, 0].map((s) => (w[0] >>> s) & 255).join('.')}/${length}`;
  const groups = w.flatMap((x) => [(x >>> 16).toString(16), (x & 0xffff).toString(16)]);
  return `${new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)}/${length}`;
}

class TextSink implements UpdateSink {
  events: string[] = [];
  announce(
    f: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    l: number,
    id: number,
    o: number,
    k: OriginKind,
  ): void {
    this.events.push(
      `A ${textOf(f, [w0, w1, w2, w3], l)} ${id} ${k === OriginKind.Asn ? o : k === OriginKind.Set ? 'set' : 'local'}`,
    );
  }
  withdraw(f: Family, w0: number, w1: number, w2: number, w3: number, l: number, id: number): void {
    this.events.push(`W ${textOf(f, [w0, w1, w2, w3], l)} ${id}`);
  }
  endOfRib(afi: number, safi: number): void {
    this.events.push(`EOR ${afi} ${safi}`);
  }
}

const segmentArb = fc.tuple(
  fc.constantFrom(1, 2, 2, 3, 4),
  fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 5 }),
);

/** RFC 6811 origin of a segment list, naively. */
function expectedOrigin(segments: Array<[number, number[]]>): string {
  const last = segments.at(-1);
  if (last === undefined || last[0] > 2) return 'local';
  return last[0] === 1 ? 'set' : String(last[1].at(-1));
}

describe('UPDATE parsing against a naive oracle', () => {
  it('emits exactly the routes that were encoded', () => {
    fc.assert(
      fc.property(
        fc.array(routeArb(4), { maxLength: 6 }),
        fc.array(routeArb(4), { maxLength: 6 }),
        fc.array(routeArb(6), { maxLength: 6 }),
        fc.array(routeArb(6), { maxLength: 6 }),
        fc.array(segmentArb, { maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        (withdrawn4, announced4, withdrawn6, announced6, segments, addPath4, addPath6) => {
          const attributes = [
            ...origin(),
            ...nextHop(),
            ...asPath(segments),
            ...mpUnreach(
              2,
              1,
              withdrawn6.flatMap((r) => encode(r, addPath6)),
            ),
            ...mpReach(
              2,
              1,
              Array<number>(16).fill(1),
              announced6.flatMap((r) => encode(r, addPath6)),
            ),
          ];
          const message = update({
            withdrawn: withdrawn4.flatMap((r) => encode(r, addPath4)),
            attributes,
            nlri: announced4.flatMap((r) => encode(r, addPath4)),
          });
          const sink = new TextSink();
          const parser = new UpdateParser(sink);
          parser.addPathV4 = addPath4;
          parser.addPathV6 = addPath6;
          parser.parseMessage(Buffer.from(message), 0, message.length);
          const o = expectedOrigin(segments);
          const id = (r: Route, addPath: boolean): number => (addPath ? r.pathId : 0);
          expect(sink.events).toEqual([
            ...withdrawn4.map((r) => `W ${expectedPrefix(r)} ${id(r, addPath4)}`),
            ...withdrawn6.map((r) => `W ${expectedPrefix(r)} ${id(r, addPath6)}`),
            ...announced4.map((r) => `A ${expectedPrefix(r)} ${id(r, addPath4)} ${o}`),
            ...announced6.map((r) => `A ${expectedPrefix(r)} ${id(r, addPath6)} ${o}`),
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Checks the shape of every emitted route; throws a plain Error (not BgpError) when wrong. */
class CheckingSink implements UpdateSink {
  count = 0;
  /** Set while recover() runs: it may only withdraw. */
  recovering = false;
  announce(
    f: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    l: number,
    id: number,
    o: number,
    k: OriginKind,
  ): void {
    if (this.recovering) throw new Error('recover() announced a route');
    this.withdraw(f, w0, w1, w2, w3, l, id);
    if (!Number.isInteger(o) || o < 0 || o > 0xffffffff || (k !== 0 && o !== 0) || k < 0 || k > 2) {
      throw new Error(`bad origin ${o}/${k}`);
    }
  }
  withdraw(f: Family, w0: number, w1: number, w2: number, w3: number, l: number, id: number): void {
    this.count++;
    const words = [w0, w1, w2, w3];
    if (f !== 4 && f !== 6) throw new Error(`bad family ${f}`);
    if (l < 0 || l > (f === 4 ? 32 : 128)) throw new Error(`bad length ${l}`);
    if (words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff))
      throw new Error(`bad words ${words}`);
    if (f === 4 && (w1 | w2 | w3) !== 0) throw new Error('IPv4 route with IPv6 words');
    for (let k = 0; k < 4; k++) {
      const bits = Math.max(0, Math.min(32, l - 32 * k));
      const host = bits === 32 ? 0 : bits === 0 ? 0xffffffff : 0xffffffff >>> bits;
      if ((words[k] & host) !== 0) throw new Error(`host bits set in ${words}/${l}`);
    }
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new Error(`bad path id ${id}`);
  }
  endOfRib(): void {}
}

const seedMessages: Bytes[] = [
  update({
    withdrawn: [24, 198, 51, 100],
    attributes: [
      ...origin(),
      ...nextHop(),
      ...asPath([
        [2, [64496, 4200000000]],
        [1, [1, 2]],
      ]),
    ],
    nlri: [24, 192, 0, 2, 0, 25, 203, 0, 113, 128],
  }),
  update({
    attributes: [
      ...origin(),
      ...asPath([[2, [64496, 23456]]], 2),
      ...attribute(17, pathValue([[2, [4200000001]]]), 0xc0),
      ...mpReach(2, 1, Array<number>(16).fill(0), [32, 0x20, 1, 0x0d, 0xb8, 48, 0x20, 1, 0x0d, 0xb8, 0, 1]),
      ...mpUnreach(2, 1, [64, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0]),
    ],
  }),
  update({ attributes: mpUnreach(2, 1, []) }),
];

function mutate(message: Bytes, edits: Array<[number, number, number]>): Bytes {
  const out = message.slice();
  for (const [kind, position, value] of edits) {
    const at = position % (out.length + 1);
    if (kind === 0) out[at] = value;
    else if (kind === 1) out.splice(at, 1);
    else if (kind === 2) out.splice(at, 0, value);
    else out.length = at;
  }
  return out;
}

function parseOnly(bytes: Uint8Array, options: [boolean, boolean, boolean], mode: number): void {
  const sink = new CheckingSink();
  const parser = new UpdateParser(sink);
  [parser.as4, parser.addPathV4, parser.addPathV6] = options;
  try {
    if (mode === 0) parser.parseMessage(bytes, 0, bytes.length);
    else if (mode === 1) parser.parseUpdate(bytes, 0, bytes.length);
    else parser.parseAttributes(bytes, 0, bytes.length);
  } catch (error) {
    if (!(error instanceof BgpError)) throw error;
    expect(error.code).toBe('BGP_ERR_MALFORMED');
    if (mode !== 0) return;
    // RFC 7606 recovery of the same message: withdrawals only, a known outcome, no throw.
    expect(sink.count).toBe(0);
    sink.recovering = true;
    expect([0, 1, 2, 3]).toContain(parser.recover(bytes, 0, bytes.length));
  }
}

describe('UPDATE fuzz', () => {
  const options = fc.tuple(fc.boolean(), fc.boolean(), fc.boolean());

  it('random bytes raise only BgpError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        options,
        fc.integer({ min: 0, max: 2 }),
        (bytes, o, mode) => parseOnly(bytes, o, mode),
      ),
      { numRuns: fuzzRuns * 3 },
    );
  });

  it('random bodies behind a valid header raise only BgpError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), options, (body, o) => {
        const message = [
          ...Array<number>(16).fill(0xff),
          (body.length + 19) >> 8,
          (body.length + 19) & 255,
          2,
          ...body,
        ];
        parseOnly(Uint8Array.from(message), o, 0);
      }),
      { numRuns: fuzzRuns * 3 },
    );
  });

  it('mutated valid messages raise only BgpError', () => {
    const edit = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(
        fc.constantFrom(...seedMessages),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        options,
        fc.integer({ min: 0, max: 2 }),
        (seed, edits, o, mode) => {
          const mutated = mutate(seed, edits);
          // Keep the header length consistent half of the time so the body parser is reached.
          if (edits[0][0] % 2 === 0 && mutated.length >= 19) {
            mutated[16] = mutated.length >> 8;
            mutated[17] = mutated.length & 255;
          }
          parseOnly(Uint8Array.from(mutated), o, mode === 2 ? 0 : mode);
        },
      ),
      { numRuns: fuzzRuns * 5 },
    );
  });
});
