// Reading a VRP file from disk: gzip is recognised by its magic bytes, the format
// (JSON or CSV) by the first non-blank byte; both are streamed.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { VrpFileError } from '../errors.js';
import { VrpTable } from '../vrp-table.js';
import { CsvVrpReader } from './csv-reader.js';
import { JsonVrpReader } from './json-reader.js';
import type { VrpFileReader, VrpSink } from './vrp-sink.js';

export type VrpFileFormat = 'json' | 'csv';

export interface LoadVrpOptions {
  /** Table to add to (default: a new one). */
  table?: VrpTable;
  /** Force a format instead of detecting it. */
  format?: VrpFileFormat;
  /**
   * The longest JSON token (string, number) or ROA object, or CSV line, in bytes (default
   * DEFAULT_VRP_TOKEN_LIMIT). Longer is refused with the line, before more is read.
   */
  tokenLimit?: number;
}

/** 64 KiB: a ROA object or CSV line is about 100 bytes; real files never come near. */
export const DEFAULT_VRP_TOKEN_LIMIT = 65_536;

export interface LoadVrpResult {
  table: VrpTable;
  /** VRP rows read (a VRP listed twice counts twice here, once in table.size). */
  count: number;
  format: VrpFileFormat;
  compressed: boolean;
}

const CHUNK = 1 << 20;

/** Reads an rpki-client/Routinator JSON or CSV VRP file, gzipped or not. */
export async function loadVrpFile(path: string, options: LoadVrpOptions = {}): Promise<LoadVrpResult> {
  const table = options.table ?? new VrpTable();
  const loader = new VrpStreamLoader(path, table, options.format, options.tokenLimit);
  const input = createReadStream(path, { highWaterMark: CHUNK });
  try {
    for await (const chunk of input) loader.push(chunk as Buffer);
  } catch (error) {
    if (error instanceof VrpFileError) throw error;
    throw new VrpFileError(path, undefined, `cannot read: ${(error as Error).message}`, { cause: error });
  } finally {
    input.destroy();
  }
  await loader.end();
  return { table, count: loader.count, format: loader.format ?? 'json', compressed: loader.compressed };
}

/** Reads a whole VRP file held in memory (gzipped or not). */
export async function loadVrpBuffer(
  name: string,
  data: Buffer,
  options: LoadVrpOptions = {},
): Promise<LoadVrpResult> {
  const table = options.table ?? new VrpTable();
  const loader = new VrpStreamLoader(name, table, options.format, options.tokenLimit);
  loader.push(data);
  await loader.end();
  return { table, count: loader.count, format: loader.format ?? 'json', compressed: loader.compressed };
}

/**
 * Push-based loader: feed raw (possibly gzipped) bytes, then await end(). Used by the
 * file and buffer loaders and by callers with their own byte source.
 */
export class VrpStreamLoader {
  format: VrpFileFormat | undefined;
  compressed = false;
  readonly #name: string;
  readonly #sink: VrpSink;
  #reader: VrpFileReader | undefined;
  #gunzip: ReturnType<typeof createGunzip> | undefined;
  #gunzipError: unknown;
  #gunzipDone: Promise<void> | undefined;
  #started = false;
  #head: Buffer = Buffer.alloc(0);
  // Lines passed in the blanks before the first token (the blanks themselves are dropped).
  #blankLines = 0;
  readonly #limit: number;

  constructor(name: string, sink: VrpSink, format?: VrpFileFormat, tokenLimit = DEFAULT_VRP_TOKEN_LIMIT) {
    this.#name = name;
    this.#sink = sink;
    this.format = format;
    this.#limit = tokenLimit;
  }

  get count(): number {
    return this.#reader?.count ?? 0;
  }

  push(chunk: Buffer): void {
    if (this.#gunzipError !== undefined) throw this.#gunzipError;
    if (!this.#started) {
      this.#head = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
      if (this.#head.length < 2) return;
      this.#started = true;
      chunk = this.#head;
      this.#head = Buffer.alloc(0);
      if (chunk[0] === 0x1f && chunk[1] === 0x8b) this.#startGunzip();
    }
    if (this.#gunzip !== undefined) this.#gunzip.write(chunk);
    else this.#plain(chunk);
  }

  async end(): Promise<void> {
    if (!this.#started && this.#head.length > 0) {
      this.#started = true;
      this.#plain(this.#head);
    }
    if (this.#gunzip !== undefined) {
      this.#gunzip.end();
      await this.#gunzipDone;
      if (this.#gunzipError !== undefined) throw this.#gunzipError;
    }
    if (this.#reader === undefined) throw new VrpFileError(this.#name, undefined, 'the file is empty');
    this.#reader.end();
  }

  #startGunzip(): void {
    this.compressed = true;
    const gunzip = createGunzip({ chunkSize: CHUNK });
    this.#gunzip = gunzip;
    this.#gunzipDone = new Promise<void>((resolve) => {
      gunzip.on('data', (data: Buffer) => {
        if (this.#gunzipError !== undefined) return;
        try {
          this.#plain(data);
        } catch (error) {
          this.#gunzipError = error;
        }
      });
      gunzip.on('error', (error) => {
        this.#gunzipError ??= new VrpFileError(this.#name, undefined, `bad gzip data: ${error.message}`, {
          cause: error,
        });
        resolve();
      });
      gunzip.on('end', () => resolve());
    });
  }

  #plain(chunk: Buffer): void {
    if (this.#reader === undefined) {
      let i = 0;
      while (
        i < chunk.length &&
        (chunk[i] === 0x20 || chunk[i] === 0x0a || chunk[i] === 0x0d || chunk[i] === 0x09)
      ) {
        // Blanks before the first token count for line numbers only.
        if (chunk[i] === 0x0a) this.#blankLines++;
        i++;
      }
      if (i === chunk.length) return;
      chunk = chunk.subarray(i);
      this.format ??= chunk[0] === 0x7b || chunk[0] === 0x5b ? 'json' : 'csv';
      const line = 1 + this.#blankLines;
      this.#reader =
        this.format === 'json'
          ? new JsonVrpReader(this.#name, this.#sink, this.#limit, line)
          : new CsvVrpReader(this.#name, this.#sink, this.#limit, line);
    }
    this.#reader.push(chunk);
  }
}
