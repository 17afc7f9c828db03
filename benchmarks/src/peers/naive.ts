// The floor: route origin validation by scanning every VRP for every route, straight from
// RFC 6811 section 2. Slow on purpose (a full table costs about 0.4 million comparisons
// per route), so the benchmark runs it on a sample; it also serves as the oracle that
// the peer harnesses are checked against.
import type { RouteSet, VrpSet } from '../datasets.js';
import { PeerState } from './errors.js';

/** Same numbering as @rovkit/core's ValidationCode. */
export const NaiveCode = { NotFound: 0, Valid: 1, InvalidAs: 2, InvalidLength: 3 } as const;
export type NaiveCode = (typeof NaiveCode)[keyof typeof NaiveCode];

/** Collapses the invalid reasons: what rtrlib and rpki-validator can be compared on. */
export function toPeerState(code: number): PeerState {
  return code >= NaiveCode.InvalidAs ? PeerState.Invalid : (code as PeerState);
}

const MASKS = new Uint32Array(33);
for (let n = 1; n <= 32; n++) MASKS[n] = (0xffffffff << (32 - n)) >>> 0;

function wordMask(length: number, w: number): number {
  const bits = length - w * 32;
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : MASKS[bits]!;
}

/**
 * RFC 6811: a VRP covers a route when its prefix contains the route's prefix; a covering
 * VRP matches when its AS equals the route's origin and the route is no longer than its
 * maxLength. Valid when some VRP matches, Invalid when some covers but none matches,
 * NotFound otherwise. AS 0 never matches: a VRP with AS 0 only covers (RFC 6483 section 4,
 * RFC 7607), and an origin of 0 or NONE (an AS_SET, RFC 6811 section 2) matches nothing.
 * The Invalid reason is "length" when a covering VRP has the route's (non-zero) origin but
 * too short a maxLength, else "as".
 */
export class NaiveRov {
  constructor(readonly vrps: VrpSet) {}

  validateV4(addr: number, length: number, origin: number, originIsSet = false): NaiveCode {
    const v = this.vrps.v4;
    const asn = originIsSet ? 0 : origin;
    let covered = false;
    let sameAs = false;
    for (let i = 0; i < v.count; i++) {
      const vrpLength = v.length[i]!;
      if (vrpLength > length || ((addr ^ v.addr[i]!) & MASKS[vrpLength]!) !== 0) continue;
      covered = true;
      if (asn !== 0 && v.asn[i] === asn) {
        if (length <= v.maxLength[i]!) return NaiveCode.Valid;
        sameAs = true;
      }
    }
    return !covered ? NaiveCode.NotFound : sameAs ? NaiveCode.InvalidLength : NaiveCode.InvalidAs;
  }

  /** `words` holds the route's four u32 words at `offset`, most significant first. */
  validateV6(
    words: ArrayLike<number>,
    offset: number,
    length: number,
    origin: number,
    originIsSet = false,
  ): NaiveCode {
    const v = this.vrps.v6;
    const asn = originIsSet ? 0 : origin;
    const w0 = words[offset]!;
    const w1 = words[offset + 1]!;
    const w2 = words[offset + 2]!;
    const w3 = words[offset + 3]!;
    let covered = false;
    let sameAs = false;
    for (let i = 0; i < v.count; i++) {
      const vrpLength = v.length[i]!;
      if (vrpLength > length) continue;
      const o = i * 4;
      if (
        ((w0 ^ v.words[o]!) & wordMask(vrpLength, 0)) !== 0 ||
        ((w1 ^ v.words[o + 1]!) & wordMask(vrpLength, 1)) !== 0 ||
        ((w2 ^ v.words[o + 2]!) & wordMask(vrpLength, 2)) !== 0 ||
        ((w3 ^ v.words[o + 3]!) & wordMask(vrpLength, 3)) !== 0
      ) {
        continue;
      }
      covered = true;
      if (asn !== 0 && v.asn[i] === asn) {
        if (length <= v.maxLength[i]!) return NaiveCode.Valid;
        sameAs = true;
      }
    }
    return !covered ? NaiveCode.NotFound : sameAs ? NaiveCode.InvalidLength : NaiveCode.InvalidAs;
  }

  /** Validates route i (RouteSet order: IPv4 first). */
  validateRoute(routes: RouteSet, i: number): NaiveCode {
    if (i < routes.v4.count) {
      const r = routes.v4;
      return this.validateV4(r.addr[i]!, r.length[i]!, r.origin[i]!, r.originIsSet[i] === 1);
    }
    const j = i - routes.v4.count;
    const r = routes.v6;
    return this.validateV6(r.words, j * 4, r.length[j]!, r.origin[j]!, r.originIsSet[j] === 1);
  }

  /** Writes the NaiveCode of routes[from..to) into out[from..to). */
  validateRoutes(routes: RouteSet, out: Uint8Array, from = 0, to = routes.count): void {
    for (let i = from; i < to; i++) out[i] = this.validateRoute(routes, i);
  }
}
