// The monitor's routes, column by column: a full table (1.25 million routes) must fit in a
// few hundred MB, so there is no object per route. A route is a unique (prefix, origin)
// pair; it lives while at least one source announces it (one bit per source id).
//
// Each family has a @rovkit/core PrefixTrie whose `head` slot starts the list of routes
// with exactly that prefix (chained through `next`). That index is what makes a VRP delta
// cheap: the routes a VRP can affect are those in the trie's subtree under the VRP prefix.
import { formatPrefix, PrefixTrie, type Family } from '@rovkit/core';
import { StoreFullError } from '../errors.js';

const NONE = -1;

/** `state` of a free slot. Live routes hold a ValidationCode (0..3). */
export const FREE = 255;
/** `flags` bit: the origin is an AS_SET ("none"), so the route can never be Valid. */
export const ORIGIN_SET = 1;
/** Source bits are a u32: at most 32 sources announce routes at the same time. */
export const MAX_SOURCES = 32;

/** The columns of one family's trie that a whole-table walk reads. */
export interface TrieColumns {
  readonly root: number;
  readonly head: Int32Array;
  readonly len: Uint8Array;
  readonly child0: Int32Array;
  readonly child1: Int32Array;
}

/**
 * The columns the whole-table analyses (address space, fallback) read: the live store
 * (RouteStore has them all), or a copy of it taken by `columns()`.
 */
export interface RouteColumns {
  readonly v4: TrieColumns;
  readonly v6: TrieColumns;
  readonly next: Int32Array;
  readonly state: Uint8Array;
  readonly group: Uint16Array;
  readonly groups: readonly string[];
}

export class RouteStore implements RouteColumns {
  /** @internal Columns, indexed by route id; read directly by the engine's loops. */
  family: Uint8Array;
  /**
   * @internal The trie node of the route's prefix (in v4 or v6 by family): the node holds
   * the address and length, so routes do not repeat them. A node with routes is never
   * moved or freed, so the index stays valid while the route lives.
   */
  node: Int32Array;
  /** @internal Origin AS; 0 for AS 0 and for an AS_SET origin (see flags). */
  origin: Uint32Array;
  /** @internal ORIGIN_SET */ flags: Uint8Array;
  /** @internal Index into `groups`. */ group: Uint16Array;
  /** @internal ValidationCode, or FREE. */ state: Uint8Array;
  /** @internal Unix seconds of the last state change (or of the first validation). */
  changedAt: Uint32Array;
  /** @internal Index into `descriptions`; 0 is none. */ description: Uint32Array;
  /** @internal Bit s set: source s announces the route. */ sources: Uint32Array;
  /** @internal Next route with the same prefix, or the next free slot. */ next: Int32Array;

  readonly v4 = new PrefixTrie(1, 1024);
  readonly v6 = new PrefixTrie(4, 1024);
  /** Group names; index 0 is "default". */
  readonly groups: string[] = ['default'];
  readonly descriptions: string[] = [''];

  /** Slots handed out (live and free). */
  used = 0;
  #size = 0;
  #sizeV4 = 0;
  #free = NONE;
  readonly #groupIndex = new Map<string, number>([['default', 0]]);
  readonly #descriptionIndex = new Map<string, number>([['', 0]]);

  constructor(capacity = 1024) {
    this.family = new Uint8Array(capacity);
    this.node = new Int32Array(capacity);
    this.origin = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.group = new Uint16Array(capacity);
    this.state = new Uint8Array(capacity);
    this.changedAt = new Uint32Array(capacity);
    this.description = new Uint32Array(capacity);
    this.sources = new Uint32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  /** Live routes. */
  get size(): number {
    return this.#size;
  }

  get sizeV4(): number {
    return this.#sizeV4;
  }

  get sizeV6(): number {
    return this.#size - this.#sizeV4;
  }

  /** Bytes held by the columns and tries. */
  get byteLength(): number {
    const c = this.family.length;
    return c * (1 + 4 + 4 + 1 + 2 + 1 + 4 + 4 + 4 + 4) + this.v4.byteLength + this.v6.byteLength;
  }

  /**
   * A copy of the columns the analyses read, for a walk in slices that routes changing
   * meanwhile cannot disturb: 13 bytes a trie node and 7 a route (about 35 MB and 15 ms
   * for a full table), where a walk of the live store would have to start again after
   * every change, or block.
   */
  columns(): RouteColumns {
    const trie = (t: PrefixTrie): TrieColumns => ({
      root: t.root,
      head: t.head.slice(0, t.used),
      len: t.len.slice(0, t.used),
      child0: t.child0.slice(0, t.used),
      child1: t.child1.slice(0, t.used),
    });
    return {
      v4: trie(this.v4),
      v6: trie(this.v6),
      next: this.next.slice(0, this.used),
      state: this.state.slice(0, this.used),
      group: this.group.slice(0, this.used),
      groups: this.groups.slice(),
    };
  }

  groupId(name: string): number {
    let id = this.#groupIndex.get(name);
    if (id === undefined) {
      if (this.groups.length === 0xffff) throw new StoreFullError('more than 65535 route groups');
      id = this.groups.length;
      this.groups.push(name);
      this.#groupIndex.set(name, id);
    }
    return id;
  }

  descriptionId(text: string): number {
    let id = this.#descriptionIndex.get(text);
    if (id === undefined) {
      id = this.descriptions.length;
      this.descriptions.push(text);
      this.#descriptionIndex.set(text, id);
    }
    return id;
  }

  /**
   * The route with this prefix and origin, or -1. `origin` 0 with `isSet` is an AS_SET
   * origin, kept apart from AS 0 so that each is shown as it was announced.
   */
  find(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    isSet: boolean,
  ): number {
    const trie = this.#key(family, w0, w1, w2, w3);
    const n = trie.find(length);
    return n === NONE ? NONE : this.#inChain(trie.head[n]!, origin, isSet ? ORIGIN_SET : 0);
  }

  /**
   * Adds source bit `source` to the route, creating it (state FREE until the caller
   * validates it) when missing. Returns the id; `created` tells whether it is new.
   */
  add(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    isSet: boolean,
    source: number,
  ): number {
    const trie = this.#key(family, w0, w1, w2, w3);
    const n = trie.insert(length);
    const flags = isSet ? ORIGIN_SET : 0;
    let id = this.#inChain(trie.head[n]!, origin, flags);
    if (id !== NONE) {
      this.sources[id]! |= 1 << source;
      this.created = false;
      return id;
    }
    id = this.#allocate();
    this.family[id] = family;
    this.node[id] = n;
    this.origin[id] = isSet ? 0 : origin;
    this.flags[id] = flags;
    this.group[id] = 0;
    this.state[id] = FREE;
    this.changedAt[id] = 0;
    this.description[id] = 0;
    this.sources[id] = (1 << source) >>> 0;
    this.next[id] = trie.head[n]!;
    trie.head[n] = id;
    this.#size++;
    if (family === 4) this.#sizeV4++;
    this.created = true;
    return id;
  }

  /** Set by add(): whether the last call created the route. */
  created = false;

  /**
   * Clears source bit `source`; removes the route when no source is left. Returns true
   * when the route was removed (its id is then free for reuse).
   */
  drop(id: number, source: number): boolean {
    const left = (this.sources[id]! & ~(1 << source)) >>> 0;
    this.sources[id] = left;
    if (left !== 0) return false;
    this.#remove(id);
    return true;
  }

  /** True while `id` names a live route. */
  live(id: number): boolean {
    return id >= 0 && id < this.used && this.sources[id] !== 0;
  }

  /**
   * Calls visit(id) for every route whose prefix lies inside family/words/length
   * (equal or more specific): the routes a VRP for that prefix can affect.
   */
  forEachInside(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    visit: (id: number) => void,
  ): void {
    const trie = this.#key(family, w0, w1, w2, w3);
    const top = trie.subtreeRoot(length);
    if (top === NONE) return;
    const head = trie.head;
    const next = this.next;
    trie.forEachNode((n) => {
      for (let id = head[n]!; id !== NONE; id = next[id]!) visit(id);
    }, top);
  }

  /** The prefix of route `id` as text. */
  prefixText(id: number): string {
    const family = this.family[id] === 4 ? 4 : 6;
    const trie = family === 4 ? this.v4 : this.v6;
    const n = this.node[id]!;
    const b = n * trie.words;
    const a = trie.addr;
    return family === 4
      ? formatPrefix(4, a[b]!, 0, 0, 0, trie.len[n]!)
      : formatPrefix(6, a[b]!, a[b + 1]!, a[b + 2]!, a[b + 3]!, trie.len[n]!);
  }

  /** Prefix length of route `id`. */
  prefixLength(id: number): number {
    return (this.family[id] === 4 ? this.v4 : this.v6).len[this.node[id]!]!;
  }

  /** The origin of route `id` as the validity API takes it: a number, or "none". */
  originValue(id: number): number | 'none' {
    return (this.flags[id]! & ORIGIN_SET) !== 0 ? 'none' : this.origin[id]!;
  }

  // Puts the key into the family's trie and returns the trie.
  #key(family: Family, w0: number, w1: number, w2: number, w3: number): PrefixTrie {
    const trie = family === 4 ? this.v4 : this.v6;
    const k = trie.key;
    k[0] = w0;
    k[1] = w1;
    k[2] = w2;
    k[3] = w3;
    return trie;
  }

  #inChain(id: number, origin: number, flags: number): number {
    const o = flags === ORIGIN_SET ? 0 : origin;
    for (; id !== NONE; id = this.next[id]!) {
      if (this.origin[id] === o && this.flags[id] === flags) return id;
    }
    return NONE;
  }

  #remove(id: number): void {
    const family = this.family[id] === 4 ? 4 : 6;
    const trie = family === 4 ? this.v4 : this.v6;
    const n = this.node[id]!;
    let previous = NONE;
    for (let r = trie.head[n]!; r !== NONE; previous = r, r = this.next[r]!) {
      if (r !== id) continue;
      if (previous === NONE) trie.head[n] = this.next[r]!;
      else this.next[previous] = this.next[r]!;
      break;
    }
    if (trie.head[n] === NONE) trie.prune(n);
    this.state[id] = FREE;
    this.sources[id] = 0;
    this.next[id] = this.#free;
    this.#free = id;
    this.#size--;
    if (family === 4) this.#sizeV4--;
  }

  #allocate(): number {
    const id = this.#free;
    if (id !== NONE) {
      this.#free = this.next[id]!;
      return id;
    }
    if (this.used === this.family.length) this.#grow();
    return this.used++;
  }

  // Grows by 1.5x: typed arrays cannot grow in place, so each step copies.
  #grow(): void {
    const capacity = Math.max(16, Math.ceil(this.family.length * 1.5));
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.family = grow(this.family, new Uint8Array(capacity));
    this.node = grow(this.node, new Int32Array(capacity));
    this.origin = grow(this.origin, new Uint32Array(capacity));
    this.flags = grow(this.flags, new Uint8Array(capacity));
    this.group = grow(this.group, new Uint16Array(capacity));
    this.state = grow(this.state, new Uint8Array(capacity));
    this.changedAt = grow(this.changedAt, new Uint32Array(capacity));
    this.description = grow(this.description, new Uint32Array(capacity));
    this.sources = grow(this.sources, new Uint32Array(capacity));
    this.next = grow(this.next, new Int32Array(capacity));
  }
}
