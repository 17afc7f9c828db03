import { describe, expect, it } from 'vitest';
import { AsnError, MaxLengthError, PrefixError } from './errors.js';
import { parsePrefix } from './prefix.js';
import { ValidationCode } from './validity.js';
import { VrpList } from './vrp-list.js';
import { VrpTable } from './vrp-table.js';

function table(...vrps: [string, number, number | string][]): VrpTable {
  const t = new VrpTable();
  for (const [prefix, maxLength, asn] of vrps) t.add({ prefix, maxLength, asn });
  return t;
}

describe('RFC 6811 validation', () => {
  // RFC 6811 section 2.1's worked example: a VRP 192.0.2.0/24-24 AS 64496 ... the
  // examples below follow its prefix/maxLength/AS cases.
  const t = table(['192.0.2.0/24', 24, 64496], ['198.51.100.0/22', 24, 64497], ['2001:db8::/32', 48, 64498]);

  it.each([
    ['192.0.2.0/24', 64496, 'valid'],
    ['192.0.2.0/24', 64511, 'invalid'], // covered, other AS
    ['192.0.2.0/25', 64496, 'invalid'], // covered, longer than maxLength
    ['192.0.0.0/16', 64496, 'not-found'], // less specific than every VRP
    ['198.51.100.0/24', 64497, 'valid'],
    ['198.51.101.0/24', 64497, 'valid'],
    ['198.51.100.0/25', 64497, 'invalid'],
    ['198.51.104.0/24', 64497, 'not-found'],
    ['2001:db8:1::/48', 64498, 'valid'],
    ['2001:db8:1::/49', 64498, 'invalid'],
    ['2001:db9::/32', 64498, 'not-found'],
    ['2001:db8::/32', 'AS64498', 'valid'],
    ['2001:db8::/32', '64498', 'valid'],
  ] as const)('%s from %s is %s', (prefix, origin, state) => {
    expect(t.validate(prefix, origin)).toBe(state);
  });

  it('tells why a route is Invalid', () => {
    expect(t.validateCode('192.0.2.0/24', 64511)).toBe(ValidationCode.InvalidAs);
    expect(t.validateCode('192.0.2.0/25', 64496)).toBe(ValidationCode.InvalidLength);
    expect(t.validateCode('192.0.2.0/24', 64496)).toBe(ValidationCode.Valid);
    expect(t.validateCode('10.0.0.0/8', 64496)).toBe(ValidationCode.NotFound);
  });

  it('treats an AS 0 VRP as covering but never matching (RFC 6483 section 4, RFC 7607)', () => {
    const t0 = table(['203.0.113.0/24', 32, 0]);
    expect(t0.validate('203.0.113.0/24', 0)).toBe('invalid');
    expect(t0.validate('203.0.113.128/25', 64500)).toBe('invalid');
    expect(t0.validate('203.0.112.0/23', 64500)).toBe('not-found');
    t0.add({ prefix: '203.0.113.0/24', maxLength: 24, asn: 64500 });
    expect(t0.validate('203.0.113.0/24', 64500)).toBe('valid');
    expect(t0.validate('203.0.113.0/25', 64500)).toBe('invalid');
  });

  it('never validates origin AS 0 or an AS_SET origin ("none")', () => {
    const t0 = table(['203.0.113.0/24', 24, 0], ['198.51.100.0/24', 24, 64500]);
    expect(t0.validate('203.0.113.0/24', 'none')).toBe('invalid');
    expect(t0.validate('198.51.100.0/24', 'none')).toBe('invalid');
    expect(t0.validate('198.51.100.0/24', 0)).toBe('invalid');
    expect(t0.validate('192.0.2.0/24', 'none')).toBe('not-found');
    expect(t0.explain('198.51.100.0/24', 'none')).toMatchObject({
      origin: 'none',
      state: 'invalid',
      reason: 'as',
    });
  });

  it('handles /0, /32 and /128', () => {
    const t0 = table(
      ['0.0.0.0/0', 32, 64500],
      ['::/0', 128, 64501],
      ['192.0.2.1/32', 32, 64502],
      ['2001:db8::1/128', 128, 64503],
    );
    expect(t0.validate('0.0.0.0/0', 64500)).toBe('valid');
    expect(t0.validate('203.0.113.7/32', 64500)).toBe('valid');
    expect(t0.validate('203.0.113.7/32', 64999)).toBe('invalid');
    expect(t0.validate('192.0.2.1/32', 64502)).toBe('valid');
    expect(t0.validate('::/0', 64501)).toBe('valid');
    expect(t0.validate('2001:db8::1/128', 64503)).toBe('valid');
    expect(t0.validate('2001:db8::2/128', 64503)).toBe('invalid');
    expect(t0.validate('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 64501)).toBe('valid');
  });

  it('keeps IPv4-mapped IPv6 prefixes in IPv6', () => {
    const t0 = table(['::ffff:192.0.2.0/120', 128, 64500]);
    expect(t0.sizeV6).toBe(1);
    expect(t0.sizeV4).toBe(0);
    expect(t0.validate('::ffff:192.0.2.0/120', 64500)).toBe('valid');
    expect(t0.validate('192.0.2.0/24', 64500)).toBe('not-found');
  });

  it('keeps address families apart', () => {
    const t0 = table(['0.0.0.0/0', 32, 1]);
    expect(t0.validate('::/0', 1)).toBe('not-found');
  });

  it('validates columnar batches like the single calls', () => {
    const t0 = table(['192.0.2.0/24', 24, 64496], ['2001:db8::/32', 48, 64498]);
    const routes: [string, number][] = [
      ['192.0.2.0/24', 64496],
      ['192.0.2.0/25', 64496],
      ['192.0.2.0/24', 1],
      ['10.0.0.0/8', 1],
    ];
    const addrs = new Uint32Array(routes.length);
    const lengths = new Uint8Array(routes.length);
    const origins = new Uint32Array(routes.length);
    routes.forEach(([p, o], i) => {
      const parsed = parsePrefix(p);
      addrs[i] = parsed.words[0];
      lengths[i] = parsed.length;
      origins[i] = o;
    });
    const out = new Uint8Array(routes.length);
    t0.validateBatchV4(addrs, lengths, origins, out);
    expect([...out]).toEqual([1, 3, 2, 0]);
    const words = new Uint32Array([0x20010db8, 1, 0, 0, 0x20010db8, 0, 0, 0]);
    const out6 = new Uint8Array(2);
    t0.validateBatchV6(words, new Uint8Array([48, 64]), new Uint32Array([64498, 64498]), out6);
    expect([...out6]).toEqual([1, 3]);
    expect(() => t0.validateBatchV4(addrs, lengths, origins, new Uint8Array(2))).toThrow(RangeError);
  });
});

describe('explain and covering', () => {
  const t = table(
    ['192.0.2.0/24', 24, 64496],
    ['192.0.2.0/23', 23, 64497],
    ['192.0.0.0/16', 24, 64496],
    ['192.0.2.0/24', 24, 0],
    ['10.0.0.0/8', 8, 1],
  );

  it('sorts covering VRPs into matched, unmatched_as and unmatched_length', () => {
    const e = t.explain('192.0.2.0/24', 64496);
    expect(e.state).toBe('valid');
    expect(e.reason).toBeUndefined();
    expect(e.matched.map((v) => v.prefix).sort()).toEqual(['192.0.0.0/16', '192.0.2.0/24']);
    expect(e.unmatchedAs.map((v) => `${v.prefix} AS${v.asn}`).sort()).toEqual([
      '192.0.2.0/23 AS64497',
      '192.0.2.0/24 AS0',
    ]);
    expect(e.unmatchedLength).toEqual([]);
  });

  it('gives reason "length" when the AS matches but the route is too long', () => {
    const e = t.explain('192.0.2.128/25', 64496);
    expect(e).toMatchObject({ state: 'invalid', reason: 'length', matched: [] });
    expect(e.unmatchedLength.map((v) => v.prefix).sort()).toEqual(['192.0.0.0/16', '192.0.2.0/24']);
  });

  it('gives reason "as" when no covering VRP has the origin', () => {
    const e = t.explain('192.0.2.0/24', 65000);
    expect(e).toMatchObject({ state: 'invalid', reason: 'as', matched: [], unmatchedLength: [] });
    expect(e.unmatchedAs).toHaveLength(4);
  });

  it('lists covering VRPs shortest first, nothing for uncovered space', () => {
    expect(t.covering('192.0.2.0/25').map((v) => v.prefix)).toEqual([
      '192.0.0.0/16',
      '192.0.2.0/23',
      '192.0.2.0/24',
      '192.0.2.0/24',
    ]);
    expect(t.covering('172.16.0.0/12')).toEqual([]);
    expect(t.explain('172.16.0.0/12', 1)).toMatchObject({ state: 'not-found', matched: [], unmatchedAs: [] });
  });
});

describe('table maintenance', () => {
  it('moveFrom hands a whole table over to an empty one and leaves the source empty and usable', () => {
    const source = new VrpTable({ capacity: 2 });
    const vrps = [
      { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496, ta: 'ripe', expires: 1700000000 },
      { prefix: '10.0.0.0/8', maxLength: 16, asn: 64497 },
      { prefix: '2001:db8::/32', maxLength: 48, asn: 64498, ta: 'arin' },
    ];
    for (const v of vrps) source.add(v);
    source.add(vrps[0]!); // a second reference, which must move too
    const listed = [...source];
    const target = new VrpTable();
    // Lookups that build the IPv4 start index of both tables before the move.
    for (let i = 0; i < 20_000; i++) target.validateV4(0x0a000000, 24, 1);
    target.moveFrom(source);
    expect([...target]).toEqual(listed);
    expect(target.size).toBe(3);
    expect(target.validate('10.1.0.0/16', 64497)).toBe('valid');
    for (let i = 0; i < 20_000; i++)
      expect(target.validateV4(0x0a010000, 16, 64497)).toBe(ValidationCode.Valid);
    expect(target.remove(vrps[0]!)).toBe(true);
    expect(target.has(vrps[0]!)).toBe(true);
    expect(source.size).toBe(0);
    expect([...source]).toEqual([]);
    expect(source.validate('192.0.2.0/24', 64496)).toBe('not-found');
    source.add(vrps[1]!);
    expect([...source].map((v) => v.prefix)).toEqual(['10.0.0.0/8']);
    expect(target.has(vrps[1]!)).toBe(true);
    expect(() => target.moveFrom(source)).toThrow(RangeError);
  });

  it('reference-counts the same VRP added twice', () => {
    const t = new VrpTable();
    expect(t.add({ prefix: '192.0.2.0/24', maxLength: 24, asn: 64496, ta: 'ripe' })).toBe(true);
    expect(t.add({ prefix: '192.0.2.0/24', maxLength: 24, asn: 'AS64496', ta: 'arin' })).toBe(false);
    expect(t.size).toBe(1);
    expect(t.count({ prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 })).toBe(2);
    expect(t.remove({ prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 })).toBe(true);
    expect(t.validate('192.0.2.0/24', 64496)).toBe('valid');
    expect(t.remove({ prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 })).toBe(true);
    expect(t.validate('192.0.2.0/24', 64496)).toBe('not-found');
    expect(t.remove({ prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 })).toBe(false);
    expect(t.size).toBe(0);
    expect(t.v4.nodeCount).toBe(0);
  });

  it('keeps maxLength and AS apart in identity', () => {
    const t = table(['192.0.2.0/24', 24, 1], ['192.0.2.0/24', 25, 1], ['192.0.2.0/24', 24, 2]);
    expect(t.size).toBe(3);
    expect(t.has({ prefix: '192.0.2.0/24', maxLength: 25, asn: 1 })).toBe(true);
    expect(t.has({ prefix: '192.0.2.0/24', maxLength: 26, asn: 1 })).toBe(false);
  });

  it('iterates in prefix order with trust anchor and expiry', () => {
    const t = new VrpTable();
    t.add({ prefix: '2001:db8::/32', maxLength: 48, asn: 3 });
    t.add({ prefix: '10.0.0.0/16', maxLength: 16, asn: 2, ta: 'lacnic', expires: 1700000000 });
    t.add({ prefix: '10.0.0.0/8', maxLength: 24, asn: 1 });
    t.add({ prefix: '10.0.0.0/8', maxLength: 8, asn: 5 });
    expect([...t]).toEqual([
      { prefix: '10.0.0.0/8', maxLength: 8, asn: 5 },
      { prefix: '10.0.0.0/8', maxLength: 24, asn: 1 },
      { prefix: '10.0.0.0/16', maxLength: 16, asn: 2, ta: 'lacnic', expires: 1700000000 },
      { prefix: '2001:db8::/32', maxLength: 48, asn: 3 },
    ]);
    expect(t.sizeV4).toBe(3);
    expect(t.sizeV6).toBe(1);
  });

  it('applies deltas and computes them', () => {
    const before = table(['10.0.0.0/8', 8, 1], ['10.1.0.0/16', 24, 2], ['2001:db8::/32', 32, 3]);
    const after = table(['10.0.0.0/8', 8, 1], ['10.2.0.0/16', 16, 4], ['2001:db8::/32', 48, 3]);
    const { announced, withdrawn } = before.diff(after);
    expect([...announced].map((v) => v.prefix + '-' + v.maxLength)).toEqual([
      '10.2.0.0/16-16',
      '2001:db8::/32-48',
    ]);
    expect([...withdrawn].map((v) => v.prefix + '-' + v.maxLength)).toEqual([
      '10.1.0.0/16-24',
      '2001:db8::/32-32',
    ]);
    before.applyDelta(announced, withdrawn);
    expect([...before]).toEqual([...after]);
    expect(before.diff(after).announced.length + before.diff(after).withdrawn.length).toBe(0);
  });

  it('rejects bad VRPs with typed errors naming the value', () => {
    const t = new VrpTable();
    expect(() => t.add({ prefix: '192.0.2.0/24', maxLength: 23, asn: 1 })).toThrow(MaxLengthError);
    expect(() => t.add({ prefix: '192.0.2.0/24', maxLength: 33, asn: 1 })).toThrow(/maxLength 33/);
    expect(() => t.add({ prefix: '2001:db8::/32', maxLength: 129, asn: 1 })).toThrow(/exceeds 128/);
    expect(() => t.add({ prefix: '192.0.2.1/24', maxLength: 24, asn: 1 })).toThrow(PrefixError);
    expect(() => t.add({ prefix: '192.0.2.0/24', maxLength: 24, asn: 4294967296 })).toThrow(AsnError);
    expect(() => t.addV4(0xc0000201, 24, 24, 1)).toThrow(/host bits/);
    expect(() => t.addV4(0xc0000200, 33, 33, 1)).toThrow(PrefixError);
    expect(() => t.addV6(0x20010db8, 0, 0, 0, 32, 20, 1)).toThrow(MaxLengthError);
    expect(() => t.validate('192.0.2.1/24', 1)).toThrow(PrefixError);
    expect(() => t.validate('192.0.2.0/24', 'AS-1')).toThrow(AsnError);
    expect(t.size).toBe(0);
  });

  it('takes VrpList deltas of both families', () => {
    const t = new VrpTable();
    const add = new VrpList(1);
    add.pushV4(0x0a000000, 8, 24, 1);
    add.pushV6(0x20010db8, 0, 0, 0, 32, 48, 2);
    t.applyDelta(add, new VrpList());
    expect(t.validate('10.1.0.0/16', 1)).toBe('valid');
    expect(t.validate('2001:db8:1::/48', 2)).toBe('valid');
    t.applyDelta(new VrpList(), add);
    expect(t.size).toBe(0);
    expect(add.get(1)).toEqual({ prefix: '2001:db8::/32', maxLength: 48, asn: 2 });
  });
});
