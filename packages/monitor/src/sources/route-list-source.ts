// A route list file as a route source: read at start (a broken file stops the start
// with file, line and reason), watched, and reloaded on change. A reload withdraws the
// routes that left the file and announces new or changed ones; a broken file keeps the
// routes held, is reported, and is tried again every poll interval until it reads.
import { stat } from 'node:fs/promises';
import type { AlertSink } from '../alerts.js';
import { RouteFileError } from '../errors.js';
import type { Logger } from '../log.js';
import { DEFAULT_ROUTE_LINE_LIMIT, readRouteList, type RouteEntry } from '../routes/route-list.js';
import type { RouteSink, RouteSource } from '../routes/route-source.js';
import { FileWatch } from './file-watch.js';

export interface RouteListSourceOptions {
  readonly file: string;
  readonly sink: RouteSink;
  readonly log: Logger;
  readonly alerts: AlertSink;
  /** ms between checks of the file (default 2000). */
  readonly pollMs?: number;
  readonly settleMs?: number;
  /** Called with the entries after each successful read (the BMP feed groups by them). */
  readonly onLoad?: (entries: readonly RouteEntry[]) => void;
  /** Longest line accepted, in bytes (default DEFAULT_ROUTE_LINE_LIMIT). */
  readonly lineLimit?: number;
  /** Reads and parses the file (default readRouteList; tests inject failures here). */
  readonly read?: (file: string, lineLimit: number) => Promise<RouteEntry[]>;
}

export class RouteListSource implements RouteSource {
  readonly name: string;
  readonly file: string;
  lastError: RouteFileError | undefined;
  /** Routes held, by "prefix origin". */
  #routes = new Map<string, RouteEntry>();
  readonly #options: RouteListSourceOptions;
  #id = -1;
  #watch: FileWatch | undefined;

  constructor(options: RouteListSourceOptions) {
    this.#options = options;
    this.file = options.file;
    this.name = `routes:${options.file}`;
  }

  get size(): number {
    return this.#routes.size;
  }

  async start(): Promise<void> {
    if (this.#id < 0) this.#id = this.#options.sink.registerSource(this.name);
    const seen = await stat(this.file).catch(() => undefined);
    await this.#load();
    this.#watch = new FileWatch(
      this.file,
      { intervalMs: this.#options.pollMs ?? 2000, settleMs: this.#options.settleMs },
      () => this.reload(),
    );
    this.#watch.start(seen);
  }

  async stop(): Promise<void> {
    await this.#watch?.stop();
    this.#watch = undefined;
  }

  /** Reloads now; a broken file is logged and alerted, and the routes held stay. False then. */
  async reload(): Promise<boolean> {
    const failing = this.lastError !== undefined;
    try {
      await this.#load();
    } catch (error) {
      const e =
        error instanceof RouteFileError
          ? error
          : new RouteFileError(this.file, undefined, (error as Error).message, { cause: error });
      this.lastError = e;
      this.#options.log.log('error', 'route_file_rejected', {
        source: this.name,
        file: e.file,
        line: e.line,
        error: e,
      });
      this.#options.alerts.raise({
        kind: 'route_source_error',
        key: this.name,
        severity: 'warning',
        message: `${e.message} (keeping the ${this.#routes.size} routes held)`,
        fields: { source: this.name, file: e.file, line: e.line ?? null, reason: e.reason },
      });
      return false;
    }
    const alerts = this.#options.alerts;
    if (alerts.clear(['route_source_error'], this.name) || failing)
      alerts.notify({
        kind: 'route_source_recovered',
        key: this.name,
        severity: 'info',
        message: `${this.file} reads again: ${this.#routes.size} routes`,
        fields: {
          source: this.name,
          file: this.file,
          routes: this.#routes.size,
          resolves: 'route_source_error',
        },
      });
    return true;
  }

  async #load(): Promise<void> {
    const read = this.#options.read ?? readRouteList;
    const entries = await read(this.file, this.#options.lineLimit ?? DEFAULT_ROUTE_LINE_LIMIT);
    const next = new Map<string, RouteEntry>();
    for (const e of entries) next.set(`${e.prefix} ${e.isSet ? 'none' : e.origin}`, e);
    const sink = this.#options.sink;
    let withdrawn = 0;
    for (const [key, e] of this.#routes) {
      if (next.has(key)) continue;
      sink.withdraw(this.#id, e.family, e.w0, e.w1, e.w2, e.w3, e.length, e.origin, e.isSet);
      withdrawn++;
    }
    let announced = 0;
    for (const [key, e] of next) {
      const old = this.#routes.get(key);
      if (old !== undefined && old.group === e.group && old.description === e.description) continue;
      sink.announce(
        this.#id,
        e.family,
        e.w0,
        e.w1,
        e.w2,
        e.w3,
        e.length,
        e.origin,
        e.isSet,
        sink.groupId(e.group),
        sink.descriptionId(e.description),
      );
      announced++;
    }
    this.#routes = next;
    this.lastError = undefined;
    this.#options.onLoad?.([...next.values()]);
    this.#options.log.log('info', 'route_file_loaded', {
      source: this.name,
      routes: next.size,
      announced,
      withdrawn,
    });
  }
}
