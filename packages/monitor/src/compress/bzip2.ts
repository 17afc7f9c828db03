// A streaming bzip2 decompressor in TypeScript (Node has none, and rovkit takes no native
// dependency). Format as written by bzip2 1.0.x (the reference implementation is the only
// specification): a stream is "BZh" + a block size digit, then blocks, each
//   48-bit magic 0x314159265359, 32-bit CRC of the block's output, 1 randomised bit,
//   24-bit BWT origin pointer, the symbol map (16 + 16 * n bits), Huffman group count (3),
//   selector count (15), MTF/unary-coded selectors, delta-coded code lengths per group,
//   then Huffman-coded MTF/RLE2 symbols, 50 per selector, up to the end-of-block symbol,
// then the end-of-stream magic 0x177245385090 and the combined CRC; streams may follow
// each other (pbzip2, `cat a.bz2 b.bz2`).
//
// Memory stays bounded: the input is pulled chunk by chunk and only the unread tail is
// kept; one block (at most 900 kB before the final run-length expansion) is decoded at a
// time and emitted only after its CRC matched, so corrupt data never reaches the caller.
// A cut input raises BZIP2_ERR_TRUNCATED after every complete block has been emitted.
import { DecompressError } from './errors.js';
import { InverseBwt } from './inverse-bwt.js';

const MAX_GROUPS = 6;
const MAX_ALPHA = 258;
const MAX_CODE_LENGTH = 20;
const GROUP_SIZE = 50;
/** bzip2 1.0.8 reads but ignores selectors beyond this count (CVE-2019-12900). */
const MAX_SELECTORS = 18002;
/**
 * Bytes a block header (from its magic to the end of the code lengths) may take. bzip2
 * encoders write at most about 33 kB (32767 selectors of 6 bits, 6 groups of 258 code
 * lengths of up to 39 bits); only steps that undo each other (+1 -1, which bzip2 accepts
 * without end) make one longer, and such a header is BZIP2_ERR_DATA, so that a decoder
 * reading input in chunks needs only this much ahead, and says the same whatever the chunks.
 */
export const BZIP2_MAX_HEADER = 40 * 1024;
/** Bytes buffered before a block header: the header and what the bit reader looks ahead. */
const HEADER_LOOKAHEAD = BZIP2_MAX_HEADER + 8;
/** Bytes one group of 50 symbols can need at most (20 bits each), rounded up. */
const GROUP_LOOKAHEAD = 128;
/** Code lengths up to this are decoded with one table lookup. */
const TABLE_BITS = 10;

/**
 * CRC-32/BZIP2 tables for slicing by 8 (MSB first): CRC_TABLES[k][x] is the CRC step of
 * byte x followed by k zero bytes, so eight bytes are folded in with eight lookups.
 */
const CRC_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    tables[0][i] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const previous = tables[k - 1][i];
      tables[k][i] = (previous << 8) ^ tables[0][previous >>> 24];
    }
  }
  return tables;
})();

/** The bzip2 CRC (CRC-32/BZIP2: MSB first, polynomial 0x04c11db7) of `data[0..length)`. */
export function bzip2Crc(data: Uint8Array, length: number = data.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let crc = -1;
  let i = 0;
  for (const last = length - 7; i < last; i += 8) {
    crc ^= (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
    crc =
      t7[crc >>> 24] ^
      t6[(crc >>> 16) & 0xff] ^
      t5[(crc >>> 8) & 0xff] ^
      t4[crc & 0xff] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
  }
  return crcTail(crc, data, i, length);
}

/** The last bytes one at a time; a function of its own so the main loop's code stays optimised. */
function crcTail(crc: number, data: Uint8Array, from: number, length: number): number {
  for (let i = from; i < length; i++) crc = (crc << 8) ^ CRC_TABLES[0][((crc >>> 24) ^ data[i]) & 0xff];
  return ~crc >>> 0;
}

/**
 * The MTF list is kept as 16 segments of 16 entries in a larger area, each segment at its
 * own base (the scheme of bzip2 1.0): moving position n to the front shifts within n's
 * segment, then each earlier segment hands its last entry to the next and grows one to
 * the left, so a move costs at most 15 + 15 steps instead of n. With binary data (MRT)
 * about a third of the moves come from past position 16.
 */
const MTF_SEGMENT = 16;
const MTF_AREA = 4096;

/** Packs the segments at the end of the area; `reset` puts the identity list there first. */
function packMtf(mtf: Uint8Array, base: Int32Array, reset: boolean): void {
  let k = MTF_AREA - 1;
  for (let segment = 256 / MTF_SEGMENT - 1; segment >= 0; segment--) {
    for (let j = MTF_SEGMENT - 1; j >= 0; j--) {
      // Segments only move left, so reading from the top down never reads what was written.
      mtf[k--] = reset ? segment * MTF_SEGMENT + j : mtf[base[segment] + j];
    }
    base[segment] = k + 1;
  }
}

/** Moves the entry at list position n to the front and returns it. */
function moveToFront(mtf: Uint8Array, base: Int32Array, n: number): number {
  if (n < MTF_SEGMENT) {
    const front = base[0];
    const value = mtf[front + n];
    for (let p = front + n; p > front; p--) mtf[p] = mtf[p - 1];
    mtf[front] = value;
    return value;
  }
  let segment = n >>> 4;
  const first = base[segment];
  let p = first + (n & (MTF_SEGMENT - 1));
  const value = mtf[p];
  for (; p > first; p--) mtf[p] = mtf[p - 1];
  mtf[first] = mtf[base[segment - 1] + MTF_SEGMENT - 1];
  for (segment--; segment > 0; segment--) {
    const grown = --base[segment];
    mtf[grown] = mtf[base[segment - 1] + MTF_SEGMENT - 1];
  }
  const front = --base[0];
  mtf[front] = value;
  if (front === 0) packMtf(mtf, base, false);
  return value;
}

/** A canonical Huffman decoding table for one group. */
class HuffmanTable {
  /** By the next TABLE_BITS bits: symbol << 5 | code length, or 0 for a longer code. */
  readonly fast = new Uint16Array(1 << TABLE_BITS);
  /** Largest code of each length (left-aligned to that length), -1 when none. */
  readonly limit = new Int32Array(MAX_CODE_LENGTH + 2);
  /** Index in `perm` of the first code of each length, minus that code. */
  readonly base = new Int32Array(MAX_CODE_LENGTH + 2);
  readonly perm = new Uint16Array(MAX_ALPHA);
  minLength = 0;
  maxLength = 0;

  /**
   * Builds the table. Lengths that oversubscribe the code space (no encoder writes them,
   * but corruption does) are decoded as bzip2 1.0 decodes them, since its output is the
   * reference: codes are handed out in canonical order while they fit in their length; the
   * length where they stop fitting takes every bit pattern that reaches it, and the
   * symbols left over and all longer lengths cannot be reached. The block CRC then judges.
   */
  build(lengths: Uint8Array, alphaSize: number): void {
    let min = MAX_CODE_LENGTH;
    let max = 0;
    for (let i = 0; i < alphaSize; i++) {
      if (lengths[i] > max) max = lengths[i];
      if (lengths[i] < min) min = lengths[i];
    }
    this.minLength = min;
    this.maxLength = max;
    this.fast.fill(0);
    this.limit.fill(-1);
    let code = 0;
    let index = 0;
    for (let length = min; length <= max; length++) {
      this.base[length] = index - code;
      const first = index;
      for (let symbol = 0; symbol < alphaSize; symbol++) {
        if (lengths[symbol] !== length) continue;
        if (code >= 1 << length) {
          // Full: every pattern that gets this far ends here (bzip2's limit is past it).
          this.limit[length] = (1 << length) - 1;
          this.maxLength = length;
          return;
        }
        this.perm[index++] = symbol;
        if (length <= TABLE_BITS) {
          const first = code << (TABLE_BITS - length);
          const entry = (symbol << 5) | length;
          this.fast.fill(entry, first, first + (1 << (TABLE_BITS - length)));
        }
        code++;
      }
      // A length without codes keeps limit -1, so the slow decoding path never stops there.
      if (index > first) this.limit[length] = code - 1;
      code <<= 1;
    }
  }
}

/** The block magic 0x314159265359 and the end-of-stream magic 0x177245385090, in halves. */
export const BLOCK_MAGIC_HIGH = 0x314159;
export const BLOCK_MAGIC_LOW = 0x265359;
export const END_MAGIC_HIGH = 0x177245;
export const END_MAGIC_LOW = 0x385090;

/** What streamHeaderLevel returns when the input ends inside a stream header. */
export const HEADER_CUT = 0;

/**
 * Checks the stream header "BZh" + block size digit at the start of `head` (the bytes
 * there, the header's 4 or fewer if the input ends): returns the level 1 to 9, HEADER_CUT
 * when the input ends inside a header (an empty input included), or the BZIP2_ERR_FORMAT
 * message (`first`: for the input's first stream, else for data after a stream).
 */
export function streamHeaderLevel(head: Uint8Array, first: boolean): number | string {
  const available = Math.min(head.length, 4);
  const present = Math.min(available, 3);
  let signature = 0;
  for (let i = 0; i < 3; i++) signature = (signature << 8) | (i < present ? head[i] : 0);
  // A cut signature (or an empty input) is a truncation; anything else is not bzip2.
  if (available < 4 && signature >>> (8 * (3 - present)) === 0x425a68 >>> (8 * (3 - present)))
    return HEADER_CUT;
  if (signature !== 0x425a68) {
    return first ? 'not a bzip2 stream (no "BZh" signature)' : 'data after the end of the bzip2 stream';
  }
  const level = head[3] - 0x30;
  return level >= 1 && level <= 9 ? level : `block size digit ${level} is not 1 to 9`;
}

/** The error for an input that ends inside a block or before an end-of-stream marker. */
export function truncatedError(bytesRead: number, outputBytes: number): DecompressError {
  return new DecompressError(
    'BZIP2_ERR_TRUNCATED',
    `bzip2 input ends inside a block or before the end-of-stream marker (${bytesRead} bytes read)`,
    bytesRead,
    outputBytes,
  );
}

/** A CRC as eight hexadecimal digits, for messages. */
export function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Why decodeSymbolRun returned. */
const SYMBOLS_DONE = 0;
const SYMBOLS_NEED_INPUT = 1;
const SYMBOLS_NO_SELECTOR = 2;
const SYMBOLS_BAD_CODE = 3;
const SYMBOLS_RUN_TOO_LONG = 4;
const SYMBOLS_BLOCK_TOO_LONG = 5;

/** A block's tables and where its symbol decoding stands, kept while input is awaited. */
class SymbolState {
  readonly counts = new Int32Array(256);
  readonly seqToUnseq = new Uint8Array(256);
  /** The MTF list in 16 segments of 16 (see moveToFront). */
  readonly mtf = new Uint8Array(MTF_AREA);
  readonly mtfBase = new Int32Array(256 / MTF_SEGMENT);
  readonly selectors = new Uint8Array(MAX_SELECTORS);
  readonly tables = Array.from({ length: MAX_GROUPS }, () => new HuffmanTable());
  column: Uint8Array = new Uint8Array(0);
  selectorCount = 0;
  limitOut = 0;
  eob = 0;
  // Progress.
  nblock = 0;
  run = 0;
  runWeight = 1;
  selector = 0;
  left = 0;
  group = 0;
  pos = 0;
  bitBuf = 0;
  bitCount = 0;

  start(pos: number, bitBuf: number, bitCount: number): void {
    this.counts.fill(0);
    packMtf(this.mtf, this.mtfBase, true);
    this.nblock = 0;
    this.run = 0;
    this.runWeight = 1;
    this.selector = 0;
    this.left = 0;
    this.group = 0;
    this.pos = pos;
    this.bitBuf = bitBuf;
    this.bitCount = bitCount;
  }
}

/**
 * Decodes symbols of the block in `s` from `buf`: until the end-of-block symbol
 * (SYMBOLS_DONE), an error, or (unless `ended`) a group boundary with fewer than
 * GROUP_LOOKAHEAD bytes left (SYMBOLS_NEED_INPUT). Past the end of an ended input it reads
 * zeros; the caller notices from `s.pos`.
 */
function decodeSymbolRun(s: SymbolState, buf: Uint8Array, ended: boolean): number {
  const tt = s.column;
  const counts = s.counts;
  const mtf = s.mtf;
  const mtfBase = s.mtfBase;
  const seqToUnseq = s.seqToUnseq;
  const selectors = s.selectors;
  const tables = s.tables;
  const selectorCount = s.selectorCount;
  const limitOut = s.limitOut;
  const eob = s.eob;
  const end = buf.length;
  let nblock = s.nblock;
  let run = s.run;
  let runWeight = s.runWeight;
  let selector = s.selector;
  let left = s.left;
  let table = tables[s.group];
  let pos = s.pos;
  let bitBuf = s.bitBuf;
  let bitCount = s.bitCount;
  let status = SYMBOLS_DONE;

  for (;;) {
    if (left === 0) {
      if (end - pos < GROUP_LOOKAHEAD && !ended) {
        status = SYMBOLS_NEED_INPUT;
        break;
      }
      if (selector >= selectorCount) {
        status = SYMBOLS_NO_SELECTOR;
        break;
      }
      s.group = selectors[selector++];
      table = tables[s.group];
      left = GROUP_SIZE;
    }
    left--;

    // Keep at least 24 bits buffered; past the end of an ended input, read zeros.
    while (bitCount < 24) {
      bitBuf = (bitBuf << 8) | (pos < end ? buf[pos] : 0);
      pos++;
      bitCount += 8;
    }
    const peek = (bitBuf >>> (bitCount - TABLE_BITS)) & ((1 << TABLE_BITS) - 1);
    const entry = table.fast[peek];
    let symbol: number;
    if (entry !== 0) {
      symbol = entry >>> 5;
      bitCount -= entry & 31;
    } else {
      const bits = (bitBuf >>> (bitCount - MAX_CODE_LENGTH)) & ((1 << MAX_CODE_LENGTH) - 1);
      let length = TABLE_BITS + 1;
      while (length <= table.maxLength && bits >>> (MAX_CODE_LENGTH - length) > table.limit[length]) length++;
      if (length > table.maxLength) {
        status = SYMBOLS_BAD_CODE;
        break;
      }
      bitCount -= length;
      symbol = table.perm[table.base[length] + (bits >>> (MAX_CODE_LENGTH - length))];
    }

    if (symbol <= 1) {
      // RUNA / RUNB: a run of the front MTF byte, its length written in bijective base 2.
      run += runWeight << symbol;
      runWeight <<= 1;
      if (run > limitOut) {
        status = SYMBOLS_RUN_TOO_LONG;
        break;
      }
      continue;
    }
    if (run > 0) {
      if (nblock + run > limitOut) {
        status = SYMBOLS_BLOCK_TOO_LONG;
        break;
      }
      const byte = seqToUnseq[mtf[mtfBase[0]]];
      counts[byte] += run;
      // Most runs are short, where a loop beats the call.
      if (run > 16) tt.fill(byte, nblock, nblock + run);
      else for (let r = 0; r < run; r++) tt[nblock + r] = byte;
      nblock += run;
      run = 0;
      runWeight = 1;
    }
    if (symbol === eob) break;
    if (nblock >= limitOut) {
      status = SYMBOLS_BLOCK_TOO_LONG;
      break;
    }
    // Symbol s stands for MTF position s - 1.
    const byte = seqToUnseq[moveToFront(mtf, mtfBase, symbol - 1)];
    counts[byte]++;
    tt[nblock++] = byte;
  }
  s.nblock = nblock;
  s.run = run;
  s.runWeight = runWeight;
  s.selector = selector;
  s.left = left;
  s.pos = pos;
  s.bitBuf = bitBuf;
  s.bitCount = bitCount;
  return status;
}

/** Thrown inside the decoders when the input ends early; they report it as truncatedError. */
export class Truncated extends Error {}

/**
 * The large arrays of a decoder (about 10 MB for 900 kB blocks). A caller that decodes one
 * input after another (a worker decoding single blocks) passes the same workspace to each,
 * so they are allocated once; two decoders must not share one at the same time.
 */
export class Bzip2Workspace {
  /** A block's bytes after Huffman, MTF and the second-stage runs: the BWT's last column. */
  lastColumn = new Uint8Array(0);
  readonly inverseBwt = new InverseBwt();
  /** A block's output, after the first stage's runs are expanded. */
  out: Uint8Array = new Uint8Array(0);
}

/**
 * Decompresses a bzip2 input given as chunks. Each yielded Buffer is a fresh copy holding
 * one block's output.
 */
export async function* bunzip2(
  source: AsyncIterable<Uint8Array>,
  workspace: Bzip2Workspace = new Bzip2Workspace(),
): AsyncGenerator<Buffer, void, undefined> {
  const decoder = new Bzip2Decoder(source[Symbol.asyncIterator](), workspace);
  yield* decoder.run();
}

/** A block decoded on its own (see decodeBlockAt). */
export interface DecodedBlock {
  /** The block's output, its CRC checked: a view of the workspace, valid until it decodes again. */
  output: Uint8Array;
  /** The bit of `bytes` just after the block, where the next magic starts. */
  endBit: number;
}

/**
 * Decodes the one block whose magic starts at bit `startBit` of `bytes`, in a stream of
 * block size digit `level` (for decoding blocks apart, bzip2-blocks.ts). Throws
 * DecompressError: BZIP2_ERR_TRUNCATED if the block reads past the end of `bytes` (the
 * bit reader looks up to 4 bytes ahead, so give it a few bytes after the block).
 */
export async function decodeBlockAt(
  bytes: Uint8Array,
  startBit: number,
  level: number,
  workspace: Bzip2Workspace,
): Promise<DecodedBlock> {
  const decoder = new Bzip2Decoder(emptySource, workspace);
  return decoder.decodeBlockAt(bytes, startBit, level);
}

const emptySource: AsyncIterator<Uint8Array> = {
  next: () => Promise.resolve({ done: true, value: undefined }),
};

class Bzip2Decoder {
  readonly #source: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  /** Offset of #buf[0] in the whole input. */
  #base = 0;
  #ended = false;
  /** Set when a read went past the end of an ended input (the read returned zeros). */
  #overrun = false;
  #bitBuf = 0;
  #bitCount = 0;
  #outputBytes = 0;

  // Block state, kept across the pauses for more input.
  #blockSizeMax = 0;
  readonly #block = new SymbolState();
  readonly #lengths = new Uint8Array(MAX_ALPHA);
  readonly #ws: Bzip2Workspace;

  constructor(source: AsyncIterator<Uint8Array>, workspace: Bzip2Workspace) {
    this.#source = source;
    this.#ws = workspace;
  }

  async *run(): AsyncGenerator<Buffer, void, undefined> {
    try {
      let first = true;
      for (;;) {
        await this.#need(4);
        if (!first && this.#pos === this.#buf.length) return;
        const level = streamHeaderLevel(this.#buf.subarray(this.#pos, this.#pos + 4), first);
        if (level === HEADER_CUT) throw new Truncated();
        if (typeof level === 'string') throw this.#error('BZIP2_ERR_FORMAT', level);
        this.#pos += 4;
        first = false;
        this.#blockSizeMax = level * 100000;
        if (this.#ws.lastColumn.length < this.#blockSizeMax)
          this.#ws.lastColumn = new Uint8Array(this.#blockSizeMax);
        let combined = 0;
        for (;;) {
          await this.#need(HEADER_LOOKAHEAD);
          const magicHigh = this.#bits(24);
          const magicLow = this.#bits(24);
          const crc = ((this.#bits(16) << 16) | this.#bits(16)) >>> 0;
          this.#checkOverrun();
          if (magicHigh === END_MAGIC_HIGH && magicLow === END_MAGIC_LOW) {
            if (crc !== combined) {
              throw this.#error(
                'BZIP2_ERR_CRC',
                `stream CRC ${hex(combined)} differs from the stored ${hex(crc)}`,
              );
            }
            this.#alignToByte();
            break;
          }
          if (magicHigh !== BLOCK_MAGIC_HIGH || magicLow !== BLOCK_MAGIC_LOW)
            throw this.#error('BZIP2_ERR_DATA', 'bad block magic');
          const length = await this.#decodeBlock();
          const actual = bzip2Crc(this.#ws.out, length);
          if (actual !== crc)
            throw this.#error(
              'BZIP2_ERR_CRC',
              `block CRC ${hex(actual)} differs from the stored ${hex(crc)}`,
            );
          combined = (((combined << 1) | (combined >>> 31)) ^ crc) >>> 0;
          this.#outputBytes += length;
          yield Buffer.from(this.#ws.out.subarray(0, length));
        }
      }
    } catch (error) {
      if (error instanceof Truncated) {
        throw truncatedError(this.#base + this.#buf.length, this.#outputBytes);
      }
      throw error;
    }
  }

  async decodeBlockAt(bytes: Uint8Array, startBit: number, level: number): Promise<DecodedBlock> {
    this.#buf = bytes;
    this.#pos = startBit >>> 3;
    this.#ended = true;
    this.#blockSizeMax = level * 100000;
    if (this.#ws.lastColumn.length < this.#blockSizeMax)
      this.#ws.lastColumn = new Uint8Array(this.#blockSizeMax);
    try {
      if ((startBit & 7) !== 0) this.#bits(startBit & 7);
      const magicHigh = this.#bits(24);
      const magicLow = this.#bits(24);
      const crc = ((this.#bits(16) << 16) | this.#bits(16)) >>> 0;
      this.#checkOverrun();
      if (magicHigh !== BLOCK_MAGIC_HIGH || magicLow !== BLOCK_MAGIC_LOW)
        throw this.#error('BZIP2_ERR_DATA', 'bad block magic');
      const length = await this.#decodeBlock();
      const actual = bzip2Crc(this.#ws.out, length);
      if (actual !== crc)
        throw this.#error('BZIP2_ERR_CRC', `block CRC ${hex(actual)} differs from the stored ${hex(crc)}`);
      return {
        output: this.#ws.out.subarray(0, length),
        endBit: this.#pos * 8 - this.#bitCount,
      };
    } catch (error) {
      if (error instanceof Truncated) {
        throw new DecompressError(
          'BZIP2_ERR_TRUNCATED',
          `bzip2 block runs past the end of its ${bytes.length} bytes`,
          bytes.length,
          0,
        );
      }
      throw error;
    }
  }

  #error(
    code: 'BZIP2_ERR_FORMAT' | 'BZIP2_ERR_DATA' | 'BZIP2_ERR_CRC' | 'BZIP2_ERR_UNSUPPORTED',
    message: string,
  ): Error {
    // Garbage read past a cut input is a truncation, whatever it looked like.
    if (this.#overrun) return new Truncated();
    return new DecompressError(code, message, this.#base + this.#pos, this.#outputBytes);
  }

  #checkOverrun(): void {
    if (this.#overrun) throw new Truncated();
  }

  /** Makes at least `bytes` unread bytes available, unless the input ends first. */
  async #need(bytes: number): Promise<void> {
    let available = this.#buf.length - this.#pos;
    if (available >= bytes || this.#ended) return;
    // Collect first and join once, so that tiny chunks do not make this quadratic.
    const parts: Uint8Array[] = [this.#buf.subarray(Math.min(this.#pos, this.#buf.length))];
    while (available < bytes) {
      const next = await this.#source.next();
      if (next.done === true) {
        this.#ended = true;
        break;
      }
      parts.push(next.value);
      available += next.value.length;
    }
    const joined = new Uint8Array(Math.max(available, 0));
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    this.#base += this.#pos;
    this.#buf = joined;
    this.#pos = 0;
  }

  /** Reads n <= 24 bits, MSB first. Past the end of an ended input it reads zeros. */
  #bits(n: number): number {
    while (this.#bitCount < n) {
      const pos = this.#pos++;
      let byte = 0;
      if (pos < this.#buf.length) byte = this.#buf[pos];
      else this.#overrun = true;
      this.#bitBuf = (this.#bitBuf << 8) | byte;
      this.#bitCount += 8;
    }
    this.#bitCount -= n;
    return (this.#bitBuf >>> this.#bitCount) & ((1 << n) - 1);
  }

  /** Bits consumed so far, counted from the start of #buf. */
  #bitsRead(): number {
    return this.#pos * 8 - this.#bitCount;
  }

  #headerTooLong(): Error {
    return this.#error('BZIP2_ERR_DATA', `block header is longer than ${BZIP2_MAX_HEADER} bytes`);
  }

  /** Drops the bits of a partly read byte and gives back whole buffered bytes. */
  #alignToByte(): void {
    this.#pos -= this.#bitCount >> 3;
    this.#bitCount = 0;
  }

  /** Decodes one block after its magic and CRC; leaves the output in #out, returns its length. */
  async #decodeBlock(): Promise<number> {
    // The bit where the header must end at the latest (the magic and CRC were 80 bits).
    const headerEnd = this.#bitsRead() - 80 + BZIP2_MAX_HEADER * 8;
    if (this.#bits(1) !== 0) {
      throw this.#error('BZIP2_ERR_UNSUPPORTED', 'randomised blocks (bzip2 0.9.0) are not supported');
    }
    const origPtr = this.#bits(24);

    // Symbol map: 16 bits say which 16-byte ranges are used, then 16 bits per used range.
    const ranges = this.#bits(16);
    let inUse = 0;
    for (let i = 0; i < 16; i++) {
      if ((ranges & (0x8000 >>> i)) === 0) continue;
      const used = this.#bits(16);
      for (let j = 0; j < 16; j++)
        if ((used & (0x8000 >>> j)) !== 0) this.#block.seqToUnseq[inUse++] = i * 16 + j;
    }
    if (inUse === 0) throw this.#error('BZIP2_ERR_DATA', 'block uses no symbols');
    const alphaSize = inUse + 2;

    const groups = this.#bits(3);
    if (groups < 2 || groups > MAX_GROUPS)
      throw this.#error('BZIP2_ERR_DATA', `${groups} Huffman groups, expected 2 to 6`);
    const selectorCount = this.#bits(15);
    if (selectorCount < 1) throw this.#error('BZIP2_ERR_DATA', 'no selectors');
    // Selectors are MTF-coded in unary; beyond MAX_SELECTORS they are read and dropped.
    const order = [0, 1, 2, 3, 4, 5];
    const kept = Math.min(selectorCount, MAX_SELECTORS);
    for (let i = 0; i < selectorCount; i++) {
      let j = 0;
      while (this.#bits(1) === 1) {
        if (++j >= groups)
          throw this.#error('BZIP2_ERR_DATA', `selector MTF index ${j} is not below ${groups}`);
      }
      const group = order[j];
      for (; j > 0; j--) order[j] = order[j - 1];
      order[0] = group;
      if (i < kept) this.#block.selectors[i] = group;
    }

    // Code lengths: a 5-bit start, then per symbol "1x" steps (x=0: +1, x=1: -1) ended by "0".
    const lengths = this.#lengths;
    for (let t = 0; t < groups; t++) {
      let current = this.#bits(5);
      for (let symbol = 0; symbol < alphaSize; symbol++) {
        for (;;) {
          if (current < 1 || current > MAX_CODE_LENGTH) {
            throw this.#error('BZIP2_ERR_DATA', `code length ${current} is not 1 to ${MAX_CODE_LENGTH}`);
          }
          if (this.#bitsRead() > headerEnd) throw this.#headerTooLong();
          if (this.#bits(1) === 0) break;
          current += this.#bits(1) === 0 ? 1 : -1;
        }
        lengths[symbol] = current;
      }
      this.#block.tables[t].build(lengths, alphaSize);
    }
    if (this.#bitsRead() > headerEnd) throw this.#headerTooLong();
    this.#checkOverrun();

    const count = await this.#decodeSymbols(alphaSize, kept);
    if (origPtr >= count)
      throw this.#error('BZIP2_ERR_DATA', `BWT origin ${origPtr} is not below the block size ${count}`);
    const ordered = this.#ws.inverseBwt.run(this.#ws.lastColumn, this.#block.counts, origPtr, count);
    if (ordered === undefined)
      throw this.#error('BZIP2_ERR_DATA', 'BWT links do not form a chain through the block');
    return this.#undoInitialRuns(ordered, count);
  }

  /**
   * Huffman-decodes the MTF/RLE2 symbols of a block into lastColumn and counts the bytes;
   * returns the number of entries. The decoding itself is a plain function
   * (decodeSymbolRun): V8 optimises a loop inside an async function less well. It stops
   * for more input only between groups of 50 symbols, where at most 125 bytes are needed.
   */
  async #decodeSymbols(alphaSize: number, selectorCount: number): Promise<number> {
    const block = this.#block;
    block.column = this.#ws.lastColumn;
    block.selectorCount = selectorCount;
    block.limitOut = this.#blockSizeMax;
    block.eob = alphaSize - 1;
    block.start(this.#pos, this.#bitBuf, this.#bitCount);
    for (;;) {
      const status = decodeSymbolRun(block, this.#buf, this.#ended);
      this.#pos = block.pos;
      this.#bitBuf = block.bitBuf;
      this.#bitCount = block.bitCount;
      if (status === SYMBOLS_NEED_INPUT) {
        await this.#need(GROUP_LOOKAHEAD * 64);
        block.pos = this.#pos;
        continue;
      }
      if (block.pos > this.#buf.length) this.#overrun = true;
      if (status === SYMBOLS_NO_SELECTOR)
        throw this.#error('BZIP2_ERR_DATA', 'block needs more selectors than it has');
      if (status === SYMBOLS_BAD_CODE)
        throw this.#error('BZIP2_ERR_DATA', 'bit pattern matches no Huffman code');
      if (status === SYMBOLS_RUN_TOO_LONG) {
        throw this.#error(
          'BZIP2_ERR_DATA',
          `run of ${block.run} bytes exceeds the block size ${block.limitOut}`,
        );
      }
      if (status === SYMBOLS_BLOCK_TOO_LONG)
        throw this.#error('BZIP2_ERR_DATA', `block exceeds its size ${block.limitOut}`);
      this.#checkOverrun();
      return block.nblock;
    }
  }

  /**
   * Expands runs of the first stage (4 equal bytes + a repeat count) into #out. Instead of
   * testing each byte against the one before (a branch the CPU mispredicts on binary
   * data), it looks for the next place where four equal bytes end, skipping ahead by what
   * each unequal pair rules out, and copies the stretch before it in one call.
   */
  #undoInitialRuns(data: Uint8Array, count: number): number {
    let out = this.#ws.out;
    if (out.length < count) out = this.#ws.out = new Uint8Array(count + (count >> 2));
    // Invariant: `out` has room for one byte per input byte still to come, so copies need
    // no check; only a repeat count can outgrow it, and it checks.
    let o = 0;
    // Input before `from` is done; `end` is where the next run of four could end. Every
    // statement of the outer loop runs on its first turn, so that V8's optimised code for
    // the inner loop (compiled while it runs) has type feedback for all of them.
    let from = 0;
    let end = 3;
    for (;;) {
      while (end < count) {
        // A run ending at `end`, `end` + 1 or `end` + 2 contains the pair (end - 1, end).
        if (data[end] !== data[end - 1]) end += 3;
        else if (data[end - 1] !== data[end - 2]) end += 2;
        else if (data[end - 2] !== data[end - 3]) end += 1;
        else break;
      }
      const stop = end < count ? end + 1 : count;
      out.set(data.subarray(from, stop), o);
      o += stop - from;
      // The byte after four equal bytes is a repeat count, not data (and may be missing).
      if (stop >= count) return o;
      const repeat = data[stop];
      if (o + repeat + (count - stop) > out.length) out = this.#grow(o + repeat + (count - stop));
      out.fill(data[end], o, o + repeat);
      o += repeat;
      from = stop + 1;
      end = from + 3;
    }
  }

  #grow(needed: number): Uint8Array {
    const bigger = new Uint8Array(Math.max(needed, this.#ws.out.length * 2));
    bigger.set(this.#ws.out);
    this.#ws.out = bigger;
    return bigger;
  }
}
