// rpki-validator@2.14.7 (npm, Massimo Candela; trie from longest-prefix-match@1.3.1,
// address handling from ip-sub@1.9) as the JavaScript peer.
//
// Feeding it without network (read from node_modules/rpki-validator/dist/index.js and
// dist/connectors/ExternalConnector.js): `new RpkiValidator({ connector: 'external' })`,
// then `setVRPs(array)` and `preCache()`. The constructor also asks
// `${defaultRpkiApi}/status` over HTTP unless `defaultRpkiApi` is null, and starts a 500 ms
// interval that posts queued online validations; we pass `defaultRpkiApi: null` and an
// `axios` that always rejects, and call `destroy()` to clear the timers.
// `setVRPs` maps each item to { prefix, asn: parseInt(asn without "AS"), maxLength, ta,
// expires, notBefore } and drops any that net-validations' validateVRP rejects;
// `preCache()` validates each again and inserts it into a bit-string trie keyed by the
// prefix's binary digits ("0101…"). Once cached, `validate(prefix, origin, verbose)` is
// `Promise.resolve(validateFromCacheSync(...))` after checking prefix syntax and origin;
// `validateFromCacheSync` is public and skips those checks.
//
// Semantic quirks (checked by test/peers-rpki-validator.test.ts where marked *):
// - AS0 (*): it compares `roa.asn === origin` with no special case for 0, so a route with
//   origin 0 under a covering AS0 VRP whose maxLength admits it is Valid. RFC 6483 section 4
//   and RFC 7607 say Invalid. An AS0 VRP with any other origin behaves as RFC 6811 wants
//   (covers, never matches). An AS_SET origin cannot be passed at all (validate("…", "none")
//   throws: parseInt gives NaN), so we pass 0 and inherit the quirk above.
// - maxLength (*): Valid iff some covering VRP has the origin and prefix length <= maxLength,
//   which is RFC 6811. When loading, VRPs with maxLength < 1 (so "0.0.0.0/0" with maxLength 0),
//   maxLength below the prefix length or above 32/128 are dropped silently.
// - /0 VRPs (*): the trie lookup starts at depth 1 and never reads the root, so a VRP for
//   0.0.0.0/0 or ::/0 covers nothing; routes under it read NotFound instead of Invalid/Valid.
// - Host bits (*): neither VRP nor route prefixes are checked for host bits; the address is
//   masked silently ("10.0.0.1/8" validates as 10.0.0.0/8).
// - IPv6: the address family is "contains ':'". Dotted-quad IPv6 ("::ffff:1.2.3.0/120") is
//   accepted by the syntax check but misread (each group is parsed as hex, "1.2.3.0" → 0x1),
//   so datasets.ts formats IPv4-mapped addresses in hex only.
// - Duplicates are stored twice (no reference counting, no dedup); getLength() counts both.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

import type { RouteSet } from '../datasets.js';
import { collectGarbage, memory, now, summarize, type Summary } from '../stats.js';
import { PeerError, PeerState } from './errors.js';

interface Verbose {
  valid: boolean | null;
  reason: string | null;
  covering: { prefix: string; maxLength: number; asn: number }[];
}

interface RpkiValidatorInstance {
  setVRPs(vrps: readonly unknown[]): void;
  preCache(everyMinutes?: number): Promise<boolean>;
  validate(prefix: string, origin: number | string, verbose?: boolean): Promise<boolean | null | Verbose>;
  validateFromCacheSync(prefix: string, origin: number, verbose?: boolean): boolean | null | Verbose;
  getLength(): number;
  destroy(): void;
}

type RpkiValidatorClass = new (options: Record<string, unknown>) => RpkiValidatorInstance;

let constructorCache: RpkiValidatorClass | undefined;

function rpkiValidatorClass(): RpkiValidatorClass {
  if (constructorCache === undefined) {
    try {
      constructorCache = createRequire(import.meta.url)('rpki-validator') as RpkiValidatorClass;
    } catch (error) {
      throw new PeerError('BENCH_ERR_PEER_MISSING', 'rpki-validator', 'not installed (run npm install)', {
        cause: error,
      });
    }
  }
  return constructorCache;
}

function stateOf(result: boolean | null | Verbose): PeerState {
  const valid = typeof result === 'object' && result !== null ? result.valid : result;
  return valid === true ? PeerState.Valid : valid === false ? PeerState.Invalid : PeerState.NotFound;
}

/** One loaded rpki-validator; call dispose() when done (it holds a timer). */
export class RpkiValidatorPeer {
  readonly #validator: RpkiValidatorInstance;

  constructor(validator: RpkiValidatorInstance) {
    this.#validator = validator;
  }

  /** VRPs held (duplicates count twice). */
  get size(): number {
    return this.#validator.getLength();
  }

  /** The synchronous cache path (`validateFromCacheSync`, verbose off). "none" goes in as 0. */
  state(prefix: string, origin: number | 'none'): PeerState {
    return stateOf(this.#validator.validateFromCacheSync(prefix, origin === 'none' ? 0 : origin, false));
  }

  /** The documented API (`validate`, a Promise, with its input checks). */
  async stateAsync(prefix: string, origin: number | 'none'): Promise<PeerState> {
    return stateOf(await this.#validator.validate(prefix, origin === 'none' ? 0 : origin, false));
  }

  /** The verbose answer, for explaining a difference. */
  explain(prefix: string, origin: number | 'none'): Verbose {
    return this.#validator.validateFromCacheSync(prefix, origin === 'none' ? 0 : origin, true) as Verbose;
  }

  dispose(): void {
    this.#validator.destroy();
  }
}

/** A validator that never touches the network, fed `vrps` (objects as in the JSON files). */
export async function createRpkiValidator(vrps: readonly unknown[]): Promise<RpkiValidatorPeer> {
  const RpkiValidator = rpkiValidatorClass();
  const validator = new RpkiValidator({
    connector: 'external',
    defaultRpkiApi: null,
    axios: () => Promise.reject(new Error('rovkit benchmarks: network disabled')),
  });
  try {
    validator.setVRPs(vrps);
    await validator.preCache();
  } catch (error) {
    validator.destroy();
    throw new PeerError('BENCH_ERR_PEER_RUN', 'rpki-validator', 'loading VRPs failed', { cause: error });
  }
  return new RpkiValidatorPeer(validator);
}

export interface RpkiValidatorLoad {
  readonly peer: RpkiValidatorPeer;
  /** readFile + gunzip + JSON.parse of the file, ms. */
  readonly parseMs: number;
  /** setVRPs + preCache (validation of every VRP and trie inserts), ms. */
  readonly indexMs: number;
  readonly totalMs: number;
  /** VRPs in the file / held after loading. */
  readonly inFile: number;
  readonly held: number;
}

/** Loads an rpki-client or Routinator JSON (gzip or not) the way a user of the package would. */
export async function loadRpkiValidatorFile(path: string): Promise<RpkiValidatorLoad> {
  const start = now();
  const raw = readFileSync(path);
  const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  const roas = (JSON.parse(text) as { roas?: unknown[] }).roas;
  if (!Array.isArray(roas))
    throw new PeerError('BENCH_ERR_PEER_RUN', 'rpki-validator', `${path}: no "roas" array`);
  const parsed = now();
  const peer = await createRpkiValidator(roas);
  const end = now();
  return {
    peer,
    parseMs: parsed - start,
    indexMs: end - parsed,
    totalMs: end - start,
    inFile: roas.length,
    held: peer.size,
  };
}

export interface RpkiValidatorOptions {
  /** Timed passes over all routes with the synchronous path (default 3). */
  repetitions?: number;
  /** Loads of the file, for the spread of the load time (default 1). */
  loads?: number;
  /** Also time the documented Promise API on this many passes (default 0). */
  promiseRepetitions?: number;
}

export interface RpkiValidatorRun {
  /** Whole load (read, gunzip, JSON.parse, setVRPs, preCache); ops = VRPs in the file. */
  readonly load: Summary;
  readonly loadParse: Summary;
  readonly loadIndex: Summary;
  readonly vrpsInFile: number;
  readonly vrpsHeld: number;
  /** Heap + external growth that the loaded validator keeps, after a full GC. */
  readonly heldBytes: number;
  /** validateFromCacheSync over IPv4 / IPv6 / all routes; ops = routes. */
  readonly v4: Summary;
  readonly v6: Summary;
  readonly all: Summary;
  /** `await validate(...)` per route, when promiseRepetitions > 0. */
  readonly promiseApi?: Summary;
  /** PeerState per route, RouteSet order. */
  readonly results: Uint8Array;
  readonly counts: { notFound: number; valid: number; invalid: number };
}

/**
 * Loads `vrpPath` into rpki-validator and validates every route. `prefixes` is
 * routePrefixes(routes), built once by the caller so that formatting is not timed.
 * The first pass warms up and is not timed; results come from the last pass.
 */
export async function benchRpkiValidator(
  vrpPath: string,
  routes: RouteSet,
  prefixes: readonly string[],
  options: RpkiValidatorOptions = {},
): Promise<RpkiValidatorRun> {
  const { repetitions = 3, loads = 1, promiseRepetitions = 0 } = options;
  if (prefixes.length !== routes.count) {
    throw new RangeError(`prefixes has ${prefixes.length} entries, routes ${routes.count}`);
  }
  const loadMs: number[] = [];
  const parseMs: number[] = [];
  const indexMs: number[] = [];
  let loaded: RpkiValidatorLoad | undefined;
  let heldBytes = 0;
  for (let i = 0; i < loads; i++) {
    loaded?.peer.dispose();
    loaded = undefined;
    // The disposed validator stays reachable until the pending promise jobs of its load
    // have run; without this turn of the event loop the GC below would not free it.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    const before = memory();
    loaded = await loadRpkiValidatorFile(vrpPath);
    collectGarbage();
    const after = memory();
    heldBytes = after.heapUsed + after.external - before.heapUsed - before.external;
    loadMs.push(loaded.totalMs);
    parseMs.push(loaded.parseMs);
    indexMs.push(loaded.indexMs);
  }
  const { peer } = loaded!;
  try {
    const n4 = routes.v4.count;
    const results = new Uint8Array(routes.count);
    const origin = (i: number): number => {
      const family = i < n4 ? routes.v4 : routes.v6;
      const j = i < n4 ? i : i - n4;
      return family.originIsSet[j] === 1 ? 0 : family.origin[j]!;
    };
    const pass = (from: number, to: number): number => {
      const start = now();
      for (let i = from; i < to; i++) results[i] = peer.state(prefixes[i]!, origin(i));
      return now() - start;
    };
    pass(0, routes.count);
    const v4Ms: number[] = [];
    const v6Ms: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      v4Ms.push(pass(0, n4));
      v6Ms.push(pass(n4, routes.count));
    }
    let promiseApi: Summary | undefined;
    if (promiseRepetitions > 0) {
      const samples: number[] = [];
      for (let r = 0; r < promiseRepetitions; r++) {
        const start = now();
        for (let i = 0; i < routes.count; i++) await peer.stateAsync(prefixes[i]!, origin(i));
        samples.push(now() - start);
      }
      promiseApi = summarize(samples, routes.count);
    }
    const counts = { notFound: 0, valid: 0, invalid: 0 };
    for (const state of results) {
      if (state === PeerState.Valid) counts.valid++;
      else if (state === PeerState.Invalid) counts.invalid++;
      else counts.notFound++;
    }
    const run: RpkiValidatorRun = {
      load: summarize(loadMs, loaded!.inFile),
      loadParse: summarize(parseMs, loaded!.inFile),
      loadIndex: summarize(indexMs, loaded!.inFile),
      vrpsInFile: loaded!.inFile,
      vrpsHeld: loaded!.held,
      heldBytes,
      v4: summarize(v4Ms, n4),
      v6: summarize(v6Ms, routes.v6.count),
      all: summarize(
        v4Ms.map((ms, i) => ms + v6Ms[i]!),
        routes.count,
      ),
      results,
      counts,
    };
    return promiseApi === undefined ? run : { ...run, promiseApi };
  } finally {
    peer.dispose();
  }
}
