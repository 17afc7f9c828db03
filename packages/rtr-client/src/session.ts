// One transport connection to one cache. Bytes are framed and handled synchronously in
// the socket's data callback (a full sync is hundreds of thousands of PDUs: no promise
// per PDU); the client drives the exchange with straight-line async code on top:
// `await exchange(query)` resolves with the first reply's outcome once the exchange is
// over, and `await waitTrigger()` with the reason for the next one.
import type { Duplex } from 'node:stream';
import {
  ConnectionClosedError,
  ConnectTimeoutError,
  CorruptDataError,
  ClosedError,
  InvalidRequestError,
  PayloadLimitError,
  NoDataAvailableError,
  RemoteError,
  ResponseDeadlineError,
  ResponseTimeoutError,
  ResponseTooSlowError,
  RtrError,
  RtrWireError,
  UnexpectedVersionError,
  UnsupportedVersionError,
  ErrorCode,
} from './errors.js';
import { channels, debug } from './diagnostics.js';
import { Framer } from './framer.js';
import {
  copyPdu,
  decodePdu,
  MAX_VERSION,
  newPrefixFields,
  PduType,
  readPrefix,
  writeErrorReport,
  writeResetQuery,
  writeSerialQuery,
  type EndOfDataPdu,
  type ErrorReportPdu,
  type Pdu,
} from './pdu.js';
import type { PayloadDelta, PayloadStore, PayloadUpdate } from './payload.js';
import { Reader } from './reader.js';
import { compareSerial } from './serial.js';

// While a response streams in, a cache that writes each PDU on its own (StayRTR does) is
// read ~50 bytes at a time, one callback and one read() each, and the sender slows down
// with the reader. Over a transport that gathers while paused (plain TCP), a read this
// small pauses the socket for a millisecond so that the kernel gathers the next PDUs into
// one read: StayRTR's 424k-VRP full sync here went from about 200,000 reads in 2.8 s to
// about 1,000 reads in 1 s. Over TLS each record comes out as a chunk of its own, so
// pausing would only add a millisecond per record.
const COALESCE_BELOW = 16 * 1024;
const COALESCE_MS = 1;
// After an Error Report the connection is half-closed (our FIN follows the report) and
// what the cache still sends is read and dropped: closing with unread data would make
// the kernel answer with a reset, and a reset makes the cache's kernel discard the
// report before the cache has read it. The socket goes once the cache closes its side,
// or after this long at most.
export const ERROR_REPORT_LINGER_MS = 3000;
import type { Transport } from './transport.js';
import { Writer } from './writer.js';

export type QueryKind = 'serial' | 'reset';

/** How an exchange ended (the union of rpki-rs `FirstSerialReply` and its End of Data). */
export type Outcome =
  /** End of Data: the update was applied (`delta` undefined when it could not be, see `SessionHost.commit`). */
  | { readonly kind: 'synced'; readonly delta: PayloadDelta | undefined; readonly eod: EndOfDataPdu }
  /** Cache Reset: the cache cannot serve the serial asked for; a Reset Query follows. */
  | { readonly kind: 'cacheReset' }
  /** Error Report "No Data Available": not fatal, try again later. */
  | { readonly kind: 'noData'; readonly error: NoDataAvailableError }
  /** Error Report "Unsupported Protocol Version" as first reply, at the cache's `version`. */
  | { readonly kind: 'versionError'; readonly version: number; readonly error: RemoteError };

export type Trigger = 'notify' | 'refresh';

export interface SessionHost {
  readonly store: PayloadStore;
  /**
   * Applies a finished update at End of Data, synchronously. Returns undefined when the
   * update cannot apply (an incremental update staged against data another session
   * replaced meanwhile); the session then asks for a full set.
   */
  commit(session: Session, update: PayloadUpdate, eod: EndOfDataPdu): PayloadDelta | undefined;
}

export interface SessionOptions {
  readonly version: number;
  readonly minVersion: number;
  readonly maxPduLength: number;
  /** Payload PDUs one response may stage before it is refused (PayloadLimitError). */
  readonly maxPayloadPdus: number;
  /** ms without a byte, in the middle of an exchange, before giving up. */
  readonly responseTimeout: number;
  /** ms from the query to End of Data, as a whole, before giving up. */
  readonly responseDeadline: number;
  /** The least a response must deliver per interval once its grace period (from its first byte) is over. */
  readonly minProgress: MinProgress;
  /** ms to wait after a Serial Notify for more before querying. */
  readonly notifyDebounce: number;
  /** Names the client in diagnostics messages. */
  readonly client: object;
}

export interface MinProgress {
  /** Bytes per interval; 0 turns the check off. */
  readonly bytes: number;
  readonly intervalMs: number;
  /** ms from the first byte of a response before the first interval counts. */
  readonly graceMs: number;
}

type Phase = 'connecting' | 'idle' | 'query' | 'payload' | 'closed';

interface Pending {
  resolve(outcome: Outcome): void;
  reject(error: RtrError): void;
}

export class Session {
  readonly transport: Transport;
  /** Protocol version of the queries, lowered once if the cache answers at a lower one. */
  version: number;
  /** True once the cache has answered at `version`. */
  negotiated = false;
  /** Resolves with the reason once the connection is gone. Never rejects. */
  readonly closed: Promise<RtrError>;

  readonly #host: SessionHost;
  readonly #options: SessionOptions;
  readonly #framer: Framer;
  readonly #reader = new Reader();
  readonly #prefix = newPrefixFields();
  #socket: Duplex | undefined;
  #phase: Phase = 'connecting';
  #query: { kind: QueryKind; sessionId: number; serial: number } | undefined;
  #update: PayloadUpdate | undefined;
  #responseSession = 0;
  #pending: Pending | undefined;
  #responseTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  /** Bytes of the response in progress in the current progress interval; -1 before its first byte. */
  #progressBytes = -1;
  #progressTicks = 0;
  #resolveClosed!: (reason: RtrError) => void;
  #closeReason: RtrError | undefined;
  // Trigger for the next exchange.
  #notified: { serial: number; sessionId: number } | undefined;
  #cacheResetSeen = false;
  #debounceTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #trigger: ((t: Trigger | 'reset') => void) | undefined;
  #triggerFailed: ((reason: RtrError) => void) | undefined;
  #held: { sessionId: number; serial: number } | undefined;
  #closedInQuery = false;
  #coalesceTimer: NodeJS.Timeout | undefined;

  constructor(host: SessionHost, transport: Transport, options: SessionOptions) {
    this.#host = host;
    this.transport = transport;
    this.#options = options;
    this.version = options.version;
    this.#framer = new Framer(this.#onFrame, options.maxPduLength);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get target(): string {
    return this.transport.target;
  }

  get isClosed(): boolean {
    return this.#phase === 'closed';
  }

  /** True when the connection ended while a query waited for its first reply. */
  get closedAwaitingReply(): boolean {
    return this.#closedInQuery;
  }

  /** The query of the exchange in progress or last sent. */
  get lastQuery(): QueryKind | undefined {
    return this.#query?.kind;
  }

  /** Opens the transport; rejects with a ConnectError, ConnectTimeoutError or ClosedError. */
  async open(connectTimeout: number, signal?: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new ConnectTimeoutError(this.target, connectTimeout)),
      connectTimeout,
    );
    const onAbort = (): void => controller.abort(new ClosedError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const socket = await this.transport.connect(controller.signal);
      if (this.#phase === 'closed') {
        socket.destroy();
        throw this.#closeReason ?? new ClosedError();
      }
      this.#attach(socket);
    } catch (error) {
      this.#finish(
        error instanceof RtrError ? error : new ConnectionClosedError(this.target, { cause: error }),
      );
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #attach(socket: Duplex): void {
    this.#socket = socket;
    this.#phase = 'idle';
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /** Unhooks the session from a socket that may linger (an Error Report still going out). */
  #detach(socket: Duplex): void {
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    socket.on('error', () => undefined);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#phase === 'closed') return;
    this.#responseTimer?.refresh();
    if (this.#phase === 'query' || this.#phase === 'payload') {
      if (this.#progressBytes < 0) this.#startProgress();
      this.#progressBytes += chunk.length;
    }
    try {
      this.#framer.push(chunk);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (
      this.transport.gathersWhilePaused === true &&
      this.#update !== undefined &&
      chunk.length < COALESCE_BELOW &&
      this.#coalesceTimer === undefined &&
      !this.isClosed
    ) {
      this.#socket?.pause();
      this.#coalesceTimer = setTimeout(this.#resumeReading, COALESCE_MS);
    }
  };

  readonly #resumeReading = (): void => {
    this.#coalesceTimer = undefined;
    if (this.#phase !== 'closed') this.#socket?.resume();
  };

  readonly #onEnd = (): void => {
    if (this.#phase === 'closed') return;
    let cause: unknown;
    try {
      this.#framer.end();
    } catch (error) {
      cause = error;
    }
    this.close(new ConnectionClosedError(this.target, cause === undefined ? undefined : { cause }));
  };

  readonly #onError = (error: Error): void =>
    this.close(new ConnectionClosedError(this.target, { cause: error }));

  readonly #onClose = (): void => this.close(new ConnectionClosedError(this.target));

  /**
   * Sends a Serial Query (with the session id and serial held) or a Reset Query and
   * resolves when the exchange is over. Rejects with the RtrError that ended the session.
   */
  exchange(kind: QueryKind, sessionId = 0, serial = 0): Promise<Outcome> {
    if (this.#phase !== 'idle') return Promise.reject(this.#closeReason ?? new ClosedError());
    const w = new Writer(16);
    if (kind === 'serial') writeSerialQuery(w, this.version, sessionId, serial);
    else writeResetQuery(w, this.version);
    this.#query = { kind, sessionId, serial };
    this.#notified = undefined;
    this.#cacheResetSeen = false;
    this.#phase = 'query';
    this.#send(w.take(), kind === 'serial' ? PduType.SerialQuery : PduType.ResetQuery);
    this.#responseTimer = setTimeout(
      () => this.#fail(new ResponseTimeoutError(this.target, this.#options.responseTimeout)),
      this.#options.responseTimeout,
    );
    this.#deadlineTimer = setTimeout(
      () => this.#fail(new ResponseDeadlineError(this.target, this.#options.responseDeadline)),
      this.#options.responseDeadline,
    );
    this.#progressBytes = -1;
    return new Promise<Outcome>((resolve, reject) => (this.#pending = { resolve, reject }));
  }

  // The progress check starts with the response's first byte: silence before it is the
  // response timeout's case, a cache that trickles bytes is this one's.
  #startProgress(): void {
    this.#progressBytes = 0;
    this.#progressTicks = 0;
    const p = this.#options.minProgress;
    if (p.bytes <= 0) return;
    this.#progressTimer = setInterval(() => {
      const got = this.#progressBytes;
      this.#progressBytes = 0;
      // An interval counts once it starts at or after the end of the grace period.
      if (this.#progressTicks++ * p.intervalMs < p.graceMs) return;
      if (got < p.bytes) this.#fail(new ResponseTooSlowError(this.target, got, p.bytes, p.intervalMs));
    }, p.intervalMs);
  }

  #stopResponseTimers(): void {
    clearTimeout(this.#responseTimer);
    clearTimeout(this.#deadlineTimer);
    clearInterval(this.#progressTimer);
    this.#responseTimer = undefined;
    this.#deadlineTimer = undefined;
    this.#progressTimer = undefined;
    this.#progressBytes = -1;
  }

  /**
   * Waits, between exchanges, for the reason to start the next one: a Serial Notify
   * (debounced; one that arrived during the last exchange counts too unless it names the
   * serial now held), the refresh timer, or an unsolicited Cache Reset. Rejects when the
   * connection ends.
   */
  waitTrigger(
    refreshMs: number,
    held: { sessionId: number; serial: number } | undefined,
  ): Promise<Trigger | 'reset'> {
    if (this.#phase !== 'idle') return Promise.reject(this.#closeReason ?? new ClosedError());
    return new Promise<Trigger | 'reset'>((resolve, reject) => {
      const done = (t: Trigger | 'reset'): void => {
        this.#clearTriggerTimers();
        this.#trigger = undefined;
        this.#triggerFailed = undefined;
        resolve(t);
      };
      this.#trigger = done;
      // Held in a field that #finish calls, rather than a `closed.then()` per wait: a
      // session lives for days and waits once per notify or refresh, and every such
      // reaction would stay attached to `closed` until the connection ends.
      this.#triggerFailed = (reason) => {
        this.#trigger = undefined;
        reject(reason);
      };
      this.#held = held;
      this.#refreshTimer = setTimeout(() => done('refresh'), refreshMs);
      if (this.#cacheResetSeen) return done('reset');
      this.#armDebounce();
    });
  }

  /** Starts the debounce timer for a notify that names data the router does not hold. */
  #armDebounce(): void {
    if (this.#debounceTimer !== undefined || this.#trigger === undefined) return;
    const n = this.#notified;
    const held = this.#held;
    if (n === undefined) return;
    // A notify for the session held that names its serial or an older one (RFC 1982 order,
    // so 0xffffffff is older than 0) announces nothing new: a query would only return
    // an empty update. One that cannot be ordered (2^31 apart) is followed up.
    if (held !== undefined && n.sessionId === held.sessionId) {
      const order = compareSerial(n.serial, held.serial);
      if (order === 0 || order === -1) return;
    }
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = undefined;
      this.#trigger?.('notify');
    }, this.#options.notifyDebounce);
  }

  #clearTriggerTimers(): void {
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#debounceTimer);
    this.#refreshTimer = undefined;
    this.#debounceTimer = undefined;
  }

  /** Closes the connection (no Error Report); idempotent. */
  close(reason: RtrError = new ClosedError()): void {
    if (this.#phase === 'closed') return;
    this.#finish(reason);
    this.#socket?.destroy();
  }

  #finish(reason: RtrError): void {
    if (this.#phase === 'closed') return;
    this.#closedInQuery = this.#phase === 'query';
    this.#phase = 'closed';
    this.#closeReason = reason;
    this.#stopResponseTimers();
    clearTimeout(this.#coalesceTimer);
    this.#coalesceTimer = undefined;
    this.#clearTriggerTimers();
    this.#update = undefined;
    this.#framer.reset();
    this.#reader.clear();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(reason);
    const waiting = this.#triggerFailed;
    this.#triggerFailed = undefined;
    waiting?.(reason);
    this.#resolveClosed(reason);
  }

  #send(bytes: Buffer, type: number): void {
    if (channels.pdu.hasSubscribers)
      channels.pdu.publish({
        client: this.#options.client,
        cache: this.target,
        direction: 'out',
        version: bytes[0],
        type,
        length: bytes.length,
      });
    this.#socket?.write(bytes);
  }

  /**
   * A protocol error detected here: answer it with an Error Report (never for an Error
   * Report, RFC 8210 §5.11) and drop the transport, as RFC 8210 §12 requires.
   */
  #fail(error: unknown): void {
    if (this.#phase === 'closed') return;
    const rtr = error instanceof RtrError ? error : new CorruptDataError(`internal: ${String(error)}`);
    if (rtr instanceof RtrWireError && rtr.pdu[1] !== PduType.ErrorReport && this.#socket !== undefined) {
      const w = new Writer(64 + rtr.pdu.length);
      writeErrorReport(w, this.version, rtr.pduErrorCode, rtr.pdu, rtr.message);
      const bytes = w.take();
      if (channels.pdu.hasSubscribers)
        channels.pdu.publish({
          client: this.#options.client,
          cache: this.target,
          direction: 'out',
          version: this.version,
          type: PduType.ErrorReport,
          length: bytes.length,
        });
      const socket = this.#socket;
      this.#finish(rtr);
      this.#detach(socket);
      // Report, then FIN; keep reading (and dropping) until the cache closes, so that no
      // reset overtakes the report (see ERROR_REPORT_LINGER_MS).
      socket.on('data', () => undefined);
      socket.resume();
      socket.end(bytes);
      const linger = setTimeout(() => socket.destroy(), ERROR_REPORT_LINGER_MS).unref();
      socket.once('close', () => clearTimeout(linger));
      socket.once('end', () => socket.destroy());
      return;
    }
    this.close(rtr);
  }

  #resolve(outcome: Outcome): void {
    this.#stopResponseTimers();
    this.#phase = 'idle';
    this.#update = undefined;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(outcome);
  }

  // An arrow function: the framer calls it for every PDU without a bound-function wrapper.
  readonly #onFrame = (buf: Buffer, offset: number, length: number): void => {
    if (this.#phase === 'closed') return;
    const version = buf[offset]!;
    const type = buf[offset + 1]!;
    if (channels.pdu.hasSubscribers)
      channels.pdu.publish({
        client: this.#options.client,
        cache: this.target,
        direction: 'in',
        version,
        type,
        length,
      });
    // Hot path: a prefix PDU of the negotiated version inside a payload.
    if (
      (type === PduType.Ipv4Prefix || type === PduType.Ipv6Prefix) &&
      this.#phase === 'payload' &&
      version === this.version
    ) {
      const update = this.#update!;
      if (update.count >= this.#options.maxPayloadPdus) this.#refuseOverLimit(buf, offset, length);
      readPrefix(buf, offset, length, this.#prefix);
      update.prefix(this.#prefix, buf, offset, length);
      return;
    }
    this.#handle(decodePdu(buf, offset, length, this.#reader), buf, offset, length);
  };

  // A response past maxPayloadPdus: refused before anything more is staged.
  #refuseOverLimit(buf: Buffer, offset: number, length: number): never {
    throw new PayloadLimitError(this.#options.maxPayloadPdus, copyPdu(buf, offset, length));
  }

  #handle(pdu: Pdu, buf: Buffer, offset: number, length: number): void {
    if (pdu.type === PduType.ErrorReport) return this.#onErrorReport(pdu);
    if (pdu.type === PduType.SerialQuery || pdu.type === PduType.ResetQuery)
      throw new InvalidRequestError(
        `a cache sent a ${pdu.type === PduType.SerialQuery ? 'Serial' : 'Reset'} Query`,
        copyPdu(buf, offset, length),
      );
    if (pdu.type === PduType.SerialNotify) {
      // Before the first reply the version is open (a cache may notify at its own); after
      // it, a notify is bound to it like every other PDU (RFC 8210 §7).
      if (this.negotiated && pdu.version !== this.version)
        throw new UnexpectedVersionError(pdu.version, this.version, copyPdu(buf, offset, length));
      // Ignored while a query is in flight (remembered for afterwards), debounced otherwise.
      this.#notified = { serial: pdu.serial, sessionId: pdu.sessionId };
      if (this.#phase === 'idle') this.#armDebounce();
      return;
    }
    this.#checkVersion(pdu, buf, offset, length);
    switch (pdu.type) {
      case PduType.CacheResponse: {
        if (this.#phase !== 'query')
          throw new CorruptDataError('Cache Response outside a query', copyPdu(buf, offset, length));
        const query = this.#query!;
        if (query.kind === 'serial' && pdu.sessionId !== query.sessionId)
          throw new CorruptDataError(
            `session id changed from ${query.sessionId} to ${pdu.sessionId}`,
            copyPdu(buf, offset, length),
          );
        this.#responseSession = pdu.sessionId;
        this.#update = this.#host.store.start(query.kind === 'reset');
        this.#phase = 'payload';
        return;
      }
      case PduType.Ipv4Prefix:
      case PduType.Ipv6Prefix:
        // Reached only outside a payload (or with a version the hot path did not take).
        if (this.#phase !== 'payload')
          throw new CorruptDataError('Prefix PDU outside a Cache Response', copyPdu(buf, offset, length));
        if (this.#update!.count >= this.#options.maxPayloadPdus) this.#refuseOverLimit(buf, offset, length);
        readPrefix(buf, offset, length, this.#prefix);
        this.#update!.prefix(this.#prefix, buf, offset, length);
        return;
      case PduType.RouterKey:
        if (this.#phase !== 'payload')
          throw new CorruptDataError('Router Key PDU outside a Cache Response', copyPdu(buf, offset, length));
        if (this.#update!.count >= this.#options.maxPayloadPdus) this.#refuseOverLimit(buf, offset, length);
        this.#update!.routerKey(pdu, buf, offset, length);
        return;
      case PduType.Aspa:
        if (this.#phase !== 'payload')
          throw new CorruptDataError('ASPA PDU outside a Cache Response', copyPdu(buf, offset, length));
        if (this.#update!.count >= this.#options.maxPayloadPdus) this.#refuseOverLimit(buf, offset, length);
        this.#update!.aspa(pdu, buf, offset, length);
        return;
      case PduType.EndOfData: {
        if (this.#phase !== 'payload')
          throw new CorruptDataError('End of Data outside a Cache Response', copyPdu(buf, offset, length));
        if (pdu.sessionId !== this.#responseSession)
          throw new CorruptDataError(
            `End of Data for session ${pdu.sessionId} in a response for session ${this.#responseSession}`,
            copyPdu(buf, offset, length),
          );
        const update = this.#update!;
        // The staged prefixes are checked here (code 6 or 7 for the first bad one).
        update.finish();
        this.#update = undefined;
        const delta = this.#host.commit(this, update, pdu);
        debug('%s: End of Data serial %d after %d payload PDUs', this.target, pdu.serial, update.count);
        return this.#resolve({ kind: 'synced', delta, eod: pdu });
      }
      case PduType.CacheReset:
        // The reply to a Serial Query the cache cannot serve, tolerated anywhere in its
        // exchange: a staged update is dropped (nothing was applied) and a Reset Query
        // follows. Between exchanges it asks for a Reset Query too.
        if (this.#phase === 'query' || this.#phase === 'payload') {
          // To a Reset Query it makes no sense (RFC 8210 §5.9: the answer to a Serial
          // Query the cache cannot serve); followed, it would ping-pong Reset Query and
          // Cache Reset without end and without backoff.
          if (this.#query!.kind === 'reset')
            throw new CorruptDataError('Cache Reset in reply to a Reset Query', copyPdu(buf, offset, length));
          return this.#resolve({ kind: 'cacheReset' });
        }
        this.#cacheResetSeen = true;
        this.#trigger?.('reset');
        return;
    }
  }

  /** Version rules of RFC 8210 §7: the first reply may lower the version once, later PDUs must match it. */
  #checkVersion(pdu: Pdu, buf: Buffer, offset: number, length: number): void {
    if (pdu.version === this.version) {
      if (this.#phase === 'query') this.negotiated = true;
      return;
    }
    if (this.#phase === 'query' && !this.negotiated) {
      if (pdu.version > this.version)
        throw new UnexpectedVersionError(pdu.version, this.version, copyPdu(buf, offset, length));
      if (pdu.version < this.#options.minVersion)
        throw new UnsupportedVersionError(pdu.version, copyPdu(buf, offset, length));
      // StayRTR answers a query of a higher version at its own version (RFC 8210 §7 allows it).
      debug('%s: cache answered version %d to a version %d query', this.target, pdu.version, this.version);
      this.version = pdu.version;
      this.negotiated = true;
      return;
    }
    throw new UnexpectedVersionError(pdu.version, this.version, copyPdu(buf, offset, length));
  }

  #onErrorReport(pdu: ErrorReportPdu): void {
    if (pdu.errorCode === ErrorCode.NoDataAvailable) {
      const error = new NoDataAvailableError(pdu.text);
      if (this.#phase === 'query' || this.#phase === 'payload')
        return this.#resolve({ kind: 'noData', error });
      return; // unsolicited and not fatal
    }
    const error = new RemoteError(pdu.errorCode, pdu.text);
    if (
      pdu.errorCode === ErrorCode.UnsupportedProtocolVersion &&
      this.#phase === 'query' &&
      !this.negotiated &&
      pdu.version <= MAX_VERSION
    ) {
      // The cache closes after this (RFC 8210 §7); the client reconnects at pdu.version.
      const outcome: Outcome = { kind: 'versionError', version: pdu.version, error };
      this.#resolve(outcome);
      this.close(error);
      return;
    }
    // Every other report is fatal and never answered.
    this.close(error);
  }
}
