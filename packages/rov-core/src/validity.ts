import type { Vrp } from './vrp.js';

/**
 * Result codes of the numeric validation paths. Invalid carries its reason so that
 * whole-table callers get it without a second walk.
 */
export const ValidationCode = {
  NotFound: 0,
  Valid: 1,
  /** Covered, but no VRP has the route's origin AS. */
  InvalidAs: 2,
  /** A VRP has the origin AS but its maxLength is shorter than the route. */
  InvalidLength: 3,
} as const;
export type ValidationCode = (typeof ValidationCode)[keyof typeof ValidationCode];

/** RFC 6811 route validation states. */
export type RouteValidity = 'valid' | 'invalid' | 'not-found';
/** Why a route is Invalid, in Routinator's validity API terms. */
export type InvalidReason = 'as' | 'length';

export function validityOf(code: number): RouteValidity {
  return code === ValidationCode.NotFound ? 'not-found' : code === ValidationCode.Valid ? 'valid' : 'invalid';
}

export function reasonOf(code: number): InvalidReason | undefined {
  return code === ValidationCode.InvalidAs
    ? 'as'
    : code === ValidationCode.InvalidLength
      ? 'length'
      : undefined;
}

/**
 * Why a route has its state: the covering VRPs sorted into the three groups of
 * Routinator's validity API (`matched`, `unmatched_as`, `unmatched_length`).
 */
export interface Explanation {
  readonly prefix: string;
  /** The origin AS, or "none" for an AS_SET origin. */
  readonly origin: number | 'none';
  readonly state: RouteValidity;
  readonly reason?: InvalidReason;
  /** Covering VRPs with the origin AS and a maxLength the route fits in. */
  readonly matched: Vrp[];
  /** Covering VRPs of another AS (AS 0 VRPs always land here). */
  readonly unmatchedAs: Vrp[];
  /** Covering VRPs of the origin AS whose maxLength is shorter than the route. */
  readonly unmatchedLength: Vrp[];
}
