import { describe, expect, it } from 'vitest';
import {
  as4Path,
  asPath,
  attribute,
  capAddPath,
  capFourOctetAs,
  header,
  ipv6Bytes,
  keepalive,
  mpReach,
  mpUnreach,
  nextHop,
  nlri,
  open,
  origin,
  SEQUENCE,
  SET,
  u16,
  u32,
  update,
  type Bytes,
} from '../../bgp/testing/build.js';
import { BmpError } from './errors.js';
import type { PeerDown } from './messages.js';
import { BmpSession, RouterState, type PeerState, type SessionEvents } from './session.js';
import {
  AS2,
  bmp,
  BmpCollectSink,
  initiation,
  OUT,
  peerDown,
  peerUp,
  perPeer,
  POST,
  PRE,
  routeMonitoring,
  statistics,
  termination,
  type PeerSpec,
} from './testing/build.js';
import { POLICY_STAGES, PolicyStage, policyStageNames } from './types.js';

class Recorder implements SessionEvents {
  readonly events: string[] = [];
  initiated(router: RouterState): void {
    this.events.push(`initiated ${router.sysName} ${router.sysDescr}`);
  }
  peerUp(peer: PeerState): void {
    this.events.push(`up ${peer.address}`);
  }
  peerDown(peer: PeerState, down: PeerDown): void {
    this.events.push(
      `down ${peer.address} ${down.reason} ${JSON.stringify(down.notification ?? down.fsmEvent ?? null)}`,
    );
  }
  endOfRib(peer: PeerState, stage: PolicyStage, afi: number, safi: number): void {
    this.events.push(`eor ${peer.address} ${policyStageNames[stage]} ${afi}/${safi}`);
  }
  statistics(peer: PeerState): void {
    this.events.push(`stats ${peer.address} ${JSON.stringify([...peer.statistics])}`);
  }
  updateError(peer: PeerState, stage: PolicyStage, treatment: string, error: Error): void {
    this.events.push(`update-error ${peer.address} ${policyStageNames[stage]} ${treatment} ${error.name}`);
  }
}

function session(maxLength = 1 << 20): { s: BmpSession; sink: BmpCollectSink; rec: Recorder } {
  const sink = new BmpCollectSink();
  const rec = new Recorder();
  return { s: new BmpSession(new RouterState('192.0.2.200', 50000), maxLength, sink, rec), sink, rec };
}

const attrs = (...asns: number[]): Bytes => [...origin(), ...nextHop(), ...asPath([[SEQUENCE, asns]])];
const announce = (prefixes: string[], ...asns: number[]): Bytes =>
  update({ attributes: attrs(...asns), nlri: nlri(prefixes) });
const withdraw = (prefixes: string[]): Bytes => update({ withdrawn: nlri(prefixes) });
const peerA: PeerSpec = { address: '192.0.2.1', asn: 4200000001 };
const peerB: PeerSpec = { address: '2001:db8::2', asn: 64502, bgpId: '192.0.2.2' };
const up = (
  peer: PeerSpec,
  routerCaps: Array<[number, Bytes]> = [],
  peerCaps: Array<[number, Bytes]> = [],
): Bytes =>
  peerUp(peer, {
    sent: open({ asn: 64500, capabilities: [capFourOctetAs(64500), ...routerCaps] }),
    received: open({
      asn: peer.asn ?? 64500,
      capabilities: [capFourOctetAs(peer.asn ?? 64500), ...peerCaps],
    }),
  });

const push = (s: BmpSession, ...messages: Bytes[]): void => s.push(Uint8Array.from(messages.flat()));

describe('BmpSession', () => {
  it('reads Initiation, Peer Up and Route Monitoring, keeping pre- and post-policy apart', () => {
    const { s, sink, rec } = session();
    push(
      s,
      initiation('edge1', 'RouterOS 9'),
      up(peerA),
      routeMonitoring(
        { ...peerA, flags: PRE },
        announce(['192.0.2.0/24', '198.51.100.0/24'], 4200000001, 64496),
      ),
      routeMonitoring({ ...peerA, flags: POST }, announce(['192.0.2.0/24'], 4200000001, 64496)),
    );
    expect(rec.events).toEqual(['initiated edge1 RouterOS 9', 'up 192.0.2.1']);
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 64496',
      '+ 192.0.2.1 pre-policy 198.51.100.0/24 64496',
      '+ 192.0.2.1 post-policy 192.0.2.0/24 64496',
    ]);
    const peer = s.router.peers.get('0:0000000000000000:192.0.2.1')!;
    expect([
      peer.up,
      peer.asn,
      peer.type,
      peer.routeCount(PolicyStage.PrePolicy),
      peer.routeCount(PolicyStage.PostPolicy),
    ]).toEqual([true, 4200000001, 'global', 2, 1]);
    expect([...peer.routes(PolicyStage.PostPolicy)].map((r) => `${r.prefix} ${r.origin}`)).toEqual([
      '192.0.2.0/24 64496',
    ]);
  });

  it('reports only changes: the same origin again is silent, a new origin is a remove and an add', () => {
    const { s, sink } = session();
    push(
      s,
      up(peerA),
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1, 2)),
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 3, 2)),
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1, 9)),
      routeMonitoring(peerA, withdraw(['192.0.2.0/24', '10.0.0.0/8'])),
    );
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 2',
      '- 192.0.2.1 pre-policy 192.0.2.0/24 2',
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 9',
      '- 192.0.2.1 pre-policy 192.0.2.0/24 9',
    ]);
    expect(s.router.counters).toMatchObject({ routesAdded: 2, routesRemoved: 2 });
  });

  it('keeps Loc-RIB (RFC 9069) and Adj-RIB-Out (RFC 8671) apart, accepting Loc-RIB without Peer Up', () => {
    const { s, sink } = session();
    const locRib: PeerSpec = { type: 3, address: '0.0.0.0', asn: 64500 };
    push(
      s,
      routeMonitoring(locRib, announce(['203.0.113.0/24'], 64496)),
      up(peerA),
      routeMonitoring({ ...peerA, flags: OUT }, announce(['192.0.2.0/24'], 64500)),
      routeMonitoring({ ...peerA, flags: OUT | POST }, announce(['192.0.2.0/24'], 64500, 7)),
    );
    expect(sink.events).toEqual([
      '+ 0.0.0.0 loc-rib 203.0.113.0/24 64496',
      '+ 192.0.2.1 adj-rib-out-pre-policy 192.0.2.0/24 64500',
      '+ 192.0.2.1 adj-rib-out-post-policy 192.0.2.0/24 7',
    ]);
    expect(s.router.counters.routeMonitoringWithoutPeerUp).toBe(1);
    expect(s.router.peers.get('3:0000000000000000:0.0.0.0')?.type).toBe('loc-rib');
  });

  it('reads 2-byte AS_PATHs under the A flag and merges AS4_PATH', () => {
    const { s, sink } = session();
    const message = update({
      attributes: [
        ...origin(),
        ...nextHop(),
        ...asPath([[SEQUENCE, [64496, 23456]]], 2),
        ...as4Path([[SEQUENCE, [4200000003]]]),
      ],
      nlri: nlri(['192.0.2.0/24']),
    });
    push(s, routeMonitoring({ ...peerA, flags: AS2 }, message));
    expect(sink.events).toEqual(['+ 192.0.2.1 pre-policy 192.0.2.0/24 4200000003']);
  });

  it('reads IPv6 routes, AS_SET origins and End-of-RIB markers, per stage', () => {
    const { s, sink, rec } = session();
    const v6 = update({
      attributes: [
        ...origin(),
        ...asPath([
          [SEQUENCE, [64502]],
          [SET, [1, 2]],
        ]),
        ...mpReach(2, 1, ipv6Bytes('2001:db8::2'), nlri(['2001:db8:1::/48'])),
      ],
    });
    push(
      s,
      up(peerB),
      routeMonitoring(peerB, v6),
      routeMonitoring(peerB, update({ attributes: mpUnreach(2, 1, nlri(['2001:db8:1::/48'])) })),
      routeMonitoring({ ...peerB, flags: POST }, update({ attributes: mpUnreach(2, 1, []) })),
      routeMonitoring(peerB, update({})),
    );
    expect(sink.events).toEqual([
      '+ 2001:db8::2 pre-policy 2001:db8:1::/48 none',
      '- 2001:db8::2 pre-policy 2001:db8:1::/48 none',
    ]);
    expect(rec.events).toEqual([
      'up 2001:db8::2',
      'eor 2001:db8::2 post-policy 2/1',
      'eor 2001:db8::2 pre-policy 1/1',
    ]);
    expect([...s.router.peers.values()].map((p) => [p.family, p.bgpId])).toEqual([[6, '192.0.2.2']]);
  });

  it('reads path ids where the Peer Up OPENs negotiated ADD-PATH, per family and direction', () => {
    const { s, sink } = session();
    // The router receives IPv4 path ids from the peer and sends IPv6 path ids to it.
    push(
      s,
      up(
        peerA,
        [
          capAddPath([
            [1, 1, 1],
            [2, 1, 2],
          ]),
        ],
        [
          capAddPath([
            [1, 1, 2],
            [2, 1, 1],
          ]),
        ],
      ),
    );
    const v4 = update({ attributes: attrs(5), nlri: nlri(['192.0.2.0/24'], [7]) });
    const v6 = update({
      attributes: [
        ...origin(),
        ...asPath([[SEQUENCE, [6]]]),
        ...mpReach(2, 1, ipv6Bytes('::1'), nlri(['2001:db8::/32'])),
      ],
    });
    const v6Out = update({
      attributes: [
        ...origin(),
        ...asPath([[SEQUENCE, [6]]]),
        ...mpReach(2, 1, ipv6Bytes('::1'), nlri(['2001:db8::/32'], [9])),
      ],
    });
    push(
      s,
      routeMonitoring(peerA, v4),
      routeMonitoring(peerA, v6),
      routeMonitoring({ ...peerA, flags: OUT }, v6Out),
    );
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 id=7 5',
      '+ 192.0.2.1 pre-policy 2001:db8::/32 6',
      '+ 192.0.2.1 adj-rib-out-pre-policy 2001:db8::/32 id=9 6',
    ]);
  });

  it('falls back to the other ADD-PATH encoding per stage when the negotiated one does not parse', () => {
    const { s, sink } = session();
    // As GoBGP 3.10 does: ADD-PATH negotiated, path ids pre-policy, none post-policy / Loc-RIB.
    push(s, up(peerA, [capAddPath([[1, 1, 1]])], [capAddPath([[1, 1, 2]])]));
    push(
      s,
      routeMonitoring(
        { ...peerA, flags: PRE },
        update({ attributes: attrs(5), nlri: nlri(['192.0.2.0/24'], [1]) }),
      ),
      routeMonitoring({ ...peerA, flags: POST }, announce(['192.0.2.0/24'], 5)),
      routeMonitoring({ ...peerA, flags: POST }, announce(['198.51.100.0/24'], 6)),
      routeMonitoring({ ...peerA, flags: PRE }, update({ withdrawn: nlri(['192.0.2.0/24'], [1]) })),
    );
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 id=1 5',
      '+ 192.0.2.1 post-policy 192.0.2.0/24 5',
      '+ 192.0.2.1 post-policy 198.51.100.0/24 6',
      '- 192.0.2.1 pre-policy 192.0.2.0/24 id=1 5',
    ]);
    // Learned once for the post-policy stage, not per message.
    expect(s.router.counters.addPathCorrections).toBe(1);
  });

  it('records a Loc-RIB route without AS_PATH (locally originated, as GoBGP sends it) with a local origin', () => {
    const { s, sink } = session();
    push(
      s,
      routeMonitoring(
        { type: 3, address: '0.0.0.0', asn: 64500 },
        update({ attributes: [...origin(), ...nextHop()], nlri: nlri(['203.0.113.0/24']) }),
      ),
    );
    expect(sink.events).toEqual(['+ 0.0.0.0 loc-rib 203.0.113.0/24 local']);
  });

  it('removes all of a peer’s routes on Peer Down and keeps the other peers', () => {
    const { s, sink, rec } = session();
    push(
      s,
      up(peerA),
      up(peerB),
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1)),
      routeMonitoring({ ...peerA, flags: POST }, announce(['192.0.2.0/24'], 1)),
      routeMonitoring(peerB, announce(['198.51.100.0/24'], 2)),
      peerDown(peerA, 3, header(3, [6, 2])),
    );
    expect(sink.events.slice(3).sort()).toEqual([
      '- 192.0.2.1 post-policy 192.0.2.0/24 1',
      '- 192.0.2.1 pre-policy 192.0.2.0/24 1',
    ]);
    expect(rec.events.at(-1)).toBe('down 192.0.2.1 3 {"code":6,"subcode":2}');
    expect([...s.router.peers.values()].map((p) => p.address)).toEqual(['2001:db8::2']);
    push(s, peerDown(peerB, 2, u16(24)));
    expect(rec.events.at(-1)).toBe('down 2001:db8::2 2 24');
    expect(sink.events.at(-1)).toBe('- 2001:db8::2 pre-policy 198.51.100.0/24 2');
  });

  it('clears a peer that comes up again without going down', () => {
    const { s, sink } = session();
    push(s, up(peerA), routeMonitoring(peerA, announce(['192.0.2.0/24'], 1)), up(peerA));
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 1',
      '- 192.0.2.1 pre-policy 192.0.2.0/24 1',
    ]);
  });

  it('keeps peers with the same address apart by distinguisher', () => {
    const { s, sink } = session();
    const vrf: PeerSpec = { ...peerA, type: 1, distinguisher: [0, 0, 0, 0, 0, 0, 0, 7] };
    push(
      s,
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1)),
      routeMonitoring(vrf, announce(['192.0.2.0/24'], 2)),
    );
    expect(sink.events).toEqual([
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 1',
      '+ 192.0.2.1 pre-policy 192.0.2.0/24 2',
    ]);
    expect([...s.router.peers.keys()]).toEqual([
      '0:0000000000000000:192.0.2.1',
      '1:0000000000000007:192.0.2.1',
    ]);
  });

  it('reads Statistics Reports (32-bit counters, 64-bit gauges, per AFI/SAFI) and Termination', () => {
    const { s, rec } = session();
    push(
      s,
      up(peerA),
      statistics(peerA, [
        [0, u32(5)],
        [7, [...u32(1), ...u32(2)]],
        [9, [...u16(2), 1, ...u32(0), ...u32(300)]],
        [99, [1, 2, 3]],
      ]),
      termination(1, 'bye'),
    );
    expect(rec.events.at(-1)).toBe(
      `stats 192.0.2.1 ${JSON.stringify([
        ['0', 5],
        ['7', 4294967298],
        ['9/2/1', 300],
      ])}`,
    );
    expect(s.router.termination).toEqual({ reason: 1, information: ['bye'] });
    expect(s.router.counters.messages.slice(0, 6)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('close() removes every route of every peer', () => {
    const { s, sink } = session();
    push(
      s,
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1)),
      routeMonitoring(peerB, announce(['10.0.0.0/8'], 2)),
    );
    s.close();
    expect(sink.events.slice(2).sort()).toEqual([
      '- 192.0.2.1 pre-policy 192.0.2.0/24 1',
      '- 2001:db8::2 pre-policy 10.0.0.0/8 2',
    ]);
    expect(s.router.peers.size).toBe(0);
  });

  it('skips Route Mirroring and unknown message types', () => {
    const { s, sink } = session();
    push(
      s,
      bmp(6, [...perPeer(peerA), 0, 0, 0, 0]),
      bmp(42, [1, 2, 3]),
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1)),
    );
    expect(sink.events).toEqual(['+ 192.0.2.1 pre-policy 192.0.2.0/24 1']);
    expect(s.router.counters.messages[6]).toBe(1);
    expect(s.router.counters.messages[7]).toBe(1);
  });
});

describe('BmpSession framing', () => {
  const stream = [
    initiation('r'),
    up(peerA),
    routeMonitoring(peerA, announce(['192.0.2.0/24', '10.0.0.0/8'], 1)),
    routeMonitoring({ ...peerA, flags: POST }, announce(['192.0.2.0/24'], 1)),
    routeMonitoring(peerA, withdraw(['10.0.0.0/8'])),
  ].flat();
  const expected = (() => {
    const { s, sink } = session();
    s.push(Uint8Array.from(stream));
    return sink.events;
  })();

  it('gives the same result however the stream is split in two', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { s, sink } = session();
      s.push(Uint8Array.from(stream.slice(0, cut)));
      s.push(Uint8Array.from(stream.slice(cut)));
      expect(sink.events).toEqual(expected);
      expect(s.buffered).toBe(0);
    }
  });

  it('gives the same result from one-byte chunks', () => {
    const { s, sink } = session();
    for (const byte of stream) s.push(Uint8Array.of(byte));
    expect(sink.events).toEqual(expected);
  });
});

describe('malformed BMP', () => {
  const good = routeMonitoring(peerA, announce(['192.0.2.0/24'], 1));
  const badBgp = announce(['192.0.2.0/24'], 1);
  badBgp[0] = 0;
  const cases: Array<[string, Bytes, string, number | undefined]> = [
    ['version 2', bmp(0, [], 2), 'BMP_ERR_VERSION', 0],
    ['a length below the header', [3, ...u32(5), 0], 'BMP_ERR_MALFORMED', 0],
    ['a length above the limit', [3, ...u32(70000), 0], 'BMP_ERR_TOO_LARGE', 0],
    ['a cut per-peer header', bmp(0, perPeer(peerA).slice(0, 30)), 'BMP_ERR_MALFORMED', 0],
    [
      'a Peer Up whose OPEN is cut',
      bmp(3, [...perPeer(peerA), ...Array<number>(20).fill(0), ...open({ asn: 1 }).slice(0, 25)]),
      'BMP_ERR_MALFORMED',
      3,
    ],
    [
      'a Peer Up with a KEEPALIVE as OPEN',
      peerUp(peerA, { sent: keepalive(), received: keepalive() }),
      'BMP_ERR_MALFORMED',
      3,
    ],
    ['a Peer Down without a reason', bmp(2, perPeer(peerA)), 'BMP_ERR_MALFORMED', 2],
    [
      'a Peer Down with a cut NOTIFICATION',
      peerDown(peerA, 1, header(3, [6]).slice(0, 10)),
      'BMP_ERR_MALFORMED',
      2,
    ],
    [
      'statistics past the message',
      bmp(1, [...perPeer(peerA), ...u32(2), 0, 1, 0, 4, 0, 0, 0, 1]),
      'BMP_ERR_MALFORMED',
      1,
    ],
    ['an Initiation TLV past the message', bmp(4, [0, 2, 0, 9, 65]), 'BMP_ERR_MALFORMED', 4],
    ['a Termination reason of 3 bytes', bmp(5, [0, 1, 0, 3, 0, 0, 1]), 'BMP_ERR_MALFORMED', 5],
  ];

  it.each(cases)('rejects %s', (_name, message, code, type) => {
    const { s } = session(65536);
    const before = good;
    let caught: unknown;
    try {
      s.push(Uint8Array.from([...before, ...message]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BmpError);
    const error = caught as BmpError;
    expect(error.code).toBe(code);
    expect(error.offset).toBe(before.length);
    expect(error.messageType).toBe(type);
  });
});

describe('malformed UPDATEs (RFC 7606): counted, never a route that was not sent', () => {
  const held = (s: BmpSession): string[] =>
    [...s.router.peers.values()].flatMap((p) =>
      POLICY_STAGES.flatMap((stage) =>
        [...p.routes(stage)].map(
          (r) =>
            `${p.address} ${policyStageNames[stage]} ${r.prefix}${r.pathId === 0 ? '' : ` id=${r.pathId}`}`,
        ),
      ),
    );
  /** Route Monitoring whose UPDATE has these raw NLRI bytes after good attributes. */
  const rawNlri = (peer: PeerSpec, bytes: Bytes): Bytes =>
    routeMonitoring(peer, update({ attributes: attrs(1), nlri: bytes }));

  it('does not read a /33 with four bytes as a path id and 0.0.0.0/0 where ADD-PATH was not negotiated', () => {
    // The counterexample: 33, 192.0.2.0 is no IPv4 prefix; read with a path id it would
    // be path id 0x21c00002 and 0.0.0.0/0.
    for (const peerUpFirst of [true, false]) {
      const { s, rec } = session();
      if (peerUpFirst) push(s, up(peerA));
      push(
        s,
        routeMonitoring(peerA, announce(['198.51.100.0/24'], 1)),
        routeMonitoring({ ...peerA, flags: POST }, announce(['198.51.100.0/24'], 1)),
        routeMonitoring(peerB, announce(['203.0.113.0/24'], 2)),
        rawNlri(peerA, [33, 192, 0, 2, 0]),
      );
      // The NLRI field cannot be read: the peer's IPv4 pre-policy routes are unknown now
      // (session reset, as a router would do), the other RIB and the other peer stay.
      expect(held(s)).toEqual([
        '192.0.2.1 post-policy 198.51.100.0/24',
        '2001:db8::2 pre-policy 203.0.113.0/24',
      ]);
      expect(s.router.counters.updateErrors).toEqual([0, 1, 0]);
      expect(s.router.counters.addPathCorrections).toBe(0);
      expect(rec.events.at(-1)).toBe('update-error 192.0.2.1 pre-policy reset BgpError');
      // The session goes on.
      push(s, routeMonitoring(peerA, announce(['192.0.2.0/24'], 3)));
      expect(held(s)).toContain('192.0.2.1 pre-policy 192.0.2.0/24');
    }
  });

  it('corrects the ADD-PATH encoding only while no message of the stage has settled it', () => {
    const { s } = session();
    push(s, up(peerA, [capAddPath([[1, 1, 1]])], [capAddPath([[1, 1, 2]])]));
    // Post-policy without path ids (as GoBGP sends it) settles that stage on "none".
    push(s, routeMonitoring({ ...peerA, flags: POST }, announce(['198.51.100.0/24'], 5)));
    expect(s.router.counters.addPathCorrections).toBe(1);
    // Now a malformed NLRI that would parse with path ids is not re-read so.
    push(
      s,
      routeMonitoring({ ...peerA, flags: POST }, update({ attributes: attrs(1), nlri: [33, 192, 0, 2, 0] })),
    );
    expect(held(s)).toEqual([]);
    expect(s.router.counters.addPathCorrections).toBe(1);
    expect(s.router.counters.updateErrors).toEqual([0, 1, 0]);
  });

  it('treats an UPDATE with an AS_PATH that does not parse as withdrawing its routes', () => {
    const { s, rec } = session();
    push(s, routeMonitoring(peerA, announce(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'], 1)));
    const badPath = update({
      withdrawn: nlri(['203.0.113.0/24']),
      attributes: [...origin(), ...nextHop(), ...attribute(2, [9, 1, ...u32(1)])],
      nlri: nlri(['192.0.2.0/24']),
    });
    push(s, routeMonitoring(peerA, badPath));
    expect(held(s)).toEqual(['192.0.2.1 pre-policy 198.51.100.0/24']);
    expect(s.router.counters.updateErrors).toEqual([1, 0, 0]);
    expect(rec.events.at(-1)).toBe('update-error 192.0.2.1 pre-policy treat-as-withdraw BgpError');
  });

  it('locates the NLRI by the total attribute length when an attribute overruns it (section 4)', () => {
    const { s } = session();
    push(s, routeMonitoring(peerA, announce(['192.0.2.0/24', '198.51.100.0/24'], 1)));
    // An attribute claiming 200 bytes inside 10 bytes of attributes.
    const message = update({
      attributes: [...origin(), 0x40, 8, 200, 1, 2, 3, 4],
      nlri: nlri(['192.0.2.0/24']),
    });
    push(s, routeMonitoring(peerA, message));
    expect(held(s)).toEqual(['192.0.2.1 pre-policy 198.51.100.0/24']);
    expect(s.router.counters.updateErrors).toEqual([1, 0, 0]);
  });

  it('forgets only the family of an MP_REACH_NLRI that does not parse (AFI/SAFI disable)', () => {
    const { s } = session();
    const v6 = (prefixes: Bytes): Bytes =>
      update({
        attributes: [...origin(), ...asPath([[SEQUENCE, [6]]]), ...mpReach(2, 1, ipv6Bytes('::1'), prefixes)],
      });
    push(
      s,
      routeMonitoring(peerA, v6(nlri(['2001:db8::/32']))),
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1)),
    );
    push(s, routeMonitoring(peerA, v6([129, ...ipv6Bytes('2001:db8::')])));
    expect(held(s)).toEqual(['192.0.2.1 pre-policy 192.0.2.0/24']);
    expect(s.router.counters.updateErrors).toEqual([0, 1, 0]);
  });

  it('forgets the RIB of a BGP message that cannot be read, and counts a KEEPALIVE without change', () => {
    const { s, rec } = session();
    push(
      s,
      routeMonitoring(peerA, announce(['192.0.2.0/24'], 1)),
      routeMonitoring({ ...peerA, flags: POST }, announce(['192.0.2.0/24'], 1)),
      routeMonitoring(peerA, keepalive()),
    );
    expect(held(s)).toEqual(['192.0.2.1 pre-policy 192.0.2.0/24', '192.0.2.1 post-policy 192.0.2.0/24']);
    const badMarker = announce(['198.51.100.0/24'], 1);
    badMarker[0] = 0;
    const good = routeMonitoring(peerA, announce(['198.51.100.0/24'], 1));
    push(s, routeMonitoring(peerA, badMarker), bmp(0, [...perPeer(peerA), ...good.slice(48, -1)]));
    expect(held(s)).toEqual(['192.0.2.1 post-policy 192.0.2.0/24']);
    expect(s.router.counters.updateErrors).toEqual([0, 2, 1]);
    expect(rec.events.filter((e) => e.startsWith('update-error'))).toEqual([
      'update-error 192.0.2.1 pre-policy not-update Error',
      'update-error 192.0.2.1 pre-policy reset BgpError',
      'update-error 192.0.2.1 pre-policy reset BgpError',
    ]);
  });
});

describe('limits', () => {
  it('reads a BMP message of exactly the length limit and refuses one byte more from its header', () => {
    const { s } = session(1000);
    const atLimit = bmp(6, Array<number>(1000 - 6).fill(0)); // Route Mirroring: counted, skipped
    push(s, atLimit);
    expect(s.router.counters.messages[6]).toBe(1);
    // Only the header of a 1001-byte message: refused before any of its body is buffered.
    expect(() => push(s, [3, ...u32(1001), 6])).toThrow(
      expect.objectContaining({ code: 'BMP_ERR_TOO_LARGE', offset: 1000 }),
    );
    expect(s.buffered).toBeLessThanOrEqual(6);
  });

  it('reads a BGP UPDATE of 65535 bytes (RFC 8654) and treats one byte more as unreadable', () => {
    // 43 bytes of header, lengths and attributes, then 13098 /32s and a /8: 65535 bytes.
    const prefixes = [
      ...Array.from({ length: 13098 }, (_, i) => `10.${i >> 8}.${i & 255}.1/32`),
      '11.0.0.0/8',
    ];
    const largest = announce(prefixes, 1);
    expect(largest.length).toBe(65535);
    const { s } = session(1 << 20);
    push(s, routeMonitoring(peerA, largest));
    const peer = [...s.router.peers.values()][0];
    expect(peer.routeCount(PolicyStage.PrePolicy)).toBe(13099);
    // One byte past: the BGP length field cannot say 65536, the message cannot be read.
    push(s, routeMonitoring(peerA, [...largest, 0]));
    expect(peer.routeCount(PolicyStage.PrePolicy)).toBe(0);
    expect(s.router.counters.updateErrors).toEqual([0, 1, 0]);
  });
});
