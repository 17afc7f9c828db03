// Streaming reader for rpki-client and Routinator JSON ({"roas": [{"asn", "prefix",
// "maxLength", "ta", "expires"}, ...], ...}). It scans bytes as they arrive and turns
// only the fields of each ROA into numbers; the rest of the document (metadata, ASPA,
// router keys) is checked for balance and skipped. A ROA cut by a chunk boundary is
// re-read once the next chunk is in, so memory holds one chunk plus one ROA. A token, a ROA
// object or a value nested deeper than the limits below is refused with its line: a
// hostile file costs at most about one chunk plus the token limit.
import { parseAsn } from '../asn.js';
import { AsnError, RovError, VrpFileError } from '../errors.js';
import { parsePrefixBytes } from '../prefix.js';
import { checkMaxLength } from '../vrp.js';
import { quoteInput, safeMessage } from './quote.js';
import type { VrpFileReader, VrpSink } from './vrp-sink.js';

/** Deepest nesting of arrays and objects accepted in the values that are skipped. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

const KEY_ASN = Buffer.from('asn');
const KEY_PREFIX = Buffer.from('prefix');
const KEY_MAX_LENGTH = Buffer.from('maxLength');
const KEY_TA = Buffer.from('ta');
const KEY_EXPIRES = Buffer.from('expires');

// indexOf for the short strings of a ROA: a plain loop beats the native call's setup.
function quoteAfter(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) if (buf[i] === QUOTE) return i;
  return -1;
}

function keyIs(buf: Buffer, start: number, end: number, key: Buffer): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[start + i] !== key[i]) return false;
  return true;
}

// Thrown (never escapes the reader) when the buffer ends inside a token.
const NEED_MORE = Symbol('need more input');

// Newlines passed by skipSpace since the caller last reset it (for line numbers).
let skippedLines = 0;

// The first index at or after `i` that is not JSON white space (buf.length if none). A
// plain function on locals rather than a method on the reader's fields: after a full GC
// deoptimised them, V8 re-optimised the method version of the ROA loop without inlining
// its small helpers, and reloads ran 4x slower than the first load.
function skipSpace(buf: Buffer, i: number): number {
  const n = buf.length;
  while (i < n) {
    const c = buf[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0d) i++;
    else if (c === NEWLINE) {
      skippedLines++;
      i++;
    } else break;
  }
  return i;
}

const enum State {
  BeforeRoot,
  RootKey,
  RootKeyOrEnd,
  RoasOpen,
  RoaOrEnd,
  Roa,
  AfterRoa,
  SkipValue,
  AfterRootValue,
  Done,
}

export class JsonVrpReader implements VrpFileReader {
  count = 0;
  readonly #file: string;
  readonly #sink: VrpSink;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #line = 1;
  #state = State.BeforeRoot;
  #sawRoas = false;
  // Resumable skipping of values we do not read.
  #skipClosers: number[] = [];
  #skipInString = false;
  #skipEscaped = false;
  readonly #words = new Uint32Array(4);
  readonly #taCache = new Map<string, number>();
  #lastTa: Buffer = Buffer.alloc(0);
  #lastTaIndex = 0;
  #rangeEnd = 0;
  // Where to resume when a token is cut by the end of a chunk.
  #markPos = 0;
  #markLine = 1;
  // Bytes of the string being skipped so far (it may span chunks).
  #skipStringBytes = 0;
  readonly #limit: number;

  /** `limit`: the longest token (string, number) or ROA object accepted, in bytes. */
  constructor(file: string, sink: VrpSink, limit: number, firstLine = 1) {
    this.#file = file;
    this.#sink = sink;
    this.#limit = limit;
    this.#line = firstLine;
    this.#markLine = firstLine;
  }

  push(chunk: Buffer): void {
    this.#buf = this.#pos < this.#buf.length ? Buffer.concat([this.#buf.subarray(this.#pos), chunk]) : chunk;
    this.#pos = 0;
    this.#run();
    this.#checkHeld();
  }

  // What is held for the next chunk is blanks (dropped here, their lines counted, so that a
  // run of them is never held) and the start of one token or ROA: over the limit, that
  // token is too, so it is refused now instead of growing with the input.
  #checkHeld(): void {
    const buf = this.#buf;
    let i = this.#pos;
    while (i < buf.length) {
      const c = buf[i]!;
      if (c === NEWLINE) this.#line++;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
      i++;
    }
    this.#pos = i;
    if (buf.length - i > this.#limit) throw this.#tooLong(this.#line);
  }

  #tooLong(line: number): VrpFileError {
    const near = this.#buf.toString('latin1', this.#pos, Math.min(this.#buf.length, this.#pos + 25));
    return new VrpFileError(
      this.#file,
      line,
      `a token or ROA object longer than the limit of ${this.#limit} bytes (starting ${quoteInput(near, 24)})`,
    );
  }

  end(): void {
    this.#run();
    this.#skipWhitespace(false);
    if (this.#state !== State.Done) throw this.#error('the file ends before the JSON document does');
    if (this.#pos < this.#buf.length) throw this.#error('unexpected data after the JSON document');
    if (!this.#sawRoas) throw this.#error('no "roas" array found');
  }

  #run(): void {
    for (;;) {
      this.#markPos = this.#pos;
      this.#markLine = this.#line;
      try {
        if (!this.#step()) return;
      } catch (error) {
        if (error !== NEED_MORE) throw error;
        this.#pos = this.#markPos;
        this.#line = this.#markLine;
        return;
      }
    }
  }

  // One state transition; false when the input is used up in a resting state.
  #step(): boolean {
    switch (this.#state) {
      case State.BeforeRoot:
        if (!this.#skipWhitespace(false)) return false;
        this.#expect(OPEN_BRACE, 'the document must be a JSON object');
        this.#state = State.RootKeyOrEnd;
        return true;
      case State.RootKeyOrEnd:
        this.#skipWhitespace(true);
        if (this.#peek() === CLOSE_BRACE) {
          this.#pos++;
          this.#state = State.Done;
          return true;
        }
        this.#state = State.RootKey;
        return true;
      case State.RootKey: {
        this.#skipWhitespace(true);
        const key = this.#readString();
        this.#skipWhitespace(true);
        this.#expect(COLON, 'expected ":" after a key');
        if (key === 'roas') {
          this.#sawRoas = true;
          this.#state = State.RoasOpen;
        } else {
          this.#skipClosers.length = 0;
          this.#skipInString = false;
          this.#skipEscaped = false;
          this.#state = State.SkipValue;
        }
        return true;
      }
      case State.RoasOpen:
        this.#skipWhitespace(true);
        this.#expect(OPEN_BRACKET, '"roas" must be an array');
        this.#state = State.RoaOrEnd;
        return true;
      case State.RoaOrEnd:
        this.#skipWhitespace(true);
        if (this.#peek() === CLOSE_BRACKET) {
          this.#pos++;
          this.#state = State.AfterRootValue;
        } else this.#state = State.Roa;
        return true;
      case State.Roa:
        this.#readRoas();
        return true;
      case State.AfterRoa: {
        this.#skipWhitespace(true);
        const c = this.#next();
        if (c === COMMA) this.#state = State.Roa;
        else if (c === CLOSE_BRACKET) this.#state = State.AfterRootValue;
        else throw this.#error('expected "," or "]" after a ROA');
        return true;
      }
      case State.SkipValue:
        if (!this.#skipValueResumable()) return false;
        this.#state = State.AfterRootValue;
        return true;
      case State.AfterRootValue: {
        this.#skipWhitespace(true);
        const c = this.#next();
        if (c === COMMA) this.#state = State.RootKey;
        else if (c === CLOSE_BRACE) this.#state = State.Done;
        else throw this.#error('expected "," or "}" after a value');
        return true;
      }
      case State.Done:
        this.#skipWhitespace(false);
        if (this.#pos < this.#buf.length) throw this.#error('unexpected data after the JSON document');
        return false;
    }
  }

  // ---------------------------------------------------------------- a ROA

  // ROAs and the commas between them, up to the "]" of the array. The mark moves past each
  // ROA once it is added, so a cut chunk re-reads only the ROA that was cut.
  #readRoas(): void {
    const buf = this.#buf;
    for (;;) {
      skippedLines = 0;
      let i = skipSpace(buf, this.#pos);
      if (i >= buf.length) throw NEED_MORE;
      this.#line += skippedLines;
      this.#pos = i;
      this.#readRoa();
      this.#state = State.AfterRoa;
      this.#markPos = this.#pos;
      this.#markLine = this.#line;
      skippedLines = 0;
      i = skipSpace(buf, this.#pos);
      if (i >= buf.length) throw NEED_MORE;
      this.#line += skippedLines;
      const c = buf[i]!;
      if (c === COMMA) {
        this.#pos = i + 1;
        this.#state = State.Roa;
        this.#markPos = this.#pos;
        this.#markLine = this.#line;
      } else if (c === CLOSE_BRACKET) {
        this.#pos = i + 1;
        this.#state = State.AfterRootValue;
        return;
      } else {
        this.#pos = i;
        throw this.#error('expected "," or "]" after a ROA');
      }
    }
  }

  // One ROA object, #pos at its "{". Reads on locals; the value readers take over at #pos.
  #readRoa(): void {
    const buf = this.#buf;
    const n = buf.length;
    const line = this.#line;
    let i = this.#pos;
    const roaStart = i;
    if (buf[i] !== OPEN_BRACE) throw this.#error('each entry of "roas" must be an object');
    let asn = -1;
    let prefixCode = -1;
    let prefixStart = 0;
    let prefixEnd = 0;
    let maxLength: number | undefined;
    let ta = 0;
    let expires = 0;
    skippedLines = 0;
    i = skipSpace(buf, i + 1);
    if (i >= n) throw NEED_MORE;
    if (buf[i] === CLOSE_BRACE) i++;
    else {
      for (;;) {
        if (buf[i] !== QUOTE) {
          this.#pos = i;
          throw this.#error('expected a key');
        }
        const keyStart = i + 1;
        const keyEnd = quoteAfter(buf, keyStart);
        if (keyEnd < 0) throw NEED_MORE;
        i = skipSpace(buf, keyEnd + 1);
        if (i >= n) throw NEED_MORE;
        if (buf[i] !== COLON) {
          this.#pos = i;
          throw this.#error('expected ":" after a key');
        }
        i = skipSpace(buf, i + 1);
        if (i >= n) throw NEED_MORE;
        this.#pos = i;
        if (keyIs(buf, keyStart, keyEnd, KEY_ASN)) {
          asn = this.#readAsn(line);
        } else if (keyIs(buf, keyStart, keyEnd, KEY_PREFIX)) {
          prefixStart = this.#readPlainRange();
          prefixEnd = this.#rangeEnd;
          try {
            prefixCode = parsePrefixBytes(buf, prefixStart, prefixEnd, this.#words);
          } catch (error) {
            throw this.#wrap(error, line);
          }
        } else if (keyIs(buf, keyStart, keyEnd, KEY_MAX_LENGTH)) {
          maxLength = this.#readInteger('maxLength');
        } else if (keyIs(buf, keyStart, keyEnd, KEY_TA)) {
          ta = this.#readTa();
        } else if (keyIs(buf, keyStart, keyEnd, KEY_EXPIRES)) {
          expires = this.#readInteger('expires');
        } else {
          const lines = skippedLines;
          this.#skipValueWhole();
          skippedLines = lines;
        }
        i = skipSpace(buf, this.#pos);
        if (i >= n) throw NEED_MORE;
        const c = buf[i++]!;
        if (c === CLOSE_BRACE) break;
        if (c !== COMMA) {
          this.#pos = i - 1;
          throw this.#error('expected "," or "}" in a ROA');
        }
        i = skipSpace(buf, i);
        if (i >= n) throw NEED_MORE;
      }
    }
    if (i - roaStart > this.#limit) {
      this.#pos = roaStart;
      throw this.#tooLong(line);
    }
    this.#pos = i;
    this.#line += skippedLines;
    if (prefixCode < 0) throw this.#error('ROA without "prefix"', line);
    if (asn < 0)
      throw this.#error(`ROA ${buf.toString('latin1', prefixStart, prefixEnd)} without "asn"`, line);
    const length = prefixCode & 255;
    const family = prefixCode >= 256 ? 6 : 4;
    try {
      const familyMax = family === 4 ? 32 : 128;
      const max =
        maxLength !== undefined && maxLength >= length && maxLength <= familyMax
          ? maxLength
          : checkMaxLength(
              buf.toString('latin1', prefixStart, prefixEnd),
              length,
              familyMax,
              maxLength ?? length,
            );
      const w = this.#words;
      this.#sink.addRaw(family, w[0]!, w[1]!, w[2]!, w[3]!, length, max, asn, ta, expires);
    } catch (error) {
      throw this.#wrap(error, line);
    }
    this.count++;
  }

  // 64496, "64496" or "AS64496" (Routinator writes the last), read off the bytes.
  #readAsn(line: number): number {
    const buf = this.#buf;
    if (buf[this.#pos] !== QUOTE) return this.#checkedAsn(this.#readInteger('asn'), line);
    const start = this.#pos + 1;
    const end = quoteAfter(buf, start);
    if (end < 0) throw NEED_MORE;
    let i = start;
    if (end - i > 2 && (buf[i]! | 32) === 0x61 && (buf[i + 1]! | 32) === 0x73) i += 2;
    let value = 0;
    const digits = end - i;
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
    }
    if (i !== end || digits === 0 || digits > 10 || (digits > 1 && buf[end - digits] === 48)) {
      try {
        parseAsn(buf.toString('latin1', start, end));
      } catch (error) {
        throw this.#wrap(error, line);
      }
    }
    this.#pos = end + 1;
    return this.#checkedAsn(value, line);
  }

  #checkedAsn(value: number, line: number): number {
    if (value > 0xffffffff)
      throw this.#wrap(new AsnError(`invalid AS number ${value}: exceeds 4294967295`), line);
    return value;
  }

  // A non-negative integer; fractions, exponents and signs are refused by name.
  #readInteger(field: string): number {
    const buf = this.#buf;
    let i = this.#pos;
    let value = 0;
    const start = i;
    while (i < buf.length) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      i++;
    }
    if (i === buf.length) throw NEED_MORE;
    const c = buf[i]!;
    if (i === start || c === 0x2e || c === 0x65 || c === 0x45 || i - start > 16) {
      let end = i;
      while (end < buf.length && end - i < 20 && buf[end] !== COMMA && buf[end] !== CLOSE_BRACE) end++;
      throw this.#error(
        `"${field}" must be a non-negative integer, got ${quoteInput(buf.toString('latin1', start, end).trim())}`,
      );
    }
    this.#pos = i;
    return value;
  }

  // The bytes of a string that has no escapes (a prefix never has any): returns the
  // start, leaves the end in #rangeEnd.
  #readPlainRange(): number {
    const buf = this.#buf;
    if (buf[this.#pos] !== QUOTE) throw this.#error('expected a string');
    const start = this.#pos + 1;
    const end = quoteAfter(buf, start);
    if (end < 0) throw NEED_MORE;
    for (let i = start; i < end; i++) {
      if (buf[i] === BACKSLASH) throw this.#error('unexpected escape in a prefix');
    }
    this.#pos = end + 1;
    this.#rangeEnd = end;
    return start;
  }

  // The trust anchor name: the same few names repeat, so the last one's bytes are
  // compared before a string is made.
  #readTa(): number {
    const buf = this.#buf;
    if (buf[this.#pos] === QUOTE) {
      const start = this.#pos + 1;
      const end = quoteAfter(buf, start);
      if (end < 0) throw NEED_MORE;
      const last = this.#lastTa;
      if (last.length === end - start) {
        let i = 0;
        while (i < last.length && last[i] === buf[start + i]) i++;
        if (i === last.length) {
          this.#pos = end + 1;
          return this.#lastTaIndex;
        }
      }
    }
    const name = this.#readPlainString();
    let index = this.#taCache.get(name);
    if (index === undefined) {
      index = this.#sink.internTa(name);
      this.#taCache.set(name, index);
    }
    this.#lastTa = Buffer.from(name, 'latin1');
    this.#lastTaIndex = index;
    return index;
  }

  // A string without escapes (prefixes, AS numbers, TA names never need them).
  #readPlainString(): string {
    const buf = this.#buf;
    this.#expect(QUOTE, 'expected a string');
    const start = this.#pos;
    const end = buf.indexOf(QUOTE, start);
    if (end < 0) throw NEED_MORE;
    for (let i = start; i < end; i++) {
      if (buf[i] === BACKSLASH) {
        this.#pos = start - 1;
        return this.#readString();
      }
    }
    this.#pos = end + 1;
    return buf.toString('latin1', start, end);
  }

  // Any JSON string, escapes included (rare: keys of skipped members).
  #readString(): string {
    const buf = this.#buf;
    this.#expect(QUOTE, 'expected a string');
    const start = this.#pos - 1;
    let i = this.#pos;
    for (;;) {
      if (i >= buf.length) throw NEED_MORE;
      if (i - start >= this.#limit) {
        this.#pos = start;
        throw this.#tooLong(this.#line);
      }
      const c = buf[i]!;
      if (c === BACKSLASH) i += 2;
      else if (c === QUOTE) break;
      else if (c < 0x20) throw this.#error('control character inside a string');
      else i++;
    }
    this.#pos = i + 1;
    try {
      return JSON.parse(buf.toString('utf8', start, i + 1)) as string;
    } catch {
      throw this.#error('invalid string escape');
    }
  }

  // --------------------------------------------------------- skipping

  // Skips one complete value inside a ROA (throws NEED_MORE if it is not all here).
  #skipValueWhole(): void {
    this.#skipClosers.length = 0;
    this.#skipInString = false;
    this.#skipEscaped = false;
    if (!this.#skipValueResumable()) throw NEED_MORE;
  }

  // Skips a value, keeping its progress across chunks; true once it is complete.
  #skipValueResumable(): boolean {
    const buf = this.#buf;
    const closers = this.#skipClosers;
    if (closers.length === 0 && !this.#skipInString) {
      if (!this.#skipWhitespace(false)) return false;
      const c = buf[this.#pos]!;
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        closers.push(c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
        this.#pos++;
      } else if (c === QUOTE) {
        this.#skipInString = true;
        this.#skipStringBytes = 0;
        this.#pos++;
      } else {
        // A number, true, false or null: small, so read it whole.
        let i = this.#pos;
        while (i < buf.length && /[0-9a-zA-Z+\-.]/.test(String.fromCharCode(buf[i]!))) {
          if (++i - this.#pos > this.#limit) throw this.#tooLong(this.#line);
        }
        if (i === buf.length) throw NEED_MORE;
        const literal = buf.toString('latin1', this.#pos, i);
        if (!/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(literal)) {
          throw this.#error(`invalid JSON value ${quoteInput(literal)}`);
        }
        this.#pos = i;
        return true;
      }
    }
    let i = this.#pos;
    const limit = this.#limit;
    while (i < buf.length) {
      const c = buf[i++]!;
      if (this.#skipInString) {
        if (++this.#skipStringBytes >= limit) {
          this.#pos = i - 1;
          throw this.#tooLong(this.#line);
        }
        if (this.#skipEscaped) this.#skipEscaped = false;
        else if (c === BACKSLASH) this.#skipEscaped = true;
        else if (c === QUOTE) {
          this.#skipInString = false;
          if (closers.length === 0) {
            this.#pos = i;
            return true;
          }
        }
      } else if (c === QUOTE) {
        this.#skipInString = true;
        this.#skipStringBytes = 0;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (closers.length >= MAX_JSON_DEPTH) {
          this.#pos = i - 1;
          throw this.#error(`arrays and objects nested deeper than ${MAX_JSON_DEPTH} levels`);
        }
        closers.push(c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (closers.pop() !== c) {
          this.#pos = i - 1;
          throw this.#error(`unbalanced "${String.fromCharCode(c)}"`);
        }
        if (closers.length === 0) {
          this.#pos = i;
          return true;
        }
      } else if (c === NEWLINE) this.#line++;
    }
    this.#pos = i;
    return false;
  }

  // ---------------------------------------------------------------- bytes

  // Skips white space, counting lines. With `needMore`, running out of input throws
  // NEED_MORE; otherwise it returns false.
  #skipWhitespace(needMore: boolean): boolean {
    const buf = this.#buf;
    let i = this.#pos;
    while (i < buf.length) {
      const c = buf[i]!;
      if (c === 0x20 || c === 0x09 || c === 0x0d) i++;
      else if (c === NEWLINE) {
        this.#line++;
        i++;
      } else break;
    }
    this.#pos = i;
    if (i < buf.length) return true;
    if (needMore) throw NEED_MORE;
    return false;
  }

  #peek(): number {
    if (this.#pos >= this.#buf.length) throw NEED_MORE;
    return this.#buf[this.#pos]!;
  }

  #next(): number {
    if (this.#pos >= this.#buf.length) throw NEED_MORE;
    return this.#buf[this.#pos++]!;
  }

  #expect(byte: number, message: string): void {
    if (this.#next() !== byte) {
      this.#pos--;
      throw this.#error(message);
    }
  }

  #error(reason: string, line = this.#line): VrpFileError {
    const near = this.#buf
      .toString('latin1', this.#pos, Math.min(this.#buf.length, this.#pos + 24))
      .split('\n')[0];
    return new VrpFileError(this.#file, line, near ? `${reason} (near ${quoteInput(near, 24)})` : reason);
  }

  #wrap(error: unknown, line: number): unknown {
    if (error instanceof RovError && !(error instanceof VrpFileError)) {
      return new VrpFileError(this.#file, line, safeMessage(error.message), { cause: error });
    }
    return error;
  }
}
