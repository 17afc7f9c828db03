import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6, formatOrigin, formatPrefix } from './format.js';
import { OriginKind } from './route.js';

// The WHATWG URL parser serialises IPv6 hosts in RFC 5952 form: an independent oracle.
function canonical(groups: number[]): string {
  const full = groups.map((g) => g.toString(16)).join(':');
  return new URL(`http://[${full}]/`).hostname.slice(1, -1);
}

describe('formatIPv6', () => {
  it('matches the RFC 5952 text of the URL parser', () => {
    // Few distinct group values so that zero runs of every length and position occur.
    const group = fc.oneof(
      fc.constant(0),
      fc.constant(0),
      fc.constant(1),
      fc.integer({ min: 0, max: 0xffff }),
    );
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (g) => {
        const words = [0, 2, 4, 6].map((i) => ((g[i] << 16) | g[i + 1]) >>> 0);
        expect(formatIPv6(words[0], words[1], words[2], words[3])).toBe(canonical(g));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the edge cases', () => {
    expect(formatIPv6(0, 0, 0, 0)).toBe('::');
    expect(formatIPv6(0, 0, 0, 1)).toBe('::1');
    expect(formatIPv6(0x20010db8, 0, 1, 0)).toBe('2001:db8::1:0:0');
    expect(formatIPv6(0x20010db8, 0x10000, 0, 1)).toBe('2001:db8:1::1');
    expect(formatIPv6(0x20010000, 0x10000, 0, 1)).toBe('2001:0:1::1');
  });
});

describe('formatIPv4 / formatPrefix / formatOrigin', () => {
  it('writes dotted quads and prefixes', () => {
    expect(formatIPv4(0)).toBe('0.0.0.0');
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatPrefix(4, 0xc0000200, 0, 0, 0, 24)).toBe('192.0.2.0/24');
    expect(formatPrefix(6, 0x20010db8, 0, 0, 0, 32)).toBe('2001:db8::/32');
  });

  it('writes NONE for an AS_SET origin and the holder AS for a local one', () => {
    expect(formatOrigin(64496, OriginKind.Asn, 1)).toBe('64496');
    expect(formatOrigin(0, OriginKind.Set, 1)).toBe('none');
    expect(formatOrigin(0, OriginKind.Local, 65001)).toBe('65001');
  });
});
