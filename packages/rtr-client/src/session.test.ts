// Session limits against hostile caches (issue 11): a response that trickles, one that never
// ends, and the Error Report that must reach the cache before the connection closes.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RtrClient, type RtrClientOptions } from './client.js';
import { ErrorCode, type RtrError } from './errors.js';
import { decodePdu, PduType, type ErrorReportPdu, type Pdu } from './pdu.js';
import { FakeCache, vrpKey, type CacheConnection, type FakeVrp } from './testing/fake-cache.js';
import { cacheResponse, encode, prefix } from './testing/pdus.js';
import type { Transport } from './transport.js';

const A: FakeVrp = { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 };
const B: FakeVrp = { prefix: '198.51.100.0/22', maxLength: 24, asn: 64497 };

const clients: RtrClient[] = [];
const caches: FakeCache[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

function cacheWith(vrps: FakeVrp[], name: string, sessionId: number): FakeCache {
  const cache = new FakeCache({ name, sessionId });
  cache.update(vrps, undefined, false);
  caches.push(cache);
  return cache;
}

function client(caches: (Transport | string)[], options: Partial<RtrClientOptions> = {}): RtrClient {
  const c = new RtrClient({
    caches,
    backoff: { initial: 5, max: 40, jitter: 0 },
    notifyDebounce: 5,
    connectTimeout: 1000,
    ...options,
  });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

async function until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function reports(cache: FakeCache): ErrorReportPdu[] {
  return cache.log.flatMap((conn) =>
    conn.received.filter((p): p is ErrorReportPdu => p.type === PduType.ErrorReport),
  );
}

/**
 * Answers every query with a Cache Response and then prefix PDUs without end, as fast as
 * the socket takes them (over TCP only: the in-memory pair never pushes back).
 */
function neverEnding(cache: FakeCache): void {
  cache.onQuery = (conn: CacheConnection, q: Pdu) => {
    if (q.type !== PduType.ResetQuery && q.type !== PduType.SerialQuery) return false;
    const socket = conn.socket;
    socket.write(encode(cacheResponse(q.version, cache.sessionId)));
    let n = 0;
    const pump = (): void => {
      while (!socket.destroyed && !socket.writableEnded) {
        const pdus: Pdu[] = [];
        for (let i = 0; i < 256; i++, n++)
          pdus.push(prefix(q.version, `10.${(n >>> 8) & 0xff}.${n & 0xff}.0/24`, 24, 64500 + (n >>> 16)));
        if (!socket.write(encode(...pdus))) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
    return true;
  };
}

/** Prefix PDUs 10.x.y.0/24 without end, as bytes. */
function endlessPayload(version: number, sessionId: number): () => Buffer {
  let n = 0;
  let pending = encode(cacheResponse(version, sessionId));
  return () => {
    if (pending.length === 0) {
      pending = encode(prefix(version, `10.${(n >>> 8) & 0xff}.${n & 0xff}.0/24`, 24, 64500 + (n >>> 16)));
      n++;
    }
    const b = pending.subarray(0, 1);
    pending = pending.subarray(1);
    return b;
  };
}

/** Answers every query with an endless response, `bytes` bytes every `everyMs`. */
function trickle(cache: FakeCache, bytes: number, everyMs: number): void {
  cache.onQuery = (conn, q) => {
    if (q.type !== PduType.ResetQuery && q.type !== PduType.SerialQuery) return false;
    const next = endlessPayload(q.version, cache.sessionId);
    const timer = setInterval(() => {
      if (conn.closed || conn.socket.destroyed) return clearInterval(timer);
      const out: Buffer[] = [];
      for (let i = 0; i < bytes; i++) out.push(next());
      conn.socket.write(Buffer.concat(out));
    }, everyMs);
    conn.socket.once('close', () => clearInterval(timer));
    return true;
  };
}

describe('Session: a response that trickles', () => {
  it('drops a cache that sends too little per interval and fails over to the next one', async () => {
    const evil = cacheWith([A], 'trickle', 7);
    const good = cacheWith([A, B], 'good', 8);
    // One byte every 10 ms: never silent for the response timeout, never finished.
    trickle(evil, 1, 10);
    const c = client([evil.transport(), good.transport()], {
      responseTimeout: 5000,
      minProgress: { bytes: 200, intervalMs: 100, graceMs: 100 },
      switchBackInterval: 60_000,
    });
    const errors: RtrError[] = [];
    c.on('error', (e) => errors.push(e));
    c.start();
    await c.whenSynced();
    expect(c.cache).toBe('fake://good');
    expect([...c.table].map(vrpKey).sort()).toEqual([A, B].map(vrpKey).sort());
    const slow = errors.find((e) => e.code === 'RTR_ERR_RESPONSE_TOO_SLOW');
    expect(slow?.message).toContain('fake://trickle');
    expect(evil.connections.size).toBe(0);
  });

  it('ends a response that goes on past the response deadline, however fast it is', async () => {
    const evil = cacheWith([A], 'slowpoke', 7);
    const good = cacheWith([B], 'good', 8);
    // 40 bytes every 5 ms: enough progress, no End of Data.
    trickle(evil, 40, 5);
    const c = client([evil.transport(), good.transport()], {
      responseDeadline: 300,
      minProgress: { bytes: 0 },
      switchBackInterval: 60_000,
    });
    const errors: RtrError[] = [];
    c.on('error', (e) => errors.push(e));
    c.start();
    await c.whenSynced();
    expect(c.cache).toBe('fake://good');
    expect(errors.map((e) => e.code)).toContain('RTR_ERR_RESPONSE_DEADLINE');
    expect([...c.table].map(vrpKey)).toEqual([vrpKey(B)]);
  });

  it('lets a slow but steady response finish', async () => {
    const cache = cacheWith([A, B], 'steady', 9);
    cache.chunkSize = 8;
    cache.chunkDelay = 5;
    const c = client([cache.transport()], { minProgress: { bytes: 8, intervalMs: 50, graceMs: 0 } });
    c.start();
    await c.whenSynced();
    expect(c.table.size).toBe(2);
  });

  it('validates the new options', () => {
    for (const o of [
      { responseDeadline: 0 },
      { minProgress: { bytes: -1 } },
      { minProgress: { bytes: 1.5 } },
      { minProgress: { intervalMs: 0 } },
    ])
      expect(() => new RtrClient({ caches: ['x:1'], ...o })).toThrow(
        expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
      );
  });
});

describe('Session: a payload that never ends', () => {
  it('gets Error Report code 1 through to the cache over TCP before the connection closes', async () => {
    const evil = cacheWith([A], 'evil', 7);
    neverEnding(evil);
    const port = await evil.listen();
    const c = client([`127.0.0.1:${port}`], { maxPayloadPdus: 5000 });
    const errors: RtrError[] = [];
    c.on('error', (e) => errors.push(e));
    c.start();
    await until('the refusal', () => errors.some((e) => e.code === 'RTR_ERR_PAYLOAD_LIMIT'));
    await until('the Error Report at the cache', () => reports(evil).length > 0, 5000);
    expect(reports(evil)[0]!.errorCode).toBe(ErrorCode.InternalError);
    expect(c.table.size).toBe(0);
  });

  it('still gets the Error Report to a cache that reads only a while later (no reset overtakes it)', async () => {
    // A cache that writes without end and reads nothing for 1.5 s: closing with unread
    // data would reset the connection, and the reset drops the report at the cache.
    let received = Buffer.alloc(0);
    const server: Server = createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', (query) => {
        s.pause();
        const version = query[0]!;
        s.write(encode(cacheResponse(version, 7)));
        let n = 0;
        const pump = (): void => {
          while (!s.destroyed && !s.writableEnded) {
            const pdus: Pdu[] = [];
            for (let i = 0; i < 256; i++, n++)
              pdus.push(prefix(version, `10.${(n >>> 8) & 0xff}.${n & 0xff}.0/24`, 24, 64500 + (n >>> 16)));
            if (!s.write(encode(...pdus))) return void s.once('drain', pump);
          }
        };
        pump();
        setTimeout(() => {
          s.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
          s.on('end', () => s.destroy());
          s.resume();
        }, 1500);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as { port: number }).port;
      const c = client([`127.0.0.1:${port}`], { maxPayloadPdus: 5000, backoff: { initial: 60_000 } });
      c.start();
      await until('the report at the cache', () => received.length >= 8, 6000);
      const report = decodePdu(received.subarray(0, received.readUInt32BE(4)));
      expect(report.type).toBe(PduType.ErrorReport);
      expect((report as ErrorReportPdu).errorCode).toBe(ErrorCode.InternalError);
    } finally {
      server.close();
    }
  });

  it('tries a cache that sent a never-ending payload last, instead of paying for it again at once', async () => {
    const evil = cacheWith([A], 'endless', 7);
    const good = cacheWith([A, B], 'good', 8);
    neverEnding(evil);
    const port = await evil.listen();
    const c = client([`127.0.0.1:${port}`, good.transport()], {
      maxPayloadPdus: 2000,
      switchBackInterval: 60_000,
    });
    const errors: RtrError[] = [];
    c.on('error', (e) => errors.push(e));
    c.start();
    await c.whenSynced();
    expect(c.cache).toBe('fake://good');
    expect(evil.log.length).toBe(1);
    // The working session breaks: the client starts over from the most preferred cache,
    // except one held back after a costly failure (for switchBackInterval, doubling).
    for (const conn of good.connections) conn.destroy();
    await until(
      'a second sync from the good cache',
      () => good.log.length === 2 && c.state.status === 'synced',
    );
    expect(c.cache).toBe('fake://good');
    expect(evil.log.length).toBe(1);
    expect(errors.filter((e) => e.code === 'RTR_ERR_PAYLOAD_LIMIT')).toHaveLength(1);
    expect(c.table.size).toBe(2);
  });
});
