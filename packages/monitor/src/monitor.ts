// The `rovkit monitor` daemon: wires the engine, the sources, metrics, HTTP and alerts
// together. Everything is built in the constructor from the configuration; nothing runs
// until start() (timers, watchers, sockets), and stop() ends all of it.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { toValidityJson } from '@rovkit/core';
import type { Registry } from 'prom-client';
import { Alerter } from './alerts.js';
import type { MonitorConfig } from './config.js';
import { Engine, STATE_OF_CODE, STATES } from './engine/engine.js';
import { ConfigError } from './errors.js';
import { HttpServer } from './http/server.js';
import { renderStatusPage } from './http/status-page.js';
import { JsonLogger, type LineOutput, type Logger } from './log.js';
import { createMetrics } from './metrics.js';
import type { RouteSource } from './routes/route-source.js';
import { analyseFallback, analyseFallbackSteps, type FallbackResult } from './engine/fallback.js';
import { runSliced } from './engine/steps.js';
import type { RouteEntry } from './routes/route-list.js';
import { RouteClassifier } from './routes/route-classifier.js';
import { analyseBmp, EMPTY_BMP_ANALYSIS, type BmpAnalysis } from './sources/bmp-analysis.js';
import { BmpRouteSource } from './sources/bmp-source.js';
import { MrtRouteSource } from './sources/mrt-source.js';
import { RouteListSource } from './sources/route-list-source.js';
import { RtrSource, type RtrTlsOptions } from './sources/rtr-source.js';
import { VrpFileSource } from './sources/vrp-file-source.js';
import type { VrpSource } from './sources/vrp-source.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface MonitorDeps {
  /** Where log lines (and alerts) go: process.stdout in the daemon. */
  readonly out: LineOutput;
  readonly now?: () => number;
  /** Engine options for tests and benchmarks. */
  readonly capacity?: number;
  /**
   * Longest slice of a whole-table walk, in ms (default 8). 0 yields after every
   * STEP_NODES nodes: tests use it to have a small table walked in many slices.
   */
  readonly sliceMs?: number;
}

export class Monitor {
  readonly config: MonitorConfig;
  readonly engine: Engine;
  readonly log: Logger;
  readonly alerter: Alerter;
  readonly registry: Registry;
  readonly http: HttpServer;
  readonly vrpSources: VrpSource[] = [];
  readonly routeSources: RouteSource[] = [];
  readonly rtr: RtrSource | undefined;
  /** The BMP listener as a route source (with --bmp). */
  readonly bmp: BmpRouteSource | undefined;
  /** Which BMP routes are the operator's (route list prefixes, own ASNs). */
  readonly classifier: RouteClassifier;
  address: AddressInfo | undefined;
  readonly #now: () => number;
  readonly #sliceMs: number;
  #space: Float64Array;
  #fallback: FallbackResult | undefined;
  #bmpAnalysis: BmpAnalysis = EMPTY_BMP_ANALYSIS;
  #analysedAt = 0;
  #analyses = 0;
  // How long the last analyses took: under steady churn at full-table scale (about 0.6 s
  // per run with a BMP full table) they wait at least 4 times that, so they take at most
  // a fifth of a core.
  #analysisMs = 0;
  #spaceTimer: NodeJS.Timeout | undefined;
  /** Route changes counted since start: a change during an analysis arms the next one. */
  #generation = 0;
  #analysing = false;
  #stopping = false;
  readonly #listed = new Map<RouteListSource, readonly RouteEntry[]>();
  #staleTimer: NodeJS.Timeout | undefined;
  /** Routes changed by the VRP update being applied: id, code before, pairwise. */
  #changedRoutes: number[] = [];
  #startedAt = 0;
  #started = false;

  constructor(config: MonitorConfig, deps: MonitorDeps) {
    this.config = config;
    this.#now = deps.now ?? Date.now;
    this.#sliceMs = deps.sliceMs ?? 8;
    this.log = new JsonLogger(deps.out, { level: config.logLevel, now: this.#now });
    this.alerter = new Alerter({
      log: this.log,
      ...(config.webhook === undefined ? {} : { webhook: config.webhook }),
      suppressMs: config.alertSuppress,
      now: this.#now,
    });
    this.engine = new Engine({
      now: this.#now,
      capacity: deps.capacity,
      listener: {
        routeChanged: (id, from) => this.#changedRoutes.push(id, from),
        vrpsApplied: (source, announced, withdrawn, full, changed) =>
          this.#vrpsApplied(source, announced, withdrawn, full, changed),
        changed: () => this.#scheduleAddressSpace(),
      },
    });
    this.#space = new Float64Array(0);
    const common = { sink: this.engine, log: this.log, alerts: this.alerter, pollMs: config.reloadInterval };
    for (const file of config.vrps)
      this.vrpSources.push(new VrpFileSource({ ...common, file, tokenLimit: config.vrpTokenLimit }));
    if (config.rtr.length > 0) {
      let tls: RtrTlsOptions | undefined;
      if (config.rtrTls) {
        const read = (file: string | undefined, option: string): Buffer | undefined => {
          if (file === undefined) return undefined;
          try {
            return readFileSync(file);
          } catch (error) {
            throw new ConfigError(file, undefined, `${option}: cannot read: ${(error as Error).message}`, {
              cause: error,
            });
          }
        };
        tls = {
          ca: read(config.rtrTlsCa, '--rtr-tls-ca'),
          cert: read(config.rtrTlsCert, '--rtr-tls-cert'),
          key: read(config.rtrTlsKey, '--rtr-tls-key'),
          ...(config.rtrTlsServername === undefined ? {} : { servername: config.rtrTlsServername }),
          rejectUnauthorized: !config.rtrTlsInsecure,
        };
      }
      this.rtr = new RtrSource({
        caches: config.rtr,
        sink: this.engine,
        log: this.log,
        alerts: this.alerter,
        version: config.rtrVersion,
        ...(tls === undefined ? {} : { tls }),
        ...(config.rtrStateFile === undefined ? {} : { statePath: config.rtrStateFile }),
        maxPayloadPdus: config.rtrMaxPayload,
        responseTimeoutMs: config.rtrResponseTimeout,
        responseDeadlineMs: config.rtrResponseDeadline,
        minProgress: { bytes: config.rtrMinProgress, intervalMs: config.rtrProgressInterval },
        switchBackMs: config.rtrSwitchBack,
      });
      this.vrpSources.push(this.rtr);
    }
    this.classifier = new RouteClassifier(config.bmpRoutes, new Set(config.ownAsns), config.bmpGroup);
    for (const file of config.routes) {
      const source: RouteListSource = new RouteListSource({
        ...common,
        file,
        lineLimit: config.routeLineLimit,
        onLoad: (entries) => this.#routeListLoaded(source, entries),
      });
      this.routeSources.push(source);
    }
    for (const file of config.mrt)
      this.routeSources.push(
        new MrtRouteSource({
          file,
          sink: this.engine,
          log: this.log,
          group: config.mrtGroup,
          maxRecordLength: config.mrtMaxRecord,
        }),
      );
    // Last: its routers connect once the route lists (which group its routes) are read.
    this.bmp =
      config.bmp === undefined
        ? undefined
        : new BmpRouteSource({
            host: config.bmp.host,
            port: config.bmp.port,
            sink: this.engine,
            log: this.log,
            classifier: this.classifier,
            ribs: config.bmpRibs,
            maxRouters: config.bmpMaxRouters,
            maxPending: config.bmpMaxPending,
            initTimeout: config.bmpInitTimeout,
            idleTimeout: config.bmpIdleTimeout,
            maxMessageLength: config.bmpMaxMessage,
            onChange: () => this.#scheduleAddressSpace(),
          });
    if (this.bmp !== undefined) this.routeSources.push(this.bmp);
    const bmp = this.bmp;
    this.registry = createMetrics(
      {
        engine: this.engine,
        addressSpace: () => this.#space,
        rtrCaches: () => this.rtr?.caches ?? [],
        rtrDataState: () => this.rtr?.dataState,
        fallback: () => this.#fallback,
        ...(bmp === undefined
          ? {}
          : {
              bmp: {
                routers: () => bmp.listener.routers.values(),
                analysis: () => this.#bmpAnalysis,
                listener: () => bmp.listener,
              },
            }),
      },
      {
        version: VERSION,
        bmpPeerMetrics: config.bmpPeerMetrics,
        routeSeries: config.routeSeries,
        routeSeriesLimit: config.routeSeriesLimit,
        onRouteSeriesCapped: (routes, limit) =>
          this.log.log('warn', 'route_series_capped', {
            routes,
            limit,
            message: `rovkit_route_state is capped at ${limit} of ${routes} routes (Invalid first); raise --route-series-limit to see more`,
          }),
      },
    );
    this.http = new HttpServer(
      {
        engine: this.engine,
        registry: this.registry,
        log: this.log,
        statusPage: () => this.statusPage(),
        fallback: () => ({ result: this.#fallback, computedAt: this.#analysedAt }),
        ...(bmp === undefined ? {} : { bmpAnalysis: () => this.#bmpAnalysis }),
      },
      config.httpLimits,
    );
  }

  /**
   * Listens first (a port in use fails fast), then reads route sources and VRP files; a
   * broken file rejects with its file, line and reason, and everything started is stopped.
   */
  async start(): Promise<AddressInfo> {
    if (this.#started) throw new Error('start() was already called');
    this.#started = true;
    try {
      this.address = await this.http.listen(this.config.port, this.config.bind);
      for (const source of this.routeSources) await source.start();
      for (const source of this.vrpSources) await source.start();
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#computeAddressSpace();
    this.#startedAt = this.#now();
    const check = Math.max(1000, Math.min(60_000, this.config.vrpStaleAfter / 4));
    this.#staleTimer = setInterval(() => this.#checkStale(), check);
    this.#staleTimer.unref();
    this.log.log('info', 'started', {
      version: VERSION,
      url: this.url,
      routes: this.engine.store.size,
      vrps: this.engine.table.size,
      ready: this.engine.ready,
    });
    return this.address;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#staleTimer);
    clearTimeout(this.#spaceTimer);
    this.#spaceTimer = undefined;
    for (const source of [...this.vrpSources, ...this.routeSources]) await source.stop();
    await this.http.close();
    await this.alerter.flush();
    if (this.address !== undefined) this.log.log('info', 'stopped', { url: this.url });
  }

  /** The status page URL (a wildcard bind shows as 127.0.0.1 / [::1]). */
  get url(): string {
    const a = this.address;
    if (a === undefined) return '';
    const host =
      a.address === '0.0.0.0'
        ? '127.0.0.1'
        : a.address === '::'
          ? '[::1]'
          : a.family === 'IPv6'
            ? `[${a.address}]`
            : a.address;
    return `http://${host}:${a.port}/`;
  }

  /** Address space as last computed (see #scheduleAddressSpace). */
  get addressSpace(): Float64Array {
    return this.#space;
  }

  /** How many times the analyses (address space, fallback, BMP) have completed. */
  get analyses(): number {
    return this.#analyses;
  }

  /** The fallback analysis of the Invalid routes as last computed. */
  get fallback(): FallbackResult | undefined {
    return this.#fallback;
  }

  /** ROV enforcement and per-peer states of the BMP routers as last computed. */
  get bmpAnalysis(): BmpAnalysis {
    return this.#bmpAnalysis;
  }

  /** Runs the debounced analyses now (tests, and callers that cannot wait for the delay). */
  analyseNow(): void {
    clearTimeout(this.#spaceTimer);
    this.#spaceTimer = undefined;
    this.#computeAddressSpace();
  }

  statusPage(): string {
    return renderStatusPage({
      engine: this.engine,
      version: VERSION,
      rtrCaches: this.rtr?.caches ?? [],
      routeSources: this.routeSources.map((s) => ({
        name: s.name,
        routes:
          s instanceof RouteListSource
            ? s.size
            : s instanceof MrtRouteSource || s instanceof BmpRouteSource
              ? s.routes
              : undefined,
        error: s instanceof RouteListSource ? s.lastError?.message : undefined,
      })),
      vrpErrors: new Map(
        this.vrpSources.flatMap((s) =>
          s instanceof VrpFileSource && s.lastError !== undefined ? [[s.name, s.lastError.message]] : [],
        ),
      ),
      now: this.#now(),
      ...(this.#fallback === undefined ? {} : { fallback: this.#fallback }),
      ...(this.bmp === undefined ? {} : { bmp: this.#bmpAnalysis }),
    });
  }

  #routeListLoaded(source: RouteListSource, entries: readonly RouteEntry[]): void {
    this.#listed.set(source, entries);
    this.classifier.setListed([...this.#listed.values()].flat());
    // Before start() the BMP source holds nothing; afterwards its routes may change group.
    if (this.bmp !== undefined && this.#started) this.bmp.reclassify();
  }

  // Address space, the fallback analysis and the BMP analysis walk every route: off the
  // scrape path, once changes settle, and in slices (steps.ts) so that a full table's walk
  // does not hold up /metrics.
  #scheduleAddressSpace(): void {
    this.#generation++;
    this.#armAnalysis();
  }

  #armAnalysis(): void {
    if (!this.#started || this.#stopping || this.#spaceTimer !== undefined) return;
    this.#spaceTimer = setTimeout(
      () => {
        this.#spaceTimer = undefined;
        void this.#analyseSliced();
      },
      Math.max(this.config.addressSpaceDelay, 4 * this.#analysisMs),
    );
    this.#spaceTimer.unref();
  }

  async #analyseSliced(): Promise<void> {
    // One run at a time; a change during the run arms the next one when it ends.
    if (this.#analysing) return;
    this.#analysing = true;
    const generation = this.#generation;
    const running = (): boolean => !this.#stopping;
    const started = performance.now();
    try {
      // The walk reads a copy of the store's columns taken now, so routes changing between
      // slices neither disturb it nor make it start again: under steady churn a walk of the
      // live store would never finish, and finishing it at once blocked /metrics for
      // hundreds of ms.
      const columns = this.engine.store.columns();
      const space = await runSliced(this.engine.addressSpaceSteps(columns), running, this.#sliceMs);
      const fallback =
        space === undefined
          ? undefined
          : await runSliced(analyseFallbackSteps(columns), running, this.#sliceMs);
      if (space === undefined || fallback === undefined) return;
      this.#space = space;
      this.#fallback = fallback;
      // The BMP analysis reads the routers' RIB maps through callbacks: not sliced yet.
      if (this.bmp !== undefined)
        this.#bmpAnalysis = analyseBmp(this.bmp.listener.routers.values(), this.engine.table, this.#now());
      this.#analysedAt = this.#now();
      this.#analyses++;
      this.#analysisMs = performance.now() - started;
    } finally {
      this.#analysing = false;
      if (this.#generation !== generation) this.#armAnalysis();
    }
  }

  #computeAddressSpace(): void {
    const started = performance.now();
    this.#space = this.engine.addressSpace();
    this.#fallback = analyseFallback(this.engine.store);
    if (this.bmp !== undefined)
      this.#bmpAnalysis = analyseBmp(this.bmp.listener.routers.values(), this.engine.table, this.#now());
    this.#analysedAt = this.#now();
    this.#analyses++;
    this.#analysisMs = performance.now() - started;
  }

  #vrpsApplied(source: number, announced: number, withdrawn: number, full: boolean, changed: number): void {
    const name = this.engine.vrpSources[source]!.name;
    const ids = this.#changedRoutes;
    this.#changedRoutes = [];
    if (withdrawn > this.config.vrpWithdrawalAlert)
      this.alerter.raise({
        kind: 'vrp_mass_withdrawal',
        key: name,
        severity: 'warning',
        message: `${name} withdrew ${withdrawn} VRPs in one update (alert threshold ${this.config.vrpWithdrawalAlert})`,
        fields: { source: name, withdrawn, announced, full },
      });
    else this.alerter.clear(['vrp_mass_withdrawal'], name);
    const perUpdate = this.config.routeAlertsPerUpdate;
    const count = ids.length / 2;
    for (let i = 0; i < count && i < perUpdate; i++) this.#routeAlert(ids[2 * i]!, ids[2 * i + 1]!, name);
    if (count > perUpdate)
      this.alerter.notify({
        kind: 'route_state_changes',
        key: `${name} ${this.#now()}`,
        severity: 'warning',
        message: `${count} routes changed state in one update from ${name}; ${perUpdate} alerted one by one, see /api/v1/routes`,
        fields: { source: name, routes: count, alerted: perUpdate },
      });
    if (changed > 0 || withdrawn > 0 || announced > 0)
      this.log.log('info', 'vrps_applied', {
        source: name,
        announced,
        withdrawn,
        full,
        routes_changed: changed,
      });
  }

  #routeAlert(id: number, fromCode: number, source: string): void {
    const store = this.engine.store;
    const e = toValidityJson(this.engine.explain(id));
    const to = STATES[STATE_OF_CODE[store.state[id]!]!]!;
    const from = STATES[STATE_OF_CODE[fromCode]!]!;
    const route = { prefix: e.route.prefix, origin_asn: e.route.origin_asn };
    this.alerter.notify({
      kind: 'route_state_change',
      key: `${route.prefix} ${route.origin_asn} ${to}`,
      severity: to === 'invalid' ? 'critical' : 'info',
      message: `${route.prefix} ${route.origin_asn} (${store.groups[store.group[id]!]}) changed from ${from} to ${to}${e.validity.reason === undefined ? '' : ` (${e.validity.reason})`}`,
      fields: {
        route,
        group: store.groups[store.group[id]!],
        description: store.descriptions[store.description[id]!],
        from,
        to,
        reason: e.validity.reason ?? null,
        explanation: e.validity,
        source,
      },
    });
  }

  #checkStale(): void {
    const now = this.#now();
    for (const s of this.engine.vrpSources) {
      const since = s.lastUpdate ?? this.#startedAt;
      if (now - since <= this.config.vrpStaleAfter) {
        if (this.alerter.clear(['vrp_update_overdue'], s.name))
          this.alerter.notify({
            kind: 'vrp_update_resumed',
            key: s.name,
            severity: 'info',
            message: `${s.name} updated again`,
            fields: { source: s.name, resolves: 'vrp_update_overdue' },
          });
        continue;
      }
      this.alerter.raise({
        kind: 'vrp_update_overdue',
        key: s.name,
        severity: 'warning',
        message: `no VRP update from ${s.name} for ${Math.round((now - since) / 1000)} s (alert after ${this.config.vrpStaleAfter / 1000} s)`,
        fields: {
          source: s.name,
          last_update: s.lastUpdate === undefined ? null : new Date(s.lastUpdate).toISOString(),
        },
      });
    }
  }
}
