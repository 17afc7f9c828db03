// "What breaks if Invalid is dropped?" For every Invalid route in the store (all sources:
// a full table from BMP or MRT makes the answer meaningful), how much of its address
// space stays reachable through routes that are not Invalid once every Invalid route is
// dropped:
//
//   covered  all of it: a Valid or NotFound route with the same or a less specific prefix
//            exists, or more specific ones that are not Invalid tile it completely;
//   partial  some of it: more specific non-Invalid routes cover part (counted exactly);
//   none     nothing: traffic to it would have no route left.
//
// Address space is the union of prefixes (overlaps once), counted exactly: IPv4 in /32
// addresses (numbers up to 2^32 are exact doubles), IPv6 in /128 addresses as BigInt (a
// /0 is 2^128), converted to /24 and /48 units only for the output, as rovkit_address_space.
// One post-order walk of each trie; the caller runs it off the scrape path, debounced.
import { FREE, type RouteColumns, type TrieColumns } from '../routes/route-store.js';
import { runToEnd, STEP_NODES, type Steps } from './steps.js';

const NONE = -1;

/** Fallback classes, by index. */
export const FALLBACKS = ['covered', 'partial', 'none'] as const;
export type FallbackName = (typeof FALLBACKS)[number];
export const Fallback = { Covered: 0, Partial: 1, None: 2 } as const;

export interface FallbackResult {
  /** Invalid routes per (afi, fallback): index afi * 3 + fallback. */
  readonly routes: Float64Array;
  /**
   * Invalid address space per (afi, covered|uncovered), overlaps counted once: index
   * afi * 2 + (0 covered, 1 not covered), in /24 (IPv4) and /48 (IPv6) units.
   */
  readonly space: Float64Array;
  /** The Invalid routes analysed (store ids at the time of the walk), in trie order. */
  readonly ids: Int32Array;
  /** Per entry of `ids`: Fallback class. */
  readonly fallback: Uint8Array;
  /** Per entry of `ids`: share of its address space still reachable (0..1). */
  readonly coveredShare: Float64Array;
  /**
   * Per entry of `ids`: a non-Invalid route with the same or the nearest less specific
   * prefix, or -1 (coverage from more specific routes only, or none).
   */
  readonly coveredBy: Int32Array;
}

/** Store states that count as Invalid: ValidationCode 2 (AS) and 3 (length). */
function isInvalid(state: number): boolean {
  return state === 2 || state === 3;
}

export function analyseFallback(store: RouteColumns): FallbackResult {
  return runToEnd(analyseFallbackSteps(store));
}

/** analyseFallback as steps (see steps.ts): the caller may run it in slices. */
export function* analyseFallbackSteps(store: RouteColumns): Steps<FallbackResult> {
  const routes = new Float64Array(6);
  const space = new Float64Array(4);
  const ids: number[] = [];
  const fallback: number[] = [];
  const share: number[] = [];
  const coveredBy: number[] = [];
  const out = { ids, fallback, share, coveredBy };

  const v4 = yield* walk(store, store.v4, 32, 0, (len) => 2 ** (32 - len), out, routes, 0);
  space[0] = v4.covered / 256;
  space[1] = (v4.invalid - v4.covered) / 256;
  const v6 = yield* walk(store, store.v6, 128, 0n, (len) => 1n << BigInt(128 - len), out, routes, 1);
  space[2] = Number(v6.covered) / 2 ** 80;
  space[3] = Number(v6.invalid - v6.covered) / 2 ** 80;
  return {
    routes,
    space,
    ids: Int32Array.from(ids),
    fallback: Uint8Array.from(fallback),
    coveredShare: Float64Array.from(share),
    coveredBy: Int32Array.from(coveredBy),
  };
}

type Units = number | bigint;

// Per node, bottom-up: n = measure of the non-Invalid union inside the node's prefix, i =
// of the Invalid union, c = of their intersection. A node with a route of a kind covers
// its whole prefix for that kind, whatever lies below. Children hand their measures up
// through per-depth accumulators, so the walk allocates nothing per node.
function* walk<U extends Units>(
  store: RouteColumns,
  trie: TrieColumns,
  bits: number,
  zero: U,
  size: (len: number) => U,
  out: { ids: number[]; fallback: number[]; share: number[]; coveredBy: number[] },
  routes: Float64Array,
  afi: number,
): Steps<{ invalid: U; covered: U }> {
  if (trie.root === NONE) return { invalid: zero, covered: zero };
  const add = (a: U, b: U): U => ((a as number) + (b as number)) as U;
  const sizes: U[] = [];
  for (let l = 0; l <= bits; l++) sizes.push(size(l));
  const head = trie.head;
  const next = store.next;
  const state = store.state;
  const len = trie.len;
  // Depth d holds the sums of the finished children of the node open at depth d; depth 0
  // is above the root. A path has at most bits + 1 nodes.
  const sn: U[] = new Array<U>(bits + 3).fill(zero);
  const si: U[] = new Array<U>(bits + 3).fill(zero);
  const sc: U[] = new Array<U>(bits + 3).fill(zero);
  // The nearest route that is not Invalid at or above the node open at depth d (-1: none).
  const cover = new Int32Array(bits + 3).fill(NONE);
  let depth = 0;
  // Entering node x pushes ~x to be met again on the way back up (post-order).
  const stack: number[] = [trie.root];
  let steps = 0;
  while (stack.length > 0) {
    if (++steps === STEP_NODES) {
      steps = 0;
      yield;
    }
    const x = stack.pop()!;
    if (x >= 0) {
      let good = NONE;
      for (let id = head[x]!; id !== NONE; id = next[id]!) {
        if (state[id] !== FREE && !isInvalid(state[id]!)) {
          good = id;
          break;
        }
      }
      depth++;
      cover[depth] = good !== NONE ? good : cover[depth - 1]!;
      sn[depth] = zero;
      si[depth] = zero;
      sc[depth] = zero;
      stack.push(~x);
      const c1 = trie.child1[x]!;
      const c0 = trie.child0[x]!;
      if (c1 !== NONE) stack.push(c1);
      if (c0 !== NONE) stack.push(c0);
      continue;
    }
    const node = ~x;
    let hasGood = false;
    let hasBad = false;
    for (let id = head[node]!; id !== NONE; id = next[id]!) {
      if (state[id] === FREE) continue;
      if (isInvalid(state[id]!)) hasBad = true;
      else hasGood = true;
    }
    const whole = sizes[len[node]!]!;
    const below = sn[depth]!;
    const nn = hasGood ? whole : below;
    const ii = hasBad ? whole : si[depth]!;
    const cc = hasGood && hasBad ? whole : hasGood ? si[depth]! : hasBad ? below : sc[depth]!;
    const coverId = cover[depth]!;
    depth--;
    sn[depth] = add(sn[depth]!, nn);
    si[depth] = add(si[depth]!, ii);
    sc[depth] = add(sc[depth]!, cc);
    if (!hasBad) continue;
    // Covered from here or above: all of it; otherwise what the non-Invalid more
    // specifics below cover (`below`: this node has no non-Invalid route of its own).
    const coveredUnits = coverId !== NONE ? whole : below;
    const f =
      coveredUnits === whole ? Fallback.Covered : coveredUnits === zero ? Fallback.None : Fallback.Partial;
    const share =
      typeof whole === 'bigint' ? ratio(coveredUnits as bigint, whole) : (coveredUnits as number) / whole;
    for (let id = head[node]!; id !== NONE; id = next[id]!) {
      if (!isInvalid(state[id]!)) continue;
      out.ids.push(id);
      out.fallback.push(f);
      out.share.push(share);
      out.coveredBy.push(coverId);
      routes[afi * 3 + f]!++;
    }
  }
  return { invalid: si[0]!, covered: sc[0]! };
}

// Each side rounds to the nearest double on its own: a share needs no more than that.
function ratio(part: bigint, whole: bigint): number {
  return Number(part) / Number(whole);
}
