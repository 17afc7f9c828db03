// The RTR client: keeps a VRP table (plus ASPA records and router keys) in sync with
// one of several caches, in preference order. All state changes go through one
// `#transition()`; each connection is a Session driven by the straight-line loop in
// `#serve()`; `#run()` decides which cache to try next and how long to wait.
import { EventEmitter } from 'node:events';
import { VrpList, VrpTable } from '@rovkit/core';
import { channels, debug } from './diagnostics.js';
import {
  ClosedError,
  ErrorCode,
  ExpiredError,
  InvalidArgumentError,
  RemoteError,
  RtrError,
  RtrWireError,
  UnsupportedVersionError,
} from './errors.js';
import {
  PayloadStore,
  type AspaRecord,
  type PayloadDelta,
  type PayloadUpdate,
  type RouterKeyRecord,
} from './payload.js';
import {
  DEFAULT_MAX_PDU_LENGTH,
  DEFAULT_TIMERS,
  MAX_VERSION,
  type EndOfDataPdu,
  type Timers,
} from './pdu.js';
import { loadState, saveState } from './persist.js';
import { Session, type MinProgress, type QueryKind, type SessionHost } from './session.js';
import {
  parseCacheAddress,
  tcpTransport,
  tlsTransport,
  type TcpOptions,
  type TlsOptions,
  type Transport,
} from './transport.js';

/** A cache: "host:port" (TCP), TCP or TLS options, or any Transport (e.g. SSH). */
export type CacheOption =
  string | Transport | (TcpOptions & { readonly tls?: false }) | (TlsOptions & { readonly tls: true });

export interface BackoffOptions {
  /** First delay in ms (default 1000). */
  readonly initial?: number;
  /** Cap in ms (default 30000); the cache's retry interval caps it too. */
  readonly max?: number;
  /** Share of the delay taken off at random, 0..1 (default 0.5: delays fall in [d/2, d]). */
  readonly jitter?: number;
}

export interface RtrClientOptions {
  /** Caches in order of preference; the first that works is used, the first ones are preferred. */
  readonly caches: readonly CacheOption[];
  /** Highest protocol version to speak (default 2). */
  readonly version?: 0 | 1 | 2;
  /** Lowest version to accept from a cache (default 0). */
  readonly minVersion?: 0 | 1 | 2;
  /** The table to keep in sync; it must start empty and be changed by nothing else. */
  readonly table?: VrpTable;
  /** ms to open a connection (default 10000). */
  readonly connectTimeout?: number;
  /** ms without a byte in the middle of an exchange before it is abandoned (default 30000). */
  readonly responseTimeout?: number;
  /**
   * ms from a query to its End of Data, as a whole, before the exchange is abandoned and
   * the next cache tried (default 300000: a full set of about 800k PDUs, some 20 MB, at
   * 0.55 Mbit/s; a full sync over loopback takes about a second).
   */
  readonly responseDeadline?: number;
  /**
   * The least a response must deliver, so that a cache that trickles bytes (which the
   * response timeout never catches) cannot hold the client: at least `bytes` per
   * `intervalMs` once `graceMs` from the response's first byte have passed (defaults
   * 16384 bytes per 10000 ms after 10000 ms: a trickle of one byte a second is dropped
   * after 20 s). `bytes: 0` turns the check off.
   */
  readonly minProgress?: { readonly bytes?: number; readonly intervalMs?: number; readonly graceMs?: number };
  /** ms to wait after a Serial Notify before querying, to merge bursts (default 250). */
  readonly notifyDebounce?: number;
  readonly backoff?: BackoffOptions;
  /** ms between attempts to return to a more preferred cache while on a fallback (default 60000). */
  readonly switchBackInterval?: number;
  /** Local timer values in seconds; they take precedence over those the cache sends. */
  readonly timers?: Partial<Timers>;
  /** Bound on a PDU's length, checked before buffering (default 65536). */
  readonly maxPduLength?: number;
  /**
   * Bound on the payload PDUs (prefixes, router keys, ASPA) staged for one response
   * (default 4,000,000: five times the global RPKI of 2026, about 800k VRPs and ASPAs;
   * staged PDUs are logged in typed arrays until End of Data, 12–17 bytes an IPv4
   * prefix, 24–34 an IPv6 prefix or a two-provider ASPA, so a response refused at the
   * bound has cost some 50–140 MB): a cache that sends more is answered with Error
   * Report code 1, the data held stays, and the cache is tried after the others for a
   * while (switchBackInterval, doubling with each such failure in a row, up to 1 h).
   */
  readonly maxPayloadPdus?: number;
  /** File to persist the session and data in, so that a restart resumes with a Serial Query. */
  readonly statePath?: string;
  /** ms to wait after an update before persisting it (default 5000). */
  readonly persistDelay?: number;
}

/** The client's state; `status` tells which. */
export type RtrClientState =
  /** Created; `start()` has not been called. */
  | { readonly status: 'idle' }
  /** Opening a connection to `cache`; `attempt` counts rounds through the cache list since the last sync. */
  | { readonly status: 'connecting'; readonly cache: string; readonly attempt: number }
  /** A query is out to `cache` and its payload is being staged (nothing applied yet). */
  | { readonly status: 'syncing'; readonly cache: string; readonly query: QueryKind }
  /** The data reflects `cache` at `serial`; waiting for a Serial Notify or the refresh timer. */
  | {
      readonly status: 'synced';
      readonly cache: string;
      readonly sessionId: number;
      readonly serial: number;
      readonly version: number;
    }
  /** The last attempt failed; the data held stays usable until `expiresAt`. Next attempt at `retryAt`. */
  | {
      readonly status: 'stale';
      readonly error: RtrError;
      readonly retryAt: number;
      readonly expiresAt: number;
    }
  /** The last attempt failed and no data is held. Next attempt at `retryAt`. */
  | { readonly status: 'error'; readonly error: RtrError; readonly retryAt: number }
  /** No successful sync within the expire interval: the data was purged. Attempts go on. */
  | { readonly status: 'expired'; readonly error: ExpiredError }
  /** `close()` was called. */
  | { readonly status: 'closed' };

/**
 * What the data held is worth, apart from the connection: `synced` it reflects a cache
 * the client is in session with; `stale` the session that delivered it is gone and it is
 * used until `expiresAt`; `expired` it was purged at expire and nothing replaced it yet;
 * `none` nothing was ever loaded.
 */
export type RtrDataState = 'none' | 'synced' | 'stale' | 'expired';

/** One applied change of the data held. */
export interface RtrDelta extends PayloadDelta {
  /**
   * `sync`: an incremental update; `reset`: a full set replaced the data (first sync,
   * Cache Reset, new session, another cache); `restore`: loaded from the state file;
   * `expire`: everything withdrawn because the expire interval passed.
   */
  readonly reason: 'sync' | 'reset' | 'restore' | 'expire';
  readonly cache: string | undefined;
  readonly sessionId: number | undefined;
  readonly serial: number | undefined;
}

export interface RtrWarning {
  readonly message: string;
  readonly cache: string | undefined;
}

export interface RtrClientEvents {
  stateChange: [state: RtrClientState, previous: RtrClientState];
  delta: [delta: RtrDelta];
  /** Every failure, also those that only lead to a retry. Emitted only when listened to. */
  error: [error: RtrError, cache: string | undefined];
  warning: [warning: RtrWarning];
}

/** RFC 8210 §6 ranges, in seconds. */
export const TIMER_RANGES: { readonly [K in keyof Timers]: readonly [number, number] } = {
  refresh: [1, 86_400],
  retry: [1, 7_200],
  expire: [600, 172_800],
};

interface CacheEntry {
  readonly index: number;
  readonly transport: Transport;
  /** The version to open sessions with: lowered when this cache negotiated down. */
  version: number;
  /** Costly failures in a row (see `#penalize`), and until when the cache is tried last. */
  strikes: number;
  heldUntil: number;
}

// Failures that cost a whole response's worth of time or memory: a cache that failed so
// is tried after the others, and not probed for a switch back, for a while that doubles
// with each such failure in a row (from switchBackInterval up to MAX_HOLD_MS).
const COSTLY: ReadonlySet<string> = new Set([
  'RTR_ERR_PAYLOAD_LIMIT',
  'RTR_ERR_RESPONSE_DEADLINE',
  'RTR_ERR_RESPONSE_TOO_SLOW',
]);
const MAX_HOLD_MS = 3_600_000;

interface Origin {
  readonly cache: CacheEntry | undefined;
  readonly target: string;
  readonly sessionId: number;
  readonly serial: number;
  readonly version: number;
}

interface ServeResult {
  /** The session applied at least one update. */
  readonly synced: boolean;
  /** Reconnect to the same cache at once (version lowered, or a Reset Query needed). */
  readonly again: boolean;
  /** A more preferred cache took over (see `#handover`). */
  readonly switched: boolean;
  readonly error: RtrError | undefined;
}

function toTransport(c: CacheOption): Transport {
  if (typeof c === 'string') return tcpTransport(parseCacheAddress(c));
  if ('connect' in c && typeof c.connect === 'function') return c;
  const o = c as (TcpOptions & { tls?: false }) | (TlsOptions & { tls: true });
  return o.tls === true ? tlsTransport(o) : tcpTransport(o);
}

// setTimeout takes at most 2^31-1 ms; a longer delay fires after 1 ms (with a warning),
// which would turn a long interval into a busy loop.
const MAX_DELAY_MS = 0x7fff_ffff;

export const DEFAULT_MAX_PAYLOAD_PDUS = 4_000_000;
export const DEFAULT_RESPONSE_DEADLINE_MS = 300_000;
export const DEFAULT_MIN_PROGRESS = { bytes: 16_384, intervalMs: 10_000, graceMs: 10_000 } as const;

function positive(name: string, value: number | undefined, fallback: number, max = MAX_DELAY_MS): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !(value <= max))
    throw new InvalidArgumentError(`${name} must be a positive number up to ${max}, got ${String(value)}`);
  return value;
}

function asRtrError(error: unknown): RtrError {
  return error instanceof RtrError
    ? error
    : new RtrError('RTR_ERR_INTERNAL', String(error), { cause: error });
}

const noVrps = new VrpList(1);

export class RtrClient extends EventEmitter<RtrClientEvents> implements SessionHost {
  readonly store: PayloadStore;
  readonly #caches: CacheEntry[];
  readonly #version: number;
  readonly #minVersion: number;
  readonly #connectTimeout: number;
  readonly #responseTimeout: number;
  readonly #responseDeadline: number;
  readonly #minProgress: MinProgress;
  readonly #notifyDebounce: number;
  readonly #backoff: Required<BackoffOptions>;
  readonly #switchBackInterval: number;
  readonly #timerOverrides: Partial<Timers>;
  readonly #maxPduLength: number;
  readonly #maxPayloadPdus: number;
  readonly #statePath: string | undefined;
  readonly #persistDelay: number;

  #state: RtrClientState = { status: 'idle' };
  #origin: Origin | undefined;
  /** The session id and serial held can no longer be used for a Serial Query. */
  #resetNeeded = false;
  #timers: Timers;
  #lastSyncAt: number | undefined;
  #expiresAt: number | undefined;
  #expireTimer: NodeJS.Timeout | undefined;
  /** The data was purged at expire and no sync has replaced it since. */
  #expired = false;
  /** A live session delivered the data held (set at `synced`, cleared when that session ends). */
  #inSync = false;
  #active: Session | undefined;
  #probe: Session | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #handover: { cache: CacheEntry; session: Session } | undefined;
  #failures = 0;
  #started = false;
  #closing = false;
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(options: RtrClientOptions) {
    super();
    if (!Array.isArray(options.caches) || options.caches.length === 0)
      throw new InvalidArgumentError('at least one cache is needed');
    const version = options.version ?? MAX_VERSION;
    const minVersion = options.minVersion ?? 0;
    if (![0, 1, 2].includes(version)) throw new InvalidArgumentError(`unsupported version ${version}`);
    if (![0, 1, 2].includes(minVersion) || minVersion > version)
      throw new InvalidArgumentError(`minVersion ${minVersion} must be in 0..version (${version})`);
    if (options.table !== undefined && options.table.size > 0)
      throw new InvalidArgumentError(`the table must start empty, it holds ${options.table.size} VRPs`);
    this.#version = version;
    this.#minVersion = minVersion;
    this.#caches = options.caches.map((c, index) => ({
      index,
      transport: toTransport(c),
      version,
      strikes: 0,
      heldUntil: 0,
    }));
    this.store = new PayloadStore(options.table ?? new VrpTable());
    this.#connectTimeout = positive('connectTimeout', options.connectTimeout, 10_000);
    this.#responseTimeout = positive('responseTimeout', options.responseTimeout, 30_000);
    this.#responseDeadline = positive(
      'responseDeadline',
      options.responseDeadline,
      DEFAULT_RESPONSE_DEADLINE_MS,
    );
    const mp = options.minProgress ?? {};
    const progressBytes = mp.bytes ?? DEFAULT_MIN_PROGRESS.bytes;
    if (!Number.isSafeInteger(progressBytes) || progressBytes < 0)
      throw new InvalidArgumentError(
        `minProgress.bytes must be a whole number >= 0, got ${String(mp.bytes)}`,
      );
    this.#minProgress = {
      bytes: progressBytes,
      intervalMs: positive('minProgress.intervalMs', mp.intervalMs, DEFAULT_MIN_PROGRESS.intervalMs),
      graceMs:
        mp.graceMs === 0 ? 0 : positive('minProgress.graceMs', mp.graceMs, DEFAULT_MIN_PROGRESS.graceMs),
    };
    this.#notifyDebounce =
      options.notifyDebounce === 0 ? 0 : positive('notifyDebounce', options.notifyDebounce, 250);
    this.#backoff = {
      initial: positive('backoff.initial', options.backoff?.initial, 1000),
      max: positive('backoff.max', options.backoff?.max, 30_000),
      jitter: options.backoff?.jitter ?? 0.5,
    };
    if (!(this.#backoff.jitter >= 0 && this.#backoff.jitter <= 1))
      throw new InvalidArgumentError(`backoff.jitter must be in 0..1, got ${this.#backoff.jitter}`);
    this.#switchBackInterval = positive('switchBackInterval', options.switchBackInterval, 60_000);
    const t = options.timers ?? {};
    // Local values may be shorter than the RFC minimum (labs, tests) but not longer than
    // its maximum.
    const max = (key: keyof Timers): number => TIMER_RANGES[key][1];
    this.#timerOverrides = {
      ...(t.refresh === undefined
        ? {}
        : { refresh: positive('timers.refresh', t.refresh, 0, max('refresh')) }),
      ...(t.retry === undefined ? {} : { retry: positive('timers.retry', t.retry, 0, max('retry')) }),
      ...(t.expire === undefined ? {} : { expire: positive('timers.expire', t.expire, 0, max('expire')) }),
    };
    this.#timers = { ...DEFAULT_TIMERS, ...this.#timerOverrides };
    this.#maxPduLength = options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
    this.#maxPayloadPdus = Math.floor(
      positive('maxPayloadPdus', options.maxPayloadPdus, DEFAULT_MAX_PAYLOAD_PDUS, Number.MAX_SAFE_INTEGER),
    );
    this.#statePath = options.statePath;
    this.#persistDelay = options.persistDelay ?? 5000;
  }

  //------------ accessors

  get state(): RtrClientState {
    return this.#state;
  }
  /** The VRPs held (all caches' data goes through this one table). */
  get table(): VrpTable {
    return this.store.table;
  }
  get aspas(): AspaRecord[] {
    return [...this.store.aspas.values()];
  }
  get routerKeys(): RouterKeyRecord[] {
    return [...this.store.routerKeys.values()];
  }
  /** The cache the data held came from. */
  get cache(): string | undefined {
    return this.#origin?.target;
  }
  get sessionId(): number | undefined {
    return this.#origin?.sessionId;
  }
  get serial(): number | undefined {
    return this.#origin?.serial;
  }
  /** The protocol version of the session the data came from. */
  get version(): number | undefined {
    return this.#origin?.version;
  }
  /** Timers in effect (seconds): the cache's, clamped to the RFC ranges, or the local overrides. */
  get timers(): Timers {
    return this.#timers;
  }
  /** ms since the epoch of the last applied End of Data. */
  get lastSyncAt(): number | undefined {
    return this.#lastSyncAt;
  }
  /** ms since the epoch at which the data held will be purged unless a sync succeeds. */
  get expiresAt(): number | undefined {
    return this.#expiresAt;
  }
  /** The data state, apart from the connection state (`state`): see RtrDataState. */
  get dataState(): RtrDataState {
    if (this.#expired) return 'expired';
    if (this.#origin === undefined) return 'none';
    return this.#inSync ? 'synced' : 'stale';
  }

  //------------ lifecycle

  /** Starts connecting (timers start here, never in the constructor). */
  start(): this {
    if (this.#started) throw new InvalidArgumentError('start() was already called');
    this.#started = true;
    this.#loop = this.#run().catch((error: unknown) => {
      // #run handles every expected failure; this is a bug, made visible.
      this.#reportError(asRtrError(error), undefined);
    });
    return this;
  }

  /** Resolves at the next `synced` state (at once if synced now); rejects if the client closes first. */
  whenSynced(): Promise<this> {
    if (this.#state.status === 'synced') return Promise.resolve(this);
    if (this.#state.status === 'closed') return Promise.reject(new ClosedError());
    return new Promise((resolve, reject) => {
      const on = (state: RtrClientState): void => {
        if (state.status === 'synced') {
          this.off('stateChange', on);
          resolve(this);
        } else if (state.status === 'closed') {
          this.off('stateChange', on);
          reject(new ClosedError());
        }
      };
      this.on('stateChange', on);
    });
  }

  /** Closes every connection and timer; persists the state first when configured. */
  async close(): Promise<void> {
    if (this.#closing) return this.#loop;
    this.#closing = true;
    this.#abort.abort(new ClosedError());
    this.#wake?.();
    this.#stopSwitchBack();
    this.#active?.close();
    this.#handover?.session.close();
    clearTimeout(this.#expireTimer);
    await this.#loop;
    if (this.#saveTimer !== undefined) {
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      this.#save();
    }
    await this.#saving;
    this.#transition({ status: 'closed' });
  }

  //------------ the one place where the state changes

  #transition(next: RtrClientState): void {
    const previous = this.#state;
    if (previous.status === 'closed') return;
    this.#state = next;
    debug('state %s -> %s', previous.status, next.status);
    if (channels.stateChange.hasSubscribers)
      channels.stateChange.publish({ client: this, state: next, previous });
    this.emit('stateChange', next, previous);
  }

  #reportError(error: RtrError, cache: string | undefined): void {
    debug('%s: %s', cache ?? '-', error.message);
    if (channels.error.hasSubscribers) channels.error.publish({ client: this, cache, error });
    if (this.listenerCount('error') > 0) this.emit('error', error, cache);
  }

  #warn(message: string, cache: string | undefined): void {
    if (channels.warning.hasSubscribers) channels.warning.publish({ client: this, cache, message });
    this.emit('warning', { message, cache });
  }

  //------------ which cache, and when

  async #run(): Promise<void> {
    if (this.#statePath !== undefined) await this.#restore(this.#statePath);
    let index = 0;
    let quick = 0;
    while (!this.#closing) {
      const handover = this.#handover;
      this.#handover = undefined;
      const cache = handover?.cache ?? this.#pick(index);
      const result = await this.#serve(cache, handover?.session);
      if (this.#closing) break;
      if (result.switched || this.#handover !== undefined) {
        index = 0;
        continue;
      }
      index = cache.index;
      if (result.synced) {
        this.#failures = 0;
        quick = 0;
      }
      if (result.again && quick < 2) {
        quick++;
        continue;
      }
      quick = 0;
      const error = result.error ?? new ClosedError();
      // After a working session broke, start over with the most preferred cache; after
      // a failed attempt, try the next one at once; wait only after a full round.
      this.#penalize(cache, result.error);
      index = result.synced ? 0 : (cache.index + 1) % this.#caches.length;
      let delay = 0;
      if (index === 0) {
        this.#failures++;
        delay = this.#backoffDelay(this.#failures);
      }
      const retryAt = Date.now() + delay;
      if (this.#state.status !== 'expired') {
        if (this.store.empty && this.#expiresAt === undefined)
          this.#transition({ status: 'error', error, retryAt });
        else this.#transition({ status: 'stale', error, retryAt, expiresAt: this.#expiresAt ?? retryAt });
      }
      if (delay > 0) await this.#sleep(delay);
    }
  }

  /** The cache at `index`, or the next one in order that is not held back, if any. */
  #pick(index: number): CacheEntry {
    const now = Date.now();
    const n = this.#caches.length;
    for (let i = 0; i < n; i++) {
      const c = this.#caches[(index + i) % n]!;
      if (c.heldUntil <= now) return c;
    }
    return this.#caches[index]!;
  }

  #penalize(cache: CacheEntry, error: RtrError | undefined): void {
    if (error === undefined || !COSTLY.has(error.code)) return;
    cache.strikes++;
    const hold = Math.min(MAX_HOLD_MS, this.#switchBackInterval * 2 ** Math.min(cache.strikes - 1, 20));
    cache.heldUntil = Date.now() + hold;
    debug('%s: %s; tried last for %d ms', cache.transport.target, error.code, hold);
  }

  #backoffDelay(failures: number): number {
    const { initial, max, jitter } = this.#backoff;
    const cap = Math.min(max, this.#timers.retry * 1000);
    const base = Math.min(cap, initial * 2 ** Math.min(failures - 1, 30));
    return Math.max(1, Math.round(base * (1 - jitter * Math.random())));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #newSession(cache: CacheEntry): Session {
    return new Session(this, cache.transport, {
      version: cache.version,
      minVersion: this.#minVersion,
      maxPduLength: this.#maxPduLength,
      maxPayloadPdus: this.#maxPayloadPdus,
      responseTimeout: this.#responseTimeout,
      responseDeadline: this.#responseDeadline,
      minProgress: this.#minProgress,
      notifyDebounce: this.#notifyDebounce,
      client: this,
    });
  }

  #queryKind(cache: CacheEntry): QueryKind {
    return this.#origin?.cache === cache && !this.#resetNeeded ? 'serial' : 'reset';
  }

  //------------ one connection, straight-line

  async #serve(cache: CacheEntry, existing: Session | undefined): Promise<ServeResult> {
    const target = cache.transport.target;
    let session = existing;
    let synced = existing !== undefined;
    if (session === undefined) {
      this.#transition({ status: 'connecting', cache: target, attempt: this.#failures + 1 });
      session = this.#newSession(cache);
      this.#active = session;
      try {
        await session.open(this.#connectTimeout, this.#abort.signal);
      } catch (error) {
        if (this.#active === session) this.#active = undefined;
        const rtr = asRtrError(error);
        if (!this.#closing) this.#reportError(rtr, target);
        return { synced: false, again: false, switched: false, error: rtr };
      }
    }
    this.#active = session;
    let skipQuery = existing !== undefined;
    try {
      for (;;) {
        if (!skipQuery) {
          const kind = this.#queryKind(cache);
          this.#transition({ status: 'syncing', cache: target, query: kind });
          const o = this.#origin;
          const outcome = await session.exchange(kind, o?.sessionId, o?.serial);
          if (outcome.kind === 'cacheReset') {
            this.#resetNeeded = true;
            continue;
          }
          if (outcome.kind === 'noData') throw outcome.error;
          if (outcome.kind === 'versionError') {
            if (outcome.version < session.version && outcome.version >= this.#minVersion) {
              debug('%s: downgrading from version %d to %d', target, session.version, outcome.version);
              cache.version = outcome.version;
              this.#reportError(outcome.error, target);
              return { synced, again: true, switched: false, error: outcome.error };
            }
            throw new UnsupportedVersionError(outcome.version);
          }
          if (outcome.delta === undefined) {
            this.#resetNeeded = true;
            continue;
          }
          synced = true;
        }
        skipQuery = false;
        const o = this.#origin!;
        this.#inSync = true;
        this.#transition({
          status: 'synced',
          cache: target,
          sessionId: o.sessionId,
          serial: o.serial,
          version: o.version,
        });
        if (cache.index > 0) this.#startSwitchBack(cache);
        const trigger = await session.waitTrigger(this.#timers.refresh * 1000, this.#origin);
        if (trigger === 'reset') this.#resetNeeded = true;
      }
    } catch (error) {
      const rtr = asRtrError(error);
      if (this.#closing) return { synced, again: false, switched: false, error: rtr };
      if (this.#handover !== undefined && this.#handover.session !== session)
        return { synced, again: false, switched: true, error: rtr };
      this.#reportError(rtr, target);
      // The incremental state with this cache is unusable when a Serial Query is answered
      // with an Error Report (StayRTR 0.5, restarted with a new session id, sends "Corrupt
      // Data: Session ID mismatch" instead of Cache Reset), or with nothing but a closed
      // connection (the same StayRTR often closes before its report is out), or when we
      // reported a protocol error in an incremental update. Reconnect at once with a
      // Reset Query; the data held stays until the full set replaces it or it expires.
      // (rtrlib 0.8 repeats the same Serial Query forever.) A failed Reset Query takes
      // the normal backoff path.
      const onSerial = session.lastQuery === 'serial';
      const remote = rtr instanceof RemoteError && rtr.pduErrorCode !== ErrorCode.NoDataAvailable;
      if (onSerial && (rtr instanceof RtrWireError || remote || session.closedAwaitingReply)) {
        this.#resetNeeded = true;
        return { synced, again: true, switched: false, error: rtr };
      }
      return { synced, again: false, switched: false, error: rtr };
    } finally {
      if (this.#active === session) this.#active = undefined;
      // A handover keeps the data in sync: the session that delivered it lives on.
      if (this.#handover === undefined) this.#inSync = false;
      session.close();
      this.#stopSwitchBack();
    }
  }

  //------------ applying updates (SessionHost)

  commit(session: Session, update: PayloadUpdate, eod: EndOfDataPdu): PayloadDelta | undefined {
    const cache = this.#caches.find((c) => c.transport === session.transport)!;
    const isProbe = session === this.#probe;
    if (session !== this.#active && !isProbe) return undefined;
    if (!update.reset && (update.generation !== this.store.generation || this.#origin?.cache !== cache))
      return undefined;
    const delta = this.store.apply(update);
    this.#origin = {
      cache,
      target: cache.transport.target,
      sessionId: eod.sessionId,
      serial: eod.serial,
      version: session.version,
    };
    this.#resetNeeded = false;
    this.#expired = false;
    cache.version = session.version;
    cache.strikes = 0;
    cache.heldUntil = 0;
    this.#timers = this.#effectiveTimers(eod, cache.transport.target);
    const now = Date.now();
    this.#lastSyncAt = now;
    this.#armExpire(now + this.#timers.expire * 1000);
    if (isProbe) {
      // A more preferred cache synced: it takes over, the fallback connection goes.
      debug('switching back to %s', cache.transport.target);
      this.#probe = undefined;
      this.#handover = { cache, session };
      const old = this.#active;
      this.#active = session;
      old?.close();
      this.#wake?.();
    }
    this.#emitDelta({
      ...delta,
      reason: update.reset ? 'reset' : 'sync',
      cache: cache.transport.target,
      sessionId: eod.sessionId,
      serial: eod.serial,
    });
    this.#scheduleSave();
    return delta;
  }

  #emitDelta(delta: RtrDelta): void {
    if (channels.delta.hasSubscribers) channels.delta.publish({ client: this, delta });
    try {
      this.emit('delta', delta);
    } catch (error) {
      // A listener's bug must not pass for a protocol error of the cache.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  #effectiveTimers(eod: EndOfDataPdu, target: string): Timers {
    const sent = eod.timers ?? DEFAULT_TIMERS;
    const clamped = { ...sent };
    for (const key of ['refresh', 'retry', 'expire'] as const) {
      const [lo, hi] = TIMER_RANGES[key];
      if (sent[key] < lo || sent[key] > hi) {
        clamped[key] = Math.min(hi, Math.max(lo, sent[key]));
        this.#warn(`${key} interval ${sent[key]} s is outside ${lo}..${hi}: using ${clamped[key]} s`, target);
      }
    }
    return this.#consistent({ ...clamped, ...this.#timerOverrides }, target);
  }

  /**
   * RFC 8210 §6: the expire interval must be longer than the refresh interval. With a
   * refresh at or past expire, data from a healthy cache that has nothing new would be
   * purged before the next poll: poll at half the expire interval instead.
   */
  #consistent(timers: Timers, target: string | undefined): Timers {
    if (timers.refresh < timers.expire) return timers;
    const refresh = Math.max(1, Math.floor(timers.expire / 2));
    this.#warn(
      `refresh interval ${timers.refresh} s is not shorter than expire interval ${timers.expire} s: using ${refresh} s`,
      target,
    );
    return { ...timers, refresh };
  }

  #armExpire(at: number): void {
    clearTimeout(this.#expireTimer);
    this.#expiresAt = at;
    this.#expireTimer = setTimeout(() => this.#expire(), Math.max(0, at - Date.now()));
    this.#expireTimer.unref();
  }

  #expire(): void {
    this.#expireTimer = undefined;
    this.#expiresAt = undefined;
    const origin = this.#origin;
    this.#origin = undefined;
    this.#resetNeeded = false;
    const delta = this.store.purge();
    this.#expired = true;
    this.#inSync = false;
    const error = new ExpiredError(this.#timers.expire);
    this.#emitDelta({
      ...delta,
      reason: 'expire',
      cache: origin?.target,
      sessionId: undefined,
      serial: undefined,
    });
    this.#reportError(error, origin?.target);
    this.#transition({ status: 'expired', error });
    this.#scheduleSave();
  }

  //------------ switching back to a preferred cache

  #startSwitchBack(current: CacheEntry): void {
    if (this.#probeTimer !== undefined || this.#probe !== undefined) return;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      void this.#probeOnce(current).finally(() => {
        if (
          !this.#closing &&
          this.#active !== undefined &&
          this.#handover === undefined &&
          this.#probe === undefined
        )
          this.#startSwitchBack(current);
      });
    }, this.#switchBackInterval);
  }

  #stopSwitchBack(): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#probe?.close();
    this.#probe = undefined;
  }

  /** Tries the caches preferred to `current`, in order, with a full sync each. */
  async #probeOnce(current: CacheEntry): Promise<void> {
    for (const cache of this.#caches.slice(0, current.index)) {
      if (this.#closing || this.#active === undefined) return;
      if (cache.heldUntil > Date.now()) continue;
      const session = this.#newSession(cache);
      this.#probe = session;
      try {
        await session.open(this.#connectTimeout, this.#abort.signal);
        for (let i = 0; i < 3; i++) {
          const outcome = await session.exchange('reset');
          if (outcome.kind === 'synced') return; // commit() handed the session over
          if (outcome.kind === 'versionError') {
            if (outcome.version < session.version && outcome.version >= this.#minVersion)
              cache.version = outcome.version;
            break;
          }
          if (outcome.kind === 'noData') break;
        }
        session.close();
      } catch (error) {
        debug('switch back to %s failed: %s', cache.transport.target, asRtrError(error).message);
        this.#penalize(cache, asRtrError(error));
        session.close();
      } finally {
        if (this.#probe === session) this.#probe = undefined;
      }
    }
  }

  //------------ persisted state

  async #restore(path: string): Promise<void> {
    let state;
    try {
      state = await loadState(path);
    } catch (error) {
      this.#warn(`ignoring the state file: ${asRtrError(error).message}`, undefined);
      return;
    }
    if (state === undefined) return;
    // The file's timers were clamped when saved, but a file can be edited by hand.
    const restored = { ...state.timers } as { -readonly [K in keyof Timers]: number };
    for (const key of ['refresh', 'retry', 'expire'] as const) {
      const [lo, hi] = TIMER_RANGES[key];
      restored[key] = Math.min(hi, Math.max(lo, restored[key]));
    }
    const timers = this.#consistent({ ...restored, ...this.#timerOverrides }, state.target);
    const expire = timers.expire;
    const expiresAt = state.syncedAt + expire * 1000;
    if (expiresAt <= Date.now()) {
      this.#warn(
        `ignoring the state file: its data expired at ${new Date(expiresAt).toISOString()}`,
        undefined,
      );
      return;
    }
    try {
      this.store.table.applyDelta(state.vrps, noVrps);
    } catch (error) {
      this.store.table.clear();
      this.#warn(`ignoring the state file: ${asRtrError(error).message}`, undefined);
      return;
    }
    for (const a of state.aspas)
      this.store.aspas.set(a.afiFlags === undefined ? String(a.customer) : `${a.customer}/${a.afiFlags}`, a);
    for (const k of state.routerKeys) this.store.routerKeys.set(`${k.asn}/${k.ski}/${k.spki}`, k);
    this.store.generation++;
    const cache = this.#caches.find((c) => c.transport.target === state.target);
    if (cache !== undefined) cache.version = Math.min(state.version, this.#version);
    this.#origin = {
      cache,
      target: state.target,
      sessionId: state.sessionId,
      serial: state.serial,
      version: state.version,
    };
    this.#resetNeeded =
      cache === undefined || state.version > this.#version || state.version < this.#minVersion;
    this.#timers = timers;
    this.#lastSyncAt = state.syncedAt;
    this.#armExpire(expiresAt);
    this.#emitDelta({
      announced: state.vrps,
      withdrawn: noVrps,
      aspa: { announced: [...this.store.aspas.values()], withdrawn: [] },
      routerKeys: { announced: [...this.store.routerKeys.values()], withdrawn: [] },
      reason: 'restore',
      cache: state.target,
      sessionId: state.sessionId,
      serial: state.serial,
    });
  }

  #scheduleSave(): void {
    if (this.#statePath === undefined || this.#saveTimer !== undefined) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#save();
    }, this.#persistDelay);
    this.#saveTimer.unref();
  }

  #save(): void {
    const path = this.#statePath;
    if (path === undefined) return;
    const o = this.#origin;
    if (o === undefined || this.#lastSyncAt === undefined) return;
    const header = {
      target: o.target,
      sessionId: o.sessionId,
      serial: o.serial,
      version: o.version,
      timers: this.#timers,
      syncedAt: this.#lastSyncAt,
      aspas: [...this.store.aspas.values()],
      routerKeys: [...this.store.routerKeys.values()],
    };
    this.#saving = this.#saving
      .then(() => saveState(path, header, this.store.table))
      .catch((error: unknown) => this.#warn(asRtrError(error).message, undefined));
  }
}
