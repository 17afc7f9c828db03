import { describe, expect, it } from 'vitest';
import { decodePdu, PduType, writePdu, type Pdu } from './pdu.js';
import { Writer } from './writer.js';

// Each case: the wire bytes, grouped by 4 as in the RFC diagrams, and the decoded PDU.
// The test decodes the bytes, compares with the object, encodes the object and compares
// with the bytes (rpki-rs `read_write!`).
interface Case {
  readonly name: string;
  readonly bytes: number[];
  readonly pdu: Pdu;
}

const ski = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);
const spki = Uint8Array.from([0x30, 0x59, 0x30, 0x13, 0x06, 0x07]);

function cases(v: number): Case[] {
  const list: Case[] = [
    {
      name: 'Serial Notify',
      bytes: [v, 0, 0x12, 0x34,   0, 0, 0, 12,   0xde, 0xad, 0xbe, 0xef], // prettier-ignore
      pdu: { type: PduType.SerialNotify, version: v, sessionId: 0x1234, serial: 0xdeadbeef },
    },
    {
      name: 'Serial Query',
      bytes: [v, 1, 0xff, 0xff,   0, 0, 0, 12,   0, 0, 0, 7], // prettier-ignore
      pdu: { type: PduType.SerialQuery, version: v, sessionId: 0xffff, serial: 7 },
    },
    {
      name: 'Reset Query',
      bytes: [v, 2, 0, 0,   0, 0, 0, 8], // prettier-ignore
      pdu: { type: PduType.ResetQuery, version: v },
    },
    {
      name: 'Cache Response',
      bytes: [v, 3, 0x62, 0x86,   0, 0, 0, 8], // prettier-ignore
      pdu: { type: PduType.CacheResponse, version: v, sessionId: 0x6286 },
    },
    {
      name: 'IPv4 Prefix announcement',
      bytes: [v, 4, 0, 0,   0, 0, 0, 20,   1, 24, 24, 0,   192, 0, 2, 0,   0, 0, 0xfb, 0xf0], // prettier-ignore
      pdu: {
        type: PduType.Ipv4Prefix,
        version: v,
        flags: 1,
        prefixLength: 24,
        maxLength: 24,
        address: 0xc0000200,
        asn: 64496,
      },
    },
    {
      name: 'IPv4 Prefix withdrawal, /0, ASN 2^32-1',
      bytes: [v, 4, 0, 0,   0, 0, 0, 20,   0, 0, 32, 0,   0, 0, 0, 0,   0xff, 0xff, 0xff, 0xff], // prettier-ignore
      pdu: {
        type: PduType.Ipv4Prefix,
        version: v,
        flags: 0,
        prefixLength: 0,
        maxLength: 32,
        address: 0,
        asn: 0xffffffff,
      },
    },
    {
      name: 'IPv6 Prefix announcement',
      bytes: [
        v, 6, 0, 0,   0, 0, 0, 32,
        1, 32, 48, 0,
        0x20, 0x01, 0x0d, 0xb8,   0, 0, 0, 0,   0, 0, 0, 0,   0, 0, 0, 0,
        0, 0, 0xfd, 0xe8,
      ], // prettier-ignore
      pdu: {
        type: PduType.Ipv6Prefix,
        version: v,
        flags: 1,
        prefixLength: 32,
        maxLength: 48,
        address: [0x20010db8, 0, 0, 0],
        asn: 65000,
      },
    },
    {
      name: 'IPv6 Prefix withdrawal, /128',
      bytes: [
        v, 6, 0, 0,   0, 0, 0, 32,
        0, 128, 128, 0,
        0x20, 0x01, 0x0d, 0xb8,   0x12, 0x34, 0x56, 0x78,   0x9a, 0xbc, 0xde, 0xf0,   0xff, 0xff, 0xff, 0xff,
        0, 0, 0, 0,
      ], // prettier-ignore
      pdu: {
        type: PduType.Ipv6Prefix,
        version: v,
        flags: 0,
        prefixLength: 128,
        maxLength: 128,
        address: [0x20010db8, 0x12345678, 0x9abcdef0, 0xffffffff],
        asn: 0,
      },
    },
    {
      name: 'Cache Reset',
      bytes: [v, 8, 0, 0,   0, 0, 0, 8], // prettier-ignore
      pdu: { type: PduType.CacheReset, version: v },
    },
    {
      name: 'Error Report with PDU and text',
      bytes: [
        v, 10, 0, 2,   0, 0, 0, 31,
        0, 0, 0, 8,   v, 2, 0, 0,   0, 0, 0, 8,
        0, 0, 0, 7,   0x6e, 0x6f, 0x20, 0x64, 0x61, 0x74, 0x61,
      ], // prettier-ignore
      pdu: {
        type: PduType.ErrorReport,
        version: v,
        errorCode: 2,
        pdu: Uint8Array.from([v, 2, 0, 0, 0, 0, 0, 8]),
        text: 'no data',
      },
    },
    {
      name: 'Error Report, empty',
      bytes: [v, 10, 0, 0,   0, 0, 0, 16,   0, 0, 0, 0,   0, 0, 0, 0], // prettier-ignore
      pdu: { type: PduType.ErrorReport, version: v, errorCode: 0, pdu: new Uint8Array(0), text: '' },
    },
  ];
  if (v === 0) {
    list.push({
      name: 'End of Data (version 0 layout)',
      bytes: [0, 7, 0x62, 0x86,   0, 0, 0, 12,   0, 0, 0, 42], // prettier-ignore
      pdu: { type: PduType.EndOfData, version: 0, sessionId: 0x6286, serial: 42 },
    });
  } else {
    list.push(
      {
        name: 'End of Data (version 1+ layout)',
        bytes: [
          v, 7, 0x62, 0x86,   0, 0, 0, 24,
          0, 0, 0, 42,   0, 0, 0x0e, 0x10,   0, 0, 0x02, 0x58,   0, 0, 0x1c, 0x20,
        ], // prettier-ignore
        pdu: {
          type: PduType.EndOfData,
          version: v,
          sessionId: 0x6286,
          serial: 42,
          timers: { refresh: 3600, retry: 600, expire: 7200 },
        },
      },
      {
        name: 'Router Key',
        bytes: [
          v, 9, 1, 0,   0, 0, 0, 38,
          ...ski,
          0, 0, 0xfb, 0xf0,
          ...spki,
        ], // prettier-ignore
        pdu: { type: PduType.RouterKey, version: v, flags: 1, ski, asn: 64496, spki },
      },
    );
  }
  if (v === 2) {
    list.push(
      {
        name: 'ASPA announcement (8210bis layout)',
        bytes: [2, 11, 1, 0,   0, 0, 0, 20,   0, 0, 0, 28,   0, 0, 0xa3, 0x99,   0, 0, 0xee, 0x6c], // prettier-ignore
        pdu: { type: PduType.Aspa, version: 2, flags: 1, customer: 28, providers: [41881, 61036] },
      },
      {
        name: 'ASPA announcement of no provider but AS0 (8210bis layout)',
        bytes: [2, 11, 1, 0,   0, 0, 0, 16,   0, 0, 0, 28,   0, 0, 0, 0], // prettier-ignore
        pdu: { type: PduType.Aspa, version: 2, flags: 1, customer: 28, providers: [0] },
      },
      {
        name: 'ASPA withdrawal (8210bis layout)',
        bytes: [2, 11, 0, 0,   0, 0, 0, 12,   0, 0, 0, 28], // prettier-ignore
        pdu: { type: PduType.Aspa, version: 2, flags: 0, customer: 28, providers: [] },
      },
      {
        // Captured from StayRTR 0.5.1 (`-protocol 2`) serving customer_asid 28, IPv4 providers.
        name: 'ASPA announcement (8210bis-10 layout, StayRTR 0.5.1)',
        bytes: [2, 11, 0, 0,   0, 0, 0, 24,   1, 0, 0, 2,   0, 0, 0, 28,   0, 0, 0xa3, 0x99,   0, 0, 0xee, 0x6c], // prettier-ignore
        pdu: {
          type: PduType.Aspa,
          version: 2,
          flags: 1,
          customer: 28,
          providers: [41881, 61036],
          afiFlags: 0,
        },
      },
      {
        name: 'ASPA withdrawal (8210bis-10 layout, IPv6)',
        bytes: [2, 11, 0, 0,   0, 0, 0, 16,   0, 1, 0, 0,   0, 0, 0, 28], // prettier-ignore
        pdu: { type: PduType.Aspa, version: 2, flags: 0, customer: 28, providers: [], afiFlags: 1 },
      },
    );
  }
  return list;
}

function plain(pdu: Pdu): unknown {
  // Compare byte fields by content: decoded ones are Buffer views, expected ones Uint8Array.
  return Object.fromEntries(
    Object.entries(pdu).map(([k, value]) => [k, value instanceof Uint8Array ? Array.from(value) : value]),
  );
}

describe.each([0, 1, 2])('PDU round trip, version %i', (version) => {
  it.each(cases(version).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bytes = Buffer.from(c.bytes);
    expect(bytes.readUInt32BE(4)).toBe(bytes.length);
    const decoded = decodePdu(bytes);
    expect(plain(decoded)).toEqual(plain(c.pdu));
    const w = new Writer(8);
    writePdu(w, c.pdu);
    expect(Buffer.compare(w.take(), bytes)).toBe(0);
  });
});

describe('decodePdu', () => {
  it('returns views into the frame for byte fields, not copies', () => {
    const bytes = Buffer.from(cases(1).find((c) => c.name === 'Router Key')!.bytes);
    const pdu = decodePdu(bytes);
    if (pdu.type !== PduType.RouterKey) throw new Error('not a router key');
    bytes[8] = 0x55;
    expect(pdu.ski[0]).toBe(0x55);
  });

  it('decodes a PDU at an offset inside a larger buffer', () => {
    const inner = cases(2).find((c) => c.name === 'IPv4 Prefix announcement')!;
    const buf = Buffer.from([9, 9, 9, ...inner.bytes, 9]);
    expect(plain(decodePdu(buf, 3, inner.bytes.length))).toEqual(plain(inner.pdu));
  });

  it('shares one frozen object for bodyless PDUs of a version', () => {
    const a = decodePdu(Buffer.from([1, 8, 0, 0, 0, 0, 0, 8]));
    const b = decodePdu(Buffer.from([1, 8, 0, 0, 0, 0, 0, 8]));
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(decodePdu(Buffer.from([2, 8, 0, 0, 0, 0, 0, 8]))).not.toBe(a);
  });

  it('drops the NUL that StayRTR appends to Error Report text', () => {
    // Bytes as StayRTR 0.5.1 sent them for a Serial Query with a stale session id.
    const text = 'Session ID mismatch: client is desynchronized';
    const body = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0, 0, 0, text.length + 1]),
      Buffer.from(text),
      Buffer.from([0]),
    ]);
    const head = Buffer.from([2, 10, 0, 0, 0, 0, 0, 8 + body.length]);
    const pdu = decodePdu(Buffer.concat([head, body]));
    expect(pdu).toMatchObject({ type: PduType.ErrorReport, errorCode: 0, text });
  });
});
