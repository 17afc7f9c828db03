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
const WALKERS = 128;
/** Walkers followed at once in local variables (see walkLanes), and steps per call. */
const LANES = 8;
const LANE_ROUNDS = 2048;
const LANES_MORE = 0;
const LANES_DONE = 1;
const LANES_OUT_OF_CHUNKS = 2;
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
  /** The next free chunk, how many walkers `active` holds, the next walker for a lane. */
  readonly progress: Int32Array;
  /** The walker each lane of walkLanes follows. */
  readonly lanes: Int32Array;
}

export interface InverseBwtOptions {
  /** Walkers for a block of at least walkers * chunkBytes entries (default 32). */
  walkers?: number;
  /** Bytes of one walker output chunk (default 4096; rounded up to a power of two, at least 4). */
  chunkBytes?: number;
}

export class InverseBwt {
  /** Per BWT position: the next position << ENTRY_NEXT_SHIFT | a start mark | the byte. */
  #tt = new Int32Array(0);
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
    // A power of two (walkLanes tests chunk ends with a mask), at least STEPS_PER_TURN.
    const chunkBytes = Math.max(options.chunkBytes ?? WALK_CHUNK, STEPS_PER_TURN);
    this.#chunkBytes = 2 ** Math.ceil(Math.log2(chunkBytes));
    const slots = this.#maxWalkers;
    this.#walkers = {
      start: new Int32Array(slots),
      at: new Int32Array(slots),
      write: new Int32Array(slots),
      limit: new Int32Array(slots),
      lastChunk: new Int32Array(slots),
      stoppedAt: new Int32Array(slots),
      active: new Int32Array(slots),
      progress: new Int32Array(3),
      lanes: new Int32Array(LANES),
    };
  }

  /**
   * Undoes the BWT of the `count` bytes of `lastColumn` (the BWT's last column), `counts`
   * being how often each byte occurs and `origPtr` the block's origin pointer (below
   * `count`). Returns the block's bytes in text order (valid until the next call), or
   * undefined when the links do not form a chain through the block, which only corrupt
   * data does.
   */
  run(lastColumn: Uint8Array, counts: Int32Array, origPtr: number, count: number): Uint8Array | undefined {
    if (this.#tt.length < count) this.#tt = new Int32Array(count);
    const tt = this.#tt;
    linkEntries(lastColumn, tt, counts, count);
    const chunk = this.#chunkBytes;
    const walkers = count >= this.#maxWalkers * chunk ? this.#maxWalkers : 1;
    const chunks = Math.ceil(count / chunk) + walkers;
    if (this.#walked.length < chunks * chunk) this.#walked = new Uint8Array(chunks * chunk);
    if (this.#chunkNext.length < chunks) this.#chunkNext = new Int32Array(chunks);
    if (this.#ordered.length < count) this.#ordered = new Uint8Array(count);

    const state = this.#walkers;
    placeWalkers(tt, origPtr, count, walkers, chunk, state, this.#walked, this.#chunkNext);
    state.progress[0] = walkers;
    state.progress[1] = walkers;
    if (walkers >= LANES) {
      for (let lane = 0; lane < LANES; lane++) state.lanes[lane] = lane;
      state.progress[2] = LANES;
      let status = LANES_MORE;
      while (status === LANES_MORE)
        status = walkLanes(tt, walkers, chunks, chunk, state, this.#walked, this.#chunkNext, LANE_ROUNDS);
      if (status === LANES_OUT_OF_CHUNKS) return undefined;
      // The walkers still in lanes finish in walkChain.
      let running = 0;
      for (let lane = 0; lane < LANES; lane++)
        if (state.lanes[lane] >= 0) state.active[running++] = state.lanes[lane];
      state.progress[1] = running;
    }
    if (!walkChain(tt, chunks, chunk, state, this.#walked, this.#chunkNext)) return undefined;
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
 * Builds the table the walkers follow: entry c holds the byte at c and, as its link, the
 * position of the k-th occurrence of that byte when c is its k-th place in sorted order.
 * Whatever the input, the links form a permutation, so every walk below ends. The writes
 * go to 256 sequential streams, one per byte value, which caches handle well. The last
 * column is mostly runs of one byte (that is what the BWT is for): within a run the next
 * place is the one after, kept in a register instead of a round trip through `cumulative`.
 */
function linkEntries(lastColumn: Uint8Array, tt: Int32Array, counts: Int32Array, count: number): void {
  const cumulative = new Int32Array(256);
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    cumulative[i] = sum;
    sum += counts[i];
  }
  let byte = lastColumn[0];
  let c = cumulative[byte];
  for (let i = 0; i < count; i++) {
    const b = lastColumn[i];
    if (b !== byte) {
      cumulative[byte] = c;
      byte = b;
      c = cumulative[b];
    }
    tt[c] = (i << ENTRY_NEXT_SHIFT) | lastColumn[c];
    c++;
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
 * The walk's first phase: 8 lanes each follow one walker, held in local variables (so in
 * registers) rather than in the state arrays; a lane whose walker reaches a start takes the
 * next walker (state.progress[2]). Runs at most `rounds` steps per lane, then returns
 * LANES_MORE with the lanes saved in state.lanes; returns LANES_DONE when a lane finds no
 * walker left (its lane then holds -1), LANES_OUT_OF_CHUNKS if chunks run out.
 *
 * The lanes are written out one by one: a loop over lanes would put their state back in
 * memory. Only a lane's position and write offset live in registers; its walker and chunk
 * limit are looked up when it finishes or fills a chunk. The caller calls again and again rather than this looping over a whole block:
 * V8 then optimises the function as a whole, with feedback for the code that saves the
 * lanes, instead of compiling the loop alone while it runs and deoptimising at its end
 * once per block (which in worker threads made the walk about twice as slow).
 */
function walkLanes(
  tt: Int32Array,
  walkers: number,
  chunks: number,
  chunk: number,
  state: Walkers,
  walked: Uint8Array,
  chunkNext: Int32Array,
  rounds: number,
): number {
  const { at, write, stoppedAt, lanes, progress } = state;
  // Chunks are a power of two long and aligned, and a walker's write position is never at
  // the start of its own chunk (its first byte is written on taking it), so a position at a
  // chunk boundary means the chunk is full.
  const chunkMask = chunk - 1;
  let next = progress[2];
  let p0 = at[lanes[0]];
  let o0 = write[lanes[0]];
  let p1 = at[lanes[1]];
  let o1 = write[lanes[1]];
  let p2 = at[lanes[2]];
  let o2 = write[lanes[2]];
  let p3 = at[lanes[3]];
  let o3 = write[lanes[3]];
  let p4 = at[lanes[4]];
  let o4 = write[lanes[4]];
  let p5 = at[lanes[5]];
  let o5 = write[lanes[5]];
  let p6 = at[lanes[6]];
  let o6 = write[lanes[6]];
  let p7 = at[lanes[7]];
  let o7 = write[lanes[7]];
  let e = 0;
  let status = LANES_MORE;
  for (let round = 0; round < rounds; round++) {
    e = tt[p0];
    if ((e & ENTRY_MARK) === 0) {
      if ((o0 & chunkMask) === 0) {
        o0 = takeChunk(lanes[0], state, chunkNext, chunk, chunks);
        if (o0 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o0++] = e;
      p0 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[0]] = p0;
      write[lanes[0]] = o0;
      if (next === walkers) {
        lanes[0] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[0] = next;
      p0 = at[next];
      o0 = write[next];
      next++;
    }
    e = tt[p1];
    if ((e & ENTRY_MARK) === 0) {
      if ((o1 & chunkMask) === 0) {
        o1 = takeChunk(lanes[1], state, chunkNext, chunk, chunks);
        if (o1 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o1++] = e;
      p1 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[1]] = p1;
      write[lanes[1]] = o1;
      if (next === walkers) {
        lanes[1] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[1] = next;
      p1 = at[next];
      o1 = write[next];
      next++;
    }
    e = tt[p2];
    if ((e & ENTRY_MARK) === 0) {
      if ((o2 & chunkMask) === 0) {
        o2 = takeChunk(lanes[2], state, chunkNext, chunk, chunks);
        if (o2 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o2++] = e;
      p2 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[2]] = p2;
      write[lanes[2]] = o2;
      if (next === walkers) {
        lanes[2] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[2] = next;
      p2 = at[next];
      o2 = write[next];
      next++;
    }
    e = tt[p3];
    if ((e & ENTRY_MARK) === 0) {
      if ((o3 & chunkMask) === 0) {
        o3 = takeChunk(lanes[3], state, chunkNext, chunk, chunks);
        if (o3 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o3++] = e;
      p3 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[3]] = p3;
      write[lanes[3]] = o3;
      if (next === walkers) {
        lanes[3] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[3] = next;
      p3 = at[next];
      o3 = write[next];
      next++;
    }
    e = tt[p4];
    if ((e & ENTRY_MARK) === 0) {
      if ((o4 & chunkMask) === 0) {
        o4 = takeChunk(lanes[4], state, chunkNext, chunk, chunks);
        if (o4 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o4++] = e;
      p4 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[4]] = p4;
      write[lanes[4]] = o4;
      if (next === walkers) {
        lanes[4] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[4] = next;
      p4 = at[next];
      o4 = write[next];
      next++;
    }
    e = tt[p5];
    if ((e & ENTRY_MARK) === 0) {
      if ((o5 & chunkMask) === 0) {
        o5 = takeChunk(lanes[5], state, chunkNext, chunk, chunks);
        if (o5 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o5++] = e;
      p5 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[5]] = p5;
      write[lanes[5]] = o5;
      if (next === walkers) {
        lanes[5] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[5] = next;
      p5 = at[next];
      o5 = write[next];
      next++;
    }
    e = tt[p6];
    if ((e & ENTRY_MARK) === 0) {
      if ((o6 & chunkMask) === 0) {
        o6 = takeChunk(lanes[6], state, chunkNext, chunk, chunks);
        if (o6 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o6++] = e;
      p6 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[6]] = p6;
      write[lanes[6]] = o6;
      if (next === walkers) {
        lanes[6] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[6] = next;
      p6 = at[next];
      o6 = write[next];
      next++;
    }
    e = tt[p7];
    if ((e & ENTRY_MARK) === 0) {
      if ((o7 & chunkMask) === 0) {
        o7 = takeChunk(lanes[7], state, chunkNext, chunk, chunks);
        if (o7 < 0) {
          status = LANES_OUT_OF_CHUNKS;
          break;
        }
      }
      walked[o7++] = e;
      p7 = e >>> ENTRY_NEXT_SHIFT;
    } else {
      stoppedAt[lanes[7]] = p7;
      write[lanes[7]] = o7;
      if (next === walkers) {
        lanes[7] = -1;
        status = LANES_DONE;
        break;
      }
      lanes[7] = next;
      p7 = at[next];
      o7 = write[next];
      next++;
    }
  }
  if (lanes[0] >= 0) {
    at[lanes[0]] = p0;
    write[lanes[0]] = o0;
  }
  if (lanes[1] >= 0) {
    at[lanes[1]] = p1;
    write[lanes[1]] = o1;
  }
  if (lanes[2] >= 0) {
    at[lanes[2]] = p2;
    write[lanes[2]] = o2;
  }
  if (lanes[3] >= 0) {
    at[lanes[3]] = p3;
    write[lanes[3]] = o3;
  }
  if (lanes[4] >= 0) {
    at[lanes[4]] = p4;
    write[lanes[4]] = o4;
  }
  if (lanes[5] >= 0) {
    at[lanes[5]] = p5;
    write[lanes[5]] = o5;
  }
  if (lanes[6] >= 0) {
    at[lanes[6]] = p6;
    write[lanes[6]] = o6;
  }
  if (lanes[7] >= 0) {
    at[lanes[7]] = p7;
    write[lanes[7]] = o7;
  }
  progress[2] = next;
  return status;
}

/** Gives walker w a new chunk after its last; returns its first byte, or -1 if none is left. */
function takeChunk(w: number, state: Walkers, chunkNext: Int32Array, chunk: number, chunks: number): number {
  const free = state.progress[0];
  // The segments of a permutation never overlap, so the chunks suffice.
  if (free === chunks) return -1;
  state.progress[0] = free + 1;
  chunkNext[state.lastChunk[w]] = free;
  chunkNext[free] = -1;
  state.lastChunk[w] = free;
  const o = free * chunk;
  state.limit[w] = o + chunk;
  return o;
}

/**
 * Steps the walkers in `active` (state.progress[1] of them) in turn until each meets a
 * marked entry; false if chunks run out. A walker takes up to STEPS_PER_TURN steps a turn,
 * so that its state is loaded and stored once for several steps while the other walkers'
 * loads are still in flight.
 */
function walkChain(
  tt: Int32Array,
  chunks: number,
  chunk: number,
  state: Walkers,
  walked: Uint8Array,
  chunkNext: Int32Array,
): boolean {
  const { at, write, limit, stoppedAt, active } = state;
  let running = state.progress[1];
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
          o = takeChunk(w, state, chunkNext, chunk, chunks);
          if (o < 0) return false;
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
