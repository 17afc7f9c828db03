import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Alerter } from '../alerts.js';
import { RouteFileError } from '../errors.js';
import { JsonLogger } from '../log.js';
import { readRouteList, type RouteEntry } from '../routes/route-list.js';
import { RouteListSource } from './route-list-source.js';
import { replaceFile as write, until } from '../testing/watch.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-route-list-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(
  file: string,
  read?: (file: string, limit: number) => Promise<RouteEntry[]>,
  lineLimit?: number,
) {
  const lines: Record<string, unknown>[] = [];
  const log = new JsonLogger({
    write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
  });
  let held = 0;
  const sink = {
    registerSource: () => 0,
    groupId: () => 0,
    descriptionId: () => 0,
    announce: () => void held++,
    withdraw: () => void held--,
    withdrawAll: () => void (held = 0),
  };
  const source = new RouteListSource({
    file,
    sink,
    log,
    alerts: new Alerter({ log }),
    pollMs: 30,
    ...(read === undefined ? {} : { read }),
    ...(lineLimit === undefined ? {} : { lineLimit }),
  });
  const alerts = () => lines.filter((l) => l.event === 'alert');
  return { source, lines, alerts, held: () => held };
}

describe('RouteListSource', () => {
  it('retries a reload that failed on the interval, without the file changing again', async () => {
    const file = join(dir, 'retry.txt');
    write(file, '192.0.2.0/24 AS1\n');
    let reads = 0;
    const { source, alerts, held } = setup(file, (f, limit) => {
      if (++reads === 2)
        return Promise.reject(new RouteFileError(f, undefined, 'cannot read: EACCES: permission denied'));
      return readRouteList(f, limit);
    });
    try {
      await source.start();
      write(file, '192.0.2.0/24 AS1\n198.51.100.0/24 AS1\n');
      await until('the failed reload', () => reads >= 2);
      await until('the retry', () => source.size === 2);
      expect(held()).toBe(2);
      expect(alerts().map((a) => a.alert)).toEqual(['route_source_error', 'route_source_recovered']);
    } finally {
      await source.stop();
    }
  });

  it('keeps the routes on a line over the limit, says file, line and limit, and alerts each change', async () => {
    const file = join(dir, 'flap.txt');
    const good = '192.0.2.0/24 AS1\n198.51.100.0/24 AS1\n';
    write(file, good);
    const { source, alerts, held } = setup(file, undefined, 100);
    try {
      await source.start();
      write(file, `192.0.2.0/24 AS1\n# ${'x'.repeat(99)}\n`);
      await until('the error', () => alerts().length === 1);
      expect(alerts()[0]).toMatchObject({
        alert: 'route_source_error',
        file,
        line: 2,
        reason: 'a line longer than the limit of 100 bytes',
      });
      expect(held()).toBe(2);
      write(file, good);
      await until('the recovery', () => alerts().length === 2);
      write(file, '192.0.2.0/24\n');
      await until('the second error', () => alerts().length === 3);
      expect(alerts().map((a) => a.alert)).toEqual([
        'route_source_error',
        'route_source_recovered',
        'route_source_error',
      ]);
      expect(source.size).toBe(2);
    } finally {
      await source.stop();
    }
  });
});
