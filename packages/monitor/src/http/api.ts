// The JSON API: Routinator's validity API (single GET and batch POST, same JSON shape,
// so tools written for Routinator read rovkit's answers) and the operator's routes with
// state, reason, explanation and last change.
import { RovError, toValidityJson, type Explanation, type ValidityJson } from '@rovkit/core';
import { STATE_OF_CODE, STATES, type Engine, type StateName } from '../engine/engine.js';
import { BATCH_SLICE_MS } from './limits.js';
import { FALLBACKS, type FallbackName, type FallbackResult } from '../engine/fallback.js';
import type { BmpAnalysis, InvalidSeen, RovEvidence } from '../sources/bmp-analysis.js';

/** An API request that cannot be answered: HTTP status and a message naming the bad value. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code = 'ROVKIT_ERR_API';
  readonly status: number;

  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

function originOf(text: unknown): number | 'none' {
  if (typeof text === 'number' && Number.isInteger(text) && text >= 0 && text <= 0xffffffff) return text;
  if (typeof text !== 'string') throw new ApiError(400, `invalid AS number ${JSON.stringify(text)}`);
  if (text.toLowerCase() === 'none') return 'none';
  const m = /^(?:AS)?(\d{1,10})$/i.exec(text);
  const n = m === null ? NaN : Number(m[1]);
  if (!(n >= 0 && n <= 0xffffffff)) throw new ApiError(400, `invalid AS number "${text}"`);
  return n;
}

function explainOrThrow(engine: Engine, prefix: unknown, asn: unknown): Explanation {
  if (typeof prefix !== 'string') throw new ApiError(400, `invalid prefix ${JSON.stringify(prefix)}`);
  const origin = originOf(asn);
  try {
    return engine.table.explain(prefix, origin);
  } catch (error) {
    if (error instanceof RovError) throw new ApiError(400, error.message, { cause: error });
    throw error;
  }
}

/** Time of the newest VRP data, as Routinator's `generatedTime`. */
export function generatedTime(engine: Engine): string {
  let newest = 0;
  for (const s of engine.vrpSources) newest = Math.max(newest, s.lastUpdate ?? 0);
  return new Date(newest).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** GET /api/v1/validity/<asn>/<prefix>: `path` is what follows /api/v1/validity/. */
export function validityOne(
  engine: Engine,
  path: string,
): { validated_route: ValidityJson; generatedTime: string } {
  const slash = path.indexOf('/');
  if (slash < 0) throw new ApiError(400, 'expected /api/v1/validity/AS<asn>/<prefix>');
  const asn = decodePart(path.slice(0, slash));
  const prefix = decodePart(path.slice(slash + 1));
  return {
    validated_route: toValidityJson(explainOrThrow(engine, prefix, asn)),
    generatedTime: generatedTime(engine),
  };
}

function decodePart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    const shown = text.length > 100 ? `${text.slice(0, 100)}...` : text;
    throw new ApiError(400, `bad percent-escape in ${JSON.stringify(shown)}`, { cause: error });
  }
}

export interface BatchLimits {
  /** Most routes in one request (413 beyond). */
  readonly maxRoutes: number;
  /** Largest answer in bytes: the request is refused (413) as soon as the answer would exceed it. */
  readonly maxAnswerBytes: number;
  /** True once the client is gone: the work stops. */
  readonly abandoned?: () => boolean;
  /** A turn of the event loop between slices (setImmediate). */
  readonly yieldNow?: () => Promise<void>;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * POST /api/v1/validity with {"routes": [{"asn": ..., "prefix": ...}, ...]}: the answer as
 * JSON text, Routinator's shape, one route per line. Worked in slices of about
 * BATCH_SLICE_MS with a turn of the event loop between them, so /metrics keeps answering;
 * the answer is complete or refused, never cut: past `maxAnswerBytes` a 413 says so.
 */
export async function validityBatch(engine: Engine, body: unknown, limits: BatchLimits): Promise<string> {
  const routes = (body as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes))
    throw new ApiError(400, 'expected {"routes": [{"asn": ..., "prefix": ...}, ...]}');
  if (routes.length > limits.maxRoutes)
    throw new ApiError(
      413,
      `${routes.length} routes in one request; at most ${limits.maxRoutes} (--http-max-batch-routes)`,
    );
  const yieldNow = limits.yieldNow ?? nextTurn;
  const items: string[] = [];
  let bytes = 0;
  let sliceStart = performance.now();
  for (let i = 0; i < routes.length; i++) {
    const r: unknown = routes[i];
    if (typeof r !== 'object' || r === null)
      throw new ApiError(400, `routes[${i}]: expected {"asn", "prefix"}`);
    const { asn, prefix } = r as { asn?: unknown; prefix?: unknown };
    let item: string;
    try {
      item = JSON.stringify(toValidityJson(explainOrThrow(engine, prefix, asn)));
    } catch (error) {
      if (error instanceof ApiError)
        throw new ApiError(error.status, `routes[${i}]: ${error.message}`, { cause: error });
      throw error;
    }
    // The text is ASCII (prefixes, AS numbers, fixed words): length is bytes.
    bytes += item.length + 2;
    if (bytes > limits.maxAnswerBytes)
      throw new ApiError(
        413,
        `the answer would exceed ${limits.maxAnswerBytes} bytes (at routes[${i}] of ${routes.length}, under many covering VRPs); ask for fewer routes per request (--http-max-answer)`,
      );
    items.push(item);
    if (performance.now() - sliceStart >= BATCH_SLICE_MS) {
      await yieldNow();
      if (limits.abandoned?.() === true) throw new ApiError(400, 'the client closed the connection');
      sliceStart = performance.now();
    }
  }
  return `{"validated_routes": [\n${items.join(',\n')}\n], "generatedTime": ${JSON.stringify(generatedTime(engine))}}\n`;
}

export interface RouteJson {
  prefix: string;
  origin_asn: string;
  group: string;
  description: string;
  state: 'valid' | 'invalid' | 'not-found';
  reason?: 'as' | 'length';
  last_change: string;
  explanation: ValidityJson['validity'];
}

export interface RoutesQuery {
  state?: string;
  group?: string;
  afi?: string;
  limit?: number;
}

/**
 * The routes matching the query, oldest change first is not promised: store order. The
 * explanation is computed for the routes returned only (at most `limit`, default 1000).
 */
export function listRoutes(engine: Engine, query: RoutesQuery): { total: number; routes: RouteJson[] } {
  const store = engine.store;
  let wantState = -1;
  if (query.state !== undefined && query.state !== '') {
    const name = query.state === 'not-found' ? 'not_found' : query.state;
    wantState = STATES.indexOf(name as (typeof STATES)[number]);
    if (wantState < 0)
      throw new ApiError(400, `unknown state "${query.state}": expected valid, invalid or not_found`);
  }
  let wantGroup = -1;
  if (query.group !== undefined && query.group !== '') {
    wantGroup = store.groups.indexOf(query.group);
    if (wantGroup < 0) return { total: 0, routes: [] };
  }
  let wantFamily = 0;
  if (query.afi !== undefined && query.afi !== '') {
    if (query.afi !== 'ipv4' && query.afi !== 'ipv6')
      throw new ApiError(400, `unknown afi "${query.afi}": expected ipv4 or ipv6`);
    wantFamily = query.afi === 'ipv4' ? 4 : 6;
  }
  const limit = query.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 0) throw new ApiError(400, `invalid limit ${String(query.limit)}`);
  const routes: RouteJson[] = [];
  let total = 0;
  for (let id = 0; id < store.used; id++) {
    if (store.sources[id] === 0) continue;
    const code = store.state[id]!;
    if (wantState >= 0 && STATE_OF_CODE[code] !== wantState) continue;
    if (wantGroup >= 0 && store.group[id] !== wantGroup) continue;
    if (wantFamily !== 0 && store.family[id] !== wantFamily) continue;
    total++;
    if (routes.length < limit) routes.push(routeJson(engine, id));
  }
  return { total, routes };
}

export function routeJson(engine: Engine, id: number): RouteJson {
  const store = engine.store;
  const e = toValidityJson(engine.explain(id));
  const out: RouteJson = {
    prefix: e.route.prefix,
    origin_asn: e.route.origin_asn,
    group: store.groups[store.group[id]!]!,
    description: store.descriptions[store.description[id]!]!,
    state: e.validity.state,
    last_change: new Date(store.changedAt[id]! * 1000).toISOString(),
    explanation: e.validity,
  };
  if (e.validity.reason !== undefined) out.reason = e.validity.reason;
  return out;
}

// ------------------------------------------------------- ROV enforcement

export interface RovEnforcementJson {
  computed_at: string | null;
  routers: Array<{
    router: string;
    session: string;
    sys_name: string | null;
    evidence: RovEvidence;
    invalid_accepted: number;
    invalid_rejected: number;
    invalid_unknown: number;
    peers: Array<{
      peer: string;
      peer_as: number;
      type: string;
      up: boolean;
      invalid_seen: number;
      invalid_accepted: number;
      invalid_rejected: number;
    }>;
  }>;
  invalid_total: number;
  invalid: Array<{
    router: string;
    peer: string;
    peer_as: number;
    prefix: string;
    origin_asn: string;
    reason: 'as' | 'length';
    status: InvalidSeen['status'];
  }>;
}

/** GET /api/v1/rov-enforcement[?status=accepted|rejected|unknown&router=&limit=]. */
export function rovEnforcement(
  analysis: BmpAnalysis,
  query: { status?: string; router?: string; limit?: number },
): RovEnforcementJson {
  const status = query.status === '' ? undefined : query.status;
  if (status !== undefined && !['accepted', 'rejected', 'unknown'].includes(status))
    throw new ApiError(400, `unknown status "${status}": expected accepted, rejected or unknown`);
  const limit = query.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 0) throw new ApiError(400, `invalid limit ${String(query.limit)}`);
  const router = query.router === '' ? undefined : query.router;
  const invalid = analysis.invalid
    .filter(
      (r) => (status === undefined || r.status === status) && (router === undefined || r.router === router),
    )
    .slice(0, limit)
    .map((r) => ({
      router: r.router,
      peer: r.peer,
      peer_as: r.peerAs,
      prefix: r.prefix,
      origin_asn: r.origin === 'none' ? 'none' : `AS${r.origin}`,
      reason: r.code === 3 ? ('length' as const) : ('as' as const),
      status: r.status,
    }));
  return {
    computed_at: analysis.computedAt === 0 ? null : new Date(analysis.computedAt).toISOString(),
    routers: analysis.routers
      .filter((r) => router === undefined || r.label === router)
      .map((r) => ({
        router: r.label,
        session: r.router.id,
        sys_name: r.router.sysName ?? null,
        evidence: r.evidence,
        invalid_accepted: r.accepted,
        invalid_rejected: r.rejected,
        invalid_unknown: r.unknown,
        peers: r.peers
          .filter((p) => p.peer.type !== 'loc-rib')
          .map((p) => ({
            peer: p.label,
            peer_as: p.peer.asn,
            type: p.peer.type,
            up: p.peer.up,
            invalid_seen: p.invalidSeen,
            invalid_accepted: p.accepted,
            invalid_rejected: p.rejected,
          })),
      })),
    invalid_total: analysis.invalidTotal,
    invalid,
  };
}

// ------------------------------------------------------------- fallback

export interface InvalidFallbackJson {
  computed_at: string | null;
  routes: Record<'ipv4' | 'ipv6', Record<FallbackName, number>>;
  /** Invalid address space, /24 (IPv4) and /48 (IPv6) units, overlaps once. */
  address_space: Record<'ipv4' | 'ipv6', { covered: number; none: number }>;
  total: number;
  invalid: Array<
    RouteJson & {
      fallback: FallbackName;
      /** Share of the route's address space still reachable without Invalid routes (0..1). */
      covered_share: number;
      /** The non-Invalid route of the same or the nearest less specific prefix, if any. */
      covered_by: { prefix: string; origin_asn: string; state: StateName } | null;
    }
  >;
}

/** GET /api/v1/invalid-fallback[?fallback=covered|partial|none&afi=&group=&limit=]. */
export function invalidFallback(
  engine: Engine,
  result: FallbackResult | undefined,
  computedAt: number,
  query: { fallback?: string; afi?: string; group?: string; limit?: number },
): InvalidFallbackJson {
  const want =
    query.fallback === undefined || query.fallback === ''
      ? -1
      : FALLBACKS.indexOf(query.fallback as FallbackName);
  if (want < 0 && query.fallback !== undefined && query.fallback !== '')
    throw new ApiError(400, `unknown fallback "${query.fallback}": expected covered, partial or none`);
  let wantFamily = 0;
  if (query.afi !== undefined && query.afi !== '') {
    if (query.afi !== 'ipv4' && query.afi !== 'ipv6')
      throw new ApiError(400, `unknown afi "${query.afi}": expected ipv4 or ipv6`);
    wantFamily = query.afi === 'ipv4' ? 4 : 6;
  }
  const limit = query.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 0) throw new ApiError(400, `invalid limit ${String(query.limit)}`);
  const store = engine.store;
  const wantGroup = query.group === undefined || query.group === '' ? -1 : store.groups.indexOf(query.group);
  const counts = (a: number): Record<FallbackName, number> => ({
    covered: result?.routes[a * 3] ?? 0,
    partial: result?.routes[a * 3 + 1] ?? 0,
    none: result?.routes[a * 3 + 2] ?? 0,
  });
  const out: InvalidFallbackJson = {
    computed_at: result === undefined ? null : new Date(computedAt).toISOString(),
    routes: { ipv4: counts(0), ipv6: counts(1) },
    address_space: {
      ipv4: { covered: result?.space[0] ?? 0, none: result?.space[1] ?? 0 },
      ipv6: { covered: result?.space[2] ?? 0, none: result?.space[3] ?? 0 },
    },
    total: 0,
    invalid: [],
  };
  if (result === undefined || (query.group !== undefined && query.group !== '' && wantGroup < 0)) return out;
  for (let k = 0; k < result.ids.length; k++) {
    const id = result.ids[k]!;
    // The walk is a little older than the store: skip routes gone or no longer Invalid.
    if (!store.live(id) || STATE_OF_CODE[store.state[id]!] !== 1) continue;
    if (want >= 0 && result.fallback[k] !== want) continue;
    if (wantFamily !== 0 && store.family[id] !== wantFamily) continue;
    if (wantGroup >= 0 && store.group[id] !== wantGroup) continue;
    out.total++;
    if (out.invalid.length >= limit) continue;
    const by = result.coveredBy[k]!;
    const byLive = by >= 0 && store.live(by);
    out.invalid.push({
      ...routeJson(engine, id),
      fallback: FALLBACKS[result.fallback[k]!]!,
      covered_share: result.coveredShare[k]!,
      covered_by: byLive
        ? {
            prefix: store.prefixText(by),
            origin_asn: store.originValue(by) === 'none' ? 'none' : `AS${store.originValue(by)}`,
            state: STATES[STATE_OF_CODE[store.state[by]!]!]!,
          }
        : null,
    });
  }
  return out;
}
