// Numeric route representation shared by the MRT and BMP feeds. Routes are handed to a
// sink as plain numbers so that a full table (about a million routes) is parsed without
// one object per route; strings are made only at the edges (CLI output, logs, the API).
//
// Address encoding (the same as @rovkit/core's numeric API): IPv4 is one u32 in w0 (w1..w3
// are 0); IPv6 is four u32 words w0..w3, most significant first. Host bits beyond the
// prefix length are always zero.

/** Address family of a route: 4 or 6. */
export type Family = 4 | 6;

/**
 * How the origin AS was found (RFC 6811 section 2). `Asn`: the last AS of a final
 * AS_SEQUENCE segment, in `origin`. `Set`: the final segment is an AS_SET, the origin is
 * NONE and the route can never be Valid. `Local`: the AS_PATH is empty or ends in a
 * confederation segment, so the origin is the AS of the speaker that holds the route
 * (for an MRT or BMP peer: the peer's AS); `origin` is 0.
 */
export const OriginKind = { Asn: 0, Set: 1, Local: 2 } as const;
export type OriginKind = (typeof OriginKind)[keyof typeof OriginKind];

export const Afi = { IPv4: 1, IPv6: 2 } as const;
export const Safi = { Unicast: 1, Multicast: 2 } as const;

/**
 * Receives the routes of one BGP UPDATE (or one MRT RIB record). The arguments are only
 * valid during the call. `pathId` is the RFC 7911 path identifier, 0 without ADD-PATH.
 * Within one message all withdrawals come before all announcements, and a message that
 * fails to parse emits nothing.
 */
export interface UpdateSink {
  announce(
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
  withdraw(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
  ): void;
  /** An End-of-RIB marker (RFC 4724): the peer has sent its whole table for afi/safi. */
  endOfRib(afi: number, safi: number): void;
}
