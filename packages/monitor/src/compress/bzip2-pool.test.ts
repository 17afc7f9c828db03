// The pool's life cycle: workers start on use and stop when idle, and pieces of a worker
// that dies are decoded in this thread, with the same output.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, peerCommand } from '../../../../test/support/peers.js';
import { bunzip2Parallel } from './bzip2-parallel.js';
import { Bzip2Pool, workerScript } from './bzip2-pool.js';

const skip = missing(peerCommand('bzip2'));

/** Three blocks (level 1) of text-like data. */
function sample(): { data: Buffer; compressed: Buffer } {
  const data = Buffer.alloc(280_000);
  for (let i = 0; i < data.length; i++) data[i] = 0x61 + ((i * 7 + (i >> 9)) % 23);
  const result = spawnSync('bzip2', ['-c', '-1'], { input: data, maxBuffer: 1 << 26 });
  return { data, compressed: result.stdout };
}

async function decodeAll(pool: Bzip2Pool, compressed: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  const source = (async function* () {
    yield compressed;
  })();
  for await (const part of bunzip2Parallel(source, pool)) parts.push(part);
  return Buffer.concat(parts);
}

const temp = mkdtempSync(join(tmpdir(), 'rovkit-bzip2-pool-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe.skipIf(skip !== undefined)('Bzip2Pool', () => {
  const { data, compressed } = sample();

  it('starts workers on use and stops them after the idle time', async () => {
    const script = workerScript();
    expect(script, 'dist/compress/bzip2-worker.js is built (npm run build)').toBeDefined();
    const pool = new Bzip2Pool(2, script!, { idleMs: 50 });
    try {
      expect(pool.workers).toBe(0);
      expect((await decodeAll(pool, compressed)).equals(data)).toBe(true);
      expect(pool.workers).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(pool.workers).toBe(0);
      expect((await decodeAll(pool, compressed)).equals(data)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('reuses the memory of chunks the reader is done with, when told it may', async () => {
    const script = workerScript();
    expect(script, 'dist/compress/bzip2-worker.js is built (npm run build)').toBeDefined();
    const pool = new Bzip2Pool(2, script!);
    const read = async (): Promise<Buffer[]> => {
      const source = (async function* () {
        yield compressed;
      })();
      const copies: Buffer[] = [];
      const chunks: Buffer[] = [];
      for await (const chunk of bunzip2Parallel(source, pool, { reuseChunks: true })) {
        copies.push(Buffer.from(chunk));
        chunks.push(chunk);
      }
      expect(Buffer.concat(copies).equals(data)).toBe(true);
      return chunks;
    };
    try {
      const first = await read();
      expect(first.length).toBe(3);
      expect(first.every((chunk) => chunk.length > 0)).toBe(true);
      await read();
      // The second read's blocks went into the first read's memory: it moved to the workers.
      expect(first.map((chunk) => chunk.length)).toEqual([0, 0, 0]);
    } finally {
      await pool.close();
    }
  });

  it('decodes in this thread what workers that die were given', async () => {
    // A worker script that exits on its first piece.
    const dying = join(temp, 'dying-worker.mjs');
    writeFileSync(
      dying,
      "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n",
    );
    const pool = new Bzip2Pool(2, pathToFileURL(dying));
    try {
      expect((await decodeAll(pool, compressed)).equals(data)).toBe(true);
      expect(pool.workers).toBe(0);
      // With every worker lost, the pool no longer starts any.
      expect((await decodeAll(pool, compressed)).equals(data)).toBe(true);
      expect(pool.workers).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
