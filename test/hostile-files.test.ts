// Hostile files: `rovkit monitor` (the built CLI, as an operator runs it) watches a good
// VRP file and a good route list; each case replaces one of them with a broken file
// (truncated JSON, a 200 MB string token, binary garbage, an empty file, a route list with
// a huge line). After each: the daemon is alive, /metrics answers, the last good data is
// held exactly, the peak RSS stays bounded, and the log names the file, the line and the
// limit; then the good file again is picked up. Each case is bounded (the reader refuses
// the 200 MB token at 64 KiB, after about a MB) and stops by itself.
import { createWriteStream, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/monitor-peers.js';
import { startMonitor, type MonitorProcess } from './support/monitor-process.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-hostile-files-'));
const vrpFile = join(dir, 'vrps.json');
const routeFile = join(dir, 'routes.txt');

// 1,000 ROAs over 10.0.0.0/8 and 500 routes, 300 of them covered (Valid), 200 not.
const roas = Array.from({ length: 1000 }, (_, i) => ({
  asn: `AS${64496 + (i % 7)}`,
  prefix: `10.${i >> 8}.${i & 255}.0/24`,
  maxLength: 24,
  ta: 'ripe',
}));
const goodVrps = `{\n  "metadata": { "generated": 1704086032 },\n  "roas": [\n${roas
  .map((r) => `    ${JSON.stringify(r)}`)
  .join(',\n')}\n  ]\n}\n`;
const goodRoutes = Array.from({ length: 500 }, (_, i) =>
  i < 300 ? `10.${i >> 8}.${i & 255}.0/24 ${roas[i]!.asn}` : `172.16.${i - 300}.0/24 AS1`,
).join('\n');

function replace(path: string, data: string | Buffer): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

// A file written as a stream, then renamed into place: a big one never sits in memory here.
async function replaceStreamed(path: string, head: string, fill: number, megabytes: number): Promise<void> {
  const out = createWriteStream(`${path}.tmp`);
  const chunk = Buffer.alloc(1 << 20, fill);
  out.write(head);
  for (let i = 0; i < megabytes; i++)
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));
  renameSync(`${path}.tmp`, path);
}

function garbage(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

let monitor: MonitorProcess;
let url = '';
const lines = (): Record<string, unknown>[] => monitor.logLines();

/** Peak and current resident memory of the daemon, MB. */
function memory(): { peak: number; now: number } {
  const m = monitor.memory();
  return { peak: m.peak / 2 ** 20, now: m.now / 2 ** 20 };
}

async function held(): Promise<{ vrps: number; routes: number; valid: number }> {
  const res = await fetch(`${url}metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const sum = (re: RegExp): number => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    vrps: sum(/^rovkit_vrps\{[^}]*\} (\d+)$/gm),
    routes: sum(/^rovkit_routes\{[^}]*\} (\d+)$/gm),
    valid: sum(/^rovkit_routes\{[^}]*state="valid"[^}]*\} (\d+)$/gm),
  };
}

const GOOD = { vrps: 1000, routes: 500, valid: 300 };
let baselinePeak = 0;

beforeAll(async () => {
  replace(vrpFile, goodVrps);
  replace(routeFile, goodRoutes);
  monitor = await startMonitor([
    '--vrps',
    vrpFile,
    '--routes',
    routeFile,
    '--bind',
    '127.0.0.1',
    '--port',
    '0',
    '--reload-interval',
    '0.1',
  ]);
  url = monitor.url;
  expect(await held()).toEqual(GOOD);
  baselinePeak = memory().peak;
}, 60_000);

afterAll(async () => {
  await monitor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly file: string;
  readonly write: () => void | Promise<void>;
  /** The rejection log line: event, line, and a pattern of the reason. */
  readonly event: 'vrp_file_rejected' | 'route_file_rejected';
  readonly line: number | undefined;
  readonly reason: RegExp;
}

const cases: Case[] = [
  {
    name: 'truncated JSON',
    file: vrpFile,
    write: () => replace(vrpFile, goodVrps.slice(0, goodVrps.length >> 1)),
    event: 'vrp_file_rejected',
    line: goodVrps.slice(0, goodVrps.length >> 1).split('\n').length,
    reason: /the file ends before the JSON document does/,
  },
  {
    name: 'a 200 MB string token',
    file: vrpFile,
    write: () => replaceStreamed(vrpFile, '{\n  "roas": [\n    {"asn": 1, "prefix": "', 0x61, 200),
    event: 'vrp_file_rejected',
    line: 3,
    reason: /a token or ROA object longer than the limit of 65536 bytes/,
  },
  {
    name: 'a 200 MB skipped string',
    file: vrpFile,
    write: () => replaceStreamed(vrpFile, '{\n  "metadata": "', 0x62, 200),
    event: 'vrp_file_rejected',
    line: 2,
    reason: /longer than the limit of 65536 bytes/,
  },
  {
    name: 'binary garbage',
    file: vrpFile,
    write: () => replace(vrpFile, garbage(1 << 20, 7)),
    event: 'vrp_file_rejected',
    line: 1,
    reason: /./,
  },
  {
    name: 'an empty file',
    file: vrpFile,
    write: () => replace(vrpFile, ''),
    event: 'vrp_file_rejected',
    line: undefined,
    reason: /the file is empty/,
  },
  {
    name: 'a route list with a 20 MB line',
    file: routeFile,
    write: () => replaceStreamed(routeFile, '10.0.0.0/24 AS64496\n# ', 0x63, 20),
    event: 'route_file_rejected',
    line: 2,
    reason: /a line longer than the limit of 1048576 bytes/,
  },
  {
    name: 'a route list of binary garbage',
    file: routeFile,
    write: () => replace(routeFile, garbage(1 << 20, 11)),
    event: 'route_file_rejected',
    line: 1,
    reason: /./,
  },
];

describe('rovkit monitor with hostile VRP and route files', () => {
  it.each(cases)(
    '$name: alive, /metrics answers, the data held exactly, bounded memory, file and line named',
    async (c) => {
      const before = lines().length;
      await c.write();
      const rejected = await until(
        `the ${c.event} line`,
        () =>
          lines()
            .slice(before)
            .find((l) => l.event === c.event && l.file === c.file),
        30_000,
      );
      expect(rejected.line).toBe(c.line);
      const error = rejected.error as { code: string; message: string };
      expect(error.code).toBe(c.event === 'vrp_file_rejected' ? 'ROV_ERR_VRP_FILE' : 'ROVKIT_ERR_ROUTE_FILE');
      expect(error.message).toMatch(c.reason);
      expect(error.message.startsWith(`${c.file}${c.line === undefined ? '' : `:${c.line}`}: `)).toBe(true);
      // A message quotes at most a little of the input, escaped.
      expect(error.message.length).toBeLessThan(400);
      expect(error.message).not.toMatch(/[\x00-\x1f\x7f]/);
      const alert = lines()
        .slice(before)
        .find(
          (l) => l.event === 'alert' && (l.alert === 'vrp_source_error' || l.alert === 'route_source_error'),
        );
      expect(alert).toMatchObject({ file: c.file, line: c.line ?? null });
      // Retried on the interval while broken: still held, still alive.
      await new Promise((r) => setTimeout(r, 500));
      expect(monitor.child.exitCode).toBeNull();
      expect(await held()).toEqual(GOOD);
      expect((await fetch(`${url}api/v1/validity/AS64496/10.0.0.0/24`)).status).toBe(200);
      const m = memory();
      expect(m.peak - baselinePeak, `peak RSS ${m.peak} MB, ${baselinePeak} MB before`).toBeLessThan(100);
      // The good file again is picked up, and said to be.
      const beforeGood = lines().length;
      replace(c.file, c.file === vrpFile ? goodVrps : goodRoutes);
      const recovered = c.file === vrpFile ? 'vrp_source_recovered' : 'route_source_recovered';
      await until(
        'the recovery',
        () =>
          lines()
            .slice(beforeGood)
            .find((l) => l.alert === recovered),
        30_000,
      );
      expect(await held()).toEqual(GOOD);
    },
    60_000,
  );

  it('a changed good file is still taken after all that', async () => {
    // The first ROA goes to another AS: its route turns Invalid.
    replace(
      vrpFile,
      goodVrps.replace('{"asn":"AS64496","prefix":"10.0.0.0/24"', '{"asn":"AS1","prefix":"10.0.0.0/24"'),
    );
    await until('the new VRPs', async () => ((await held()).valid === 299 ? true : undefined), 30_000);
    expect(monitor.child.exitCode).toBeNull();
  });
});
