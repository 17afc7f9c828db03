import { describe, expect, it } from 'vitest';
import { parseAsn, parseOrigin } from './asn.js';
import { AsnError } from './errors.js';

describe('parseAsn', () => {
  it.each([
    [64496, 64496],
    ['64496', 64496],
    ['AS64496', 64496],
    ['as64496', 64496],
    [0, 0],
    ['AS0', 0],
    [4294967295, 4294967295],
    ['AS4294967295', 4294967295],
  ])('%j', (input, asn) => expect(parseAsn(input)).toBe(asn));

  it.each([4294967296, -1, 1.5, Number.NaN, 'AS', '', 'AS4294967296', 'AS-1', '0x10', 'AS 1', '012', 'ASN1'])(
    'rejects %j naming it',
    (input) => {
      expect(() => parseAsn(input)).toThrow(AsnError);
      expect(() => parseAsn(input)).toThrow(typeof input === 'string' ? `"${input}"` : String(input));
    },
  );

  it('maps an AS_SET origin ("none") to 0, which never validates', () => {
    expect(parseOrigin('none')).toBe(0);
    expect(parseOrigin('AS65000')).toBe(65000);
  });
});
