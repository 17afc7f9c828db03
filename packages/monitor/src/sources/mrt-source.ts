// An MRT dump (RIB or updates; gzip, bzip2 or plain) as a route source: the routes it
// announces, once each (a prefix seen from many peers with one origin is one route). Read
// once at start; withdrawals in update files are not applied, as `rovkit mrt` prints
// only announcements. The BMP listener of issue 6 will be the live counterpart.
import { OriginKind, type Family } from '../bgp/route.js';
import { MrtFileSource, type MrtPeer, type MrtSink } from '../feeds/mrt/index.js';
import type { Logger } from '../log.js';
import type { RouteSink, RouteSource } from '../routes/route-source.js';

export interface MrtRouteSourceOptions {
  readonly file: string;
  readonly sink: RouteSink;
  readonly log: Logger;
  /** Group of the routes (default "mrt"). */
  readonly group?: string;
  /** Only routes originated by these ASes (default: all). */
  readonly origins?: ReadonlySet<number>;
  /** Longest record read (default DEFAULT_MAX_RECORD_LENGTH); a longer one stops the read, what came before stays. */
  readonly maxRecordLength?: number;
}

export class MrtRouteSource implements RouteSource {
  readonly name: string;
  readonly #options: MrtRouteSourceOptions;
  #reader: MrtFileSource | undefined;
  #id = -1;
  routes = 0;

  constructor(options: MrtRouteSourceOptions) {
    this.#options = options;
    this.name = `mrt:${options.file}`;
  }

  /**
   * Reads the whole dump; a cut or corrupt file, or one with a record over the length
   * limit, keeps what came before the cut (logged with the file, offset and reason).
   */
  async start(): Promise<void> {
    const { sink, log, origins } = this.#options;
    if (this.#id < 0) this.#id = sink.registerSource(this.name);
    const id = this.#id;
    const group = sink.groupId(this.#options.group ?? 'mrt');
    const adapter: MrtSink = {
      announce: (
        peer: MrtPeer,
        family: Family,
        w0: number,
        w1: number,
        w2: number,
        w3: number,
        length: number,
        _pathId: number,
        origin: number,
        kind: OriginKind,
      ) => {
        const isSet = kind === OriginKind.Set;
        const asn = kind === OriginKind.Local ? peer.asn : origin;
        if (origins !== undefined && (isSet || !origins.has(asn))) return;
        sink.announce(id, family, w0, w1, w2, w3, length, asn, isSet, group, -1);
        this.routes++;
      },
      withdraw: () => {},
      endOfRib: () => {},
    };
    const started = Date.now();
    this.#reader = new MrtFileSource({
      file: this.#options.file,
      sink: adapter,
      ...(this.#options.maxRecordLength === undefined
        ? {}
        : { maxRecordLength: this.#options.maxRecordLength }),
    });
    const result = await this.#reader.start();
    const cut = result.tooLarge ?? result.truncated ?? result.decompressError;
    log.log(cut === undefined ? 'info' : 'warn', 'mrt_loaded', {
      source: this.name,
      records: result.stats.records,
      announcements: this.routes,
      complete: result.complete,
      ms: Date.now() - started,
      ...(cut === undefined ? {} : { cut }),
    });
  }

  async stop(): Promise<void> {
    await this.#reader?.stop();
  }
}
