// BMP message bodies (RFC 7854 section 4, RFC 9069 for the Loc-RIB peer type, RFC 8671
// for the Adj-RIB-Out flag). Route Monitoring is decoded in place by the session; the
// rarer messages (Peer Up/Down, Statistics, Initiation, Termination) become objects.
import { BgpError } from '../../bgp/errors.js';
import { formatAddress, formatIPv4 } from '../../bgp/format.js';
import { parseOpen, type OpenMessage } from '../../bgp/open.js';
import type { Family } from '../../bgp/route.js';
import { BGP_HEADER_LENGTH } from '../../bgp/update.js';

export const BmpMessageType = {
  RouteMonitoring: 0,
  StatisticsReport: 1,
  PeerDown: 2,
  PeerUp: 3,
  Initiation: 4,
  Termination: 5,
  RouteMirroring: 6,
} as const;

export const BmpPeerType = { Global: 0, Rd: 1, Local: 2, LocRib: 3 } as const;

/** Per-peer header flags (RFC 7854 4.2, RFC 8671). */
export const PeerFlag = { V: 0x80, L: 0x40, A: 0x20, O: 0x10 } as const;

export const PER_PEER_HEADER_LENGTH = 42;

/** A malformed BMP body; the session turns it into a BmpError with the message offset. */
export class BodyError extends Error {}

export function need(p: number, end: number, bytes: number, what: string): void {
  if (end - p < bytes) throw new BodyError(`${what} needs ${bytes} bytes, ${Math.max(0, end - p)} left`);
}

export function readU32(buf: Uint8Array, p: number): number {
  return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
}

/** A 16-byte address field: IPv4 sits in the last 4 bytes (RFC 7854 4.2). */
export function readAddressField(buf: Uint8Array, p: number, v6: boolean): string {
  if (!v6) return formatIPv4(readU32(buf, p + 12));
  return formatAddress(6, readU32(buf, p), readU32(buf, p + 4), readU32(buf, p + 8), readU32(buf, p + 12));
}

export function addressFamily(v6: boolean): Family {
  return v6 ? 6 : 4;
}

/** Per-peer header fields other than the identity bytes. */
export interface PeerHeaderInfo {
  type: number;
  flags: number;
  distinguisher: string;
  family: Family;
  address: string;
  asn: number;
  bgpId: string;
}

/** Reads a per-peer header at p (checked to be 42 bytes by the caller). */
export function readPeerHeader(buf: Uint8Array, p: number): PeerHeaderInfo {
  const type = buf[p];
  const flags = buf[p + 1];
  // Loc-RIB peers have no address family flag; their address is zero (RFC 9069 4.1).
  const v6 = type !== BmpPeerType.LocRib && (flags & PeerFlag.V) !== 0;
  let distinguisher = '';
  for (let i = 2; i < 10; i++) distinguisher += buf[p + i].toString(16).padStart(2, '0');
  return {
    type,
    flags,
    distinguisher,
    family: addressFamily(v6),
    address: readAddressField(buf, p + 10, v6),
    asn: readU32(buf, p + 26),
    bgpId: formatIPv4(readU32(buf, p + 30)),
  };
}

/** A BGP message at p whose own header says how long it is; returns its end. */
function bgpMessageEnd(buf: Uint8Array, p: number, end: number, what: string): number {
  need(p, end, BGP_HEADER_LENGTH, what);
  const length = (buf[p + 16] << 8) | buf[p + 17];
  if (length < BGP_HEADER_LENGTH || p + length > end) {
    throw new BodyError(`${what} length ${length} does not fit the ${end - p} bytes left`);
  }
  return p + length;
}

export interface Tlv {
  type: number;
  value: Uint8Array;
}

function readTlvs(buf: Uint8Array, p: number, end: number, what: string): Tlv[] {
  const tlvs: Tlv[] = [];
  while (p < end) {
    need(p, end, 4, `${what} TLV header`);
    const type = (buf[p] << 8) | buf[p + 1];
    const length = (buf[p + 2] << 8) | buf[p + 3];
    p += 4;
    need(p, end, length, `${what} TLV ${type}`);
    tlvs.push({ type, value: buf.subarray(p, p + length) });
    p += length;
  }
  return tlvs;
}

const text = (value: Uint8Array): string =>
  Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8');

//------------ Peer Up (RFC 7854 4.10) ---------------------------------------------------

export interface PeerUp {
  localAddress: string;
  localPort: number;
  remotePort: number;
  /** The OPEN the monitored router sent to the peer. */
  sent: OpenMessage;
  /** The OPEN the router received from the peer. */
  received: OpenMessage;
  information: string[];
}

/** Body after the per-peer header. */
export function parsePeerUp(buf: Uint8Array, p: number, end: number, v6: boolean): PeerUp {
  need(p, end, 20, 'Peer Up local address and ports');
  const localAddress = readAddressField(buf, p, v6);
  const localPort = (buf[p + 16] << 8) | buf[p + 17];
  const remotePort = (buf[p + 18] << 8) | buf[p + 19];
  p += 20;
  const sentEnd = bgpMessageEnd(buf, p, end, 'Peer Up sent OPEN');
  const sent = parseOpen(buf, p, sentEnd);
  const receivedEnd = bgpMessageEnd(buf, sentEnd, end, 'Peer Up received OPEN');
  const received = parseOpen(buf, sentEnd, receivedEnd);
  const information = readTlvs(buf, receivedEnd, end, 'Peer Up information').map((t) => text(t.value));
  return { localAddress, localPort, remotePort, sent, received, information };
}

//------------ Peer Down (RFC 7854 4.9, RFC 9069 4.4) ------------------------------------

export const PeerDownReason = {
  LocalNotification: 1,
  LocalNoNotification: 2,
  RemoteNotification: 3,
  RemoteNoData: 4,
  Deconfigured: 5,
  LocalSystemClosed: 6,
} as const;

export interface PeerDown {
  reason: number;
  /** NOTIFICATION error code and subcode for reasons 1 and 3. */
  notification?: { code: number; subcode: number };
  /** FSM event code for reason 2. */
  fsmEvent?: number;
}

export function parsePeerDown(buf: Uint8Array, p: number, end: number): PeerDown {
  need(p, end, 1, 'Peer Down reason');
  const reason = buf[p];
  p += 1;
  const down: PeerDown = { reason };
  if (reason === PeerDownReason.LocalNotification || reason === PeerDownReason.RemoteNotification) {
    const notificationEnd = bgpMessageEnd(buf, p, end, 'Peer Down NOTIFICATION');
    if (buf[p + 18] !== 3 || notificationEnd - p < BGP_HEADER_LENGTH + 2) {
      throw new BgpError('header', p, 'Peer Down data is not a NOTIFICATION with error code and subcode');
    }
    down.notification = { code: buf[p + BGP_HEADER_LENGTH], subcode: buf[p + BGP_HEADER_LENGTH + 1] };
  } else if (reason === PeerDownReason.LocalNoNotification) {
    need(p, end, 2, 'Peer Down FSM event code');
    down.fsmEvent = (buf[p] << 8) | buf[p + 1];
  }
  return down;
}

//------------ Statistics Report (RFC 7854 4.8) ------------------------------------------

/**
 * Statistics by name: the stat type number, with "/afi/safi" for the per-AFI/SAFI types
 * (RFC 7854 types 9 and 10, RFC 8671 types 16 and 17). 64-bit gauges become Numbers.
 */
export function parseStatistics(buf: Uint8Array, p: number, end: number): Map<string, number> {
  need(p, end, 4, 'Statistics count');
  const count = readU32(buf, p);
  p += 4;
  const stats = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    need(p, end, 4, `statistic ${i} header`);
    const type = (buf[p] << 8) | buf[p + 1];
    const length = (buf[p + 2] << 8) | buf[p + 3];
    p += 4;
    need(p, end, length, `statistic ${i} (type ${type})`);
    if (length === 4) stats.set(String(type), readU32(buf, p));
    else if (length === 8) stats.set(String(type), readU32(buf, p) * 0x1_0000_0000 + readU32(buf, p + 4));
    else if (length === 11) {
      const afi = (buf[p] << 8) | buf[p + 1];
      stats.set(`${type}/${afi}/${buf[p + 2]}`, readU32(buf, p + 3) * 0x1_0000_0000 + readU32(buf, p + 7));
    }
    // Other lengths belong to statistics this reader does not know: skipped.
    p += length;
  }
  if (p !== end) throw new BodyError(`${end - p} bytes after the last of ${count} statistics`);
  return stats;
}

//------------ Initiation / Termination (RFC 7854 4.3, 4.4, 4.5) -------------------------

export interface Initiation {
  sysName?: string;
  sysDescr?: string;
  information: string[];
}

export function parseInitiation(buf: Uint8Array, p: number, end: number): Initiation {
  const init: Initiation = { information: [] };
  for (const tlv of readTlvs(buf, p, end, 'Initiation')) {
    if (tlv.type === 0) init.information.push(text(tlv.value));
    else if (tlv.type === 1) init.sysDescr = text(tlv.value);
    else if (tlv.type === 2) init.sysName = text(tlv.value);
  }
  return init;
}

export interface Termination {
  /** 0 administratively closed, 1 unspecified, 2 out of resources, 3 redundant connection, 4 permanently closed. */
  reason?: number;
  information: string[];
}

export function parseTermination(buf: Uint8Array, p: number, end: number): Termination {
  const term: Termination = { information: [] };
  for (const tlv of readTlvs(buf, p, end, 'Termination')) {
    if (tlv.type === 0) term.information.push(text(tlv.value));
    else if (tlv.type === 1) {
      if (tlv.value.length !== 2)
        throw new BodyError(`Termination reason of ${tlv.value.length} bytes, expected 2`);
      term.reason = (tlv.value[0] << 8) | tlv.value[1];
    }
  }
  return term;
}
