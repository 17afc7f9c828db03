// Test-only builders for PDU bytes (not part of the build, see tsconfig "exclude").
import { FLAG_ANNOUNCE, PduType, writePdu, type Pdu, type Timers } from '../pdu.js';
import { Writer } from '../writer.js';

/** Concatenated wire form of the given PDUs. */
export function encode(...pdus: Pdu[]): Buffer {
  const w = new Writer();
  for (const p of pdus) writePdu(w, p);
  return w.take();
}

/** Bytes from a hex string; spaces and newlines are ignored ("0102 0304"). */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

export function ipv4Number(address: string): number {
  const parts = address.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function ipv6Words(address: string): [number, number, number, number] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head === '' || head === undefined ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const n = groups.map((g) => parseInt(g, 16));
  return [0, 1, 2, 3].map((i) => ((n[2 * i]! << 16) | n[2 * i + 1]!) >>> 0) as [
    number,
    number,
    number,
    number,
  ];
}

/** An IPv4 or IPv6 Prefix PDU from text, e.g. prefix(1, '192.0.2.0/24', 24, 64496). */
export function prefix(version: number, text: string, maxLength: number, asn: number, announce = true): Pdu {
  const [address, len] = text.split('/') as [string, string];
  const flags = announce ? FLAG_ANNOUNCE : 0;
  if (address.includes(':'))
    return {
      type: PduType.Ipv6Prefix,
      version,
      flags,
      prefixLength: Number(len),
      maxLength,
      address: ipv6Words(address),
      asn,
    };
  return {
    type: PduType.Ipv4Prefix,
    version,
    flags,
    prefixLength: Number(len),
    maxLength,
    address: ipv4Number(address),
    asn,
  };
}

export function cacheResponse(version: number, sessionId: number): Pdu {
  return { type: PduType.CacheResponse, version, sessionId };
}

export function endOfData(version: number, sessionId: number, serial: number, timers?: Timers): Pdu {
  if (version === 0) return { type: PduType.EndOfData, version, sessionId, serial };
  return {
    type: PduType.EndOfData,
    version,
    sessionId,
    serial,
    timers: timers ?? { refresh: 3600, retry: 600, expire: 7200 },
  };
}

export function serialNotify(version: number, sessionId: number, serial: number): Pdu {
  return { type: PduType.SerialNotify, version, sessionId, serial };
}

export function cacheReset(version: number): Pdu {
  return { type: PduType.CacheReset, version };
}

export function errorReport(
  version: number,
  errorCode: number,
  text = '',
  pdu: Uint8Array = new Uint8Array(0),
): Pdu {
  return { type: PduType.ErrorReport, version, errorCode, pdu, text };
}

export function aspa(
  version: number,
  customer: number,
  providers: number[],
  announce = true,
  afiFlags?: number,
): Pdu {
  const base = {
    type: PduType.Aspa as const,
    version,
    flags: announce ? FLAG_ANNOUNCE : 0,
    customer,
    providers,
  };
  return afiFlags === undefined ? base : { ...base, afiFlags };
}

export function routerKey(
  version: number,
  ski: Uint8Array,
  asn: number,
  spki: Uint8Array,
  announce = true,
): Pdu {
  return { type: PduType.RouterKey, version, flags: announce ? FLAG_ANNOUNCE : 0, ski, asn, spki };
}
