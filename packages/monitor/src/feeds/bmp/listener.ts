// The BMP listener (RFC 7854): a TCP server that routers connect to, one BmpSession per
// router. A malformed message closes that router's session only; its routes are removed
// (reported through the sink) and the reason is emitted and logged. Nothing runs before
// start(): the constructor only stores its dependencies.
//
// BMP has no authentication, so a connection is only a router once it has sent its
// Initiation (RFC 7854 4.3: the first message). Until then it is pending: it has
// `initTimeout` to send one, and at most `maxPending` wait at once (a new connection
// closes the oldest pending one). Only routers count against `maxRouters`, so silent
// or trickling connections can never keep a real router out; at the router limit a new
// router takes the slot of a session that holds no peer and has sent nothing for
// `initTimeout`, and is refused only when every router holds peers.
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { BmpSession, RouterState, type PeerState, type SessionEvents } from './session.js';
import type { BmpError } from './errors.js';
import type { PeerDown } from './messages.js';
import { policyStageNames } from './types.js';
import type {
  BmpCloseReason,
  BmpListenerEvents,
  BmpLogEntry,
  BmpRouteSink,
  BmpRouter,
  PolicyStage,
} from './types.js';

/** BMP has no IANA port; 11019 is the one GoBGP's documentation uses. */
export const DEFAULT_BMP_PORT = 11019;
/**
 * A Route Monitoring message holds one BGP message (at most 65535 bytes, RFC 8654) plus
 * 48 bytes of headers; a Peer Up two OPENs plus TLVs. 256 KiB bounds any valid message.
 */
export const DEFAULT_MAX_MESSAGE_LENGTH = 256 * 1024;
/** Routers (sessions that sent Initiation) at once. */
export const DEFAULT_MAX_ROUTERS = 256;
/** Connections waiting for their Initiation at once; a new one closes the oldest. */
export const DEFAULT_MAX_PENDING = 64;
/** ms a connection has to send its Initiation: routers send it at once. */
export const DEFAULT_INIT_TIMEOUT = 10_000;
/**
 * ms a router may send nothing before its session is closed; 0 (the default) is off.
 * BMP has no keepalive and a router with a stable table and no statistics interval
 * sends nothing for hours: closing it would drop all its routes (a false mass
 * withdrawal) and make it send its whole table again. Dead peers are found by TCP
 * keepalive instead (probes after 60 s).
 */
export const DEFAULT_IDLE_TIMEOUT = 0;

export interface BmpListenerOptions {
  /** Address to listen on; default 127.0.0.1 (BMP has no authentication: expose it on purpose). */
  host?: string;
  /** TCP port; default 11019, 0 picks a free one. */
  port?: number;
  /** Receives every route change. */
  sink?: BmpRouteSink;
  /** Longest BMP message accepted; longer ones close the session (BMP_ERR_TOO_LARGE). */
  maxMessageLength?: number;
  /** Routers (sessions that sent Initiation) at once; default DEFAULT_MAX_ROUTERS (256). */
  maxRouters?: number;
  /** Connections waiting for their Initiation at once; default DEFAULT_MAX_PENDING (64). */
  maxPending?: number;
  /** ms to send the Initiation; default DEFAULT_INIT_TIMEOUT (10 s). */
  initTimeout?: number;
  /** ms a router may stay silent; 0 is off (the default, see DEFAULT_IDLE_TIMEOUT). */
  idleTimeout?: number;
  /** Structured log lines (router up/down, session errors with their code). */
  log?: (entry: BmpLogEntry) => void;
}

export interface BmpListenerCounters {
  connections: number;
  /** Routers refused at the router limit (every router held peers). */
  refusedConnections: number;
  sessionErrors: number;
  /** Connections closed for sending no Initiation within initTimeout. */
  initTimeouts: number;
  /** Routers closed for sending nothing within idleTimeout. */
  idleTimeouts: number;
  /** Pending connections closed to make room for a new one (maxPending). */
  evictedPending: number;
  /** Routers without peers closed to make room for a new router (maxRouters). */
  evictedRouters: number;
}

interface Connection {
  session: BmpSession;
  socket: Socket;
  reason: BmpCloseReason | undefined;
  closed: Promise<void>;
  /** Until Initiation: the deadline timer. */
  initTimer: NodeJS.Timeout | undefined;
  /** Date.now() of the last byte received. */
  lastData: number;
  /** Became a router (its Initiation was admitted). */
  admitted: boolean;
}

/** Thrown through a session's push() to stop reading a connection the listener closed. */
class Closed extends Error {}

export class BmpListener extends EventEmitter<BmpListenerEvents> {
  readonly counters: BmpListenerCounters = {
    connections: 0,
    refusedConnections: 0,
    sessionErrors: 0,
    initTimeouts: 0,
    idleTimeouts: 0,
    evictedPending: 0,
    evictedRouters: 0,
  };
  readonly #host: string;
  readonly #port: number;
  readonly #sink: BmpRouteSink | undefined;
  readonly #maxMessageLength: number;
  readonly #maxRouters: number;
  readonly #maxPending: number;
  readonly #initTimeout: number;
  readonly #idleTimeout: number;
  readonly #log: ((entry: BmpLogEntry) => void) | undefined;
  readonly #connections = new Map<string, Connection>();
  #closedBeforeInitiation = 0;
  /** Connections without Initiation, oldest first (Map keeps insertion order). */
  readonly #pending = new Map<string, Connection>();
  readonly #routers = new Map<string, BmpRouter>();
  #server: Server | undefined;
  readonly #sessionEvents: SessionEvents;

  constructor(options: BmpListenerOptions = {}) {
    super();
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? DEFAULT_BMP_PORT;
    this.#sink = options.sink;
    this.#maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.#maxRouters = options.maxRouters ?? DEFAULT_MAX_ROUTERS;
    this.#maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.#initTimeout = options.initTimeout ?? DEFAULT_INIT_TIMEOUT;
    this.#idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
    this.#log = options.log;
    this.#sessionEvents = {
      initiated: (router) => this.#initiated(router),
      peerUp: (peer) => {
        this.#log?.({
          level: 'info',
          event: 'peer-up',
          router: peer.router.id,
          peer: describePeer(peer),
          message: 'peer up',
        });
        this.emit('peerUp', peer);
      },
      peerDown: (peer, down: PeerDown) => {
        this.#log?.({
          level: 'info',
          event: 'peer-down',
          router: peer.router.id,
          peer: describePeer(peer),
          message: `peer down, reason ${down.reason}`,
        });
        this.emit('peerDown', peer, down);
      },
      endOfRib: (peer, stage: PolicyStage, afi, safi) => this.emit('endOfRib', peer, stage, afi, safi),
      statistics: (peer) => this.emit('statistics', peer),
      updateError: (peer, stage, treatment, error) => {
        const errors = peer.router.counters.updateErrors;
        const n = errors[0] + errors[1] + errors[2];
        // A router that sends nothing else must not flood the log: the 1st, 10th, 100th...
        // are logged, rovkit_bmp_update_errors_total counts them all.
        if (Math.log10(n) % 1 === 0) {
          this.#log?.({
            level: 'warn',
            event: 'update-error',
            router: peer.router.id,
            peer: describePeer(peer),
            message: `${policyStageNames[stage]} UPDATE error ${n} of this session (${treatment}; logged at 1, 10, 100, ...): ${error.message}`,
            code: 'BGP_ERR_MALFORMED',
          });
        }
        this.emit('updateError', peer, stage, treatment, error);
      },
    };
  }

  /** Connected routers (sessions that sent Initiation) by id. */
  get routers(): ReadonlyMap<string, BmpRouter> {
    return this.#routers;
  }

  /** Connections still waiting for their Initiation. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The bound address once started. */
  get address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  async start(): Promise<AddressInfo> {
    if (this.#server !== undefined) throw new Error('BMP listener already started');
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.#host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      this.#server = undefined;
      throw error;
    });
    return this.address!;
  }

  /** Closes the server and every session (their routes are removed and reported). */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closing = new Promise<void>((resolve) => server.close(() => resolve()));
    const sessions = [...this.#connections.values()];
    for (const connection of sessions) {
      connection.reason ??= { kind: 'stopped' };
      connection.socket.destroy();
    }
    await Promise.all(sessions.map((c) => c.closed));
    await closing;
  }

  #accept(socket: Socket): void {
    if (this.#server === undefined) {
      socket.destroy();
      return;
    }
    this.counters.connections++;
    if (this.#pending.size >= this.#maxPending) {
      const oldest = this.#pending.values().next().value!;
      this.counters.evictedPending++;
      this.#close(oldest, {
        kind: 'evicted',
        limit: 'pending',
        message: `${this.#maxPending} connections were waiting for their Initiation (--bmp-max-pending)`,
      });
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const router = new RouterState(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0);
    const session = new BmpSession(router, this.#maxMessageLength, this.#sink, this.#sessionEvents);
    session.requireInitiation = true;
    let markClosed!: () => void;
    const connection: Connection = {
      session,
      socket,
      reason: undefined,
      closed: new Promise((resolve) => (markClosed = resolve)),
      initTimer: undefined,
      lastData: Date.now(),
      admitted: false,
    };
    connection.initTimer = setTimeout(() => {
      this.counters.initTimeouts++;
      this.#close(connection, {
        kind: 'init-timeout',
        message: `no Initiation within ${this.#initTimeout / 1000} s (--bmp-init-timeout)`,
      });
    }, this.#initTimeout);
    this.#connections.set(router.id, connection);
    this.#pending.set(router.id, connection);
    this.emit('routerUp', router);

    socket.on('data', (chunk: Buffer) => {
      if (connection.reason !== undefined) return;
      connection.lastData = Date.now();
      try {
        session.push(chunk);
      } catch (error) {
        if (error instanceof Closed) return;
        this.#fail(connection, error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('timeout', () => {
      this.counters.idleTimeouts++;
      this.#close(connection, {
        kind: 'idle-timeout',
        message: `nothing received for ${this.#idleTimeout / 1000} s (--bmp-idle-timeout)`,
      });
    });
    // The router closed its side (after a Termination, or not): close ours.
    socket.on('end', () => socket.end());
    socket.on('error', (error) => {
      connection.reason ??= { kind: 'socket-error', error };
    });
    socket.on('close', () => {
      clearTimeout(connection.initTimer);
      this.#connections.delete(router.id);
      this.#pending.delete(router.id);
      const termination = router.termination;
      const reason: BmpCloseReason =
        connection.reason ??
        (termination === undefined ? { kind: 'remote-close' } : { kind: 'remote-close', termination });
      try {
        session.close();
      } catch (error) {
        // Only a throwing sink can get here; an event handler must not throw it at Node.
        this.#log?.({
          level: 'error',
          event: 'session-error',
          router: router.id,
          message: `removing the routes of a closed session failed: ${error instanceof Error ? error.message : String(error)}`,
        });
      } finally {
        this.#routers.delete(router.id);
        const why = `${reason.kind}${'message' in reason ? `: ${reason.message}` : ''}`;
        if (connection.admitted) {
          this.#log?.({
            level: reason.kind === 'remote-close' || reason.kind === 'stopped' ? 'info' : 'warn',
            event: 'router-down',
            router: router.id,
            message: `router disconnected (${why})`,
          });
        } else if (Math.log10(++this.#closedBeforeInitiation) % 1 === 0) {
          // A scan or a flood of connections must not flood the log: the 1st, 10th, 100th...
          this.#log?.({
            level: 'warn',
            event: 'connection-closed',
            router: router.id,
            message: `connection closed before its Initiation (${why}); ${this.#closedBeforeInitiation} so far, logged at 1, 10, 100, ...`,
          });
        }
        this.emit('routerDown', router, reason);
        markClosed();
      }
    });
  }

  /** A connection's Initiation arrived: it becomes a router, if there is room. */
  #initiated(router: RouterState): void {
    const connection = this.#connections.get(router.id);
    if (connection === undefined || !this.#pending.delete(router.id)) return;
    clearTimeout(connection.initTimer);
    connection.initTimer = undefined;
    if (this.#routers.size >= this.#maxRouters && !this.#evictIdleRouter()) {
      this.counters.refusedConnections++;
      this.#log?.({
        level: 'warn',
        event: 'connection-refused',
        router: router.id,
        message: `refused: ${this.#maxRouters} routers already connected, each with peers (--bmp-max-routers)`,
      });
      this.#close(connection, {
        kind: 'refused',
        message: `${this.#maxRouters} routers already connected (--bmp-max-routers)`,
      });
      throw new Closed();
    }
    this.#routers.set(router.id, router);
    connection.admitted = true;
    if (this.#idleTimeout > 0) connection.socket.setTimeout(this.#idleTimeout);
    this.#log?.({
      level: 'info',
      event: 'router-up',
      router: router.id,
      message: `router connected${router.sysName === undefined ? '' : ` (${router.sysName})`}`,
    });
    this.emit('routerInitiated', router);
  }

  /**
   * Closes the router that has been silent longest among those that hold no peer and
   * have sent nothing for initTimeout (they hold no route: nothing is lost). False
   * when there is none.
   */
  #evictIdleRouter(): boolean {
    const quietSince = Date.now() - this.#initTimeout;
    let victim: Connection | undefined;
    for (const id of this.#routers.keys()) {
      const c = this.#connections.get(id);
      if (c === undefined || c.reason !== undefined || c.session.router.peers.size > 0) continue;
      if (c.lastData > quietSince) continue;
      if (victim === undefined || c.lastData < victim.lastData) victim = c;
    }
    if (victim === undefined) return false;
    this.counters.evictedRouters++;
    this.#routers.delete(victim.session.router.id);
    this.#close(victim, {
      kind: 'evicted',
      limit: 'routers',
      message: `a new router needed the slot of this one, which held no peer (--bmp-max-routers ${this.#maxRouters})`,
    });
    return true;
  }

  /** Closes a connection for a listener reason (the close handler reports it). */
  #close(connection: Connection, reason: BmpCloseReason): void {
    connection.reason ??= reason;
    clearTimeout(connection.initTimer);
    connection.initTimer = undefined;
    this.#pending.delete(connection.session.router.id);
    connection.socket.destroy();
  }

  #fail(connection: Connection, error: BmpError | Error): void {
    const router = connection.session.router;
    connection.reason = { kind: 'error', error };
    this.counters.sessionErrors++;
    this.#log?.({
      level: 'error',
      event: 'session-error',
      router: router.id,
      message: `closing the session: ${error.message}`,
      code: 'code' in error && typeof error.code === 'string' ? error.code : undefined,
    });
    this.emit('sessionError', router, error);
    connection.socket.destroy();
  }
}

function describePeer(peer: PeerState): string {
  return `${peer.type} ${peer.address} AS${peer.asn}`;
}
