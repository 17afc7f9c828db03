// Transports carry the RTR byte stream. A Transport opens one connection per call and
// yields a Duplex, so TCP, TLS and later SSH (an ssh2 channel is a Duplex too) plug in
// the same way; the session code never sees sockets.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ConnectError, InvalidArgumentError } from './errors.js';

export interface Transport {
  /** Names the cache in states, errors and diagnostics, e.g. "tcp://127.0.0.1:8282". */
  readonly target: string;
  /**
   * Opens a connection. Rejects with a ConnectError when it cannot, and with
   * `signal.reason` (destroying what it opened) when the signal aborts first.
   */
  connect(signal: AbortSignal): Promise<Duplex>;
  /**
   * True when pausing the connection's stream lets the bytes that arrive meanwhile come
   * out as one larger chunk (a plain TCP socket stops reading and the kernel gathers
   * them). The session then gathers the small reads of a streaming response that way.
   * Leave it unset for streams that hand over buffered chunks one by one anyway (TLS
   * hands over one chunk per record).
   */
  readonly gathersWhilePaused?: boolean;
}

export interface TcpOptions {
  readonly host: string;
  /** Default 323 (RFC 6810 §7 "rpki-rtr"); 8282 is StayRTR's default. */
  readonly port?: number;
  readonly localAddress?: string;
}

export interface TlsOptions extends Omit<TcpOptions, 'localAddress'> {
  /** Trusted CA certificate(s), PEM. Without it, the system store is used. */
  readonly ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key, PEM, for caches that authenticate routers. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** SNI and the name the certificate must carry; defaults to `host` when it is a name. */
  readonly servername?: string;
  /** Default true. Turning it off accepts any certificate (testing only). */
  readonly rejectUnauthorized?: boolean;
}

/** RTR over plain TCP: port 323 (RFC 6810 §7). */
export const RTR_TCP_PORT = 323;
/** RTR over TLS: port 324 (RFC 6810 §7.2, "rpki-rtr-tls"). */
export const RTR_TLS_PORT = 324;

function formatTarget(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError(`invalid port ${port}`);
  return port;
}

/** Waits for `ready` on a socket, turning errors and `signal` into rejections. */
function whenOpen<S extends Socket>(
  socket: S,
  ready: string,
  target: string,
  signal: AbortSignal,
): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(ready, onReady);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onReady = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(target, { cause: error }));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    socket.once(ready, onReady);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function tcpTransport(options: TcpOptions): Transport {
  const port = checkPort(options.port ?? RTR_TCP_PORT);
  const target = formatTarget('tcp', options.host, port);
  return {
    target,
    gathersWhilePaused: true,
    async connect(signal) {
      const socket = netConnect({ host: options.host, port, localAddress: options.localAddress });
      await whenOpen(socket, 'connect', target, signal);
      // Queries are tiny and latency-bound.
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      return socket;
    },
  };
}

export function tlsTransport(options: TlsOptions): Transport {
  const port = checkPort(options.port ?? RTR_TLS_PORT);
  const target = formatTarget('tls', options.host, port);
  const isAddress = /^[\d.]+$/.test(options.host) || options.host.includes(':');
  const servername = options.servername ?? (isAddress ? undefined : options.host);
  return {
    target,
    async connect(signal) {
      const socket: TLSSocket = tlsConnect({
        host: options.host,
        port,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        servername,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
      });
      await whenOpen(socket, 'secureConnect', target, signal);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      return socket;
    },
  };
}

/** A cache given as "host:port", "[v6]:port" or "host" (port defaults by transport). */
export function parseCacheAddress(
  text: string,
  defaultPort: number = RTR_TCP_PORT,
): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null)
    return {
      host: bracketed[1]!,
      port: checkPort(bracketed[2] === undefined ? defaultPort : Number(bracketed[2])),
    };
  const colons = text.split(':').length - 1;
  if (colons === 0) {
    if (text === '') throw new InvalidArgumentError('empty cache address');
    return { host: text, port: defaultPort };
  }
  if (colons > 1) return { host: text, port: defaultPort }; // a bare IPv6 address
  const [host, port] = text.split(':') as [string, string];
  if (host === '' || !/^\d+$/.test(port)) throw new InvalidArgumentError(`invalid cache address "${text}"`);
  return { host, port: checkPort(Number(port)) };
}
