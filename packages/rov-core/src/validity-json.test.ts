import { describe, expect, it } from 'vitest';
import { toValidityJson } from './validity-json.js';
import { VrpTable } from './vrp-table.js';

describe('Routinator validity JSON', () => {
  const t = new VrpTable();
  t.add({ prefix: '93.175.144.0/21', maxLength: 24, asn: 196615 });
  t.add({ prefix: '93.175.147.0/24', maxLength: 24, asn: 12654 });

  it('describes an Invalid route with its reason and VRP groups', () => {
    expect(toValidityJson(t.explain('93.175.146.0/24', 12654))).toEqual({
      route: { origin_asn: 'AS12654', prefix: '93.175.146.0/24' },
      validity: {
        state: 'invalid',
        reason: 'as',
        description: 'At least one VRP Covers the Route Prefix, but no VRP ASN matches the route origin ASN',
        VRPs: {
          matched: [],
          unmatched_as: [{ asn: 'AS196615', prefix: '93.175.144.0/21', max_length: '24' }],
          unmatched_length: [],
        },
      },
    });
  });

  it('describes Valid, length-Invalid and NotFound', () => {
    const valid = toValidityJson(t.explain('93.175.147.0/24', 'AS12654'));
    expect(valid.validity.state).toBe('valid');
    expect(valid.validity.reason).toBeUndefined();
    expect(valid.validity.VRPs.matched).toEqual([
      { asn: 'AS12654', prefix: '93.175.147.0/24', max_length: '24' },
    ]);
    const tooLong = toValidityJson(t.explain('93.175.147.0/25', 12654));
    expect(tooLong.validity).toMatchObject({ state: 'invalid', reason: 'length' });
    expect(tooLong.validity.description).toContain('maximum length');
    expect(toValidityJson(t.explain('192.0.2.0/24', 'none')).route.origin_asn).toBe('none');
    expect(toValidityJson(t.explain('192.0.2.0/24', 1)).validity.description).toBe(
      'No VRP Covers the Route Prefix',
    );
  });
});
