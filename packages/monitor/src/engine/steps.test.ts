import { describe, expect, it } from 'vitest';
import { runSliced, runToEnd, type Steps } from './steps.js';

function* count(n: number, spinMs: number, done: { finally: boolean }): Steps<number> {
  try {
    for (let i = 0; i < n; i++) {
      const end = performance.now() + spinMs;
      while (performance.now() < end);
      yield;
    }
    return n;
  } finally {
    done.finally = true;
  }
}

describe('steps', () => {
  it('runs to the end at once', () => {
    const done = { finally: false };
    expect(runToEnd(count(5, 0, done))).toBe(5);
    expect(done.finally).toBe(true);
  });

  it('lets the event loop turn between slices of a long walk', async () => {
    // 60 steps of 1 ms in slices of 8 ms: callbacks queued meanwhile run before the end.
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const result = await runSliced(count(60, 1, { finally: false }), () => true, 8);
      expect(result).toBe(60);
      expect(turns).toBeGreaterThan(2);
    } finally {
      clearInterval(ticker);
    }
  });

  it('gives up, closing the walk, when it is no longer valid after a slice', async () => {
    const done = { finally: false };
    let valid = true;
    setImmediate(() => (valid = false));
    const result = await runSliced(count(1000, 1, done), () => valid, 4);
    expect(result).toBeUndefined();
    expect(done.finally).toBe(true);
  });
});
