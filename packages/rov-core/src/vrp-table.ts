// The VRP table: a PATRICIA trie per address family whose nodes point at linked
// lists of VRP entries (AS, maxLength, reference count) held in typed arrays.
import { parseOrigin, type Origin } from './asn.js';
import { AsnError, MaxLengthError, PrefixError } from './errors.js';
import { MASKS, parsePrefixInto, type Family } from './prefix.js';
import { PrefixTrie } from './prefix-trie.js';
import { ValidationCode, validityOf, type Explanation, type RouteValidity } from './validity.js';
import { hostBitsClear, newNumericVrp, parseVrpInto, vrpObject, type Vrp, type VrpInput } from './vrp.js';
import { VrpList } from './vrp-list.js';

const NONE = -1;
// Address bits of the IPv4 start index, and the lookups after a change that pay for it.
const INDEX_BITS = 16;
const INDEX_AFTER = 1 << 14;
const { NotFound, Valid, InvalidAs, InvalidLength } = ValidationCode;

/** Optional attributes kept with a VRP (those of the first copy added). */
export interface VrpAttributes {
  readonly ta?: string;
  readonly expires?: number;
}

export class VrpTable {
  /** @internal The IPv4 trie; read directly by the validation loops and snapshots. */
  readonly v4: PrefixTrie;
  /** @internal */
  readonly v6: PrefixTrie;

  // VRP entries, one per unique (prefix, maxLength, AS), chained per trie node.
  /** @internal */ entryAsn: Uint32Array;
  /** @internal */ entryMaxLength: Uint8Array;
  /** @internal */ entryRefs: Uint32Array;
  /** @internal */ entryNext: Int32Array;
  /** @internal Index into `trustAnchors`; 0 is "not given". */ entryTa: Uint16Array;
  /** @internal Unix seconds; 0 is "not given". */ entryExpires: Uint32Array;
  /** @internal */ entriesUsed = 0;
  /** @internal */ entryFree = NONE;
  /** @internal */ trustAnchors: string[] = [''];

  #taIndex = new Map<string, number>();
  #sizeV4 = 0;
  #sizeV6 = 0;
  readonly #scratch = new Uint32Array(4);
  readonly #parsed = newNumericVrp();

  // IPv4 lookups of a /16 or longer begin at the deepest node that covers the route's /16
  // instead of the root: about half of the ~11 nodes a real route visits lie above it.
  // The index is built once enough lookups follow a change (a build walks 65,536 paths,
  // about a millisecond), so tables that change between a few lookups never pay for it.
  #startV4: Int32Array | undefined;
  // 1 where a node above the slot's start node carries VRPs (they cover the whole slot).
  #aboveV4: Uint8Array | undefined;
  #startV4Ready = false;
  #lookupsSinceChange = 0;
  readonly #indexAfter: number;

  /**
   * `capacity`: initial room for trie nodes and VRP entries (they grow as needed).
   * `indexAfter` (internal, for tests): IPv4 lookups after a change before the /16
   * start index is built.
   */
  constructor(options: { capacity?: number; indexAfter?: number } = {}) {
    const capacity = options.capacity ?? 1024;
    this.#indexAfter = options.indexAfter ?? INDEX_AFTER;
    this.v4 = new PrefixTrie(1, capacity);
    this.v6 = new PrefixTrie(4, Math.max(16, capacity >>> 2));
    this.entryAsn = new Uint32Array(capacity);
    this.entryMaxLength = new Uint8Array(capacity);
    this.entryRefs = new Uint32Array(capacity);
    this.entryNext = new Int32Array(capacity);
    this.entryTa = new Uint16Array(capacity);
    this.entryExpires = new Uint32Array(capacity);
  }

  /** Unique VRPs held (a VRP added twice counts once). */
  get size(): number {
    return this.#sizeV4 + this.#sizeV6;
  }

  get sizeV4(): number {
    return this.#sizeV4;
  }

  get sizeV6(): number {
    return this.#sizeV6;
  }

  /** Bytes of typed arrays the table holds (its memory, but for a few small objects). */
  get byteLength(): number {
    return (
      this.v4.byteLength +
      this.v6.byteLength +
      this.entryAsn.byteLength * 3 +
      this.entryMaxLength.byteLength +
      this.entryTa.byteLength +
      this.entryExpires.byteLength
    );
  }

  clear(): void {
    this.#v4Changed();
    this.v4.clear();
    this.v6.clear();
    this.entriesUsed = 0;
    this.entryFree = NONE;
    this.#sizeV4 = 0;
    this.#sizeV6 = 0;
  }

  // ------------------------------------------------------------ object API

  /** Adds a VRP; true when it was not present before (a second copy only counts up). */
  add(vrp: VrpInput): boolean {
    const p = parseVrpInto(vrp, this.#parsed);
    const ta = vrp.ta === undefined ? 0 : this.#internTa(vrp.ta);
    const expires = vrp.expires ?? 0;
    return this.#add(this.#keyed(p.family, p.words), p.length, p.maxLength, p.asn, ta, expires);
  }

  /** Removes one copy of a VRP; true when it was present. */
  remove(vrp: VrpInput): boolean {
    const p = parseVrpInto(vrp, this.#parsed);
    return this.#remove(this.#keyed(p.family, p.words), p.length, p.maxLength, p.asn);
  }

  has(vrp: VrpInput): boolean {
    const p = parseVrpInto(vrp, this.#parsed);
    return this.#entry(this.#keyed(p.family, p.words), p.length, p.maxLength, p.asn) !== NONE;
  }

  /** How many copies of the VRP were added and not removed (0 when absent). */
  count(vrp: VrpInput): number {
    const p = parseVrpInto(vrp, this.#parsed);
    const e = this.#entry(this.#keyed(p.family, p.words), p.length, p.maxLength, p.asn);
    return e === NONE ? 0 : this.entryRefs[e]!;
  }

  /** Every VRP, IPv4 first, in prefix order, then by maxLength and AS. */
  *[Symbol.iterator](): IterableIterator<Vrp> {
    const batch: Vrp[] = [];
    for (const trie of [this.v4, this.v6]) {
      const stack: number[] = trie.root === NONE ? [] : [trie.root];
      while (stack.length > 0) {
        const n = stack.pop()!;
        if (trie.child1[n] !== NONE) stack.push(trie.child1[n]!);
        if (trie.child0[n] !== NONE) stack.push(trie.child0[n]!);
        if (trie.head[n] === NONE) continue;
        batch.length = 0;
        this.#collect(trie, n, batch, batch, batch, -1, 0);
        batch.sort((a, b) => a.maxLength - b.maxLength || a.asn - b.asn);
        yield* batch;
      }
    }
  }

  // ----------------------------------------------------------- numeric API

  addV4(addr: number, length: number, maxLength: number, asn: number, attributes?: VrpAttributes): boolean {
    this.#check(4, addr, 0, 0, 0, length, maxLength, asn);
    this.v4.key[0] = addr;
    return this.#add(this.v4, length, maxLength, asn, this.#taOf(attributes), attributes?.expires ?? 0);
  }

  removeV4(addr: number, length: number, maxLength: number, asn: number): boolean {
    this.v4.key[0] = addr;
    return this.#remove(this.v4, length, maxLength, asn);
  }

  hasV4(addr: number, length: number, maxLength: number, asn: number): boolean {
    this.v4.key[0] = addr;
    return this.#entry(this.v4, length, maxLength, asn) !== NONE;
  }

  addV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
    attributes?: VrpAttributes,
  ): boolean {
    this.#check(6, w0, w1, w2, w3, length, maxLength, asn);
    this.#setKey(this.v6, w0, w1, w2, w3);
    return this.#add(this.v6, length, maxLength, asn, this.#taOf(attributes), attributes?.expires ?? 0);
  }

  removeV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
  ): boolean {
    this.#setKey(this.v6, w0, w1, w2, w3);
    return this.#remove(this.v6, length, maxLength, asn);
  }

  hasV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
  ): boolean {
    this.#setKey(this.v6, w0, w1, w2, w3);
    return this.#entry(this.v6, length, maxLength, asn) !== NONE;
  }

  /** Applies withdrawals, then announcements. Withdrawing an absent VRP is a no-op. */
  applyDelta(announced: VrpList, withdrawn: VrpList): void {
    withdrawn.forEach((family, w0, w1, w2, w3, length, maxLength, asn) => {
      if (family === 4) this.removeV4(w0, length, maxLength, asn);
      else this.removeV6(w0, w1, w2, w3, length, maxLength, asn);
    });
    this.#reserve(announced);
    announced.forEach((family, w0, w1, w2, w3, length, maxLength, asn) => {
      if (family === 4) this.addV4(w0, length, maxLength, asn);
      else this.addV6(w0, w1, w2, w3, length, maxLength, asn);
    });
  }

  // Before a large batch of adds (a first full sync, a reload into an empty table): grow the
  // arrays once to fit, instead of by 1.5x steps whose discarded copies add up to twice the
  // final size until a GC frees them. Small deltas keep the usual growth.
  #reserve(announced: VrpList): void {
    const count = announced.length;
    if (count < 4096 || count < this.size) return;
    let v4 = 0;
    for (let i = 0; i < count; i++) if (announced.family(i) === 4) v4++;
    const entries = this.entriesUsed + count;
    if (entries > this.entryAsn.length) this.adoptEntries(entries);
    // An insert adds a leaf and at most one joining node; real sets need about 1.3 per VRP.
    const fit = (trie: PrefixTrie, adds: number): void => {
      const nodes = trie.used + Math.ceil(adds * 1.4);
      if (nodes > trie.capacity) trie.adopt(nodes);
    };
    fit(this.v4, v4);
    fit(this.v6, count - v4);
  }

  /**
   * Moves every VRP of `source` into this table, which must be empty, by handing over
   * `source`'s arrays instead of copying them; `source` is left empty. For a complete set
   * staged in a table of its own (an RTR reset) when there is nothing to replace.
   */
  moveFrom(source: VrpTable): void {
    if (this.size !== 0)
      throw new RangeError(`moveFrom needs an empty table, this one holds ${this.size} VRPs`);
    this.#v4Changed();
    source.#v4Changed();
    this.v4.moveFrom(source.v4);
    this.v6.moveFrom(source.v6);
    this.entryAsn = source.entryAsn;
    this.entryMaxLength = source.entryMaxLength;
    this.entryRefs = source.entryRefs;
    this.entryNext = source.entryNext;
    this.entryTa = source.entryTa;
    this.entryExpires = source.entryExpires;
    this.entriesUsed = source.entriesUsed;
    this.entryFree = source.entryFree;
    this.trustAnchors = source.trustAnchors;
    this.#taIndex = source.#taIndex;
    this.#sizeV4 = source.#sizeV4;
    this.#sizeV6 = source.#sizeV6;
    source.trustAnchors = [''];
    source.#taIndex = new Map();
    source.entriesUsed = 0;
    source.entryFree = NONE;
    source.#sizeV4 = 0;
    source.#sizeV6 = 0;
    source.adoptEntries(16);
  }

  /** The VRPs to withdraw and announce to turn this table's set into `next`'s. */
  diff(next: VrpTable): { announced: VrpList; withdrawn: VrpList } {
    return { announced: next.#missingFrom(this), withdrawn: this.#missingFrom(next) };
  }

  // This table's VRPs that `other` lacks.
  #missingFrom(other: VrpTable): VrpList {
    // Against an empty table every VRP is missing: size the list for all of them at once.
    const missing = other.size === 0 ? new VrpList(Math.max(64, this.size)) : new VrpList();
    this.forEachVrp((family, w0, w1, w2, w3, length, maxLength, asn) => {
      const present =
        family === 4
          ? other.hasV4(w0, length, maxLength, asn)
          : other.hasV6(w0, w1, w2, w3, length, maxLength, asn);
      if (!present) missing.push(family, w0, w1, w2, w3, length, maxLength, asn);
    });
    return missing;
  }

  /** Calls `visit` with each unique VRP as numbers, in trie order (no object per VRP). */
  forEachVrp(
    visit: (
      family: Family,
      w0: number,
      w1: number,
      w2: number,
      w3: number,
      length: number,
      maxLength: number,
      asn: number,
      ta: string | undefined,
      expires: number | undefined,
    ) => void,
  ): void {
    for (const trie of [this.v4, this.v6]) {
      const family: Family = trie === this.v4 ? 4 : 6;
      const words = trie.words;
      trie.forEachNode((n) => {
        const base = n * words;
        const a = trie.addr;
        const w0 = a[base]!;
        const w1 = words === 4 ? a[base + 1]! : 0;
        const w2 = words === 4 ? a[base + 2]! : 0;
        const w3 = words === 4 ? a[base + 3]! : 0;
        const length = trie.len[n]!;
        for (let e = trie.head[n]!; e !== NONE; e = this.entryNext[e]!) {
          const ta = this.entryTa[e]!;
          const expires = this.entryExpires[e]!;
          visit(
            family,
            w0,
            w1,
            w2,
            w3,
            length,
            this.entryMaxLength[e]!,
            this.entryAsn[e]!,
            ta === 0 ? undefined : this.trustAnchors[ta],
            expires === 0 ? undefined : expires,
          );
        }
      });
    }
  }

  // ------------------------------------------------------------ validation

  /** RFC 6811 validation of a route given as text; the origin may be "none" (AS_SET). */
  validate(prefix: string, origin: Origin): RouteValidity {
    return validityOf(this.validateCode(prefix, origin));
  }

  /** As validate, returning a ValidationCode (which also tells the reason for Invalid). */
  validateCode(prefix: string, origin: Origin): number {
    const w = this.#scratch;
    const code = parsePrefixInto(prefix, w);
    const asn = parseOrigin(origin);
    return code < 256
      ? this.validateV4(w[0]!, code, asn)
      : this.validateV6(w[0]!, w[1]!, w[2]!, w[3]!, code & 255, asn);
  }

  /**
   * Validates an IPv4 route given as numbers; returns a ValidationCode. Origin 0
   * stands for both AS 0 and an AS_SET origin: neither can be Valid.
   */
  validateV4(addr: number, length: number, origin: number): number {
    const t = this.v4;
    const A = t.addr;
    const L = t.len;
    const H = t.head;
    const entryAsn = this.entryAsn;
    const entryMax = this.entryMaxLength;
    const entryNext = this.entryNext;
    let covered = false;
    let lengthMiss = false;
    let n = t.root;
    if (length >= INDEX_BITS) {
      if (this.#startV4Ready) {
        const slot = addr >>> (32 - INDEX_BITS);
        n = this.#startV4![slot]!;
        if (this.#aboveV4![slot] !== 0) {
          // The nodes above the start cover the whole slot: check their VRPs first.
          const P = t.parent;
          for (let p = P[n]!; p !== NONE; p = P[p]!) {
            const e = H[p]!;
            if (e === NONE) continue;
            covered = true;
            const match = matchChain(e, origin, length, entryAsn, entryMax, entryNext);
            if (match === Valid) return Valid;
            if (match === InvalidLength) lengthMiss = true;
          }
        }
      } else if (++this.#lookupsSinceChange > this.#indexAfter) this.#buildStartV4();
    }
    // Walk down while the node's prefix covers the route: every VRP met on the way
    // covers it. Stop early on the first match, the common case for Valid routes.
    while (n !== NONE) {
      const nl = L[n]!;
      if (nl > length || ((addr ^ A[n]!) & MASKS[nl]!) !== 0) break;
      const e = H[n]!;
      if (e !== NONE) {
        covered = true;
        const match = matchChain(e, origin, length, entryAsn, entryMax, entryNext);
        if (match === Valid) return Valid;
        if (match === InvalidLength) lengthMiss = true;
      }
      if (nl === length) break;
      n = ((addr >>> (31 - nl)) & 1) === 0 ? t.child0[n]! : t.child1[n]!;
    }
    return covered ? (lengthMiss ? InvalidLength : InvalidAs) : NotFound;
  }

  /** Validates an IPv6 route given as four u32 words (most significant first). */
  validateV6(w0: number, w1: number, w2: number, w3: number, length: number, origin: number): number {
    const t = this.v6;
    const A = t.addr;
    const L = t.len;
    const H = t.head;
    const entryAsn = this.entryAsn;
    const entryMax = this.entryMaxLength;
    const entryNext = this.entryNext;
    let covered = false;
    let lengthMiss = false;
    let n = t.root;
    while (n !== NONE) {
      const nl = L[n]!;
      if (nl > length) break;
      const b = n << 2;
      // Compare only the words the node's prefix reaches into; most VRPs end by /48.
      if (nl <= 32) {
        if (((w0 ^ A[b]!) & MASKS[nl]!) !== 0) break;
      } else if (nl <= 64) {
        if (w0 !== A[b] || ((w1 ^ A[b + 1]!) & MASKS[nl - 32]!) !== 0) break;
      } else if (nl <= 96) {
        if (w0 !== A[b] || w1 !== A[b + 1] || ((w2 ^ A[b + 2]!) & MASKS[nl - 64]!) !== 0) break;
      } else if (
        w0 !== A[b] ||
        w1 !== A[b + 1] ||
        w2 !== A[b + 2] ||
        ((w3 ^ A[b + 3]!) & MASKS[nl - 96]!) !== 0
      ) {
        break;
      }
      const e = H[n]!;
      if (e !== NONE) {
        covered = true;
        const match = matchChain(e, origin, length, entryAsn, entryMax, entryNext);
        if (match === Valid) return Valid;
        if (match === InvalidLength) lengthMiss = true;
      }
      if (nl === length) break;
      const word = nl < 32 ? w0 : nl < 64 ? w1 : nl < 96 ? w2 : w3;
      n = ((word >>> (31 - (nl & 31))) & 1) === 0 ? t.child0[n]! : t.child1[n]!;
    }
    return covered ? (lengthMiss ? InvalidLength : InvalidAs) : NotFound;
  }

  /**
   * Validates `count` IPv4 routes given column by column, writing a ValidationCode
   * per route into `out`.
   */
  validateBatchV4(
    addrs: Uint32Array,
    lengths: Uint8Array,
    origins: Uint32Array,
    out: Uint8Array,
    count = addrs.length,
  ): void {
    checkBatch(count, [addrs.length, lengths.length, origins.length, out.length]);
    for (let i = 0; i < count; i++) out[i] = this.validateV4(addrs[i]!, lengths[i]!, origins[i]!);
  }

  /** As validateBatchV4 for IPv6; `words` holds four u32 per route. */
  validateBatchV6(
    words: Uint32Array,
    lengths: Uint8Array,
    origins: Uint32Array,
    out: Uint8Array,
    count = lengths.length,
  ): void {
    checkBatch(count, [words.length >>> 2, lengths.length, origins.length, out.length]);
    for (let i = 0; i < count; i++) {
      const b = i << 2;
      out[i] = this.validateV6(
        words[b]!,
        words[b + 1]!,
        words[b + 2]!,
        words[b + 3]!,
        lengths[i]!,
        origins[i]!,
      );
    }
  }

  /** The state of a route with the VRPs behind it (Routinator's validity API groups). */
  explain(prefix: string, origin: Origin): Explanation {
    const code = parsePrefixInto(prefix, this.#scratch);
    const asn = parseOrigin(origin);
    const trie = code < 256 ? this.v4 : this.v6;
    const length = code & 255;
    const matched: Vrp[] = [];
    const unmatchedAs: Vrp[] = [];
    const unmatchedLength: Vrp[] = [];
    this.#setKey(trie, this.#scratch[0]!, this.#scratch[1]!, this.#scratch[2]!, this.#scratch[3]!);
    trie.forEachCovering(length, (n) =>
      this.#collect(trie, n, matched, unmatchedAs, unmatchedLength, asn, length),
    );
    const state: RouteValidity =
      matched.length > 0
        ? 'valid'
        : unmatchedAs.length + unmatchedLength.length > 0
          ? 'invalid'
          : 'not-found';
    const reason = state === 'invalid' ? (unmatchedLength.length > 0 ? 'length' : 'as') : undefined;
    const shown: number | 'none' = origin === 'none' || origin === 'NONE' ? 'none' : asn;
    const result: Explanation = { prefix, origin: shown, state, matched, unmatchedAs, unmatchedLength };
    return reason === undefined ? result : { ...result, reason };
  }

  /** All VRPs whose prefix covers `prefix` (equal or less specific), shortest first. */
  covering(prefix: string): Vrp[] {
    const code = parsePrefixInto(prefix, this.#scratch);
    const trie = code < 256 ? this.v4 : this.v6;
    const found: Vrp[] = [];
    this.#setKey(trie, this.#scratch[0]!, this.#scratch[1]!, this.#scratch[2]!, this.#scratch[3]!);
    trie.forEachCovering(code & 255, (n) => this.#collect(trie, n, found, found, found, -1, 0));
    return found;
  }

  // -------------------------------------------------------------- internal

  // Sorts node n's VRPs into the three explanation groups for origin `asn` (-1: all
  // into `matched`).
  #collect(
    trie: PrefixTrie,
    n: number,
    matched: Vrp[],
    unmatchedAs: Vrp[],
    unmatchedLength: Vrp[],
    asn: number,
    length: number,
  ): void {
    const family: Family = trie === this.v4 ? 4 : 6;
    const base = n * trie.words;
    const a = trie.addr;
    for (let e = trie.head[n]!; e !== NONE; e = this.entryNext[e]!) {
      const ta = this.entryTa[e]!;
      const expires = this.entryExpires[e]!;
      const vrp = vrpObject(
        family,
        a[base]!,
        family === 6 ? a[base + 1]! : 0,
        family === 6 ? a[base + 2]! : 0,
        family === 6 ? a[base + 3]! : 0,
        trie.len[n]!,
        this.entryMaxLength[e]!,
        this.entryAsn[e]!,
        ta === 0 ? undefined : this.trustAnchors[ta],
        expires === 0 ? undefined : expires,
      );
      if (asn < 0) matched.push(vrp);
      else if (vrp.asn !== asn || asn === 0) unmatchedAs.push(vrp);
      else if (vrp.maxLength < length) unmatchedLength.push(vrp);
      else matched.push(vrp);
    }
  }

  // #entry, #add and #remove work on the key already in `trie.key`.
  #entry(trie: PrefixTrie, length: number, maxLength: number, asn: number): number {
    const n = trie.find(length);
    if (n === NONE) return NONE;
    for (let e = trie.head[n]!; e !== NONE; e = this.entryNext[e]!) {
      if (this.entryAsn[e] === asn && this.entryMaxLength[e] === maxLength) return e;
    }
    return NONE;
  }

  #add(
    trie: PrefixTrie,
    length: number,
    maxLength: number,
    asn: number,
    ta: number,
    expires: number,
  ): boolean {
    if (trie === this.v4) this.#v4Changed();
    const n = trie.insert(length);
    for (let e = trie.head[n]!; e !== NONE; e = this.entryNext[e]!) {
      if (this.entryAsn[e] === asn && this.entryMaxLength[e] === maxLength) {
        this.entryRefs[e]!++;
        return false;
      }
    }
    let e = this.entryFree;
    if (e !== NONE) this.entryFree = this.entryNext[e]!;
    else {
      if (this.entriesUsed === this.entryAsn.length) this.#growEntries();
      e = this.entriesUsed++;
    }
    this.entryAsn[e] = asn;
    this.entryMaxLength[e] = maxLength;
    this.entryRefs[e] = 1;
    this.entryTa[e] = ta;
    this.entryExpires[e] = expires;
    this.entryNext[e] = trie.head[n]!;
    trie.head[n] = e;
    if (trie === this.v4) this.#sizeV4++;
    else this.#sizeV6++;
    return true;
  }

  #remove(trie: PrefixTrie, length: number, maxLength: number, asn: number): boolean {
    const n = trie.find(length);
    if (n === NONE) return false;
    if (trie === this.v4) this.#v4Changed();
    let previous = NONE;
    for (let e = trie.head[n]!; e !== NONE; previous = e, e = this.entryNext[e]!) {
      if (this.entryAsn[e] !== asn || this.entryMaxLength[e] !== maxLength) continue;
      if (--this.entryRefs[e]! > 0) return true;
      const next = this.entryNext[e]!;
      if (previous === NONE) trie.head[n] = next;
      else this.entryNext[previous] = next;
      this.entryNext[e] = this.entryFree;
      this.entryFree = e;
      if (trie === this.v4) this.#sizeV4--;
      else this.#sizeV6--;
      if (trie.head[n] === NONE) trie.prune(n);
      return true;
    }
    return false;
  }

  #check(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
  ): void {
    const familyMax = family === 4 ? 32 : 128;
    if (!Number.isInteger(length) || length < 0 || length > familyMax) {
      throw new PrefixError(`invalid prefix length ${length}: expected 0 to ${familyMax}`);
    }
    if (!hostBitsClear(w0, w1, w2, w3, length)) {
      throw new PrefixError(`invalid prefix: host bits set beyond /${length}`);
    }
    if (!Number.isInteger(maxLength) || maxLength < length || maxLength > familyMax) {
      throw new MaxLengthError(
        `invalid maxLength ${maxLength} for a /${length}: expected ${length} to ${familyMax}`,
      );
    }
    if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) {
      throw new AsnError(`invalid AS number ${asn}: expected an integer from 0 to 4294967295`);
    }
  }

  #setKey(trie: PrefixTrie, w0: number, w1: number, w2: number, w3: number): void {
    const key = trie.key;
    key[0] = w0;
    key[1] = w1;
    key[2] = w2;
    key[3] = w3;
  }

  #keyed(family: Family, words: Uint32Array): PrefixTrie {
    const trie = family === 4 ? this.v4 : this.v6;
    this.#setKey(trie, words[0]!, words[1]!, words[2]!, words[3]!);
    return trie;
  }

  #taOf(attributes: VrpAttributes | undefined): number {
    return attributes?.ta === undefined ? 0 : this.#internTa(attributes.ta);
  }

  /**
   * @internal Adds a VRP given as checked-on-entry numbers with an interned trust
   * anchor index (see internTa): the loaders' path, free of per-VRP objects.
   */
  addRaw(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
    ta: number,
    expires: number,
  ): boolean {
    this.#check(family, w0, w1, w2, w3, length, maxLength, asn);
    const trie = family === 4 ? this.v4 : this.v6;
    this.#setKey(trie, w0, w1, w2, w3);
    return this.#add(trie, length, maxLength, asn, ta, expires);
  }

  /** @internal Index of a trust anchor name in `trustAnchors`. */
  internTa(name: string): number {
    return this.#internTa(name);
  }

  #internTa(name: string): number {
    let index = this.#taIndex.get(name);
    if (index === undefined) {
      if (this.trustAnchors.length === 0xffff) throw new RangeError('more than 65534 trust anchor names');
      index = this.trustAnchors.length;
      this.trustAnchors.push(name);
      this.#taIndex.set(name, index);
    }
    return index;
  }

  #v4Changed(): void {
    this.#startV4Ready = false;
    this.#lookupsSinceChange = 0;
  }

  // For each /16: the deepest node of length <= 16 covering it (the root if none), and
  // whether a node above that one carries VRPs.
  #buildStartV4(): void {
    const t = this.v4;
    const slots = 1 << INDEX_BITS;
    const start = (this.#startV4 ??= new Int32Array(slots));
    const above = (this.#aboveV4 ??= new Uint8Array(slots));
    for (let slot = 0; slot < slots; slot++) {
      const addr = (slot << (32 - INDEX_BITS)) >>> 0;
      let deepest = t.root;
      let headsAboveDeepest = 0;
      let heads = 0;
      let n = t.root;
      while (n !== NONE) {
        const nl = t.len[n]!;
        if (nl > INDEX_BITS || ((addr ^ t.addr[n]!) & MASKS[nl]!) !== 0) break;
        deepest = n;
        headsAboveDeepest = heads;
        if (t.head[n] !== NONE) heads++;
        if (nl === INDEX_BITS) break;
        n = ((addr >>> (31 - nl)) & 1) === 0 ? t.child0[n]! : t.child1[n]!;
      }
      start[slot] = deepest;
      above[slot] = headsAboveDeepest > 0 ? 1 : 0;
    }
    this.#startV4Ready = true;
  }

  /** @internal Restores counters after a snapshot load. */
  restoreSizes(sizeV4: number, sizeV6: number): void {
    this.#v4Changed();
    this.#sizeV4 = sizeV4;
    this.#sizeV6 = sizeV6;
    this.#taIndex = new Map(this.trustAnchors.map((name, i) => [name, i]));
  }

  #growEntries(): void {
    this.adoptEntries(Math.max(16, Math.ceil(this.entryAsn.length * 1.5)));
  }

  /** @internal Reallocates entry arrays to `capacity`, keeping the used part. */
  adoptEntries(capacity: number): void {
    const used = this.entriesUsed;
    const move = <T extends Uint32Array | Uint16Array | Uint8Array | Int32Array>(from: T, to: T): T => {
      to.set(from.subarray(0, used));
      return to;
    };
    this.entryAsn = move(this.entryAsn, new Uint32Array(capacity));
    this.entryMaxLength = move(this.entryMaxLength, new Uint8Array(capacity));
    this.entryRefs = move(this.entryRefs, new Uint32Array(capacity));
    this.entryNext = move(this.entryNext, new Int32Array(capacity));
    this.entryTa = move(this.entryTa, new Uint16Array(capacity));
    this.entryExpires = move(this.entryExpires, new Uint32Array(capacity));
  }
}

/**
 * The VRPs chained from entry `e` (one trie node's, all covering the route): Valid when one
 * has the origin and admits the length, InvalidLength when one has the origin but too short
 * a maxLength, else InvalidAs. Origin 0 (AS 0 or an AS_SET) matches none.
 */
function matchChain(
  e: number,
  origin: number,
  length: number,
  entryAsn: Uint32Array,
  entryMax: Uint8Array,
  entryNext: Int32Array,
): number {
  let result: number = InvalidAs;
  do {
    if (entryAsn[e] === origin && origin !== 0) {
      if (entryMax[e]! >= length) return Valid;
      result = InvalidLength;
    }
    e = entryNext[e]!;
  } while (e !== NONE);
  return result;
}

function checkBatch(count: number, lengths: number[]): void {
  for (const length of lengths) {
    if (length < count) throw new RangeError(`batch of ${count} routes but a column holds only ${length}`);
  }
}
