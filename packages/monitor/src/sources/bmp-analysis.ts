// What the routers' RIBs say beyond the route set: "is ROV enforced?" and the route
// states per peer and RIB. One walk of every table the BMP routers sent, validating each
// route against the VRPs held now; run off the scrape path, debounced like the address
// space.
//
// ROV enforcement, per router and peer: every Invalid route of the peer's pre-policy
// Adj-RIB-In (counted once per prefix and origin, whatever the path ids) is
//   accepted  when the same prefix and origin reached the peer's post-policy Adj-RIB-In,
//             or, for a router that sends no post-policy view, its Loc-RIB;
//   rejected  when it did not;
//   unknown   when the router sends neither view (nothing to compare with).
// Loc-RIB holds best paths only: an Invalid route accepted but not chosen as best does not
// show there, so with Loc-RIB alone "rejected" means "not used", not "dropped by policy".
import type { VrpTable } from '@rovkit/core';
import { OriginKind } from '../bgp/route.js';
import {
  PolicyStage,
  POLICY_STAGES,
  unpackKind,
  unpackOrigin,
  type BmpPeer,
  type BmpRouter,
  type RouteVisitor,
} from '../feeds/bmp/index.js';
import { formatPrefix } from '../bgp/format.js';
import { STATE_OF_CODE } from '../engine/engine.js';

/** Which view tells whether a router kept an Invalid route. */
export type RovEvidence = 'post-policy' | 'loc-rib' | 'none';

export interface PeerAnalysis {
  readonly peer: BmpPeer;
  /** "address" (and " rd DISTINGUISHER" for an RD peer), or "loc-rib". */
  readonly label: string;
  /** Routes per (stage, state): index stage * 3 + StateIndex (valid, invalid, not_found). */
  readonly states: Float64Array;
  /** Invalid routes in the pre-policy Adj-RIB-In (distinct prefix and origin). */
  invalidSeen: number;
  accepted: number;
  rejected: number;
}

export interface RouterAnalysis {
  readonly router: BmpRouter;
  /** The `router` label: the sysName from the Initiation, else the address; made unique. */
  readonly label: string;
  readonly evidence: RovEvidence;
  readonly peers: PeerAnalysis[];
  accepted: number;
  rejected: number;
  unknown: number;
}

export interface InvalidSeen {
  readonly router: string;
  readonly peer: string;
  readonly peerAs: number;
  readonly prefix: string;
  /** The origin AS, or "none" for an AS_SET origin. */
  readonly origin: number | 'none';
  /** ValidationCode: 2 Invalid (AS), 3 Invalid (length). */
  readonly code: number;
  readonly status: 'accepted' | 'rejected' | 'unknown';
}

export interface BmpAnalysis {
  /** ms since the epoch. */
  readonly computedAt: number;
  readonly routers: readonly RouterAnalysis[];
  /** The Invalid pre-policy routes, at most `maxInvalid` (accepted ones first). */
  readonly invalid: readonly InvalidSeen[];
  /** All Invalid pre-policy routes (per peer), also those beyond `maxInvalid`. */
  readonly invalidTotal: number;
}

export const EMPTY_BMP_ANALYSIS: BmpAnalysis = { computedAt: 0, routers: [], invalid: [], invalidTotal: 0 };

/** Labels for the connected routers: sysName (or address), with the session id where two collide. */
export function routerLabels(routers: Iterable<BmpRouter>): Map<BmpRouter, string> {
  const list = [...routers];
  const base = (r: BmpRouter): string => r.sysName ?? r.address;
  const seen = new Map<string, number>();
  for (const r of list) seen.set(base(r), (seen.get(base(r)) ?? 0) + 1);
  return new Map(list.map((r) => [r, seen.get(base(r))! > 1 ? `${base(r)} ${r.id}` : base(r)]));
}

export function peerLabel(peer: BmpPeer): string {
  const rd = /^0+$/.test(peer.distinguisher) ? '' : ` rd ${peer.distinguisher}`;
  return peer.type === 'loc-rib' ? `loc-rib${rd}` : `${peer.address}${rd}`;
}

export function analyseBmp(
  routers: Iterable<BmpRouter>,
  table: VrpTable,
  now: number,
  maxInvalid = 10_000,
): BmpAnalysis {
  const labels = routerLabels(routers);
  const out: RouterAnalysis[] = [];
  const invalid: InvalidSeen[] = [];
  let invalidTotal = 0;
  for (const [router, label] of labels) {
    const byStage = router.counters.routeMonitoringByStage;
    const evidence: RovEvidence =
      byStage[PolicyStage.PostPolicy]! > 0
        ? 'post-policy'
        : byStage[PolicyStage.LocRib]! > 0
          ? 'loc-rib'
          : 'none';
    const analysis: RouterAnalysis = {
      router,
      label,
      evidence,
      peers: [],
      accepted: 0,
      rejected: 0,
      unknown: 0,
    };
    out.push(analysis);
    // Invalid routes the router kept in its Loc-RIB (for routers without post-policy).
    const locRib = new Set<string>();
    const peerResults: Array<{ p: PeerAnalysis; pre: Map<string, number>; post: Set<string> }> = [];
    for (const peer of router.peers.values()) {
      const p: PeerAnalysis = {
        peer,
        label: peerLabel(peer),
        states: new Float64Array(POLICY_STAGES.length * 3),
        invalidSeen: 0,
        accepted: 0,
        rejected: 0,
      };
      analysis.peers.push(p);
      const pre = new Map<string, number>();
      const post = new Set<string>();
      for (const stage of POLICY_STAGES) {
        let keep: ((key: string, code: number) => void) | undefined;
        if (stage === PolicyStage.PrePolicy) keep = (key, code) => pre.set(key, code);
        else if (stage === PolicyStage.PostPolicy) keep = (key) => post.add(key);
        else if (stage === PolicyStage.LocRib) keep = (key) => locRib.add(key);
        peer.forEachRoute(stage, validator(table, peer, p.states, stage * 3, keep));
      }
      peerResults.push({ p, pre, post });
    }
    for (const { p, pre, post } of peerResults) {
      p.invalidSeen = pre.size;
      for (const [key, code] of pre) {
        const status =
          evidence === 'none'
            ? 'unknown'
            : (evidence === 'post-policy' ? post : locRib).has(key)
              ? 'accepted'
              : 'rejected';
        if (status === 'accepted') p.accepted++;
        else if (status === 'rejected') p.rejected++;
        else analysis.unknown++;
        invalidTotal++;
        if (invalid.length < maxInvalid || status === 'accepted')
          invalid.push(invalidSeen(label, p, key, code, status));
      }
      analysis.accepted += p.accepted;
      analysis.rejected += p.rejected;
    }
  }
  // Accepted first: they are what an operator acts on; a cap drops rejected ones first.
  const rank = { accepted: 0, unknown: 1, rejected: 2 };
  invalid.sort((a, b) => rank[a.status] - rank[b.status]);
  return { computedAt: now, routers: out, invalid: invalid.slice(0, maxInvalid), invalidTotal };
}

// Validates each route with numbers only; strings are made for Invalid routes alone.
function validator(
  table: VrpTable,
  peer: BmpPeer,
  states: Float64Array,
  base: number,
  keep: ((key: string, code: number) => void) | undefined,
): RouteVisitor {
  return (family, w0, w1, w2, w3, length, _pathId, value) => {
    const kind = unpackKind(value);
    const origin = kind === OriginKind.Set ? 0 : kind === OriginKind.Local ? peer.asn : unpackOrigin(value);
    const code =
      family === 4 ? table.validateV4(w0, length, origin) : table.validateV6(w0, w1, w2, w3, length, origin);
    const state = STATE_OF_CODE[code]!;
    states[base + state]!++;
    if (state === 1 && keep !== undefined)
      keep(
        `${formatPrefix(family, w0, w1, w2, w3, length)} ${kind === OriginKind.Set ? 'none' : origin}`,
        code,
      );
  };
}

function invalidSeen(
  router: string,
  p: PeerAnalysis,
  key: string,
  code: number,
  status: InvalidSeen['status'],
): InvalidSeen {
  const space = key.indexOf(' ');
  const origin = key.slice(space + 1);
  return {
    router,
    peer: p.label,
    peerAs: p.peer.asn,
    prefix: key.slice(0, space),
    origin: origin === 'none' ? 'none' : Number(origin),
    code,
    status,
  };
}
