// RTR caches as a VRP source: one @rovkit/rtr-client RtrClient with the caches in
// preference order (it fails over and returns to the preferred one by itself). This
// adapter hands its deltas to the monitor and keeps a state per cache for metrics and
// alerts. An unreachable cache is not fatal: the cache is "down" and the client retries.
import {
  parseCacheAddress,
  RtrClient,
  tcpTransport,
  tlsTransport,
  type RtrClientState,
  type RtrDataState,
  type RtrDelta,
  type RtrError,
  type Transport,
} from '@rovkit/rtr-client';
import type { AlertSink } from '../alerts.js';
import type { Logger } from '../log.js';
import type { VrpSink, VrpSource } from './vrp-source.js';

/**
 * A cache's connection state as `rovkit_rtr_state{state}` names it: `idle` not in use (a
 * backup while a preferred cache works), `connecting` and `syncing` on the way to a first
 * sync, `synced` in session and in sync (a refresh on that session stays `synced`),
 * `down` the last attempt failed; a cache that failed stays `down` through its retries
 * until it syncs again (a cache that connects but never finishes a response is down).
 */
export const CACHE_STATES = ['idle', 'connecting', 'syncing', 'synced', 'down'] as const;
export type CacheState = (typeof CACHE_STATES)[number];

/** The RTR data's state as `rovkit_rtr_data_state{state}` names it (see RtrDataState). */
export const DATA_STATES = ['synced', 'stale', 'expired', 'none'] as const;

export interface RtrCacheStatus {
  /** The cache as the client names it, e.g. "tcp://127.0.0.1:8282". */
  readonly name: string;
  state: CacheState;
  /** Serial and version of the data last synced from this cache; undefined before. */
  serial: number | undefined;
  version: number | undefined;
  /** ms since the epoch of the last End of Data from this cache. */
  lastSync: number | undefined;
  stateChanges: number;
  lastError: string | undefined;
}

export interface RtrTlsOptions {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized?: boolean;
}

export interface RtrSourceOptions {
  /** "host:port" in preference order. */
  readonly caches: readonly string[];
  readonly sink: VrpSink;
  readonly log: Logger;
  readonly alerts: AlertSink;
  /** Use TLS (RFC 6810 §7.2) for every cache, with these options. */
  readonly tls?: RtrTlsOptions;
  /** Highest RTR version to speak (default 2). */
  readonly version?: 0 | 1 | 2;
  readonly connectTimeoutMs?: number;
  /** Retry delays (ms): first and cap. */
  readonly backoff?: { readonly initial?: number; readonly max?: number };
  /** Local refresh/retry/expire in seconds, overriding the cache's. */
  readonly timers?: { readonly refresh?: number; readonly retry?: number; readonly expire?: number };
  /** File to persist the RTR state in, for a Serial Query after a restart. */
  readonly statePath?: string;
  /** ms between attempts to return to a more preferred cache (default 60000). */
  readonly switchBackMs?: number;
  /** Payload PDUs one response may stage (client default 4,000,000). */
  readonly maxPayloadPdus?: number;
  /** ms without a byte in a response (client default 30000). */
  readonly responseTimeoutMs?: number;
  /** ms for a whole response, query to End of Data (client default 300000). */
  readonly responseDeadlineMs?: number;
  /**
   * Bytes a response must deliver per interval after its first interval (client default
   * 16384 per 10000 ms; bytes 0: off).
   */
  readonly minProgress?: { readonly bytes?: number; readonly intervalMs?: number };
}

export class RtrSource implements VrpSource {
  readonly name = 'rtr';
  readonly caches: RtrCacheStatus[];
  client: RtrClient | undefined;
  readonly #options: RtrSourceOptions;
  readonly #transports: Transport[];
  /** Caches last reported up. */
  readonly #up = new Set<string>();
  #dataState: RtrDataState = 'none';
  #id = -1;

  /** Throws InvalidArgumentError (RTR_ERR_INVALID_ARGUMENT) for a bad cache address. */
  constructor(options: RtrSourceOptions) {
    this.#options = options;
    this.#transports = options.caches.map((c) => {
      const tls = options.tls;
      if (tls === undefined) return tcpTransport(parseCacheAddress(c, 323));
      return tlsTransport({ ...parseCacheAddress(c, 324), ...tls });
    });
    this.caches = this.#transports.map((t) => ({
      name: t.target,
      state: 'idle',
      serial: undefined,
      version: undefined,
      lastSync: undefined,
      stateChanges: 0,
      lastError: undefined,
    }));
  }

  /** Starts the client; resolves at once (the first sync arrives as a delta). */
  async start(): Promise<void> {
    if (this.#id < 0) this.#id = this.#options.sink.registerVrpSource(this.name);
    const o = this.#options;
    const client = new RtrClient({
      caches: this.#transports,
      ...(o.version === undefined ? {} : { version: o.version }),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeout: o.connectTimeoutMs }),
      ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
      ...(o.timers === undefined ? {} : { timers: o.timers }),
      ...(o.statePath === undefined ? {} : { statePath: o.statePath }),
      ...(o.switchBackMs === undefined ? {} : { switchBackInterval: o.switchBackMs }),
      ...(o.maxPayloadPdus === undefined ? {} : { maxPayloadPdus: o.maxPayloadPdus }),
      ...(o.responseTimeoutMs === undefined ? {} : { responseTimeout: o.responseTimeoutMs }),
      ...(o.responseDeadlineMs === undefined ? {} : { responseDeadline: o.responseDeadlineMs }),
      ...(o.minProgress === undefined
        ? {}
        : {
            minProgress: {
              ...(o.minProgress.bytes === undefined ? {} : { bytes: o.minProgress.bytes }),
              ...(o.minProgress.intervalMs === undefined
                ? {}
                : { intervalMs: o.minProgress.intervalMs, graceMs: o.minProgress.intervalMs }),
            },
          }),
    });
    this.client = client;
    client.on('delta', (delta) => this.#onDelta(delta));
    client.on('stateChange', (state, previous) => this.#onState(state, previous));
    client.on('error', (error, cache) => this.#onError(error, cache));
    client.on('warning', (w) =>
      o.log.log('warn', 'rtr_warning', { cache: w.cache ?? null, message: w.message }),
    );
    client.start();
  }

  async stop(): Promise<void> {
    await this.client?.close();
  }

  /** The data's state, apart from the caches' connection states. */
  get dataState(): RtrDataState {
    return this.client?.dataState ?? 'none';
  }

  #cache(name: string | undefined): RtrCacheStatus | undefined {
    return name === undefined ? undefined : this.caches.find((c) => c.name === name);
  }

  #set(cache: RtrCacheStatus | undefined, state: CacheState): void {
    if (cache === undefined || cache.state === state) return;
    const from = cache.state;
    cache.state = state;
    cache.stateChanges++;
    this.#options.log.log('info', 'rtr_cache_state', { cache: cache.name, from, to: state });
    const alerts = this.#options.alerts;
    // Up and down alternate per cache: syncing -> synced after a reconnect is "up" again
    // only if "down" was said in between.
    if (state === 'synced' && !this.#up.has(cache.name)) {
      this.#up.add(cache.name);
      alerts.clear(['rtr_cache_down', 'rtr_cache_stale', 'rtr_cache_expired'], cache.name);
      alerts.notify({
        kind: 'rtr_cache_up',
        key: cache.name,
        severity: 'info',
        message: `RTR cache ${cache.name} is up (serial ${cache.serial ?? '?'})`,
        fields: { cache: cache.name, serial: cache.serial ?? null, version: cache.version ?? null },
      });
      return;
    }
    if (state === 'down') this.#up.delete(cache.name);
    if (state === 'down')
      alerts.raise({
        kind: 'rtr_cache_down',
        key: cache.name,
        severity: 'critical',
        message: `RTR cache ${cache.name} is down: ${cache.lastError ?? 'connection closed'}`,
        fields: { cache: cache.name, error: cache.lastError ?? null },
      });
  }

  // Stale and expired are states of the data (from the cache it came from), not of a
  // connection: said when the data state changes to them.
  #dataAlert(state: RtrDataState, cacheName: string | undefined): void {
    const alerts = this.#options.alerts;
    const cache = this.#cache(cacheName);
    const name = cache?.name ?? cacheName ?? 'rtr';
    if (state === 'stale')
      alerts.raise({
        kind: 'rtr_cache_stale',
        key: name,
        severity: 'warning',
        message: `RTR data from ${name} is stale: no cache reachable, the data held is used until it expires`,
        fields: { cache: name, error: cache?.lastError ?? null },
      });
    else if (state === 'expired')
      alerts.raise({
        kind: 'rtr_cache_expired',
        key: name,
        severity: 'critical',
        message: `RTR data from ${name} expired and was dropped: routes it covered are NotFound now`,
        fields: { cache: name },
      });
  }

  #onState(state: RtrClientState, previous: RtrClientState): void {
    const client = this.client!;
    const data = client.dataState;
    if (data !== this.#dataState) {
      const from = this.#dataState;
      this.#dataState = data;
      this.#options.log.log('info', 'rtr_data_state', { cache: client.cache ?? null, from, to: data });
      this.#dataAlert(data, client.cache ?? ('cache' in previous ? previous.cache : undefined));
    }
    switch (state.status) {
      case 'connecting':
      case 'syncing': {
        // Leaving a cache for another means the one left is no longer in use.
        if ('cache' in previous && previous.cache !== state.cache) {
          const left = this.#cache(previous.cache);
          if (left !== undefined && (left.state === 'synced' || left.state === 'syncing'))
            this.#set(left, 'idle');
        }
        const cache = this.#cache(state.cache);
        // A cache that failed stays "down" through its retries until it syncs: one that
        // connects and never finishes a response must not look up between its failures.
        if (cache?.state === 'down') return;
        // A refresh on the live session: the data stays in sync meanwhile.
        if (state.status === 'syncing' && cache?.state === 'synced' && data === 'synced') return;
        this.#set(cache, state.status);
        return;
      }
      case 'synced': {
        const cache = this.#cache(state.cache);
        if (cache !== undefined) {
          cache.serial = state.serial;
          cache.version = state.version;
          cache.lastSync = client.lastSyncAt ?? Date.now();
        }
        for (const other of this.caches)
          if (other !== cache && (other.state === 'synced' || other.state === 'syncing'))
            this.#set(other, 'idle');
        this.#set(cache, 'synced');
        return;
      }
      case 'stale':
      case 'expired':
      case 'error':
      case 'idle':
      case 'closed':
        return;
    }
  }

  #onError(error: RtrError, cacheName: string | undefined): void {
    const cache = this.#cache(cacheName);
    this.#options.log.log('warn', 'rtr_error', { cache: cacheName ?? null, error });
    if (cache === undefined) return;
    cache.lastError = `${error.code}: ${error.message}`;
    // The expiry is the data's (see #dataAlert), not a failure of this cache's connection.
    if (error.code !== 'RTR_ERR_EXPIRED') this.#set(cache, 'down');
  }

  #onDelta(delta: RtrDelta): void {
    const full = delta.reason === 'reset' || delta.reason === 'restore';
    this.#options.log.log('info', 'rtr_delta', {
      cache: delta.cache ?? null,
      reason: delta.reason,
      serial: delta.serial ?? null,
      announced: delta.announced.length,
      withdrawn: delta.withdrawn.length,
    });
    this.#options.sink.applyVrps(this.#id, delta.announced, delta.withdrawn, full);
    // Expired data is no data: /readyz says so until a full set comes again.
    if (delta.reason === 'expire') this.#options.sink.vrpsExpired?.(this.#id);
  }
}
