// BGP OPEN messages (RFC 4271 section 4.2), read for the capabilities that change how
// UPDATEs are encoded: 4-byte ASNs (RFC 6793, code 65) and ADD-PATH (RFC 7911, code 69).
// BMP Peer Up carries the OPEN sent and the OPEN received; both are needed to know
// what was negotiated. Extended optional parameters (RFC 9072) are understood.
import { BgpError } from './errors.js';
import { BGP_HEADER_LENGTH, BgpMessageType, readMessageHeader } from './update.js';

const enum Capability {
  FourOctetAs = 65,
  AddPath = 69,
}

/** RFC 7911 Send/Receive field bits. */
export const AddPathDirection = { Receive: 1, Send: 2 } as const;

export interface OpenMessage {
  version: number;
  /** The 4-byte ASN capability's value when present, else the 2-byte My AS field. */
  asn: number;
  holdTime: number;
  /** BGP Identifier as a u32. */
  bgpId: number;
  /** The 4-byte ASN capability is present. */
  fourOctetAs: boolean;
  /** ADD-PATH Send/Receive bits by `afi << 8 | safi`. */
  addPath: Map<number, number>;
  /** Every capability code seen, in order (for diagnostics). */
  capabilities: number[];
}

/** Parses a whole OPEN message (header included) that ends at `end`. */
export function parseOpen(buf: Uint8Array, start: number, end: number): OpenMessage {
  const type = readMessageHeader(buf, start, end);
  if (type !== BgpMessageType.Open)
    throw new BgpError('open', start + 18, `message type ${type} is not OPEN`);
  let p = start + BGP_HEADER_LENGTH;
  if (end - p < 10) throw new BgpError('open', p, `OPEN body needs at least 10 bytes, has ${end - p}`);
  const open: OpenMessage = {
    version: buf[p],
    asn: (buf[p + 1] << 8) | buf[p + 2],
    holdTime: (buf[p + 3] << 8) | buf[p + 4],
    bgpId: ((buf[p + 5] << 24) | (buf[p + 6] << 16) | (buf[p + 7] << 8) | buf[p + 8]) >>> 0,
    fourOctetAs: false,
    addPath: new Map(),
    capabilities: [],
  };
  let paramsLength = buf[p + 9];
  p += 10;
  // RFC 9072: a length of 255 followed by a parameter type of 255 introduces 2-byte lengths.
  let extended = false;
  if (paramsLength === 255 && end - p >= 1 && buf[p] === 255) {
    if (end - p < 3) throw new BgpError('open', p, 'extended optional parameters length is cut');
    paramsLength = (buf[p + 1] << 8) | buf[p + 2];
    extended = true;
    p += 3;
  }
  const paramsEnd = p + paramsLength;
  if (paramsEnd !== end) {
    throw new BgpError(
      'open',
      p,
      `optional parameters length ${paramsLength} differs from the ${end - p} bytes left`,
    );
  }
  const head = extended ? 3 : 2;
  while (p < paramsEnd) {
    if (paramsEnd - p < head)
      throw new BgpError('open', p, `${paramsEnd - p} bytes left, a parameter header needs ${head}`);
    const paramType = buf[p];
    const length = extended ? (buf[p + 1] << 8) | buf[p + 2] : buf[p + 1];
    p += head;
    if (p + length > paramsEnd) {
      throw new BgpError(
        'open',
        p,
        `parameter ${paramType} length ${length} exceeds the ${paramsEnd - p} bytes left`,
      );
    }
    if (paramType === 2) readCapabilities(buf, p, p + length, open);
    p += length;
  }
  return open;
}

function readCapabilities(buf: Uint8Array, start: number, end: number, open: OpenMessage): void {
  let p = start;
  while (p < end) {
    if (end - p < 2) throw new BgpError('capability', p, `${end - p} byte left, a capability header needs 2`);
    const code = buf[p];
    const length = buf[p + 1];
    p += 2;
    if (p + length > end) {
      throw new BgpError(
        'capability',
        p,
        `capability ${code} length ${length} exceeds the ${end - p} bytes left`,
      );
    }
    open.capabilities.push(code);
    if (code === Capability.FourOctetAs) {
      if (length !== 4)
        throw new BgpError('capability', p, `4-octet AS capability length ${length}, expected 4`);
      open.fourOctetAs = true;
      open.asn = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
    } else if (code === Capability.AddPath) {
      if (length % 4 !== 0)
        throw new BgpError('capability', p, `ADD-PATH capability length ${length} is not a multiple of 4`);
      for (let q = p; q < p + length; q += 4) {
        const afi = (buf[q] << 8) | buf[q + 1];
        const sendReceive = buf[q + 3];
        if (sendReceive < 1 || sendReceive > 3) {
          throw new BgpError(
            'capability',
            q + 3,
            `ADD-PATH send/receive value ${sendReceive}, expected 1 to 3`,
          );
        }
        open.addPath.set((afi << 8) | buf[q + 2], sendReceive);
      }
    }
    p += length;
  }
}

/**
 * Whether routes received under the OPENs `local` (sent by the router) and `remote`
 * (received from its peer) carry path identifiers for afi/safi (RFC 7911 section 4:
 * the peer said it can send and the router said it can receive).
 */
export function receivesAddPath(local: OpenMessage, remote: OpenMessage, afi: number, safi: number): boolean {
  const key = (afi << 8) | safi;
  return (
    ((remote.addPath.get(key) ?? 0) & AddPathDirection.Send) !== 0 &&
    ((local.addPath.get(key) ?? 0) & AddPathDirection.Receive) !== 0
  );
}
