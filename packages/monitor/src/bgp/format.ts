// Text forms of numeric routes, for the edges only (CLI output, logs, events). Addresses
// and prefixes use @rovkit/core's formatting so that every rovkit output agrees.
import { formatPrefix, formatV4Address, formatV6Address } from '@rovkit/core';
import { OriginKind, type Family } from './route.js';

export { formatPrefix, formatV4Address as formatIPv4 };

export function formatAddress(family: Family, w0: number, w1: number, w2: number, w3: number): string {
  return family === 4 ? formatV4Address(w0) : formatV6Address(w0, w1, w2, w3);
}

/**
 * The origin as route lists write it: the ASN, "none" for an AS_SET origin, and for a
 * Local origin (empty or confederation-only path) `localAs`, the AS of the speaker that
 * holds the route (an MRT or BMP peer's AS).
 */
export function formatOrigin(origin: number, kind: OriginKind, localAs: number): string {
  if (kind === OriginKind.Set) return 'none';
  return String(kind === OriginKind.Local ? localAs : origin);
}
