import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RovError } from './errors.js';
import { formatPrefix, parsePrefix, parsePrefixBytes, parsePrefixInto } from './prefix.js';

// What parsePrefixInto (string fast paths, then the byte parser) makes of `text`, and
// what the byte parser alone makes of it: the same words and code, or errors alike.
function bothWays(text: string): [unknown, unknown] {
  const run = (parse: (out: Uint32Array) => number): unknown => {
    const out = new Uint32Array(4);
    try {
      return [parse(out), ...out];
    } catch (error) {
      return error instanceof RovError ? `error ${error.code}` : error;
    }
  };
  const bytes = Buffer.from(text, 'latin1');
  return [
    run((out) => parsePrefixInto(text, out)),
    run((out) => parsePrefixBytes(bytes, 0, bytes.length, out)),
  ];
}

// Prefix-like texts: well formed in every spelling (compressed or not, upper case,
// leading zeros, embedded IPv4), and mangled by one character.
const group = fc.integer({ min: 0, max: 0xffff });
const spelledV6 = fc
  .tuple(
    fc.array(fc.oneof(group, fc.constant(0)), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 130 }),
    fc.integer({ min: -1, max: 7 }),
    fc.integer({ min: 1, max: 8 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([groups, length, gapAt, gapLength, upper, padded]) => {
    const text = groups.map((g) => {
      const hex = g.toString(16);
      return (padded ? hex.padStart(4, '0') : hex)[upper ? 'toUpperCase' : 'toLowerCase']();
    });
    const address =
      gapAt < 0
        ? text.join(':')
        : `${text.slice(0, gapAt).join(':')}::${text.slice(Math.min(8, gapAt + gapLength)).join(':')}`;
    return `${address}/${length}`;
  });
const prefixLike = fc.oneof(
  spelledV6,
  fc
    .tuple(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 3, maxLength: 5 }), fc.nat(40))
    .map(([octets, length]) => `${octets.join('.')}/${length}`),
  fc
    .tuple(fc.array(group, { minLength: 2, maxLength: 2 }), fc.nat(130))
    .map(([[a, b], length]) => `::ffff:${a! >> 8}.${a! & 255}.${b! >> 8}.${b! & 255}/${length}`),
);
const mangled = fc
  .tuple(prefixLike, fc.nat(), fc.constantFrom(':', '.', '/', '0', 'g', '', ' ', '::'))
  .map(([text, at, c]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + c + text.slice(i + 1);
  });

describe('parsePrefix', () => {
  it.each([
    ['192.0.2.0/24', 4, [0xc0000200, 0, 0, 0], 24],
    ['0.0.0.0/0', 4, [0, 0, 0, 0], 0],
    ['255.255.255.255/32', 4, [0xffffffff, 0, 0, 0], 32],
    ['10.0.0.0/8', 4, [0x0a000000, 0, 0, 0], 8],
    ['2001:db8::/32', 6, [0x20010db8, 0, 0, 0], 32],
    ['::/0', 6, [0, 0, 0, 0], 0],
    ['::1/128', 6, [0, 0, 0, 1], 128],
    ['2001:DB8:0:0:0:0:0:1/128', 6, [0x20010db8, 0, 0, 1], 128],
    ['2001:db8:1:2:3:4:5:6/128', 6, [0x20010db8, 0x00010002, 0x00030004, 0x00050006], 128],
    ['::ffff:192.0.2.0/120', 6, [0, 0, 0xffff, 0xc0000200], 120],
    ['2001:db8::8000/113', 6, [0x20010db8, 0, 0, 0x8000], 113],
    ['fe80::/10', 6, [0xfe800000, 0, 0, 0], 10],
  ] as const)('%s', (text, family, words, length) => {
    expect(parsePrefix(text)).toEqual({ family, words, length });
  });

  it.each([
    ['192.0.2.1/24', 'host bits'],
    ['192.0.2.0/33', 'exceeds 32'],
    ['2001:db8::/129', 'exceeds 128'],
    ['2001:db8::1/64', 'host bits'],
    ['192.0.2.0', 'address/length'],
    ['192.0.2/24', 'IPv4'],
    ['192.0.2.0.0/24', 'IPv4'],
    ['256.0.0.0/8', 'IPv4'],
    ['010.0.0.0/8', 'IPv4'],
    ['10.0.0.0/08', 'length'],
    ['10.0.0.0/', 'length'],
    ['10.0.0.0/-1', 'length'],
    ['1::2::3/128', 'IPv6'],
    ['1:2:3:4:5:6:7:8:9/128', 'IPv6'],
    ['12345::/16', 'IPv6'],
    ['2001:db8:/32', 'IPv6'],
    [':2001:db8::/32', 'IPv6'],
    ['::ffff:1.2.3/120', 'IPv4'],
    ['g::/16', 'IPv6'],
    [' 10.0.0.0/8', 'IPv4'],
    ['', 'address/length'],
  ])('rejects %s (%s)', (text, reason) => {
    let error: unknown;
    try {
      parsePrefix(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RovError);
    expect((error as RovError).code).toBe('ROV_ERR_PREFIX');
    expect((error as RovError).message).toContain(reason);
    expect((error as RovError).message).toContain(JSON.stringify(text));
  });

  it('reads prefixes from bytes in place', () => {
    const bytes = Buffer.from('xx"2001:db8::/48"yy');
    const out = new Uint32Array(4);
    expect(parsePrefixBytes(bytes, 3, 16, out)).toBe(256 + 48);
    expect([...out]).toEqual([0x20010db8, 0, 0, 0]);
  });
});

describe('parsePrefixInto fast paths', () => {
  it('agree with the byte parser on well-formed and mangled texts', () => {
    fc.assert(
      fc.property(fc.oneof(prefixLike, mangled), (text) => {
        const [fast, bytes] = bothWays(text);
        expect(fast, text).toEqual(bytes);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('formatPrefix', () => {
  it.each([
    [4, [0xc0000200, 0, 0, 0], 24, '192.0.2.0/24'],
    [6, [0x20010db8, 0, 0, 0], 32, '2001:db8::/32'],
    [6, [0, 0, 0, 0], 0, '::/0'],
    [6, [0, 0, 0, 1], 128, '::1/128'],
    [6, [0x20010db8, 0, 1, 0], 128, '2001:db8::1:0:0/128'],
    [6, [0x20010db8, 0x00010000, 0, 1], 128, '2001:db8:1::1/128'],
    [6, [0x20010000, 0x00010000, 0, 0], 64, '2001:0:1::/64'],
    [6, [0, 0, 0xffff, 0xc0000200], 120, '::ffff:192.0.2.0/120'],
    [6, [0x20010db8, 0x00010001, 0x00010001, 0x00010001], 128, '2001:db8:1:1:1:1:1:1/128'],
  ] as const)('%s words %j /%s', (family, w, length, text) => {
    expect(formatPrefix(family, w[0], w[1], w[2], w[3], length)).toBe(text);
    expect(parsePrefix(text).words).toEqual(w);
  });
});
