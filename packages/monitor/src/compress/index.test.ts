import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompress, DecompressError, sniffCompression } from './index.js';

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(i + size, data.length));
}

async function run(
  data: Uint8Array,
  size = 1000,
): Promise<{ compression: string; output: Buffer; error?: unknown }> {
  const { compression, chunks } = await decompress(chunked(data, size));
  const parts: Buffer[] = [];
  try {
    for await (const part of chunks) parts.push(part);
  } catch (error) {
    return { compression, output: Buffer.concat(parts), error };
  }
  return { compression, output: Buffer.concat(parts) };
}

describe('sniffCompression', () => {
  it('recognises gzip, bzip2 and plain data', () => {
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(sniffCompression(Buffer.from('BZh9'))).toBe('bzip2');
    expect(sniffCompression(Buffer.from('BZh0'))).toBe('none');
    expect(sniffCompression(Buffer.from([0, 0, 0, 0, 0, 13]))).toBe('none');
    expect(sniffCompression(Buffer.alloc(0))).toBe('none');
  });
});

describe('decompress', () => {
  const data = randomBytes(200_000);

  it('passes plain data through, including tiny first chunks', async () => {
    const { compression, output } = await run(data, 3);
    expect(compression).toBe('none');
    expect(output.equals(data)).toBe(true);
    expect((await run(Buffer.alloc(0))).output.length).toBe(0);
  });

  it('gunzips, including concatenated members', async () => {
    const gz = Buffer.concat([gzipSync(data.subarray(0, 1000)), gzipSync(data.subarray(1000))]);
    const { compression, output, error } = await run(gz, 777);
    expect(compression).toBe('gzip');
    expect(error).toBeUndefined();
    expect(output.equals(data)).toBe(true);
  });

  it('reports a cut gzip input as GZIP_ERR_TRUNCATED after the data decoded before it', async () => {
    const gz = gzipSync(data);
    const { output, error } = await run(gz.subarray(0, gz.length - 5000), 4096);
    expect(error).toBeInstanceOf(DecompressError);
    expect((error as DecompressError).code).toBe('GZIP_ERR_TRUNCATED');
    expect(output.length).toBeGreaterThan(100_000);
    expect(data.subarray(0, output.length).equals(output)).toBe(true);
  });

  it('reports corrupt gzip data as GZIP_ERR_DATA', async () => {
    const gz = Buffer.from(gzipSync(Buffer.alloc(100_000, 'abc')));
    gz.fill(0xff, 20, 40);
    const { error } = await run(gz);
    expect((error as DecompressError).code).toBe('GZIP_ERR_DATA');
  });
});
