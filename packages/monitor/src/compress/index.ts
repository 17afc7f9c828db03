// Transparent decompression of route dumps: gzip (node:zlib), bzip2 (./bzip2.ts, its blocks
// decoded in worker threads by ./bzip2-parallel.ts when CPUs allow) or plain,
// chosen by the first bytes. Everything is pulled chunk by chunk, so memory stays bounded
// whatever the file size.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { bunzip2, HEADER_CUT, streamHeaderLevel } from './bzip2.js';
import { bunzip2Parallel } from './bzip2-parallel.js';
import { sharedBzip2Pool } from './bzip2-pool.js';
import { DecompressError } from './errors.js';

export { bunzip2, Bzip2Workspace, bzip2Crc } from './bzip2.js';
export { bunzip2Parallel } from './bzip2-parallel.js';
export { Bzip2Pool, sharedBzip2Pool } from './bzip2-pool.js';
export { DecompressError, type DecompressErrorCode } from './errors.js';

export type Compression = 'gzip' | 'bzip2' | 'none';

/** The compression a file starts with: gzip 1f 8b, bzip2 "BZh" + digit, else none. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  const level = streamHeaderLevel(head, true);
  return typeof level === 'number' && level !== HEADER_CUT ? 'bzip2' : 'none';
}

export interface Decompressed {
  readonly compression: Compression;
  readonly chunks: AsyncIterable<Buffer>;
}

export interface DecompressOptions {
  /**
   * The caller is done with each chunk when it asks for the next (it copies what it keeps),
   * so the decoder may reuse the chunk's memory. bzip2 in worker threads uses this.
   */
  reuseChunks?: boolean;
}

/**
 * Detects the compression of `source` from its first bytes and returns the decompressed
 * chunks. Decoding errors are DecompressError, raised after all data decoded before them.
 */
export async function decompress(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions = {},
): Promise<Decompressed> {
  const iterator = source[Symbol.asyncIterator]();
  // Gather at least 4 bytes (or the whole input) to sniff.
  const head: Uint8Array[] = [];
  let headLength = 0;
  let done = false;
  while (headLength < 4) {
    const next = await iterator.next();
    if (next.done === true) {
      done = true;
      break;
    }
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = Buffer.concat(head);
  const replay: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      if (first.length > 0) yield first;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) return;
        yield next.value;
      }
    },
  };
  const compression = sniffCompression(first);
  if (compression === 'bzip2') {
    // Blocks decode in worker threads when there are CPUs to spare (see bzip2-pool.ts).
    const pool = sharedBzip2Pool();
    const chunks =
      pool === undefined
        ? bunzip2(replay)
        : bunzip2Parallel(replay, pool, { reuseChunks: options.reuseChunks });
    return { compression, chunks };
  }
  if (compression === 'gzip') return { compression, chunks: gunzip(replay) };
  return { compression, chunks: plain(replay) };
}

async function* plain(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const chunk of source)
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}

async function* gunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const zlib = createGunzip({ chunkSize: 64 * 1024 });
  const input = Readable.from(source, { objectMode: false });
  let inputBytes = 0;
  input.on('data', (chunk: Buffer) => {
    inputBytes += chunk.length;
  });
  input.on('error', (error) => zlib.destroy(error));
  input.pipe(zlib);
  let outputBytes = 0;
  try {
    for await (const chunk of zlib as AsyncIterable<Buffer>) {
      outputBytes += chunk.length;
      yield chunk;
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'Z_BUF_ERROR') {
      throw new DecompressError(
        'GZIP_ERR_TRUNCATED',
        `gzip input ends early (${inputBytes} bytes read)`,
        inputBytes,
        outputBytes,
        {
          cause: error,
        },
      );
    }
    if (code === 'Z_DATA_ERROR') {
      const message = error instanceof Error ? error.message : String(error);
      throw new DecompressError('GZIP_ERR_DATA', `corrupt gzip data: ${message}`, inputBytes, outputBytes, {
        cause: error,
      });
    }
    throw error;
  } finally {
    input.destroy();
    zlib.destroy();
  }
}
