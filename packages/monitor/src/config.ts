// `rovkit monitor` configuration: a JSON file (--config FILE) whose keys are the long flag
// names, and flags (node:util parseArgs), flags winning. Every error names the file (or
// "command line"), the line where there is one, and the reason.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import {
  DEFAULT_MAX_PAYLOAD_PDUS,
  DEFAULT_MIN_PROGRESS,
  DEFAULT_RESPONSE_DEADLINE_MS,
} from '@rovkit/rtr-client';
import { ConfigError } from './errors.js';
import { DEFAULT_PORT } from './http/server.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http/limits.js';
import type { LogLevel } from './log.js';
import {
  DEFAULT_INIT_TIMEOUT,
  DEFAULT_MAX_MESSAGE_LENGTH,
  DEFAULT_MAX_PENDING,
  DEFAULT_MAX_ROUTERS,
  PolicyStage,
  policyStageNames,
} from './feeds/bmp/index.js';
import { DEFAULT_MAX_RECORD_LENGTH } from './feeds/mrt/index.js';
import { ROUTE_SELECTIONS, type RouteSelection } from './routes/route-classifier.js';
import { DEFAULT_ROUTE_LINE_LIMIT } from './routes/route-list.js';
import { DEFAULT_VRP_TOKEN_LIMIT } from '@rovkit/core';

export interface MonitorConfig {
  vrps: string[];
  rtr: string[];
  rtrTls: boolean;
  rtrTlsCa: string | undefined;
  rtrTlsCert: string | undefined;
  rtrTlsKey: string | undefined;
  rtrTlsServername: string | undefined;
  rtrTlsInsecure: boolean;
  rtrVersion: 0 | 1 | 2;
  rtrStateFile: string | undefined;
  rtrMaxPayload: number;
  rtrResponseTimeout: number;
  rtrResponseDeadline: number;
  rtrMinProgress: number;
  rtrProgressInterval: number;
  rtrSwitchBack: number;
  routes: string[];
  mrt: string[];
  mrtGroup: string;
  /** Longest MRT record read (bytes); a longer one stops that file's read. */
  mrtMaxRecord: number;
  /** BMP listener address; undefined without --bmp. */
  bmp: { host: string; port: number } | undefined;
  /** RIBs whose routes count as the monitor's routes. */
  bmpRibs: PolicyStage[];
  bmpRoutes: RouteSelection;
  ownAsns: number[];
  /** Group of BMP routes that are neither listed nor own (with --bmp-routes all). */
  bmpGroup: string;
  bmpPeerMetrics: boolean;
  /** BMP listener limits (see feeds/bmp/listener.ts); timeouts in ms, 0 idle is off. */
  bmpMaxRouters: number;
  bmpMaxPending: number;
  bmpInitTimeout: number;
  bmpIdleTimeout: number;
  bmpMaxMessage: number;
  bind: string;
  port: number;
  /** Limits of the HTTP listener (--http-*). */
  httpLimits: HttpLimits;
  /** ms */
  reloadInterval: number;
  /** Longest JSON token or ROA object, or CSV line, of a VRP file (bytes). */
  vrpTokenLimit: number;
  /** Longest line of a route list (bytes). */
  routeLineLimit: number;
  webhook: URL | undefined;
  /** ms */
  alertSuppress: number;
  /** ms */
  vrpStaleAfter: number;
  vrpWithdrawalAlert: number;
  routeAlertsPerUpdate: number;
  routeSeries: boolean;
  routeSeriesLimit: number;
  /** ms */
  addressSpaceDelay: number;
  logLevel: LogLevel;
  /** Which inputs came from the bundled sample data (for the start banner). */
  bundled: { vrps: boolean; routes: boolean };
}

type Kind = 'string' | 'strings' | 'boolean' | 'number';

interface OptionSpec {
  readonly kind: Kind;
  readonly arg?: string;
  readonly help: string;
  /** Seconds given, ms kept (for number options that are durations). */
  readonly seconds?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** The value is a file path (resolved against the config file's folder there). */
  readonly path?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Bundled sample data: the complete AFRINIC trust anchor and a few African operators' routes. */
export const BUNDLED_VRPS = resolve(here, '../data/ripe-archive-afrinic-20240101.routinator.json.gz');
export const BUNDLED_ROUTES = resolve(here, '../data/routes-afrinic-ipv6.txt');

export const OPTIONS = {
  vrps: {
    kind: 'strings',
    arg: 'FILE',
    path: true,
    help: 'VRP file: rpki-client or Routinator JSON or CSV, gzipped or not; reloaded when it changes (repeatable)',
  },
  rtr: { kind: 'strings', arg: 'HOST:PORT', help: 'RTR cache, in order of preference (repeatable)' },
  'rtr-tls': { kind: 'boolean', help: 'speak RTR over TLS (RFC 6810 7.2; default port 324)' },
  'rtr-tls-ca': {
    kind: 'string',
    arg: 'FILE',
    path: true,
    help: 'PEM CA certificate(s) to trust (default: system store)',
  },
  'rtr-tls-cert': { kind: 'string', arg: 'FILE', path: true, help: 'PEM client certificate' },
  'rtr-tls-key': { kind: 'string', arg: 'FILE', path: true, help: 'PEM client key' },
  'rtr-tls-servername': {
    kind: 'string',
    arg: 'NAME',
    help: 'name the cache certificate must carry (default: the host)',
  },
  'rtr-tls-insecure': { kind: 'boolean', help: 'accept any cache certificate (testing only)' },
  'rtr-version': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 0,
    max: 2,
    help: 'highest RTR version to speak (default 2)',
  },
  'rtr-state-file': {
    kind: 'string',
    arg: 'FILE',
    path: true,
    help: 'keep the RTR session and data here, to resume with a Serial Query after a restart',
  },
  'rtr-max-payload': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: 'payload PDUs one RTR response may stage before it is refused with Error Report code 1 (default 4000000)',
  },
  'rtr-response-timeout': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.001,
    help: 'drop an RTR response after this long without a byte (default 30)',
  },
  'rtr-response-deadline': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.001,
    help: 'drop an RTR response that has not ended this long after the query, and try the next cache (default 300)',
  },
  'rtr-min-progress': {
    kind: 'number',
    arg: 'BYTES',
    integer: true,
    min: 0,
    help: 'drop an RTR response that delivers fewer bytes per --rtr-progress-interval, once past its first interval, and try the next cache (default 16384; 0: off)',
  },
  'rtr-progress-interval': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.001,
    help: 'the interval (and grace period) of --rtr-min-progress (default 10)',
  },
  'rtr-switch-back': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.001,
    help: 'while on a backup RTR cache, try the preferred ones this often (default 60)',
  },
  routes: {
    kind: 'strings',
    arg: 'FILE',
    path: true,
    help: 'route list: "prefix origin [group [description]]" lines, or BGPalerter prefixes.yml / JSON; reloaded when it changes (repeatable)',
  },
  mrt: {
    kind: 'strings',
    arg: 'FILE',
    path: true,
    help: 'MRT dump (RIB or updates; gz, bz2) whose announcements are routes (repeatable)',
  },
  'mrt-group': { kind: 'string', arg: 'NAME', help: 'group of the routes from --mrt (default mrt)' },
  'mrt-max-record': {
    kind: 'number',
    arg: 'BYTES',
    integer: true,
    min: 4096,
    max: 1024 * 1024 * 1024,
    help: `longest MRT record read; a longer one stops that file's read with MRT_ERR_TOO_LARGE (file, offset, limit), the routes before it stay (default ${DEFAULT_MAX_RECORD_LENGTH})`,
  },
  bmp: {
    kind: 'string',
    arg: '[HOST:]PORT',
    help: 'listen for BMP (RFC 7854) from your routers on this port (HOST default 127.0.0.1: BMP has no authentication, so give 0.0.0.0 or an interface address on purpose; 11019 is usual)',
  },
  'bmp-routes': {
    kind: 'string',
    arg: 'all|own|listed',
    help: 'which BMP routes count: all routes seen (default), own (origin in --own-asn or inside a --routes prefix) or listed (inside a --routes prefix only)',
  },
  'own-asn': {
    kind: 'strings',
    arg: 'ASN[,ASN]',
    help: 'your origin ASNs: BMP routes they originate are in group own (repeatable)',
  },
  'bmp-rib': {
    kind: 'string',
    arg: 'LIST',
    help: 'RIBs whose BMP routes count, comma-separated from pre-policy, post-policy, loc-rib, adj-rib-out-pre-policy, adj-rib-out-post-policy (default pre-policy,loc-rib: Invalid routes a router drops are still seen)',
  },
  'bmp-group': {
    kind: 'string',
    arg: 'NAME',
    help: 'group of BMP routes neither listed nor own (default bmp)',
  },
  'bmp-peer-metrics': {
    kind: 'boolean',
    help: 'export rovkit_bmp_peers_up, rovkit_bmp_messages_total and rovkit_bmp_peer_routes per router and peer (opt-in)',
  },
  'bmp-max-routers': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: `BMP routers (sessions that sent their Initiation) at once; at the limit a new router takes the slot of one without peers that went quiet, else it is refused (default ${DEFAULT_MAX_ROUTERS})`,
  },
  'bmp-max-pending': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: `BMP connections waiting for their Initiation at once; a new one closes the oldest (default ${DEFAULT_MAX_PENDING})`,
  },
  'bmp-init-timeout': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.05,
    help: `close a BMP connection that has not sent its Initiation within this time (default ${DEFAULT_INIT_TIMEOUT / 1000})`,
  },
  'bmp-idle-timeout': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0,
    help: "close a BMP router that sends nothing for this long (default 0: off; BMP has no keepalive, so set it above your routers' statistics interval)",
  },
  'bmp-max-message': {
    kind: 'number',
    arg: 'BYTES',
    integer: true,
    min: 4144,
    max: 16 * 1024 * 1024,
    help: `longest BMP message accepted; a longer one closes that router's session (default ${DEFAULT_MAX_MESSAGE_LENGTH})`,
  },
  bind: {
    kind: 'string',
    arg: 'ADDRESS',
    help: 'address the HTTP server binds to (default 0.0.0.0, all IPv4 interfaces, as Prometheus exporters do)',
  },
  port: {
    kind: 'number',
    arg: 'PORT',
    integer: true,
    min: 0,
    max: 65535,
    help: `HTTP port (default ${DEFAULT_PORT}; 0 picks a free one)`,
  },
  'http-max-connections': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: `HTTP connections open at once; one more is closed at once (default ${DEFAULT_HTTP_LIMITS.maxConnections})`,
  },
  'http-idle-timeout': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.1,
    help: `close an HTTP connection that sends or takes no byte for this long (default ${DEFAULT_HTTP_LIMITS.idleTimeoutMs / 1000})`,
  },
  'http-header-timeout': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.1,
    help: `an HTTP request's headers must be in within this time, or 408 and close (default ${DEFAULT_HTTP_LIMITS.headersTimeoutMs / 1000})`,
  },
  'http-request-timeout': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.1,
    help: `a whole HTTP request, body included, must be in within this time (default ${DEFAULT_HTTP_LIMITS.requestTimeoutMs / 1000})`,
  },
  'http-max-body': {
    kind: 'number',
    arg: 'BYTES',
    integer: true,
    min: 1,
    help: `largest HTTP request body (a batch validity request); more is answered 413 (default ${DEFAULT_HTTP_LIMITS.maxBodyBytes}, as Routinator)`,
  },
  'http-max-batch-routes': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: `most routes in one batch validity request; more is answered 413 (default ${DEFAULT_HTTP_LIMITS.maxBatchRoutes})`,
  },
  'http-max-answer': {
    kind: 'number',
    arg: 'BYTES',
    integer: true,
    min: 1,
    help: `largest batch validity answer; a request whose answer would be larger is refused with 413 (default ${DEFAULT_HTTP_LIMITS.maxAnswerBytes})`,
  },
  'http-max-batches': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: `batch validity requests answered at once; more get 503 and Retry-After (default ${DEFAULT_HTTP_LIMITS.maxConcurrentBatches})`,
  },
  'http-max-list': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: `largest limit= of /api/v1/routes, /api/v1/invalid-fallback and /api/v1/rov-enforcement (default ${DEFAULT_HTTP_LIMITS.maxListLimit})`,
  },
  'reload-interval': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0.05,
    help: 'how often VRP and route files are checked for changes, and a failed reload retried (default 2)',
  },
  'vrp-token-limit': {
    kind: 'number',
    arg: 'BYTES',
    integer: true,
    min: 64,
    help: 'longest JSON token or ROA object, or CSV line, accepted in a VRP file (default 65536)',
  },
  'route-line-limit': {
    kind: 'number',
    arg: 'BYTES',
    integer: true,
    min: 64,
    help: 'longest line accepted in a route list (default 1048576: compact JSON is one line)',
  },
  webhook: { kind: 'string', arg: 'URL', help: 'POST every alert as JSON to this http(s) URL' },
  'alert-suppress': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0,
    help: 'do not repeat the same alert within this time (default 3600)',
  },
  'vrp-stale-after': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 1,
    help: 'alert when a VRP source has not updated for this long (default 7200)',
  },
  'vrp-withdrawal-alert': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 1,
    help: 'alert when one VRP update withdraws more than N VRPs (default 1000)',
  },
  'route-alerts-per-update': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 0,
    help: 'route state changes alerted one by one per VRP update; beyond that one summary alert (default 100)',
  },
  'route-series': {
    kind: 'boolean',
    help: 'export rovkit_route_state{prefix,origin,group} per route (opt-in)',
  },
  'route-series-limit': {
    kind: 'number',
    arg: 'N',
    integer: true,
    min: 0,
    help: 'at most N rovkit_route_state series, Invalid routes first (default 1000)',
  },
  'address-space-delay': {
    kind: 'number',
    arg: 'SECONDS',
    seconds: true,
    min: 0,
    help: 'recompute rovkit_address_space this long after changes (default 1)',
  },
  'log-level': { kind: 'string', arg: 'LEVEL', help: 'debug, info, warn or error (default info)' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

export const HELP = `usage: rovkit monitor [--config FILE] [options]

Watches the RPKI validation state (Valid, Invalid, NotFound) of your routes and your
customers' routes, and serves it as Prometheus metrics, a JSON API and a status page,
with alerts as JSON log lines on stdout and an optional webhook.

With no VRP source it uses the bundled AFRINIC trust anchor snapshot (2024-01-01), and
with no route source the bundled routes of a few African operators, so that
\`rovkit monitor\` alone shows a working setup. Against a live cache:

  rovkit monitor --rtr rtr.example.net:323 --routes /etc/rovkit/prefixes.yml

HTTP (one port, default ${DEFAULT_PORT}):
  /                                  status page: counts, Invalid routes, feed health
  /metrics                           Prometheus metrics (rovkit_*)
  /healthz, /readyz                  liveness; readiness (after the first full VRP set)
  /api/v1/validity/AS<asn>/<prefix>  Routinator's validity API (GET; POST /api/v1/validity
                                     with {"routes": [{"asn", "prefix"}]} for a batch)
  /api/v1/routes?state=&group=&afi=&limit=
                                     your routes with state, reason, explanation, last change
  /api/v1/invalid-fallback?fallback=&afi=&group=&limit=
                                     each Invalid route: would its space stay reachable through
                                     routes that are not Invalid (covered, partial, none)?
  /api/v1/rov-enforcement?status=&router=&limit=
                                     with --bmp: per router and peer, the Invalid routes seen
                                     pre-policy that the router kept (accepted) or dropped
  Every HTTP limit (connections, timeouts, body, batch routes and answer, list size) has
  an --http-* option below; past one a request gets 400, 408, 413, 431 or 503, or the
  connection is closed.

options:
  --config FILE                      JSON file whose keys are the long option names below
                                     ({"rtr": ["host:323"], "port": 9324, ...}); flags win;
                                     relative paths in it are relative to its folder
${Object.entries(OPTIONS)
  .map(([name, spec]) => {
    const left = `  --${name}${'arg' in spec ? ` ${spec.arg}` : ''}`;
    const text = wrap(spec.help, 88 - 37).join(`\n${' '.repeat(37)}`);
    return left.length < 37 ? `${left.padEnd(37)}${text}` : `${left}\n${' '.repeat(37)}${text}`;
  })
  .join('\n')}
  -h, --help                         this text

Route groups: each route belongs to one group ("own" unless the route list names
another, e.g. customer:acme); metrics carry it in the \`group\` label.

BMP: routers send their RIBs to --bmp. The routes of their pre-policy Adj-RIB-In and
Loc-RIB (see --bmp-rib) are your routes, once each however many routers and peers hold
them; a Peer Down or a closed session removes that peer's or router's routes. A BMP
route inside a --routes prefix takes that entry's group; else one originated by an
--own-asn is "own"; else it is in --bmp-group (and counted only with --bmp-routes all).
Post-policy and Loc-RIB views show whether each router drops Invalid routes
(rovkit_rov_invalid_accepted / _rejected{router}, /api/v1/rov-enforcement).

Exit status: 0 after SIGINT/SIGTERM; 1 when it cannot start (bad config, bad route or
VRP file, port in use: the error names the file, line and reason); 2 for wrong flags.
`;

/** Where a value came from, for error messages. */
interface Origin {
  readonly file: string;
  readonly line: number | undefined;
}

type Raw = Partial<Record<OptionName, string | string[] | boolean | number>>;

/** Reads flags (and the config file they name) into a checked configuration. */
export function loadConfig(argv: string[]): MonitorConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          Object.entries(OPTIONS).map(([name, spec]) => [
            name,
            spec.kind === 'boolean'
              ? { type: 'boolean' as const }
              : { type: 'string' as const, multiple: spec.kind === 'strings' },
          ]),
        ),
      },
    });
  } catch (error) {
    throw new ConfigError('command line', undefined, (error as Error).message, { cause: error });
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values.help === true) return 'help';
  const merged: Raw = {};
  const origins = new Map<OptionName, Origin>();
  if (typeof values.config === 'string') {
    const file = values.config;
    for (const [name, { value, line }] of readConfigFile(file)) {
      merged[name] = value;
      origins.set(name, { file, line });
    }
  }
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const v = values[name];
    if (v === undefined) continue;
    merged[name] = v;
    origins.set(name, { file: 'command line', line: undefined });
  }
  return checkConfig(merged, origins);
}

function readConfigFile(
  file: string,
): Map<OptionName, { value: string | string[] | boolean | number; line: number }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, undefined, `cannot read: ${(error as Error).message}`, { cause: error });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
    throw new ConfigError(file, line, `not valid JSON: ${first.message.split('\n')[0]}`, { cause: first });
  }
  const lineOf = (node: unknown): number => {
    const range = (node as Node | null)?.range;
    return range === undefined || range === null ? 1 : lines.linePos(range[0]).line;
  };
  const root = doc.contents;
  if (!isMap(root)) throw new ConfigError(file, lineOf(root), 'expected a JSON object of options');
  const base = dirname(resolve(file));
  const out = new Map<OptionName, { value: string | string[] | boolean | number; line: number }>();
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    const line = lineOf(pair.key);
    if (typeof key !== 'string' || !(key in OPTIONS))
      throw new ConfigError(file, line, `unknown option ${JSON.stringify(key)} (see rovkit monitor --help)`);
    const name = key as OptionName;
    const spec: OptionSpec = OPTIONS[name];
    const node = pair.value;
    const resolvePath = (v: string): string => ('path' in spec && spec.path === true ? resolve(base, v) : v);
    if (spec.kind === 'strings') {
      const items = isSeq(node) ? node.items : [node];
      const list: string[] = [];
      for (const item of items) {
        const v = isScalar(item) ? item.value : undefined;
        if (typeof v !== 'string' || v === '')
          throw new ConfigError(file, lineOf(item), `"${name}" takes a string or a list of strings`);
        list.push(resolvePath(v));
      }
      out.set(name, { value: list, line });
    } else {
      const v = isScalar(node) ? node.value : undefined;
      if (spec.kind === 'boolean' && typeof v !== 'boolean')
        throw new ConfigError(file, line, `"${name}" takes true or false, not ${JSON.stringify(v ?? null)}`);
      if (spec.kind === 'number' && typeof v !== 'number')
        throw new ConfigError(file, line, `"${name}" takes a number, not ${JSON.stringify(v ?? null)}`);
      if (spec.kind === 'string' && (typeof v !== 'string' || v === ''))
        throw new ConfigError(file, line, `"${name}" takes a string, not ${JSON.stringify(v ?? null)}`);
      out.set(name, { value: typeof v === 'string' ? resolvePath(v) : (v as boolean | number), line });
    }
  }
  return out;
}

function checkConfig(raw: Raw, origins: Map<OptionName, Origin>): MonitorConfig {
  const fail = (name: OptionName, reason: string): never => {
    const o = origins.get(name) ?? { file: 'command line', line: undefined };
    throw new ConfigError(
      o.file,
      o.line,
      `${o.file === 'command line' ? `--${name}` : `"${name}"`} ${reason}`,
    );
  };
  const num = (name: OptionName, fallback: number): number => {
    const spec: OptionSpec = OPTIONS[name];
    const v = raw[name];
    if (v === undefined) return spec.seconds === true ? fallback * 1000 : fallback;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n)) fail(name, `takes a number, not ${JSON.stringify(v)}`);
    if (spec.integer === true && !Number.isInteger(n)) fail(name, `takes an integer, not ${n}`);
    if (spec.min !== undefined && n < spec.min) fail(name, `must be at least ${spec.min}, not ${n}`);
    if (spec.max !== undefined && n > spec.max) fail(name, `must be at most ${spec.max}, not ${n}`);
    return spec.seconds === true ? Math.round(n * 1000) : n;
  };
  const str = (name: OptionName): string | undefined => raw[name] as string | undefined;
  const strs = (name: OptionName): string[] => (raw[name] as string[] | undefined) ?? [];
  const bool = (name: OptionName): boolean => raw[name] === true;

  let webhook: URL | undefined;
  const hook = str('webhook');
  if (hook !== undefined) {
    try {
      webhook = new URL(hook);
    } catch {
      fail('webhook', `is not a URL: "${hook}"`);
    }
    if (webhook!.protocol !== 'http:' && webhook!.protocol !== 'https:')
      fail('webhook', `must be an http:// or https:// URL, not "${hook}"`);
  }
  const logLevel = str('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    fail('log-level', `must be debug, info, warn or error, not "${logLevel}"`);
  const rtr = strs('rtr');
  for (const cache of rtr)
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+)(:\d{1,5})?$/.test(cache) && !/^[0-9a-fA-F:]+$/.test(cache))
      fail('rtr', `expects HOST:PORT, not "${cache}"`);
  const tlsOnly = [
    'rtr-tls-ca',
    'rtr-tls-cert',
    'rtr-tls-key',
    'rtr-tls-servername',
    'rtr-tls-insecure',
  ] as const;
  if (!bool('rtr-tls'))
    for (const name of tlsOnly) if (raw[name] !== undefined) fail(name, 'needs --rtr-tls');
  if ((raw['rtr-tls-cert'] === undefined) !== (raw['rtr-tls-key'] === undefined))
    fail(
      raw['rtr-tls-cert'] === undefined ? 'rtr-tls-key' : 'rtr-tls-cert',
      'needs both --rtr-tls-cert and --rtr-tls-key',
    );
  const vrps = strs('vrps');
  const routes = strs('routes');
  const mrt = strs('mrt');
  const bundledVrps = vrps.length === 0 && rtr.length === 0;
  const bmpText = str('bmp');
  let bmp: MonitorConfig['bmp'];
  if (bmpText !== undefined) {
    const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):)?(\d{1,5})$/.exec(bmpText);
    if (m === null || Number(m[2]) > 65535) fail('bmp', `expects [HOST:]PORT, not "${bmpText}"`);
    const host = m![1] === undefined ? '127.0.0.1' : m![1].replace(/^\[(.*)\]$/, '$1');
    bmp = { host, port: Number(m![2]) };
  }
  const bmpOnly = [
    'bmp-routes',
    'own-asn',
    'bmp-rib',
    'bmp-group',
    'bmp-peer-metrics',
    'bmp-max-routers',
    'bmp-max-pending',
    'bmp-init-timeout',
    'bmp-idle-timeout',
    'bmp-max-message',
  ] as const;
  if (bmp === undefined) for (const name of bmpOnly) if (raw[name] !== undefined) fail(name, 'needs --bmp');
  const bundledRoutes = routes.length === 0 && mrt.length === 0 && bmp === undefined;
  const mrtGroup = str('mrt-group') ?? 'mrt';
  if (/\s/.test(mrtGroup) || mrtGroup === '') fail('mrt-group', `must be one word, not "${mrtGroup}"`);
  const bmpGroup = str('bmp-group') ?? 'bmp';
  if (/\s/.test(bmpGroup) || bmpGroup === '') fail('bmp-group', `must be one word, not "${bmpGroup}"`);
  const bmpRoutes = (str('bmp-routes') ?? 'all') as RouteSelection;
  if (!ROUTE_SELECTIONS.includes(bmpRoutes))
    fail('bmp-routes', `must be all, own or listed, not "${bmpRoutes}"`);
  const ownAsns: number[] = [];
  for (const item of strs('own-asn'))
    for (const part of item.split(/[\s,]+/).filter((p) => p !== '')) {
      const m = /^(?:AS)?(\d{1,10})$/i.exec(part);
      const n = m === null ? NaN : Number(m[1]);
      if (!(n >= 0 && n <= 0xffffffff)) fail('own-asn', `expects AS numbers, not "${part}"`);
      ownAsns.push(n);
    }
  if (bmpRoutes === 'own' && ownAsns.length === 0 && routes.length === 0)
    fail('bmp-routes', 'own needs --own-asn or --routes to tell your routes');
  if (bmpRoutes === 'listed' && routes.length === 0) fail('bmp-routes', 'listed needs --routes');
  const bmpRibs: PolicyStage[] = [];
  for (const name of (str('bmp-rib') ?? 'pre-policy,loc-rib').split(',').map((p) => p.trim())) {
    const stage = policyStageNames.indexOf(name as (typeof policyStageNames)[number]);
    if (stage < 0)
      fail(
        'bmp-rib',
        `takes pre-policy, post-policy, loc-rib, adj-rib-out-pre-policy or adj-rib-out-post-policy, not "${name}"`,
      );
    if (!bmpRibs.includes(stage as PolicyStage)) bmpRibs.push(stage as PolicyStage);
  }
  const d = DEFAULT_HTTP_LIMITS;
  const httpLimits: HttpLimits = {
    ...d,
    maxConnections: num('http-max-connections', d.maxConnections),
    idleTimeoutMs: num('http-idle-timeout', d.idleTimeoutMs / 1000),
    headersTimeoutMs: num('http-header-timeout', d.headersTimeoutMs / 1000),
    requestTimeoutMs: num('http-request-timeout', d.requestTimeoutMs / 1000),
    maxBodyBytes: num('http-max-body', d.maxBodyBytes),
    maxBatchRoutes: num('http-max-batch-routes', d.maxBatchRoutes),
    maxAnswerBytes: num('http-max-answer', d.maxAnswerBytes),
    maxConcurrentBatches: num('http-max-batches', d.maxConcurrentBatches),
    maxListLimit: num('http-max-list', d.maxListLimit),
  };
  if (httpLimits.headersTimeoutMs > httpLimits.requestTimeoutMs) {
    const h = httpLimits.headersTimeoutMs / 1000;
    const r = httpLimits.requestTimeoutMs / 1000;
    if (raw['http-header-timeout'] !== undefined)
      fail('http-header-timeout', `(${h} s) must not be longer than --http-request-timeout (${r} s)`);
    fail('http-request-timeout', `(${r} s) must not be shorter than --http-header-timeout (${h} s)`);
  }
  return {
    vrps: bundledVrps ? [BUNDLED_VRPS] : vrps,
    rtr,
    rtrTls: bool('rtr-tls'),
    rtrTlsCa: str('rtr-tls-ca'),
    rtrTlsCert: str('rtr-tls-cert'),
    rtrTlsKey: str('rtr-tls-key'),
    rtrTlsServername: str('rtr-tls-servername'),
    rtrTlsInsecure: bool('rtr-tls-insecure'),
    rtrVersion: num('rtr-version', 2) as 0 | 1 | 2,
    rtrStateFile: str('rtr-state-file'),
    rtrMaxPayload: num('rtr-max-payload', DEFAULT_MAX_PAYLOAD_PDUS),
    rtrResponseTimeout: num('rtr-response-timeout', 30),
    rtrResponseDeadline: num('rtr-response-deadline', DEFAULT_RESPONSE_DEADLINE_MS / 1000),
    rtrMinProgress: num('rtr-min-progress', DEFAULT_MIN_PROGRESS.bytes),
    rtrProgressInterval: num('rtr-progress-interval', DEFAULT_MIN_PROGRESS.intervalMs / 1000),
    rtrSwitchBack: num('rtr-switch-back', 60),
    routes: bundledRoutes ? [BUNDLED_ROUTES] : routes,
    mrt,
    mrtGroup,
    mrtMaxRecord: num('mrt-max-record', DEFAULT_MAX_RECORD_LENGTH),
    bmp,
    bmpRibs,
    bmpRoutes,
    ownAsns,
    bmpGroup,
    bmpPeerMetrics: bool('bmp-peer-metrics'),
    bmpMaxRouters: num('bmp-max-routers', DEFAULT_MAX_ROUTERS),
    bmpMaxPending: num('bmp-max-pending', DEFAULT_MAX_PENDING),
    bmpInitTimeout: num('bmp-init-timeout', DEFAULT_INIT_TIMEOUT / 1000),
    bmpIdleTimeout: num('bmp-idle-timeout', 0),
    bmpMaxMessage: num('bmp-max-message', DEFAULT_MAX_MESSAGE_LENGTH),
    bind: str('bind') ?? '0.0.0.0',
    port: num('port', DEFAULT_PORT),
    httpLimits,
    reloadInterval: num('reload-interval', 2),
    vrpTokenLimit: num('vrp-token-limit', DEFAULT_VRP_TOKEN_LIMIT),
    routeLineLimit: num('route-line-limit', DEFAULT_ROUTE_LINE_LIMIT),
    webhook,
    alertSuppress: num('alert-suppress', 3600),
    vrpStaleAfter: num('vrp-stale-after', 7200),
    vrpWithdrawalAlert: num('vrp-withdrawal-alert', 1000),
    routeAlertsPerUpdate: num('route-alerts-per-update', 100),
    routeSeries: bool('route-series'),
    routeSeriesLimit: num('route-series-limit', 1000),
    addressSpaceDelay: num('address-space-delay', 1),
    logLevel: logLevel as LogLevel,
    bundled: { vrps: bundledVrps, routes: bundledRoutes },
  };
}
