// The client against the in-process scripted cache: the corner cases of issue 4. Every
// test goes through public bytes in (what the cache sends) and events out.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VrpTable } from '@rovkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { RtrClient, type RtrClientOptions, type RtrClientState, type RtrDelta } from './client.js';
import { ErrorCode, type RtrError } from './errors.js';
import { PduType, type ErrorReportPdu, type Pdu } from './pdu.js';
import type { Transport } from './transport.js';
import { FakeCache, vrpKey, type CacheConnection, type FakeVrp } from './testing/fake-cache.js';
import {
  aspa,
  cacheReset,
  cacheResponse,
  encode,
  endOfData,
  errorReport,
  hex,
  prefix,
  routerKey,
  serialNotify,
} from './testing/pdus.js';

const A: FakeVrp = { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 };
const B: FakeVrp = { prefix: '198.51.100.0/22', maxLength: 24, asn: 64497 };
const C: FakeVrp = { prefix: '2001:db8::/32', maxLength: 48, asn: 65000 };
const D: FakeVrp = { prefix: '203.0.113.0/24', maxLength: 24, asn: 0 };

const clients: RtrClient[] = [];
const caches: FakeCache[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

function cacheWith(vrps: FakeVrp[], options: ConstructorParameters<typeof FakeCache>[0] = {}): FakeCache {
  const cache = new FakeCache(options);
  cache.update(vrps, undefined, false);
  caches.push(cache);
  return cache;
}

interface Recorder {
  readonly client: RtrClient;
  readonly states: RtrClientState[];
  readonly deltas: RtrDelta[];
  readonly errors: RtrError[];
  readonly warnings: string[];
}

function client(transports: Transport[], options: Partial<RtrClientOptions> = {}): Recorder {
  const c = new RtrClient({
    caches: transports,
    backoff: { initial: 5, max: 40, jitter: 0 },
    notifyDebounce: 5,
    switchBackInterval: 50,
    connectTimeout: 1000,
    responseTimeout: 2000,
    ...options,
  });
  const r: Recorder = { client: c, states: [], deltas: [], errors: [], warnings: [] };
  c.on('stateChange', (s) => r.states.push(s));
  c.on('delta', (d) => r.deltas.push(d));
  c.on('error', (e) => r.errors.push(e));
  c.on('warning', (w) => r.warnings.push(w.message));
  clients.push(c);
  return r;
}

function held(c: RtrClient): string[] {
  return [...c.table].map(vrpKey).sort();
}

function served(cache: FakeCache): string[] {
  return [...cache.vrps.keys()].sort();
}

async function until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function queries(cache: FakeCache): string[] {
  return cache.log.flatMap((conn) =>
    conn.received
      .filter((p) => p.type === PduType.SerialQuery || p.type === PduType.ResetQuery)
      .map((p) => `${p.type === PduType.SerialQuery ? 'serial' : 'reset'}@v${p.version}`),
  );
}

function reportsFromClient(cache: FakeCache): ErrorReportPdu[] {
  return cache.log.flatMap((conn) =>
    conn.received.filter((p): p is ErrorReportPdu => p.type === PduType.ErrorReport),
  );
}

/** Answers each query in turn with the given scripts (then falls back to the default). */
function script(
  cache: FakeCache,
  ...answers: ((conn: CacheConnection, q: Pdu) => Promise<void> | void)[]
): void {
  cache.onQuery = async (conn, q) => {
    const next = answers.shift();
    if (next === undefined) return false;
    await next(conn, q);
    return true;
  };
}

describe('RtrClient: sync', () => {
  it('syncs a full set, then follows Serial Notify with incremental deltas', async () => {
    const cache = cacheWith([A, B, C], { timers: { refresh: 900, retry: 300, expire: 3600 } });
    cache.aspas.set(64500, [1, 2]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(held(r.client)).toEqual(served(cache));
    expect(r.client.aspas).toEqual([{ customer: 64500, providers: [1, 2] }]);
    expect(r.client).toMatchObject({ sessionId: 4242, serial: cache.serial, version: 2 });
    expect(r.client.timers).toEqual({ refresh: 900, retry: 300, expire: 3600 });
    expect(r.deltas[0]).toMatchObject({
      reason: 'reset',
      serial: cache.serial,
      sessionId: 4242,
      cache: 'fake://fake',
    });
    expect(r.deltas[0]!.announced.length).toBe(3);

    cache.update([A, C, D], new Map([[64500, [1, 3]]]));
    await until('the delta', () => r.deltas.length === 2);
    const d = r.deltas[1]!;
    expect(d.reason).toBe('sync');
    expect([...d.announced].map(vrpKey)).toEqual([vrpKey(D)]);
    expect([...d.withdrawn].map(vrpKey)).toEqual([vrpKey(B)]);
    expect(d.aspa).toEqual({
      announced: [{ customer: 64500, providers: [1, 3] }],
      withdrawn: [{ customer: 64500, providers: [1, 2] }],
    });
    expect(held(r.client)).toEqual(served(cache));
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2']);
    expect(r.states.map((s) => s.status)).toEqual(['connecting', 'syncing', 'synced', 'syncing', 'synced']);
  });

  it('can drive a table the caller owns, and a second table through deltas', async () => {
    const cache = cacheWith([A, B]);
    const own = new VrpTable();
    const mirror = new VrpTable();
    const r = client([cache.transport()], { table: own });
    r.client.on('delta', (d) => mirror.applyDelta(d.announced, d.withdrawn));
    r.client.start();
    await r.client.whenSynced();
    cache.update([B, C]);
    await until('the delta', () => r.deltas.length === 2);
    expect(r.client.table).toBe(own);
    expect([...own].map(vrpKey).sort()).toEqual(served(cache));
    expect([...mirror].map(vrpKey).sort()).toEqual(served(cache));
  });

  it('applies nothing before End of Data, even when bytes trickle in one at a time', async () => {
    const cache = cacheWith([A, B, C, D]);
    cache.aspas.set(64500, [5]);
    cache.chunkSize = 1;
    const r = client([cache.transport()]);
    const sizes = new Set<number>();
    const onPdu = (): void => void sizes.add(r.client.table.size);
    subscribe('rpki:rtr:pdu', onPdu);
    try {
      r.client.start();
      await r.client.whenSynced();
      cache.update([A]);
      await until('the delta', () => r.deltas.length === 2);
    } finally {
      unsubscribe('rpki:rtr:pdu', onPdu);
    }
    expect(held(r.client)).toEqual(served(cache));
    // Before the first End of Data the table is empty, between the two it holds the full set.
    expect([...sizes].sort()).toEqual([0, 1, 4].filter((n) => sizes.has(n)));
    expect(sizes.has(0) && sizes.has(4)).toBe(true);
    expect([...sizes].every((n) => n === 0 || n === 4 || n === 1)).toBe(true);
  });

  it('handles slow delivery (a pause after every 7 bytes)', async () => {
    const cache = cacheWith([A, B, C]);
    cache.chunkSize = 7;
    cache.chunkDelay = 1;
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(held(r.client)).toEqual(served(cache));
  });

  it('keeps router keys and ASPA records of both layouts', async () => {
    const cache = cacheWith([A]);
    const ski = new Uint8Array(20).fill(0xab);
    const spki = new Uint8Array([1, 2, 3, 4]);
    script(cache, (conn) =>
      conn.send(
        cacheResponse(2, 9),
        prefix(2, A.prefix, A.maxLength, A.asn),
        routerKey(2, ski, 64496, spki),
        aspa(2, 28, [41881, 61036], true, 0),
        aspa(2, 28, [57485], true, 1),
        aspa(2, 29, [1]),
        endOfData(2, 9, 1),
      ),
    );
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.routerKeys).toEqual([
      { asn: 64496, ski: 'ab'.repeat(20), spki: Buffer.from(spki).toString('base64') },
    ]);
    expect(r.client.aspas).toEqual([
      { customer: 28, providers: [41881, 61036], afiFlags: 0 },
      { customer: 28, providers: [57485], afiFlags: 1 },
      { customer: 29, providers: [1] },
    ]);
  });
});

describe('RtrClient: sessions and serials', () => {
  it('answers a new session id in a Cache Response with Corrupt Data and resets, keeping the data until then', async () => {
    const cache = cacheWith([A, B]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    // The cache answers the next Serial Query under another session id.
    script(cache, (conn) => conn.send(cacheResponse(2, 999), endOfData(2, 999, 1)));
    cache.update([A, B, C]);
    await until('a reset', () => queries(cache).length === 3);
    await until('synced again', () => r.client.state.status === 'synced' && r.client.serial === cache.serial);
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'reset@v2']);
    expect(reportsFromClient(cache).map((e) => e.errorCode)).toEqual([ErrorCode.CorruptData]);
    expect(held(r.client)).toEqual(served(cache));
    expect(r.deltas.map((d) => d.reason)).toEqual(['reset', 'reset']);
    expect(r.deltas.every((d) => d.withdrawn.length === 0)).toBe(true);
  });

  it('resets after a restarted cache (new session id) answers with Cache Reset', async () => {
    const cache = cacheWith([A, B]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    cache.restart(7);
    cache.update([B, C], undefined, false);
    await until('the new session', () => r.client.sessionId === 7 && r.client.state.status === 'synced');
    expect(held(r.client)).toEqual(served(cache));
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'reset@v2']);
    const last = r.deltas.at(-1)!;
    expect([...last.announced].map(vrpKey)).toEqual([vrpKey(C)]);
    expect([...last.withdrawn].map(vrpKey)).toEqual([vrpKey(A)]);
  });

  it('reconnects with a Reset Query when an Error Report answers its Serial Query (StayRTR after a restart)', async () => {
    const cache = cacheWith([A, B], { onSessionMismatch: 'errorReport' });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    cache.restart(8);
    cache.update([A, C], undefined, false);
    const sizes: number[] = [];
    r.client.on('stateChange', () => sizes.push(r.client.table.size));
    await until('the new session', () => r.client.sessionId === 8 && r.client.state.status === 'synced');
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'reset@v2']);
    // The data stayed while the client reconnected (it expires, it does not vanish).
    expect(sizes.every((n) => n === 2)).toBe(true);
    expect(reportsFromClient(cache)).toEqual([]);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('also resets when the cache just closes the connection on its Serial Query', async () => {
    const cache = cacheWith([A, B], { onSessionMismatch: 'close' });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    cache.restart(9);
    cache.update([B, C], undefined, false);
    await until('the new session', () => r.client.sessionId === 9 && r.client.state.status === 'synced');
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'reset@v2']);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('follows serials across the wrap at 2^32', async () => {
    const cache = cacheWith([A], { serial: 0xfffffffd });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.serial).toBe(0xfffffffe);
    cache.update([A, B]);
    await until('serial 0xffffffff', () => r.client.serial === 0xffffffff);
    cache.update([B]);
    await until('serial 0', () => r.client.serial === 0 && r.deltas.length === 3);
    cache.update([B, C]);
    await until('serial 1', () => r.client.serial === 1 && r.deltas.length === 4);
    expect(held(r.client)).toEqual(served(cache));
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'serial@v2', 'serial@v2']);
    const serialQueries = cache.log[0]!.received.filter((p) => p.type === PduType.SerialQuery);
    expect(serialQueries.map((p) => (p as { serial: number }).serial)).toEqual([0xfffffffe, 0xffffffff, 0]);
  });

  it('ignores a Serial Notify for an older serial, in RFC 1982 order across the wrap', async () => {
    const cache = cacheWith([A], { serial: 0xffffffff });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.serial).toBe(0);
    const conn = [...cache.connections][0]!;
    // 0xffffffff and 0xfffffff0 come before 0 (RFC 1982): nothing new to ask for.
    await conn.send(
      serialNotify(2, cache.sessionId, 0xffffffff),
      serialNotify(2, cache.sessionId, 0xfffffff0),
    );
    await new Promise((res) => setTimeout(res, 40));
    expect(queries(cache)).toEqual(['reset@v2']);
    // 1 comes after 0: followed up.
    cache.update([A, B]);
    await until('the delta', () => r.deltas.length === 2);
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2']);
    expect(r.client.serial).toBe(1);
  });

  it('treats a Cache Reset in reply to a Reset Query as Corrupt Data instead of looping', async () => {
    const cache = cacheWith([A]);
    cache.onQuery = async (conn) => {
      await conn.send(cacheReset(2));
      return true;
    };
    const r = client([cache.transport()]);
    r.client.start();
    await until('an error state', () => r.client.state.status === 'error');
    expect(r.errors[0]!.code).toBe('RTR_ERR_CORRUPT_DATA');
    const reports = reportsFromClient(cache);
    expect(reports[0]!.errorCode).toBe(ErrorCode.CorruptData);
    expect(Buffer.from(reports[0]!.pdu)).toEqual(encode(cacheReset(2)));
    // One Reset Query per connection, not a Reset Query / Cache Reset ping-pong.
    for (const conn of cache.log)
      expect(conn.received.filter((p) => p.type === PduType.ResetQuery).length).toBeLessThanOrEqual(1);
  });

  it('handles a Cache Reset in the middle of a sync: drops what was staged and resets', async () => {
    const cache = cacheWith([A, B]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    script(cache, (conn) =>
      conn.send(cacheResponse(2, cache.sessionId), prefix(2, C.prefix, C.maxLength, C.asn), cacheReset(2)),
    );
    cache.update([A, B, D]);
    await until('the reset', () => r.deltas.length === 2);
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'reset@v2']);
    expect(held(r.client)).toEqual(served(cache));
    expect(r.client.table.has({ prefix: C.prefix, maxLength: C.maxLength, asn: C.asn })).toBe(false);
    expect(r.deltas[1]!.reason).toBe('reset');
  });

  it('answers a duplicate announcement with Error Report code 7 and applies nothing of that sync', async () => {
    const cache = cacheWith([A, B]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    script(cache, (conn) =>
      conn.send(
        cacheResponse(2, cache.sessionId),
        prefix(2, D.prefix, 24, 0),
        prefix(2, A.prefix, A.maxLength, A.asn),
        endOfData(2, cache.sessionId, 99),
      ),
    );
    cache.update([A, B, D]);
    await until('the recovery', () => r.deltas.length === 2);
    const reports = reportsFromClient(cache);
    expect(reports.map((e) => e.errorCode)).toEqual([ErrorCode.DuplicateAnnouncement]);
    expect(Array.from(reports[0]!.pdu)).toEqual(Array.from(encode(prefix(2, A.prefix, A.maxLength, A.asn))));
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'reset@v2']);
    expect(held(r.client)).toEqual(served(cache));
    expect(r.deltas.map((d) => d.serial)).toEqual([cache.serial - 1, cache.serial]);
  });

  it('refuses a response over maxPayloadPdus with Error Report code 1 and keeps the data held', async () => {
    const cache = cacheWith([A, B]);
    const r = client([cache.transport()], { maxPayloadPdus: 3 });
    r.client.start();
    await r.client.whenSynced();
    const errors: RtrError[] = [];
    r.client.on('error', (e: RtrError) => errors.push(e));
    script(cache, (conn) =>
      conn.send(
        cacheResponse(2, cache.sessionId),
        prefix(2, C.prefix, C.maxLength, C.asn),
        prefix(2, D.prefix, 24, 0),
        prefix(2, '192.0.2.0/25', 25, 64496),
        prefix(2, '192.0.2.128/25', 25, 64496),
        endOfData(2, cache.sessionId, 77),
      ),
    );
    cache.update([A, B, C]);
    await until('the refusal and the recovery', () => r.deltas.length === 2);
    const reports = reportsFromClient(cache);
    expect(reports.map((e) => e.errorCode)).toEqual([ErrorCode.InternalError]);
    expect(Array.from(reports[0]!.pdu)).toEqual(Array.from(encode(prefix(2, '192.0.2.128/25', 25, 64496))));
    expect(errors.map((e) => e.code)).toContain('RTR_ERR_PAYLOAD_LIMIT');
    // Nothing of the refused response was applied; the next exchange (a reset) fits.
    expect(r.deltas[1]!.announced.length).toBe(1);
    expect(held(r.client)).toEqual(served(cache));
    expect(() => new RtrClient({ caches: ['127.0.0.1:323'], maxPayloadPdus: 0 })).toThrow(
      expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
    );
  });

  it('answers a withdrawal of an unknown record with Error Report code 6', async () => {
    const cache = cacheWith([A]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    script(cache, (conn) =>
      conn.send(
        cacheResponse(2, cache.sessionId),
        prefix(2, B.prefix, B.maxLength, B.asn, false),
        endOfData(2, cache.sessionId, 50),
      ),
    );
    cache.update([A, C]);
    await until('the recovery', () => r.deltas.length === 2);
    expect(reportsFromClient(cache).map((e) => e.errorCode)).toEqual([ErrorCode.WithdrawalOfUnknownRecord]);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('nets out an announcement and withdrawal of the same VRP inside one update', async () => {
    const cache = cacheWith([A]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    script(cache, (conn) =>
      conn.send(
        cacheResponse(2, cache.sessionId),
        prefix(2, B.prefix, B.maxLength, B.asn),
        prefix(2, B.prefix, B.maxLength, B.asn, false),
        prefix(2, A.prefix, A.maxLength, A.asn, false),
        prefix(2, A.prefix, A.maxLength, A.asn),
        endOfData(2, cache.sessionId, 3),
      ),
    );
    cache.update([A]);
    await until('the delta', () => r.deltas.length === 2);
    expect(r.deltas[1]!.announced.length + r.deltas[1]!.withdrawn.length).toBe(0);
    expect(held(r.client)).toEqual([vrpKey(A)]);
    expect(reportsFromClient(cache)).toEqual([]);
  });

  it('rejects the IPv4 PDU with prefix length 120 that StayRTR sends for ::ffff:192.0.2.0/120 (RFC 8210 §5.6)', async () => {
    const cache = cacheWith([]);
    const bad = hex('02040000 00000014 01787800 c0000200 0000fde9');
    script(cache, (conn) =>
      conn.send(cacheResponse(2, 1), prefix(2, A.prefix, 24, A.asn), bad, endOfData(2, 1, 1)),
    );
    const r = client([cache.transport()]);
    r.client.start();
    await until('the error report', () => reportsFromClient(cache).length === 1);
    const report = reportsFromClient(cache)[0]!;
    expect(report.errorCode).toBe(ErrorCode.CorruptData);
    expect(Buffer.from(report.pdu).equals(bad)).toBe(true);
    expect(r.errors[0]!.code).toBe('RTR_ERR_CORRUPT_DATA');
    expect(r.client.table.size).toBe(0);
  });

  it('answers a PDU of another version mid-session with Error Report code 8', async () => {
    const cache = cacheWith([]);
    script(cache, (conn) =>
      conn.send(cacheResponse(2, 1), prefix(1, A.prefix, 24, A.asn), endOfData(2, 1, 1)),
    );
    const r = client([cache.transport()]);
    r.client.start();
    await until('the error report', () => reportsFromClient(cache).length === 1);
    expect(reportsFromClient(cache)[0]!.errorCode).toBe(ErrorCode.UnexpectedProtocolVersion);
    expect(r.client.table.size).toBe(0);
  });

  it('answers a Serial Notify of another version after negotiation with Error Report code 8', async () => {
    const cache = cacheWith([A]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    const notify = serialNotify(1, cache.sessionId, cache.serial + 1);
    await [...cache.connections][0]!.send(notify);
    await until('the error report', () => reportsFromClient(cache).length === 1);
    const report = reportsFromClient(cache)[0]!;
    expect(report.errorCode).toBe(ErrorCode.UnexpectedProtocolVersion);
    expect(Buffer.from(report.pdu)).toEqual(encode(notify));
    expect(queries(cache)[1]).not.toBe('serial@v1');
    expect(r.client.table.size).toBe(1);
  });

  it('never answers an Error Report, not even a malformed one', async () => {
    const cache = cacheWith([A]);
    script(cache, (conn) => conn.send(hex('020a0001 00000010 00000009 00000000')));
    const r = client([cache.transport()]);
    r.client.start();
    await until('an error', () => r.errors.length > 0);
    await until('the connection to close', () => cache.log[0]!.closed);
    expect(r.errors[0]!.code).toBe('RTR_ERR_CORRUPT_DATA');
    expect(reportsFromClient(cache)).toEqual([]);
  });
});

describe('RtrClient: errors, timers and versions', () => {
  it('treats No Data Available as not fatal and retries later', async () => {
    const cache = cacheWith([A, B]);
    script(cache, (conn) => conn.send(errorReport(2, ErrorCode.NoDataAvailable, 'no data yet')));
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.errors.map((e) => e.code)).toEqual(['RTR_ERR_NO_DATA']);
    expect(r.states.map((s) => s.status)).toEqual([
      'connecting',
      'syncing',
      'error',
      'connecting',
      'syncing',
      'synced',
    ]);
    expect(reportsFromClient(cache)).toEqual([]);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('clamps timers outside the RFC 8210 ranges and says so', async () => {
    const cache = cacheWith([A], { timers: { refresh: 0, retry: 100_000, expire: 10 } });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.timers).toEqual({ refresh: 1, retry: 7200, expire: 600 });
    expect(r.warnings).toHaveLength(3);
    expect(r.warnings[0]).toContain('refresh interval 0');
  });

  it('polls before expire when the cache sends a refresh interval not shorter than its expire interval', async () => {
    const cache = cacheWith([A], { timers: { refresh: 7200, retry: 600, expire: 3600 } });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.timers).toEqual({ refresh: 1800, retry: 600, expire: 3600 });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('refresh interval 7200');
  });

  it('uses the RFC defaults with version 0, whose End of Data has no timers', async () => {
    const cache = cacheWith([A], { version: 0 });
    const r = client([cache.transport()], { version: 0 });
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.timers).toEqual({ refresh: 3600, retry: 600, expire: 7200 });
    expect(r.client.version).toBe(0);
  });

  it('downgrades once when the cache answers Error Report code 4 at a lower version, and remembers it', async () => {
    const cache = cacheWith([A, B], { version: 1, onHigherVersion: 'error' });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.version).toBe(1);
    expect(queries(cache)).toEqual(['reset@v2', 'reset@v1']);
    // A reconnect (the cache drops the session) keeps the negotiated version.
    cache.update([A], undefined, false);
    for (const c of cache.connections) c.destroy();
    await until('the serial query', () => queries(cache).length === 3);
    await until('synced', () => r.client.state.status === 'synced' && r.client.serial === cache.serial);
    expect(queries(cache)).toEqual(['reset@v2', 'reset@v1', 'serial@v1']);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('accepts an answer at the lower version of a cache that sends no Error Report (StayRTR)', async () => {
    const cache = cacheWith([A, B], { version: 1, onHigherVersion: 'answer' });
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.version).toBe(1);
    expect(queries(cache)).toEqual(['reset@v2']);
    cache.update([B]);
    await until('the delta', () => r.deltas.length === 2);
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v1']);
  });

  it('does not go below minVersion', async () => {
    const cache = cacheWith([A], { version: 0, onHigherVersion: 'answer' });
    const r = client([cache.transport()], { minVersion: 1 });
    r.client.start();
    await until('an error', () => r.errors.length > 0);
    expect(r.errors[0]!.code).toBe('RTR_ERR_UNSUPPORTED_VERSION');
    const reports = reportsFromClient(cache);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every((e) => e.errorCode === ErrorCode.UnsupportedProtocolVersion)).toBe(true);
    expect(r.client.table.size).toBe(0);
    expect(r.states.some((s) => s.status === 'synced')).toBe(false);
  });

  it('does not downgrade on a mere disconnect', async () => {
    const cache = cacheWith([A]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    for (const c of cache.connections) c.destroy();
    await until('the serial query', () => queries(cache).length === 2);
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2']);
  });

  it('debounces Serial Notify and ignores it while a query is in flight', async () => {
    const cache = cacheWith([A]);
    const r = client([cache.transport()], { notifyDebounce: 150 });
    r.client.start();
    await r.client.whenSynced();
    const conn = [...cache.connections][0]!;
    cache.update([A, B], undefined, false);
    // The answer to the first Serial Query carries a notify for a newer serial before its
    // End of Data: ignored while in flight, remembered for afterwards.
    script(cache, async (c, q) => {
      const sessionId = cache.sessionId;
      const serial = cache.serial;
      const changes = cache.changesSince((q as { serial: number }).serial, 2)!;
      await c.send(cacheResponse(2, sessionId), ...changes);
      cache.update([A, B, C], undefined, false);
      await c.send(serialNotify(2, sessionId, cache.serial), endOfData(2, sessionId, serial));
    });
    for (let i = 0; i < 5; i++) await conn.send(serialNotify(2, cache.sessionId, cache.serial));
    await until('two deltas', () => r.deltas.length === 3 && r.client.serial === cache.serial);
    expect(queries(cache)).toEqual(['reset@v2', 'serial@v2', 'serial@v2']);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('ignores a Serial Notify for the serial it already has', async () => {
    const cache = cacheWith([A]);
    const r = client([cache.transport()]);
    r.client.start();
    await r.client.whenSynced();
    await [...cache.connections][0]!.send(serialNotify(2, cache.sessionId, cache.serial));
    await new Promise((res) => setTimeout(res, 40));
    expect(queries(cache)).toEqual(['reset@v2']);
  });

  it('polls at the refresh interval', async () => {
    const cache = cacheWith([A]);
    const r = client([cache.transport()], { timers: { refresh: 0.03 } });
    r.client.start();
    await r.client.whenSynced();
    cache.update([A, D], undefined, false);
    await until('the poll', () => r.deltas.length === 2);
    expect(queries(cache).slice(0, 2)).toEqual(['reset@v2', 'serial@v2']);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('abandons an exchange after the response timeout', async () => {
    const cache = cacheWith([A]);
    script(cache, () => undefined);
    const r = client([cache.transport()], { responseTimeout: 30 });
    r.client.start();
    await r.client.whenSynced();
    expect(r.errors[0]!.code).toBe('RTR_ERR_RESPONSE_TIMEOUT');
  });

  it('gives up connecting after the connect timeout', async () => {
    const never: Transport = {
      target: 'never://x',
      connect: (signal) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    };
    const r = client([never], { connectTimeout: 20 });
    r.client.start();
    await until('two errors', () => r.errors.length >= 2);
    expect(r.errors[0]!.code).toBe('RTR_ERR_CONNECT_TIMEOUT');
    expect(r.client.state.status === 'error' || r.client.state.status === 'connecting').toBe(true);
  });
});

describe('RtrClient: failures, expiry, failover', () => {
  it('applies nothing of a full sync cut off by a dying cache, and comes back with backoff', async () => {
    const cache = cacheWith([A, B, C, D]);
    script(cache, async (conn) => {
      await conn.send(
        cacheResponse(2, cache.sessionId),
        prefix(2, A.prefix, A.maxLength, A.asn),
        prefix(2, B.prefix, B.maxLength, B.asn),
      );
      cache.down = true;
      conn.destroy();
    });
    const r = client([cache.transport()], { backoff: { initial: 10, max: 80, jitter: 0 } });
    r.client.start();
    await until('four failed rounds', () => r.states.filter((s) => s.status === 'error').length >= 4);
    expect(r.client.table.size).toBe(0);
    expect(r.deltas).toEqual([]);
    // Exponential backoff: 10, 20, 40, 80 ms (no jitter), capped at 80.
    const delays = r.states
      .filter((s): s is Extract<RtrClientState, { status: 'error' }> => s.status === 'error')
      .map((s, i, all) => (i === 0 ? undefined : s.retryAt - all[i - 1]!.retryAt));
    expect(delays.length).toBeGreaterThanOrEqual(4);
    cache.down = false;
    await r.client.whenSynced();
    expect(held(r.client)).toEqual(served(cache));
  });

  it('computes exponential delays with jitter inside [d/2, d], capped', async () => {
    const cache = cacheWith([A]);
    cache.down = true;
    const r = client([cache.transport()], { backoff: { initial: 4, max: 32, jitter: 0.5 } });
    const waits: number[] = [];
    r.client.on('stateChange', (s) => {
      if (s.status === 'error') waits.push(s.retryAt - Date.now());
    });
    r.client.start();
    await until('7 rounds', () => waits.length >= 7);
    const caps = [4, 8, 16, 32, 32, 32, 32];
    waits.slice(0, 7).forEach((w, i) => {
      expect(w).toBeLessThanOrEqual(caps[i]!);
      expect(w).toBeGreaterThanOrEqual(caps[i]! / 2 - 2);
    });
  });

  it('keeps the data of a dead cache until expire, then purges it and says so', async () => {
    const cache = cacheWith([A, B]);
    const r = client([cache.transport()], {
      timers: { expire: 0.15 },
      backoff: { initial: 10, max: 20, jitter: 0 },
    });
    r.client.start();
    await r.client.whenSynced();
    cache.down = true;
    for (const c of cache.connections) c.destroy();
    await until('stale', () => r.client.state.status === 'stale');
    expect(r.client.table.size).toBe(2);
    await until('expired', () => r.states.some((s) => s.status === 'expired'));
    expect(r.client.table.size).toBe(0);
    const last = r.deltas.at(-1)!;
    expect(last.reason).toBe('expire');
    expect([...last.withdrawn].map(vrpKey).sort()).toEqual([vrpKey(A), vrpKey(B)].sort());
    expect(r.errors.some((e) => e.code === 'RTR_ERR_EXPIRED')).toBe(true);
    cache.down = false;
    await r.client.whenSynced();
    expect(held(r.client)).toEqual(served(cache));
  });

  it('keeps the data state apart from the connection state: expired stays expired through the retries', async () => {
    const cache = cacheWith([A, B]);
    const r = client([cache.transport()], {
      timers: { expire: 0.1 },
      backoff: { initial: 5, max: 10, jitter: 0 },
    });
    expect(r.client.dataState).toBe('none');
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.dataState).toBe('synced');
    cache.down = true;
    for (const c of cache.connections) c.destroy();
    await until('stale', () => r.client.state.status === 'stale');
    expect(r.client.dataState).toBe('stale');
    await until('expired', () => r.states.some((s) => s.status === 'expired'));
    const at = r.states.length;
    // Several rounds of connecting and failing after the purge: the data is still expired.
    await until(
      'three more rounds',
      () => r.states.slice(at).filter((s) => s.status === 'error').length >= 3,
    );
    expect(r.client.state.status).not.toBe('expired');
    expect(r.client.dataState).toBe('expired');
    expect(r.client.table.size).toBe(0);
    cache.down = false;
    await r.client.whenSynced();
    expect(r.client.dataState).toBe('synced');
  });

  it('fails over to the next cache and switches back to the preferred one when it is healthy', async () => {
    const primary = cacheWith([A, B], { name: 'primary', sessionId: 1 });
    const fallback = cacheWith([A, C], { name: 'fallback', sessionId: 2 });
    primary.down = true;
    const r = client([primary.transport(), fallback.transport()]);
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.cache).toBe('fake://fallback');
    expect(held(r.client)).toEqual(served(fallback));
    primary.down = false;
    await until(
      'the switch back',
      () => r.client.cache === 'fake://primary' && r.client.state.status === 'synced',
    );
    expect(held(r.client)).toEqual(served(primary));
    const sw = r.deltas.at(-1)!;
    expect(sw).toMatchObject({ reason: 'reset', cache: 'fake://primary', sessionId: 1 });
    expect([...sw.announced].map(vrpKey)).toEqual([vrpKey(B)]);
    expect([...sw.withdrawn].map(vrpKey)).toEqual([vrpKey(C)]);
    await until('the fallback connection to close', () => fallback.connections.size === 0);
    // Incremental updates now come from the primary.
    primary.update([A, B, D]);
    await until('the delta', () => r.client.serial === primary.serial && r.deltas.length === 3);
    expect(held(r.client)).toEqual(served(primary));
  });

  it('fails over when the active cache dies, with a correct delta between the two sets', async () => {
    const primary = cacheWith([A, B], { name: 'primary', sessionId: 1 });
    const fallback = cacheWith([B, C], { name: 'fallback', sessionId: 2 });
    const r = client([primary.transport(), fallback.transport()], { switchBackInterval: 60_000 });
    r.client.start();
    await r.client.whenSynced();
    primary.down = true;
    for (const c of primary.connections) c.destroy();
    await until(
      'the fallback',
      () => r.client.cache === 'fake://fallback' && r.client.state.status === 'synced',
    );
    expect(held(r.client)).toEqual(served(fallback));
    const d = r.deltas.at(-1)!;
    expect([...d.announced].map(vrpKey)).toEqual([vrpKey(C)]);
    expect([...d.withdrawn].map(vrpKey)).toEqual([vrpKey(A)]);
  });

  it('resumes from persisted state with a Serial Query', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtr-state-'));
    try {
      const statePath = join(dir, 'state.bin');
      const cache = cacheWith([A, B, C]);
      cache.aspas.set(64500, [1]);
      const first = client([cache.transport()], { statePath, persistDelay: 10_000 });
      first.client.start();
      await first.client.whenSynced();
      await first.client.close();
      cache.update([A, C, D], undefined, false);
      const second = client([cache.transport()], { statePath });
      second.client.start();
      await until('the restore', () => second.deltas.length >= 1);
      expect(second.deltas[0]).toMatchObject({
        reason: 'restore',
        serial: cache.serial - 1,
        sessionId: 4242,
      });
      expect(second.deltas[0]!.announced.length).toBe(3);
      await until(
        'synced',
        () => second.client.state.status === 'synced' && second.client.serial === cache.serial,
      );
      expect(queries(cache)).toEqual(['reset@v2', 'serial@v2']);
      expect(held(second.client)).toEqual(served(cache));
      expect(second.client.aspas).toEqual([{ customer: 64500, providers: [1] }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ignores an unreadable state file and syncs from scratch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtr-state-'));
    try {
      const statePath = join(dir, 'state.bin');
      await writeFile(statePath, 'RTRSTATE garbage');
      const cache = cacheWith([A]);
      const r = client([cache.transport()], { statePath });
      r.client.start();
      await r.client.whenSynced();
      expect(r.warnings[0]).toContain('ignoring the state file');
      expect(queries(cache)).toEqual(['reset@v2']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('speaks plain TCP to a cache on loopback', async () => {
    const cache = cacheWith([A, C]);
    const port = await cache.listen();
    const r = client([], { caches: [`127.0.0.1:${port}`] });
    r.client.start();
    await r.client.whenSynced();
    expect(r.client.cache).toBe(`tcp://127.0.0.1:${port}`);
    expect(held(r.client)).toEqual(served(cache));
  });

  it('reports a refused TCP connection as RTR_ERR_CONNECT', async () => {
    const cache = cacheWith([A]);
    const port = await cache.listen();
    await cache.stop();
    const r = client([], { caches: [{ host: '127.0.0.1', port }] });
    r.client.start();
    await until('an error', () => r.errors.length > 0);
    expect(r.errors[0]!.code).toBe('RTR_ERR_CONNECT');
    expect(r.errors[0]!.message).toContain(`127.0.0.1:${port}`);
  });

  it('validates its options', () => {
    expect(() => new RtrClient({ caches: [] })).toThrow(
      expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new RtrClient({ caches: ['x:1'], version: 3 as 2 })).toThrow(
      expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new RtrClient({ caches: ['x:1'], connectTimeout: -1 })).toThrow(
      expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
    );
    // Local timers above the RFC 8210 maximum, and delays setTimeout cannot hold (it would
    // fire them after 1 ms).
    for (const timers of [{ refresh: 86_401 }, { retry: 7201 }, { expire: 172_801 }, { refresh: 1e7 }])
      expect(() => new RtrClient({ caches: ['x:1'], timers })).toThrow(
        expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
      );
    expect(() => new RtrClient({ caches: ['x:1'], switchBackInterval: 2 ** 31 })).toThrow(
      expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new RtrClient({ caches: ['x:1'], backoff: { max: Infinity } })).toThrow(
      expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
    );
    expect(new RtrClient({ caches: ['x:1'], timers: { refresh: 86_400, retry: 0.5 } }).timers).toEqual({
      refresh: 86_400,
      retry: 0.5,
      expire: 7200,
    });
    const t = new VrpTable();
    t.add({ prefix: '10.0.0.0/8', maxLength: 8, asn: 1 });
    expect(() => new RtrClient({ caches: ['x:1'], table: t })).toThrow(
      expect.objectContaining({ code: 'RTR_ERR_INVALID_ARGUMENT' }),
    );
  });
});
