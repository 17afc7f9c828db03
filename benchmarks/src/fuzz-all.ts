// `npm run fuzz` (after a build): every fuzz script of this folder in a child process of its
// own, a million inputs each by default (`--inputs N`, `--seed S`), `--parallel N` at once
// (default 1: one after the other; the HTTP fuzzer alone takes most of an hour, so two
// lanes on two cores finish the rest beside it). Writes benchmarks/results/<date>-node<major>-fuzz.json
// and the fuzz table of benchmarks/README.md: violations (target 0) and heap growth per target.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createReport, renderMarkdown, updateReadme, writeReport, type Measurement } from './report.js';

/** The fuzz scripts, by target, and what each feeds its inputs to. */
const targets: readonly (readonly [string, string])[] = [
  ['rtr', 'RTR PDUs and sessions (rtr-client)'],
  ['bmp', 'BMP messages and BGP UPDATEs (listener)'],
  ['http', 'HTTP requests (the monitor API over loopback)'],
  ['files', 'VRP JSON/CSV files and route lists'],
  ['bzip2', 'corrupted bzip2 streams, against bzip2 -dc'],
];

interface ChildResult {
  readonly violations: readonly string[];
  readonly heapMb: readonly number[];
  readonly [key: string]: unknown;
}

function runTarget(
  script: string,
  inputs: number,
  seed: number,
): Promise<{ result: ChildResult; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--inputs', String(inputs), '--seed', String(seed)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve({ result: JSON.parse(out) as ChildResult, seconds: (Date.now() - started) / 1000 });
      } catch (error) {
        reject(new Error(`${script} printed no result: ${out.slice(-500)}`, { cause: error }));
      }
    });
  });
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const inputs = Number(arg('--inputs') ?? 1_000_000);
  const seed = Number(arg('--seed') ?? 1);
  const only = arg('--only')?.split(',');
  const here = dirname(fileURLToPath(import.meta.url));
  const report = createReport({ quick: inputs < 1_000_000 });
  const parallel = Math.max(1, Number(arg('--parallel') ?? 1));
  const chosen = targets.filter(([name]) => only === undefined || only.includes(name));
  const rows = new Map<string, Measurement>();
  let failed = 0;
  const runOne = async (name: string, what: string): Promise<void> => {
    const script = join(here, `fuzz-${name}.js`);
    if (!existsSync(script)) {
      report.notes.push(`fuzz-${name}: not built`);
      return;
    }
    process.stderr.write(`fuzz ${name}: ${inputs} inputs, seed ${seed}\n`);
    const { result, seconds } = await runTarget(script, inputs, seed);
    const growth = result.heapMb.at(-1)! - result.heapMb[0]!;
    if (result.violations.length > 0 || growth > 50) failed++;
    rows.set(name, {
      id: `fuzz.${name}`,
      scenario: `Fuzz ${what}: ${inputs.toLocaleString('en-US')} inputs, seed ${seed}`,
      unit: 'violations',
      better: 'lower',
      target: 0,
      rovkit: { value: result.violations.length, repetitions: inputs },
      note: `heap after GC ${result.heapMb[0]!.toFixed(1)} → ${result.heapMb.at(-1)!.toFixed(1)} MB (peak ${Math.max(...result.heapMb).toFixed(1)}), ${seconds.toFixed(0)} s${result.violations.length > 0 ? `; first: ${result.violations[0]}` : ''}`,
    });
    process.stderr.write(`fuzz ${name}: ${result.violations.length} violations, ${seconds.toFixed(0)} s\n`);
  };
  // Lanes take the next target when free; the slowest (HTTP) goes first.
  const queue = [...chosen].sort(([a], [b]) => Number(b === 'http') - Number(a === 'http'));
  const lane = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await runOne(next[0], next[1]);
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  for (const [name] of chosen) {
    const row = rows.get(name);
    if (row !== undefined) report.measurements.push(row);
  }
  const path = writeReport(report, undefined, '-fuzz');
  const major = process.versions.node.split('.')[0]!;
  if (!report.quick && only === undefined) updateReadme(renderMarkdown(report), `${major}-fuzz`);
  process.stderr.write(`wrote ${path}\n`);
  process.stdout.write(renderMarkdown(report));
  if (failed > 0) process.exitCode = 1;
}

await main();
