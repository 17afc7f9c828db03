// Cutting a bzip2 stream into blocks that can be decoded apart, as lbzip2 and pbzip2 do.
//
// Blocks are not byte-aligned and carry no length: each starts with the 48-bit magic
// 0x314159265359 and the stream ends with 0x177245385090, at any bit offset. So the input
// is searched for both magics at all eight bit offsets. A hit inside compressed data is
// possible (2^-48 per bit), so a hit is only a candidate: a piece from one block start to
// the next candidate either decodes exactly (the candidate was the real end) or fails, and
// then the caller joins it with the next piece. A real boundary is always a candidate.
//
// A piece is decoded by the ordinary decoder, started at the block's magic (decodeBlockAt);
// it checks the block CRC, and the caller that the block ends exactly where the piece does.
import {
  BLOCK_MAGIC_HIGH,
  BLOCK_MAGIC_LOW,
  decodeBlockAt,
  END_MAGIC_HIGH,
  END_MAGIC_LOW,
  type Bzip2Workspace,
} from './bzip2.js';
import type { DecompressErrorCode } from './errors.js';

/** The bytes a magic occupies when it starts `shift` bits into a byte, with masks. */
interface ShiftedMagic {
  shift: number;
  /** The whole bytes after the first (shift > 0) or from the first (shift 0). */
  needle: Buffer;
  /** Shift > 0: the first byte's low 8 - shift bits and the last byte's high shift bits. */
  firstByte: number;
  firstMask: number;
  lastByte: number;
  lastMask: number;
}

function shiftedMagics(high: number, low: number): ShiftedMagic[] {
  const magic = (BigInt(high) << 24n) | BigInt(low);
  return Array.from({ length: 8 }, (_, shift) => {
    // The magic placed in 7 bytes (56 bits), starting `shift` bits in.
    const placed = magic << BigInt(8 - shift);
    const bytes = Array.from({ length: 7 }, (_, i) => Number((placed >> BigInt(48 - 8 * i)) & 0xffn));
    if (shift === 0) {
      return {
        shift,
        needle: Buffer.from(bytes.slice(0, 6)),
        firstByte: 0,
        firstMask: 0,
        lastByte: 0,
        lastMask: 0,
      };
    }
    return {
      shift,
      needle: Buffer.from(bytes.slice(1, 6)),
      firstByte: bytes[0],
      firstMask: 0xff >>> shift,
      lastByte: bytes[6],
      lastMask: (0xff << (8 - shift)) & 0xff,
    };
  });
}

const MAGICS = [
  ...shiftedMagics(BLOCK_MAGIC_HIGH, BLOCK_MAGIC_LOW),
  ...shiftedMagics(END_MAGIC_HIGH, END_MAGIC_LOW),
];

/** Bytes a magic can span: 6, or 7 when it starts inside a byte. */
export const MAGIC_SPAN = 7;

/**
 * Every bit offset in `data` where a block or end-of-stream magic starts, for starts in
 * bytes [from, to), in ascending order; a start counts only if its whole span lies inside
 * `data`. Which magic it is, the decoder reads there. Native Buffer.indexOf does the
 * searching, one pass per magic and bit offset.
 */
export function findMagics(data: Uint8Array, from: number, to: number): number[] {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.length);
  const hits: number[] = [];
  for (const magic of MAGICS) {
    // The needle starts at the magic's first byte (shift 0) or the one after.
    const lead = magic.shift === 0 ? 0 : 1;
    let at = buffer.indexOf(magic.needle, from + lead);
    while (at !== -1) {
      const start = at - lead;
      if (start >= to) break;
      if (magic.shift === 0) {
        hits.push(start * 8);
      } else if (
        start + 6 < data.length &&
        (data[start] & magic.firstMask) === magic.firstByte &&
        (data[start + 6] & magic.lastMask) === magic.lastByte
      ) {
        hits.push(start * 8 + magic.shift);
      }
      at = buffer.indexOf(magic.needle, at + 1);
    }
  }
  return hits.sort((a, b) => a - b);
}

/** Reads `n` <= 32 bits at bit offset `bit` of `data`, MSB first; missing bits read as 0. */
export function readBits(data: Uint8Array, bit: number, n: number): number {
  let value = 0;
  for (let i = 0; i < n; i++) {
    const at = bit + i;
    const byte = at >>> 3 < data.length ? data[at >>> 3] : 0;
    value = value * 2 + ((byte >>> (7 - (at & 7))) & 1);
  }
  return value;
}

/** One block to decode on its own; positions are bits of `bytes`. */
export interface BlockPiece {
  bytes: Uint8Array;
  /** Where the block magic starts. */
  startBit: number;
  /** The stream's block size digit, 1 to 9. */
  level: number;
}

export interface PieceFailure {
  code: DecompressErrorCode;
  message: string;
  /** Byte in `bytes` near which decoding failed. */
  offset: number;
}

export interface PieceResult {
  /** The block's output, when it decoded (checked against its CRC). */
  output?: Uint8Array;
  /** With the output: the bit of `bytes` just after the block. */
  endBit?: number;
  failure?: PieceFailure;
}

/**
 * Decodes the block of a piece. Whether it ends where the piece does is for the caller to
 * check: a piece cut at a false magic fails or ends elsewhere. The output is copied into
 * `take(length)`, by default new memory.
 */
export async function decodePiece(
  piece: BlockPiece,
  workspace: Bzip2Workspace,
  take: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): Promise<PieceResult> {
  try {
    const block = await decodeBlockAt(piece.bytes, piece.startBit, piece.level, workspace);
    const output = take(block.output.length);
    output.set(block.output);
    return { output, endBit: block.endBit };
  } catch (error) {
    const fault = error as { code?: DecompressErrorCode; message?: string; inputOffset?: number };
    return {
      failure: {
        code: fault.code ?? 'BZIP2_ERR_DATA',
        message: fault.message ?? String(error),
        offset: fault.inputOffset ?? 0,
      },
    };
  }
}
