// Cuts a byte stream into PDUs. Complete PDUs are handed over as views into the chunk
// they arrived in (no copy); only a PDU split across chunks is assembled in a buffer of
// its own, and only after its length field passed the bounds check, so that buffer never
// exceeds `maxPduLength`.
import { CorruptDataError } from './errors.js';
import { DEFAULT_MAX_PDU_LENGTH, HEADER_LENGTH } from './pdu.js';

/** Receives one complete PDU at `buf[offset, offset + length)`; the view is valid only during the call. */
export type FrameHandler = (buf: Buffer, offset: number, length: number) => void;

const empty = Buffer.alloc(0);

export class Framer {
  readonly maxPduLength: number;
  readonly #onFrame: FrameHandler;
  // A PDU split across chunks: its bytes so far, and its length once the header is in.
  #partial: Buffer = empty;
  #have = 0;
  #need = 0;

  constructor(onFrame: FrameHandler, maxPduLength = DEFAULT_MAX_PDU_LENGTH) {
    if (!Number.isInteger(maxPduLength) || maxPduLength < 32 || maxPduLength > 0x7fffffff)
      throw new RangeError(`maxPduLength must be an integer in 32..2^31-1, got ${maxPduLength}`);
    this.maxPduLength = maxPduLength;
    this.#onFrame = onFrame;
  }

  /** Bytes of an incomplete PDU held back. */
  get pending(): number {
    return this.#have;
  }

  /**
   * Feeds a chunk. Calls the handler for every PDU it completes and throws a
   * CorruptDataError for a length field below 8 or above the cap. After a throw (from
   * here or from the handler) the framer must be `reset()` before reuse.
   */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    if (this.#have > 0) {
      pos = this.#completePartial(chunk);
      if (this.#have > 0) return;
    }
    while (end - pos >= HEADER_LENGTH) {
      const length = this.#checkLength(chunk, pos);
      if (end - pos < length) break;
      this.#onFrame(chunk, pos, length);
      pos += length;
    }
    if (pos < end) this.#stash(chunk, pos, end);
  }

  /** The stream ended: throws if it stopped inside a PDU. */
  end(): void {
    if (this.#have > 0) {
      const have = this.#have;
      const header = Uint8Array.prototype.slice.call(this.#partial, 0, Math.min(have, HEADER_LENGTH));
      this.reset();
      throw new CorruptDataError(`stream ended ${have} byte(s) into a PDU`, header);
    }
  }

  reset(): void {
    this.#partial = empty;
    this.#have = 0;
    this.#need = 0;
  }

  #checkLength(buf: Buffer, pos: number): number {
    const length =
      ((buf[pos + 4]! << 24) | (buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) >>> 0;
    if (length < HEADER_LENGTH || length > this.maxPduLength) {
      const header = Uint8Array.prototype.slice.call(buf, pos, pos + HEADER_LENGTH);
      throw new CorruptDataError(
        `PDU length ${length} is outside ${HEADER_LENGTH}..${this.maxPduLength} (type ${buf[pos + 1]})`,
        header,
      );
    }
    return length;
  }

  /** Copies the start of an incomplete PDU; the buffer is sized to the PDU once its length is known. */
  #stash(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n >= HEADER_LENGTH) {
      this.#need = this.#checkLength(chunk, from);
      this.#partial = Buffer.allocUnsafe(this.#need);
    } else {
      this.#need = 0;
      this.#partial = Buffer.allocUnsafe(HEADER_LENGTH);
    }
    chunk.copy(this.#partial, 0, from, to);
    this.#have = n;
  }

  /** Adds bytes from `chunk` to the incomplete PDU; returns how many were used. */
  #completePartial(chunk: Buffer): number {
    let pos = 0;
    if (this.#need === 0) {
      const take = Math.min(HEADER_LENGTH - this.#have, chunk.length);
      chunk.copy(this.#partial, this.#have, 0, take);
      this.#have += take;
      pos = take;
      if (this.#have < HEADER_LENGTH) return pos;
      this.#need = this.#checkLength(this.#partial, 0);
      const grown = Buffer.allocUnsafe(this.#need);
      this.#partial.copy(grown, 0, 0, HEADER_LENGTH);
      this.#partial = grown;
    }
    const take = Math.min(this.#need - this.#have, chunk.length - pos);
    chunk.copy(this.#partial, this.#have, pos, pos + take);
    this.#have += take;
    pos += take;
    if (this.#have === this.#need) {
      const frame = this.#partial;
      const length = this.#need;
      this.reset();
      this.#onFrame(frame, 0, length);
    }
    return pos;
  }
}
