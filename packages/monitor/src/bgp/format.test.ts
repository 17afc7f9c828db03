import { describe, expect, it } from 'vitest';
import { formatAddress, formatOrigin } from './format.js';
import { OriginKind } from './route.js';

describe('formatAddress / formatOrigin', () => {
  it('writes addresses of both families', () => {
    expect(formatAddress(4, 0xc0000201, 0, 0, 0)).toBe('192.0.2.1');
    expect(formatAddress(6, 0x20010db8, 0, 0, 1)).toBe('2001:db8::1');
  });

  it('writes NONE for an AS_SET origin and the holder AS for a local one', () => {
    expect(formatOrigin(64496, OriginKind.Asn, 1)).toBe('64496');
    expect(formatOrigin(0, OriginKind.Set, 1)).toBe('none');
    expect(formatOrigin(0, OriginKind.Local, 65001)).toBe('65001');
  });
});
