import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadVrpFile, type LoadVrpOptions } from '@rovkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { Alerter } from '../alerts.js';
import { JsonLogger } from '../log.js';
import { VrpFileSource } from './vrp-file-source.js';
import { replaceFile as write, until } from '../testing/watch.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-vrp-file-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header = 'ASN,IP Prefix,Max Length\n';

function setup(
  file: string,
  load?: (file: string, options: LoadVrpOptions) => ReturnType<typeof loadVrpFile>,
) {
  const lines: Record<string, unknown>[] = [];
  const log = new JsonLogger({
    write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
  });
  const sink = { registerVrpSource: () => 0, applyVrps: () => undefined };
  const source = new VrpFileSource({
    file,
    sink,
    log,
    alerts: new Alerter({ log }),
    pollMs: 30,
    ...(load === undefined ? {} : { load }),
  });
  const alerts = () => lines.filter((l) => l.event === 'alert');
  return { source, lines, alerts };
}

describe('VrpFileSource', () => {
  it('retries a reload that failed on the interval, without the file changing again', async () => {
    const file = join(dir, 'retry.csv');
    write(file, `${header}AS1,192.0.2.0/24,24\n`);
    let failures = 0;
    let loads = 0;
    const { source, alerts } = setup(file, (f, options) => {
      loads++;
      // The reload after the change meets a transient error (as EMFILE); later ones read.
      if (loads === 2) {
        failures++;
        const error = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return Promise.reject(error);
      }
      return loadVrpFile(f, options);
    });
    try {
      await source.start();
      expect(source.table!.size).toBe(1);
      write(file, `${header}AS1,192.0.2.0/24,24\nAS2,198.51.100.0/24,24\n`);
      await until('the failed reload', () => failures === 1);
      expect(source.table!.size).toBe(1);
      expect(source.lastError?.message).toContain('EMFILE');
      await until('the retry', () => source.table!.size === 2);
      expect(source.lastError).toBeUndefined();
      expect(alerts().map((a) => a.alert)).toEqual(['vrp_source_error', 'vrp_source_recovered']);
    } finally {
      await source.stop();
    }
  });

  it('alerts broken, recovered, broken again: each change of condition', async () => {
    const file = join(dir, 'flap.csv');
    const good = `${header}AS1,192.0.2.0/24,24\n`;
    write(file, good);
    const { source, alerts, lines } = setup(file);
    const loaded = () => lines.filter((l) => l.event === 'vrp_file_loaded').length;
    try {
      await source.start();
      write(file, `${header}AS1,192.0.2.0/33,33\n`);
      await until('the first error', () => alerts().length === 1);
      // Still broken: retried, but not alerted again while it lasts.
      await until('a retry', () => lines.filter((l) => l.event === 'vrp_file_rejected').length >= 3);
      expect(alerts()).toHaveLength(1);
      write(file, `${good}AS2,198.51.100.0/24,24\n`);
      await until('the good reload', () => loaded() === 2);
      write(file, `${header}nonsense\n`);
      await until('the second error', () => alerts().length === 3);
      expect(alerts().map((a) => [a.alert, a.line])).toEqual([
        ['vrp_source_error', 2],
        ['vrp_source_recovered', undefined],
        ['vrp_source_error', 2],
      ]);
      expect(source.table!.size).toBe(2);
    } finally {
      await source.stop();
    }
  });
});
