// The RTR PDUs of versions 0 (RFC 6810), 1 (RFC 8210) and 2 (draft-ietf-sidrops-8210bis):
// one section per PDU with its wire layout, its decoder and its encoder.
//
// Every PDU starts with the same 8-byte header:
//   version (1) | type (1) | session id, error code or flags (2) | length of the whole PDU (4)
// All integers are big-endian. Decoders check the exact length for each type before
// reading a field, validate every field a router depends on, and return views into the
// frame instead of copies.
import {
  AspaProviderListError,
  CorruptDataError,
  UnsupportedPduTypeError,
  UnsupportedVersionError,
} from './errors.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export const enum PduType {
  SerialNotify = 0,
  SerialQuery = 1,
  ResetQuery = 2,
  CacheResponse = 3,
  Ipv4Prefix = 4,
  Ipv6Prefix = 6,
  EndOfData = 7,
  CacheReset = 8,
  RouterKey = 9,
  ErrorReport = 10,
  Aspa = 11,
}

export const HEADER_LENGTH = 8;
/** The highest protocol version implemented here. */
export const MAX_VERSION = 2;
/**
 * Default bound on a PDU's length field. The largest PDUs are ASPA (4 bytes per
 * provider) and Router Key (SPKI, ~91 bytes for P-256): 64 KiB leaves room for over
 * 16,000 providers while keeping one connection's buffer small.
 */
export const DEFAULT_MAX_PDU_LENGTH = 65_536;
/** Lowest bit of the flags field: 1 = announcement, 0 = withdrawal (RFC 8210 §5.6). */
export const FLAG_ANNOUNCE = 1;

export interface Timers {
  /** Seconds between polls after a successful sync (RFC 8210 §6: 1..86400, default 3600). */
  readonly refresh: number;
  /** Seconds to wait after a failed sync (1..7200, default 600). */
  readonly retry: number;
  /** Seconds data stays usable without a successful sync (600..172800, default 7200). */
  readonly expire: number;
}

export interface SerialNotifyPdu {
  readonly type: PduType.SerialNotify;
  readonly version: number;
  readonly sessionId: number;
  readonly serial: number;
}
export interface SerialQueryPdu {
  readonly type: PduType.SerialQuery;
  readonly version: number;
  readonly sessionId: number;
  readonly serial: number;
}
export interface ResetQueryPdu {
  readonly type: PduType.ResetQuery;
  readonly version: number;
}
export interface CacheResponsePdu {
  readonly type: PduType.CacheResponse;
  readonly version: number;
  readonly sessionId: number;
}
export interface Ipv4PrefixPdu {
  readonly type: PduType.Ipv4Prefix;
  readonly version: number;
  readonly flags: number;
  readonly prefixLength: number;
  readonly maxLength: number;
  /** The address as an unsigned 32-bit number. */
  readonly address: number;
  readonly asn: number;
}
export interface Ipv6PrefixPdu {
  readonly type: PduType.Ipv6Prefix;
  readonly version: number;
  readonly flags: number;
  readonly prefixLength: number;
  readonly maxLength: number;
  /** The address as four unsigned 32-bit words, most significant first. */
  readonly address: readonly [number, number, number, number];
  readonly asn: number;
}
export interface EndOfDataPdu {
  readonly type: PduType.EndOfData;
  readonly version: number;
  readonly sessionId: number;
  readonly serial: number;
  /** Absent in version 0, whose End of Data carries no timers. */
  readonly timers?: Timers;
}
export interface CacheResetPdu {
  readonly type: PduType.CacheReset;
  readonly version: number;
}
export interface RouterKeyPdu {
  readonly type: PduType.RouterKey;
  readonly version: number;
  readonly flags: number;
  /** Subject Key Identifier, 20 bytes. */
  readonly ski: Uint8Array;
  readonly asn: number;
  /** Subject Public Key Info (DER). */
  readonly spki: Uint8Array;
}
export interface ErrorReportPdu {
  readonly type: PduType.ErrorReport;
  readonly version: number;
  readonly errorCode: number;
  /** The erroneous PDU, possibly empty. */
  readonly pdu: Uint8Array;
  /** Diagnostic text (UTF-8), possibly empty; one trailing NUL is dropped. */
  readonly text: string;
}
export interface AspaPdu {
  readonly type: PduType.Aspa;
  readonly version: number;
  readonly flags: number;
  readonly customer: number;
  readonly providers: readonly number[];
  /**
   * Present only for the layout of draft-ietf-sidrops-8210bis-10/-11, which StayRTR 0.5
   * speaks: it adds an AFI byte (StayRTR: 0 = IPv4, 1 = IPv6) and keys records on
   * (customer, AFI). Absent for the current layout (no AFI, keyed on the customer).
   */
  readonly afiFlags?: number;
}

export type Pdu =
  | SerialNotifyPdu
  | SerialQueryPdu
  | ResetQueryPdu
  | CacheResponsePdu
  | Ipv4PrefixPdu
  | Ipv6PrefixPdu
  | EndOfDataPdu
  | CacheResetPdu
  | RouterKeyPdu
  | ErrorReportPdu
  | AspaPdu;

/** A copy of a PDU's bytes (at most `max`) for an Error Report: never a view into a socket chunk. */
export function copyPdu(
  buf: Buffer,
  offset: number,
  length: number,
  max = DEFAULT_MAX_PDU_LENGTH,
): Uint8Array {
  const end = Math.min(buf.length, offset + Math.min(length, max));
  return Uint8Array.prototype.slice.call(buf, offset, Math.max(offset, end));
}

function corrupt(message: string, buf: Buffer, offset: number, length: number): never {
  throw new CorruptDataError(message, copyPdu(buf, offset, length));
}

function expectLength(name: string, want: number, buf: Buffer, offset: number, length: number): void {
  if (length !== want) corrupt(`${name} PDU has length ${length}, expected ${want}`, buf, offset, length);
}

/** Netmask of an IPv4 prefix length, as an unsigned number (`<< 32` would be a no-op in JS). */
function mask32(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

function checkPrefix(
  family: 4 | 6,
  prefixLength: number,
  maxLength: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  buf: Buffer,
  offset: number,
  length: number,
): void {
  const bits = family === 4 ? 32 : 128;
  // RFC 8210 §5.6/§5.7: prefix length 0..32 (0..128), max length between it and 32 (128).
  // StayRTR sends IPv4-mapped IPv6 VRPs as IPv4 PDUs with length 120: rejected here.
  if (prefixLength > bits)
    corrupt(`IPv${family} prefix length ${prefixLength} exceeds ${bits}`, buf, offset, length);
  if (maxLength > bits) corrupt(`IPv${family} max length ${maxLength} exceeds ${bits}`, buf, offset, length);
  if (maxLength < prefixLength)
    corrupt(`max length ${maxLength} is below prefix length ${prefixLength}`, buf, offset, length);
  // Host bits would make the same VRP appear under two identities (and break withdrawals).
  let host: number;
  if (family === 4) host = (w0 & ~mask32(prefixLength)) >>> 0;
  else
    host =
      (w0 & ~mask32(prefixLength)) |
      (w1 & ~mask32(prefixLength - 32)) |
      (w2 & ~mask32(prefixLength - 64)) |
      (w3 & ~mask32(prefixLength - 96));
  if (host !== 0)
    corrupt(`IPv${family} prefix has bits set beyond length ${prefixLength}`, buf, offset, length);
}

/**
 * Mutable fields of a prefix PDU, filled by `readPrefix` without allocating: the hot
 * path of a full sync (hundreds of thousands of prefix PDUs) goes through this.
 */
export interface PrefixFields {
  family: 4 | 6;
  flags: number;
  prefixLength: number;
  maxLength: number;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  asn: number;
}

export function newPrefixFields(): PrefixFields {
  return { family: 4, flags: 0, prefixLength: 0, maxLength: 0, w0: 0, w1: 0, w2: 0, w3: 0, asn: 0 };
}

function u32(b: Buffer, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/**
 * Decodes and validates an IPv4 (type 4) or IPv6 (type 6) Prefix PDU framed at
 * `buf[offset, offset + length)` into `out`. The caller has checked the type.
 */
export function readPrefix(buf: Buffer, offset: number, length: number, out: PrefixFields): void {
  // Layout after the header (RFC 8210 §5.6, §5.7):
  //   flags (1) | prefix length (1) | max length (1) | zero (1) | prefix (4 or 16) | ASN (4)
  const v6 = buf[offset + 1] === PduType.Ipv6Prefix;
  expectLength(v6 ? 'IPv6 Prefix' : 'IPv4 Prefix', v6 ? 32 : 20, buf, offset, length);
  out.flags = buf[offset + 8]!;
  out.prefixLength = buf[offset + 9]!;
  out.maxLength = buf[offset + 10]!;
  out.w0 = u32(buf, offset + 12);
  if (v6) {
    out.family = 6;
    out.w1 = u32(buf, offset + 16);
    out.w2 = u32(buf, offset + 20);
    out.w3 = u32(buf, offset + 24);
    out.asn = u32(buf, offset + 28);
  } else {
    out.family = 4;
    out.w1 = 0;
    out.w2 = 0;
    out.w3 = 0;
    out.asn = u32(buf, offset + 16);
  }
  checkPrefix(
    out.family,
    out.prefixLength,
    out.maxLength,
    out.w0,
    out.w1,
    out.w2,
    out.w3,
    buf,
    offset,
    length,
  );
}

/**
 * Decodes one complete PDU. Throws a CorruptDataError (wrong length or field, wire code
 * 0), UnsupportedVersionError (4), UnsupportedPduTypeError (5) or AspaProviderListError
 * (9). Which PDUs are acceptable at which point of an exchange is the session's concern.
 */
export function decodePdu(buf: Buffer, offset = 0, length = buf.length - offset, reader = new Reader()): Pdu {
  if (length < HEADER_LENGTH || buf.length - offset < length)
    corrupt(
      `PDU of ${Math.max(0, buf.length - offset)} byte(s) is shorter than its ${length}`,
      buf,
      offset,
      length,
    );
  const declared = u32(buf, offset + 4);
  if (declared !== length)
    corrupt(`PDU length field says ${declared}, frame has ${length}`, buf, offset, length);
  const version = buf[offset]!;
  if (version > MAX_VERSION) throw new UnsupportedVersionError(version, copyPdu(buf, offset, length));
  const type = buf[offset + 1]!;
  const field = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  reader.setBuffer(buf, offset + HEADER_LENGTH, length - HEADER_LENGTH);
  try {
    switch (type) {
      case PduType.SerialNotify:
        return decodeSerialNotify(reader, version, field, buf, offset, length);
      case PduType.SerialQuery:
        return decodeSerialQuery(reader, version, field, buf, offset, length);
      case PduType.ResetQuery:
        expectLength('Reset Query', 8, buf, offset, length);
        return resetQueryPdus[version]!;
      case PduType.CacheResponse:
        expectLength('Cache Response', 8, buf, offset, length);
        return { type: PduType.CacheResponse, version, sessionId: field };
      case PduType.Ipv4Prefix:
      case PduType.Ipv6Prefix:
        return decodePrefix(buf, offset, length, version);
      case PduType.EndOfData:
        return decodeEndOfData(reader, version, field, buf, offset, length);
      case PduType.CacheReset:
        expectLength('Cache Reset', 8, buf, offset, length);
        return cacheResetPdus[version]!;
      case PduType.RouterKey:
        return decodeRouterKey(reader, version, field, buf, offset, length);
      case PduType.ErrorReport:
        return decodeErrorReport(reader, version, field, buf, offset, length);
      case PduType.Aspa:
        return decodeAspa(reader, version, field, buf, offset, length);
      default:
        throw new UnsupportedPduTypeError(type, version, copyPdu(buf, offset, length));
    }
  } finally {
    reader.clear();
  }
}

//------------ Serial Notify (type 0) ------------------------------------------
//   header: version | 0 | session id | length = 12
//   serial number (4)
// Sent by the cache, unsolicited, when it has new data.

function decodeSerialNotify(
  r: Reader,
  version: number,
  sessionId: number,
  buf: Buffer,
  offset: number,
  length: number,
): SerialNotifyPdu {
  expectLength('Serial Notify', 12, buf, offset, length);
  return { type: PduType.SerialNotify, version, sessionId, serial: r.u32() };
}

export function writeSerialNotify(w: Writer, version: number, sessionId: number, serial: number): Writer {
  return w.begin(version, PduType.SerialNotify, sessionId).u32(serial).end();
}

//------------ Serial Query (type 1) -------------------------------------------
//   header: version | 1 | session id | length = 12
//   serial number (4)
// Sent by the router: "what changed since this serial of this session?"

function decodeSerialQuery(
  r: Reader,
  version: number,
  sessionId: number,
  buf: Buffer,
  offset: number,
  length: number,
): SerialQueryPdu {
  expectLength('Serial Query', 12, buf, offset, length);
  return { type: PduType.SerialQuery, version, sessionId, serial: r.u32() };
}

export function writeSerialQuery(w: Writer, version: number, sessionId: number, serial: number): Writer {
  return w.begin(version, PduType.SerialQuery, sessionId).u32(serial).end();
}

//------------ Reset Query (type 2) --------------------------------------------
//   header: version | 2 | zero | length = 8
// Sent by the router: "send me everything".

const resetQueryPdus: readonly ResetQueryPdu[] = Object.freeze(
  [0, 1, 2].map((version) => Object.freeze({ type: PduType.ResetQuery as const, version })),
);

export function writeResetQuery(w: Writer, version: number): Writer {
  return w.begin(version, PduType.ResetQuery, 0).end();
}

//------------ Cache Response (type 3) -----------------------------------------
//   header: version | 3 | session id | length = 8
// Starts the payload of an answer to a Serial or Reset Query.

export function writeCacheResponse(w: Writer, version: number, sessionId: number): Writer {
  return w.begin(version, PduType.CacheResponse, sessionId).end();
}

//------------ IPv4 Prefix (type 4) and IPv6 Prefix (type 6) -------------------
//   header: version | 4 | zero | length = 20     (IPv6: 6 | zero | 32)
//   flags (1) | prefix length (1) | max length (1) | zero (1)
//   IPv4 prefix (4)                               (IPv6: 16)
//   autonomous system number (4)

function decodePrefix(
  buf: Buffer,
  offset: number,
  length: number,
  version: number,
): Ipv4PrefixPdu | Ipv6PrefixPdu {
  const f = newPrefixFields();
  readPrefix(buf, offset, length, f);
  if (f.family === 4)
    return {
      type: PduType.Ipv4Prefix,
      version,
      flags: f.flags,
      prefixLength: f.prefixLength,
      maxLength: f.maxLength,
      address: f.w0,
      asn: f.asn,
    };
  return {
    type: PduType.Ipv6Prefix,
    version,
    flags: f.flags,
    prefixLength: f.prefixLength,
    maxLength: f.maxLength,
    address: [f.w0, f.w1, f.w2, f.w3],
    asn: f.asn,
  };
}

export function writeIpv4Prefix(
  w: Writer,
  version: number,
  flags: number,
  prefixLength: number,
  maxLength: number,
  address: number,
  asn: number,
): Writer {
  return w
    .begin(version, PduType.Ipv4Prefix, 0)
    .u8(flags)
    .u8(prefixLength)
    .u8(maxLength)
    .u8(0)
    .u32(address)
    .u32(asn)
    .end();
}

export function writeIpv6Prefix(
  w: Writer,
  version: number,
  flags: number,
  prefixLength: number,
  maxLength: number,
  address: readonly [number, number, number, number],
  asn: number,
): Writer {
  return w
    .begin(version, PduType.Ipv6Prefix, 0)
    .u8(flags)
    .u8(prefixLength)
    .u8(maxLength)
    .u8(0)
    .u32(address[0])
    .u32(address[1])
    .u32(address[2])
    .u32(address[3])
    .u32(asn)
    .end();
}

//------------ End of Data (type 7) --------------------------------------------
//   header: version | 7 | session id | length = 12 (version 0) or 24 (version 1, 2)
//   serial number (4)
//   version 1+: refresh interval (4) | retry interval (4) | expire interval (4)

function decodeEndOfData(
  r: Reader,
  version: number,
  sessionId: number,
  buf: Buffer,
  offset: number,
  length: number,
): EndOfDataPdu {
  if (version === 0) {
    expectLength('End of Data (version 0)', 12, buf, offset, length);
    return { type: PduType.EndOfData, version, sessionId, serial: r.u32() };
  }
  expectLength(`End of Data (version ${version})`, 24, buf, offset, length);
  const serial = r.u32();
  const refresh = r.u32();
  const retry = r.u32();
  const expire = r.u32();
  return { type: PduType.EndOfData, version, sessionId, serial, timers: { refresh, retry, expire } };
}

export function writeEndOfData(
  w: Writer,
  version: number,
  sessionId: number,
  serial: number,
  timers: Timers = DEFAULT_TIMERS,
): Writer {
  w.begin(version, PduType.EndOfData, sessionId).u32(serial);
  if (version > 0) w.u32(timers.refresh).u32(timers.retry).u32(timers.expire);
  return w.end();
}

/** RFC 8210 §6 defaults. */
export const DEFAULT_TIMERS: Timers = Object.freeze({ refresh: 3600, retry: 600, expire: 7200 });

//------------ Cache Reset (type 8) --------------------------------------------
//   header: version | 8 | zero | length = 8
// The cache cannot answer a Serial Query from that serial: the router sends a Reset Query.

const cacheResetPdus: readonly CacheResetPdu[] = Object.freeze(
  [0, 1, 2].map((version) => Object.freeze({ type: PduType.CacheReset as const, version })),
);

export function writeCacheReset(w: Writer, version: number): Writer {
  return w.begin(version, PduType.CacheReset, 0).end();
}

//------------ Router Key (type 9, version 1+) ---------------------------------
//   header: version | 9 | flags (1) zero (1) | length = 32 + SPKI length
//   subject key identifier (20)
//   autonomous system number (4)
//   subject public key info (variable, DER)

function decodeRouterKey(
  r: Reader,
  version: number,
  field: number,
  buf: Buffer,
  offset: number,
  length: number,
): RouterKeyPdu {
  if (version < 1)
    throw new UnsupportedPduTypeError(PduType.RouterKey, version, copyPdu(buf, offset, length));
  if (length <= 32) corrupt(`Router Key PDU of length ${length} has no SPKI`, buf, offset, length);
  const ski = r.bytes(20);
  const asn = r.u32();
  const spki = r.bytes(r.remaining);
  return { type: PduType.RouterKey, version, flags: field >>> 8, ski, asn, spki };
}

export function writeRouterKey(
  w: Writer,
  version: number,
  flags: number,
  ski: Uint8Array,
  asn: number,
  spki: Uint8Array,
): Writer {
  if (ski.length !== 20) throw new RangeError(`a Subject Key Identifier has 20 bytes, not ${ski.length}`);
  return w
    .begin(version, PduType.RouterKey, (flags & 0xff) << 8)
    .bytes(ski)
    .u32(asn)
    .bytes(spki)
    .end();
}

//------------ Error Report (type 10) ------------------------------------------
//   header: version | 10 | error code | length
//   length of encapsulated PDU (4) | erroneous PDU (variable)
//   length of error text (4) | error text (variable, UTF-8)

function decodeErrorReport(
  r: Reader,
  version: number,
  errorCode: number,
  buf: Buffer,
  offset: number,
  length: number,
): ErrorReportPdu {
  if (length < 16) corrupt(`Error Report PDU of length ${length} is shorter than 16`, buf, offset, length);
  const pduLength = r.u32();
  if (pduLength > r.remaining - 4)
    corrupt(`Error Report encapsulates ${pduLength} bytes but has ${r.remaining - 4}`, buf, offset, length);
  const pdu = r.bytes(pduLength);
  const textLength = r.u32();
  if (textLength !== r.remaining)
    corrupt(
      `Error Report text length ${textLength} does not match the ${r.remaining} bytes left`,
      buf,
      offset,
      length,
    );
  const raw = r.bytes(textLength);
  // Some caches (StayRTR) NUL-terminate the text.
  const end = textLength > 0 && raw[textLength - 1] === 0 ? textLength - 1 : textLength;
  return { type: PduType.ErrorReport, version, errorCode, pdu, text: raw.toString('utf8', 0, end) };
}

export function writeErrorReport(
  w: Writer,
  version: number,
  errorCode: number,
  pdu: Uint8Array,
  text: string,
): Writer {
  const encoded = Buffer.from(text, 'utf8');
  return w
    .begin(version, PduType.ErrorReport, errorCode)
    .u32(pdu.length)
    .bytes(pdu)
    .u32(encoded.length)
    .bytes(encoded)
    .end();
}

//------------ ASPA (type 11, version 2) ---------------------------------------
// Current 8210bis layout (§5.12):
//   header: version | 11 | flags (1) zero (1) | length = 12 + 4 * providers
//   customer ASN (4) | provider ASNs (4 each, strictly increasing)
//   An announcement has >= 1 provider and no AS0 among several; a withdrawal has none.
// Layout of 8210bis-10/-11 (StayRTR 0.5.1, older Routinator):
//   header: version | 11 | zero (2) | length = 16 + 4 * providers
//   flags (1) | AFI flags (1) | provider count (2) | customer ASN (4) | provider ASNs
// Told apart: the old layout has zero in header byte 2 and is at least 16 long, while a
// current announcement has flag bit 0 set in header byte 2 and a current withdrawal is
// exactly 12 long. A current withdrawal that (wrongly) lists providers is taken for the
// old layout only when its customer ASN reads as consistent old-layout fields (flags 0
// or 1, a count that fills the PDU); otherwise it is what it is: code 9.

function decodeAspa(
  r: Reader,
  version: number,
  field: number,
  buf: Buffer,
  offset: number,
  length: number,
): AspaPdu {
  if (version < 2) throw new UnsupportedPduTypeError(PduType.Aspa, version, copyPdu(buf, offset, length));
  const headerFlags = field >>> 8;
  // A current withdrawal that lists providers (which 8210bis §5.12 forbids: code 9) has
  // header byte 2 zero and 16 bytes or more too; it is told from the old layout by the
  // old layout's own fields: flags 0 or 1 and a provider count that fills the PDU.
  if (
    headerFlags === 0 &&
    length >= 16 &&
    (length - 16) % 4 === 0 &&
    buf[offset + 8]! <= 1 &&
    buf.readUInt16BE(offset + 10) * 4 === length - 16
  ) {
    const flags = r.u8();
    const afiFlags = r.u8();
    const count = r.u16();
    const customer = r.u32();
    const providers = new Array<number>(count);
    for (let i = 0; i < count; i++) providers[i] = r.u32();
    return { type: PduType.Aspa, version, flags, customer, providers, afiFlags };
  }
  if (length < 12 || (length - 12) % 4 !== 0)
    corrupt(`ASPA PDU length ${length} is not 12 + 4n`, buf, offset, length);
  const customer = r.u32();
  const count = (length - 12) / 4;
  const providers = new Array<number>(count);
  for (let i = 0; i < count; i++) providers[i] = r.u32();
  if ((headerFlags & FLAG_ANNOUNCE) === 0) {
    if (count !== 0)
      throw new AspaProviderListError(
        `ASPA withdrawal for AS${customer} lists ${count} provider(s)`,
        copyPdu(buf, offset, length),
      );
  } else {
    if (count === 0)
      throw new AspaProviderListError(
        `ASPA announcement for AS${customer} has no provider`,
        copyPdu(buf, offset, length),
      );
    for (let i = 0; i < count; i++) {
      if (count > 1 && providers[i] === 0)
        throw new AspaProviderListError(
          `ASPA announcement for AS${customer} lists AS0 among ${count} providers`,
          copyPdu(buf, offset, length),
        );
      if (i > 0 && providers[i]! <= providers[i - 1]!)
        throw new AspaProviderListError(
          `ASPA providers of AS${customer} are not strictly increasing (${providers[i - 1]}, ${providers[i]})`,
          copyPdu(buf, offset, length),
        );
    }
  }
  return { type: PduType.Aspa, version, flags: headerFlags, customer, providers };
}

/** Writes an ASPA PDU; with `afiFlags` it uses the layout of 8210bis-10 (see above). */
export function writeAspa(
  w: Writer,
  version: number,
  flags: number,
  customer: number,
  providers: readonly number[],
  afiFlags?: number,
): Writer {
  if (afiFlags === undefined) {
    w.begin(version, PduType.Aspa, (flags & 0xff) << 8).u32(customer);
  } else {
    w.begin(version, PduType.Aspa, 0)
      .u8(flags)
      .u8(afiFlags)
      .u8((providers.length >>> 8) & 0xff)
      .u8(providers.length & 0xff)
      .u32(customer);
  }
  for (const p of providers) w.u32(p);
  return w.end();
}

//------------ Any PDU ---------------------------------------------------------

/** Appends the wire form of `pdu` to `w`. */
export function writePdu(w: Writer, pdu: Pdu): Writer {
  switch (pdu.type) {
    case PduType.SerialNotify:
      return writeSerialNotify(w, pdu.version, pdu.sessionId, pdu.serial);
    case PduType.SerialQuery:
      return writeSerialQuery(w, pdu.version, pdu.sessionId, pdu.serial);
    case PduType.ResetQuery:
      return writeResetQuery(w, pdu.version);
    case PduType.CacheResponse:
      return writeCacheResponse(w, pdu.version, pdu.sessionId);
    case PduType.Ipv4Prefix:
      return writeIpv4Prefix(
        w,
        pdu.version,
        pdu.flags,
        pdu.prefixLength,
        pdu.maxLength,
        pdu.address,
        pdu.asn,
      );
    case PduType.Ipv6Prefix:
      return writeIpv6Prefix(
        w,
        pdu.version,
        pdu.flags,
        pdu.prefixLength,
        pdu.maxLength,
        pdu.address,
        pdu.asn,
      );
    case PduType.EndOfData:
      return writeEndOfData(w, pdu.version, pdu.sessionId, pdu.serial, pdu.timers);
    case PduType.CacheReset:
      return writeCacheReset(w, pdu.version);
    case PduType.RouterKey:
      return writeRouterKey(w, pdu.version, pdu.flags, pdu.ski, pdu.asn, pdu.spki);
    case PduType.ErrorReport:
      return writeErrorReport(w, pdu.version, pdu.errorCode, pdu.pdu, pdu.text);
    case PduType.Aspa:
      return writeAspa(w, pdu.version, pdu.flags, pdu.customer, pdu.providers, pdu.afiFlags);
  }
}
