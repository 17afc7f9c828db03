// Hostile bzip2 MRT dumps against the monitor in-process: a real RIB dump whose bzip2 data
// turns corrupt, or turns into a "bzip2 bomb" (blocks of the first stage's longest runs, a
// few hundred bytes each for 46 MB of output), after a good first stream. The monitor must
// start, keep exactly the routes of the records before the bad data, answer /metrics while
// it reads, and stay within bounded memory. The blocks decode in worker threads as in
// production (the built dist/; `npm test` builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, Monitor, type MonitorConfig } from '@rovkit/monitor';
import { missing, peerCommand, sharedFile, sharedPath } from './support/peers.js';

const skip = missing(peerCommand('bzip2'), sharedFile('mrt/pyasn-data-rib.20140523.0600_firstMB.bz2'));
const dir = mkdtempSync(join(tmpdir(), 'rovkit-hostile-bzip2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bzip2(args: string[], input: Uint8Array): Buffer {
  return spawnSync('bzip2', args, { input, maxBuffer: 1 << 28 }).stdout;
}

/** The first MRT records of the RIB dump, whole records only, about `size` bytes. */
function mrtRecords(size: number): Buffer {
  const all = bzip2(['-dc'], readFileSync(sharedPath('mrt/pyasn-data-rib.20140523.0600_firstMB.bz2')));
  let at = 0;
  while (at < size) at += 12 + all.readUInt32BE(at + 8);
  return all.subarray(0, at);
}

interface Run {
  routes: number;
  metricsDuringRead: number;
  peakRssMb: number;
  lines: Record<string, unknown>[];
}

/** Starts a monitor on `mrt`, polling /metrics while it reads; stops it. */
async function monitorOn(name: string, mrt: Buffer): Promise<Run> {
  const path = join(dir, name);
  writeFileSync(path, mrt);
  const vrps = join(dir, 'vrps.csv');
  writeFileSync(vrps, 'ASN,IP Prefix,Max Length\nAS3333,193.0.0.0/21,21\n');
  const lines: Record<string, unknown>[] = [];
  const config = loadConfig([
    '--vrps',
    vrps,
    '--mrt',
    path,
    '--bind',
    '127.0.0.1',
    '--port',
    '0',
  ]) as MonitorConfig;
  const monitor = new Monitor(config, {
    out: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  const before = process.memoryUsage().rss;
  let peak = 0;
  let metricsDuringRead = 0;
  let reading = true;
  const started = monitor.start();
  // The listener is up before the dump is read: ask for /metrics until start() is done.
  const poll = (async () => {
    while (reading) {
      peak = Math.max(peak, process.memoryUsage().rss - before);
      if (monitor.address !== undefined) {
        const response = await fetch(`${monitor.url}metrics`).catch(() => undefined);
        if (response?.status === 200) {
          await response.text();
          metricsDuringRead++;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    await started;
    reading = false;
    await poll;
    const metrics = await fetch(`${monitor.url}metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('rovkit_');
    return { routes: monitor.engine.store.size, metricsDuringRead, peakRssMb: peak / 1e6, lines };
  } finally {
    reading = false;
    await poll;
    await monitor.stop();
  }
}

describe.skipIf(skip !== undefined)('the monitor on hostile bzip2 MRT dumps', () => {
  const good = mrtRecords(400_000);
  const rest = mrtRecords(1_500_000).subarray(good.length);
  const first = bzip2(['-c', '-9'], good);

  it('keeps exactly the routes before a corrupt block', async () => {
    const reference = await monitorOn('good.mrt.bz2', first);
    expect(reference.routes).toBeGreaterThan(200);
    const second = Buffer.from(bzip2(['-c', '-9'], rest));
    second[second.length >> 1] ^= 0x04;
    const run = await monitorOn('corrupt.mrt.bz2', Buffer.concat([first, second]));
    expect(run.routes).toBe(reference.routes);
    const loaded = run.lines.find((l) => l.event === 'mrt_loaded');
    expect(JSON.stringify(loaded)).toMatch(/BZIP2_ERR_(CRC|DATA)/);
  });

  it('reads a bzip2 bomb after the good data within bounded memory, answering /metrics', async () => {
    const reference = await monitorOn('good.mrt.bz2', first);
    // 20 streams of 46 MB of zeros each (920 MB), 40 bytes or so each compressed.
    const bomb = bzip2(['-c', '-9'], Buffer.alloc(46_000_000));
    expect(bomb.length).toBeLessThan(1000);
    const run = await monitorOn('bomb.mrt.bz2', Buffer.concat([first, ...Array<Buffer>(20).fill(bomb)]));
    expect(run.routes).toBe(reference.routes);
    expect(run.peakRssMb).toBeLessThan(800);
    expect(run.metricsDuringRead).toBeGreaterThan(0);
    // The zeros read as empty MRT records of type 0 up to the end, where one is cut.
    const loaded = run.lines.find((l) => l.event === 'mrt_loaded');
    expect(loaded).toMatchObject({ complete: false, cut: { code: 'MRT_ERR_TRUNCATED' } });
  }, 120_000);
});
