// The BMP listener (RFC 7854): a TCP server that routers connect to, one BmpSession per
// router. A malformed message closes that router's session only; its routes are removed
// (reported through the sink) and the reason is emitted and logged. Nothing runs before
// start(): the constructor only stores its dependencies.
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { BmpSession, RouterState, type PeerState, type SessionEvents } from './session.js';
import type { BmpError } from './errors.js';
import type { PeerDown } from './messages.js';
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

export interface BmpListenerOptions {
  /** Address to listen on; default 127.0.0.1 (BMP has no authentication: expose it on purpose). */
  host?: string;
  /** TCP port; default 11019, 0 picks a free one. */
  port?: number;
  /** Receives every route change. */
  sink?: BmpRouteSink;
  /** Longest BMP message accepted; longer ones close the session (BMP_ERR_TOO_LARGE). */
  maxMessageLength?: number;
  /** Routers connected at once; further connections are closed at once. Default 256. */
  maxRouters?: number;
  /** Structured log lines (router up/down, session errors with their code). */
  log?: (entry: BmpLogEntry) => void;
}

export interface BmpListenerCounters {
  connections: number;
  refusedConnections: number;
  sessionErrors: number;
}

interface Connection {
  session: BmpSession;
  socket: Socket;
  reason: BmpCloseReason | undefined;
  closed: Promise<void>;
}

export class BmpListener extends EventEmitter<BmpListenerEvents> {
  readonly counters: BmpListenerCounters = { connections: 0, refusedConnections: 0, sessionErrors: 0 };
  readonly #host: string;
  readonly #port: number;
  readonly #sink: BmpRouteSink | undefined;
  readonly #maxMessageLength: number;
  readonly #maxRouters: number;
  readonly #log: ((entry: BmpLogEntry) => void) | undefined;
  readonly #connections = new Map<string, Connection>();
  readonly #routers = new Map<string, BmpRouter>();
  #server: Server | undefined;
  readonly #sessionEvents: SessionEvents;

  constructor(options: BmpListenerOptions = {}) {
    super();
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? DEFAULT_BMP_PORT;
    this.#sink = options.sink;
    this.#maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.#maxRouters = options.maxRouters ?? 256;
    this.#log = options.log;
    this.#sessionEvents = {
      initiated: (router) => this.emit('routerInitiated', router),
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
    };
  }

  /** Connected routers by id. */
  get routers(): ReadonlyMap<string, BmpRouter> {
    return this.#routers;
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
    const address = socket.remoteAddress ?? 'unknown';
    const port = socket.remotePort ?? 0;
    if (this.#connections.size >= this.#maxRouters) {
      this.counters.refusedConnections++;
      this.#log?.({
        level: 'warn',
        event: 'connection-refused',
        router: `${address}:${port}`,
        message: `refused: ${this.#maxRouters} routers already connected`,
      });
      socket.destroy();
      return;
    }
    this.counters.connections++;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const router = new RouterState(address, port);
    const session = new BmpSession(router, this.#maxMessageLength, this.#sink, this.#sessionEvents);
    let markClosed!: () => void;
    const connection: Connection = {
      session,
      socket,
      reason: undefined,
      closed: new Promise((resolve) => (markClosed = resolve)),
    };
    this.#connections.set(router.id, connection);
    this.#routers.set(router.id, router);
    this.#log?.({ level: 'info', event: 'router-up', router: router.id, message: 'router connected' });
    this.emit('routerUp', router);

    socket.on('data', (chunk: Buffer) => {
      if (connection.reason !== undefined) return;
      try {
        session.push(chunk);
      } catch (error) {
        this.#fail(connection, error instanceof Error ? error : new Error(String(error)));
      }
    });
    // The router closed its side (after a Termination, or not): close ours.
    socket.on('end', () => socket.end());
    socket.on('error', (error) => {
      connection.reason ??= { kind: 'socket-error', error };
    });
    socket.on('close', () => {
      this.#connections.delete(router.id);
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
        this.#log?.({
          level: reason.kind === 'error' || reason.kind === 'socket-error' ? 'warn' : 'info',
          event: 'router-down',
          router: router.id,
          message: `router disconnected (${reason.kind})`,
        });
        this.emit('routerDown', router, reason);
        markClosed();
      }
    });
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
