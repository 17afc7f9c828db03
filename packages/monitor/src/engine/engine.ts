// The monitor's core: the union of all VRP sources in one VrpTable, the routes of all
// route sources in one RouteStore, and per-route state kept current incrementally. A VRP
// delta revalidates only the routes inside the changed VRPs' prefixes; a route change
// revalidates only that route. Counts per group/family/state follow every change, so a
// scrape reads numbers instead of walking 1.25 million routes.
import { ValidationCode, VrpTable, type Explanation, type Family, type VrpList } from '@rovkit/core';
import { StoreFullError } from '../errors.js';
import type { RouteSink } from '../routes/route-source.js';
import { FREE, MAX_SOURCES, RouteStore, type RouteColumns, type TrieColumns } from '../routes/route-store.js';
import type { VrpSink } from '../sources/vrp-source.js';
import { runToEnd, STEP_NODES, type Steps } from './steps.js';

const NONE = -1;

/** Route states as metrics and the API name them, by StateIndex. */
export const STATES = ['valid', 'invalid', 'not_found'] as const;
export type StateName = (typeof STATES)[number];
/** Index into STATES of a ValidationCode (0 NotFound, 1 Valid, 2/3 Invalid). */
export const STATE_OF_CODE: readonly number[] = [2, 0, 1, 1];
/** Families as metrics name them (`afi` label), by family index (0: IPv4, 1: IPv6). */
export const AFIS = ['ipv4', 'ipv6'] as const;

export interface VrpSourceStats {
  readonly name: string;
  v4: number;
  v6: number;
  /** ms since the epoch of the last applied change or full set; undefined before the first. */
  lastUpdate: number | undefined;
  announced: number;
  withdrawn: number;
  /** The source has delivered a full set at least once. */
  complete: boolean;
  /** The source's data expired and no full set replaced it yet (see VrpSink.vrpsExpired). */
  expired: boolean;
}

/** What the engine tells its owner (alerts, metrics scheduling). All optional. */
export interface EngineListener {
  /**
   * An existing route changed its ValidationCode because the VRPs changed (not reported
   * before the first full VRP set: the initial validation is no change).
   */
  routeChanged?(id: number, from: number, to: number): void;
  /** A VRP source's delta was applied; `changed` routes changed state because of it. */
  vrpsApplied?(source: number, announced: number, withdrawn: number, full: boolean, changed: number): void;
  /** Routes or their states changed (for debounced work such as address space). */
  changed?(): void;
}

export interface EngineOptions {
  readonly now?: () => number;
  readonly listener?: EngineListener;
  /** Initial route capacity. */
  readonly capacity?: number;
  /**
   * A delta of more than routes / ratio VRPs revalidates all routes in one pass instead of
   * walking a subtree per VRP (default 4; 0 always walks subtrees).
   */
  readonly fullPassRatio?: number;
}

export class Engine implements RouteSink, VrpSink {
  readonly table = new VrpTable({ capacity: 4096 });
  readonly store: RouteStore;
  readonly routeSources: string[] = [];
  readonly vrpSources: VrpSourceStats[] = [];
  /** Routes per (group, afi, code): index (group * 2 + afi) * 4 + code. */
  counts = new Float64Array(4 * 2 * 4);
  /** State changes of existing routes: index from * 3 + to (StateIndex). */
  readonly stateChanges = new Float64Array(9);
  /** True once a VRP source delivered its first full set. */
  ready = false;
  listener: EngineListener;
  readonly #now: () => number;
  readonly #fullPassRatio: number;

  constructor(options: EngineOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#fullPassRatio = options.fullPassRatio ?? 4;
    this.listener = options.listener ?? {};
    this.store = new RouteStore(options.capacity ?? 1024);
  }

  // ------------------------------------------------------------ RouteSink

  registerSource(name: string): number {
    if (this.routeSources.length === MAX_SOURCES)
      throw new StoreFullError(`more than ${MAX_SOURCES} route sources (adding "${name}")`);
    this.routeSources.push(name);
    return this.routeSources.length - 1;
  }

  groupId(name: string): number {
    const id = this.store.groupId(name);
    if ((id + 1) * 8 > this.counts.length) {
      const counts = new Float64Array(Math.max(this.counts.length * 2, (id + 1) * 8));
      counts.set(this.counts);
      this.counts = counts;
    }
    return id;
  }

  descriptionId(text: string): number {
    return this.store.descriptionId(text);
  }

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
  ): void {
    const s = this.store;
    const id = s.add(family, w0, w1, w2, w3, length, origin, isSet, source);
    const afi = family === 4 ? 0 : 1;
    if (s.created) {
      s.group[id] = group < 0 ? 0 : group;
      if (description >= 0) s.description[id] = description;
      const code = this.#validate(id);
      s.state[id] = code;
      s.changedAt[id] = this.#now() / 1000;
      this.counts[(s.group[id]! * 2 + afi) * 4 + code]!++;
      this.listener.changed?.();
      return;
    }
    if (description >= 0) s.description[id] = description;
    if (group >= 0 && group !== s.group[id]) {
      const code = s.state[id]!;
      this.counts[(s.group[id]! * 2 + afi) * 4 + code]!--;
      this.counts[(group * 2 + afi) * 4 + code]!++;
      s.group[id] = group;
      this.listener.changed?.();
    }
  }

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
  ): void {
    const id = this.store.find(family, w0, w1, w2, w3, length, origin, isSet);
    if (id === NONE || (this.store.sources[id]! & (1 << source)) === 0) return;
    this.#drop(id, source);
  }

  withdrawAll(source: number): void {
    const s = this.store;
    const bit = 1 << source;
    for (let id = 0; id < s.used; id++) if ((s.sources[id]! & bit) !== 0) this.#drop(id, source);
  }

  #drop(id: number, source: number): void {
    const s = this.store;
    const index = (s.group[id]! * 2 + (s.family[id] === 4 ? 0 : 1)) * 4 + s.state[id]!;
    if (s.drop(id, source)) {
      this.counts[index]!--;
      this.listener.changed?.();
    }
  }

  // -------------------------------------------------------------- VrpSink

  vrpsExpired(source: number): void {
    this.vrpSources[source]!.expired = true;
  }

  /**
   * Usable VRPs are held: some source delivered a full set and has not expired since (a
   * VRP file that loaded counts; RTR data that expired does not).
   */
  get hasUsableVrps(): boolean {
    return this.vrpSources.some((s) => s.complete && !s.expired);
  }

  registerVrpSource(name: string): number {
    this.vrpSources.push({
      name,
      v4: 0,
      v6: 0,
      lastUpdate: undefined,
      announced: 0,
      withdrawn: 0,
      complete: false,
      expired: false,
    });
    return this.vrpSources.length - 1;
  }

  applyVrps(source: number, announced: VrpList, withdrawn: VrpList, full: boolean): void {
    const stats = this.vrpSources[source]!;
    this.table.applyDelta(announced, withdrawn);
    for (let i = 0; i < announced.length; i++) {
      if (announced.family(i) === 4) stats.v4++;
      else stats.v6++;
    }
    for (let i = 0; i < withdrawn.length; i++) {
      if (withdrawn.family(i) === 4) stats.v4--;
      else stats.v6--;
    }
    stats.announced += announced.length;
    stats.withdrawn += withdrawn.length;
    stats.lastUpdate = this.#now();
    if (full) {
      stats.complete = true;
      stats.expired = false;
    }

    const s = this.store;
    let changed = 0;
    const touched = announced.length + withdrawn.length;
    if (touched === 0) {
      // nothing to revalidate
    } else if (this.#fullPassRatio > 0 && touched * this.#fullPassRatio > s.size) {
      // A delta about as large as the route set (a first full set): one pass over all
      // routes costs less than walking a subtree per VRP.
      changed = this.revalidateAll();
    } else {
      const visit = (id: number): void => {
        changed += this.#revalidate(id);
      };
      for (const list of [withdrawn, announced]) {
        for (let i = 0; i < list.length; i++) {
          s.forEachInside(
            list.family(i),
            list.word(i, 0),
            list.word(i, 1),
            list.word(i, 2),
            list.word(i, 3),
            list.prefixLength(i),
            visit,
          );
        }
      }
    }
    const becameReady = full && !this.ready;
    if (full) this.ready = true;
    this.listener.vrpsApplied?.(source, announced.length, withdrawn.length, full, changed);
    // An empty delta (a file rewritten with the same VRPs) changes nothing that the
    // analyses walking every route would see: at full scale each run blocks for hundreds of ms.
    if (touched > 0 || becameReady) this.listener.changed?.();
  }

  // ------------------------------------------------------------ validation

  /** Revalidates every route in one pass; returns how many changed. */
  revalidateAll(): number {
    const s = this.store;
    let changed = 0;
    for (let id = 0; id < s.used; id++) if (s.state[id] !== FREE) changed += this.#revalidate(id);
    return changed;
  }

  /** Revalidates route `id`; returns 1 when its code changed. */
  #revalidate(id: number): number {
    const s = this.store;
    const from = s.state[id]!;
    const to = this.#validate(id);
    if (from === to) return 0;
    const afi = s.family[id] === 4 ? 0 : 1;
    const base = (s.group[id]! * 2 + afi) * 4;
    this.counts[base + from]!--;
    this.counts[base + to]!++;
    s.state[id] = to;
    s.changedAt[id] = this.#now() / 1000;
    const fromState = STATE_OF_CODE[from]!;
    const toState = STATE_OF_CODE[to]!;
    if (this.ready && fromState !== toState) this.stateChanges[fromState * 3 + toState]!++;
    if (this.ready) this.listener.routeChanged?.(id, from, to);
    return 1;
  }

  #validate(id: number): number {
    const s = this.store;
    const origin = s.flags[id] === 0 ? s.origin[id]! : 0;
    const n = s.node[id]!;
    if (s.family[id] === 4) return this.table.validateV4(s.v4.addr[n]!, s.v4.len[n]!, origin);
    const a = s.v6.addr;
    const b = n << 2;
    return this.table.validateV6(a[b]!, a[b + 1]!, a[b + 2]!, a[b + 3]!, s.v6.len[n]!, origin);
  }

  /** Why route `id` has its state: the VRPs behind it (computed now, not stored). */
  explain(id: number): Explanation {
    return this.table.explain(this.store.prefixText(id), this.store.originValue(id));
  }

  /** Routes per state name for one group (or all with group -1) and family (or both with -1). */
  countOf(state: StateName, group = -1, afi = -1): number {
    let total = 0;
    const groups = this.store.groups.length;
    for (let g = 0; g < groups; g++) {
      if (group >= 0 && g !== group) continue;
      for (let a = 0; a < 2; a++) {
        if (afi >= 0 && a !== afi) continue;
        for (let code = 0; code < 4; code++)
          if (STATES[STATE_OF_CODE[code]!] === state) total += this.counts[(g * 2 + a) * 4 + code]!;
      }
    }
    return total;
  }

  // --------------------------------------------------------- address space

  /**
   * Address space per (group, afi, state), overlaps counted once: index
   * (group * 2 + afi) * 3 + state, in /24 units for IPv4 and /48 units for IPv6. A
   * route inside another route of the same group and state adds nothing. One walk of
   * each trie: too slow for every scrape at full-table scale, so callers debounce it.
   */
  addressSpace(): Float64Array {
    return runToEnd(this.addressSpaceSteps());
  }

  /**
   * addressSpace as steps (see steps.ts) over `columns`: the live store when run to the
   * end at once, a copy (`store.columns()`) when run in slices.
   */
  *addressSpaceSteps(columns: RouteColumns = this.store): Steps<Float64Array> {
    const groups = columns.groups.length;
    const out = new Float64Array(groups * 2 * 3);
    yield* space(columns, columns.v4, 0, 24, out);
    yield* space(columns, columns.v6, 1, 48, out);
    return out;
  }

  /** ValidationCode of route `id` (for tests and the API). */
  stateOf(id: number): number {
    return this.store.state[id]!;
  }
}

function* space(
  s: RouteColumns,
  trie: TrieColumns,
  afi: number,
  unitBits: number,
  out: Float64Array,
): Steps<void> {
  if (trie.root === NONE) return;
  const groups = s.groups.length;
  // cover[group * 3 + state]: routes of that group and state on the path from the root.
  const cover = new Int32Array(groups * 3);
  const units = new Float64Array(129);
  for (let l = 0; l <= 128; l++) units[l] = 2 ** (unitBits - l);
  const head = trie.head;
  const next = s.next;
  const len = trie.len;
  // Entering node n pushes ~n to be met again on the way back up.
  const stack: number[] = [trie.root];
  let steps = 0;
  while (stack.length > 0) {
    if (++steps === STEP_NODES) {
      steps = 0;
      yield;
    }
    const x = stack.pop()!;
    if (x >= 0) {
      stack.push(~x);
      for (let id = head[x]!; id !== NONE; id = next[id]!) {
        const k = s.group[id]! * 3 + STATE_OF_CODE[s.state[id]!]!;
        if (cover[k]++ === 0) out[(s.group[id]! * 2 + afi) * 3 + (k % 3)]! += units[len[x]!]!;
      }
      const c1 = trie.child1[x]!;
      const c0 = trie.child0[x]!;
      if (c1 !== NONE) stack.push(c1);
      if (c0 !== NONE) stack.push(c0);
    } else {
      const n = ~x;
      for (let id = head[n]!; id !== NONE; id = next[id]!)
        cover[s.group[id]! * 3 + STATE_OF_CODE[s.state[id]!]!]!--;
    }
  }
}

export { ValidationCode };
