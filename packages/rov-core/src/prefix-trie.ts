// A path-compressed binary trie (PATRICIA) whose nodes live in parallel typed arrays
// rather than objects: one index per node, -1 for "none". Each node carries an int
// `head` that the owner uses as the start of its own list (VRPs, routes); a node whose
// head is -1 only joins two subtrees and disappears when it stops doing so.
//
// The same code serves IPv4 (one u32 word per address) and IPv6 (four words); callers
// put the key into `key` before calling insert/find, which keeps those calls free of
// allocation. Validation hot paths read the arrays directly (see vrp-table.ts).
import { wordMask } from './prefix.js';

const NONE = -1;

export class PrefixTrie {
  /** Address words per node: 1 for IPv4, 4 for IPv6. */
  readonly words: 1 | 4;
  readonly maxLength: 32 | 128;
  /** The key of the next insert/find/remove, `words` u32 words, most significant first. */
  readonly key = new Uint32Array(4);

  root = NONE;
  /** Nodes in use (excluding freed ones). */
  nodeCount = 0;

  addr: Uint32Array;
  len: Uint8Array;
  child0: Int32Array;
  child1: Int32Array;
  parent: Int32Array;
  head: Int32Array;

  /** High-water mark of node indexes handed out. */
  used = 0;
  #free = NONE;

  constructor(words: 1 | 4, capacity = 1024) {
    this.words = words;
    this.maxLength = words === 1 ? 32 : 128;
    this.addr = new Uint32Array(capacity * words);
    this.len = new Uint8Array(capacity);
    this.child0 = new Int32Array(capacity);
    this.child1 = new Int32Array(capacity);
    this.parent = new Int32Array(capacity);
    this.head = new Int32Array(capacity);
  }

  get capacity(): number {
    return this.len.length;
  }

  /** Bytes held by the node arrays. */
  get byteLength(): number {
    return this.addr.byteLength + this.len.byteLength + 4 * this.child0.byteLength;
  }

  clear(): void {
    this.root = NONE;
    this.nodeCount = 0;
    this.used = 0;
    this.#free = NONE;
  }

  /** The node holding exactly key/length, or -1. */
  find(length: number): number {
    const key = this.key;
    let n = this.root;
    while (n !== NONE) {
      const nl = this.len[n]!;
      if (nl > length || this.#commonLength(n, length) < nl) return NONE;
      if (nl === length) return n;
      n = this.#bit(key, nl) === 0 ? this.child0[n]! : this.child1[n]!;
    }
    return NONE;
  }

  /**
   * The node for key/length, created if missing (with head -1). The key must have no
   * bits set beyond `length`.
   */
  insert(length: number): number {
    const key = this.key;
    let n = this.root;
    let from = NONE; // parent of n
    while (n !== NONE) {
      const nl = this.len[n]!;
      const common = this.#commonLength(n, length < nl ? length : nl);
      if (common < nl) {
        // The new prefix leaves n's path above n: it becomes n's parent, or a new
        // joining node at `common` takes both.
        if (common === length) {
          const m = this.#allocate(length);
          this.#link(m, n);
          this.#replace(from, n, m);
          return m;
        }
        const join = this.#allocate(common);
        const m = this.#allocate(length);
        this.#link(join, n);
        this.#link(join, m);
        this.#replace(from, n, join);
        return m;
      }
      if (nl === length) return n;
      from = n;
      const next = this.#bit(key, nl) === 0 ? this.child0[n]! : this.child1[n]!;
      if (next === NONE) {
        const m = this.#allocate(length);
        this.#link(n, m);
        return m;
      }
      n = next;
    }
    const m = this.#allocate(length);
    this.root = m;
    return m;
  }

  /**
   * Called by the owner after it emptied the head of `n`: removes n if it no longer
   * joins two subtrees, and its parent too if that only joined n.
   */
  prune(n: number): void {
    while (n !== NONE && this.head[n] === NONE) {
      const c0 = this.child0[n]!;
      const c1 = this.child1[n]!;
      if (c0 !== NONE && c1 !== NONE) return;
      const only = c0 !== NONE ? c0 : c1;
      const up = this.parent[n]!;
      if (only !== NONE) this.parent[only] = up;
      if (up === NONE) this.root = only;
      else if (this.child0[up] === n) this.child0[up] = only;
      else this.child1[up] = only;
      this.#release(n);
      // A parent that joined n with another subtree now joins nothing.
      n = up;
    }
  }

  /** Calls `visit(node)` for each node in prefix order: address, then length. */
  forEachNode(visit: (node: number) => void, start = this.root): void {
    if (start === NONE) return;
    const stack: number[] = [start];
    while (stack.length > 0) {
      const n = stack.pop()!;
      visit(n);
      const c1 = this.child1[n]!;
      const c0 = this.child0[n]!;
      if (c1 !== NONE) stack.push(c1);
      if (c0 !== NONE) stack.push(c0);
    }
  }

  /**
   * Nodes whose prefix covers key/length (shorter or equal, same leading bits), from
   * the shortest; calls visit for each.
   */
  forEachCovering(length: number, visit: (node: number) => void): void {
    let n = this.root;
    const key = this.key;
    while (n !== NONE) {
      const nl = this.len[n]!;
      if (nl > length || this.#commonLength(n, nl) < nl) return;
      visit(n);
      if (nl === length) return;
      n = this.#bit(key, nl) === 0 ? this.child0[n]! : this.child1[n]!;
    }
  }

  /** The topmost node inside key/length (equal or more specific), or -1. */
  subtreeRoot(length: number): number {
    let n = this.root;
    const key = this.key;
    while (n !== NONE) {
      const nl = this.len[n]!;
      const common = this.#commonLength(n, nl < length ? nl : length);
      if (nl >= length) return common >= length ? n : NONE;
      if (common < nl) return NONE;
      n = this.#bit(key, nl) === 0 ? this.child0[n]! : this.child1[n]!;
    }
    return NONE;
  }

  /** Writes node n's address words into `out` at `offset`. */
  readAddress(n: number, out: Uint32Array, offset = 0): void {
    const base = n * this.words;
    for (let w = 0; w < this.words; w++) out[offset + w] = this.addr[base + w]!;
  }

  // Leading bits shared by the key and node n, up to `limit`.
  #commonLength(n: number, limit: number): number {
    const key = this.key;
    const base = n * this.words;
    for (let w = 0; w < this.words; w++) {
      if (w * 32 >= limit) return limit;
      const x = (key[w]! ^ this.addr[base + w]!) >>> 0;
      if (x !== 0) {
        const common = w * 32 + Math.clz32(x);
        return common < limit ? common : limit;
      }
    }
    return limit;
  }

  #bit(key: Uint32Array, position: number): number {
    return (key[position >>> 5]! >>> (31 - (position & 31))) & 1;
  }

  // Hangs `child` below `parent` on the side given by the child's bit at the
  // parent's length.
  #link(parent: number, child: number): void {
    const pl = this.len[parent]!;
    const base = child * this.words;
    const bit = (this.addr[base + (pl >>> 5)]! >>> (31 - (pl & 31))) & 1;
    if (bit === 0) this.child0[parent] = child;
    else this.child1[parent] = child;
    this.parent[child] = parent;
  }

  #replace(parent: number, old: number, replacement: number): void {
    this.parent[replacement] = parent;
    if (parent === NONE) this.root = replacement;
    else if (this.child0[parent] === old) this.child0[parent] = replacement;
    else this.child1[parent] = replacement;
  }

  #allocate(length: number): number {
    let n = this.#free;
    if (n !== NONE) this.#free = this.child0[n]!;
    else {
      if (this.used === this.capacity) this.#grow();
      n = this.used++;
    }
    const base = n * this.words;
    for (let w = 0; w < this.words; w++) this.addr[base + w] = (this.key[w]! & wordMask(length, w)) >>> 0;
    this.len[n] = length;
    this.child0[n] = NONE;
    this.child1[n] = NONE;
    this.parent[n] = NONE;
    this.head[n] = NONE;
    this.nodeCount++;
    return n;
  }

  #release(n: number): void {
    this.child0[n] = this.#free;
    this.child1[n] = NONE;
    this.len[n] = 255; // marks a free node for consistency checks
    this.#free = n;
    this.nodeCount--;
  }

  // Grows by about 1.5x: typed arrays cannot grow in place, so each step copies.
  #grow(): void {
    const capacity = Math.max(16, Math.ceil(this.capacity * 1.5));
    this.adopt(capacity);
  }

  /** Reallocates the arrays to `capacity` nodes, keeping the first `used`. */
  adopt(capacity: number): void {
    const copy = <T extends Uint32Array | Uint8Array | Int32Array>(from: T, to: T, count: number): T => {
      to.set(from.subarray(0, count));
      return to;
    };
    this.addr = copy(this.addr, new Uint32Array(capacity * this.words), this.used * this.words);
    this.len = copy(this.len, new Uint8Array(capacity), this.used);
    this.child0 = copy(this.child0, new Int32Array(capacity), this.used);
    this.child1 = copy(this.child1, new Int32Array(capacity), this.used);
    this.parent = copy(this.parent, new Int32Array(capacity), this.used);
    this.head = copy(this.head, new Int32Array(capacity), this.used);
  }

  /** @internal Takes over `source`'s nodes, arrays handed over rather than copied; `source` is left empty. */
  moveFrom(source: PrefixTrie): void {
    if (source.words !== this.words) throw new RangeError('moveFrom between tries of different families');
    this.addr = source.addr;
    this.len = source.len;
    this.child0 = source.child0;
    this.child1 = source.child1;
    this.parent = source.parent;
    this.head = source.head;
    this.root = source.root;
    this.nodeCount = source.nodeCount;
    this.used = source.used;
    this.#free = source.#free;
    source.clear();
    source.adopt(16);
  }

  /** The free-list head, for snapshots. */
  get freeHead(): number {
    return this.#free;
  }

  set freeHead(n: number) {
    this.#free = n;
  }
}
