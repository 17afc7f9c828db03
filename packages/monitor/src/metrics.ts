// Prometheus metrics (prom-client, an own Registry, prefix rovkit_). Every value is read
// at scrape time from counts the engine keeps current, so a scrape costs the same with
// 90 routes or 1.25 million; only the address space is computed off the scrape, after
// changes (debounced, see Monitor). Every state/reason/afi/group combination is exported
// with an explicit zero, so that queries and alert rules see 0 rather than "no data".
import { Counter, Gauge, Registry } from 'prom-client';
import { AFIS, STATE_OF_CODE, STATES, type Engine } from './engine/engine.js';
import { FALLBACKS, type FallbackResult } from './engine/fallback.js';
import {
  policyStageNames,
  POLICY_STAGES,
  UPDATE_TREATMENTS,
  type BmpListenerCounters,
  type BmpRouter,
} from './feeds/bmp/index.js';
import type { BmpAnalysis } from './sources/bmp-analysis.js';
import { routerLabels } from './sources/bmp-analysis.js';
import { CACHE_STATES, DATA_STATES, type RtrCacheStatus } from './sources/rtr-source.js';
import type { RtrDataState } from '@rovkit/rtr-client';

/** BMP message types as rovkit_bmp_messages_total names them, by type number (7: any other). */
const BMP_MESSAGE_TYPES = [
  'route_monitoring',
  'statistics_report',
  'peer_down',
  'peer_up',
  'initiation',
  'termination',
  'route_mirroring',
  'unknown',
] as const;

/** The labels of rovkit_routes per ValidationCode (0 NotFound, 1 Valid, 2 InvalidAs, 3 InvalidLength). */
const ROUTE_LABELS = [
  { state: 'not_found', reason: 'none' },
  { state: 'valid', reason: 'none' },
  { state: 'invalid', reason: 'as' },
  { state: 'invalid', reason: 'length' },
] as const;

/** rovkit_route_state values: 1 valid, 0 not found, -1 invalid (as), -2 invalid (length). */
const ROUTE_STATE_VALUE = [0, 1, -1, -2] as const;

export interface MetricsSources {
  readonly engine: Engine;
  /** Address space per (group, afi, state) as Engine.addressSpace() returns it, last computed. */
  addressSpace(): Float64Array;
  /** RTR caches, in preference order. */
  rtrCaches(): readonly RtrCacheStatus[];
  /** State of the RTR data (undefined without RTR caches: no rovkit_rtr_data_state). */
  rtrDataState?(): RtrDataState | undefined;
  /** The fallback analysis of the Invalid routes, last computed (undefined before the first). */
  fallback?(): FallbackResult | undefined;
  /** With a BMP listener: the connected routers and the last analysis of their RIBs. */
  readonly bmp?: {
    routers(): Iterable<BmpRouter>;
    analysis(): BmpAnalysis;
    /** The listener's connection counters and the connections waiting for Initiation. */
    listener?(): { readonly counters: BmpListenerCounters; readonly pending: number };
  };
}

export interface MetricsOptions {
  readonly version: string;
  /** Export rovkit_route_state per route, at most `routeSeriesLimit` series. */
  readonly routeSeries?: boolean;
  readonly routeSeriesLimit?: number;
  /** Called once when the per-route series hit the limit. */
  readonly onRouteSeriesCapped?: (routes: number, limit: number) => void;
  /** Export the per-router and per-peer BMP series (rovkit_bmp_*); opt-in. */
  readonly bmpPeerMetrics?: boolean;
}

export function createMetrics(sources: MetricsSources, options: MetricsOptions): Registry {
  const registry = new Registry();
  const { engine } = sources;
  const store = engine.store;

  new Gauge({
    name: 'rovkit_routes',
    help: 'Routes by RPKI validation state (valid, invalid, not_found), reason for invalid (as, length), address family and group.',
    labelNames: ['state', 'reason', 'afi', 'group'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = engine.counts;
      for (let g = 0; g < store.groups.length; g++)
        for (let a = 0; a < 2; a++)
          for (let code = 0; code < 4; code++)
            this.set(
              { ...ROUTE_LABELS[code]!, afi: AFIS[a]!, group: store.groups[g]! },
              counts[(g * 2 + a) * 4 + code]!,
            );
    },
  });

  new Gauge({
    name: 'rovkit_address_space',
    help: 'Address space of the routes by validation state, address family and group, overlaps counted once, in /24 units for IPv4 and /48 units for IPv6.',
    labelNames: ['state', 'afi', 'group'],
    registers: [registry],
    collect() {
      this.reset();
      const space = sources.addressSpace();
      for (let g = 0; g < store.groups.length; g++)
        for (let a = 0; a < 2; a++)
          for (let s = 0; s < 3; s++)
            this.set(
              { state: STATES[s]!, afi: AFIS[a]!, group: store.groups[g]! },
              space[(g * 2 + a) * 3 + s] ?? 0,
            );
    },
  });

  new Gauge({
    name: 'rovkit_vrps',
    help: 'VRPs held per source and address family.',
    labelNames: ['afi', 'source'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of engine.vrpSources) {
        this.set({ afi: 'ipv4', source: s.name }, s.v4);
        this.set({ afi: 'ipv6', source: s.name }, s.v6);
      }
    },
  });

  new Gauge({
    name: 'rovkit_vrp_source_last_update_timestamp_seconds',
    help: 'Unix time of the last VRP update of each source (file reloaded, RTR End of Data); 0 before the first.',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of engine.vrpSources) this.set({ source: s.name }, (s.lastUpdate ?? 0) / 1000);
    },
  });

  new Counter({
    name: 'rovkit_vrp_changes_total',
    help: 'VRPs announced and withdrawn per source since start (the first full set counts as announced).',
    labelNames: ['source', 'op'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of engine.vrpSources) {
        this.inc({ source: s.name, op: 'announce' }, s.announced);
        this.inc({ source: s.name, op: 'withdraw' }, s.withdrawn);
      }
    },
  });

  const caches = (): readonly RtrCacheStatus[] => sources.rtrCaches();
  new Gauge({
    name: 'rovkit_rtr_up',
    help: 'Whether the RTR session with the cache is established and in sync (1) or not (0: connecting, syncing a first set, down, or idle as a backup).',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of caches()) this.set({ cache: c.name }, c.state === 'synced' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rovkit_rtr_data_state',
    help: 'State of the VRP data from RTR, apart from the connections: 1 for the current one of synced (from a cache in session), stale (its session is gone, used until expire), expired (purged, nothing replaced it), none (never loaded).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const current = sources.rtrDataState?.();
      if (current === undefined) return;
      for (const s of DATA_STATES) this.set({ state: s }, current === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rovkit_rtr_state',
    help: 'Connection state of each RTR cache: 1 for the current state, 0 for the others (a cache that failed stays down through its retries until it syncs).',
    labelNames: ['cache', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of caches())
        for (const s of CACHE_STATES) this.set({ cache: c.name, state: s }, c.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rovkit_rtr_serial',
    help: 'Serial number of the data last synced from each RTR cache (0 before the first sync).',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of caches()) this.set({ cache: c.name }, c.serial ?? 0);
    },
  });
  new Gauge({
    name: 'rovkit_rtr_version',
    help: 'RTR protocol version of the last session with each cache (0 before the first sync; versions 0 to 2).',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of caches()) this.set({ cache: c.name }, c.version ?? 0);
    },
  });
  new Gauge({
    name: 'rovkit_rtr_last_sync_timestamp_seconds',
    help: 'Unix time of the last End of Data from each RTR cache (0 before the first).',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of caches()) this.set({ cache: c.name }, (c.lastSync ?? 0) / 1000);
    },
  });
  new Counter({
    name: 'rovkit_rtr_state_changes_total',
    help: 'State changes of each RTR cache since start.',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of caches()) this.inc({ cache: c.name }, c.stateChanges);
    },
  });

  new Counter({
    name: 'rovkit_route_state_changes_total',
    help: 'Routes that changed validation state because the VRPs changed, by old and new state.',
    labelNames: ['from', 'to'],
    registers: [registry],
    collect() {
      this.reset();
      for (let f = 0; f < 3; f++)
        for (let t = 0; t < 3; t++)
          if (f !== t) this.inc({ from: STATES[f]!, to: STATES[t]! }, engine.stateChanges[f * 3 + t]!);
    },
  });

  const build = new Gauge({
    name: 'rovkit_build_info',
    help: 'rovkit version and Node.js version; always 1.',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  });
  build.set({ version: options.version, nodejs: process.versions.node }, 1);

  new Gauge({
    name: 'rovkit_invalid_routes',
    help: 'Invalid routes by what dropping them leaves: covered (a Valid or NotFound route of the same or a less specific prefix, or more specifics tiling it, keeps all of it reachable), partial (more specific routes keep part), none (nothing left). Over all routes of all sources.',
    labelNames: ['fallback', 'afi'],
    registers: [registry],
    collect() {
      this.reset();
      const f = sources.fallback?.();
      for (let a = 0; a < 2; a++)
        for (let k = 0; k < 3; k++)
          this.set({ fallback: FALLBACKS[k]!, afi: AFIS[a]! }, f?.routes[a * 3 + k] ?? 0);
    },
  });
  new Gauge({
    name: 'rovkit_invalid_address_space',
    help: 'Address space of the Invalid routes (overlaps counted once) that routes which are not Invalid still cover (fallback="covered") or that would have no route left (fallback="none"), in /24 units for IPv4 and /48 units for IPv6.',
    labelNames: ['fallback', 'afi'],
    registers: [registry],
    collect() {
      this.reset();
      const f = sources.fallback?.();
      for (let a = 0; a < 2; a++) {
        this.set({ fallback: 'covered', afi: AFIS[a]! }, f?.space[a * 2] ?? 0);
        this.set({ fallback: 'none', afi: AFIS[a]! }, f?.space[a * 2 + 1] ?? 0);
      }
    },
  });

  const bmp = sources.bmp;
  if (bmp !== undefined) {
    new Gauge({
      name: 'rovkit_rov_invalid_accepted',
      help: 'Invalid routes (per peer, prefix and origin) that a BMP router received pre-policy and kept: they reached its post-policy Adj-RIB-In, or its Loc-RIB where it sends no post-policy view.',
      labelNames: ['router'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of bmp.analysis().routers) this.set({ router: r.label }, r.accepted);
      },
    });
    new Gauge({
      name: 'rovkit_rov_invalid_rejected',
      help: 'Invalid routes (per peer, prefix and origin) that a BMP router received pre-policy and did not keep (absent from its post-policy Adj-RIB-In, or its Loc-RIB where it sends no post-policy view).',
      labelNames: ['router'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of bmp.analysis().routers) this.set({ router: r.label }, r.rejected);
      },
    });
  }
  if (bmp !== undefined) {
    // Bounded labels: the connected routers (at most --bmp-max-routers) and three treatments.
    new Counter({
      name: 'rovkit_bmp_update_errors_total',
      help: 'Route Monitoring messages from each BMP router (current session) whose BGP UPDATE does not parse, by RFC 7606 treatment: treat-as-withdraw (its routes withdrawn), reset (the peer RIB family forgotten), not-update (another BGP message type, ignored).',
      labelNames: ['router', 'treatment'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [router, label] of routerLabels(bmp.routers()))
          for (let t = 0; t < UPDATE_TREATMENTS.length; t++)
            this.inc(
              { router: label, treatment: UPDATE_TREATMENTS[t]! },
              router.counters.updateErrors[t] ?? 0,
            );
      },
    });
    const listener = bmp.listener;
    if (listener !== undefined) {
      new Counter({
        name: 'rovkit_bmp_closed_connections_total',
        help: 'BMP connections the listener closed, by reason: init_timeout (no Initiation in --bmp-init-timeout), idle_timeout, pending_evicted (--bmp-max-pending), router_evicted (a router without peers gave its slot), refused (--bmp-max-routers), error (a malformed stream).',
        labelNames: ['reason'],
        registers: [registry],
        collect() {
          this.reset();
          const c = listener().counters;
          this.inc({ reason: 'init_timeout' }, c.initTimeouts);
          this.inc({ reason: 'idle_timeout' }, c.idleTimeouts);
          this.inc({ reason: 'pending_evicted' }, c.evictedPending);
          this.inc({ reason: 'router_evicted' }, c.evictedRouters);
          this.inc({ reason: 'refused' }, c.refusedConnections);
          this.inc({ reason: 'error' }, c.sessionErrors);
        },
      });
      new Gauge({
        name: 'rovkit_bmp_connections',
        help: 'BMP connections open: state="router" sent its Initiation, state="pending" is waiting for it.',
        labelNames: ['state'],
        registers: [registry],
        collect() {
          this.reset();
          const l = listener();
          let routers = 0;
          for (const _ of bmp.routers()) routers++;
          this.set({ state: 'router' }, routers);
          this.set({ state: 'pending' }, l.pending);
        },
      });
    }
  }
  if (bmp !== undefined && options.bmpPeerMetrics === true) {
    new Gauge({
      name: 'rovkit_bmp_peers_up',
      help: 'BGP peers of each BMP router that are up (Peer Up received, no Peer Down since).',
      labelNames: ['router'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [router, label] of routerLabels(bmp.routers())) {
          let up = 0;
          for (const peer of router.peers.values()) if (peer.up) up++;
          this.set({ router: label }, up);
        }
      },
    });
    new Counter({
      name: 'rovkit_bmp_messages_total',
      help: 'BMP messages received from each router in its current session, by message type.',
      labelNames: ['router', 'type'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [router, label] of routerLabels(bmp.routers()))
          for (let t = 0; t < BMP_MESSAGE_TYPES.length; t++)
            this.inc({ router: label, type: BMP_MESSAGE_TYPES[t]! }, router.counters.messages[t] ?? 0);
      },
    });
    new Gauge({
      name: 'rovkit_bmp_peer_routes',
      help: 'Routes per BMP router, peer, RIB (pre-policy, post-policy, adj-rib-out-*, loc-rib) and validation state.',
      labelNames: ['router', 'peer', 'peer_as', 'rib', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of bmp.analysis().routers)
          for (const p of r.peers)
            for (const stage of POLICY_STAGES) {
              const b = stage * 3;
              if (p.states[b]! + p.states[b + 1]! + p.states[b + 2]! === 0 && p.peer.routeCount(stage) === 0)
                continue;
              for (let st = 0; st < 3; st++)
                this.set(
                  {
                    router: r.label,
                    peer: p.label,
                    peer_as: String(p.peer.asn),
                    rib: policyStageNames[stage],
                    state: STATES[st]!,
                  },
                  p.states[b + st]!,
                );
            }
      },
    });
  }

  if (options.routeSeries === true) {
    const limit = options.routeSeriesLimit ?? 1000;
    let warned = false;
    new Gauge({
      name: 'rovkit_route_state',
      help: 'Validation state per route: 1 valid, 0 not found, -1 invalid (as), -2 invalid (length). Opt-in, capped in series.',
      labelNames: ['prefix', 'origin', 'group'],
      registers: [registry],
      collect() {
        this.reset();
        let n = 0;
        // Invalid routes first, so that a cap drops the least interesting series.
        for (const wantInvalid of [true, false]) {
          for (let id = 0; id < store.used && n < limit; id++) {
            if (store.sources[id] === 0) continue;
            const code = store.state[id]!;
            if ((STATE_OF_CODE[code] === 1) !== wantInvalid) continue;
            const origin = store.originValue(id);
            this.set(
              {
                prefix: store.prefixText(id),
                origin: origin === 'none' ? 'none' : `AS${origin}`,
                group: store.groups[store.group[id]!]!,
              },
              ROUTE_STATE_VALUE[code as 0 | 1 | 2 | 3],
            );
            n++;
          }
        }
        if (n >= limit && store.size > limit && !warned) {
          warned = true;
          options.onRouteSeriesCapped?.(store.size, limit);
        }
      },
    });
  }
  return registry;
}
