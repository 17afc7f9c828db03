// One RIB (a peer's pre-policy Adj-RIB-In, post-policy Adj-RIB-In, Adj-RIB-Out, or a
// router's Loc-RIB): route key → origin. IPv4 routes without a path id, nearly all of a
// full table, use a number key (address * 64 + length) and so allocate nothing per
// lookup; IPv6 and ADD-PATH routes use a string key.
import type { Family, OriginKind } from '../../bgp/route.js';

/** What `set`/`delete` return when there was no route. */
export const ABSENT = -1;

/** Origin and kind in one exact double: kind * 2^32 + origin. */
export function packOrigin(origin: number, kind: OriginKind): number {
  return kind * 0x1_0000_0000 + origin;
}

export function unpackOrigin(value: number): number {
  return value % 0x1_0000_0000;
}

export function unpackKind(value: number): OriginKind {
  return Math.floor(value / 0x1_0000_0000) as OriginKind;
}

export type RouteVisitor = (
  family: Family,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  length: number,
  pathId: number,
  value: number,
) => void;

export class RouteTable {
  readonly #v4 = new Map<number, number>();
  readonly #other = new Map<string, number>();

  get size(): number {
    return this.#v4.size + this.#other.size;
  }

  /** Stores a packed origin; returns the previous one or ABSENT. */
  set(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
    value: number,
  ): number {
    if (family === 4 && pathId === 0) {
      const key = w0 * 64 + length;
      const previous = this.#v4.get(key);
      this.#v4.set(key, value);
      return previous ?? ABSENT;
    }
    const key = `${family} ${w0} ${w1} ${w2} ${w3} ${length} ${pathId}`;
    const previous = this.#other.get(key);
    this.#other.set(key, value);
    return previous ?? ABSENT;
  }

  /** Removes a route; returns its packed origin or ABSENT. */
  delete(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
  ): number {
    if (family === 4 && pathId === 0) {
      const key = w0 * 64 + length;
      const previous = this.#v4.get(key);
      if (previous === undefined) return ABSENT;
      this.#v4.delete(key);
      return previous;
    }
    const key = `${family} ${w0} ${w1} ${w2} ${w3} ${length} ${pathId}`;
    const previous = this.#other.get(key);
    if (previous === undefined) return ABSENT;
    this.#other.delete(key);
    return previous;
  }

  forEach(visit: RouteVisitor): void {
    for (const [key, value] of this.#v4) visit(4, Math.floor(key / 64), 0, 0, 0, key % 64, 0, value);
    for (const [key, value] of this.#other) {
      const f = key.split(' ').map(Number);
      visit(f[0] as Family, f[1], f[2], f[3], f[4], f[5], f[6], value);
    }
  }

  clear(): void {
    this.#v4.clear();
    this.#other.clear();
  }
}
