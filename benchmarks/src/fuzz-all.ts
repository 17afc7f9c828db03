// `npm run fuzz` (after a build): every fuzz script of this folder in a child process of its
// own, a million inputs each by default (`--inputs N`, `--seed S`), one after the other so
// that each has both cores' worth of machine. Writes benchmarks/results/<date>-node<major>-fuzz.json
// and the fuzz table of benchmarks/README.md: violations (target 0) and heap growth per target.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createReport, renderMarkdown, updateReadme, writeReport } from './report.js';

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
  let failed = 0;
  for (const [name, what] of targets) {
    if (only !== undefined && !only.includes(name)) continue;
    const script = join(here, `fuzz-${name}.js`);
    if (!existsSync(script)) {
      report.notes.push(`fuzz-${name}: not built`);
      continue;
    }
    process.stderr.write(`fuzz ${name}: ${inputs} inputs, seed ${seed}\n`);
    const { result, seconds } = await runTarget(script, inputs, seed);
    const growth = result.heapMb.at(-1)! - result.heapMb[0]!;
    if (result.violations.length > 0 || growth > 50) failed++;
    report.measurements.push({
      id: `fuzz.${name}`,
      scenario: `Fuzz ${what}: ${inputs.toLocaleString('en-US')} inputs, seed ${seed}`,
      unit: 'violations',
      better: 'lower',
      target: 0,
      rovkit: { value: result.violations.length, repetitions: inputs },
      note: `heap after GC ${result.heapMb[0]!.toFixed(1)} → ${result.heapMb.at(-1)!.toFixed(1)} MB (peak ${Math.max(...result.heapMb).toFixed(1)}), ${seconds.toFixed(0)} s${result.violations.length > 0 ? `; first: ${result.violations[0]}` : ''}`,
    });
  }
  const path = writeReport(report, undefined, '-fuzz');
  const major = process.versions.node.split('.')[0]!;
  if (!report.quick && only === undefined) updateReadme(renderMarkdown(report), `${major}-fuzz`);
  process.stderr.write(`wrote ${path}\n`);
  process.stdout.write(renderMarkdown(report));
  if (failed > 0) process.exitCode = 1;
}

await main();
