// Frames a BMP byte stream into messages (RFC 7854 section 4.1: version (1), message
// length (4, the whole message), type (1)). Whole messages are handed out in place from
// the chunk they arrived in; only a message split across chunks is copied, into one
// buffer that never grows beyond the length limit, so a session's memory is bounded.
import { BmpError } from './errors.js';

export const BMP_VERSION = 3;
export const BMP_HEADER_LENGTH = 6;

/** Receives one whole message: header at `start`, ending at `end`. */
export type MessageHandler = (buf: Uint8Array, start: number, end: number) => void;

export class BmpFramer {
  readonly #maxLength: number;
  #pending = new Uint8Array(4096);
  #pendingLength = 0;
  #pendingTotal = BMP_HEADER_LENGTH;
  /** Stream offset of the message being handled (or of the next one): for error reports. */
  offset = 0;

  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  /** Bytes held for a message that is not complete yet. */
  get buffered(): number {
    return this.#pendingLength;
  }

  push(chunk: Uint8Array, onMessage: MessageHandler): void {
    let p = 0;
    const n = chunk.length;
    if (this.#pendingLength > 0) {
      p = this.#fill(chunk, 0, onMessage);
      if (this.#pendingLength > 0) return;
    }
    while (n - p >= BMP_HEADER_LENGTH) {
      const total = this.#messageLength(chunk, p);
      if (n - p < total) break;
      onMessage(chunk, p, p + total);
      this.offset += total;
      p += total;
    }
    if (p < n) {
      this.#pendingTotal = BMP_HEADER_LENGTH;
      this.#fill(chunk, p, onMessage);
    }
  }

  #messageLength(buf: Uint8Array, p: number): number {
    const type = buf[p + 5];
    if (buf[p] !== BMP_VERSION) {
      throw new BmpError(
        'BMP_ERR_VERSION',
        this.offset,
        `BMP version ${buf[p]}, only version 3 is supported`,
        type,
      );
    }
    const length = ((buf[p + 1] << 24) | (buf[p + 2] << 16) | (buf[p + 3] << 8) | buf[p + 4]) >>> 0;
    if (length < BMP_HEADER_LENGTH) {
      throw new BmpError(
        'BMP_ERR_MALFORMED',
        this.offset,
        `message length ${length} is shorter than the header`,
        type,
      );
    }
    if (length > this.#maxLength) {
      throw new BmpError(
        'BMP_ERR_TOO_LARGE',
        this.offset,
        `message length ${length} exceeds the limit of ${this.#maxLength}`,
        type,
      );
    }
    return length;
  }

  /** Moves bytes from chunk[p..] into the pending message; hands it out when complete. */
  #fill(chunk: Uint8Array, p: number, onMessage: MessageHandler): number {
    if (this.#pendingLength < BMP_HEADER_LENGTH) {
      const take = Math.min(BMP_HEADER_LENGTH - this.#pendingLength, chunk.length - p);
      this.#pending.set(chunk.subarray(p, p + take), this.#pendingLength);
      this.#pendingLength += take;
      p += take;
      if (this.#pendingLength < BMP_HEADER_LENGTH) return p;
      const total = this.#messageLength(this.#pending, 0);
      if (this.#pending.length < total) {
        const bigger = new Uint8Array(Math.min(this.#maxLength, Math.max(total, this.#pending.length * 2)));
        bigger.set(this.#pending.subarray(0, BMP_HEADER_LENGTH));
        this.#pending = bigger;
      }
      this.#pendingTotal = total;
    }
    const take = Math.min(this.#pendingTotal - this.#pendingLength, chunk.length - p);
    this.#pending.set(chunk.subarray(p, p + take), this.#pendingLength);
    this.#pendingLength += take;
    p += take;
    if (this.#pendingLength === this.#pendingTotal) {
      this.#pendingLength = 0;
      onMessage(this.#pending, 0, this.#pendingTotal);
      this.offset += this.#pendingTotal;
    }
    return p;
  }
}
