// One router's BMP session: frames its stream, keeps its peers and their RIBs per policy
// stage, and reports route changes. No I/O here: the listener feeds bytes in and closes
// the socket when push() throws, which keeps this testable with plain buffers.
import { BgpError } from '../../bgp/errors.js';
import { formatPrefix } from '../../bgp/format.js';
import { receivesAddPath, type OpenMessage } from '../../bgp/open.js';
import { Afi, Safi, type Family, type OriginKind, type UpdateSink } from '../../bgp/route.js';
import { BgpMessageType, Recovery, UpdateParser } from '../../bgp/update.js';
import { BmpError } from './errors.js';
import { BmpFramer, BMP_HEADER_LENGTH } from './framer.js';
import {
  BmpMessageType,
  BmpPeerType,
  BodyError,
  need,
  parseInitiation,
  parsePeerDown,
  parsePeerUp,
  parseStatistics,
  parseTermination,
  PeerFlag,
  PER_PEER_HEADER_LENGTH,
  readPeerHeader,
  type PeerDown,
  type Termination,
} from './messages.js';
import { ABSENT, packOrigin, RouteTable, unpackKind, unpackOrigin, type RouteVisitor } from './rib.js';
import {
  POLICY_STAGES,
  PolicyStage,
  type BmpPeer,
  type BmpPeerTypeName,
  type BmpRoute,
  type BmpRouteSink,
  type BmpRouter,
} from './types.js';

const peerTypeNames: readonly BmpPeerTypeName[] = ['global', 'rd', 'local', 'loc-rib'];

/** ADD-PATH bits per stage: which families carry path ids (the same bits as UpdateParser.families). */
const ADD_PATH_V4 = 1;
const ADD_PATH_V6 = 2;
/** BGP faults that a wrong ADD-PATH assumption causes. */
const NLRI_PARTS = new Set(['withdrawn', 'nlri', 'mp_reach', 'mp_unreach']);

/**
 * What became of a Route Monitoring message whose BGP message does not parse (RFC 7606,
 * see UpdateParser.recover), by index into BmpRouterCounters.updateErrors.
 */
export const UPDATE_TREATMENTS = ['treat-as-withdraw', 'reset', 'not-update'] as const;
export type UpdateTreatment = (typeof UPDATE_TREATMENTS)[number];

export class PeerState implements BmpPeer {
  readonly router: RouterState;
  readonly key: string;
  readonly type: BmpPeerTypeName;
  readonly distinguisher: string;
  readonly family: Family;
  readonly address: string;
  asn: number;
  bgpId: string;
  up = false;
  upSince: Date | undefined;
  sentOpen: OpenMessage | undefined;
  receivedOpen: OpenMessage | undefined;
  statistics = new Map<string, number>();
  /** ADD-PATH bits by stage. */
  readonly addPath = new Uint8Array(POLICY_STAGES.length);
  /**
   * The families whose ADD-PATH use the Peer Up OPENs negotiated in either direction:
   * only for them may the encoding be corrected (a peer without Peer Up has none).
   */
  addPathNegotiated = 0;
  /** By stage: families whose encoding a parsed message with NLRI of theirs settled. */
  readonly addPathSettled = new Uint8Array(POLICY_STAGES.length);
  readonly tables: Array<RouteTable | undefined> = [undefined, undefined, undefined, undefined, undefined];

  constructor(router: RouterState, key: string, type: number, header: ReturnType<typeof readPeerHeader>) {
    this.router = router;
    this.key = key;
    this.type = peerTypeNames[type] ?? 'unknown';
    this.distinguisher = header.distinguisher;
    this.family = header.family;
    this.address = header.address;
    this.asn = header.asn;
    this.bgpId = header.bgpId;
  }

  table(stage: PolicyStage): RouteTable {
    let table = this.tables[stage];
    if (table === undefined) table = this.tables[stage] = new RouteTable();
    return table;
  }

  routeCount(stage: PolicyStage): number {
    return this.tables[stage]?.size ?? 0;
  }

  *routes(stage: PolicyStage): IterableIterator<BmpRoute> {
    const table = this.tables[stage];
    if (table === undefined) return;
    const out: BmpRoute[] = [];
    table.forEach((family, w0, w1, w2, w3, length, pathId, value) => {
      out.push({
        family,
        words: [w0, w1, w2, w3],
        length,
        prefix: formatPrefix(family, w0, w1, w2, w3, length),
        pathId,
        origin: unpackOrigin(value),
        originKind: unpackKind(value),
      });
    });
    yield* out;
  }

  forEachRoute(stage: PolicyStage, visit: RouteVisitor): void {
    this.tables[stage]?.forEach(visit);
  }

  /** Sets the ADD-PATH bits from the Peer Up OPENs (RFC 7911 section 4, RFC 9069 5). */
  negotiate(sent: OpenMessage, received: OpenMessage): void {
    this.addPathNegotiated = 0;
    this.addPathSettled.fill(0);
    for (const stage of POLICY_STAGES) {
      let bits = 0;
      for (const [afi, bit] of [
        [Afi.IPv4, ADD_PATH_V4],
        [Afi.IPv6, ADD_PATH_V6],
      ] as const) {
        let on: boolean;
        if (stage === PolicyStage.LocRib) {
          // A Loc-RIB Peer Up carries fabricated OPENs: any ADD-PATH capability means path ids.
          const key = (afi << 8) | Safi.Unicast;
          on = (sent.addPath.get(key) ?? 0) !== 0 || (received.addPath.get(key) ?? 0) !== 0;
        } else if (stage === PolicyStage.PrePolicy || stage === PolicyStage.PostPolicy) {
          on = receivesAddPath(sent, received, afi, Safi.Unicast);
        } else {
          on = receivesAddPath(received, sent, afi, Safi.Unicast);
        }
        if (on) bits |= bit;
      }
      this.addPath[stage] = bits;
      this.addPathNegotiated |= bits;
    }
  }
}

export class RouterState implements BmpRouter {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly connectedAt = new Date();
  sysName: string | undefined;
  sysDescr: string | undefined;
  initiated = false;
  termination: Termination | undefined;
  readonly peers = new Map<string, PeerState>();
  readonly counters = {
    messages: [0, 0, 0, 0, 0, 0, 0, 0],
    bytes: 0,
    routesAdded: 0,
    routesRemoved: 0,
    routeMonitoringWithoutPeerUp: 0,
    routeMonitoringByStage: [0, 0, 0, 0, 0],
    addPathCorrections: 0,
    updateErrors: [0, 0, 0],
  };

  constructor(address: string, port: number) {
    this.address = address;
    this.port = port;
    this.id = `${address}:${port}`;
  }
}

/** What a session reports besides route changes. */
export interface SessionEvents {
  initiated(router: RouterState): void;
  peerUp(peer: PeerState): void;
  peerDown(peer: PeerState, down: PeerDown): void;
  endOfRib(peer: PeerState, stage: PolicyStage, afi: number, safi: number): void;
  statistics(peer: PeerState): void;
  /** A Route Monitoring message whose BGP message does not parse, after its treatment. */
  updateError(peer: PeerState, stage: PolicyStage, treatment: UpdateTreatment, error: Error): void;
}

/** Applies one UPDATE's routes to the current peer's table for the current stage. */
class RibWriter implements UpdateSink {
  peer!: PeerState;
  stage: PolicyStage = PolicyStage.PrePolicy;
  table!: RouteTable;
  readonly #sink: BmpRouteSink | undefined;
  readonly #events: SessionEvents;
  readonly #counters: RouterState['counters'];

  constructor(sink: BmpRouteSink | undefined, events: SessionEvents, counters: RouterState['counters']) {
    this.#sink = sink;
    this.#events = events;
    this.#counters = counters;
  }

  announce(
    f: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    l: number,
    id: number,
    o: number,
    k: OriginKind,
  ): void {
    const value = packOrigin(o, k);
    const previous = this.table.set(f, w0, w1, w2, w3, l, id, value);
    if (previous === value) return;
    if (previous !== ABSENT) {
      this.#counters.routesRemoved++;
      this.#sink?.routeRemoved(
        this.peer,
        this.stage,
        f,
        w0,
        w1,
        w2,
        w3,
        l,
        id,
        unpackOrigin(previous),
        unpackKind(previous),
      );
    }
    this.#counters.routesAdded++;
    this.#sink?.routeAdded(this.peer, this.stage, f, w0, w1, w2, w3, l, id, o, k);
  }

  withdraw(f: Family, w0: number, w1: number, w2: number, w3: number, l: number, id: number): void {
    const previous = this.table.delete(f, w0, w1, w2, w3, l, id);
    if (previous === ABSENT) return;
    this.#counters.routesRemoved++;
    this.#sink?.routeRemoved(
      this.peer,
      this.stage,
      f,
      w0,
      w1,
      w2,
      w3,
      l,
      id,
      unpackOrigin(previous),
      unpackKind(previous),
    );
  }

  endOfRib(afi: number, safi: number): void {
    this.#events.endOfRib(this.peer, this.stage, afi, safi);
  }
}

export class BmpSession {
  readonly router: RouterState;
  readonly #framer: BmpFramer;
  readonly #writer: RibWriter;
  readonly #parser: UpdateParser;
  readonly #sink: BmpRouteSink | undefined;
  readonly #events: SessionEvents;
  readonly #handle = (buf: Uint8Array, start: number, end: number): void => this.#message(buf, start, end);
  // The identity bytes (type, V flag, distinguisher, address) of the last peer looked up:
  // routers send long runs for one peer, so most messages skip the key string and map.
  readonly #lastIdentity = new Uint8Array(26);
  #lastPeer: PeerState | undefined;
  /**
   * RFC 7854 4.3: the Initiation is the first message. The listener sets this (a
   * connection is not a router before it); unit tests of the decoding leave it off.
   */
  requireInitiation = false;

  constructor(
    router: RouterState,
    maxMessageLength: number,
    sink: BmpRouteSink | undefined,
    events: SessionEvents,
  ) {
    this.router = router;
    this.#framer = new BmpFramer(maxMessageLength);
    this.#sink = sink;
    this.#events = events;
    this.#writer = new RibWriter(sink, events, router.counters);
    this.#parser = new UpdateParser(this.#writer);
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.#framer.buffered;
  }

  /** Handles the complete messages in `chunk`; throws BmpError on a malformed one. */
  push(chunk: Uint8Array): void {
    this.router.counters.bytes += chunk.length;
    this.#framer.push(chunk, this.#handle);
  }

  /** Removes every route of every peer (the session is over). */
  close(): void {
    for (const peer of this.router.peers.values()) this.#clearPeer(peer);
    this.router.peers.clear();
    this.#lastPeer = undefined;
  }

  #message(buf: Uint8Array, start: number, end: number): void {
    const type = buf[start + 5];
    if (this.requireInitiation && !this.router.initiated && type !== BmpMessageType.Initiation) {
      throw new BmpError(
        'BMP_ERR_NO_INITIATION',
        this.#framer.offset,
        'the first message must be an Initiation (RFC 7854 section 4.3)',
        type,
      );
    }
    this.router.counters.messages[type < 7 ? type : 7]++;
    const p = start + BMP_HEADER_LENGTH;
    try {
      switch (type) {
        case BmpMessageType.RouteMonitoring:
          this.#routeMonitoring(buf, p, end);
          break;
        case BmpMessageType.PeerUp:
          this.#peerUp(buf, p, end);
          break;
        case BmpMessageType.PeerDown:
          this.#peerDown(buf, p, end);
          break;
        case BmpMessageType.StatisticsReport:
          this.#statistics(buf, p, end);
          break;
        case BmpMessageType.Initiation: {
          const init = parseInitiation(buf, p, end);
          this.router.sysName = init.sysName;
          this.router.sysDescr = init.sysDescr;
          this.router.initiated = true;
          this.#events.initiated(this.router);
          break;
        }
        case BmpMessageType.Termination:
          this.router.termination = parseTermination(buf, p, end);
          break;
        default:
        // Route Mirroring and unknown types: counted, skipped (the length frames them).
      }
    } catch (error) {
      if (error instanceof BodyError || error instanceof BgpError) {
        throw new BmpError('BMP_ERR_MALFORMED', this.#framer.offset, error.message, type, { cause: error });
      }
      throw error;
    }
  }

  #peer(buf: Uint8Array, p: number, create: boolean): PeerState | undefined {
    const identity = this.#lastIdentity;
    const last = this.#lastPeer;
    if (last !== undefined && identity[0] === buf[p] && identity[1] === (buf[p + 1] & PeerFlag.V)) {
      let same = true;
      for (let i = 2; i < 26; i++) {
        if (identity[i] !== buf[p + i]) {
          same = false;
          break;
        }
      }
      if (same) return last;
    }
    const header = readPeerHeader(buf, p);
    const key = `${header.type}:${header.distinguisher}:${header.address}`;
    let peer = this.router.peers.get(key);
    if (peer === undefined) {
      if (!create) return undefined;
      peer = new PeerState(this.router, key, header.type, header);
      this.router.peers.set(key, peer);
    }
    identity[0] = buf[p];
    identity[1] = buf[p + 1] & PeerFlag.V;
    for (let i = 2; i < 26; i++) identity[i] = buf[p + i];
    this.#lastPeer = peer;
    return peer;
  }

  #routeMonitoring(buf: Uint8Array, p: number, end: number): void {
    need(p, end, PER_PEER_HEADER_LENGTH, 'per-peer header');
    const peerType = buf[p];
    const flags = buf[p + 1];
    const peer = this.#peer(buf, p, true)!;
    if (!peer.up) this.router.counters.routeMonitoringWithoutPeerUp++;
    let stage: PolicyStage;
    if (peerType === BmpPeerType.LocRib) stage = PolicyStage.LocRib;
    else if ((flags & PeerFlag.O) !== 0) {
      stage = (flags & PeerFlag.L) !== 0 ? PolicyStage.AdjRibOutPostPolicy : PolicyStage.AdjRibOutPrePolicy;
    } else {
      stage = (flags & PeerFlag.L) !== 0 ? PolicyStage.PostPolicy : PolicyStage.PrePolicy;
    }
    this.router.counters.routeMonitoringByStage[stage]++;
    const parser = this.#parser;
    // The A flag marks a 2-byte AS_PATH; Loc-RIB has no A flag and is always 4-byte.
    parser.as4 = peerType === BmpPeerType.LocRib || (flags & PeerFlag.A) === 0;
    const writer = this.#writer;
    writer.peer = peer;
    writer.stage = stage;
    writer.table = peer.table(stage);
    const bodyStart = p + PER_PEER_HEADER_LENGTH;
    const expected = peer.addPath[stage];
    let bgpType: number;
    try {
      bgpType = this.#parseUpdate(buf, bodyStart, end, expected);
    } catch (error) {
      if (!(error instanceof BgpError)) throw error;
      bgpType = NLRI_PARTS.has(error.part) ? this.#otherEncoding(peer, stage, buf, bodyStart, end) : -1;
      if (bgpType === -1) {
        this.#malformed(peer, stage, buf, bodyStart, end, error);
        return;
      }
    }
    if (bgpType !== BgpMessageType.Update) {
      this.router.counters.updateErrors[2]++;
      this.#events.updateError(
        peer,
        stage,
        'not-update',
        new BodyError(`Route Monitoring carries a BGP message of type ${bgpType}, not an UPDATE`),
      );
      return;
    }
    peer.addPathSettled[stage] |= parser.families;
  }

  /**
   * Routers disagree on whether path ids survive policy: GoBGP 3.10 negotiates ADD-PATH
   * in Peer Up and sends pre-policy routes with path ids, but post-policy and Loc-RIB
   * routes without. When the NLRI do not parse as negotiated, the other encodings are
   * tried (nothing was emitted: a message is checked whole first), but only for
   * families whose ADD-PATH the Peer Up negotiated and whose encoding no message of this
   * stage has settled yet: otherwise a malformed NLRI could be read as a route that was
   * never sent (a /33 with four bytes as a path id and 0.0.0.0/0). Returns the BGP type,
   * or -1 when no other encoding parses.
   */
  #otherEncoding(peer: PeerState, stage: PolicyStage, buf: Uint8Array, start: number, end: number): number {
    const free = peer.addPathNegotiated & ~peer.addPathSettled[stage];
    if (free === 0) return -1;
    const expected = peer.addPath[stage];
    for (const flip of [ADD_PATH_V4, ADD_PATH_V6, ADD_PATH_V4 | ADD_PATH_V6]) {
      if ((flip & ~free) !== 0) continue;
      let bgpType: number;
      try {
        bgpType = this.#parseUpdate(buf, start, end, expected ^ flip);
      } catch (retry) {
        if (retry instanceof BgpError) continue;
        throw retry;
      }
      peer.addPath[stage] = expected ^ flip;
      this.router.counters.addPathCorrections++;
      return bgpType;
    }
    return -1;
  }

  /** RFC 7606 for a malformed UPDATE: treat-as-withdraw, or forget what the families held. */
  #malformed(
    peer: PeerState,
    stage: PolicyStage,
    buf: Uint8Array,
    start: number,
    end: number,
    error: BgpError,
  ): void {
    const parser = this.#parser;
    const bits = peer.addPath[stage];
    parser.addPathV4 = (bits & ADD_PATH_V4) !== 0;
    parser.addPathV6 = (bits & ADD_PATH_V6) !== 0;
    const reset = parser.recover(buf, start, end);
    if (reset !== Recovery.Withdrawn) this.#clearStage(peer, stage, reset);
    const treatment = reset === Recovery.Withdrawn ? 0 : 1;
    this.router.counters.updateErrors[treatment]++;
    this.#events.updateError(peer, stage, UPDATE_TREATMENTS[treatment], error);
  }

  #parseUpdate(buf: Uint8Array, start: number, end: number, addPath: number): number {
    const parser = this.#parser;
    parser.addPathV4 = (addPath & ADD_PATH_V4) !== 0;
    parser.addPathV6 = (addPath & ADD_PATH_V6) !== 0;
    return parser.parseMessage(buf, start, end);
  }

  #peerUp(buf: Uint8Array, p: number, end: number): void {
    need(p, end, PER_PEER_HEADER_LENGTH, 'per-peer header');
    const v6 = buf[p] !== BmpPeerType.LocRib && (buf[p + 1] & PeerFlag.V) !== 0;
    const up = parsePeerUp(buf, p + PER_PEER_HEADER_LENGTH, end, v6);
    const peer = this.#peer(buf, p, true)!;
    // A second Peer Up without a Peer Down: the router restarted that session.
    if (peer.up) this.#clearPeer(peer);
    const header = readPeerHeader(buf, p);
    peer.asn = header.asn;
    peer.bgpId = header.bgpId;
    peer.sentOpen = up.sent;
    peer.receivedOpen = up.received;
    peer.negotiate(up.sent, up.received);
    peer.up = true;
    peer.upSince = new Date();
    this.#events.peerUp(peer);
  }

  #peerDown(buf: Uint8Array, p: number, end: number): void {
    need(p, end, PER_PEER_HEADER_LENGTH, 'per-peer header');
    const down = parsePeerDown(buf, p + PER_PEER_HEADER_LENGTH, end);
    const peer = this.#peer(buf, p, false);
    if (peer === undefined) return;
    this.#clearPeer(peer);
    peer.up = false;
    this.router.peers.delete(peer.key);
    this.#lastPeer = undefined;
    this.#events.peerDown(peer, down);
  }

  #statistics(buf: Uint8Array, p: number, end: number): void {
    need(p, end, PER_PEER_HEADER_LENGTH, 'per-peer header');
    const stats = parseStatistics(buf, p + PER_PEER_HEADER_LENGTH, end);
    const peer = this.#peer(buf, p, false);
    if (peer === undefined) return;
    peer.statistics = stats;
    this.#events.statistics(peer);
  }

  /** Removes a peer's routes of one stage in the families `reset` names, reporting each. */
  #clearStage(peer: PeerState, stage: PolicyStage, reset: number): void {
    const table = peer.tables[stage];
    if (table === undefined || table.size === 0) return;
    if (reset === Recovery.ResetAll) {
      this.#clearTable(peer, stage, table);
      return;
    }
    const family = reset === Recovery.ResetV4 ? 4 : 6;
    const gone: number[] = [];
    table.forEach((f, w0, w1, w2, w3, l, id) => {
      if (f === family) gone.push(w0, w1, w2, w3, l, id);
    });
    for (let i = 0; i < gone.length; i += 6) {
      this.#writer.withdraw(family, gone[i], gone[i + 1], gone[i + 2], gone[i + 3], gone[i + 4], gone[i + 5]);
    }
  }

  #clearTable(peer: PeerState, stage: PolicyStage, table: RouteTable): void {
    const sink = this.#sink;
    this.router.counters.routesRemoved += table.size;
    if (sink !== undefined) {
      table.forEach((f, w0, w1, w2, w3, l, id, value) =>
        sink.routeRemoved(peer, stage, f, w0, w1, w2, w3, l, id, unpackOrigin(value), unpackKind(value)),
      );
    }
    table.clear();
  }

  /** Removes all of a peer's routes, reporting each. */
  #clearPeer(peer: PeerState): void {
    for (const stage of POLICY_STAGES) {
      const table = peer.tables[stage];
      if (table !== undefined && table.size > 0) this.#clearTable(peer, stage, table);
    }
  }
}
