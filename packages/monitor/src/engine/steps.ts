// Walks over every route (address space, the fallback analysis) are generators that yield
// every few thousand nodes, so that one code path serves both ways of running them: to the
// end at once (tests, benchmarks, `analyseNow`) or in slices of a few ms with a turn of the
// event loop between, so that a full table's walk does not hold up /metrics for hundreds of
// ms. A walk in slices reads a copy of the store's columns (RouteStore.columns), so routes
// changing between slices never make a result of two states; `valid()` false between
// slices (the monitor stopping) gives up.

/** Nodes visited between yields: about 0.1 ms of walking. */
export const STEP_NODES = 4096;

export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to the end now. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs `steps` in slices of about `sliceMs`, yielding to the event loop between them;
 * resolves with the result, or undefined when `valid()` was false after a slice.
 */
export async function runSliced<T>(
  steps: Steps<T>,
  valid: () => boolean,
  sliceMs = 8,
): Promise<T | undefined> {
  for (;;) {
    const end = performance.now() + sliceMs;
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() >= end) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!valid()) {
      steps.return(undefined as T);
      return undefined;
    }
  }
}
