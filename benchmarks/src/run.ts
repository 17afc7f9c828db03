// `npm run bench` (and `npm run bench -- --quick`): runs every scenario module in one
// process, side by side with the peers, and writes benchmarks/results/<date>-node<major>.json
// plus the Markdown table in benchmarks/README.md.
//
// Options:
//   --quick          the 424k set only, fewer repetitions, no callgrind (under 2 minutes)
//   --only a,b       run only the scenario modules with these names (see `scenarios` below)
//   --no-write       print the Markdown table but write neither the JSON nor the README
// Quick runs write benchmarks/results/<date>-node<major>-quick.json and leave the README alone;
// so do --only runs (<date>-node<major>-only-<names>.json).
//
// Adding scenarios: write a module exporting a ScenarioModule (a name and an async run that
// calls context.add for each row) and put it in `scenarios` below.
import { realpathSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { loadRealRoutes, routePrefixes, type RouteSet } from './datasets.js';
import {
  createReport,
  renderMarkdown,
  updateReadme,
  writeReport,
  type BenchReport,
  type Measurement,
} from './report.js';
import { benchMrtParse, mrtParseMeasurements } from './mrt-parse.js';
import { benchRtrSync, rtrSyncMeasurements } from './rtr-sync.js';
import { coreScenarios } from './scenarios/core.js';
import { monitorScenarios } from './scenarios/monitor.js';
import { bmpScenarios } from './scenarios/bmp.js';
import { soakScenarios } from './scenarios/soak.js';

/** What a scenario module gets: the run's mode, the shared real data and the report. */
export interface BenchContext {
  readonly quick: boolean;
  /** Appends a row to the report (rows keep the order they are added in). */
  add(measurement: Measurement): void;
  /** A line under the table (dataset provenance, method, a peer that could not run...). */
  note(text: string): void;
  /** Progress on stderr, so that a long run shows where it is. */
  log(text: string): void;
  /** The 1.27 M real routes, read once per run and shared (read-only). */
  routes(): RouteSet;
  /** routePrefixes(routes()), built once, for the string APIs. */
  prefixes(): readonly string[];
}

export interface ScenarioModule {
  /** Short name for --only, e.g. "core". */
  readonly name: string;
  run(context: BenchContext): Promise<void>;
}

const rtrSyncScenarios: ScenarioModule = {
  name: 'rtr',
  async run(context) {
    const result = await benchRtrSync({ quick: context.quick, log: context.log });
    for (const row of rtrSyncMeasurements(result)) context.add(row);
    for (const note of result.notes) context.note(`RTR: ${note}`);
  },
};

const mrtParseScenarios: ScenarioModule = {
  name: 'mrt',
  async run(context) {
    const rows = await benchMrtParse({ quick: context.quick, log: context.log });
    for (const row of mrtParseMeasurements(rows)) context.add(row);
  },
};

/** The scenario modules, in report order. */
export const scenarios: readonly ScenarioModule[] = [
  coreScenarios,
  rtrSyncScenarios,
  monitorScenarios,
  mrtParseScenarios,
  bmpScenarios,
  soakScenarios,
];

interface Options {
  readonly quick: boolean;
  readonly only: readonly string[] | undefined;
  readonly write: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  let quick = false;
  let write = true;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--no-write') write = false;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value === '') throw new RangeError('--only needs a list of scenario names');
      only = value.split(',');
    } else throw new RangeError(`unknown option ${arg} (expected --quick, --only NAMES, --no-write)`);
  }
  if (only !== undefined) {
    for (const name of only) {
      if (!scenarios.some((s) => s.name === name)) {
        throw new RangeError(
          `no scenario module "${name}" (have: ${scenarios.map((s) => s.name).join(', ')})`,
        );
      }
    }
  }
  return { quick, only, write };
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<BenchReport> {
  const options = parseArgs(argv);
  const started = Date.now();
  const startLoad = loadavg();
  const report = createReport({ quick: options.quick });
  let routes: RouteSet | undefined;
  let prefixes: readonly string[] | undefined;
  const log = (text: string): void => {
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);
  };
  const context: BenchContext = {
    quick: options.quick,
    add: (m) => {
      report.measurements.push(m);
    },
    note: (text) => {
      report.notes.push(text);
    },
    log,
    routes: () => (routes ??= loadRealRoutes()),
    prefixes: () => (prefixes ??= routePrefixes(context.routes())),
  };
  let failed = 0;
  for (const scenario of scenarios) {
    if (options.only !== undefined && !options.only.includes(scenario.name)) continue;
    log(`scenario module ${scenario.name}`);
    try {
      await scenario.run(context);
    } catch (error) {
      failed++;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`scenario module ${scenario.name} failed: ${message}`);
      context.note(`Scenario module "${scenario.name}" failed: ${String(error)}`);
    }
  }
  // The machine may be shared: say how busy it was, since that moves every figure.
  const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(' / ');
  context.note(
    `Whole run: ${((Date.now() - started) / 1000).toFixed(0)} s. Load average (1 / 5 / 15 min) ` +
      `at the start ${load(startLoad)}, at the end ${load(loadavg())}.`,
  );
  const markdown = renderMarkdown(report);
  if (options.write) {
    // A run of some modules only has a file of its own and leaves the full run's alone.
    const only = options.only === undefined ? '' : `-only-${options.only.join('-')}`;
    const path = writeReport(report, undefined, only);
    // A quick or partial run never replaces the full run's table in the README.
    const readme = !options.quick && options.only === undefined;
    if (readme) updateReadme(markdown, process.versions.node.split('.')[0]!);
    log(`wrote ${path}${readme ? ' and benchmarks/README.md' : ''}`);
  }
  process.stdout.write(markdown);
  if (failed > 0) process.exitCode = 1;
  return report;
}

// Run only as the entry point: scenario modules import this file's types.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
