import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileWatch } from './file-watch.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-file-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FileWatch', () => {
  it('sees a change made between the read and the start of the watch', async () => {
    const file = join(dir, 'early.txt');
    replace(file, 'one');
    const seen = statSync(file);
    replace(file, 'two, replaced before the watch started');
    let changes = 0;
    const watch = new FileWatch(file, { intervalMs: 20 }, () => Promise.resolve(++changes > 0));
    watch.start(seen);
    try {
      for (let i = 0; i < 200 && changes === 0; i++) await settle(10);
      expect(changes).toBe(1);
    } finally {
      await watch.stop();
    }
  });

  it('retries a failed onChange every interval until it succeeds, then stops', async () => {
    const file = join(dir, 'retry.txt');
    replace(file, 'one');
    let calls = 0;
    const watch = new FileWatch(file, { intervalMs: 20 }, () => Promise.resolve(++calls >= 3));
    watch.start(statSync(file));
    try {
      replace(file, 'two');
      for (let i = 0; i < 300 && calls < 3; i++) await settle(10);
      expect(calls).toBe(3);
      await settle(200);
      expect(calls).toBe(3);
    } finally {
      await watch.stop();
    }
  });
});
