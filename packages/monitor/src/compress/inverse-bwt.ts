// The inverse Burrows-Wheeler transform of one bzip2 block, up to (not including) the
// first stage's run-length expansion.
//
// The BWT is undone by following one chain through a table of "next entry" links, a load
// whose address depends on the previous one: walked alone, each step waits for a cache
// miss (the table of a 900 kB block is 3.6 MB). So the chain is walked from WALKERS places
// at once, interleaved, and the CPU overlaps their misses. Places other than the text's
// head are picked without knowing where in the text they fall: each start is marked in the
// table, a walker stops at the next marked entry, and the segments are put in order by
// which start each one ran into. Segment lengths are unknown in advance, so walkers write
// into chunks taken in turn.
//
// Each hot loop is a function of its own: V8 optimises a loop on its own while it runs
// (on-stack replacement), and code after the loop that had not run yet then has no type
// feedback and deoptimises the whole function, once per block.

/** BWT chain walkers interleaved; more hide more latency, up to what the CPU can overlap. */
const WALKERS = 32;
/** Steps a walker takes in one turn (unrolled in walkChain). */
const STEPS_PER_TURN = 4;
/** Bytes of one walker output chunk. */
const WALK_CHUNK = 4096;
/** Table entry layout: next entry << ENTRY_NEXT_SHIFT | ENTRY_MARK | byte (blocks < 2^20). */
const ENTRY_NEXT_SHIFT = 9;
const ENTRY_MARK = 0x100;

/** The walkers' state, one slot per walker. */
interface Walkers {
  readonly start: Int32Array;
  readonly at: Int32Array;
  readonly write: Int32Array;
  readonly limit: Int32Array;
  readonly lastChunk: Int32Array;
  readonly stoppedAt: Int32Array;
  readonly active: Int32Array;
}

export interface InverseBwtOptions {
  /** Walkers for a block of at least walkers * chunkBytes entries (default 32). */
  walkers?: number;
  /** Bytes of one walker output chunk (default 4096, at least STEPS_PER_TURN). */
  chunkBytes?: number;
}

export class InverseBwt {
  readonly #maxWalkers: number;
  readonly #chunkBytes: number;
  /** The walkers' output, in chunks of WALK_CHUNK bytes. */
  #walked = new Uint8Array(0);
  /** Per chunk: the same walker's next chunk, or -1. */
  #chunkNext = new Int32Array(0);
  /** The output in text order. */
  #ordered = new Uint8Array(0);
  readonly #walkers: Walkers;

  /** Smaller walkers and chunks than the defaults let tests reach every path with small blocks. */
  constructor(options: InverseBwtOptions = {}) {
    this.#maxWalkers = options.walkers ?? WALKERS;
    this.#chunkBytes = Math.max(options.chunkBytes ?? WALK_CHUNK, STEPS_PER_TURN);
    const slots = this.#maxWalkers;
    this.#walkers = {
      start: new Int32Array(slots),
      at: new Int32Array(slots),
      write: new Int32Array(slots),
      limit: new Int32Array(slots),
      lastChunk: new Int32Array(slots),
      stoppedAt: new Int32Array(slots),
      active: new Int32Array(slots),
    };
  }

  /**
   * Undoes the BWT of `count` bytes held in the low bytes of `tt` (which this overwrites
   * with links), `counts` being how often each byte occurs and `origPtr` the block's
   * origin pointer (below `count`). Returns the block's bytes in text order (valid until
   * the next call), or undefined when the links do not form a chain through the block,
   * which only corrupt data does.
   */
  run(tt: Int32Array, counts: Int32Array, origPtr: number, count: number): Uint8Array | undefined {
    linkEntries(tt, counts, count);
    const chunk = this.#chunkBytes;
    const walkers = count >= this.#maxWalkers * chunk ? this.#maxWalkers : 1;
    const chunks = Math.ceil(count / chunk) + walkers;
    if (this.#walked.length < chunks * chunk) this.#walked = new Uint8Array(chunks * chunk);
    if (this.#chunkNext.length < chunks) this.#chunkNext = new Int32Array(chunks);
    if (this.#ordered.length < count) this.#ordered = new Uint8Array(count);

    const state = this.#walkers;
    placeWalkers(tt, origPtr, count, walkers, chunk, state, this.#walked, this.#chunkNext);
    if (!walkChain(tt, walkers, chunks, chunk, state, this.#walked, this.#chunkNext)) return undefined;
    const length = orderSegments(walkers, count, chunk, state, this.#walked, this.#chunkNext, this.#ordered);
    if (length <= 0) return undefined;
    // A periodic block (its text one piece repeated) sorts into one chain per repetition;
    // the head's chain is the piece, and the block is that piece repeated.
    const ordered = this.#ordered;
    for (let o = length; o < count; o += length) ordered.copyWithin(o, 0, Math.min(length, count - o));
    return ordered;
  }
}

/**
 * Turns the bytes of `tt` (the BWT's last column) into links: the entry at the k-th
 * occurrence of byte b in sorted order gets the position of that occurrence. Whatever the
 * input, the links form a permutation, so every walk below ends.
 */
function linkEntries(tt: Int32Array, counts: Int32Array, count: number): void {
  const cumulative = new Int32Array(256);
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    cumulative[i] = sum;
    sum += counts[i];
  }
  for (let i = 0; i < count; i++) {
    const byte = tt[i] & 0xff;
    tt[cumulative[byte]++] |= i << ENTRY_NEXT_SHIFT;
  }
}

/** Walker 0 starts at the text's head, the others at evenly spaced entries, all marked. */
function placeWalkers(
  tt: Int32Array,
  origPtr: number,
  count: number,
  walkers: number,
  chunk: number,
  state: Walkers,
  walked: Uint8Array,
  chunkNext: Int32Array,
): void {
  const { start, at, write, limit, lastChunk, active } = state;
  start[0] = tt[origPtr] >>> ENTRY_NEXT_SHIFT;
  for (let w = 1; w < walkers; w++) {
    // Spaced a chunk or more apart, so the step past the head cannot meet the next one.
    let place = Math.floor((w * count) / walkers);
    if (place === start[0]) place++;
    start[w] = place;
  }
  for (let w = 0; w < walkers; w++) tt[start[w]] |= ENTRY_MARK;
  // Each walker takes its own (marked) start entry here, into a first chunk of its own.
  for (let w = 0; w < walkers; w++) {
    const e = tt[start[w]];
    const o = w * chunk;
    walked[o] = e;
    write[w] = o + 1;
    limit[w] = o + chunk;
    lastChunk[w] = w;
    chunkNext[w] = -1;
    at[w] = e >>> ENTRY_NEXT_SHIFT;
    active[w] = w;
  }
}

/**
 * Steps every walker in turn until each meets a marked entry; false if chunks run out.
 * A walker takes up to STEPS_PER_TURN steps a turn, so that its state is loaded and stored
 * once for several steps while the other walkers' loads are still in flight.
 */
function walkChain(
  tt: Int32Array,
  walkers: number,
  chunks: number,
  chunk: number,
  state: Walkers,
  walked: Uint8Array,
  chunkNext: Int32Array,
): boolean {
  const { at, write, limit, lastChunk, stoppedAt, active } = state;
  let free = walkers;
  let running = walkers;
  while (running > 0) {
    for (let a = 0; a < running;) {
      const w = active[a];
      let p = at[w];
      let o = write[w];
      let e = tt[p];
      if ((e & ENTRY_MARK) !== 0) {
        // Reached a start: this walker's segment is done.
        stoppedAt[w] = p;
        active[a] = active[--running];
        continue;
      }
      if (o + STEPS_PER_TURN > limit[w]) {
        // Near the end of its chunk the walker takes one step a turn.
        if (o === limit[w]) {
          // The segments of a permutation never overlap, so the chunks suffice.
          if (free === chunks) return false;
          chunkNext[lastChunk[w]] = free;
          chunkNext[free] = -1;
          lastChunk[w] = free;
          o = free++ * chunk;
          limit[w] = o + chunk;
        }
        walked[o++] = e;
        p = e >>> ENTRY_NEXT_SHIFT;
      } else {
        walked[o++] = e;
        p = e >>> ENTRY_NEXT_SHIFT;
        e = tt[p];
        if ((e & ENTRY_MARK) === 0) {
          walked[o++] = e;
          p = e >>> ENTRY_NEXT_SHIFT;
          e = tt[p];
          if ((e & ENTRY_MARK) === 0) {
            walked[o++] = e;
            p = e >>> ENTRY_NEXT_SHIFT;
            e = tt[p];
            if ((e & ENTRY_MARK) === 0) {
              walked[o++] = e;
              p = e >>> ENTRY_NEXT_SHIFT;
            }
          }
        }
      }
      at[w] = p;
      write[w] = o;
      a++;
    }
  }
  return true;
}

/**
 * Copies the segments into `ordered` in text order: from the head, each walker is followed
 * by the one whose start it stopped at, until the head comes round again. Returns the
 * length of that cycle, or -1 if the segments do not form one within `count` bytes.
 */
function orderSegments(
  walkers: number,
  count: number,
  chunk: number,
  state: Walkers,
  walked: Uint8Array,
  chunkNext: Int32Array,
  ordered: Uint8Array,
): number {
  const { start, write, lastChunk, stoppedAt } = state;
  let length = 0;
  let w = 0;
  for (let segment = 0; segment < walkers; segment++) {
    for (let c = w; c !== -1; c = chunkNext[c]) {
      const from = c * chunk;
      const to = c === lastChunk[w] ? write[w] : from + chunk;
      if (length + to - from > count) return -1;
      ordered.set(walked.subarray(from, to), length);
      length += to - from;
    }
    const next = start.subarray(0, walkers).indexOf(stoppedAt[w]);
    if (next === -1) return -1;
    if (next === 0) return length;
    w = next;
  }
  return -1;
}
