// Text forms of numeric routes, for the edges only (CLI output, logs, events).
import { OriginKind } from './route.js';

export function formatIPv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** RFC 5952 text: lower-case hex, the longest run (first on ties) of two or more zero groups as "::". */
export function formatIPv6(w0: number, w1: number, w2: number, w3: number): string {
  const groups = [
    w0 >>> 16,
    w0 & 0xffff,
    w1 >>> 16,
    w1 & 0xffff,
    w2 >>> 16,
    w2 & 0xffff,
    w3 >>> 16,
    w3 & 0xffff,
  ];
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

export function formatAddress(family: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
  return family === 4 ? formatIPv4(w0) : formatIPv6(w0, w1, w2, w3);
}

export function formatPrefix(
  family: 4 | 6,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  length: number,
): string {
  return `${formatAddress(family, w0, w1, w2, w3)}/${length}`;
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
