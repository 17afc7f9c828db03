import { AsnError } from './errors.js';

/** What a route's origin can be: an AS number, or "none" when the AS_PATH ends in an AS_SET. */
export type Origin = number | string;

export const ASN_MAX = 0xffffffff;

/**
 * Parses 64496, "64496" or "AS64496" (any case) into a number in 0..4294967295;
 * anything else throws AsnError naming the value.
 */
export function parseAsn(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= ASN_MAX) return value;
    throw new AsnError(`invalid AS number ${value}: expected an integer from 0 to ${ASN_MAX}`);
  }
  let start = 0;
  if (value.length > 2 && (value.charCodeAt(0) | 32) === 97 && (value.charCodeAt(1) | 32) === 115) start = 2;
  const digits = value.length - start;
  if (digits === 0 || digits > 10 || (digits > 1 && value.charCodeAt(start) === 48)) {
    throw new AsnError(`invalid AS number "${value}"`);
  }
  let asn = 0;
  for (let i = start; i < value.length; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new AsnError(`invalid AS number "${value}"`);
    asn = asn * 10 + c;
  }
  if (asn > ASN_MAX) throw new AsnError(`invalid AS number "${value}": exceeds ${ASN_MAX}`);
  return asn;
}

/**
 * The origin of a route as the numeric paths take it. "none" (an AS_SET origin) maps
 * to 0: RFC 6811 says such a route cannot match any VRP, and RFC 7607 says the same of
 * origin AS 0, so both validate identically.
 */
export function parseOrigin(origin: Origin): number {
  if (origin === 'none' || origin === 'NONE') return 0;
  return parseAsn(origin);
}
