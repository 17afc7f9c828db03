import { describe, expect, it } from 'vitest';
import { BgpError } from './errors.js';
import { parseOpen, receivesAddPath } from './open.js';
import {
  capAddPath,
  capFourOctetAs,
  capMultiprotocol,
  header,
  open,
  u16,
  type Bytes,
} from './testing/build.js';

const parse = (bytes: Bytes) => parseOpen(Buffer.from(bytes), 0, bytes.length);

describe('parseOpen', () => {
  it('reads the fixed fields and the 4-byte ASN and ADD-PATH capabilities', () => {
    const o = parse(
      open({
        asn: 4200000001,
        bgpId: '192.0.2.7',
        holdTime: 180,
        capabilities: [
          capMultiprotocol(1, 1),
          capFourOctetAs(4200000001),
          capAddPath([
            [1, 1, 3],
            [2, 1, 1],
          ]),
        ],
      }),
    );
    expect(o.version).toBe(4);
    expect(o.asn).toBe(4200000001);
    expect(o.holdTime).toBe(180);
    expect(o.bgpId).toBe(0xc0000207);
    expect(o.fourOctetAs).toBe(true);
    expect([...o.addPath]).toEqual([
      [0x101, 3],
      [0x201, 1],
    ]);
    expect(o.capabilities).toEqual([1, 65, 69]);
  });

  it('reads a 2-byte speaker without capabilities', () => {
    const o = parse(open({ asn: 64496 }));
    expect([o.asn, o.fourOctetAs, o.addPath.size]).toEqual([64496, false, 0]);
  });

  it('reads RFC 9072 extended optional parameters', () => {
    const o = parse(
      open({ asn: 64496, extended: true, capabilities: [capFourOctetAs(64496), capAddPath([[2, 1, 2]])] }),
    );
    expect([o.fourOctetAs, o.addPath.get(0x201)]).toEqual([true, 2]);
  });

  it('decides ADD-PATH per direction (RFC 7911 section 4)', () => {
    const router = parse(
      open({
        asn: 1,
        capabilities: [
          capAddPath([
            [1, 1, 1],
            [2, 1, 2],
          ]),
        ],
      }),
    );
    const peer = parse(
      open({
        asn: 2,
        capabilities: [
          capAddPath([
            [1, 1, 2],
            [2, 1, 1],
          ]),
        ],
      }),
    );
    expect(receivesAddPath(router, peer, 1, 1)).toBe(true);
    expect(receivesAddPath(router, peer, 2, 1)).toBe(false);
    expect(receivesAddPath(peer, router, 2, 1)).toBe(true);
  });

  const fixed = [4, ...u16(64496), ...u16(90), 192, 0, 2, 1];
  const malformed: Array<[string, Bytes, string]> = [
    ['a KEEPALIVE', header(4, []), 'open'],
    ['a body shorter than 10 bytes', header(1, fixed.slice(0, 8)), 'open'],
    ['a parameters length past the end', header(1, [...fixed, 4, 2, 2]), 'open'],
    ['a parameter past the parameters', header(1, [...fixed, 3, 2, 4, 65]), 'open'],
    ['a capability past its parameter', header(1, [...fixed, 4, 2, 2, 65, 4]), 'capability'],
    ['a 4-byte ASN capability of 2 bytes', header(1, [...fixed, 6, 2, 4, 65, 2, 0, 1]), 'capability'],
    ['an ADD-PATH capability of 3 bytes', header(1, [...fixed, 7, 2, 5, 69, 3, 0, 1, 1]), 'capability'],
    ['an ADD-PATH send/receive of 4', header(1, [...fixed, 8, 2, 6, 69, 4, 0, 1, 1, 4]), 'capability'],
    ['a cut extended parameters length', header(1, [...fixed, 255, 255, 0]), 'open'],
  ];

  it.each(malformed)('rejects %s', (_name, bytes, part) => {
    let caught: unknown;
    try {
      parse(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BgpError);
    expect((caught as BgpError).part).toBe(part);
  });
});
