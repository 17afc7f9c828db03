// A cursor over one framed PDU. Fields are read in place (big-endian, RFC 8210 §5) and
// byte ranges come back as subarray views: decoding copies nothing.
import { CorruptDataError } from './errors.js';

const empty = Buffer.alloc(0);

export class Reader {
  #buf: Buffer = empty;
  #pos = 0;
  #end = 0;

  /** Points the cursor at `buf[offset, offset + length)`. */
  setBuffer(buf: Buffer, offset: number, length: number): void {
    this.#buf = buf;
    this.#pos = offset;
    this.#end = offset + length;
  }

  /** Drops the buffer reference so a consumed chunk can be collected. */
  clear(): void {
    this.#buf = empty;
    this.#pos = 0;
    this.#end = 0;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  u8(): number {
    if (this.#pos + 1 > this.#end) this.#overrun(1);
    return this.#buf[this.#pos++]!;
  }

  u16(): number {
    if (this.#pos + 2 > this.#end) this.#overrun(2);
    const b = this.#buf;
    const p = this.#pos;
    this.#pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(): number {
    if (this.#pos + 4 > this.#end) this.#overrun(4);
    const b = this.#buf;
    const p = this.#pos;
    this.#pos = p + 4;
    // `>>> 0` keeps values >= 2^31 positive (ASNs and serials are unsigned).
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** The next `n` bytes as a view into the frame. */
  bytes(n: number): Buffer {
    if (this.#pos + n > this.#end) this.#overrun(n);
    const view = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return view;
  }

  skip(n: number): void {
    if (this.#pos + n > this.#end) this.#overrun(n);
    this.#pos += n;
  }

  #overrun(n: number): never {
    throw new CorruptDataError(`PDU ends ${n - this.remaining} byte(s) before a field it declares`);
  }
}
