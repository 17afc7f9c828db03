// A corpus of malformed PDUs, each fed through the framer and the decoder as a stream
// would be, and the Error Report code each one must be answered with. Session-level
// faults (wrong version mid-session, duplicate announcement, withdrawal of an unknown
// record) are in session.test.ts because they depend on state.
import { describe, expect, it } from 'vitest';
import { ErrorCode, RtrWireError } from './errors.js';
import { Framer } from './framer.js';
import { runRtrStream } from './fuzz.js';
import { decodePdu, PduType } from './pdu.js';
import { cacheResponse, encode } from './testing/pdus.js';

interface Malformed {
  readonly name: string;
  readonly bytes: number[];
  readonly code: ErrorCode;
}

// prettier-ignore
const corpus: Malformed[] = [
  // Header
  { name: 'length field 0', bytes: [1, 2, 0, 0,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'length field 7', bytes: [1, 2, 0, 0,   0, 0, 0, 7], code: ErrorCode.CorruptData },
  { name: 'length field over the cap (2^32-1)', bytes: [1, 4, 0, 0,   0xff, 0xff, 0xff, 0xff], code: ErrorCode.CorruptData },
  { name: 'length field cap + 1', bytes: [1, 11, 0, 0,   0, 1, 0, 1], code: ErrorCode.CorruptData },
  { name: 'version 3', bytes: [3, 2, 0, 0,   0, 0, 0, 8], code: ErrorCode.UnsupportedProtocolVersion },
  { name: 'version 255', bytes: [255, 0, 0, 0,   0, 0, 0, 12,   0, 0, 0, 1], code: ErrorCode.UnsupportedProtocolVersion },
  { name: 'unassigned type 5', bytes: [1, 5, 0, 0,   0, 0, 0, 8], code: ErrorCode.UnsupportedPduType },
  { name: 'unknown type 12', bytes: [2, 12, 0, 0,   0, 0, 0, 8], code: ErrorCode.UnsupportedPduType },
  { name: 'unknown type 255', bytes: [0, 255, 0, 0,   0, 0, 0, 12,   0, 0, 0, 0], code: ErrorCode.UnsupportedPduType },
  { name: 'Router Key in version 0', bytes: [0, 9, 1, 0,   0, 0, 0, 33,   ...new Array<number>(25).fill(0)], code: ErrorCode.UnsupportedPduType },
  { name: 'ASPA in version 1', bytes: [1, 11, 1, 0,   0, 0, 0, 16,   0, 0, 0, 1,   0, 0, 0, 2], code: ErrorCode.UnsupportedPduType },
  // Wrong length fields for fixed-size PDUs
  { name: 'Serial Notify of length 16', bytes: [1, 0, 0, 1,   0, 0, 0, 16,   0, 0, 0, 1,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'Serial Notify of length 8', bytes: [1, 0, 0, 1,   0, 0, 0, 8], code: ErrorCode.CorruptData },
  { name: 'Cache Response of length 12', bytes: [1, 3, 0, 1,   0, 0, 0, 12,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'Cache Reset of length 12', bytes: [1, 8, 0, 0,   0, 0, 0, 12,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'Reset Query of length 12', bytes: [1, 2, 0, 0,   0, 0, 0, 12,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'IPv4 Prefix of length 24', bytes: [1, 4, 0, 0,   0, 0, 0, 24,   1, 8, 8, 0,   10, 0, 0, 0,   0, 0, 0, 1,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'IPv4 Prefix of length 16', bytes: [1, 4, 0, 0,   0, 0, 0, 16,   1, 8, 8, 0,   10, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'IPv6 Prefix of length 20 (an IPv4 body)', bytes: [1, 6, 0, 0,   0, 0, 0, 20,   1, 8, 8, 0,   10, 0, 0, 0,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'End of Data v0 of length 24', bytes: [0, 7, 0, 1,   0, 0, 0, 24,   0, 0, 0, 1,   0, 0, 0, 1,   0, 0, 0, 1,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'End of Data v1 of length 12', bytes: [1, 7, 0, 1,   0, 0, 0, 12,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'End of Data v2 of length 20', bytes: [2, 7, 0, 1,   0, 0, 0, 20,   0, 0, 0, 1,   0, 0, 0, 1,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  // Prefix fields (RFC 8210 §5.6, §5.7)
  { name: 'IPv4 prefix length 33', bytes: [1, 4, 0, 0,   0, 0, 0, 20,   1, 33, 33, 0,   10, 0, 0, 0,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  // What StayRTR 0.5.1 sends for the IPv4-mapped VRP ::ffff:192.0.2.0/120.
  { name: 'IPv4 prefix length 120 (StayRTR, IPv4-mapped IPv6)', bytes: [1, 4, 0, 0,   0, 0, 0, 20,   1, 120, 120, 0,   192, 0, 2, 0,   0, 0, 0xfd, 0xe9], code: ErrorCode.CorruptData },
  { name: 'IPv4 max length 33', bytes: [1, 4, 0, 0,   0, 0, 0, 20,   1, 8, 33, 0,   10, 0, 0, 0,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'IPv4 prefix length over max length', bytes: [1, 4, 0, 0,   0, 0, 0, 20,   1, 24, 16, 0,   10, 0, 0, 0,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'IPv4 host bits set', bytes: [1, 4, 0, 0,   0, 0, 0, 20,   1, 8, 8, 0,   10, 0, 0, 1,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'IPv6 prefix length 129', bytes: [1, 6, 0, 0,   0, 0, 0, 32,   1, 129, 129, 0,   ...new Array<number>(16).fill(0),   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'IPv6 max length 129', bytes: [1, 6, 0, 0,   0, 0, 0, 32,   1, 32, 129, 0,   0x20, 1, 0xd, 0xb8, ...new Array<number>(12).fill(0),   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'IPv6 prefix length over max length', bytes: [1, 6, 0, 0,   0, 0, 0, 32,   1, 48, 32, 0,   0x20, 1, 0xd, 0xb8, ...new Array<number>(12).fill(0),   0, 0, 0, 1], code: ErrorCode.CorruptData },
  { name: 'IPv6 host bits set in the last word', bytes: [1, 6, 0, 0,   0, 0, 0, 32,   1, 96, 128, 0,   0x20, 1, 0xd, 0xb8, ...new Array<number>(11).fill(0), 1,   0, 0, 0, 1], code: ErrorCode.CorruptData },
  // Variable-length PDUs
  { name: 'Router Key without SPKI (length 32)', bytes: [1, 9, 1, 0,   0, 0, 0, 32,   ...new Array<number>(24).fill(1)], code: ErrorCode.CorruptData },
  { name: 'Router Key of length 12', bytes: [1, 9, 1, 0,   0, 0, 0, 12,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'Error Report of length 12', bytes: [1, 10, 0, 0,   0, 0, 0, 12,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'Error Report encapsulating more than it holds', bytes: [1, 10, 0, 0,   0, 0, 0, 16,   0, 0, 0, 8,   0, 0, 0, 0], code: ErrorCode.CorruptData },
  { name: 'Error Report text length too long', bytes: [1, 10, 0, 0,   0, 0, 0, 18,   0, 0, 0, 0,   0, 0, 0, 3,   0x61, 0x62], code: ErrorCode.CorruptData },
  { name: 'Error Report text length too short', bytes: [1, 10, 0, 0,   0, 0, 0, 18,   0, 0, 0, 0,   0, 0, 0, 1,   0x61, 0x62], code: ErrorCode.CorruptData },
  { name: 'ASPA of length 8', bytes: [2, 11, 1, 0,   0, 0, 0, 8], code: ErrorCode.CorruptData },
  { name: 'ASPA of length 14', bytes: [2, 11, 1, 0,   0, 0, 0, 14,   0, 0, 0, 1,   0, 0], code: ErrorCode.CorruptData },
  { name: 'ASPA announcement without provider', bytes: [2, 11, 1, 0,   0, 0, 0, 12,   0, 0, 0, 1], code: ErrorCode.AspaProviderListError },
  { name: 'ASPA announcement with AS0 among two providers', bytes: [2, 11, 1, 0,   0, 0, 0, 20,   0, 0, 0, 1,   0, 0, 0, 0,   0, 0, 0, 5], code: ErrorCode.AspaProviderListError },
  { name: 'ASPA providers out of order', bytes: [2, 11, 1, 0,   0, 0, 0, 20,   0, 0, 0, 1,   0, 0, 0, 9,   0, 0, 0, 5], code: ErrorCode.AspaProviderListError },
  { name: 'ASPA provider listed twice', bytes: [2, 11, 1, 0,   0, 0, 0, 20,   0, 0, 0, 1,   0, 0, 0, 5,   0, 0, 0, 5], code: ErrorCode.AspaProviderListError },
  { name: 'ASPA withdrawal with a provider', bytes: [2, 11, 2, 0,   0, 0, 0, 16,   0, 0, 0, 1,   0, 0, 0, 5], code: ErrorCode.AspaProviderListError },
  // A current-layout withdrawal (flags 0 in the header) must be exactly 12 bytes, without
  // providers (8210bis §5.12): code 9, not Corrupt Data. Customer AS28, provider AS5.
  { name: 'ASPA withdrawal (8210bis layout) listing a provider', bytes: [2, 11, 0, 0,   0, 0, 0, 16,   0, 0, 0, 28,   0, 0, 0, 5], code: ErrorCode.AspaProviderListError },
  { name: 'ASPA withdrawal (8210bis layout) listing two providers', bytes: [2, 11, 0, 0,   0, 0, 0, 20,   0, 3, 0x0d, 0x40,   0, 0, 0, 5,   0, 0, 0, 9], code: ErrorCode.AspaProviderListError },
  // An 8210bis-10 PDU whose count does not fill it cannot be told from a current-layout
  // withdrawal that lists providers, and is read as one: code 9 either way.
  { name: 'ASPA (8210bis-10) count larger than the PDU', bytes: [2, 11, 0, 0,   0, 0, 0, 20,   1, 0, 0, 2,   0, 0, 0, 1,   0, 0, 0, 5], code: ErrorCode.AspaProviderListError },
  { name: 'ASPA (8210bis-10) count smaller than the PDU', bytes: [2, 11, 0, 0,   0, 0, 0, 24,   1, 0, 0, 1,   0, 0, 0, 1,   0, 0, 0, 5,   0, 0, 0, 6], code: ErrorCode.AspaProviderListError },
];

/** Feeds `bytes` as a stream and decodes every frame; returns the first error. */
function firstError(bytes: number[]): unknown {
  const framer = new Framer((buf, offset, length) => void decodePdu(buf, offset, length));
  try {
    framer.push(Buffer.from(bytes));
    framer.end();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('malformed PDUs', () => {
  it.each(corpus.map((m) => [m.name, m] as const))('%s', (_name, m) => {
    const error = firstError(m.bytes);
    expect(error).toBeInstanceOf(RtrWireError);
    expect((error as RtrWireError).pduErrorCode).toBe(m.code);
    // The Error Report carries the offending PDU (or its header when the length is bogus).
    const copy = (error as RtrWireError).pdu;
    expect(Array.from(copy)).toEqual(m.bytes.slice(0, copy.length));
    expect(copy.length).toBeGreaterThanOrEqual(8);
  });

  // The same corpus played to a session as the payload of its Reset Query: the client
  // must answer each PDU with one Error Report of its code, except a broken Error Report,
  // which is never answered (RFC 8210 §5.11), and apply nothing.
  it.each(corpus.map((m) => [m.name, m] as const))('answered on the wire: %s', async (_name, m) => {
    const version = Math.min(m.bytes[0]!, 2) as 0 | 1 | 2;
    const input = Buffer.concat([encode(cacheResponse(version, 7)), Buffer.from(m.bytes)]);
    const result = await runRtrStream(input, { version });
    expect(result.reportsSent).toEqual(m.bytes[1] === PduType.ErrorReport ? [] : [m.code]);
    expect(result.pduErrorCode).toBe(m.code);
    expect(result.applied).toBe(0);
  });

  it('rejects an oversized length from the header alone, before any body arrives', () => {
    const frames: number[] = [];
    const framer = new Framer((_b, _o, length) => frames.push(length));
    expect(() => framer.push(Buffer.from([1, 4, 0, 0, 0x10, 0, 0, 0]))).toThrow(RtrWireError);
    expect(framer.pending).toBe(0);
    expect(frames).toEqual([]);
  });

  it('rejects an oversized length whose header arrives in two pieces', () => {
    const framer = new Framer(() => undefined);
    framer.push(Buffer.from([1, 4, 0, 0, 0x10]));
    expect(framer.pending).toBe(5);
    expect(() => framer.push(Buffer.from([0, 0, 0]))).toThrow(RtrWireError);
  });

  it('reports a stream that ends inside a PDU (truncated) as Corrupt Data', () => {
    for (const cut of [1, 7, 8, 19]) {
      const bytes = [1, 4, 0, 0, 0, 0, 0, 20, 1, 8, 8, 0, 10, 0, 0, 0, 0, 0, 0, 1].slice(0, cut);
      const error = firstError(bytes);
      expect(error).toBeInstanceOf(RtrWireError);
      expect((error as RtrWireError).pduErrorCode).toBe(ErrorCode.CorruptData);
    }
  });

  it('honours a smaller configured cap', () => {
    const framer = new Framer(() => undefined, 64);
    const aspa = Buffer.alloc(68);
    aspa.set([2, 11, 1, 0, 0, 0, 0, 68]);
    expect(() => framer.push(aspa)).toThrow(RtrWireError);
  });
});
