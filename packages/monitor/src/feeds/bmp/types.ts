// The public shapes of the BMP listener: routers, peers, policy stages, the route sink and
// the events. Routers and peers are live objects owned by the listener: read them, do not
// change them.
import type { OpenMessage } from '../../bgp/open.js';
import type { Family, OriginKind } from '../../bgp/route.js';
import type { BmpError } from './errors.js';
import type { PeerDown, Termination } from './messages.js';
import type { RouteVisitor } from './rib.js';
import type { UpdateTreatment } from './session.js';

/**
 * Which RIB of the monitored router a route is in. Pre-/post-policy Adj-RIB-In come from
 * the L flag (RFC 7854), the Adj-RIB-Out pair from the O flag (RFC 8671), Loc-RIB from
 * the Loc-RIB peer type (RFC 9069).
 */
export const PolicyStage = {
  PrePolicy: 0,
  PostPolicy: 1,
  AdjRibOutPrePolicy: 2,
  AdjRibOutPostPolicy: 3,
  LocRib: 4,
} as const;
export type PolicyStage = (typeof PolicyStage)[keyof typeof PolicyStage];
export const POLICY_STAGES: readonly PolicyStage[] = [0, 1, 2, 3, 4];
export const policyStageNames = [
  'pre-policy',
  'post-policy',
  'adj-rib-out-pre-policy',
  'adj-rib-out-post-policy',
  'loc-rib',
] as const;
export type PolicyStageName = (typeof policyStageNames)[number];

export type BmpPeerTypeName = 'global' | 'rd' | 'local' | 'loc-rib' | 'unknown';

/** A route as stored, for the API and tests (allocated on request). */
export interface BmpRoute {
  family: Family;
  /** Address words (see bgp/route.ts); IPv4 in words[0]. */
  words: [number, number, number, number];
  length: number;
  prefix: string;
  pathId: number;
  origin: number;
  originKind: OriginKind;
}

export interface BmpPeer {
  readonly router: BmpRouter;
  /** Unique within the router: peer type, distinguisher and address. */
  readonly key: string;
  readonly type: BmpPeerTypeName;
  /** Peer distinguisher as 16 hex digits (the VRF/table for Loc-RIB). */
  readonly distinguisher: string;
  readonly family: Family;
  /** Peer address; "0.0.0.0" for a Loc-RIB instance. */
  readonly address: string;
  readonly asn: number;
  readonly bgpId: string;
  /** A Peer Up was received and no Peer Down since. Peers seen only in Route Monitoring are not up. */
  readonly up: boolean;
  readonly upSince: Date | undefined;
  /** The OPENs of the Peer Up: sent by the router, received from the peer. */
  readonly sentOpen: OpenMessage | undefined;
  readonly receivedOpen: OpenMessage | undefined;
  /** The last Statistics Report's values by stat type ("type" or "type/afi/safi"). */
  readonly statistics: ReadonlyMap<string, number>;
  routeCount(stage: PolicyStage): number;
  routes(stage: PolicyStage): IterableIterator<BmpRoute>;
  /**
   * Calls `visit` for each route of `stage` with numbers only (no object per route, for
   * full-table walks); `value` is the packed origin (see unpackOrigin / unpackKind).
   */
  forEachRoute(stage: PolicyStage, visit: RouteVisitor): void;
}

export interface BmpRouterCounters {
  /** Messages by BMP type (index 0..6; 7 counts unknown types). */
  readonly messages: readonly number[];
  readonly bytes: number;
  readonly routesAdded: number;
  readonly routesRemoved: number;
  /** Route Monitoring for a peer without a Peer Up (GoBGP sends Loc-RIB this way). */
  readonly routeMonitoringWithoutPeerUp: number;
  /**
   * Route Monitoring messages per PolicyStage: which RIBs the router sends at all (a
   * post-policy view that stays empty still shows up here through its End-of-RIB).
   */
  readonly routeMonitoringByStage: readonly number[];
  /**
   * Route Monitoring messages whose NLRI parsed only with the other ADD-PATH encoding
   * than the Peer Up negotiated (the session then keeps that encoding for the stage).
   */
  readonly addPathCorrections: number;
  /**
   * Route Monitoring messages whose BGP message does not parse, by treatment (index into
   * UPDATE_TREATMENTS: treat-as-withdraw, reset, not-update; RFC 7606).
   */
  readonly updateErrors: readonly number[];
}

export interface BmpRouter {
  /** "address:port" of the TCP session: unique while it is connected. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly connectedAt: Date;
  /** From the Initiation message. */
  readonly sysName: string | undefined;
  readonly sysDescr: string | undefined;
  readonly initiated: boolean;
  readonly peers: ReadonlyMap<string, BmpPeer>;
  readonly counters: BmpRouterCounters;
}

/**
 * Receives route changes. `routeAdded` for a new route or a new origin (after a
 * `routeRemoved` of the old one); re-announcing the same origin is not reported.
 * `routeRemoved` carries the origin the route had. Arguments are valid during the call.
 */
export interface BmpRouteSink {
  routeAdded(
    peer: BmpPeer,
    stage: PolicyStage,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
    origin: number,
    originKind: OriginKind,
  ): void;
  routeRemoved(
    peer: BmpPeer,
    stage: PolicyStage,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
    origin: number,
    originKind: OriginKind,
  ): void;
}

export type BmpCloseReason =
  | { kind: 'remote-close'; termination?: Termination }
  | { kind: 'error'; error: BmpError | Error }
  | { kind: 'socket-error'; error: Error }
  | { kind: 'stopped' }
  /** No Initiation within the listener's initTimeout. */
  | { kind: 'init-timeout'; message: string }
  /** Nothing received within the listener's idleTimeout. */
  | { kind: 'idle-timeout'; message: string }
  /** Closed to make room: the oldest pending connection, or a router without peers. */
  | { kind: 'evicted'; limit: 'pending' | 'routers'; message: string }
  /** Its Initiation arrived at the router limit and every router held peers. */
  | { kind: 'refused'; message: string };

export interface BmpListenerEvents {
  /** A connection opened (it becomes a router, in `routers`, with its Initiation). */
  routerUp: [router: BmpRouter];
  /** A router's Initiation message arrived (sysName / sysDescr are set) and it was admitted. */
  routerInitiated: [router: BmpRouter];
  /** A router's session ended; all its routes were removed (routeRemoved) before this. */
  routerDown: [router: BmpRouter, reason: BmpCloseReason];
  /** A router sent something unreadable: its session (only) is being closed. */
  sessionError: [router: BmpRouter, error: BmpError | Error];
  peerUp: [peer: BmpPeer];
  /** The peer's routes were removed before this. */
  peerDown: [peer: BmpPeer, down: PeerDown];
  endOfRib: [peer: BmpPeer, stage: PolicyStage, afi: number, safi: number];
  statistics: [peer: BmpPeer];
  /** A Route Monitoring message whose BGP message does not parse (counted, treated per RFC 7606). */
  updateError: [peer: BmpPeer, stage: PolicyStage, treatment: UpdateTreatment, error: Error];
}

export interface BmpLogEntry {
  level: 'info' | 'warn' | 'error';
  event:
    | 'router-up'
    | 'router-down'
    | 'session-error'
    | 'peer-up'
    | 'peer-down'
    | 'connection-refused'
    | 'connection-closed'
    | 'update-error';
  router: string;
  peer?: string;
  message: string;
  code?: string;
}
