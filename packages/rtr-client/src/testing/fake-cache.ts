// Test-only: an in-process RTR cache with a scriptable answer for every query. By default
// it behaves like a correct cache (Reset and Serial Queries, Serial Notify on update,
// Cache Reset for unknown serials); tests override `onQuery` to produce corner cases, and
// `chunkSize`/`chunkDelay` to deliver its bytes in pieces. It serves in-memory duplex
// pairs (`transport()`) or real loopback TCP (`listen()`).
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { ConnectError } from '../errors.js';
import { Framer } from '../framer.js';
import { decodePdu, PduType, writePdu, type Pdu, type Timers } from '../pdu.js';
import type { Transport } from '../transport.js';
import { Writer } from '../writer.js';
import {
  aspa as aspaPdu,
  cacheReset,
  cacheResponse,
  endOfData,
  errorReport,
  prefix,
  serialNotify,
} from './pdus.js';

/** A VRP as the fake cache holds it. */
export interface FakeVrp {
  readonly prefix: string;
  readonly maxLength: number;
  readonly asn: number;
}

export function vrpKey(v: FakeVrp): string {
  return `${v.prefix}-${v.maxLength}-AS${v.asn}`;
}

interface Change {
  readonly serial: number;
  readonly announced: FakeVrp[];
  readonly withdrawn: FakeVrp[];
  readonly aspa: { customer: number; providers: number[] | null }[];
}

/** Two connected in-memory Duplex ends: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        const p = peer();
        if (!p.destroyed) p.push(Buffer.from(chunk));
        callback();
      },
      final(callback) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        callback();
      },
      destroy(error, callback) {
        const p = peer();
        if (!p.destroyed && !p.readableEnded) p.push(null);
        callback(error);
      },
    });
  ends.push(
    make(() => ends[1]!),
    make(() => ends[0]!),
  );
  return [ends[0]!, ends[1]!];
}

export class CacheConnection {
  readonly received: Pdu[] = [];
  readonly socket: Duplex;
  readonly #cache: FakeCache;
  readonly #framer: Framer;
  #waiters: ((pdu: Pdu) => void)[] = [];
  #queue: Promise<void> = Promise.resolve();
  closed = false;

  constructor(cache: FakeCache, socket: Duplex) {
    this.#cache = cache;
    this.socket = socket;
    this.#framer = new Framer((buf, offset, length) => {
      const pdu = decodePdu(Buffer.from(buf.subarray(offset, offset + length)));
      this.received.push(pdu);
      const w = this.#waiters.shift();
      if (w !== undefined) w(pdu);
      else void this.#cache.answer(this, pdu);
    });
    socket.on('data', (chunk: Buffer) => this.#framer.push(chunk));
    socket.on('error', () => undefined);
    // Like a TCP socket without allowHalfOpen: the client's FIN closes the connection.
    socket.on('end', () => {
      this.closed = true;
      socket.end();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#cache.connections.delete(this);
    });
  }

  /** Resolves with the next PDU from the client instead of answering it. */
  nextPdu(): Promise<Pdu> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Sends PDUs (or raw bytes), in the cache's chunk size and pace, after what was sent before. */
  send(...items: (Pdu | Buffer)[]): Promise<void> {
    const w = new Writer();
    for (const item of items) {
      if (Buffer.isBuffer(item)) w.bytes(item);
      else writePdu(w, item);
    }
    const bytes = w.take();
    this.#queue = this.#queue.then(async () => {
      const size = this.#cache.chunkSize ?? bytes.length;
      for (let p = 0; p < bytes.length && !this.socket.destroyed; p += size) {
        this.socket.write(bytes.subarray(p, p + size));
        if (this.#cache.chunkDelay !== undefined)
          await new Promise((r) => setTimeout(r, this.#cache.chunkDelay));
      }
    });
    return this.#queue;
  }

  /** Closes the connection from the cache's side. */
  end(): void {
    void this.#queue.then(() => this.socket.end());
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface FakeCacheOptions {
  readonly name?: string;
  readonly sessionId?: number;
  readonly serial?: number;
  /** Highest version it speaks (default 2). */
  readonly version?: number;
  /** How it answers a query of a higher version: Error Report code 4 (RFC) or its own version (StayRTR). */
  readonly onHigherVersion?: 'error' | 'answer';
  /**
   * How it answers a Serial Query for another session: Cache Reset (RFC), Error Report
   * code 0 (StayRTR), or closing without a word (StayRTR when its report loses the race).
   */
  readonly onSessionMismatch?: 'cacheReset' | 'errorReport' | 'close';
  readonly timers?: Timers;
}

export class FakeCache {
  readonly name: string;
  sessionId: number;
  serial: number;
  version: number;
  onHigherVersion: 'error' | 'answer';
  onSessionMismatch: 'cacheReset' | 'errorReport' | 'close';
  timers: Timers;
  readonly vrps = new Map<string, FakeVrp>();
  readonly aspas = new Map<number, number[]>();
  readonly history: Change[] = [];
  readonly connections = new Set<CacheConnection>();
  /** Every connection ever made, in order. */
  readonly log: CacheConnection[] = [];
  /** When set, connecting fails (the cache is down). */
  down = false;
  chunkSize: number | undefined;
  chunkDelay: number | undefined;
  /** Overrides the answer to a query; return true when it answered. */
  onQuery: ((conn: CacheConnection, query: Pdu, cache: FakeCache) => boolean | Promise<boolean>) | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(options: FakeCacheOptions = {}) {
    this.name = options.name ?? 'fake';
    this.sessionId = options.sessionId ?? 4242;
    this.serial = options.serial ?? 1;
    this.version = options.version ?? 2;
    this.onHigherVersion = options.onHigherVersion ?? 'error';
    this.onSessionMismatch = options.onSessionMismatch ?? 'cacheReset';
    this.timers = options.timers ?? { refresh: 3600, retry: 600, expire: 7200 };
  }

  /** An in-memory transport to this cache. */
  transport(): Transport {
    return {
      target: `fake://${this.name}`,
      connect: async (signal) => {
        if (signal.aborted) throw signal.reason;
        await new Promise((r) => setImmediate(r));
        if (this.down) throw new ConnectError(`fake://${this.name}`, { cause: new Error('ECONNREFUSED') });
        const [client, server] = duplexPair();
        this.#accept(server);
        return client;
      },
    };
  }

  /** Serves real TCP on 127.0.0.1; resolves with the port. */
  async listen(port = 0): Promise<number> {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      this.#accept(socket);
    });
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Stops listening and drops every connection (a killed cache). */
  async stop(): Promise<void> {
    for (const c of this.connections) c.destroy();
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Serves a connection accepted elsewhere (e.g. by a node:tls server). */
  serve(socket: Duplex): void {
    this.#accept(socket);
  }

  #accept(socket: Duplex): void {
    const conn = new CacheConnection(this, socket);
    this.connections.add(conn);
    this.log.push(conn);
  }

  /** Replaces the data set: a new serial (wrapping at 2^32), a history entry and a Serial Notify to every client. */
  update(vrps: readonly FakeVrp[], aspas?: ReadonlyMap<number, number[]>, notify = true): void {
    const next = new Map(vrps.map((v) => [vrpKey(v), v]));
    const announced = [...next].filter(([k]) => !this.vrps.has(k)).map(([, v]) => v);
    const withdrawn = [...this.vrps].filter(([k]) => !next.has(k)).map(([, v]) => v);
    const aspaChanges: Change['aspa'] = [];
    if (aspas !== undefined) {
      for (const [c, p] of aspas)
        if (JSON.stringify(this.aspas.get(c)) !== JSON.stringify(p))
          aspaChanges.push({ customer: c, providers: p });
      for (const c of this.aspas.keys())
        if (!aspas.has(c)) aspaChanges.push({ customer: c, providers: null });
      this.aspas.clear();
      for (const [c, p] of aspas) this.aspas.set(c, p);
    }
    this.vrps.clear();
    for (const [k, v] of next) this.vrps.set(k, v);
    this.serial = (this.serial + 1) >>> 0;
    this.history.push({ serial: this.serial, announced, withdrawn, aspa: aspaChanges });
    if (notify)
      for (const c of this.connections) void c.send(serialNotify(this.version, this.sessionId, this.serial));
  }

  /** A restart: new session id, history forgotten. */
  restart(sessionId: number): void {
    this.sessionId = sessionId;
    this.history.length = 0;
    for (const c of this.connections) c.destroy();
  }

  fullSet(version: number): Pdu[] {
    const out: Pdu[] = [...this.vrps.values()].map((v) => prefix(version, v.prefix, v.maxLength, v.asn));
    if (version >= 2) for (const [c, p] of this.aspas) out.push(aspaPdu(version, c, p));
    return out;
  }

  /** The changes from `serial` to the current serial, or undefined when the history does not reach back. */
  changesSince(serial: number, version: number): Pdu[] | undefined {
    if (serial === this.serial) return [];
    const start = this.history.findIndex((h) => h.serial === (serial + 1) >>> 0);
    if (start < 0) return undefined;
    const out: Pdu[] = [];
    for (const h of this.history.slice(start)) {
      for (const v of h.withdrawn) out.push(prefix(version, v.prefix, v.maxLength, v.asn, false));
      for (const v of h.announced) out.push(prefix(version, v.prefix, v.maxLength, v.asn));
      if (version >= 2)
        for (const a of h.aspa)
          out.push(
            a.providers === null
              ? aspaPdu(version, a.customer, [], false)
              : aspaPdu(version, a.customer, a.providers),
          );
    }
    return out;
  }

  /** The default, RFC-conforming answer (overridable with `onQuery`). */
  async answer(conn: CacheConnection, query: Pdu): Promise<void> {
    if (this.onQuery !== undefined && (await this.onQuery(conn, query, this))) return;
    if (query.type !== PduType.ResetQuery && query.type !== PduType.SerialQuery) return;
    let v = query.version;
    if (v > this.version) {
      if (this.onHigherVersion === 'error') {
        await conn.send(
          errorReport(
            this.version,
            4,
            'unsupported version',
            Buffer.from([query.version, query.type, 0, 0, 0, 0, 0, 8]),
          ),
        );
        conn.end();
        return;
      }
      v = this.version;
    }
    if (query.type === PduType.SerialQuery) {
      if (query.sessionId !== this.sessionId) {
        if (this.onSessionMismatch === 'close') conn.destroy();
        else if (this.onSessionMismatch === 'errorReport') {
          await conn.send(errorReport(v, 0, 'Session ID mismatch: client is desynchronized'));
          conn.end();
        } else await conn.send(cacheReset(v));
        return;
      }
      const changes = this.changesSince(query.serial, v);
      if (changes === undefined) {
        await conn.send(cacheReset(v));
        return;
      }
      await conn.send(
        cacheResponse(v, this.sessionId),
        ...changes,
        endOfData(v, this.sessionId, this.serial, this.timers),
      );
      return;
    }
    await conn.send(
      cacheResponse(v, this.sessionId),
      ...this.fullSet(v),
      endOfData(v, this.sessionId, this.serial, this.timers),
    );
  }
}
