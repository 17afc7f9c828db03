import { parseAsn } from './asn.js';
import { MaxLengthError } from './errors.js';
import { formatPrefix, parsePrefixInto, wordMask, type Family } from './prefix.js';

/** A Validated ROA Payload: the prefix, how long announcements of it may be, and the AS allowed to originate them. */
export interface Vrp {
  readonly prefix: string;
  readonly maxLength: number;
  readonly asn: number;
  /** Trust anchor the VRP came from, where the source says. */
  readonly ta?: string;
  /** Unix time (seconds) after which the source considers it expired, where the source says. */
  readonly expires?: number;
}

/** A VRP as input: the AS may also be "AS64496" or "64496". */
export interface VrpInput {
  readonly prefix: string;
  readonly maxLength: number;
  readonly asn: number | string;
  readonly ta?: string;
  readonly expires?: number;
}

/** A VRP taken apart into numbers. */
export interface NumericVrp {
  family: Family;
  words: Uint32Array;
  length: number;
  maxLength: number;
  asn: number;
}

/** Parses and checks a VRP into `out` (reused, to keep bulk paths free of allocation). */
export function parseVrpInto(vrp: VrpInput, out: NumericVrp): NumericVrp {
  const code = parsePrefixInto(vrp.prefix, out.words);
  out.family = code >= 256 ? 6 : 4;
  out.length = code & 255;
  out.asn = parseAsn(vrp.asn);
  out.maxLength = checkMaxLength(vrp.prefix, out.length, out.family === 4 ? 32 : 128, vrp.maxLength);
  return out;
}

export function newNumericVrp(): NumericVrp {
  return { family: 4, words: new Uint32Array(4), length: 0, maxLength: 0, asn: 0 };
}

/** Checks RFC 6482's bounds: length <= maxLength <= 32 or 128. */
export function checkMaxLength(
  prefix: string,
  length: number,
  familyMax: number,
  maxLength: unknown,
): number {
  if (typeof maxLength !== 'number' || !Number.isInteger(maxLength)) {
    throw new MaxLengthError(`invalid maxLength ${String(maxLength)} for ${prefix}: not an integer`);
  }
  if (maxLength < length) {
    throw new MaxLengthError(
      `invalid maxLength ${maxLength} for ${prefix}: less than the prefix length ${length}`,
    );
  }
  if (maxLength > familyMax) {
    throw new MaxLengthError(`invalid maxLength ${maxLength} for ${prefix}: exceeds ${familyMax}`);
  }
  return maxLength;
}

/** True when the words have no bits set beyond `length`. */
export function hostBitsClear(w0: number, w1: number, w2: number, w3: number, length: number): boolean {
  return (
    (w0 & ~wordMask(length, 0)) === 0 &&
    (w1 & ~wordMask(length, 1)) === 0 &&
    (w2 & ~wordMask(length, 2)) === 0 &&
    (w3 & ~wordMask(length, 3)) === 0
  );
}

export function vrpObject(
  family: Family,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  length: number,
  maxLength: number,
  asn: number,
  ta?: string,
  expires?: number,
): Vrp {
  const prefix = formatPrefix(family, w0, w1, w2, w3, length);
  if (ta === undefined && expires === undefined) return { prefix, maxLength, asn };
  const vrp: { prefix: string; maxLength: number; asn: number; ta?: string; expires?: number } = {
    prefix,
    maxLength,
    asn,
  };
  if (ta !== undefined) vrp.ta = ta;
  if (expires !== undefined) vrp.expires = expires;
  return vrp;
}
