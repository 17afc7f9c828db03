// A VRP file (rpki-client or Routinator JSON or CSV, gzipped or not) as a VRP source:
// read at start, watched, and reloaded on change. A reload computes the delta against
// the data held (VrpTable.diff); a broken file leaves the last good data in place, is
// reported with its file and line, and is tried again every poll interval until it reads.
import {
  DEFAULT_VRP_TOKEN_LIMIT,
  loadVrpFile,
  VrpFileError,
  VrpList,
  VrpTable,
  type LoadVrpOptions,
  type LoadVrpResult,
} from '@rovkit/core';
import { stat } from 'node:fs/promises';
import type { AlertSink } from '../alerts.js';
import type { Logger } from '../log.js';
import { FileWatch } from './file-watch.js';
import type { VrpSink, VrpSource } from './vrp-source.js';

export interface VrpFileSourceOptions {
  readonly file: string;
  readonly sink: VrpSink;
  readonly log: Logger;
  readonly alerts: AlertSink;
  /** ms between checks of the file (default 2000). */
  readonly pollMs?: number;
  /** ms the file must stay unchanged before it is read (default: pollMs). */
  readonly settleMs?: number;
  /** Longest JSON token or ROA object, or CSV line, in bytes (default DEFAULT_VRP_TOKEN_LIMIT). */
  readonly tokenLimit?: number;
  /** Reads the file (default loadVrpFile; tests inject failures here). */
  readonly load?: (file: string, options: LoadVrpOptions) => Promise<LoadVrpResult>;
}

export class VrpFileSource implements VrpSource {
  readonly name: string;
  readonly file: string;
  /** The last good data. */
  table: VrpTable | undefined;
  /** The error of the last reload, until a good one. */
  lastError: VrpFileError | undefined;
  readonly #options: VrpFileSourceOptions;
  #id = -1;
  #watch: FileWatch | undefined;

  constructor(options: VrpFileSourceOptions) {
    this.#options = options;
    this.file = options.file;
    this.name = `file:${options.file}`;
  }

  /** Reads the file (rejecting with VrpFileError when it is broken), then watches it. */
  async start(): Promise<void> {
    if (this.#id < 0) this.#id = this.#options.sink.registerVrpSource(this.name);
    const seen = await stat(this.file).catch(() => undefined);
    await this.#load();
    const pollMs = this.#options.pollMs ?? 2000;
    this.#watch = new FileWatch(this.file, { intervalMs: pollMs, settleMs: this.#options.settleMs }, () =>
      this.reload(),
    );
    this.#watch.start(seen);
  }

  async stop(): Promise<void> {
    await this.#watch?.stop();
    this.#watch = undefined;
  }

  /** Reloads now; a broken file is logged and alerted, and the data held stays. False then. */
  async reload(): Promise<boolean> {
    const failing = this.lastError !== undefined;
    try {
      await this.#load();
    } catch (error) {
      const e =
        error instanceof VrpFileError
          ? error
          : new VrpFileError(this.file, undefined, String((error as Error).message ?? error), {
              cause: error,
            });
      this.lastError = e;
      this.#options.log.log('error', 'vrp_file_rejected', {
        source: this.name,
        file: e.file,
        line: e.line,
        error: e,
      });
      this.#options.alerts.raise({
        kind: 'vrp_source_error',
        key: this.name,
        severity: 'warning',
        message: `${e.message} (keeping the last good data)`,
        fields: { source: this.name, file: e.file, line: e.line ?? null },
      });
      return false;
    }
    const alerts = this.#options.alerts;
    if (alerts.clear(['vrp_source_error'], this.name) || failing)
      alerts.notify({
        kind: 'vrp_source_recovered',
        key: this.name,
        severity: 'info',
        message: `${this.file} reads again: ${this.table!.size} VRPs`,
        fields: { source: this.name, file: this.file, vrps: this.table!.size, resolves: 'vrp_source_error' },
      });
    return true;
  }

  async #load(): Promise<void> {
    const started = Date.now();
    const load = this.#options.load ?? loadVrpFile;
    const { table: next } = await load(this.file, {
      table: new VrpTable({ capacity: 1 << 14 }),
      tokenLimit: this.#options.tokenLimit ?? DEFAULT_VRP_TOKEN_LIMIT,
    });
    const first = this.table === undefined;
    const { announced, withdrawn } = first
      ? { announced: everything(next), withdrawn: new VrpList(1) }
      : this.table!.diff(next);
    this.table = next;
    this.lastError = undefined;
    this.#options.sink.applyVrps(this.#id, announced, withdrawn, first);
    this.#options.log.log('info', 'vrp_file_loaded', {
      source: this.name,
      vrps: next.size,
      announced: announced.length,
      withdrawn: withdrawn.length,
      ms: Date.now() - started,
    });
  }
}

function everything(table: VrpTable): VrpList {
  const list = new VrpList(Math.max(16, table.size));
  table.forEachVrp((family, w0, w1, w2, w3, length, maxLength, asn) => {
    if (family === 4) list.pushV4(w0, length, maxLength, asn);
    else list.pushV6(w0, w1, w2, w3, length, maxLength, asn);
  });
  return list;
}
