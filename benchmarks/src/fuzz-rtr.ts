// Fuzzing the RTR decoder and session state machine at scale (issue 4: at least a million
// inputs; `npm test` runs a few thousand in packages/rtr-client/src/fuzz.test.ts). Each
// input is played, cut into random chunks, to a fresh session through
// @rovkit/rtr-client/fuzz: valid full-sync answers, mutations of them (bytes flipped,
// cut, inserted, length fields rewritten, PDUs duplicated or appended) and random bytes.
//
// Checked for every input: no exception escapes; the outcome is a known one; nothing is
// applied without End of Data (and nothing is visible before it); a detected protocol
// error is answered with one Error Report of its code and nothing else is sent; a valid
// answer syncs exactly its VRPs. Memory: the V8 heap after a full GC, every 100,000
// inputs, must not grow.
//
// node benchmarks/dist/fuzz-rtr.js [--inputs N] [--seed S]
import { fileURLToPath } from 'node:url';

import { FLAG_ANNOUNCE, PduType, Writer, writePdu, type Pdu } from '@rovkit/rtr-client';
import { runRtrStream, type FuzzResult } from '@rovkit/rtr-client/fuzz';

import { collectGarbage, memory } from './stats.js';
import { fuzzMain, type FuzzReport } from './fuzz-main.js';
import { BYTE_MUTATIONS, mutateBytes } from './mutate.js';
import { Random } from './random.js';

export interface FuzzRtrOptions {
  /** Inputs to play (default 1,000,000). */
  readonly inputs?: number;
  /** PRNG seed (default 1); the same seed plays the same inputs. */
  readonly seed?: number;
  readonly log?: (text: string) => void;
}

export type FuzzRtrResult = FuzzReport;

const KNOWN = new Set([
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

function mask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/** A valid answer to a Reset Query and how many distinct VRPs it announces. */
function validAnswer(r: Random): { version: 0 | 1 | 2; bytes: Buffer; vrps: number } {
  const version = r.below(3) as 0 | 1 | 2;
  const session = r.below(0x10000);
  const pdus: Pdu[] = [{ type: PduType.CacheResponse, version, sessionId: session }];
  const seen = new Set<string>();
  const n = r.below(40);
  for (let i = 0; i < n; i++) {
    const asn = r.chance(0.1) ? 0 : r.u32();
    if (r.chance(0.7)) {
      const len = r.below(33);
      const max = Math.min(32, len + r.below(4));
      const address = (r.u32() & mask(len)) >>> 0;
      const key = `4 ${address} ${len} ${max} ${asn}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pdus.push({
        type: PduType.Ipv4Prefix,
        version,
        flags: FLAG_ANNOUNCE,
        prefixLength: len,
        maxLength: max,
        address,
        asn,
      });
    } else {
      const len = r.below(129);
      const max = Math.min(128, len + r.below(8));
      const words = [0, 1, 2, 3].map((w) => (r.u32() & mask(len - 32 * w)) >>> 0) as [
        number,
        number,
        number,
        number,
      ];
      const key = `6 ${words.join(',')} ${len} ${max} ${asn}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pdus.push({
        type: PduType.Ipv6Prefix,
        version,
        flags: FLAG_ANNOUNCE,
        prefixLength: len,
        maxLength: max,
        address: words,
        asn,
      });
    }
  }
  if (version >= 1 && r.chance(0.3)) {
    const ski = new Uint8Array(20).map(() => r.below(256));
    const spki = new Uint8Array(1 + r.below(100)).map(() => r.below(256));
    pdus.push({ type: PduType.RouterKey, version, flags: FLAG_ANNOUNCE, ski, asn: r.u32(), spki });
  }
  if (version === 2 && r.chance(0.5)) {
    const providers = [...new Set(Array.from({ length: 1 + r.below(6) }, () => 1 + r.below(100_000)))].sort(
      (a, b) => a - b,
    );
    if (r.chance(0.5))
      pdus.push({ type: PduType.Aspa, version, flags: FLAG_ANNOUNCE, customer: r.u32(), providers });
    else
      pdus.push({
        type: PduType.Aspa,
        version,
        flags: FLAG_ANNOUNCE,
        customer: r.u32(),
        providers,
        afiFlags: r.below(2),
      });
  }
  pdus.push(
    version === 0
      ? { type: PduType.EndOfData, version, sessionId: session, serial: r.u32() }
      : {
          type: PduType.EndOfData,
          version,
          sessionId: session,
          serial: r.u32(),
          timers: { refresh: r.below(100_000), retry: r.below(10_000), expire: r.below(200_000) },
        },
  );
  if (r.chance(0.3)) pdus.push({ type: PduType.SerialNotify, version, sessionId: session, serial: r.u32() });
  const w = new Writer(1024);
  for (const p of pdus) writePdu(w, p);
  return { version, bytes: w.take(), vrps: seen.size };
}

const appendable: Pdu[] = [
  { type: PduType.CacheReset, version: 2 },
  { type: PduType.CacheReset, version: 1 },
  { type: PduType.ErrorReport, version: 2, errorCode: 2, pdu: new Uint8Array(0), text: 'no data' },
  { type: PduType.ErrorReport, version: 0, errorCode: 4, pdu: new Uint8Array(0), text: '' },
  { type: PduType.CacheResponse, version: 2, sessionId: 1 },
  { type: PduType.ResetQuery, version: 2 },
];

function mutate(r: Random, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const count = 1 + r.below(4);
  for (let i = 0; i < count; i++) {
    const at = b.length === 0 ? 0 : r.below(b.length);
    const kind = r.below(BYTE_MUTATIONS + 3);
    if (kind < BYTE_MUTATIONS) {
      b = Buffer.from(mutateBytes(r, b, kind, 40));
      continue;
    }
    switch (kind - BYTE_MUTATIONS + 3) {
      case 3: {
        // Rewrite a length field: small, off by a little, or huge.
        const p = Math.max(0, at - (at % 4));
        if (p + 8 <= b.length)
          b.writeUInt32BE(
            r.chance(0.5)
              ? r.below(64)
              : r.chance(0.5)
                ? r.u32()
                : (b.readUInt32BE(p + 4) + r.below(9) - 4) >>> 0,
            p + 4,
          );
        break;
      }
      case 5: {
        const w = new Writer(64);
        writePdu(w, appendable[r.below(appendable.length)]!);
        b = Buffer.concat([b.subarray(0, at), w.take(), b.subarray(at)]);
        break;
      }
      default:
        // Change a version byte or a type byte at a PDU-ish position.
        if (b.length > 1) b[at - (at % 2)] = r.below(16);
    }
  }
  return b;
}

function cuts(r: Random, length: number): number[] {
  const n = r.below(9);
  return Array.from({ length: n }, () => r.below(length + 1));
}

function check(r: FuzzResult, expectVrps: number | undefined): string | undefined {
  if (!KNOWN.has(r.outcome)) return `unknown outcome ${r.outcome}`;
  if (r.vrpsBeforeEndOfData !== 0) return `${r.vrpsBeforeEndOfData} VRPs visible before End of Data`;
  if (r.applied === 0 && r.vrps !== 0) return `${r.vrps} VRPs held without an applied update`;
  if (r.outcome !== 'synced' && r.applied !== 0) return `update applied with outcome ${r.outcome}`;
  if (r.pduErrorCode === undefined && r.reportsSent.length !== 0)
    return `sent reports ${r.reportsSent} without an error`;
  if (
    r.pduErrorCode !== undefined &&
    !(r.reportsSent.length === 0 || (r.reportsSent.length === 1 && r.reportsSent[0] === r.pduErrorCode))
  )
    return `error code ${r.pduErrorCode} but reports ${r.reportsSent}`;
  if (expectVrps !== undefined && (r.outcome !== 'synced' || r.vrps !== expectVrps))
    return `valid answer: outcome ${r.outcome}, ${r.vrps} VRPs, expected synced with ${expectVrps}`;
  return undefined;
}

export async function fuzzRtr(options: FuzzRtrOptions = {}): Promise<FuzzRtrResult> {
  const inputs = options.inputs ?? 1_000_000;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => undefined);
  const r = new Random(seed);
  const outcomes: Record<string, number> = {};
  const violations: string[] = [];
  const heapMb: number[] = [];
  collectGarbage();
  heapMb.push(memory().heapUsed / 1e6);
  const start = performance.now();
  for (let i = 1; i <= inputs; i++) {
    const kind = r.below(10);
    let bytes: Buffer;
    let version: 0 | 1 | 2;
    let expect: number | undefined;
    if (kind < 2) {
      const a = validAnswer(r);
      ({ bytes, version } = a);
      expect = a.vrps;
    } else if (kind < 8) {
      const a = validAnswer(r);
      bytes = mutate(r, a.bytes);
      version = a.version;
    } else {
      bytes = Buffer.from(Array.from({ length: r.below(200) }, () => r.below(256)));
      version = r.below(3) as 0 | 1 | 2;
    }
    let result: FuzzResult;
    try {
      result = await runRtrStream(bytes, {
        version,
        cuts: cuts(r, bytes.length),
        query: expect === undefined && r.chance(0.2) ? 'serial' : 'reset',
      });
    } catch (error) {
      if (violations.length < 20)
        violations.push(`input ${i}: threw ${String(error)} on ${bytes.toString('hex')}`);
      continue;
    }
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    const broken = check(result, expect);
    if (broken !== undefined && violations.length < 20)
      violations.push(`input ${i}: ${broken} on ${bytes.toString('hex')}`);
    if (i % 100_000 === 0) {
      collectGarbage();
      heapMb.push(memory().heapUsed / 1e6);
      log(`fuzz-rtr: ${i} inputs, heap ${heapMb.at(-1)!.toFixed(1)} MB, ${violations.length} violations`);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { inputs, seed, seconds, inputsPerSecond: inputs / seconds, outcomes, violations, heapMb };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await fuzzMain(fuzzRtr);
}
