import { describe, expect, it } from 'vitest';
import { BgpError } from '../../bgp/errors.js';
import {
  as4Path,
  asPath,
  header,
  ipv6Bytes,
  keepalive,
  mpReach,
  mpUnreach,
  nextHop,
  nlri,
  origin,
  SEQUENCE,
  SET,
  update,
  type Bytes,
} from '../../bgp/testing/build.js';
import { MrtError } from './errors.js';
import { MrtParser, type MrtParserOptions } from './parser.js';
import {
  bgp4mp,
  MrtCollectSink,
  peerIndexTable,
  record,
  rib,
  stateChange,
  tableDump,
} from './testing/build.js';

function run(
  bytes: Bytes,
  options?: MrtParserOptions,
): { parser: MrtParser; sink: MrtCollectSink; truncated?: MrtError } {
  const sink = new MrtCollectSink();
  const parser = new MrtParser(sink, options);
  parser.push(Uint8Array.from(bytes));
  return { parser, sink, truncated: parser.end() };
}

const attrs = (...asns: number[]): Bytes => [...origin(), ...nextHop(), ...asPath([[SEQUENCE, asns]])];
const peers = peerIndexTable([
  { address: '192.0.2.10', asn: 4200000001 },
  { address: '2001:db8::10', asn: 64500, as2: true, bgpId: '192.0.2.20' },
]);

describe('TABLE_DUMP_V2', () => {
  it('reads the peer index table and IPv4/IPv6 RIB records', () => {
    const { parser, sink, truncated } = run([
      ...peers,
      ...rib(2, '192.0.2.0/24', [
        { peer: 0, attributes: attrs(4200000001, 64496) },
        {
          peer: 1,
          attributes: [
            ...origin(),
            ...asPath([
              [SEQUENCE, [64500]],
              [SET, [1, 2]],
            ]),
          ],
        },
      ]),
      ...rib(4, '2001:db8::/32', [{ peer: 1, attributes: [...origin(), ...asPath([])] }]),
    ]);
    expect(truncated).toBeUndefined();
    expect(sink.events).toEqual([
      'A 192.0.2.10 AS4200000001 192.0.2.0/24 64496',
      'A 2001:db8::10 AS64500 192.0.2.0/24 none',
      'A 2001:db8::10 AS64500 2001:db8::/32 local',
    ]);
    expect(parser.peerTable.map((p) => [p.address, p.asn, p.bgpId, p.family])).toEqual([
      ['192.0.2.10', 4200000001, '192.0.2.254', 4],
      ['2001:db8::10', 64500, '192.0.2.20', 6],
    ]);
    expect(parser.stats).toMatchObject({
      records: 3,
      peerIndexTables: 1,
      ribRecords: 2,
      ribEntries: 3,
      announced: 3,
    });
  });

  it('reads path identifiers of the RFC 8050 ADD-PATH subtypes', () => {
    const { sink } = run([
      ...peers,
      ...rib(8, '10.0.0.0/8', [
        { peer: 0, attributes: attrs(1), pathId: 5 },
        { peer: 0, attributes: attrs(2), pathId: 6 },
      ]),
      ...rib(10, '2001:db8:1::/48', [{ peer: 1, attributes: attrs(3), pathId: 0xfffffffe }]),
    ]);
    expect(sink.events).toEqual([
      'A 192.0.2.10 AS4200000001 10.0.0.0/8 id=5 1',
      'A 192.0.2.10 AS4200000001 10.0.0.0/8 id=6 2',
      'A 2001:db8::10 AS64500 2001:db8:1::/48 id=4294967294 3',
    ]);
  });

  it('skips multicast and RIB_GENERIC records and other MRT types', () => {
    const { parser, sink } = run([
      ...peers,
      ...rib(3, '224.0.0.0/4', [{ peer: 0, attributes: attrs(1) }]),
      ...record(13, 6, [0, 0, 0, 0, 0, 1, 1, 0]),
      ...record(11, 0, [1, 2, 3]),
    ]);
    expect(sink.events).toEqual([]);
    expect(parser.stats).toMatchObject({ records: 4, skipped: 3, malformed: 0 });
  });

  const malformed: Array<[string, Bytes, RegExp]> = [
    [
      'a RIB record before the peer index table',
      rib(2, '192.0.2.0/24', [{ peer: 0, attributes: attrs(1) }]),
      /PEER_INDEX_TABLE/,
    ],
    [
      'a peer index out of range',
      [...peers, ...rib(2, '192.0.2.0/24', [{ peer: 2, attributes: attrs(1) }])],
      /names peer 2/,
    ],
    [
      'a prefix length of 33',
      [...peers, ...record(13, 2, [0, 0, 0, 0, 33, 1, 2, 3, 4, 5, 0, 0])],
      /prefix length 33/,
    ],
    ['a cut entry', [...peers, ...record(13, 2, [0, 0, 0, 0, 8, 10, 0, 1, 0, 0])], /RIB entry 0/],
    [
      'bytes after the last entry',
      [...peers, ...record(13, 2, [0, 0, 0, 0, 8, 10, 0, 0, 9])],
      /after the last/,
    ],
    ['a peer table with a cut entry', record(13, 1, [1, 2, 3, 4, 0, 0, 0, 1, 2, 1, 1, 1, 1]), /peer entry 0/],
  ];

  it.each(malformed)('counts and skips %s', (_name, bytes, message) => {
    const next = rib(2, '198.51.100.0/24', [{ peer: 0, attributes: attrs(7) }]);
    const { parser, sink } = run([...bytes, ...peers, ...next]);
    expect(parser.stats.malformed).toBe(1);
    expect(parser.errors[0].code).toBe('MRT_ERR_MALFORMED');
    expect(parser.errors[0].message).toMatch(message);
    expect(parser.errors[0].type).toBe(13);
    // The records after it are read.
    expect(sink.events.at(-1)).toBe('A 192.0.2.10 AS4200000001 198.51.100.0/24 7');
  });

  it('emits nothing from a RIB record whose later entry is malformed, and says where it was', () => {
    const bad = rib(2, '192.0.2.0/24', [
      { peer: 0, attributes: attrs(1) },
      { peer: 0, attributes: [...origin(), 0x40, 2, 6, 2, 2, 0, 0, 0, 1] },
    ]);
    const { parser, sink } = run([...peers, ...bad]);
    expect(sink.events).toEqual([]);
    expect(parser.errors[0].offset).toBe(peers.length);
    expect(parser.errors[0].cause).toBeInstanceOf(BgpError);
    expect((parser.errors[0].cause as BgpError).part).toBe('as_path');
  });
});

describe('BGP4MP', () => {
  const announce = update({ attributes: attrs(64496, 4200000002), nlri: nlri(['192.0.2.0/24']) });

  it('reads MESSAGE_AS4 updates: withdrawals, announcements, IPv6, End-of-RIB', () => {
    const v6 = update({
      attributes: [
        ...origin(),
        ...asPath([[SEQUENCE, [64496]]]),
        ...mpReach(2, 1, ipv6Bytes('2001:db8::1'), nlri(['2001:db8:1::/48'])),
        ...mpUnreach(2, 1, nlri(['2001:db8:2::/48'])),
      ],
    });
    const { parser, sink } = run([
      ...bgp4mp(4, { peerAs: 4200000009, peer: '192.0.2.9', message: announce }),
      ...bgp4mp(4, {
        peerAs: 4200000009,
        peer: '192.0.2.9',
        message: update({ withdrawn: nlri(['192.0.2.0/24']) }),
      }),
      ...bgp4mp(4, { peerAs: 64497, peer: '2001:db8::9', message: v6 }),
      ...bgp4mp(4, {
        peerAs: 64497,
        peer: '2001:db8::9',
        message: update({ attributes: mpUnreach(2, 1, []) }),
      }),
    ]);
    expect(sink.events).toEqual([
      'A 192.0.2.9 AS4200000009 192.0.2.0/24 4200000002',
      'W 192.0.2.9 AS4200000009 192.0.2.0/24',
      'W 2001:db8::9 AS64497 2001:db8:2::/48',
      'A 2001:db8::9 AS64497 2001:db8:1::/48 64496',
      'EOR 2001:db8::9 2/1',
    ]);
    expect(parser.stats).toMatchObject({ updates: 4, announced: 2, withdrawn: 2, endOfRib: 1 });
  });

  it('reads 2-byte MESSAGE records and merges AS4_PATH', () => {
    const message = update({
      attributes: [
        ...origin(),
        ...nextHop(),
        ...asPath([[SEQUENCE, [64496, 23456]]], 2),
        ...as4Path([[SEQUENCE, [4200000003]]]),
      ],
      nlri: nlri(['192.0.2.0/24']),
    });
    const { sink } = run(bgp4mp(1, { peerAs: 64496, peer: '192.0.2.9', message }));
    expect(sink.events).toEqual(['A 192.0.2.9 AS64496 192.0.2.0/24 4200000003']);
  });

  it('reads the ADD-PATH subtypes and BGP4MP_ET records', () => {
    const message = update({ attributes: attrs(5), nlri: nlri(['192.0.2.0/24'], [77]) });
    const { sink } = run([
      ...bgp4mp(9, { peerAs: 1, peer: '192.0.2.9', message }),
      ...bgp4mp(4, { peerAs: 1, peer: '192.0.2.9', message: announce, microseconds: 123456 }),
      ...bgp4mp(11, { peerAs: 1, peer: '192.0.2.9', message, microseconds: 1 }),
    ]);
    expect(sink.events).toEqual([
      'A 192.0.2.9 AS1 192.0.2.0/24 id=77 5',
      'A 192.0.2.9 AS1 192.0.2.0/24 4200000002',
      'A 192.0.2.9 AS1 192.0.2.0/24 id=77 5',
    ]);
  });

  it('counts and skips STATE_CHANGE records and non-UPDATE messages', () => {
    const { parser, sink } = run([
      ...stateChange(64496, '192.0.2.9'),
      ...bgp4mp(4, { peerAs: 1, peer: '192.0.2.9', message: keepalive() }),
      ...bgp4mp(4, { peerAs: 1, peer: '192.0.2.9', message: header(3, [6, 2]) }),
    ]);
    expect(sink.events).toEqual([]);
    expect(parser.stats).toMatchObject({
      records: 3,
      stateChanges: 1,
      otherMessages: 2,
      updates: 0,
      malformed: 0,
    });
  });

  it('interns peers: one object per peer address and AS', () => {
    const seen = new Set<object>();
    const sink = new MrtCollectSink();
    const original = sink.announce.bind(sink);
    sink.announce = (peer, ...rest) => {
      seen.add(peer);
      original(peer, ...rest);
    };
    const parser = new MrtParser(sink);
    for (let i = 0; i < 3; i++)
      parser.push(Uint8Array.from(bgp4mp(4, { peerAs: 1, peer: '192.0.2.9', message: announce })));
    parser.push(Uint8Array.from(bgp4mp(4, { peerAs: 2, peer: '192.0.2.9', message: announce })));
    expect(seen.size).toBe(2);
  });

  it('reports a malformed BGP message with the BgpError as cause', () => {
    const broken = announce.slice();
    broken[0] = 0;
    const { parser } = run([
      ...bgp4mp(4, { peerAs: 1, peer: '192.0.2.9', message: broken }),
      ...bgp4mp(4, { peerAs: 1, peer: '192.0.2.9', message: announce.slice(0, -1) }),
      ...record(16, 4, [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
      ...record(17, 4, [0, 0]),
    ]);
    expect(parser.stats.malformed).toBe(4);
    expect(parser.errors.map((e) => (e.cause instanceof BgpError ? e.cause.part : 'mrt'))).toEqual([
      'header',
      'header',
      'mrt',
      'mrt',
    ]);
  });
});

describe('TABLE_DUMP (legacy)', () => {
  it('reads IPv4 and IPv6 entries with 2-byte AS paths', () => {
    const { sink } = run([
      ...tableDump('192.0.2.77/24', '198.51.100.1', 64496, [
        ...origin(),
        ...asPath([[SEQUENCE, [64496, 64497]]], 2),
      ]),
      ...tableDump('2001:db8::/32', '2001:db8::1', 64496, [...origin(), ...asPath([[SET, [1, 2]]], 2)]),
    ]);
    expect(sink.events).toEqual([
      'A 198.51.100.1 AS64496 192.0.2.0/24 64497',
      'A 2001:db8::1 AS64496 2001:db8::/32 none',
    ]);
  });
});

describe('framing', () => {
  const stream = [
    ...peers,
    ...rib(2, '192.0.2.0/24', [{ peer: 0, attributes: attrs(1) }]),
    ...bgp4mp(4, {
      peerAs: 1,
      peer: '192.0.2.9',
      message: update({ attributes: attrs(2), nlri: nlri(['10.0.0.0/8']) }),
    }),
    ...rib(4, '2001:db8::/32', [{ peer: 1, attributes: attrs(3) }]),
  ];
  const expected = run(stream).sink.events;

  it('gives the same routes however the input is split in two', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const sink = new MrtCollectSink();
      const parser = new MrtParser(sink);
      parser.push(Uint8Array.from(stream.slice(0, cut)));
      parser.push(Uint8Array.from(stream.slice(cut)));
      expect(parser.end()).toBeUndefined();
      expect(sink.events).toEqual(expected);
    }
  });

  it('gives the same routes from one-byte chunks', () => {
    const sink = new MrtCollectSink();
    const parser = new MrtParser(sink);
    for (const byte of stream) parser.push(Uint8Array.of(byte));
    expect(parser.end()).toBeUndefined();
    expect(sink.events).toEqual(expected);
    expect(parser.stats.bytes).toBe(stream.length);
  });

  it('reports a cut final record with its offset and keeps the records before it', () => {
    const last = rib(4, '2001:db8::/32', [{ peer: 1, attributes: attrs(3) }]);
    const lastOffset = stream.length - last.length;
    for (const cut of [lastOffset + 1, lastOffset + 11, lastOffset + 12, stream.length - 1]) {
      const { sink, truncated, parser } = run(stream.slice(0, cut));
      expect(truncated?.code).toBe('MRT_ERR_TRUNCATED');
      expect(truncated?.offset).toBe(lastOffset);
      expect(sink.events).toEqual(expected.slice(0, -1));
      expect(parser.stats.bytes).toBe(lastOffset);
      if (cut - lastOffset >= 12) expect([truncated?.type, truncated?.subtype]).toEqual([13, 4]);
    }
  });

  it('stops at a record longer than the limit', () => {
    const sink = new MrtCollectSink();
    const parser = new MrtParser(sink, { maxRecordLength: 100 });
    const big = record(13, 2, Array<number>(101).fill(0));
    expect(() => parser.push(Uint8Array.from([...peers, ...big]))).toThrow(MrtError);
    let again: unknown;
    try {
      parser.push(Uint8Array.of(0));
    } catch (error) {
      again = error;
    }
    expect((again as MrtError).code).toBe('MRT_ERR_TOO_LARGE');
    expect((again as MrtError).offset).toBe(peers.length);
  });

  it('reads a record of exactly the limit and stops one byte past it, naming file, offset and limit', () => {
    const limit = 200;
    const body = (n: number): Bytes => [0, 0, 0, 9, 0, ...Array<number>(n - 5).fill(0)];
    const atLimit = record(13, 99, body(limit)); // an unknown subtype: skipped, not malformed
    const parser = new MrtParser(new MrtCollectSink(), { maxRecordLength: limit, file: 'dump.mrt' });
    parser.push(Uint8Array.from([...peers, ...atLimit]));
    expect(parser.stats.records).toBe(2);
    let caught: unknown;
    try {
      // Only the header of the record over the limit: refused before its body is buffered.
      parser.push(Uint8Array.from(record(13, 2, body(limit + 1)).slice(0, 12)));
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'MRT_ERR_TOO_LARGE',
      offset: peers.length + atLimit.length,
      file: 'dump.mrt',
    });
    expect((caught as MrtError).message).toBe(
      `dump.mrt: record length ${limit + 1} exceeds the limit of ${limit} bytes (--mrt-max-record) (record at byte ${peers.length + atLimit.length}, type 13/2)`,
    );
  });

  it('throws the first malformed record in strict mode', () => {
    const sink = new MrtCollectSink();
    const parser = new MrtParser(sink, { strict: true });
    expect(() =>
      parser.push(Uint8Array.from(rib(2, '192.0.2.0/24', [{ peer: 0, attributes: attrs(1) }]))),
    ).toThrow(expect.objectContaining({ code: 'MRT_ERR_MALFORMED', offset: 0 }));
  });
});
