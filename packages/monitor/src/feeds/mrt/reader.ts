// Reading an MRT file or stream: decompression (gzip, bzip2 or none, sniffed), record
// parsing into a sink, and the account of what was read and what went wrong. A cut input
// (a truncated download, a partial bzip2 stream) is not an exception: everything before
// the cut is delivered, and the result says where the cut was. So is a record over the
// length limit (MRT_ERR_TOO_LARGE, checked before its memory is taken): reading stops
// there and what came before is kept.
import { createReadStream } from 'node:fs';
import { decompress, DecompressError, type Compression } from '../../compress/index.js';
import { MrtError } from './errors.js';
import { MrtParser, type MrtParserOptions, type MrtSink, type MrtStats } from './parser.js';

export interface MrtReadOptions extends MrtParserOptions {
  /** Stops reading; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface MrtReadResult {
  compression: Compression;
  stats: MrtStats;
  /** The first malformed records (all are counted in stats.malformed). */
  errors: MrtError[];
  /** The decompressor's error when the compressed input is cut or corrupt. */
  decompressError?: DecompressError;
  /** MRT_ERR_TRUNCATED when the input ends inside a record (with the record's offset). */
  truncated?: MrtError;
  /** MRT_ERR_TOO_LARGE when a record over the limit stopped the input (what came before is read). */
  tooLarge?: MrtError;
  /** True when the input ended cleanly at a record boundary with nothing malformed. */
  complete: boolean;
}

/** Reads MRT from a file path or a byte stream into `sink`. */
export async function readMrt(
  source: string | AsyncIterable<Uint8Array>,
  sink: MrtSink,
  options: MrtReadOptions = {},
): Promise<MrtReadResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const input =
    typeof source === 'string' ? createReadStream(source, { highWaterMark: 256 * 1024, signal }) : source;
  const parser = new MrtParser(sink, {
    ...options,
    ...(typeof source === 'string' && options.file === undefined ? { file: source } : {}),
  });
  let compression: Compression = 'none';
  let decompressError: DecompressError | undefined;
  let tooLarge: MrtError | undefined;
  try {
    // The parser copies a record cut by a chunk's end, so it keeps no chunk.
    const decompressed = await decompress(input, { reuseChunks: true });
    compression = decompressed.compression;
    for await (const chunk of decompressed.chunks) {
      signal?.throwIfAborted();
      parser.push(chunk);
    }
  } catch (error) {
    // The file stream reports an abort as its own AbortError; give the caller's reason.
    if (signal?.aborted === true) throw signal.reason;
    if (error instanceof MrtError && error.code === 'MRT_ERR_TOO_LARGE') tooLarge = error;
    else if (error instanceof DecompressError) decompressError = error;
    else throw error;
  }
  // After a record over the limit the input is not framed any more: nothing is pending.
  const truncated = tooLarge === undefined ? parser.end() : undefined;
  const result: MrtReadResult = {
    compression,
    stats: parser.stats,
    errors: parser.errors,
    complete:
      decompressError === undefined &&
      truncated === undefined &&
      tooLarge === undefined &&
      parser.stats.malformed === 0,
  };
  if (decompressError !== undefined) result.decompressError = decompressError;
  if (truncated !== undefined) result.truncated = truncated;
  if (tooLarge !== undefined) result.tooLarge = tooLarge;
  return result;
}

/** What a route source reports once it has read its input. */
export interface MrtSourceOptions extends MrtReadOptions {
  file: string;
  sink: MrtSink;
}

/**
 * An MRT dump as a route source for the monitor: `start()` reads the file into the sink
 * and resolves with the account; `stop()` abandons a read in progress.
 */
export class MrtFileSource {
  readonly file: string;
  readonly #sink: MrtSink;
  readonly #options: MrtParserOptions;
  #abort: AbortController | undefined;
  #running: Promise<MrtReadResult> | undefined;

  constructor(options: MrtSourceOptions) {
    this.file = options.file;
    this.#sink = options.sink;
    this.#options = {
      maxRecordLength: options.maxRecordLength,
      strict: options.strict,
      file: options.file,
    };
  }

  start(): Promise<MrtReadResult> {
    if (this.#running !== undefined) return this.#running;
    this.#abort = new AbortController();
    this.#running = readMrt(this.file, this.#sink, { ...this.#options, signal: this.#abort.signal }).finally(
      () => {
        this.#abort = undefined;
      },
    );
    return this.#running;
  }

  async stop(): Promise<void> {
    const running = this.#running;
    this.#abort?.abort(new Error('MRT source stopped'));
    this.#running = undefined;
    if (running !== undefined) await running.catch(() => undefined);
  }
}
