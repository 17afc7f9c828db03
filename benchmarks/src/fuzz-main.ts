// The command line shared by the fuzz scripts: `--inputs N --seed S`, the result as JSON on
// stdout, exit status 1 when an invariant broke or the heap grew by more than 50 MB.

export interface FuzzRunOptions {
  readonly inputs: number | undefined;
  readonly seed: number | undefined;
  readonly log: (text: string) => void;
}

export interface FuzzRunResult {
  readonly violations: readonly string[];
  /** V8 heap after a full GC, MB, at the start and along the run. */
  readonly heapMb: readonly number[];
}

/** What every fuzz script reports, beside what it adds of its own. */
export interface FuzzReport extends FuzzRunResult {
  readonly inputs: number;
  /** PRNG seed: the same seed plays the same inputs. */
  readonly seed: number;
  readonly seconds: number;
  readonly inputsPerSecond: number;
  /** How often each outcome came (an error code, a status, "ok"...). */
  readonly outcomes: Readonly<Record<string, number>>;
}

export async function fuzzMain(run: (options: FuzzRunOptions) => Promise<FuzzRunResult>): Promise<void> {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i < 0 || process.argv[i + 1] === undefined ? undefined : Number(process.argv[i + 1]);
  };
  const result = await run({
    inputs: arg('--inputs'),
    seed: arg('--seed'),
    log: (t) => process.stderr.write(`${t}\n`),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  const growth = result.heapMb.at(-1)! - result.heapMb[0]!;
  if (result.violations.length > 0 || growth > 50) process.exitCode = 1;
}
