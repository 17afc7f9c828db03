// The benchmark report: one JSON file per run in benchmarks/results/ and a Markdown table
// (target, measured, each peer and the ratio) between markers in benchmarks/README.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';

import { repoRoot } from './datasets.js';
import type { Summary } from './stats.js';

export const resultsDir = join(repoRoot, 'benchmarks', 'results');
export const readmePath = join(repoRoot, 'benchmarks', 'README.md');
/** The markers around the results of one Node major in benchmarks/README.md. */
export function readmeMarkers(nodeMajor: string): { start: string; end: string } {
  return {
    start: `<!-- bench:results:node${nodeMajor}:start -->`,
    end: `<!-- bench:results:node${nodeMajor}:end -->`,
  };
}

/** One measured value with its spread, in the unit of its Measurement. */
export interface Figure {
  /** The median. */
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly repetitions?: number;
  /** Memory the subject held for this scenario, when measured. */
  readonly heapBytes?: number;
  readonly rssBytes?: number;
}

/** A target relative to a peer: rovkit must be `factor` times better than that peer. */
export interface RelativeTarget {
  readonly peer: string;
  readonly factor: number;
}

export interface Measurement {
  /** Stable key, e.g. "validate.string.all". */
  readonly id: string;
  /** Label for the table, e.g. "Validate 1.27 M real routes, string API". */
  readonly scenario: string;
  /** "validations/s", "VRPs/s", "ms", "MB"... */
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** rovkit's figure; absent when the scenario could not run (say why in `note`). */
  readonly rovkit?: Figure;
  /** Absolute target in `unit`, from the issues. */
  readonly target?: number;
  /** Target as a multiple of a peer measured in the same run. */
  readonly relativeTarget?: RelativeTarget;
  /** Peer name → figure in the same unit. */
  readonly peers?: Readonly<Record<string, Figure>>;
  readonly note?: string;
}

export interface BenchReport {
  readonly schema: 1;
  /** UTC date the run started, YYYY-MM-DD. */
  readonly date: string;
  readonly startedAt: string;
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly commit?: string;
  readonly quick: boolean;
  readonly measurements: Measurement[];
  readonly notes: string[];
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
  } catch {
    return undefined;
  }
}

/** An empty report stamped with this machine, Node version, commit and start time. */
export function createReport(options: { quick: boolean; notes?: string[] }): BenchReport {
  const started = new Date();
  const cpuList = cpus();
  const commit = gitCommit();
  return {
    schema: 1,
    date: started.toISOString().slice(0, 10),
    startedAt: started.toISOString(),
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cpus: cpuList.length,
    memoryBytes: totalmem(),
    ...(commit === undefined ? {} : { commit }),
    quick: options.quick,
    measurements: [],
    notes: options.notes ?? [],
  };
}

/** A Figure from a Summary: ops/s (`'opsPerSec'`) or time in ms (`'ms'`). */
export function figure(
  summary: Summary,
  use: 'opsPerSec' | 'ms',
  memory?: { heapBytes?: number; rssBytes?: number },
): Figure {
  const base =
    use === 'ms'
      ? { value: summary.medianMs, min: summary.minMs, max: summary.maxMs }
      : {
          value: required(summary.opsPerSec),
          min: required(summary.opsPerSecMin),
          max: required(summary.opsPerSecMax),
        };
  const measured =
    summary.heapBytes === undefined
      ? {}
      : {
          heapBytes: summary.heapBytes,
          ...(summary.rssBytes === undefined ? {} : { rssBytes: summary.rssBytes }),
        };
  return { ...base, repetitions: summary.repetitions, ...measured, ...memory };
}

function required(value: number | undefined): number {
  if (value === undefined) throw new TypeError('summary has no ops count: pass ops to measure/summarize');
  return value;
}

/** How many times better rovkit is than `peer` (above 1: rovkit wins), or undefined. */
export function ratio(m: Measurement, peer: string): number | undefined {
  const ours = m.rovkit?.value;
  const theirs = m.peers?.[peer]?.value;
  if (ours === undefined || theirs === undefined || ours <= 0 || theirs <= 0) return undefined;
  return m.better === 'higher' ? ours / theirs : theirs / ours;
}

/** The target in `unit`, resolving a relative target against the peer's figure. */
export function effectiveTarget(m: Measurement): number | undefined {
  if (m.target !== undefined) return m.target;
  if (m.relativeTarget === undefined) return undefined;
  const peer = m.peers?.[m.relativeTarget.peer]?.value;
  if (peer === undefined) return undefined;
  return m.better === 'higher' ? peer * m.relativeTarget.factor : peer / m.relativeTarget.factor;
}

/** Whether rovkit meets the target; undefined without a target or a figure. */
export function targetMet(m: Measurement): boolean | undefined {
  const target = effectiveTarget(m);
  const value = m.rovkit?.value;
  if (target === undefined || value === undefined) return undefined;
  return m.better === 'higher' ? value >= target : value <= target;
}

/** Three significant digits (whole numbers below 10,000 in full), with k / M / G above 10,000. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const scaled =
    abs >= 1e9
      ? [value / 1e9, ' G']
      : abs >= 1e6
        ? [value / 1e6, ' M']
        : abs >= 1e4
          ? [value / 1e3, ' k']
          : [value, ''];
  const n = scaled[0] as number;
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return `${n.toFixed(digits)}${scaled[1] as string}`;
}

function formatFigure(f: Figure | undefined): string {
  if (f === undefined) return '–';
  const range =
    f.min !== undefined && f.max !== undefined ? ` (${formatNumber(f.min)}–${formatNumber(f.max)})` : '';
  return `${formatNumber(f.value)}${range}`;
}

function peerNames(report: BenchReport): string[] {
  const names: string[] = [];
  for (const m of report.measurements)
    for (const name of Object.keys(m.peers ?? {})) if (!names.includes(name)) names.push(name);
  return names;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * The report as Markdown: a line on the machine, then one row per measurement with the
 * median and min–max of rovkit, the target and whether it is met, and for each peer its
 * figure and rovkit's ratio to it (above 1: rovkit better, whatever the unit's direction).
 */
export function renderMarkdown(report: BenchReport): string {
  const peers = peerNames(report);
  const lines: string[] = [];
  lines.push(
    `Run ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, Node ${report.node}, ${report.platform}, ` +
      `${report.cpus} × ${report.cpu}, ${formatNumber(report.memoryBytes / 2 ** 30)} GiB` +
      `${report.commit === undefined ? '' : `, commit ${report.commit}`}${report.quick ? ', quick mode' : ''}. ` +
      'Figures are medians with (min–max) over the repetitions; ratio = how many times better rovkit is.',
  );
  lines.push('');
  const header = [
    'Scenario',
    'Unit',
    'Target',
    'rovkit',
    'Met',
    'rovkit heap / RSS, MB',
    ...peers.map((p) => `${p} (ratio)`),
  ];
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const m of report.measurements) {
    const target = effectiveTarget(m);
    const relative =
      m.relativeTarget === undefined ? '' : ` (${m.relativeTarget.factor}× ${m.relativeTarget.peer})`;
    const targetText =
      target === undefined
        ? relative === ''
          ? '–'
          : relative.trim()
        : `${m.better === 'higher' ? '≥' : '≤'} ${formatNumber(target)}${relative}`;
    const met = targetMet(m);
    const row = [
      m.note === undefined ? m.scenario : `${m.scenario} (${m.note})`,
      m.unit,
      targetText,
      formatFigure(m.rovkit),
      met === undefined ? '' : met ? 'yes' : '**no**',
      memoryText(m.rovkit),
      ...peers.map((p) => {
        const f = m.peers?.[p];
        if (f === undefined) return '';
        const r = ratio(m, p);
        return `${formatFigure(f)}${r === undefined ? '' : ` (${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×)`}`;
      }),
    ];
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  for (const note of report.notes) lines.push('', `- ${note}`);
  return `${lines.join('\n')}\n`;
}

// "heap / RSS" in MB (10^6 bytes), either side "–" when not measured.
function memoryText(f: Figure | undefined): string {
  if (f === undefined || (f.heapBytes === undefined && f.rssBytes === undefined)) return '';
  const mb = (bytes: number | undefined): string => (bytes === undefined ? '–' : (bytes / 1e6).toFixed(0));
  return `${mb(f.heapBytes)} / ${mb(f.rssBytes)}`;
}

/**
 * Writes the report as benchmarks/results/<date>-node<major>.json (quick runs:
 * <date>-node<major>-quick.json, so that they never replace a full run) and returns the path.
 */
export function writeReport(report: BenchReport, dir: string = resultsDir, kind = ''): string {
  mkdirSync(dir, { recursive: true });
  const major = report.node.replace(/^v/, '').split('.')[0];
  const path = join(dir, `${report.date}-node${major}${kind}${report.quick ? '-quick' : ''}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

/**
 * Puts `markdown` between the markers of `nodeMajor` in `path` (benchmarks/README.md by
 * default), so that each Node major keeps its own table; appends a section with the markers
 * when the file lacks them, and creates the file if needed.
 */
export function updateReadme(markdown: string, nodeMajor: string, path: string = readmePath): void {
  const { start: startMarker, end: endMarker } = readmeMarkers(nodeMajor);
  const block = `${startMarker}\n${markdown.trimEnd()}\n${endMarker}`;
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# rovkit benchmarks\n';
  const start = old.indexOf(startMarker);
  const end = old.indexOf(endMarker);
  const next =
    start >= 0 && end > start
      ? `${old.slice(0, start)}${block}${old.slice(end + endMarker.length)}`
      : `${old.trimEnd()}\n\n### Node ${nodeMajor}\n\n${block}\n`;
  writeFileSync(path, next);
}
