// The benchmark peers (naive scan, rtrlib's pfx_table through the C harness, rpki-validator)
// on hand-made VRPs and routes whose RFC 6811 answers are worked out by hand below. Where a
// peer departs from the RFC, the test pins the departure, so a change in the peer shows up.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  formatRoute,
  routeOrigin,
  routeSetFromList,
  vrpSetFromList,
  type RouteRecord,
  type VrpRecord,
} from '../benchmarks/src/datasets.js';
import { PeerError, PeerState } from '../benchmarks/src/peers/errors.js';
import { NaiveCode, NaiveRov, toPeerState } from '../benchmarks/src/peers/naive.js';
import { createRpkiValidator, type RpkiValidatorPeer } from '../benchmarks/src/peers/rpki-validator.js';
import { runRtrlib } from '../benchmarks/src/peers/rtrlib.js';
import { missing, npmPackage, peerCommand, type Requirement } from './support/peers.js';

const librtrDev: Requirement = {
  name: 'librtr-dev',
  install: 'apt-get install librtr-dev',
  available: existsSync('/usr/include/rtrlib/pfx/pfx.h'),
};

const VRPS: VrpRecord[] = [
  { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 },
  { prefix: '192.0.2.0/24', maxLength: 25, asn: 64501 },
  { prefix: '198.51.100.0/22', maxLength: 24, asn: 64497 },
  { prefix: '203.0.113.0/24', maxLength: 24, asn: 0 },
  { prefix: '100.64.0.0/10', maxLength: 32, asn: 64505 },
  { prefix: '2001:db8::/32', maxLength: 48, asn: 64498 },
  { prefix: '2001:db8:ffff:ffff::1/128', maxLength: 128, asn: 64500 },
  { prefix: '2001:db8:aaaa::/48', maxLength: 64, asn: 0 },
];

const { Valid, InvalidAs, InvalidLength, NotFound } = NaiveCode;

/** Route, origin, RFC 6811 answer (with the reason), and why. */
const CASES: [RouteRecord, number, string][] = [
  [{ prefix: '192.0.2.0/24', origin: 64496 }, Valid, 'exact match'],
  [{ prefix: '192.0.2.0/24', origin: 64511 }, InvalidAs, 'covered, other AS'],
  [{ prefix: '192.0.2.128/25', origin: 64496 }, InvalidLength, 'longer than maxLength 24'],
  [{ prefix: '192.0.2.128/25', origin: 64501 }, Valid, 'second VRP on the prefix allows /25'],
  [{ prefix: '192.0.2.0/26', origin: 64501 }, InvalidLength, 'longer than maxLength 25'],
  [{ prefix: '198.51.101.0/24', origin: 64497 }, Valid, 'inside the /22, within maxLength'],
  [{ prefix: '198.51.100.0/25', origin: 64497 }, InvalidLength, 'inside the /22, too long'],
  [{ prefix: '198.51.96.0/20', origin: 64497 }, NotFound, 'less specific than every VRP'],
  [{ prefix: '10.0.0.0/8', origin: 64496 }, NotFound, 'no VRP covers it'],
  [{ prefix: '100.127.255.255/32', origin: 64505 }, Valid, '/32 at the end of a /10, maxLength 32'],
  [{ prefix: '203.0.113.0/24', origin: 64496 }, InvalidAs, 'covered only by an AS0 VRP'],
  [{ prefix: '203.0.113.0/24', origin: 0 }, InvalidAs, 'origin 0 under an AS0 VRP (RFC 6483 s4, RFC 7607)'],
  [{ prefix: '192.0.2.0/24', origin: 0 }, InvalidAs, 'origin 0 never matches'],
  [{ prefix: '192.0.2.0/24', origin: 'none' }, InvalidAs, 'AS_SET origin is NONE (RFC 6811 s2)'],
  [{ prefix: '10.0.0.0/8', origin: 'none' }, NotFound, 'AS_SET, not covered'],
  [{ prefix: '2001:db8:1::/48', origin: 64498 }, Valid, 'IPv6 within maxLength'],
  [{ prefix: '2001:db8:1::/64', origin: 64498 }, InvalidLength, 'IPv6 too long'],
  [{ prefix: '2001:db8::/32', origin: 64499 }, InvalidAs, 'IPv6 other AS'],
  [{ prefix: '2001:db9::/32', origin: 64498 }, NotFound, 'IPv6 outside'],
  [{ prefix: '2001:db8::/31', origin: 64498 }, NotFound, 'IPv6 less specific'],
  [{ prefix: '2001:db8:ffff:ffff::1/128', origin: 64500 }, Valid, 'IPv6 /128 exact'],
  [
    { prefix: '2001:db8:ffff:ffff::2/128', origin: 64500 },
    InvalidAs,
    'IPv6 /128 next door: only the /32 covers',
  ],
  [{ prefix: '2001:db8:aaaa::/48', origin: 0 }, InvalidAs, 'IPv6 origin 0 under an AS0 VRP'],
  [{ prefix: '::/0', origin: 64498 }, NotFound, 'default route, no /0 VRP'],
];

const routes = routeSetFromList(CASES.map(([route]) => route));
const vrps = vrpSetFromList(VRPS);

/** Expected PeerState per route in RouteSet order (routeSetFromList puts IPv4 first). */
function expectedStates(): PeerState[] {
  const byText = new Map(CASES.map(([r, code]) => [`${r.prefix} ${String(r.origin)}`, toPeerState(code)]));
  return Array.from({ length: routes.count }, (_, i) => {
    const key = `${formatRoute(routes, i)} ${String(routeOrigin(routes, i))}`;
    const state = byText.get(key);
    if (state === undefined) throw new Error(`no case for ${key}`);
    return state;
  });
}

describe('naive linear scan', () => {
  const naive = new NaiveRov(vrps);
  it.each(CASES)('%o → %i (%s)', (route, code) => {
    const one = routeSetFromList([route]);
    expect(naive.validateRoute(one, 0)).toBe(code);
  });

  it('validateRoutes fills the whole range', () => {
    const out = new Uint8Array(routes.count).fill(255);
    naive.validateRoutes(routes, out);
    expect(Array.from(out, toPeerState)).toEqual(expectedStates());
  });

  it('/0 VRP covers everything of its family', () => {
    const all = new NaiveRov(vrpSetFromList([{ prefix: '::/0', maxLength: 128, asn: 64502 }]));
    const cases = routeSetFromList([
      { prefix: '2001:db8::/32', origin: 64502 },
      { prefix: '2001:db8::/32', origin: 64503 },
      { prefix: '192.0.2.0/24', origin: 64502 },
    ]);
    expect([0, 1, 2].map((i) => all.validateRoute(cases, i))).toEqual([NotFound, Valid, InvalidAs]);
  });
});

describe.skipIf(missing(peerCommand('cc'), librtrDev) !== undefined)('rtrlib pfx_table (C harness)', () => {
  it('gives the RFC 6811 state for every hand-made case, AS0 included', () => {
    const run = runRtrlib(vrps, routes, { repetitions: 1 });
    expect(run.vrps).toMatchObject({ added: VRPS.length, duplicates: 0, errors: 0 });
    expect(Array.from(run.results)).toEqual(expectedStates());
  });

  it('reports an exact duplicate VRP as a duplicate and keeps answering', () => {
    const doubled = vrpSetFromList([...VRPS, VRPS[0]!]);
    const run = runRtrlib(doubled, routes, { repetitions: 1 });
    expect(run.vrps).toMatchObject({ added: VRPS.length, duplicates: 1, errors: 0 });
    expect(Array.from(run.results)).toEqual(expectedStates());
  });

  // rtrlib 0.8 departs here: validating any route of a family whose table holds a /0 VRP
  // aborts the process (assert `number > 0` in lrtr_get_bits, reached from trie_lookup).
  it('aborts on a route under a /0 VRP (pinned rtrlib 0.8 defect)', () => {
    const zero = vrpSetFromList([{ prefix: '0.0.0.0/0', maxLength: 32, asn: 64502 }]);
    const one = routeSetFromList([{ prefix: '192.0.2.0/24', origin: 64502 }]);
    let caught: unknown;
    try {
      runRtrlib(zero, one, { repetitions: 1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PeerError);
    expect((caught as PeerError).code).toBe('BENCH_ERR_PEER_RUN');
    expect((caught as PeerError).message).toContain('lrtr_get_bits');
  });

  it('handles a /0 route, and a /0 VRP of the other family', () => {
    const cases = routeSetFromList([
      { prefix: '0.0.0.0/0', origin: 64496 },
      { prefix: '192.0.2.0/24', origin: 64496 },
    ]);
    const table = vrpSetFromList([
      { prefix: '192.0.0.0/8', maxLength: 32, asn: 64496 },
      { prefix: '::/0', maxLength: 128, asn: 64496 },
    ]);
    const run = runRtrlib(table, cases, { repetitions: 1 });
    expect(Array.from(run.results)).toEqual([PeerState.NotFound, PeerState.Valid]);
  });
});

describe.skipIf(missing(npmPackage('rpki-validator')) !== undefined)('rpki-validator@2.14.7', () => {
  let peer: RpkiValidatorPeer;
  beforeAll(async () => {
    peer = await createRpkiValidator(VRPS);
  });
  afterAll(() => peer?.dispose());

  // The one RFC departure among these cases: it compares roa.asn === origin with no special
  // case for AS 0, so origin 0 under an AS0 VRP is Valid.
  const quirks = new Map<string, PeerState>([
    ['203.0.113.0/24 0', PeerState.Valid],
    ['2001:db8:aaaa::/48 0', PeerState.Valid],
  ]);

  it.each(CASES)('%o → RFC %i (%s), AS0 quirk pinned', (route, code) => {
    const key = `${route.prefix} ${String(route.origin)}`;
    expect(peer.state(route.prefix, route.origin)).toBe(quirks.get(key) ?? toPeerState(code));
  });

  it('answers the same through the Promise API', async () => {
    for (const [route] of CASES) {
      expect(await peer.stateAsync(route.prefix, route.origin)).toBe(peer.state(route.prefix, route.origin));
    }
  });

  it('tells an AS from a length Invalid in verbose mode', () => {
    expect(peer.explain('192.0.2.0/24', 64511).reason).toBe('Not valid origin');
    expect(peer.explain('192.0.2.128/25', 64496).reason).toBe('Not valid prefix length');
  });

  it('ignores /0 VRPs: the trie lookup never reads the root', async () => {
    const zero = await createRpkiValidator([{ prefix: '::/0', maxLength: 128, asn: 64502 }]);
    try {
      expect(zero.size).toBe(1);
      expect(zero.state('2001:db8::/32', 64502)).toBe(PeerState.NotFound); // RFC: Valid
      expect(zero.state('2001:db8::/32', 64503)).toBe(PeerState.NotFound); // RFC: Invalid
    } finally {
      zero.dispose();
    }
  });

  it('drops a VRP with maxLength 0 and masks host bits silently', async () => {
    const odd = await createRpkiValidator([
      { prefix: '0.0.0.0/0', maxLength: 0, asn: 64502 },
      { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 },
    ]);
    try {
      expect(odd.size).toBe(1);
      expect(odd.state('192.0.2.1/24', 64496)).toBe(PeerState.Valid);
    } finally {
      odd.dispose();
    }
  });
});
