import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { asPath, nextHop, nlri, origin, SEQUENCE, update, type Bytes } from '../../bgp/testing/build.js';
import { BmpError } from './errors.js';
import { BmpListener, type BmpListenerOptions } from './listener.js';
import { BmpSession, RouterState } from './session.js';
import { noSessionEvents } from './testing/events.js';
import {
  BmpCollectSink,
  initiation,
  peerDown,
  routeMonitoring,
  termination,
  type PeerSpec,
} from './testing/build.js';
import type { BmpCloseReason, BmpLogEntry, BmpRouter } from './types.js';

const fuzzRuns = Number(process.env.ROVKIT_FUZZ_RUNS ?? 200);
const announce = (prefixes: string[], ...asns: number[]): Bytes =>
  update({ attributes: [...origin(), ...nextHop(), ...asPath([[SEQUENCE, asns]])], nlri: nlri(prefixes) });
const peer: PeerSpec = { address: '192.0.2.1', asn: 64501 };

let listener: BmpListener | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await listener?.stop();
  listener = undefined;
});

async function startListener(
  options: BmpListenerOptions = {},
): Promise<{ l: BmpListener; port: number; sink: BmpCollectSink; log: BmpLogEntry[] }> {
  const sink = new BmpCollectSink();
  const log: BmpLogEntry[] = [];
  const l = new BmpListener({ host: '127.0.0.1', port: 0, sink, log: (e) => log.push(e), ...options });
  listener = l;
  const address = await l.start();
  return { l, port: address.port, sink, log };
}

/** Connects a router and sends its Initiation (RFC 7854: the first message), unless `name` is null. */
async function router(
  port: number,
  l: BmpListener,
  name: string | null = 'r',
): Promise<{ socket: Socket; state: BmpRouter }> {
  const up = once(l, name === null ? 'routerUp' : 'routerInitiated') as Promise<[BmpRouter]>;
  const socket = await client(port);
  if (name !== null) send(socket, initiation(name));
  const [state] = await up;
  return { socket, state };
}

/** A loopback connection; the listener may reset it (closed with unread data), which is no error here. */
async function client(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Waits until `check` holds (polling the listener's state), for data in flight over TCP. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

const send = (socket: Socket, ...messages: Bytes[]): boolean =>
  socket.write(Uint8Array.from(messages.flat()));

describe('BmpListener', () => {
  it('serves several routers at once; a malformed message closes only that router’s session', async () => {
    const { l, port, sink, log } = await startListener();
    const a = await router(port, l, 'a');
    const b = await router(port, l, 'b');
    send(a.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    send(b.socket, routeMonitoring(peer, announce(['198.51.100.0/24'], 2)));
    await until(() => sink.events.length === 2);
    expect(l.routers.size).toBe(2);

    const errors: Array<[BmpRouter, unknown]> = [];
    l.on('sessionError', (r, e) => errors.push([r, e]));
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    send(a.socket, [3, 0, 0, 0, 6, 99, 1, 0, 0, 0, 6, 0]); // a message of unknown type (skipped), then version 1
    const [gone, reason] = await down;
    expect(gone.id).toBe(a.state.id);
    expect(reason.kind).toBe('error');
    expect(errors).toHaveLength(1);
    expect(errors[0][1]).toBeInstanceOf(BmpError);
    expect((errors[0][1] as BmpError).code).toBe('BMP_ERR_VERSION');
    expect(sink.events).toContain('- 192.0.2.1 pre-policy 192.0.2.0/24 1');
    expect(log.find((e) => e.event === 'session-error')).toMatchObject({
      level: 'error',
      router: a.state.id,
      code: 'BMP_ERR_VERSION',
    });

    // The other router's session goes on.
    send(b.socket, routeMonitoring(peer, announce(['203.0.113.0/24'], 3)));
    await until(() => sink.events.includes('+ 192.0.2.1 pre-policy 203.0.113.0/24 3'));
    expect([...l.routers.keys()]).toEqual([b.state.id]);
    expect(l.counters).toMatchObject({ connections: 2, sessionErrors: 1 });
  });

  it('removes a peer’s routes on Peer Down and all routes when the router disconnects', async () => {
    const { l, port, sink } = await startListener();
    const r = await router(port, l);
    const other: PeerSpec = { address: '192.0.2.9', asn: 9 };
    send(
      r.socket,
      routeMonitoring(peer, announce(['192.0.2.0/24'], 1)),
      routeMonitoring(other, announce(['10.0.0.0/8'], 9)),
    );
    await until(() => sink.events.length === 2);
    const peerGone = once(l, 'peerDown');
    send(r.socket, peerDown(peer, 4));
    await peerGone;
    expect(sink.events[2]).toBe('- 192.0.2.1 pre-policy 192.0.2.0/24 1');
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    send(r.socket, termination(0, 'maintenance'));
    r.socket.end();
    const [, reason] = await down;
    expect(reason).toEqual({
      kind: 'remote-close',
      termination: { reason: 0, information: ['maintenance'] },
    });
    expect(sink.events[3]).toBe('- 192.0.2.9 pre-policy 10.0.0.0/8 9');
    expect(l.routers.size).toBe(0);
  });

  it('refuses a router beyond maxRouters when every router holds peers', async () => {
    const { l, port, log } = await startListener({ maxRouters: 1 });
    const first = await router(port, l);
    send(first.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    await until(() => first.state.peers.size === 1);
    const extra = await client(port);
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    send(extra, initiation('extra'));
    const [, reason] = await down;
    expect(reason.kind).toBe('refused');
    expect(l.counters.refusedConnections).toBe(1);
    expect(log.some((e) => e.event === 'connection-refused')).toBe(true);
    expect([...l.routers.keys()]).toEqual([first.state.id]);
  });

  it('closes a connection whose first message is not an Initiation', async () => {
    const { l, port } = await startListener();
    const r = await router(port, l, null);
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    send(r.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    const [, reason] = await down;
    expect(reason.kind === 'error' && (reason.error as BmpError).code).toBe('BMP_ERR_NO_INITIATION');
    expect(l.routers.size).toBe(0);
  });

  it('closes a connection that sends no Initiation within initTimeout, even one byte at a time', async () => {
    const { l, port } = await startListener({ initTimeout: 300 });
    const silent = await router(port, l, null);
    const trickle = await router(port, l, null);
    // A valid Initiation, a byte every 50 ms: it would take longer than the deadline.
    const bytes = initiation('slow', 'x'.repeat(20));
    let i = 0;
    const timer = setInterval(() => {
      if (i < bytes.length && !trickle.socket.destroyed) trickle.socket.write(Uint8Array.of(bytes[i++]));
    }, 50);
    const reasons: BmpCloseReason[] = [];
    l.on('routerDown', (_r, reason) => reasons.push(reason));
    await until(() => reasons.length === 2);
    clearInterval(timer);
    expect(reasons.map((r) => r.kind)).toEqual(['init-timeout', 'init-timeout']);
    expect(l.counters.initTimeouts).toBe(2);
    expect(i).toBeLessThan(bytes.length);
    await until(() => silent.socket.destroyed && trickle.socket.destroyed);
    expect(l.routers.size).toBe(0);
    expect(l.pending).toBe(0);
  });

  it('holds a real router’s routes after more silent connections than routers and pending slots', async () => {
    const { l, port, sink } = await startListener({ maxRouters: 4, maxPending: 8 });
    const silent: Socket[] = [];
    for (let i = 0; i < 20; i++) silent.push((await router(port, l, null)).socket);
    expect(l.pending).toBe(8);
    expect(l.counters.evictedPending).toBe(12);
    const real = await router(port, l, 'real');
    send(real.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    await until(() => sink.events.includes('+ 192.0.2.1 pre-policy 192.0.2.0/24 1'));
    expect([...l.routers.keys()]).toEqual([real.state.id]);
    // The real router took the place of the oldest silent one, then left the pending set.
    expect(l.pending).toBe(7);
    expect(l.counters.evictedPending).toBe(13);
  });

  it('gives a new router the slot of a router without peers that went quiet', async () => {
    const { l, port, sink } = await startListener({ maxRouters: 2, initTimeout: 200 });
    const busy = await router(port, l, 'busy');
    send(busy.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    const idle = await router(port, l, 'idle');
    await until(() => sink.events.length === 1);
    // Within initTimeout of its last byte the quiet router keeps its slot.
    const early = await client(port);
    const refused = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    send(early, initiation('early'));
    expect((await refused)[1].kind).toBe('refused');
    await new Promise((r) => setTimeout(r, 300));
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    const late = await router(port, l, 'late');
    const [gone, reason] = await down;
    expect(gone.id).toBe(idle.state.id);
    expect(reason).toMatchObject({ kind: 'evicted', limit: 'routers' });
    expect([...l.routers.keys()].sort()).toEqual([busy.state.id, late.state.id].sort());
    expect(l.counters.evictedRouters).toBe(1);
  });

  it('keeps a router whose UPDATEs do not parse, counting them and logging the 1st, 10th, 100th...', async () => {
    const { l, port, sink, log } = await startListener();
    const r = await router(port, l);
    const bad = update({ attributes: [...origin(), ...nextHop()], nlri: [33, 192, 0, 2, 0] });
    send(r.socket, ...Array.from({ length: 25 }, () => routeMonitoring(peer, bad)));
    send(r.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    await until(() => sink.events.length === 1);
    expect(r.state.counters.updateErrors).toEqual([0, 25, 0]);
    expect(log.filter((e) => e.event === 'update-error').map((e) => e.message.split(' (')[0])).toEqual([
      'pre-policy UPDATE error 1 of this session',
      'pre-policy UPDATE error 10 of this session',
    ]);
    expect(l.routers.size).toBe(1);
  });

  it('logs connections closed before their Initiation at the 1st, 10th, 100th...', async () => {
    const { l, port, log } = await startListener({ maxPending: 1 });
    for (let i = 0; i < 12; i++) await router(port, l, null);
    await until(() => l.counters.evictedPending === 11);
    await until(() => log.filter((e) => e.event === 'connection-closed').length === 2);
    expect(log.filter((e) => e.event === 'router-up' || e.event === 'router-down')).toEqual([]);
  });

  it('closes a router that sends nothing within idleTimeout', async () => {
    const { l, port, sink } = await startListener({ idleTimeout: 200 });
    const r = await router(port, l);
    send(r.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    const [, reason] = await down;
    expect(reason.kind).toBe('idle-timeout');
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 1',
      '- 192.0.2.1 pre-policy 192.0.2.0/24 1',
    ]);
    expect(l.counters.idleTimeouts).toBe(1);
  });

  it('closes a session announcing a message above the limit before its body arrives', async () => {
    const { l, port } = await startListener({ maxMessageLength: 1000 });
    const r = await router(port, l);
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    send(r.socket, [3, 0, 0x10, 0, 0, 0]);
    const [, reason] = await down;
    expect(reason.kind === 'error' && (reason.error as BmpError).code).toBe('BMP_ERR_TOO_LARGE');
  });

  it('stop() closes every session and removes their routes', async () => {
    const { l, port, sink } = await startListener();
    const r = await router(port, l);
    send(r.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    await until(() => sink.events.length === 1);
    const reasons: string[] = [];
    l.on('routerDown', (_r, reason) => reasons.push(reason.kind));
    await l.stop();
    expect(reasons).toEqual(['stopped']);
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 1',
      '- 192.0.2.1 pre-policy 192.0.2.0/24 1',
    ]);
    expect(l.address).toBeUndefined();
  });

  it('starts nothing before start() and reports a port in use', async () => {
    const { port } = await startListener();
    const second = new BmpListener({ host: '127.0.0.1', port });
    expect(second.address).toBeUndefined();
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('BMP fuzz', () => {
  const noEvents = noSessionEvents;

  /**
   * Feeds bytes to a fresh session: only BmpError may escape; close() always works after
   * and removes every route that was added.
   */
  function feed(bytes: Uint8Array): void {
    const sink = new BmpCollectSink();
    const session = new BmpSession(new RouterState('192.0.2.200', 1), 1 << 16, sink, noEvents);
    try {
      session.push(bytes);
    } catch (error) {
      if (!(error instanceof BmpError)) throw error;
    }
    session.close();
    expect(session.router.peers.size).toBe(0);
    const added = sink.events.filter((e) => e.startsWith('+')).length;
    expect(sink.events.length - added).toBe(added);
  }

  const seed = [
    initiation('r', 'd'),
    routeMonitoring(peer, announce(['192.0.2.0/24', '10.0.0.0/8'], 1, 2)),
    peerDown(
      peer,
      3,
      [255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 21, 3, 6, 2],
    ),
    termination(1),
  ].flat();

  it('random streams behind a valid common header raise only BmpError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 300 }), (type, body) => {
        feed(Uint8Array.from([3, ...[0, 0, (body.length + 6) >> 8, (body.length + 6) & 255], type, ...body]));
      }),
      { numRuns: fuzzRuns * 3 },
    );
  });

  it('mutated valid streams raise only BmpError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (edits) => {
          const bytes = seed.slice();
          for (const [at, value] of edits) bytes[at] = value;
          feed(Uint8Array.from(bytes));
        },
      ),
      { numRuns: fuzzRuns * 5 },
    );
  });
});

describe('BmpListener with a failing sink', () => {
  it('closes the session that made the sink throw, logs it, and keeps running', async () => {
    const log: BmpLogEntry[] = [];
    const l = new BmpListener({
      host: '127.0.0.1',
      port: 0,
      log: (e) => log.push(e),
      sink: {
        routeAdded() {
          throw new Error('sink broke');
        },
        routeRemoved() {
          throw new Error('sink broke again');
        },
      },
    });
    listener = l;
    const { port } = await l.start();
    const r = await router(port, l);
    const down = once(l, 'routerDown') as Promise<[BmpRouter, BmpCloseReason]>;
    send(r.socket, routeMonitoring(peer, announce(['192.0.2.0/24'], 1)));
    const [, reason] = await down;
    expect(reason.kind === 'error' && reason.error.message).toBe('sink broke');
    expect(log.filter((e) => e.event === 'session-error').map((e) => e.message)).toEqual([
      'closing the session: sink broke',
      'removing the routes of a closed session failed: sink broke again',
    ]);
    const again = await router(port, l);
    expect(l.routers.has(again.state.id)).toBe(true);
  });
});
