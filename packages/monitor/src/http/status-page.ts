// The status page at /: plain HTML built on the server, no script, no external assets,
// no build step. Counts per state, the Invalid routes with their reason and the VRPs
// behind it, and the health of every feed.
import { toValidityJson } from '@rovkit/core';
import { STATE_OF_CODE, STATES, type Engine } from '../engine/engine.js';
import type { FallbackResult } from '../engine/fallback.js';
import type { BmpAnalysis } from '../sources/bmp-analysis.js';
import type { RtrCacheStatus } from '../sources/rtr-source.js';

export interface StatusPageInput {
  readonly engine: Engine;
  readonly version: string;
  readonly rtrCaches: readonly RtrCacheStatus[];
  /** Route sources with their state for the feed table. */
  readonly routeSources: readonly { name: string; routes: number | undefined; error: string | undefined }[];
  /** VRP source errors (last reload failed), by source name. */
  readonly vrpErrors: ReadonlyMap<string, string>;
  readonly now: number;
  /** Invalid routes listed at most (default 500). */
  readonly maxInvalid?: number;
  /** The last fallback analysis of the Invalid routes. */
  readonly fallback?: FallbackResult;
  /** With a BMP listener: the last analysis of the routers' RIBs. */
  readonly bmp?: BmpAnalysis;
}

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
function h(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => escapes[c]!);
}

function ago(now: number, at: number | undefined): string {
  if (at === undefined || at === 0) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  const text = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  return `${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')} (${text} ago)`;
}

const stateLabel = { valid: 'Valid', invalid: 'Invalid', not_found: 'NotFound' } as const;

export function renderStatusPage(input: StatusPageInput): string {
  const { engine, now } = input;
  const store = engine.store;
  const total = store.size;
  const groups = store.groups
    .map((name, g) => ({ name, g, n: STATES.reduce((sum, s) => sum + engine.countOf(s, g), 0) }))
    .filter((x) => x.n > 0);
  const pct = (n: number, of: number): string => (of === 0 ? '–' : `${((100 * n) / of).toFixed(1)} %`);

  const summary = STATES.map((s) => {
    const n = engine.countOf(s);
    return `<div class="card ${s}"><div class="n">${n}</div><div>${stateLabel[s]}</div><div class="pct">${pct(n, total)}</div></div>`;
  }).join('');

  const groupRows = groups
    .map(({ name, g, n }) => {
      const cells = STATES.map((s) => {
        const c = engine.countOf(s, g);
        return `<td class="num">${c}</td><td class="num pct">${pct(c, n)}</td>`;
      }).join('');
      return `<tr><td>${h(name)}</td><td class="num">${n}</td>${cells}</tr>`;
    })
    .join('\n');

  const maxInvalid = input.maxInvalid ?? 500;
  const invalid: number[] = [];
  let invalidTotal = 0;
  for (let id = 0; id < store.used; id++) {
    if (store.sources[id] === 0 || STATE_OF_CODE[store.state[id]!] !== 1) continue;
    invalidTotal++;
    if (invalid.length < maxInvalid) invalid.push(id);
  }
  const invalidRows = invalid
    .map((id) => {
      const v = toValidityJson(engine.explain(id)).validity;
      const vrps = [...v.VRPs.unmatched_as, ...v.VRPs.unmatched_length]
        .slice(0, 6)
        .map((x) => `${h(x.prefix)}-${h(x.max_length)} ${h(x.asn)}`)
        .join('<br>');
      const origin = store.originValue(id);
      return `<tr class="invalid-route"><td><code>${h(store.prefixText(id))}</code></td><td>${origin === 'none' ? 'none' : `AS${origin}`}</td><td>${h(store.groups[store.group[id]!]!)}</td><td class="reason">${v.reason === 'length' ? 'length (too specific)' : 'as (origin not authorised)'}</td><td class="vrps">${vrps}</td><td>${h(store.descriptions[store.description[id]!]!)}</td><td>${h(ago(now, store.changedAt[id]! * 1000))}</td></tr>`;
    })
    .join('\n');

  const vrpRows = engine.vrpSources
    .map((s) => {
      const error = input.vrpErrors.get(s.name);
      const status = error !== undefined ? 'error' : s.complete ? 'ok' : 'waiting';
      return `<tr><td>${h(s.name)}</td><td class="num">${s.v4 + s.v6}</td><td class="num">${s.v4}</td><td class="num">${s.v6}</td><td>${h(ago(now, s.lastUpdate))}</td><td class="${status}">${h(error ?? status)}</td></tr>`;
    })
    .join('\n');
  const rtrRows = input.rtrCaches
    .map(
      (c) =>
        `<tr><td>${h(c.name)}</td><td class="${c.state === 'synced' ? 'ok' : c.state === 'idle' ? '' : 'error'}">${h(c.state)}</td><td class="num">${c.serial ?? '–'}</td><td class="num">${c.version ?? '–'}</td><td>${h(ago(now, c.lastSync))}</td><td>${h(c.lastError ?? '')}</td></tr>`,
    )
    .join('\n');
  const f = input.fallback;
  const fallbackRows =
    f === undefined
      ? ''
      : ['IPv4 (/24s)', 'IPv6 (/48s)']
          .map(
            (afi, a) =>
              `<tr><td>${afi}</td><td class="num">${f.routes[a * 3]}</td><td class="num">${f.routes[a * 3 + 1]}</td><td class="num">${f.routes[a * 3 + 2]}</td><td class="num">${+f.space[a * 2]!.toPrecision(6)}</td><td class="num">${+f.space[a * 2 + 1]!.toPrecision(6)}</td></tr>`,
          )
          .join('\n');
  const bmpRows = (input.bmp?.routers ?? [])
    .map((r) => {
      let up = 0;
      for (const p of r.router.peers.values()) if (p.up) up++;
      return `<tr class="bmp-router"><td>${h(r.label)}</td><td class="num">${up}</td><td>${h(r.evidence)}</td><td class="num ${r.accepted > 0 ? 'error' : ''}">${r.accepted}</td><td class="num">${r.rejected}</td><td class="num">${r.unknown}</td></tr>`;
    })
    .join('\n');
  const routeRows = input.routeSources
    .map(
      (r) =>
        `<tr><td>${h(r.name)}</td><td class="num">${r.routes ?? '–'}</td><td class="${r.error === undefined ? 'ok' : 'error'}">${h(r.error ?? 'ok')}</td></tr>`,
    )
    .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>rovkit monitor</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
.sub { color: #666; }
.cards { display: flex; gap: 1em; margin: 1em 0; }
.card { padding: .8em 1.2em; border-radius: 6px; min-width: 8em; color: #fff; }
.card .n { font-size: 2em; font-weight: 600; } .card .pct { opacity: .85; }
.card.valid { background: #2e7d32; } .card.invalid { background: #c62828; } .card.not_found { background: #757575; }
table { border-collapse: collapse; margin: .5em 0; } th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; } td.pct { color: #666; }
.ok { color: #2e7d32; } .error { color: #c62828; } .waiting { color: #b26a00; }
tr.invalid-route td.reason { color: #c62828; font-weight: 600; } td.vrps { font-family: monospace; font-size: .9em; }
footer { margin-top: 2em; color: #888; font-size: .9em; }
</style>
</head>
<body>
<h1>rovkit monitor</h1>
<div class="sub">${total} routes, ${engine.table.size} VRPs. ${engine.ready ? 'Ready.' : 'Waiting for the first full VRP set: states below are not final.'}</div>
<div class="cards">${summary}</div>
<h2>Routes per group</h2>
<table><thead><tr><th>group</th><th>routes</th><th colspan="2">valid</th><th colspan="2">invalid</th><th colspan="2">not found</th></tr></thead>
<tbody>
${groupRows}
</tbody></table>
<h2 id="invalid">Invalid routes (${invalidTotal}${invalidTotal > invalid.length ? `, first ${invalid.length} shown` : ''})</h2>
${
  invalid.length === 0
    ? '<p>None.</p>'
    : `<table><thead><tr><th>prefix</th><th>origin</th><th>group</th><th>reason</th><th>covering VRPs</th><th>description</th><th>last change</th></tr></thead>
<tbody>
${invalidRows}
</tbody></table>`
}
${
  f === undefined
    ? ''
    : `<h2 id="fallback">If Invalid routes were dropped</h2>
<table><thead><tr><th>family</th><th>covered</th><th>partial</th><th>no fallback</th><th>space still reachable</th><th>space lost</th></tr></thead>
<tbody>
${fallbackRows}
</tbody></table>
<p class="sub">Invalid routes whose address space routes that are not Invalid still cover (all, part, none); <a href="api/v1/invalid-fallback?fallback=none">the list</a>.</p>`
}
${
  input.bmp === undefined
    ? ''
    : `<h2 id="rov-enforcement">BMP routers: is ROV enforced?</h2>
<table><thead><tr><th>router</th><th>peers up</th><th>evidence</th><th>Invalid accepted</th><th>Invalid rejected</th><th>unknown</th></tr></thead>
<tbody>
${bmpRows}
</tbody></table>
<p class="sub">Invalid routes seen pre-policy that reached post-policy (or Loc-RIB); <a href="api/v1/rov-enforcement">the list</a>.</p>`
}
<h2>Feeds</h2>
<table><thead><tr><th>VRP source</th><th>VRPs</th><th>IPv4</th><th>IPv6</th><th>last update</th><th>status</th></tr></thead>
<tbody>
${vrpRows}
</tbody></table>
${
  input.rtrCaches.length === 0
    ? ''
    : `<table><thead><tr><th>RTR cache</th><th>state</th><th>serial</th><th>version</th><th>last sync</th><th>last error</th></tr></thead>
<tbody>
${rtrRows}
</tbody></table>`
}
<table><thead><tr><th>route source</th><th>routes</th><th>status</th></tr></thead>
<tbody>
${routeRows}
</tbody></table>
<footer>rovkit ${h(input.version)} · <a href="metrics">/metrics</a> · <a href="api/v1/routes?state=invalid">/api/v1/routes?state=invalid</a> · page generated ${h(new Date(now).toISOString())}</footer>
</body>
</html>
`;
}
