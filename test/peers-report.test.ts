// benchmarks/src/stats.ts and benchmarks/src/report.ts: the arithmetic of medians, spreads,
// ratios and targets, and the files the report writes. No timing is asserted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import {
  readmeMarkers,
  createReport,
  effectiveTarget,
  figure,
  formatNumber,
  ratio,
  renderMarkdown,
  targetMet,
  updateReadme,
  writeReport,
  type Measurement,
} from '../benchmarks/src/report.js';
import { heldMemory, measure, median, summarize } from '../benchmarks/src/stats.js';

describe('stats', () => {
  it('median of odd and even counts, unsorted input left alone', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('summarize derives spread and ops/s from the samples', () => {
    const s = summarize([200, 100, 400], 1000);
    expect(s).toMatchObject({ repetitions: 3, medianMs: 200, minMs: 100, maxMs: 400, spread: 1.5 });
    expect(s.opsPerSec).toBe(5000);
    expect(s.opsPerSecMin).toBe(2500);
    expect(s.opsPerSecMax).toBe(10000);
    expect(summarize([10]).opsPerSec).toBeUndefined();
  });

  it('measure runs setup and fn for each warmup and repetition', () => {
    let setups = 0;
    let runs = 0;
    const s = measure(() => runs++, { repetitions: 4, warmup: 2, ops: 10, setup: () => setups++ });
    expect([setups, runs, s.repetitions, s.samplesMs.length, s.ops]).toEqual([6, 6, 4, 4, 10]);
  });

  it('heldMemory counts a typed array that stays reachable, not garbage', () => {
    const held = heldMemory(() => {
      new Uint8Array(32 << 20).fill(1); // garbage
      return new Uint8Array(16 << 20).fill(1);
    });
    expect(held.value.length).toBe(16 << 20);
    expect(held.externalBytes).toBeGreaterThanOrEqual(15 << 20);
    expect(held.externalBytes).toBeLessThan(40 << 20);
  });
});

const measurements: Measurement[] = [
  {
    id: 'validate.string',
    scenario: 'Validate real routes, string API',
    unit: 'validations/s',
    better: 'higher',
    rovkit: {
      value: 4_000_000,
      min: 3_900_000,
      max: 4_100_000,
      repetitions: 5,
      heapBytes: 120e6,
      rssBytes: 310e6,
    },
    relativeTarget: { peer: 'rpki-validator', factor: 20 },
    peers: { 'rpki-validator': { value: 250_000 }, rtrlib: { value: 2_000_000 } },
  },
  {
    id: 'load.json',
    scenario: 'Load 424k VRPs from JSON',
    unit: 'ms',
    better: 'lower',
    rovkit: { value: 500 },
    target: 450,
    peers: { 'rpki-validator': { value: 1500 } },
  },
  { id: 'rtr.sync', scenario: 'RTR sync', unit: 'ms', better: 'lower', note: 'not built yet' },
];

describe('report arithmetic', () => {
  it('ratio is how many times better rovkit is, for either direction', () => {
    expect(ratio(measurements[0]!, 'rpki-validator')).toBe(16);
    expect(ratio(measurements[0]!, 'rtrlib')).toBe(2);
    expect(ratio(measurements[1]!, 'rpki-validator')).toBe(3);
    expect(ratio(measurements[1]!, 'rtrlib')).toBeUndefined();
    expect(ratio(measurements[2]!, 'rpki-validator')).toBeUndefined();
  });

  it('a relative target resolves against the peer, and misses show', () => {
    expect(effectiveTarget(measurements[0]!)).toBe(5_000_000);
    expect(targetMet(measurements[0]!)).toBe(false);
    expect(effectiveTarget(measurements[1]!)).toBe(450);
    expect(targetMet(measurements[1]!)).toBe(false);
    expect(targetMet({ ...measurements[1]!, rovkit: { value: 400 } })).toBe(true);
    expect(targetMet(measurements[2]!)).toBeUndefined();
  });

  it('figure turns a Summary into ops/s or ms with the range', () => {
    const s = summarize([100, 200, 400], 1000);
    expect(figure(s, 'ms')).toEqual({ value: 200, min: 100, max: 400, repetitions: 3 });
    expect(figure(s, 'opsPerSec', { heapBytes: 7 })).toEqual({
      value: 5000,
      min: 2500,
      max: 10000,
      repetitions: 3,
      heapBytes: 7,
    });
    expect(() => figure(summarize([1]), 'opsPerSec')).toThrow(TypeError);
  });

  it('formatNumber keeps three significant digits', () => {
    expect([formatNumber(1.234), formatNumber(12.34), formatNumber(123.4), formatNumber(12_345)]).toEqual([
      '1.23',
      '12.3',
      '123',
      '12.3 k',
    ]);
    expect([formatNumber(4_560_000), formatNumber(2.5e9)]).toEqual(['4.56 M', '2.50 G']);
  });
});

describe('report output', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function report(quick: boolean) {
    const r = createReport({ quick, notes: ['424k file is a test TA'] });
    r.measurements.push(...measurements);
    return r;
  }

  it('renders one row per measurement with a column per peer', () => {
    const markdown = renderMarkdown(report(false));
    const rows = markdown.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
    expect(rows[0]).toBe(
      '| Scenario | Unit | Target | rovkit | Met | rovkit heap / RSS, MB | rpki-validator (ratio) | rtrlib (ratio) |',
    );
    expect(rows).toHaveLength(1 + measurements.length);
    expect(rows[1]).toContain('≥ 5.00 M (20× rpki-validator)');
    expect(rows[1]).toContain('**no** | 120 / 310 |');
    expect(rows[1]).toContain('250 k (16×)');
    expect(rows[1]).toContain('2.00 M (2.00×)');
    expect(rows[2]).toContain('1500 (3.00×)');
    expect(rows[3]).toContain('RTR sync (not built yet)');
    expect(markdown).toContain('- 424k file is a test TA');
  });

  it('writes <date>-node<major>.json, and quick runs beside it', () => {
    dir = mkdtempSync(join(tmpdir(), 'rovkit-report-'));
    const full = report(false);
    const path = writeReport(full, dir);
    const major = process.versions.node.split('.')[0];
    expect(path).toBe(join(dir, `${full.date}-node${major}.json`));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(full)));
    expect(writeReport(report(true), dir)).toBe(join(dir, `${full.date}-node${major}-quick.json`));
  });

  it('replaces only the text between the README markers of the same Node major', () => {
    dir = mkdtempSync(join(tmpdir(), 'rovkit-report-'));
    const readme = join(dir, 'README.md');
    const node20 = readmeMarkers('20');
    const node24 = readmeMarkers('24');
    writeFileSync(readme, '# Benchmarks\n\nIntro.\n');
    updateReadme('first table', '20', readme);
    updateReadme('second table\n', '20', readme);
    const text = readFileSync(readme, 'utf8');
    expect(text).toBe(
      `# Benchmarks\n\nIntro.\n\n### Node 20\n\n${node20.start}\nsecond table\n${node20.end}\n`,
    );
    writeFileSync(readme, text.replace('second table', 'old') + '\nOutro.\n');
    updateReadme('third', '20', readme);
    updateReadme('on 24', '24', readme);
    const after = readFileSync(readme, 'utf8');
    expect(after).toContain(`${node20.start}\nthird\n${node20.end}\n\nOutro.\n`);
    expect(after).toContain(`### Node 24\n\n${node24.start}\non 24\n${node24.end}\n`);
    expect(after).not.toContain('old');
  });
});
