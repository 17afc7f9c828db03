// For tests of sources that watch files or sockets: replace a file the way an operator's
// tooling does (write beside, rename over), and wait for a condition with a deadline.
import { renameSync, writeFileSync } from 'node:fs';

/** Writes `text` to `path` atomically: a watcher never sees half a file. */
export function replaceFile(path: string, text: string | Buffer): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Waits until `check()` is true, polling every 10 ms; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
