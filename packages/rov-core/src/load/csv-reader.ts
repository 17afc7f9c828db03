// Streaming reader for the CSV that Routinator (`ASN,IP Prefix,Max Length,Trust Anchor`)
// and rpki-client (`...,Expires`) write. Lines are split as they arrive; a header line
// is recognised by its first field. A line longer than the limit is refused as soon as
// that many bytes of it are in, so a file without newlines costs one chunk plus the limit.
import { parseAsn } from '../asn.js';
import { RovError, VrpFileError } from '../errors.js';
import { parsePrefixInto } from '../prefix.js';
import { checkMaxLength } from '../vrp.js';
import { quoteInput, safeMessage } from './quote.js';
import type { VrpFileReader, VrpSink } from './vrp-sink.js';

export class CsvVrpReader implements VrpFileReader {
  count = 0;
  readonly #file: string;
  readonly #sink: VrpSink;
  #rest = '';
  #line = 0;
  #sawLine = false;
  readonly #words = new Uint32Array(4);
  readonly #taCache = new Map<string, number>();
  readonly #limit: number;

  /** `limit`: the longest line accepted, in bytes before the newline. */
  constructor(file: string, sink: VrpSink, limit: number, firstLine = 1) {
    this.#file = file;
    this.#sink = sink;
    this.#limit = limit;
    this.#line = firstLine - 1;
  }

  push(chunk: Buffer): void {
    const text = this.#rest + chunk.toString('latin1');
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      if (end - start > this.#limit) this.#tooLong(this.#line + 1, text, start);
      this.#readLine(text, start, end);
      start = end + 1;
    }
    if (text.length - start > this.#limit) this.#tooLong(this.#line + 1, text, start);
    this.#rest = text.slice(start);
  }

  #tooLong(line: number, text: string, start: number): never {
    throw new VrpFileError(
      this.#file,
      line,
      `a line longer than the limit of ${this.#limit} bytes (starting ${quoteInput(text.slice(start, start + 40), 40)})`,
    );
  }

  end(): void {
    if (this.#rest.length > 0) this.#readLine(this.#rest, 0, this.#rest.length);
    this.#rest = '';
  }

  #readLine(text: string, start: number, end: number): void {
    this.#line++;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    if (end === start) return;
    const fields = text.slice(start, end).split(',');
    const first = fields[0]!.trim();
    const isFirst = !this.#sawLine;
    this.#sawLine = true;
    if (isFirst && /^asn$/i.test(first)) return; // header
    if (fields.length < 3) {
      throw new VrpFileError(
        this.#file,
        this.#line,
        `expected ASN,IP Prefix,Max Length[,Trust Anchor[,Expires]], got ${quoteInput(text.slice(start, end))}`,
      );
    }
    try {
      const asn = parseAsn(first);
      const prefix = fields[1]!.trim();
      const code = parsePrefixInto(prefix, this.#words);
      const length = code & 255;
      const family = code >= 256 ? 6 : 4;
      const maxText = fields[2]!.trim();
      const maxLength = checkMaxLength(
        prefix,
        length,
        family === 4 ? 32 : 128,
        /^\d{1,3}$/.test(maxText) ? Number(maxText) : maxText,
      );
      let ta = 0;
      const taName = fields[3]?.trim();
      if (taName) {
        let index = this.#taCache.get(taName);
        if (index === undefined) {
          index = this.#sink.internTa(taName);
          this.#taCache.set(taName, index);
        }
        ta = index;
      }
      let expires = 0;
      const expiresText = fields[4]?.trim();
      if (expiresText) {
        if (!/^\d{1,10}$/.test(expiresText) || Number(expiresText) > 0xffffffff) {
          throw new VrpFileError(this.#file, this.#line, `invalid Expires ${quoteInput(expiresText)}`);
        }
        expires = Number(expiresText);
      }
      const w = this.#words;
      this.#sink.addRaw(family, w[0]!, w[1]!, w[2]!, w[3]!, length, maxLength, asn, ta, expires);
      this.count++;
    } catch (error) {
      if (error instanceof RovError && !(error instanceof VrpFileError)) {
        throw new VrpFileError(this.#file, this.#line, safeMessage(error.message), { cause: error });
      }
      throw error;
    }
  }
}
