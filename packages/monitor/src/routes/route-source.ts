// How routes get into the monitor. A route source (a route list file, an MRT dump, and
// with issue 6 a BMP listener) is a small adapter: it gets a RouteSink in its
// constructor, registers itself for a source id, and announces and withdraws routes as
// numbers (no object per route, so that a full table streams through). Timers and
// watchers start in start() and end in stop().
import type { Family } from '@rovkit/core';

/** Where sources put routes; the monitor's engine implements it. */
export interface RouteSink {
  /** A source id for announce/withdraw (the store keeps one bit per source). */
  registerSource(name: string): number;
  /** Interned group name ("own", "customer:NAME", ...), for announce. */
  groupId(name: string): number;
  /** Interned description text, for announce. */
  descriptionId(text: string): number;
  /**
   * Source `source` announces the route. A route announced by several sources exists
   * once. `group`/`description` (ids from groupId/descriptionId) replace the route's;
   * -1 keeps what it has. `origin` is ignored when `isSet` (an AS_SET origin, "none").
   * Addresses as in @rovkit/core: IPv4 in w0, IPv6 in w0..w3, most significant first.
   */
  announce(
    source: number,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    isSet: boolean,
    group: number,
    description: number,
  ): void;
  /** Source `source` no longer announces the route (a no-op if it did not). */
  withdraw(
    source: number,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    isSet: boolean,
  ): void;
  /** Withdraws every route of `source` (a BMP peer going down, a source stopping). */
  withdrawAll(source: number): void;
}

/** A route input's lifecycle. start() resolves once the initial routes are in. */
export interface RouteSource {
  /** Names the source in logs and the status page, e.g. "routes:/etc/rovkit/prefixes.yml". */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
