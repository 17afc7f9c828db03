// BMP (RFC 7854) as a route source: routers connect to the BmpListener, and the routes
// they hold in the counted RIBs become the monitor's routes. A route counts once however
// many routers, peers and path ids carry it (RouteRefs), and leaves when the last one
// withdraws it, goes down (Peer Down) or disconnects.
//
// Which RIBs count (--bmp-rib): by default the pre-policy Adj-RIB-In of every peer plus
// the Loc-RIB. Pre-policy is what the router received before its import policy, so an
// Invalid route that the router drops is still seen (and shows in the route metrics);
// Loc-RIB adds the routes the router originates itself, which are in no Adj-RIB-In, and
// covers routers that send only their Loc-RIB. Post-policy views are read by the ROV
// enforcement analysis (bmp-analysis.ts) whether or not they count here.
//
// Which routes are the operator's (--bmp-routes, --own-asn, the route lists) is the
// RouteClassifier's decision; a route left out is not handed to the engine at all.
import type { Family } from '@rovkit/core';
import { OriginKind } from '../bgp/route.js';
import {
  BmpListener,
  policyStageNames,
  PolicyStage,
  unpackKind,
  unpackOrigin,
  type BmpLogEntry,
  type BmpPeer,
  type BmpRouteSink,
} from '../feeds/bmp/index.js';
import type { Logger } from '../log.js';
import type { RouteClassifier } from '../routes/route-classifier.js';
import { RouteRefs } from '../routes/route-refs.js';
import type { RouteSink, RouteSource } from '../routes/route-source.js';

/** RIBs whose routes count by default: pre-policy Adj-RIB-In and Loc-RIB. */
export const DEFAULT_BMP_RIBS: readonly PolicyStage[] = [PolicyStage.PrePolicy, PolicyStage.LocRib];

export interface BmpRouteSourceOptions {
  /** Listening address (default 127.0.0.1) and port (0 picks a free one). */
  readonly host: string;
  readonly port: number;
  readonly sink: RouteSink;
  readonly log: Logger;
  readonly classifier: RouteClassifier;
  /** RIBs whose routes count (default DEFAULT_BMP_RIBS). */
  readonly ribs?: readonly PolicyStage[];
  /** Listener limits (BmpListenerOptions; defaults there). */
  readonly maxRouters?: number;
  readonly maxPending?: number;
  readonly initTimeout?: number;
  readonly idleTimeout?: number;
  readonly maxMessageLength?: number;
  /** Called after every route change the listener reports (for debounced analyses). */
  readonly onChange?: () => void;
}

export class BmpRouteSource implements RouteSource {
  readonly name: string;
  readonly listener: BmpListener;
  readonly ribs: readonly PolicyStage[];
  readonly #options: BmpRouteSourceOptions;
  readonly #counted = new Uint8Array(5);
  readonly #refs = new RouteRefs();
  readonly #groupIds = new Map<string, number>();
  #id = -1;

  constructor(options: BmpRouteSourceOptions) {
    this.#options = options;
    this.ribs = options.ribs ?? DEFAULT_BMP_RIBS;
    for (const stage of this.ribs) this.#counted[stage] = 1;
    const where = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.name = `bmp:${where}:${options.port}`;
    const sink: BmpRouteSink = {
      routeAdded: (peer, stage, family, w0, w1, w2, w3, length, _pathId, origin, kind) => {
        if (this.#counted[stage] === 1) this.#add(peer, family, w0, w1, w2, w3, length, origin, kind);
        options.onChange?.();
      },
      routeRemoved: (peer, stage, family, w0, w1, w2, w3, length, _pathId, origin, kind) => {
        if (this.#counted[stage] === 1) this.#remove(peer, family, w0, w1, w2, w3, length, origin, kind);
        options.onChange?.();
      },
    };
    this.listener = new BmpListener({
      host: options.host,
      port: options.port,
      sink,
      ...(options.maxRouters === undefined ? {} : { maxRouters: options.maxRouters }),
      ...(options.maxPending === undefined ? {} : { maxPending: options.maxPending }),
      ...(options.initTimeout === undefined ? {} : { initTimeout: options.initTimeout }),
      ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
      ...(options.maxMessageLength === undefined ? {} : { maxMessageLength: options.maxMessageLength }),
      log: (entry) => this.#logEntry(entry),
    });
    // Peers coming up or down change the analyses even when no route moves.
    const changed = (): void => options.onChange?.();
    this.listener.on('peerUp', changed);
    this.listener.on('peerDown', changed);
    this.listener.on('routerDown', changed);
    this.listener.on('endOfRib', changed);
  }

  /** Distinct routes handed to the engine. */
  get routes(): number {
    return this.#refs.size;
  }

  async start(): Promise<void> {
    if (this.#id < 0) this.#id = this.#options.sink.registerSource(this.name);
    const address = await this.listener.start();
    this.#options.log.log('info', 'bmp_listening', {
      source: this.name,
      address: address.address,
      port: address.port,
      ribs: this.ribs.map((s) => policyStageNames[s]),
      selection: this.#options.classifier.selection,
    });
  }

  /** Closes every router session; their routes leave the engine. */
  async stop(): Promise<void> {
    await this.listener.stop();
    if (this.#id >= 0) this.#options.sink.withdrawAll(this.#id);
    this.#refs.clear();
  }

  /**
   * Decides every held route's group again (the route lists changed): withdraws the
   * feed's routes and hands over what the routers hold now.
   */
  reclassify(): void {
    if (this.#id < 0) return;
    this.#options.sink.withdrawAll(this.#id);
    this.#refs.clear();
    for (const router of this.listener.routers.values()) {
      for (const peer of router.peers.values()) {
        for (const stage of this.ribs) {
          peer.forEachRoute(stage, (family, w0, w1, w2, w3, length, _pathId, value) =>
            this.#add(peer, family, w0, w1, w2, w3, length, unpackOrigin(value), unpackKind(value)),
          );
        }
      }
    }
    this.#options.onChange?.();
  }

  #add(
    peer: BmpPeer,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    kind: OriginKind,
  ): void {
    const isSet = kind === OriginKind.Set;
    // An empty AS_PATH: the route originates at the BMP peer (for Loc-RIB, the router).
    const asn = isSet ? 0 : kind === OriginKind.Local ? peer.asn : origin;
    const group = this.#options.classifier.classify(family, w0, w1, w2, w3, length, asn, isSet);
    if (group === undefined) return;
    if (this.#refs.add(family, w0, w1, w2, w3, length, asn, isSet) !== 1) return;
    this.#options.sink.announce(this.#id, family, w0, w1, w2, w3, length, asn, isSet, this.#group(group), -1);
  }

  #remove(
    peer: BmpPeer,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    kind: OriginKind,
  ): void {
    const isSet = kind === OriginKind.Set;
    const asn = isSet ? 0 : kind === OriginKind.Local ? peer.asn : origin;
    // A route the classifier left out was never counted: remove() says -1.
    if (this.#refs.remove(family, w0, w1, w2, w3, length, asn, isSet) !== 0) return;
    this.#options.sink.withdraw(this.#id, family, w0, w1, w2, w3, length, asn, isSet);
  }

  #group(name: string): number {
    let id = this.#groupIds.get(name);
    if (id === undefined) {
      id = this.#options.sink.groupId(name);
      this.#groupIds.set(name, id);
    }
    return id;
  }

  #logEntry(entry: BmpLogEntry): void {
    const { level, event, ...fields } = entry;
    this.#options.log.log(level, `bmp_${event.replaceAll('-', '_')}`, { source: this.name, ...fields });
  }
}
