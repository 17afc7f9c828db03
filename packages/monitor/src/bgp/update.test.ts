import { describe, expect, it } from 'vitest';
import { BgpError, type BgpPart } from './errors.js';
import {
  aggregator,
  as4Aggregator,
  as4Path,
  asPath,
  attribute,
  CONFED_SEQUENCE,
  CONFED_SET,
  header,
  ipv6Bytes,
  mpReach,
  mpUnreach,
  nextHop,
  nlri,
  origin,
  SEQUENCE,
  SET,
  u16,
  update,
  updateBody,
  type Bytes,
} from './testing/build.js';
import { CollectSink } from './testing/collect.js';
import { UpdateParser } from './update.js';

interface Options {
  as4?: boolean;
  addPathV4?: boolean;
  addPathV6?: boolean;
}

function parser(options: Options = {}): { parser: UpdateParser; sink: CollectSink } {
  const sink = new CollectSink();
  const p = new UpdateParser(sink);
  p.as4 = options.as4 ?? true;
  p.addPathV4 = options.addPathV4 ?? false;
  p.addPathV6 = options.addPathV6 ?? false;
  return { parser: p, sink };
}

function parse(message: Bytes, options: Options = {}): string[] {
  const { parser: p, sink } = parser(options);
  p.parseMessage(Buffer.from(message), 0, message.length);
  return sink.events;
}

function parseError(message: Bytes, options: Options = {}): { error: BgpError; events: string[] } {
  const { parser: p, sink } = parser(options);
  try {
    p.parseMessage(Buffer.from(message), 0, message.length);
  } catch (error) {
    if (error instanceof BgpError) return { error, events: sink.events };
    throw error;
  }
  throw new Error(`expected a BgpError, got events ${JSON.stringify(sink.events)}`);
}

const base = [...origin(0), ...nextHop()];
const path = (...asns: number[]): Bytes => asPath([[SEQUENCE, asns]]);
const v6NextHop = ipv6Bytes('2001:db8::1');

describe('IPv4 UPDATE', () => {
  it('emits withdrawals then announcements with the last AS_SEQUENCE AS as origin', () => {
    const message = update({
      withdrawn: nlri(['198.51.100.0/24', '10.0.0.0/8']),
      attributes: [...base, ...path(64496, 4200000000)],
      nlri: nlri(['192.0.2.0/24', '0.0.0.0/0', '203.0.113.128/25']),
    });
    expect(parse(message)).toEqual([
      'W 198.51.100.0/24',
      'W 10.0.0.0/8',
      'A 192.0.2.0/24 4200000000',
      'A 0.0.0.0/0 4200000000',
      'A 203.0.113.128/25 4200000000',
    ]);
  });

  it('reads 2-byte AS_PATHs on 2-byte sessions', () => {
    const message = update({
      attributes: [...base, ...asPath([[SEQUENCE, [64496, 65001]]], 2)],
      nlri: nlri(['192.0.2.0/24']),
    });
    expect(parse(message, { as4: false })).toEqual(['A 192.0.2.0/24 65001']);
  });

  it('clears host bits beyond the prefix length', () => {
    const raw = [
      ...header(2, updateBody({ attributes: [...base, ...path(1)], nlri: [8, 10, 12, 1, 1, 0x8f, 0xff] })),
    ];
    // 10/8, 1.1/12, 0x8f/1, then a length byte of 255: rejected, not read as a shorter prefix.
    expect(() => parse(raw)).toThrow(BgpError);
    const ok = update({
      attributes: [...base, ...path(1)],
      nlri: [20, 10, 255, 255, 1, 0xff, 32, 1, 2, 3, 4],
    });
    expect(parse(ok)).toEqual(['A 10.255.240.0/20 1', 'A 128.0.0.0/1 1', 'A 1.2.3.4/32 1']);
  });

  it('recognises the IPv4 End-of-RIB marker', () => {
    expect(parse(update({}))).toEqual(['EOR 1/1']);
  });

  it('accepts a withdrawal-only UPDATE without attributes', () => {
    expect(parse(update({ withdrawn: nlri(['192.0.2.0/24']) }))).toEqual(['W 192.0.2.0/24']);
  });

  it('accepts an extended-length attribute and skips unknown ones', () => {
    const communities = attribute(8, Array<number>(400).fill(7), 0xc0);
    const message = update({
      attributes: [...base, ...communities, ...attribute(2, [SEQUENCE, 1, 0, 0, 0, 9], 0x40, true)],
      nlri: nlri(['192.0.2.0/24']),
    });
    expect(parse(message)).toEqual(['A 192.0.2.0/24 9']);
  });

  it('reads an announcement without AS_PATH as an empty path and counts it', () => {
    const { parser: p, sink } = parser();
    const message = update({ attributes: base, nlri: nlri(['192.0.2.0/24']) });
    p.parseMessage(Buffer.from(message), 0, message.length);
    expect(sink.events).toEqual(['A 192.0.2.0/24 local']);
    expect(p.missingAsPath).toBe(1);
  });

  it('uses the first of two AS_PATH attributes (RFC 7606 section 3g)', () => {
    const message = update({
      attributes: [...base, ...path(1, 2), ...path(3, 4)],
      nlri: nlri(['192.0.2.0/24']),
    });
    expect(parse(message)).toEqual(['A 192.0.2.0/24 2']);
  });

  it('parses a message in the middle of a larger buffer', () => {
    const message = update({ attributes: [...base, ...path(7)], nlri: nlri(['192.0.2.0/24']) });
    const buf = Buffer.from([1, 2, 3, ...message, 4, 5]);
    const { parser: p, sink } = parser();
    expect(p.parseMessage(buf, 3, 3 + message.length)).toBe(2);
    expect(sink.events).toEqual(['A 192.0.2.0/24 7']);
  });

  it('returns the type of non-UPDATE messages without emitting', () => {
    const { parser: p, sink } = parser();
    const keepalive = header(4, []);
    expect(p.parseMessage(Buffer.from(keepalive), 0, keepalive.length)).toBe(4);
    expect(sink.events).toEqual([]);
  });
});

describe('origin (RFC 6811 section 2)', () => {
  const originOf = (attributes: Bytes, options: Options = {}): string =>
    parse(update({ attributes: [...base, ...attributes], nlri: nlri(['192.0.2.0/24']) }), options)[0].split(
      ' ',
    )[2];

  it('is NONE when the final segment is an AS_SET', () => {
    expect(
      originOf(
        asPath([
          [SEQUENCE, [1, 2]],
          [SET, [3, 4]],
        ]),
      ),
    ).toBe('set');
  });

  it('is the last AS of a final AS_SEQUENCE that follows an AS_SET', () => {
    expect(
      originOf(
        asPath([
          [SET, [3, 4]],
          [SEQUENCE, [5, 6]],
        ]),
      ),
    ).toBe('6');
  });

  it('is local for an empty path and for a path ending in a confederation segment', () => {
    expect(originOf(attribute(2, []))).toBe('local');
    expect(
      originOf(
        asPath([
          [CONFED_SEQUENCE, [65001]],
          [CONFED_SET, [65002]],
        ]),
      ),
    ).toBe('local');
    expect(
      originOf(
        asPath([
          [SEQUENCE, [1]],
          [CONFED_SEQUENCE, [65001]],
        ]),
      ),
    ).toBe('local');
  });
});

describe('AS4_PATH merge (RFC 6793 section 4.2.3)', () => {
  const originOf = (attributes: Bytes, as4 = false): { origin: string; parser: UpdateParser } => {
    const { parser: p, sink } = parser({ as4 });
    const message = update({ attributes: [...base, ...attributes], nlri: nlri(['192.0.2.0/24']) });
    p.parseMessage(Buffer.from(message), 0, message.length);
    return { origin: sink.events[0].split(' ')[2], parser: p };
  };
  const twoByte = (...asns: number[]): Bytes => asPath([[SEQUENCE, asns]], 2);

  it('takes the origin from AS4_PATH on a 2-byte session', () => {
    expect(
      originOf([...twoByte(64496, 23456, 23456), ...as4Path([[SEQUENCE, [4200000001, 4200000002]]])]).origin,
    ).toBe('4200000002');
  });

  it('keeps an AS_SET that ends AS4_PATH', () => {
    const attrs = [
      ...asPath(
        [
          [SEQUENCE, [64496, 23456]],
          [SET, [23456, 64497]],
        ],
        2,
      ),
      ...as4Path([
        [SEQUENCE, [4200000001]],
        [SET, [4200000002, 64497]],
      ]),
    ];
    expect(originOf(attrs).origin).toBe('set');
  });

  it('ignores an AS4_PATH longer than AS_PATH', () => {
    expect(originOf([...twoByte(64496, 23456), ...as4Path([[SEQUENCE, [1, 2, 4200000002]]])]).origin).toBe(
      '23456',
    );
  });

  it('counts an AS_SET as one AS and confederation segments as none', () => {
    // AS_PATH counts 0 (confederation) + 1 (sequence) + 1 (set) = 2; AS4_PATH with 2 ASes is used.
    const attrs = [
      ...asPath(
        [
          [CONFED_SEQUENCE, [65001, 65002, 65003]],
          [SEQUENCE, [64496]],
          [SET, [23456, 23457]],
        ],
        2,
      ),
      ...as4Path([[SEQUENCE, [64496, 4200000009]]]),
    ];
    expect(originOf(attrs).origin).toBe('4200000009');
    // Three ASes in AS4_PATH exceed the two counted in AS_PATH.
    const longer = [...attrs.slice(0, attrs.length - as4Path([[SEQUENCE, [64496, 4200000009]]]).length)];
    expect(originOf([...longer, ...as4Path([[SEQUENCE, [1, 64496, 4200000009]]])]).origin).toBe('set');
  });

  it('ignores AS4_PATH on a 4-byte session', () => {
    expect(originOf([...path(64496, 4200000001), ...as4Path([[SEQUENCE, [9]]])], true).origin).toBe(
      '4200000001',
    );
  });

  it('ignores AS4_PATH when AGGREGATOR is not AS_TRANS and AS4_AGGREGATOR is present', () => {
    const paths = [...twoByte(64496, 23456), ...as4Path([[SEQUENCE, [4200000002]]])];
    expect(originOf([...paths, ...aggregator(64500), ...as4Aggregator(4200000003)]).origin).toBe('23456');
    expect(originOf([...paths, ...aggregator(23456), ...as4Aggregator(4200000003)]).origin).toBe(
      '4200000002',
    );
    expect(originOf([...paths, ...aggregator(64500)]).origin).toBe('4200000002');
  });

  it('discards a malformed AS4_PATH and drops its confederation segments', () => {
    const broken = attribute(17, [SEQUENCE, 3, 0, 0, 0, 1], 0xc0);
    const r = originOf([...twoByte(64496, 23456), ...broken]);
    expect(r.origin).toBe('23456');
    expect(r.parser.discardedAs4Paths).toBe(1);
    const confedOnly = as4Path([[CONFED_SEQUENCE, [4200000005]]]);
    expect(originOf([...twoByte(64496, 23456), ...confedOnly]).origin).toBe('23456');
    const confedAfter = as4Path([
      [SEQUENCE, [4200000002]],
      [CONFED_SEQUENCE, [4200000005]],
    ]);
    expect(originOf([...twoByte(64496, 23456), ...confedAfter]).origin).toBe('4200000002');
  });
});

describe('MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760)', () => {
  it('announces and withdraws IPv6 unicast', () => {
    const message = update({
      attributes: [
        ...mpUnreach(2, 1, nlri(['2001:db8:ff::/48'])),
        ...base,
        ...path(64496),
        ...mpReach(
          2,
          1,
          v6NextHop,
          nlri(['2001:db8::/32', '::/0', '2001:db8:1:2:3:4:5:6/128', '2001:db8:8000::/33']),
        ),
      ],
    });
    expect(parse(message)).toEqual([
      'W 2001:db8:ff::/48',
      'A 2001:db8::/32 64496',
      'A ::/0 64496',
      'A 2001:db8:1:2:3:4:5:6/128 64496',
      'A 2001:db8:8000::/33 64496',
    ]);
  });

  it('accepts IPv4 unicast inside MP attributes together with the classic fields', () => {
    const message = update({
      withdrawn: nlri(['198.51.100.0/24']),
      attributes: [
        ...mpUnreach(1, 1, nlri(['198.51.101.0/24'])),
        ...base,
        ...path(5),
        ...mpReach(1, 1, [192, 0, 2, 1], nlri(['203.0.113.0/24'])),
      ],
      nlri: nlri(['192.0.2.0/24']),
    });
    expect(parse(message)).toEqual([
      'W 198.51.100.0/24',
      'W 198.51.101.0/24',
      'A 192.0.2.0/24 5',
      'A 203.0.113.0/24 5',
    ]);
  });

  it('skips other AFI/SAFIs and counts them', () => {
    const { parser: p, sink } = parser();
    const message = update({
      attributes: [...base, ...path(5), ...mpReach(2, 128, v6NextHop, [1, 2, 3]), ...mpUnreach(1, 2, [9])],
    });
    p.parseMessage(Buffer.from(message), 0, message.length);
    expect(sink.events).toEqual([]);
    expect(p.otherFamilies).toBe(2);
  });

  it('recognises the End-of-RIB marker of other families', () => {
    expect(parse(update({ attributes: mpUnreach(2, 1, []) }))).toEqual(['EOR 2/1']);
    expect(parse(update({ attributes: mpUnreach(1, 128, []) }))).toEqual(['EOR 1/128']);
  });

  it('does not mistake an empty MP_UNREACH beside other attributes for End-of-RIB', () => {
    expect(
      parse(
        update({
          attributes: [
            ...mpUnreach(2, 1, []),
            ...base,
            ...path(1),
            ...mpReach(2, 1, v6NextHop, nlri(['2001:db8::/32'])),
          ],
        }),
      ),
    ).toEqual(['A 2001:db8::/32 1']);
  });
});

describe('ADD-PATH (RFC 7911)', () => {
  it('reads path ids in IPv4 withdrawn routes and NLRI when negotiated', () => {
    const message = update({
      withdrawn: nlri(['198.51.100.0/24'], [7]),
      attributes: [...base, ...path(9)],
      nlri: nlri(['192.0.2.0/24', '192.0.2.0/24'], [1, 0xffffffff]),
    });
    expect(parse(message, { addPathV4: true })).toEqual([
      'W 198.51.100.0/24 id=7',
      'A 192.0.2.0/24 id=1 9',
      'A 192.0.2.0/24 id=4294967295 9',
    ]);
  });

  it('reads path ids per family', () => {
    const message = update({
      attributes: [
        ...base,
        ...path(9),
        ...mpReach(2, 1, v6NextHop, nlri(['2001:db8::/32'], [3])),
        ...mpUnreach(2, 1, nlri(['2001:db8:1::/48'], [4])),
      ],
      nlri: nlri(['192.0.2.0/24']),
    });
    expect(parse(message, { addPathV6: true })).toEqual([
      'W 2001:db8:1::/48 id=4',
      'A 192.0.2.0/24 9',
      'A 2001:db8::/32 id=3 9',
    ]);
  });

  it('rejects NLRI whose path id is cut', () => {
    const message = update({ attributes: [...base, ...path(9)], nlri: [0, 0, 1, 24, 192, 0, 2, 0, 0, 0] });
    const { error } = parseError(message, { addPathV4: true });
    expect(error.part).toBe('nlri');
  });
});

describe('malformed messages', () => {
  const valid = update({
    withdrawn: nlri(['198.51.100.0/24']),
    attributes: [...base, ...path(64496)],
    nlri: nlri(['192.0.2.0/24']),
  });

  const cases: Array<[string, Bytes, BgpPart, Options?]> = [
    ['a message shorter than the header', valid.slice(0, 18), 'header'],
    ['a marker that is not all ones', [0xfe, ...valid.slice(1)], 'header'],
    [
      'a length field that disagrees with the buffer',
      [...valid.slice(0, 16), ...u16(valid.length + 1), ...valid.slice(18)],
      'header',
    ],
    ['an unknown message type', [...valid.slice(0, 18), 9, ...valid.slice(19)], 'header'],
    ['an UPDATE body shorter than 4 bytes', header(2, [0, 0, 0]), 'withdrawn'],
    ['a withdrawn length past the end', header(2, [0, 50, 0, 0]), 'withdrawn'],
    [
      'a withdrawn prefix longer than 32',
      header(2, updateBody({ withdrawn: [33, 1, 2, 3, 4, 5] })),
      'withdrawn',
    ],
    ['a withdrawn prefix cut short', header(2, updateBody({ withdrawn: [24, 1, 2] })), 'withdrawn'],
    ['an attributes length past the end', header(2, [0, 0, 0, 9, 1]), 'attributes'],
    ['an attribute header cut short', header(2, updateBody({ attributes: [0x40, 2] })), 'attributes'],
    [
      'an extended attribute header cut short',
      header(2, updateBody({ attributes: [0x50, 2, 0] })),
      'attributes',
    ],
    [
      'an attribute value past the field',
      header(2, updateBody({ attributes: [0x40, 2, 4, 2, 1] })),
      'attributes',
    ],
    [
      'an NLRI prefix longer than 32',
      update({ attributes: [...base, ...path(1)], nlri: [40, 1, 2, 3, 4, 5] }),
      'nlri',
    ],
    ['an NLRI prefix cut short', update({ attributes: [...base, ...path(1)], nlri: [24, 192, 0] }), 'nlri'],
    [
      'an AS_PATH segment that overruns',
      update({
        attributes: [...base, ...attribute(2, [SEQUENCE, 2, 0, 0, 0, 1])],
        nlri: nlri(['192.0.2.0/24']),
      }),
      'as_path',
    ],
    [
      'an AS_PATH segment of zero ASes',
      update({ attributes: [...base, ...attribute(2, [SEQUENCE, 0])], nlri: nlri(['192.0.2.0/24']) }),
      'as_path',
    ],
    [
      'an unknown AS_PATH segment type',
      update({ attributes: [...base, ...attribute(2, [7, 1, 0, 0, 0, 1])], nlri: nlri(['192.0.2.0/24']) }),
      'as_path',
    ],
    [
      'one stray byte after an AS_PATH segment',
      update({
        attributes: [...base, ...attribute(2, [SEQUENCE, 1, 0, 0, 0, 1, 2])],
        nlri: nlri(['192.0.2.0/24']),
      }),
      'as_path',
    ],
    [
      'a 2-byte AS_PATH read on a 4-byte session',
      update({ attributes: [...base, ...asPath([[SEQUENCE, [1, 2, 3]]], 2)], nlri: nlri(['192.0.2.0/24']) }),
      'as_path',
    ],
    [
      'an MP_REACH_NLRI shorter than 5 bytes',
      update({ attributes: [...base, ...path(1), ...attribute(14, [0, 2, 1, 0], 0x80)] }),
      'mp_reach',
    ],
    [
      'an MP_REACH_NLRI next hop past the attribute',
      update({ attributes: [...base, ...path(1), ...attribute(14, [0, 2, 1, 16, 1, 2, 3], 0x80)] }),
      'mp_reach',
    ],
    [
      'an MP_REACH_NLRI prefix longer than 128',
      update({
        attributes: [...base, ...path(1), ...mpReach(2, 1, v6NextHop, [129, ...Array<number>(17).fill(0)])],
      }),
      'mp_reach',
    ],
    [
      'an MP_REACH_NLRI prefix cut short',
      update({ attributes: [...base, ...path(1), ...mpReach(2, 1, v6NextHop, [64, 0x20, 1])] }),
      'mp_reach',
    ],
    [
      'two MP_REACH_NLRI attributes',
      update({
        attributes: [...base, ...path(1), ...mpReach(2, 1, v6NextHop, []), ...mpReach(2, 1, v6NextHop, [])],
      }),
      'mp_reach',
    ],
    [
      'an MP_UNREACH_NLRI shorter than 3 bytes',
      update({ attributes: attribute(15, [0, 2], 0x80) }),
      'mp_unreach',
    ],
    [
      'an MP_UNREACH_NLRI prefix cut short',
      update({ attributes: mpUnreach(2, 1, [48, 0x20, 0x01]) }),
      'mp_unreach',
    ],
    [
      'two MP_UNREACH_NLRI attributes',
      update({ attributes: [...mpUnreach(2, 1, []), ...mpUnreach(2, 1, [])] }),
      'mp_unreach',
    ],
    [
      'an MP_UNREACH_NLRI path id cut short',
      update({ attributes: mpUnreach(2, 1, [0, 0, 1]) }),
      'mp_unreach',
      { addPathV6: true },
    ],
  ];

  it.each(cases)('rejects %s', (_name, message, part, options) => {
    const { error, events } = parseError(message, options);
    expect(error.code).toBe('BGP_ERR_MALFORMED');
    expect(error.name).toBe('BgpError');
    expect(error.part).toBe(part);
    expect(error.offset).toBeGreaterThanOrEqual(0);
    expect(error.offset).toBeLessThanOrEqual(message.length);
    expect(events).toEqual([]);
  });

  it('emits nothing from a message whose last field is malformed', () => {
    const message = update({
      withdrawn: nlri(['198.51.100.0/24']),
      attributes: [...base, ...path(1)],
      nlri: [...nlri(['192.0.2.0/24']), 33, 0, 0, 0, 0, 0],
    });
    expect(parseError(message).events).toEqual([]);
  });

  it('rejects every cut of a valid message at the header, and every cut body emits at most its complete routes', () => {
    for (let cut = 0; cut < valid.length; cut++) {
      expect(parseError(valid.slice(0, cut)).error.part).toBe('header');
    }
    const full = parse(valid);
    for (let cut = 19; cut < valid.length; cut++) {
      const { parser: p, sink } = parser();
      try {
        p.parseUpdate(Buffer.from(valid), 19, cut);
      } catch (error) {
        expect(error).toBeInstanceOf(BgpError);
        expect(sink.events).toEqual([]);
        continue;
      }
      // A cut at an NLRI boundary is a valid, shorter UPDATE.
      expect(full.slice(0, sink.events.length)).toEqual(sink.events);
    }
  });
});

describe('MRT RIB attributes', () => {
  it('sets the origin without needing NLRI and ignores an abbreviated MP_REACH_NLRI', () => {
    const { parser: p } = parser();
    const attrs = [...base, ...path(64496, 4200000000), ...attribute(14, [16, ...v6NextHop], 0x80)];
    p.parseAttributes(Buffer.from(attrs), 0, attrs.length);
    expect([p.origin, p.originKind]).toEqual([4200000000, 0]);
    p.parseAttributes(Buffer.from(base), 0, base.length);
    expect([p.origin, p.originKind]).toEqual([0, 2]);
  });

  it('rejects a malformed attribute list', () => {
    const { parser: p } = parser();
    const attrs = [...base, 0x40, 2, 9, 2, 1];
    expect(() => p.parseAttributes(Buffer.from(attrs), 0, attrs.length)).toThrow(BgpError);
  });
});
