// Fuzz test of the decoder and the session state machine: valid answers, mutations of
// them and random bytes, cut into random chunks. A few thousand inputs here;
// benchmarks/src/fuzz-rtr.ts runs a million.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runRtrStream, type FuzzResult } from './fuzz.js';
import type { Pdu } from './pdu.js';
import {
  aspa,
  cacheReset,
  cacheResponse,
  encode,
  endOfData,
  errorReport,
  prefix,
  routerKey,
  serialNotify,
} from './testing/pdus.js';

const knownOutcomes = new Set([
  'synced',
  'cacheReset',
  'noData',
  'versionError',
  'RTR_ERR_CORRUPT_DATA',
  'RTR_ERR_INVALID_REQUEST',
  'RTR_ERR_UNSUPPORTED_VERSION',
  'RTR_ERR_UNSUPPORTED_PDU_TYPE',
  'RTR_ERR_WITHDRAWAL_OF_UNKNOWN',
  'RTR_ERR_DUPLICATE_ANNOUNCEMENT',
  'RTR_ERR_UNEXPECTED_VERSION',
  'RTR_ERR_ASPA_PROVIDER_LIST',
  'RTR_ERR_REMOTE',
  'RTR_ERR_CONNECTION_CLOSED',
]);

function checkInvariants(r: FuzzResult): void {
  expect(knownOutcomes.has(r.outcome), r.outcome).toBe(true);
  // Nothing is visible before End of Data, and nothing at all without one.
  expect(r.vrpsBeforeEndOfData).toBe(0);
  if (r.applied === 0) expect(r.vrps).toBe(0);
  if (r.outcome !== 'synced') expect(r.applied).toBe(0);
  // A detected protocol error is answered with one Error Report of its code (none when
  // the culprit was itself an Error Report); nothing else is ever sent back.
  if (r.pduErrorCode === undefined) expect(r.reportsSent).toEqual([]);
  else
    expect(
      r.reportsSent.length === 0 || (r.reportsSent.length === 1 && r.reportsSent[0] === r.pduErrorCode),
    ).toBe(true);
}

const version = fc.constantFrom(0, 1, 2);
const v4 = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 0xffffffff }),
  )
  .map(([a, len, extra, asn]) => {
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const addr = (a & mask) >>> 0;
    const text = `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
    return { text, max: Math.min(32, len + (extra % 4)), asn };
  });
const v6 = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 32, max: 48 }),
    fc.integer({ min: 0, max: 0xffffffff }),
  )
  .map(([w, len, asn]) => ({ text: `2001:${w.toString(16)}::/${len}`, max: len + 8, asn }));

/** A valid answer to a Reset Query: Cache Response, unique payload, End of Data. */
const validAnswer = fc
  .tuple(
    version,
    fc.uniqueArray(fc.oneof(v4, v6), { selector: (p) => `${p.text}-${p.max}-${p.asn}`, maxLength: 30 }),
    fc.boolean(),
  )
  .map(([v, prefixes, extras]) => {
    const pdus: Pdu[] = [cacheResponse(v, 77), ...prefixes.map((p) => prefix(v, p.text, p.max, p.asn))];
    if (extras && v >= 1)
      pdus.push(routerKey(v, new Uint8Array(20).fill(9), 64512, new Uint8Array(30).fill(1)));
    if (extras && v === 2) pdus.push(aspa(2, 64500, [1, 2, 3]), aspa(2, 64501, [7], true, 1));
    pdus.push(endOfData(v, 77, 5), serialNotify(v, 77, 6));
    return { version: v, bytes: encode(...pdus), count: prefixes.length };
  });

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 24 }) }),
  fc.record({
    kind: fc.constant('append' as const),
    pdu: fc.constantFrom(
      cacheReset(2),
      errorReport(2, 2, 'no data'),
      errorReport(1, 0, 'x'),
      cacheResponse(2, 77),
    ),
  }),
);

function mutate(
  bytes: Buffer,
  mutations: { kind: string; at?: number; value?: number; bytes?: Uint8Array; pdu?: Pdu }[],
): Buffer {
  let b = Buffer.from(bytes);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : (m.at ?? 0) % b.length;
    if (m.kind === 'flip') b[at] = m.value!;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes!, b.subarray(at)]);
    else b = Buffer.concat([b, encode(m.pdu!)]);
  }
  return b;
}

const cuts = fc.array(fc.nat({ max: 2000 }), { maxLength: 8 });

describe('fuzz: decoder and session state machine', () => {
  it('syncs every valid answer, however it is cut', async () => {
    await fc.assert(
      fc.asyncProperty(validAnswer, cuts, async (answer, c) => {
        const r = await runRtrStream(answer.bytes, { version: answer.version as 0 | 1 | 2, cuts: c });
        checkInvariants(r);
        expect(r.outcome).toBe('synced');
        expect(r.vrps).toBe(answer.count);
        expect(r.reportsSent).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('survives mutated answers', async () => {
    await fc.assert(
      fc.asyncProperty(
        validAnswer,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        cuts,
        async (answer, m, c) => {
          const r = await runRtrStream(mutate(answer.bytes, m), {
            version: answer.version as 0 | 1 | 2,
            cuts: c,
          });
          checkInvariants(r);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('survives random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), version, cuts, async (bytes, v, c) => {
        const r = await runRtrStream(Buffer.from(bytes), {
          version: v as 0 | 1 | 2,
          cuts: c,
          query: v === 1 ? 'serial' : 'reset',
        });
        checkInvariants(r);
      }),
      { numRuns: 1000 },
    );
  });
});
