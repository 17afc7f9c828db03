// How many holders (BMP router, peer, RIB and path id) carry each (prefix, origin) route,
// so that a route feed with many peers announces a route to the engine once and withdraws
// it when the last holder drops it. IPv4 routes with one origin per prefix, nearly all of a
// full table, live in a number-keyed map (address * 64 + length -> count and origin packed
// in one exact double) and allocate nothing; a second origin for the same prefix (MOAS)
// and IPv6 use a string key.
import type { Family } from '@rovkit/core';

const ORIGIN_SPAN = 0x2_0000_0000; // origin (32 bits) and the AS_SET bit below the count

export class RouteRefs {
  readonly #v4 = new Map<number, number>();
  readonly #other = new Map<string, number>();

  /** Distinct routes held. */
  get size(): number {
    return this.#v4.size + this.#other.size;
  }

  /** Adds a holder; returns the new count (1: the route is new). */
  add(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    isSet: boolean,
  ): number {
    const packed = isSet ? 0x1_0000_0000 : origin;
    if (family === 4) {
      const key = w0 * 64 + length;
      const value = this.#v4.get(key);
      if (value === undefined) {
        this.#v4.set(key, ORIGIN_SPAN + packed);
        return 1;
      }
      if (value % ORIGIN_SPAN === packed) {
        this.#v4.set(key, value + ORIGIN_SPAN);
        return Math.floor(value / ORIGIN_SPAN) + 1;
      }
    }
    const key = `${family} ${w0} ${w1} ${w2} ${w3} ${length} ${packed}`;
    const count = (this.#other.get(key) ?? 0) + 1;
    this.#other.set(key, count);
    return count;
  }

  /** Drops a holder; returns the count left (0: the route is gone), -1 if it was not held. */
  remove(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    isSet: boolean,
  ): number {
    const packed = isSet ? 0x1_0000_0000 : origin;
    if (family === 4) {
      const key = w0 * 64 + length;
      const value = this.#v4.get(key);
      if (value !== undefined && value % ORIGIN_SPAN === packed) {
        const left = Math.floor(value / ORIGIN_SPAN) - 1;
        if (left === 0) this.#v4.delete(key);
        else this.#v4.set(key, value - ORIGIN_SPAN);
        return left;
      }
    }
    const key = `${family} ${w0} ${w1} ${w2} ${w3} ${length} ${packed}`;
    const count = this.#other.get(key);
    if (count === undefined) return -1;
    if (count === 1) this.#other.delete(key);
    else this.#other.set(key, count - 1);
    return count - 1;
  }

  clear(): void {
    this.#v4.clear();
    this.#other.clear();
  }
}
