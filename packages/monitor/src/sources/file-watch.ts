// Watching a file for changes by polling its stat (fs.watchFile): unlike fs.watch it
// survives the file being replaced by a rename, which is how rpki-client, Routinator and
// config management tools write their output. A change is acted on once the file has
// stopped changing for `settleMs`, so that a file caught half-written is not read. A
// reload that failed is tried again every `intervalMs` until one succeeds: a transient
// error (EMFILE, a permission fixed, a disk back) must not wait for the file to change.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface FileWatchOptions {
  /** ms between stat polls. */
  readonly intervalMs: number;
  /** ms without a further change before onChange runs (default: intervalMs). */
  readonly settleMs?: number;
}

export class FileWatch {
  readonly #file: string;
  readonly #options: FileWatchOptions;
  readonly #onChange: () => Promise<boolean>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #watching = false;

  /** `onChange` reloads the file and resolves false when that failed (it is retried). */
  constructor(file: string, options: FileWatchOptions, onChange: () => Promise<boolean>) {
    this.#file = file;
    this.#options = options;
    this.#onChange = onChange;
  }

  /**
   * `seen`: the file's stat from before it was last read. watchFile compares with its own
   * first stat, so a change between the read and that stat would never be seen: it is
   * compared with `seen` once.
   */
  start(seen?: Stats): void {
    if (this.#watching) return;
    this.#watching = true;
    watchFile(this.#file, { interval: this.#options.intervalMs, persistent: false }, this.#listener);
    if (seen !== undefined)
      void stat(this.#file).then(
        (current) => this.#watching && this.#listener(current, seen),
        () => undefined,
      );
  }

  async stop(): Promise<void> {
    this.#watching = false;
    unwatchFile(this.#file, this.#listener);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  readonly #listener = (current: Stats, previous: Stats): void => {
    if (
      current.mtimeMs === previous.mtimeMs &&
      current.size === previous.size &&
      current.ino === previous.ino
    )
      return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fire(), this.#options.settleMs ?? this.#options.intervalMs);
  };

  // One onChange at a time; a change seen meanwhile runs it once more afterwards.
  #fire(): void {
    this.#timer = undefined;
    if (!this.#watching) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#onChange()
      .catch(() => false)
      .then((ok) => {
        this.#running = undefined;
        if (!this.#watching) return;
        if (this.#again) {
          this.#again = false;
          this.#fire();
        } else if (!ok && this.#timer === undefined) {
          this.#timer = setTimeout(() => this.#fire(), this.#options.intervalMs);
        }
      });
  }
}
