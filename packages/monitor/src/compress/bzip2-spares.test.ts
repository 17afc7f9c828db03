import { describe, expect, it } from 'vitest';
import { POOL_SPARES, SpareMemory, WORKER_SPARES } from './bzip2-spares.js';

describe('SpareMemory', () => {
  it('hands out the smallest spare that fits, or none', () => {
    const spares = new SpareMemory({ count: 4, bytes: 1000 });
    for (const size of [300, 100, 200]) spares.add(new ArrayBuffer(size));
    expect(spares.take(150)?.byteLength).toBe(200);
    expect(spares.take(301)).toBeUndefined();
    expect(spares.count).toBe(2);
    expect(spares.bytes).toBe(400);
  });

  it('keeps no more than its count and bytes when every output is larger than the last', () => {
    // Outputs growing by the workers' 1/8 headroom never fit a spare: the memory of every
    // earlier one came back and was kept (the worker's list had no bound), 9 times the
    // largest in all.
    for (const limits of [POOL_SPARES, WORKER_SPARES]) {
      const spares = new SpareMemory(limits);
      let kept = 0;
      for (let length = 1000; length < 46_618_964; length = Math.ceil(length * 1.13)) {
        const memory = spares.take(length) ?? new ArrayBuffer(length + (length >> 3));
        spares.add(memory);
        kept = Math.max(kept, spares.count);
        expect(spares.count).toBeLessThanOrEqual(limits.count);
        expect(spares.bytes).toBeLessThanOrEqual(limits.bytes);
      }
      expect(kept).toBe(limits.count);
    }
  });

  it('drops the smallest first, a spare over the byte limit at once, and empties on clear', () => {
    const spares = new SpareMemory({ count: 2, bytes: 1000 });
    spares.add(new ArrayBuffer(1001));
    expect(spares.count).toBe(0);
    for (const size of [500, 100, 400]) spares.add(new ArrayBuffer(size));
    expect(spares.takeLargest(5).map((memory) => memory.byteLength)).toEqual([500, 400]);
    spares.add(new ArrayBuffer(600));
    spares.add(new ArrayBuffer(500));
    expect(spares.bytes).toBe(600);
    spares.clear();
    expect(spares.count).toBe(0);
    expect(spares.bytes).toBe(0);
  });
});
