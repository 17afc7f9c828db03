// The real data of ../shared/data, read into columns of typed arrays: 1.27 million routes
// as objects would cost more heap than the tables being measured, and every peer harness
// wants the numbers anyway. This parser is deliberately independent of @rovkit/core, so
// that the peers and the naive oracle do not inherit a bug of the code they check.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The repository root: the nearest ancestor holding benchmarks/package.json. */
export const repoRoot = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'benchmarks', 'package.json'))) return dir;
  }
  return resolve(here, '../..');
})();
/** ../shared/data beside the repository (see its README.md for provenance and counts). */
export const sharedDataDir = resolve(repoRoot, '../shared/data');
/** Scratch space for derived files and built harnesses (gitignored). */
export const workDir = join(repoRoot, 'benchmarks', '.work');

export const dataFiles = {
  /** CAIDA RouteViews pfx2as, 2024-04-06: 998,042 IPv4 prefixes. */
  pfx2asV4: join(sharedDataDir, 'routes/caida-routeviews-rv2-20240406.pfx2as.gz'),
  /** RIPE RIS whois dump, 2024-12-20: 270,345 IPv6 (origin, prefix) rows. */
  risV6: join(sharedDataDir, 'routes/ris-riswhoisdump.IPv6-20241220.gz'),
  /** rpki-client JSON of RIPE's pre-production test TA: 424,223 VRPs (not production RPKI). */
  vrps424k: join(sharedDataDir, 'vrps/rpki-client-ripe-prepdev-TESTTA-20230504.json.gz'),
  /** Routinator JSON, complete AFRINIC TA 2024-01-01: 9,760 VRPs. */
  vrpsAfrinic: join(sharedDataDir, 'vrps/ripe-archive-afrinic-20240101.routinator.json.gz'),
  /** Routinator JSON, complete LACNIC TA 2024-01-01: 31,031 VRPs. */
  vrpsLacnic: join(sharedDataDir, 'vrps/ripe-archive-lacnic-20240101.routinator.json.gz'),
  /** rpki-client CSV, first 9,999 rows (1.0.0.0 to 5.236.x) of a full 5-TA set, April 2024. */
  vrpsRpkiClientCsv10k: join(sharedDataDir, 'vrps/rpki-client-sample10k-202404.csv.gz'),
  /** Routinator CSV of the same slice. */
  vrpsRoutinatorCsv10k: join(sharedDataDir, 'vrps/routinator-sample10k-202404.csv.gz'),
} as const;

/** A data file that is missing or does not parse; `line` is 1-based where known. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code = 'BENCH_ERR_DATASET';
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, reason: string, options?: ErrorOptions) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`, options);
    this.file = file;
    this.line = line;
  }
}

// ---------------------------------------------------------------- column types

/** IPv4 routes: address as a u32 (first octet most significant). */
export interface V4Routes {
  readonly addr: Uint32Array;
  readonly length: Uint8Array;
  /** Origin AS; 0 where the origin is an AS_SET ("none"), see originIsSet. */
  readonly origin: Uint32Array;
  /** 1 where the origin is an AS_SET, which RFC 6811 treats as NONE (never Valid). */
  readonly originIsSet: Uint8Array;
  readonly count: number;
}

/** IPv6 routes: four u32 words per route, most significant first. */
export interface V6Routes {
  readonly words: Uint32Array;
  readonly length: Uint8Array;
  readonly origin: Uint32Array;
  readonly originIsSet: Uint8Array;
  readonly count: number;
}

/** Routes of both families; route i is v4 route i below v4.count, else v6 route i - v4.count. */
export interface RouteSet {
  readonly v4: V4Routes;
  readonly v6: V6Routes;
  readonly count: number;
}

export interface V4Vrps {
  readonly addr: Uint32Array;
  readonly length: Uint8Array;
  readonly maxLength: Uint8Array;
  readonly asn: Uint32Array;
  readonly count: number;
}

export interface V6Vrps {
  readonly words: Uint32Array;
  readonly length: Uint8Array;
  readonly maxLength: Uint8Array;
  readonly asn: Uint32Array;
  readonly count: number;
}

/** VRPs of both families, in file order within each family. */
export interface VrpSet {
  readonly v4: V4Vrps;
  readonly v6: V6Vrps;
  readonly count: number;
}

/** A VRP as the JSON files and rpki-validator spell it. */
export interface VrpRecord {
  prefix: string;
  maxLength: number;
  asn: number;
}

/** A route as tests write it; origin "none" stands for an AS_SET. */
export interface RouteRecord {
  prefix: string;
  origin: number | 'none';
}

// ---------------------------------------------------------------- growable columns

class Columns {
  size = 0;
  words: Uint32Array;
  length: Uint8Array;
  second: Uint8Array;
  third: Uint32Array;

  constructor(
    readonly wordsPer: 1 | 4,
    capacity: number,
  ) {
    this.words = new Uint32Array(capacity * wordsPer);
    this.length = new Uint8Array(capacity);
    this.second = new Uint8Array(capacity);
    this.third = new Uint32Array(capacity);
  }

  push(w0: number, w1: number, w2: number, w3: number, length: number, second: number, third: number): void {
    if (this.size === this.length.length) this.grow();
    const i = this.size++;
    if (this.wordsPer === 1) this.words[i] = w0;
    else {
      this.words[i * 4] = w0;
      this.words[i * 4 + 1] = w1;
      this.words[i * 4 + 2] = w2;
      this.words[i * 4 + 3] = w3;
    }
    this.length[i] = length;
    this.second[i] = second;
    this.third[i] = third;
  }

  private grow(): void {
    const capacity = Math.max(16, this.length.length * 2);
    const words = new Uint32Array(capacity * this.wordsPer);
    words.set(this.words);
    const length = new Uint8Array(capacity);
    length.set(this.length);
    const second = new Uint8Array(capacity);
    second.set(this.second);
    const third = new Uint32Array(capacity);
    third.set(this.third);
    this.words = words;
    this.length = length;
    this.second = second;
    this.third = third;
  }

  /** Trimmed copies, so that `array.length === count` holds for every column. */
  trimmed(): { words: Uint32Array; length: Uint8Array; second: Uint8Array; third: Uint32Array } {
    const n = this.size;
    return {
      words: this.words.slice(0, n * this.wordsPer),
      length: this.length.slice(0, n),
      second: this.second.slice(0, n),
      third: this.third.slice(0, n),
    };
  }

  toV4Routes(): V4Routes {
    const t = this.trimmed();
    return { addr: t.words, length: t.length, origin: t.third, originIsSet: t.second, count: this.size };
  }

  toV6Routes(): V6Routes {
    const t = this.trimmed();
    return { words: t.words, length: t.length, origin: t.third, originIsSet: t.second, count: this.size };
  }

  toV4Vrps(): V4Vrps {
    const t = this.trimmed();
    return { addr: t.words, length: t.length, maxLength: t.second, asn: t.third, count: this.size };
  }

  toV6Vrps(): V6Vrps {
    const t = this.trimmed();
    return { words: t.words, length: t.length, maxLength: t.second, asn: t.third, count: this.size };
  }
}

// ---------------------------------------------------------------- prefix text

/** Top n bits of a u32 set, for n in 0..32. */
function mask(n: number): number {
  return n <= 0 ? 0 : n >= 32 ? 0xffffffff : (0xffffffff << (32 - n)) >>> 0;
}

/** Mask of word w (0..3) of an IPv6 prefix of `length` bits. */
function wordMask(length: number, w: number): number {
  return mask(length - w * 32);
}

function parseV4Address(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let addr = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return -1;
    const octet = Number(part);
    if (octet > 255) return -1;
    addr = addr * 256 + octet;
  }
  return addr;
}

/** Parses an IPv6 address (with "::" and a trailing dotted quad) into out[0..3]; false on bad syntax. */
function parseV6Address(text: string, out: Uint32Array): boolean {
  const groups: number[] = [];
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const parsed: number[][] = [];
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h]!;
    const list: number[] = [];
    if (half !== '') {
      const parts = half.split(':');
      for (let p = 0; p < parts.length; p++) {
        const part = parts[p]!;
        if (part.includes('.')) {
          // An embedded IPv4 address is allowed only as the last 32 bits.
          if (h !== halves.length - 1 || p !== parts.length - 1) return false;
          const v4 = parseV4Address(part);
          if (v4 < 0) return false;
          list.push(Math.floor(v4 / 65536), v4 % 65536);
        } else {
          if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return false;
          list.push(parseInt(part, 16));
        }
      }
    }
    parsed.push(list);
  }
  if (parsed.length === 1) {
    if (parsed[0]!.length !== 8) return false;
    groups.push(...parsed[0]!);
  } else {
    const fill = 8 - parsed[0]!.length - parsed[1]!.length;
    if (fill < 1) return false;
    groups.push(...parsed[0]!, ...new Array<number>(fill).fill(0), ...parsed[1]!);
  }
  for (let w = 0; w < 4; w++) out[w] = (groups[2 * w]! * 65536 + groups[2 * w + 1]!) >>> 0;
  return true;
}

const scratchWords = new Uint32Array(4);

/**
 * Parses "192.0.2.0/24" or "2001:db8::/32" strictly (host bits set, bad length and bad
 * syntax throw DatasetError). Returns family and length; the address is left in `out`.
 */
export function parsePrefixText(
  text: string,
  out: Uint32Array = scratchWords,
  file = '<input>',
  line?: number,
): { family: 4 | 6; length: number } {
  const slash = text.indexOf('/');
  const lengthText = text.slice(slash + 1);
  if (slash <= 0 || !/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) {
    throw new DatasetError(file, line, `invalid prefix "${text}"`);
  }
  const length = Number(lengthText);
  const address = text.slice(0, slash);
  let family: 4 | 6;
  if (address.includes(':')) {
    family = 6;
    if (!parseV6Address(address, out) || length > 128) {
      throw new DatasetError(file, line, `invalid IPv6 prefix "${text}"`);
    }
  } else {
    family = 4;
    const addr = parseV4Address(address);
    if (addr < 0 || length > 32) throw new DatasetError(file, line, `invalid IPv4 prefix "${text}"`);
    out[0] = addr;
    out[1] = out[2] = out[3] = 0;
  }
  for (let w = 0; w < 4; w++) {
    if ((out[w]! & ~(family === 4 ? (w === 0 ? mask(length) : 0) : wordMask(length, w))) !== 0) {
      throw new DatasetError(file, line, `prefix "${text}" has host bits set beyond /${length}`);
    }
  }
  return { family, length };
}

export function formatV4(addr: number, length: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${length}`;
}

/**
 * RFC 5952 text (lowercase, longest run of two or more zero groups as "::"), always in
 * hex: IPv4-mapped addresses are written "::ffff:5c2f:9038", not with a dotted quad,
 * because rpki-validator's ip-sub misreads the dotted form.
 */
export function formatV6(words: ArrayLike<number>, offset: number, length: number): string {
  const groups = new Array<number>(8);
  for (let w = 0; w < 4; w++) {
    const word = words[offset + w]!;
    groups[2 * w] = word >>> 16;
    groups[2 * w + 1] = word & 0xffff;
  }
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
  const text = bestStart < 0 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
  return `${text}/${length}`;
}

/** Route i of a RouteSet as prefix text (v4 routes first, then v6). */
export function formatRoute(routes: RouteSet, i: number): string {
  if (i < routes.v4.count) return formatV4(routes.v4.addr[i]!, routes.v4.length[i]!);
  const j = i - routes.v4.count;
  return formatV6(routes.v6.words, j * 4, routes.v6.length[j]!);
}

/** The routes of `all` at the given IPv4 and IPv6 indexes, as a RouteSet of their own. */
export function pickRoutes(all: RouteSet, pick4: readonly number[], pick6: readonly number[]): RouteSet {
  const words = new Uint32Array(pick6.length * 4);
  pick6.forEach((j, k) => words.set(all.v6.words.subarray(j * 4, j * 4 + 4), k * 4));
  return {
    v4: {
      addr: Uint32Array.from(pick4, (i) => all.v4.addr[i]!),
      length: Uint8Array.from(pick4, (i) => all.v4.length[i]!),
      origin: Uint32Array.from(pick4, (i) => all.v4.origin[i]!),
      originIsSet: Uint8Array.from(pick4, (i) => all.v4.originIsSet[i]!),
      count: pick4.length,
    },
    v6: {
      words,
      length: Uint8Array.from(pick6, (j) => all.v6.length[j]!),
      origin: Uint32Array.from(pick6, (j) => all.v6.origin[j]!),
      originIsSet: Uint8Array.from(pick6, (j) => all.v6.originIsSet[j]!),
      count: pick6.length,
    },
    count: pick4.length + pick6.length,
  };
}

/**
 * Every route as prefix text, in RouteSet order (for the string APIs, built before timing),
 * as a program reading a route file gets them: lines split from one text. Strings built by
 * concatenation would be V8 cons strings, a shape no file or JSON reader hands out, and
 * both validators would read them slower than real input.
 */
export function routePrefixes(routes: RouteSet): string[] {
  const lines = new Array<string>(routes.count);
  for (let i = 0; i < routes.count; i++) lines[i] = formatRoute(routes, i);
  return lines.join('\n').split('\n');
}

/** Origin of route i: the AS number, or "none" for an AS_SET. */
export function routeOrigin(routes: RouteSet, i: number): number | 'none' {
  const family = i < routes.v4.count ? routes.v4 : routes.v6;
  const j = i < routes.v4.count ? i : i - routes.v4.count;
  return family.originIsSet[j] === 1 ? 'none' : family.origin[j]!;
}

// ---------------------------------------------------------------- files

function readData(path: string): Buffer {
  if (!existsSync(path)) throw new DatasetError(path, undefined, 'file not found');
  const raw = readFileSync(path);
  return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

function parseAsnText(text: string, file: string, line: number): number {
  const digits = text.startsWith('AS') || text.startsWith('as') ? text.slice(2) : text;
  if (!/^(0|[1-9][0-9]{0,9})$/.test(digits) || Number(digits) > 0xffffffff) {
    throw new DatasetError(file, line, `invalid AS number "${text}"`);
  }
  return Number(digits);
}

/**
 * CAIDA pfx2as ("1.0.0.0<TAB>24<TAB>13335"). A multi-origin field `a_b` gives one route per
 * origin; an AS_SET part `a,b` gives a route with origin "none" (0, originIsSet 1), so
 * `209_3356,6223` is two routes: origin 209 and origin none.
 */
export function readPfx2as(path: string = dataFiles.pfx2asV4): V4Routes {
  const text = readData(path).toString('latin1');
  const out = new Columns(1, 1 << 20);
  let line = 0;
  for (let pos = 0; pos < text.length;) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    line++;
    const row = text.charCodeAt(end - 1) === 13 ? text.slice(pos, end - 1) : text.slice(pos, end);
    pos = end + 1;
    if (row === '') continue;
    const fields = row.split('\t');
    if (fields.length !== 3) throw new DatasetError(path, line, `expected 3 tab-separated fields: "${row}"`);
    const { family, length } = parsePrefixText(`${fields[0]}/${fields[1]}`, scratchWords, path, line);
    if (family !== 4) throw new DatasetError(path, line, `not an IPv4 prefix: "${row}"`);
    for (const part of fields[2]!.split('_')) {
      if (part.includes(',')) {
        for (const member of part.split(',')) parseAsnText(member, path, line);
        out.push(scratchWords[0]!, 0, 0, 0, length, 1, 0);
      } else {
        out.push(scratchWords[0]!, 0, 0, 0, length, 0, parseAsnText(part, path, line));
      }
    }
  }
  return out.toV4Routes();
}

/**
 * RIPE RIS whois dump ("origin<TAB>prefix<TAB>peers"): `%` lines and blank lines are
 * skipped; an origin `{a,b}` is an AS_SET (origin "none"); `::/0` rows are kept.
 */
export function readRisWhoisV6(path: string = dataFiles.risV6): V6Routes {
  const text = readData(path).toString('latin1');
  const out = new Columns(4, 1 << 18);
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const row = lines[n]!.endsWith('\r') ? lines[n]!.slice(0, -1) : lines[n]!;
    if (row.trim() === '' || row.startsWith('%')) continue;
    const fields = row.split('\t');
    if (fields.length !== 3) throw new DatasetError(path, n + 1, `expected 3 tab-separated fields: "${row}"`);
    const { family, length } = parsePrefixText(fields[1]!, scratchWords, path, n + 1);
    if (family !== 6) throw new DatasetError(path, n + 1, `not an IPv6 prefix: "${row}"`);
    const origin = fields[0]!;
    const w = scratchWords;
    if (origin.startsWith('{') && origin.endsWith('}')) {
      for (const member of origin.slice(1, -1).split(',')) parseAsnText(member, path, n + 1);
      out.push(w[0]!, w[1]!, w[2]!, w[3]!, length, 1, 0);
    } else {
      out.push(w[0]!, w[1]!, w[2]!, w[3]!, length, 0, parseAsnText(origin, path, n + 1));
    }
  }
  return out.toV6Routes();
}

let realRoutesCache: RouteSet | undefined;

/**
 * All real routes (about 1.27 million: 1,004,423 IPv4 after MOAS expansion plus 270,345
 * IPv6 rows). Cached for the life of the process; treat the arrays as read-only.
 */
export function loadRealRoutes(): RouteSet {
  if (realRoutesCache === undefined) {
    const v4 = readPfx2as();
    const v6 = readRisWhoisV6();
    realRoutesCache = { v4, v6, count: v4.count + v6.count };
  }
  return realRoutesCache;
}

/** Builds a RouteSet from text (for hand-made cases and tests). */
export function routeSetFromList(list: readonly RouteRecord[]): RouteSet {
  const v4 = new Columns(1, 16);
  const v6 = new Columns(4, 16);
  for (const route of list) {
    const { family, length } = parsePrefixText(route.prefix);
    const isSet = route.origin === 'none' ? 1 : 0;
    const origin = route.origin === 'none' ? 0 : route.origin;
    const w = scratchWords;
    (family === 4 ? v4 : v6).push(w[0]!, w[1]!, w[2]!, w[3]!, length, isSet, origin);
  }
  return { v4: v4.toV4Routes(), v6: v6.toV6Routes(), count: v4.size + v6.size };
}

// ---------------------------------------------------------------- VRP files

function pushVrp(
  v4: Columns,
  v6: Columns,
  prefix: string,
  maxLength: number,
  asn: number,
  file: string,
  line?: number,
): void {
  const { family, length } = parsePrefixText(prefix, scratchWords, file, line);
  if (!Number.isInteger(maxLength) || maxLength < length || maxLength > (family === 4 ? 32 : 128)) {
    throw new DatasetError(file, line, `maxLength ${maxLength} out of range for ${prefix}`);
  }
  const w = scratchWords;
  (family === 4 ? v4 : v6).push(w[0]!, w[1]!, w[2]!, w[3]!, length, maxLength, asn);
}

interface VrpJson {
  metadata?: Record<string, unknown>;
  roas?: { asn: number | string; prefix: string; maxLength: number; ta?: string; expires?: number }[];
}

function readVrpJson(path: string, data: Buffer = readData(path)): VrpJson {
  try {
    return JSON.parse(data.toString('utf8')) as VrpJson;
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError(path, undefined, 'not valid JSON', { cause: error });
  }
}

/**
 * Reads an rpki-client or Routinator JSON (`roas`, asn as number or "AS…") or a CSV
 * (`ASN,IP Prefix,Max Length,Trust Anchor[,Expires]`), gzipped or not, into columns.
 * Duplicates are kept as they are in the file.
 */
export function readVrpFile(path: string): VrpSet {
  const v4 = new Columns(1, 1 << 16);
  const v6 = new Columns(4, 1 << 14);
  const data = readData(path);
  if (data[0] === 0x7b /* { */) {
    const json = readVrpJson(path, data);
    if (!Array.isArray(json.roas)) throw new DatasetError(path, undefined, 'no "roas" array');
    json.roas.forEach((roa, i) => {
      const asn = typeof roa.asn === 'number' ? roa.asn : parseAsnText(String(roa.asn), path, i + 1);
      if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) {
        throw new DatasetError(path, undefined, `roas[${i}]: invalid AS number ${String(roa.asn)}`);
      }
      pushVrp(v4, v6, roa.prefix, roa.maxLength, asn, path);
    });
  } else {
    const lines = data.toString('utf8').split('\n');
    for (let n = 1; n < lines.length; n++) {
      const row = lines[n]!.trim();
      if (row === '') continue;
      const fields = row.split(',');
      if (fields.length < 3) throw new DatasetError(path, n + 1, `expected ASN,prefix,maxLength: "${row}"`);
      const maxLength = /^[0-9]{1,3}$/.test(fields[2]!) ? Number(fields[2]) : NaN;
      pushVrp(v4, v6, fields[1]!, maxLength, parseAsnText(fields[0]!, path, n + 1), path, n + 1);
    }
  }
  return { v4: v4.toV4Vrps(), v6: v6.toV6Vrps(), count: v4.size + v6.size };
}

/** Builds a VrpSet from records (for hand-made cases and tests). */
export function vrpSetFromList(list: readonly VrpRecord[]): VrpSet {
  const v4 = new Columns(1, 16);
  const v6 = new Columns(4, 16);
  for (const vrp of list) pushVrp(v4, v6, vrp.prefix, vrp.maxLength, vrp.asn, '<list>');
  return { v4: v4.toV4Vrps(), v6: v6.toV6Vrps(), count: v4.size + v6.size };
}

/** VRP i of a set (v4 first) as a record. */
export function vrpRecord(vrps: VrpSet, i: number): VrpRecord {
  if (i < vrps.v4.count) {
    const v = vrps.v4;
    return { prefix: formatV4(v.addr[i]!, v.length[i]!), maxLength: v.maxLength[i]!, asn: v.asn[i]! };
  }
  const j = i - vrps.v4.count;
  const v = vrps.v6;
  return { prefix: formatV6(v.words, j * 4, v.length[j]!), maxLength: v.maxLength[j]!, asn: v.asn[j]! };
}

// ---------------------------------------------------------------- derived files

function ensureWorkDir(): void {
  mkdirSync(workDir, { recursive: true });
}

/** Writes `text` chunks to `path` atomically (temporary name, then rename). */
function writeAtomically(path: string, write: (put: (chunk: string) => void) => void): void {
  ensureWorkDir();
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    let pending: string[] = [];
    let pendingLength = 0;
    const flush = (): void => {
      writeSync(fd, pending.join(''));
      pending = [];
      pendingLength = 0;
    };
    write((chunk) => {
      pending.push(chunk);
      pendingLength += chunk.length;
      if (pendingLength > 1 << 20) flush();
    });
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

function stem(path: string): string {
  return basename(path)
    .replace(/\.gz$/, '')
    .replace(/\.json$/, '');
}

/**
 * A copy of a VRP JSON with every `expires` removed (from roas, ASPAs and keys; the
 * metadata block is kept as it is), for StayRTR, which drops VRPs whose `expires` has passed even with
 * -checktime=false. Written once to benchmarks/.work/<name>.noexpires.json; returns its path.
 */
export function vrpJsonWithoutExpires(source: string = dataFiles.vrps424k): string {
  const target = join(workDir, `${stem(source)}.noexpires.json`);
  if (existsSync(target)) return target;
  const json = readVrpJson(source) as Record<string, unknown>;
  const strip = (value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) strip(item);
    else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      delete record.expires;
      for (const key in record) strip(record[key]);
    }
  };
  for (const key in json) if (key !== 'metadata') strip(json[key]);
  writeAtomically(target, (put) => put(JSON.stringify(json, null, '\t')));
  return target;
}

// Reserved IPv4 space that copies avoid, so that the scaled sets look like public
// space: [first /16 slot, number of /16 slots].
const RESERVED_V4_SLOTS: readonly [number, number][] = [
  [0x0000, 256], // 0.0.0.0/8
  [0x0a00, 256], // 10.0.0.0/8
  [0x6440, 64], // 100.64.0.0/10
  [0x7f00, 256], // 127.0.0.0/8
  [0xa9fe, 1], // 169.254.0.0/16
  [0xac10, 16], // 172.16.0.0/12
  [0xc000, 1], // 192.0.0.0/16 (holds 192.0.0.0/24 and 192.0.2.0/24)
  [0xc0a8, 1], // 192.168.0.0/16
  [0xc612, 2], // 198.18.0.0/15
  [0xc633, 1], // 198.51.0.0/16 (holds 198.51.100.0/24)
  [0xcb00, 1], // 203.0.0.0/16 (holds 203.0.113.0/24)
  [0xe000, 8192], // 224.0.0.0/3
];

/** Maximum number of shifted copies: IPv6 copies use the /3 blocks 4000::/3 … c000::/3. */
export const MAX_VRP_COPIES = 5;

/**
 * Plans where each shifted copy of the IPv4 VRPs goes. The original space is cut into
 * units: each VRP's enclosing /16 (or the VRP's own block when it is shorter than /16),
 * merged so that no unit contains another. Each copy moves every unit, as a whole, to a
 * free aligned block of the same size: never inside an original unit, a reserved range
 * (RESERVED_V4_SLOTS) or another copy's block. Units are placed largest first, each at the
 * lowest free aligned address. Inside a unit the layout is kept, so prefix lengths,
 * maxLengths and the nesting of VRPs are unchanged.
 * Returns, per copy, the new base address of each /16 slot's unit (-1 outside units).
 */
function planV4Copies(v4: V4Vrps, copies: number, file: string): Float64Array[] {
  // Units: slotUnitLength[slot] = prefix length of the unit starting at that slot.
  const unitLength = new Uint8Array(65536).fill(255);
  for (let i = 0; i < v4.count; i++) {
    const length = Math.min(v4.length[i]!, 16);
    const slot = (v4.addr[i]! & mask(length)) >>> 16;
    if (length < unitLength[slot]!) unitLength[slot] = length;
  }
  const unitOfSlot = new Int32Array(65536).fill(-1);
  const unitStart: number[] = [];
  const unitSlots: number[] = [];
  for (let slot = 0; slot < 65536;) {
    if (unitLength[slot] === 255) {
      slot++;
      continue;
    }
    const size = 1 << (16 - unitLength[slot]!);
    const u = unitStart.length;
    unitStart.push(slot);
    unitSlots.push(size);
    // Units found later inside this one are merged into it.
    for (let s = slot; s < slot + size; s++) unitOfSlot[s] = u;
    slot += size;
  }
  const used = new Uint8Array(65536);
  for (let slot = 0; slot < 65536; slot++) if (unitOfSlot[slot]! >= 0) used[slot] = 1;
  for (const [first, count] of RESERVED_V4_SLOTS) used.fill(1, first, first + count);

  // Largest units first; per size a cursor below which no aligned block of that size is free.
  const order: number[] = [];
  for (let k = 0; k < copies; k++)
    for (let u = 0; u < unitStart.length; u++) order.push(k * unitStart.length + u);
  order.sort((a, b) => {
    const sa = unitSlots[a % unitStart.length]!;
    const sb = unitSlots[b % unitStart.length]!;
    return sa !== sb ? sb - sa : a - b;
  });
  const cursor = new Map<number, number>();
  const newStart = Array.from({ length: copies }, () => new Int32Array(unitStart.length));
  for (const item of order) {
    const u = item % unitStart.length;
    const k = Math.floor(item / unitStart.length);
    const size = unitSlots[u]!;
    let at = cursor.get(size) ?? 0;
    for (;;) {
      if (at + size > 65536) {
        throw new DatasetError(file, undefined, `no free IPv4 space for ${copies} shifted copies`);
      }
      let free = true;
      for (let s = at; s < at + size; s++) {
        if (used[s] === 1) {
          free = false;
          break;
        }
      }
      if (free) break;
      at += size;
    }
    used.fill(1, at, at + size);
    newStart[k]![u] = at;
    cursor.set(size, at + size);
  }
  return newStart.map((starts) => {
    const base = new Float64Array(65536).fill(-1);
    for (let slot = 0; slot < 65536; slot++) {
      const u = unitOfSlot[slot]!;
      if (u >= 0) base[slot] = (starts[u]! + (slot - unitStart[u]!)) * 65536;
    }
    return base;
  });
}

/** Picks `want` of `n` items evenly (item i is in when floor((i+1)·want/n) > floor(i·want/n)). */
function picked(i: number, want: number, n: number): boolean {
  return Math.floor(((i + 1) * want) / n) > Math.floor((i * want) / n);
}

/**
 * An rpki-client JSON of exactly `target` VRPs (1,000,000 and 2,000,000 for the growth
 * figures): the source file, then shifted copies of it until the target is reached.
 *
 * Shifting (deterministic, no copy overlaps the original or another copy, every prefix and
 * maxLength stays valid, AS numbers are kept):
 * - IPv6: the source must lie in 2000::/3 (it does); copy k (1-based) replaces the top
 *   three bits 001 by k+1, so copies live in 4000::/3, 6000::/3, 8000::/3, a000::/3, c000::/3.
 * - IPv4: see planV4Copies: every /16 unit (or shorter VRP block) of the source moves to a
 *   free aligned block of the same size outside the source's units and reserved space.
 * - The last copy may be partial: it keeps an evenly spread selection of the source VRPs
 *   (IPv4 and IPv6 in the source proportion), so the family mix stays about the same.
 * The output has no `expires` (StayRTR can serve it) and keeps the source `ta`. Written
 * once to benchmarks/.work/; returns its path.
 */
export function scaledVrpFile(target: number, source: string = dataFiles.vrps424k): string {
  const path = join(workDir, `${stem(source)}.scaled-${target}.v1.json`);
  if (existsSync(path)) return path;
  const json = readVrpJson(source);
  const roas = json.roas;
  if (!Array.isArray(roas)) throw new DatasetError(source, undefined, 'no "roas" array');
  const n = roas.length;
  if (!Number.isInteger(target) || target < n) {
    throw new DatasetError(source, undefined, `target ${target} is below the ${n} VRPs of the source`);
  }
  const copies = Math.ceil((target - n) / n);
  if (copies > MAX_VRP_COPIES) {
    throw new DatasetError(
      source,
      undefined,
      `target ${target} needs ${copies} copies (max ${MAX_VRP_COPIES})`,
    );
  }
  const vrps = readVrpFile(source);
  for (let i = 0; i < vrps.v6.count; i++) {
    if (vrps.v6.words[i * 4]! >>> 29 !== 1 || vrps.v6.length[i]! < 3) {
      throw new DatasetError(
        source,
        undefined,
        `IPv6 VRP ${vrpRecord(vrps, vrps.v4.count + i).prefix} is outside 2000::/3`,
      );
    }
  }
  const plan = planV4Copies(vrps.v4, copies, source);
  const ta = roas[0]?.ta ?? 'scaled';
  const metadata = {
    buildtime: typeof json.metadata?.buildtime === 'string' ? json.metadata.buildtime : undefined,
    generator: 'rovkit benchmarks/src/datasets.ts scaledVrpFile v1',
    source: basename(source),
    copies,
    vrps: target,
  };
  const line = (asn: number, prefix: string, maxLength: number): string =>
    `\t\t{\n\t\t\t"asn": ${asn},\n\t\t\t"prefix": "${prefix}",\n\t\t\t"maxLength": ${maxLength},\n\t\t\t"ta": ${JSON.stringify(ta)}\n\t\t}`;

  writeAtomically(path, (put) => {
    put(`{\n\t"metadata": ${JSON.stringify(metadata, null, '\t').replace(/\n/g, '\n\t')},\n\t"roas": [\n`);
    let written = 0;
    const emit = (text: string): void => {
      put(written === 0 ? text : `,\n${text}`);
      written++;
    };
    for (const roa of roas) {
      const asn = typeof roa.asn === 'number' ? roa.asn : Number(String(roa.asn).replace(/^AS/i, ''));
      emit(line(asn, roa.prefix, roa.maxLength));
    }
    const v6 = new Uint32Array(4);
    for (let k = 1; k <= copies; k++) {
      const want = Math.min(n, target - written);
      const base = plan[k - 1]!;
      for (let i = 0; i < vrps.count; i++) {
        if (want < n && !picked(i, want, n)) continue;
        let prefix: string;
        let maxLength: number;
        let asn: number;
        if (i < vrps.v4.count) {
          const addr = vrps.v4.addr[i]!;
          const moved = base[addr >>> 16]! + (addr & 0xffff);
          prefix = formatV4(moved, vrps.v4.length[i]!);
          maxLength = vrps.v4.maxLength[i]!;
          asn = vrps.v4.asn[i]!;
        } else {
          const j = i - vrps.v4.count;
          v6.set(vrps.v6.words.subarray(j * 4, j * 4 + 4));
          v6[0] = ((v6[0]! & 0x1fffffff) | ((k + 1) << 29)) >>> 0;
          prefix = formatV6(v6, 0, vrps.v6.length[j]!);
          maxLength = vrps.v6.maxLength[j]!;
          asn = vrps.v6.asn[j]!;
        }
        emit(line(asn, prefix, maxLength));
      }
    }
    if (written !== target)
      throw new DatasetError(source, undefined, `wrote ${written} VRPs, wanted ${target}`);
    put('\n\t]\n}\n');
  });
  return path;
}
