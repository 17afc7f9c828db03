// bzip2 decompression with the blocks decoded in worker threads, output in input order.
// Same output and errors as bunzip2 (bzip2.ts), whose block decoder the workers run.
//
// This thread reads the input, finds the block boundaries (bzip2-blocks.ts), and keeps up
// to two pieces per worker in flight, planned ahead on the assumption that every magic it
// found is a real boundary. A piece whose block runs past its end (the magic ending it was
// inside compressed data) is joined with the next one and planned again, with everything
// after it. Any other verdict on a piece is the verdict on the whole input: the block
// decoder read only bytes of the piece, so bunzip2 reads the same ones and says the same.
// Memory stays bounded: the input kept reaches back only to the oldest block not yet
// emitted, and pieces in flight are limited.
import { findMagics, MAGIC_SPAN, readBits, type PieceFailure, type PieceResult } from './bzip2-blocks.js';
import {
  BLOCK_MAGIC_HIGH,
  BLOCK_MAGIC_LOW,
  END_MAGIC_HIGH,
  END_MAGIC_LOW,
  HEADER_CUT,
  hex,
  streamHeaderLevel,
  Truncated,
  truncatedError,
} from './bzip2.js';
import type { Bzip2Pool } from './bzip2-pool.js';
import { DecompressError, type DecompressErrorCode } from './errors.js';

/** The input read so far, from the oldest byte still needed. */
class InputWindow {
  readonly #source: AsyncIterator<Uint8Array>;
  // Grown as chunks come (doubling), so that a small input costs little.
  data = new Uint8Array(0);
  length = 0;
  /** Offset of data[0] in the whole input. */
  base = 0;
  ended = false;

  constructor(source: AsyncIterator<Uint8Array>) {
    this.#source = source;
  }

  /** Offset just past the last byte read. */
  get end(): number {
    return this.base + this.length;
  }

  /** Reads until the input reaches offset `end` or ends. */
  async fillTo(end: number): Promise<void> {
    while (this.base + this.length < end && !this.ended) await this.readMore();
  }

  /** Reads one more chunk; false once the input has ended. */
  async readMore(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.#source.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    const chunk = next.value;
    if (this.length + chunk.length > this.data.length) {
      const bigger = new Uint8Array(Math.max(this.data.length * 2, this.length + chunk.length));
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    this.data.set(chunk, this.length);
    this.length += chunk.length;
    return true;
  }

  /** Drops the bytes before offset `offset`. */
  discardBefore(offset: number): void {
    const drop = Math.min(offset - this.base, this.length);
    if (drop <= 0) return;
    this.data.copyWithin(0, drop, this.length);
    this.length -= drop;
    this.base += drop;
  }

  /** Bytes [from, to) (offsets in the whole input, clipped to what was read), not copied. */
  view(from: number, to: number): Uint8Array {
    return this.data.subarray(from - this.base, Math.min(to, this.end) - this.base);
  }

  /** A copy of bytes [from, to) (offsets in the whole input, clipped to what was read). */
  copy(from: number, to: number): Uint8Array {
    return this.view(from, to).slice();
  }

  /** `n` <= 32 bits at bit `bit` of the whole input. */
  bits(bit: number, n: number): number {
    return readBits(this.data.subarray(0, this.length), bit - this.base * 8, n);
  }
}

type Planned =
  | {
      kind: 'block';
      startBit: number;
      endBit: number | undefined;
      capped: boolean;
      level: number;
      crc: number;
      result: Promise<PieceResult>;
    }
  | { kind: 'end'; startBit: number; crc: number }
  | { kind: 'bad'; startBit: number }
  | { kind: 'cut' };

/** Compressed bytes one block can take at most: 20-bit codes for every symbol, and its tables. */
function maxBlockBytes(level: number): number {
  return ((level * 100_000 + 2) * 20) / 8 + 65_536;
}

/** Bytes past a piece's end that decoding may read ahead (its bit reader takes 4 at most). */
const LOOKAHEAD_BYTES = 8;

export interface ParallelBunzip2Options {
  /**
   * The caller is done with each yielded Buffer when it asks for the next one (it keeps no
   * view of it): its memory then goes back to the workers for later blocks.
   */
  reuseChunks?: boolean;
  /**
   * Finds the magic candidates (default findMagics). Tests pass one that adds false hits,
   * which real data produces too rarely to test otherwise.
   */
  findMagics?: typeof findMagics;
}

/**
 * Decompresses a bzip2 input given as chunks, decoding blocks on `pool`. Each yielded
 * Buffer holds one block's output.
 */
export async function* bunzip2Parallel(
  source: AsyncIterable<Uint8Array>,
  pool: Bzip2Pool,
  options: ParallelBunzip2Options = {},
): AsyncGenerator<Buffer, void, undefined> {
  const decoder = new ParallelDecoder(
    source[Symbol.asyncIterator](),
    pool,
    options.findMagics ?? findMagics,
    options.reuseChunks ?? false,
  );
  yield* decoder.run();
}

class ParallelDecoder {
  readonly #input: InputWindow;
  readonly #pool: Bzip2Pool;
  readonly #inFlight: number;
  #outputBytes = 0;

  // Magic candidates found so far (bits in the whole input, ascending), and how far the
  // input has been searched (byte offset: starts before it are all found).
  #candidates: number[] = [];
  #searchedTo = 0;

  // The planner: where the next piece starts, the stream's level, and (after a failed
  // piece) the end it must go beyond.
  #planBit = 0;
  #planLevel = 0;
  #planBeyond = -1;
  #planStopped = true;
  readonly #queue: Planned[] = [];

  readonly #findMagics: typeof findMagics;
  readonly #reuseChunks: boolean;

  constructor(
    source: AsyncIterator<Uint8Array>,
    pool: Bzip2Pool,
    finder: typeof findMagics,
    reuseChunks: boolean,
  ) {
    this.#input = new InputWindow(source);
    this.#pool = pool;
    this.#findMagics = finder;
    this.#reuseChunks = reuseChunks;
    this.#inFlight = Math.max(2, pool.size * 2);
  }

  async *run(): AsyncGenerator<Buffer, void, undefined> {
    try {
      const level = await this.#streamHeader(0, true);
      if (level === undefined) return;
      this.#plan(32, level, -1);
      let combined = 0;
      for (;;) {
        while (this.#queue.length < this.#inFlight && !this.#planStopped) await this.#planNext();
        const head = this.#queue.shift();
        if (head === undefined) throw new Error('bunzip2Parallel: nothing planned');
        if (head.kind === 'cut') throw new Truncated();
        if (head.kind === 'bad') throw this.#error('BZIP2_ERR_DATA', 'bad block magic', head.startBit >>> 3);
        if (head.kind === 'end') {
          if (head.crc !== combined) {
            throw this.#error(
              'BZIP2_ERR_CRC',
              `stream CRC ${hex(combined)} differs from the stored ${hex(head.crc)}`,
              (head.startBit + 48) >>> 3,
            );
          }
          combined = 0;
          const next = Math.ceil((head.startBit + 80) / 8);
          this.#input.discardBefore(next);
          const level = await this.#streamHeader(next, false);
          if (level === undefined) return;
          // The planner may have gone on into this stream already.
          if (this.#queue.length === 0 && this.#planStopped) this.#plan((next + 4) * 8, level, -1);
          continue;
        }
        const result = await head.result;
        const origin = head.startBit >>> 3;
        if (result.failure === undefined && result.output !== undefined) {
          // A block whose CRC matched is the block, wherever it ends: the decoder read only
          // bytes of the piece (reading past them is a truncation), which the whole input has
          // too. If it does not end at the planned boundary (that magic was corrupted),
          // what follows it is read from where it ends, as bunzip2 does.
          const endBit = origin * 8 + result.endBit!;
          combined = (((combined << 1) | (combined >>> 31)) ^ head.crc) >>> 0;
          const output = result.output;
          this.#outputBytes += output.length;
          yield Buffer.from(output.buffer, output.byteOffset, output.length);
          if (this.#reuseChunks && output.buffer instanceof ArrayBuffer) this.#pool.recycle(output.buffer);
          this.#input.discardBefore(endBit >>> 3);
          if (head.endBit !== endBit) {
            this.#queue.length = 0;
            this.#plan(endBit, head.level, -1);
          }
          continue;
        }
        const failure = result.failure ?? { code: 'BZIP2_ERR_DATA', message: 'no output', offset: 0 };
        // Any other failure was found in bytes of the piece, so it is the verdict on the
        // whole input as well.
        if (failure.code !== 'BZIP2_ERR_TRUNCATED') throw this.#failure(failure, origin);
        if (head.endBit === undefined) {
          // The last piece, or one as long as a block can be.
          if (!head.capped) throw new Truncated();
          throw this.#error('BZIP2_ERR_DATA', `block longer than ${maxBlockBytes(head.level)} bytes`, origin);
        }
        // The piece ended at a magic inside the block's compressed data: join it with the next.
        this.#queue.length = 0;
        this.#plan(head.startBit, head.level, head.endBit);
      }
    } catch (error) {
      if (error instanceof Truncated) throw truncatedError(this.#input.end, this.#outputBytes);
      throw error;
    }
  }

  /**
   * Checks the stream header at byte `at`; returns its level, or undefined at a clean end
   * of input after a stream.
   */
  async #streamHeader(at: number, first: boolean): Promise<number | undefined> {
    const input = this.#input;
    await input.fillTo(at + 4);
    if (!first && input.end === at) return undefined;
    const level = streamHeaderLevel(input.view(at, at + 4), first);
    if (level === HEADER_CUT) throw new Truncated();
    if (typeof level === 'string') throw this.#error('BZIP2_ERR_FORMAT', level, at);
    return level;
  }

  #plan(bit: number, level: number, beyond: number): void {
    this.#planBit = bit;
    this.#planLevel = level;
    this.#planBeyond = beyond;
    this.#planStopped = false;
  }

  /** Plans the next piece (or end marker) and starts decoding it. */
  async #planNext(): Promise<void> {
    const input = this.#input;
    const at = this.#planBit;
    const level = this.#planLevel;
    // The magic and the CRC after it.
    await input.fillTo(Math.ceil((at + 80) / 8));
    if (input.end * 8 < at + 80) {
      this.#queue.push({ kind: 'cut' });
      this.#planStopped = true;
      return;
    }
    const high = input.bits(at, 24);
    const low = input.bits(at + 24, 24);
    const crc = input.bits(at + 48, 32);
    if (high === END_MAGIC_HIGH && low === END_MAGIC_LOW) {
      this.#queue.push({ kind: 'end', startBit: at, crc });
      // Go on into a following stream if its header is already readable and valid.
      this.#planStopped = true;
      const next = Math.ceil((at + 80) / 8);
      await input.fillTo(next + 4);
      if (input.end < next + 4) return;
      const level = streamHeaderLevel(input.view(next, next + 4), false);
      if (typeof level === 'number' && level !== HEADER_CUT) this.#plan((next + 4) * 8, level, -1);
      return;
    }
    if (high !== BLOCK_MAGIC_HIGH || low !== BLOCK_MAGIC_LOW) {
      this.#queue.push({ kind: 'bad', startBit: at });
      this.#planStopped = true;
      return;
    }
    const limit = at + maxBlockBytes(level) * 8;
    const end = await this.#nextCandidate(Math.max(at, this.#planBeyond), limit);
    const from = at >>> 3;
    if (end === undefined) {
      // No boundary within reach: to the end of the input, or as far as a block can go.
      const capped = !input.ended || input.end * 8 > limit;
      const bytes = input.copy(from, Math.ceil(limit / 8));
      const piece = { bytes, startBit: at & 7, level };
      this.#queue.push({
        kind: 'block',
        startBit: at,
        endBit: undefined,
        capped,
        level,
        crc,
        result: this.#pool.decode(piece),
      });
      this.#planStopped = true;
      return;
    }
    // The bit reader looks a few bytes ahead: give it the start of the next block too.
    await input.fillTo(Math.ceil(end / 8) + LOOKAHEAD_BYTES);
    const bytes = input.copy(from, Math.ceil(end / 8) + LOOKAHEAD_BYTES);
    const piece = { bytes, startBit: at & 7, level };
    this.#queue.push({
      kind: 'block',
      startBit: at,
      endBit: end,
      capped: false,
      level,
      crc,
      result: this.#pool.decode(piece),
    });
    this.#planBit = end;
    this.#planBeyond = -1;
  }

  /** The first candidate after bit `after` and below bit `limit`, reading on as needed. */
  async #nextCandidate(after: number, limit: number): Promise<number | undefined> {
    const input = this.#input;
    // Candidates before the kept input are of blocks already emitted.
    const kept = input.base * 8;
    if (this.#candidates.length > 0 && this.#candidates[0] < kept)
      this.#candidates = this.#candidates.filter((bit) => bit >= kept);
    if (this.#searchedTo < input.base) this.#searchedTo = input.base;
    for (;;) {
      for (const bit of this.#candidates) {
        if (bit >= limit) return undefined;
        if (bit > after) return bit;
      }
      if (this.#searchedTo * 8 >= limit) return undefined;
      // Search what has been read; starts in the last MAGIC_SPAN - 1 bytes wait for more.
      const to = input.ended ? input.end : input.end - MAGIC_SPAN + 1;
      if (to > this.#searchedTo) {
        const found = this.#findMagics(
          input.data.subarray(0, input.length),
          this.#searchedTo - input.base,
          to - input.base,
        );
        for (const bit of found) this.#candidates.push(input.base * 8 + bit);
        this.#searchedTo = to;
        continue;
      }
      if (input.ended) return undefined;
      await input.readMore();
    }
  }

  #failure(failure: PieceFailure, origin: number): DecompressError {
    return new DecompressError(failure.code, failure.message, origin + failure.offset, this.#outputBytes);
  }

  #error(code: DecompressErrorCode, message: string, offset: number): DecompressError {
    return new DecompressError(code, message, offset, this.#outputBytes);
  }
}
