// Strict prefix parsing and formatting without allocation on the hot path. Addresses
// are held as u32 words, most significant first: one word for IPv4, four for IPv6.
import { PrefixError } from './errors.js';

export type Family = 4 | 6;

export interface Prefix {
  readonly family: Family;
  /** Four u32 words, most significant first; IPv4 uses words[0] only, the rest are 0. */
  readonly words: readonly [number, number, number, number];
  readonly length: number;
}

/** MASKS[n] has the top n bits of a u32 set. */
export const MASKS: Uint32Array = (() => {
  const masks = new Uint32Array(33);
  for (let n = 1; n <= 32; n++) masks[n] = (0xffffffff << (32 - n)) >>> 0;
  return masks;
})();

/** Mask of the bits of word `word` (0..3) that lie inside a prefix of `length` bits. */
export function wordMask(length: number, word: number): number {
  const bits = length - word * 32;
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : MASKS[bits]!;
}

const groups = new Uint16Array(8);
const textBytes = new Uint8Array(64);

/**
 * Parses `text` ("192.0.2.0/24", "2001:db8::/32") into `out` (four u32 words) and
 * returns the prefix length, plus 256 for IPv6. Throws PrefixError naming the text
 * on bad syntax, a length out of range or host bits set.
 */
export function parsePrefixInto(text: string, out: Uint32Array): number {
  const quick = quickV4(text, out);
  if (quick >= 0) {
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    return quick;
  }
  const quick6 = quickV6(text, out);
  if (quick6 >= 0) return quick6;
  const n = text.length;
  if (n > textBytes.length) throw new PrefixError(`invalid prefix "${text.slice(0, 80)}": too long`);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    textBytes[i] = c > 255 ? 0 : c;
  }
  return parsePrefixBytes(textBytes, 0, n, out);
}

// The common case of the string API, a well-formed IPv4 prefix, read straight off the
// string: copying it to bytes first halves the rate of validate(). Returns the length
// (address in out[0]), or -1 for anything else, which the full parser then
// reads or rejects with the right message.
function quickV4(text: string, out: Uint32Array): number {
  const n = text.length;
  let address = 0;
  let i = 0;
  // Four octets of one to three digits, unrolled: charCodeAt past the end is NaN, and NaN
  // fails every comparison, so a short text falls out as -1 without a bounds check.
  for (let octet = 0; octet < 4; octet++) {
    let d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    let value = d;
    d = text.charCodeAt(++i) - 48;
    if (d >= 0 && d <= 9) {
      if (value === 0) return -1; // leading zero
      value = value * 10 + d;
      d = text.charCodeAt(++i) - 48;
      if (d >= 0 && d <= 9) {
        value = value * 10 + d;
        if (value > 255) return -1;
        d = text.charCodeAt(++i) - 48;
      }
    }
    // The separator: "." (46) after the first three octets, "/" (47) after the last.
    if (d !== (octet === 3 ? -1 : -2)) return -1;
    i++;
    address = address * 256 + value;
  }
  let d = text.charCodeAt(i) - 48;
  if (!(d >= 0 && d <= 9)) return -1;
  let length = d;
  if (++i < n) {
    d = text.charCodeAt(i) - 48;
    if (length === 0 || !(d >= 0 && d <= 9) || ++i !== n) return -1;
    length = length * 10 + d;
  }
  if (length > 32 || (address & ~MASKS[length]!) !== 0) return -1;
  // Into the caller's typed array, not a module variable: a u32 above 2^30 stored in a
  // variable is a heap number, one allocation per route.
  out[0] = address;
  return length;
}

// Hex digit values by character code, -1 for anything else (codes above 127 included: the
// table is read with the code masked, after a range check).
const HEX_VALUE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let c = 0; c < 10; c++) table[48 + c] = c;
  for (let c = 0; c < 6; c++) {
    table[65 + c] = 10 + c;
    table[97 + c] = 10 + c;
  }
  return table;
})();

// The same for IPv6 in its usual compressed form ("2001:db8::/32"): returns the length plus
// 256, words in `out`, or -1 for anything else (embedded IPv4, bad syntax, host bits), which
// the full parser then reads or rejects with the right message.
function quickV6(text: string, out: Uint32Array): number {
  const n = text.length;
  if (n < 4 || n > 43) return -1;
  let count = 0;
  let gap = -1;
  let i = 0;
  let c = text.charCodeAt(0);
  if (c === 58) {
    if (text.charCodeAt(1) !== 58) return -1;
    gap = 0;
    i = 2;
    c = text.charCodeAt(2);
  }
  // Groups up to the "/"; c holds the character at i.
  while (c !== 47) {
    let h = c < 128 ? HEX_VALUE[c]! : -1;
    if (h < 0 || count === 8) return -1;
    let value = h;
    let digits = 1;
    for (;;) {
      c = text.charCodeAt(++i);
      h = c < 128 ? HEX_VALUE[c]! : -1;
      if (h < 0) break;
      value = value * 16 + h;
      if (++digits > 4) return -1;
    }
    groups[count++] = value;
    if (c === 47) break;
    if (c !== 58) return -1; // also NaN: the text ended without a "/"
    c = text.charCodeAt(++i);
    if (c === 58) {
      if (gap >= 0) return -1;
      gap = count;
      c = text.charCodeAt(++i);
    } else if (c === 47) return -1;
  }
  if (i >= n - 1 || (gap < 0 ? count !== 8 : count > 7)) return -1;
  let length = 0;
  const lengthDigits = n - i - 1;
  if (lengthDigits > 3 || (lengthDigits > 1 && text.charCodeAt(i + 1) === 48)) return -1;
  for (let j = i + 1; j < n; j++) {
    const d = text.charCodeAt(j) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    length = length * 10 + d;
  }
  if (length > 128) return -1;
  if (gap >= 0) {
    const tail = count - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) {
    const word = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
    if ((word & ~wordMask(length, w)) !== 0) return -1;
    out[w] = word;
  }
  return length + 256;
}

/**
 * As parsePrefixInto, on bytes[start, end): lets file readers parse prefixes where
 * they lie in the input, without making a string of each.
 */
export function parsePrefixBytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array): number {
  let slash = -1;
  let colon = false;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 47) {
      slash = i;
      break;
    }
    if (c === 58) colon = true;
  }
  if (slash <= start) throw prefixError(bytes, start, end, 'expected address/length');
  if (colon) parseV6(bytes, start, slash, end, out);
  else {
    out[0] = parseV4(bytes, start, slash, start, end);
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
  }
  const length = parseLength(bytes, slash + 1, end, colon ? 128 : 32, start);
  for (let w = 0; w < 4; w++) {
    if ((out[w]! & ~wordMask(length, w)) !== 0) {
      throw prefixError(bytes, start, end, `host bits set beyond /${length}`);
    }
  }
  return colon ? length + 256 : length;
}

/** Parses a prefix into a fresh object (see parsePrefixInto for the rules). */
export function parsePrefix(text: string): Prefix {
  const words = new Uint32Array(4);
  const code = parsePrefixInto(text, words);
  return {
    family: code >= 256 ? 6 : 4,
    words: [words[0]!, words[1]!, words[2]!, words[3]!],
    length: code & 255,
  };
}

function prefixError(bytes: Uint8Array, start: number, end: number, reason: string): PrefixError {
  return new PrefixError(`invalid prefix "${String.fromCharCode(...bytes.subarray(start, end))}": ${reason}`);
}

function parseLength(bytes: Uint8Array, from: number, end: number, max: number, start: number): number {
  if (from >= end || end - from > 3) throw prefixError(bytes, start, end, 'bad length');
  let value = 0;
  for (let i = from; i < end; i++) {
    const c = bytes[i]! - 48;
    if (c < 0 || c > 9) throw prefixError(bytes, start, end, 'bad length');
    value = value * 10 + c;
  }
  if (end - from > 1 && bytes[from] === 48) throw prefixError(bytes, start, end, 'bad length');
  if (value > max) throw prefixError(bytes, start, end, `length ${value} exceeds ${max}`);
  return value;
}

/** Dotted quad in bytes[from, to) to a u32; leading zeros are refused as ambiguous. */
function parseV4(bytes: Uint8Array, from: number, to: number, textStart: number, end: number): number {
  let result = 0;
  let octets = 0;
  let i = from;
  for (;;) {
    const first = i;
    let value = 0;
    while (i < to) {
      const c = bytes[i]! - 48;
      if (c < 0 || c > 9) break;
      value = value * 10 + c;
      i++;
    }
    const digits = i - first;
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && bytes[first] === 48)) {
      throw prefixError(bytes, textStart, end, 'bad IPv4 address');
    }
    result = result * 256 + value;
    octets++;
    if (i === to) break;
    if (bytes[i] !== 46 || octets === 4) throw prefixError(bytes, textStart, end, 'bad IPv4 address');
    i++;
  }
  if (octets !== 4) throw prefixError(bytes, textStart, end, 'bad IPv4 address');
  return result >>> 0;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 32;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 4291 text form in bytes[from, to) into out[0..3]; embedded dotted IPv4 allowed last. */
function parseV6(bytes: Uint8Array, from: number, to: number, end: number, out: Uint32Array): void {
  let count = 0;
  let gap = -1; // number of groups before "::"
  let i = from;
  if (bytes[i] === 58) {
    if (bytes[i + 1] !== 58) throw prefixError(bytes, from, end, 'bad IPv6 address');
    gap = 0;
    i += 2;
  }
  while (i < to) {
    const first = i;
    let value = 0;
    while (i < to) {
      const h = hexValue(bytes[i]!);
      if (h < 0) break;
      value = value * 16 + h;
      i++;
    }
    if (i < to && bytes[i] === 46) {
      // Embedded IPv4 (::ffff:192.0.2.1): takes the last two groups.
      if (count > 6) throw prefixError(bytes, from, end, 'bad IPv6 address');
      const v4 = parseV4(bytes, first, to, from, end);
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = to;
      break;
    }
    const digits = i - first;
    if (digits === 0 || digits > 4 || count === 8) throw prefixError(bytes, from, end, 'bad IPv6 address');
    groups[count++] = value;
    if (i === to) break;
    if (bytes[i] !== 58) throw prefixError(bytes, from, end, 'bad IPv6 address');
    i++;
    if (bytes[i] === 58 && i < to) {
      if (gap >= 0) throw prefixError(bytes, from, end, 'bad IPv6 address');
      gap = count;
      i++;
    } else if (i === to) throw prefixError(bytes, from, end, 'bad IPv6 address');
  }
  if (gap < 0) {
    if (count !== 8) throw prefixError(bytes, from, end, 'bad IPv6 address');
  } else {
    if (count > 7) throw prefixError(bytes, from, end, 'bad IPv6 address');
    const tail = count - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
}

/** "192.0.2.0" from a u32. */
export function formatV4Address(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/** RFC 5952 canonical text of an IPv6 address: lower case, longest zero run as "::". */
export function formatV6Address(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // ::ffff:a.b.c.d keeps its dotted form (RFC 5952 section 5).
  if (bestStart === 0 && bestLength === 5 && g[5] === 0xffff) {
    return `::ffff:${formatV4Address(w3)}`;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

export function formatPrefix(
  family: Family,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  length: number,
): string {
  return family === 4 ? `${formatV4Address(w0)}/${length}` : `${formatV6Address(w0, w1, w2, w3)}/${length}`;
}
