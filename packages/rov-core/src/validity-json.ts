// The JSON shape of Routinator's validity API (and `routinator validate --json`), so
// that tools written against it read rovkit's answers unchanged.
import type { Explanation } from './validity.js';
import type { Vrp } from './vrp.js';

export interface ValidityJsonVrp {
  asn: string;
  prefix: string;
  max_length: string;
}

export interface ValidityJson {
  route: { origin_asn: string; prefix: string };
  validity: {
    state: 'valid' | 'invalid' | 'not-found';
    reason?: 'as' | 'length';
    description: string;
    VRPs: {
      matched: ValidityJsonVrp[];
      unmatched_as: ValidityJsonVrp[];
      unmatched_length: ValidityJsonVrp[];
    };
  };
}

const descriptions = {
  valid: 'At least one VRP Matches the Route Prefix',
  as: 'At least one VRP Covers the Route Prefix, but no VRP ASN matches the route origin ASN',
  length:
    'At least one VRP Covers the Route Prefix, but the Route Prefix length is greater than the maximum length allowed by VRP(s) matching this route origin ASN',
  'not-found': 'No VRP Covers the Route Prefix',
} as const;

function vrpJson(vrp: Vrp): ValidityJsonVrp {
  return { asn: `AS${vrp.asn}`, prefix: vrp.prefix, max_length: String(vrp.maxLength) };
}

export function toValidityJson(e: Explanation): ValidityJson {
  const description = descriptions[e.state === 'invalid' ? (e.reason ?? 'as') : e.state];
  return {
    route: { origin_asn: e.origin === 'none' ? 'none' : `AS${e.origin}`, prefix: e.prefix },
    validity: {
      state: e.state,
      ...(e.reason === undefined ? {} : { reason: e.reason }),
      description,
      VRPs: {
        matched: e.matched.map(vrpJson),
        unmatched_as: e.unmatchedAs.map(vrpJson),
        unmatched_length: e.unmatchedLength.map(vrpJson),
      },
    },
  };
}
