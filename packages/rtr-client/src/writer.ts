// A growable output buffer for PDUs. `begin()` reserves the 8-byte header and `end()`
// fills in the length once the body is written, so variable-length PDUs (Router Key,
// Error Report, ASPA) need no size pre-computation.
export class Writer {
  #buf: Buffer;
  #pos = 0;
  #pduStart = -1;

  constructor(capacity = 1024) {
    this.#buf = Buffer.allocUnsafe(Math.max(16, capacity));
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    // Grow by ~1.5x so that building a 424k-PDU stream copies O(n) bytes in total.
    const next = Buffer.allocUnsafe(Math.max(need, Math.floor(this.#buf.length * 1.5)));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** Starts a PDU: version, type, the 16-bit header field, and a length filled in by `end()`. */
  begin(version: number, type: number, field: number): this {
    this.#ensure(8);
    const b = this.#buf;
    const p = this.#pos;
    this.#pduStart = p;
    b[p] = version & 0xff;
    b[p + 1] = type & 0xff;
    b[p + 2] = (field >>> 8) & 0xff;
    b[p + 3] = field & 0xff;
    this.#pos = p + 8;
    return this;
  }

  end(): this {
    const start = this.#pduStart;
    if (start < 0) throw new Error('Writer.end() without begin()');
    this.#buf.writeUInt32BE(this.#pos - start, start + 4);
    this.#pduStart = -1;
    return this;
  }

  u8(value: number): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = value & 0xff;
    return this;
  }

  u32(value: number): this {
    this.#ensure(4);
    this.#buf.writeUInt32BE(value >>> 0, this.#pos);
    this.#pos += 4;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.#ensure(data.length);
    this.#buf.set(data, this.#pos);
    this.#pos += data.length;
    return this;
  }

  /** Returns what was written and starts over with a fresh buffer (the result is not shared). */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#pos);
    this.#buf = Buffer.allocUnsafe(Math.min(Math.max(16, this.#buf.length), 4096));
    this.#pos = 0;
    this.#pduStart = -1;
    return out;
  }
}
