// The JSON API: Routinator's validity API (single GET and batch POST, same JSON shape,
// so tools written for Routinator read rovkit's answers) and the operator's routes with
// state, reason, explanation and last change.
import { RovError, toValidityJson, type Explanation, type ValidityJson } from '@rovkit/core';
import { STATE_OF_CODE, STATES, type Engine } from '../engine/engine.js';

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

/** Most routes a batch validity request may ask about. */
export const MAX_BATCH_ROUTES = 100_000;

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
  const asn = decodeURIComponent(path.slice(0, slash));
  const prefix = decodeURIComponent(path.slice(slash + 1));
  return {
    validated_route: toValidityJson(explainOrThrow(engine, prefix, asn)),
    generatedTime: generatedTime(engine),
  };
}

/** POST /api/v1/validity with {"routes": [{"asn": ..., "prefix": ...}, ...]}. */
export function validityBatch(
  engine: Engine,
  body: unknown,
): { validated_routes: ValidityJson[]; generatedTime: string } {
  const routes = (body as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes))
    throw new ApiError(400, 'expected {"routes": [{"asn": ..., "prefix": ...}, ...]}');
  if (routes.length > MAX_BATCH_ROUTES)
    throw new ApiError(413, `${routes.length} routes in one request; at most ${MAX_BATCH_ROUTES}`);
  const validated = routes.map((r: unknown, i) => {
    if (typeof r !== 'object' || r === null)
      throw new ApiError(400, `routes[${i}]: expected {"asn", "prefix"}`);
    const { asn, prefix } = r as { asn?: unknown; prefix?: unknown };
    try {
      return toValidityJson(explainOrThrow(engine, prefix, asn));
    } catch (error) {
      if (error instanceof ApiError) throw new ApiError(error.status, `routes[${i}]: ${error.message}`);
      throw error;
    }
  });
  return { validated_routes: validated, generatedTime: generatedTime(engine) };
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
