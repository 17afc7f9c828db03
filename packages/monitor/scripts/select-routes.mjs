#!/usr/bin/env node
// Selects the bundled route list (packages/monitor/data/routes-afrinic-ipv6.txt) from the
// RIPE RIS IPv6 whois dump in ../shared/data: every route that RIS peers see from a few
// African operators, chosen so that the AFRINIC trust anchor snapshot gives a mix of
// Valid, Invalid and NotFound. Run after `npm run build`:
//
//   node packages/monitor/scripts/select-routes.mjs [--survey]
//
// --survey prints, per origin AS with AFRINIC-covered routes, its counts per state, which
// is how the operators below were picked.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { loadVrpFile } from '@rovkit/core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const shared = resolve(repo, '../shared/data');
const ris = join(shared, 'routes/ris-riswhoisdump.IPv6-20241220.gz');
const vrpFile = join(here, '../data/ripe-archive-afrinic-20240101.routinator.json.gz');
const out = join(here, '../data/routes-afrinic-ipv6.txt');

// Operators (origin AS -> group), picked with --survey: between them they have Valid,
// Invalid (both reasons, where the data has them) and NotFound routes. Groups show how
// an operator would file its own and its customers' routes.
const operators = new Map([
  [33771, 'own'],
  [25818, 'own'],
  [2018, 'customer:as2018'],
  [36873, 'customer:as36873'],
  [36924, 'customer:as36924'],
  [61266, 'customer:as61266'],
]);

const { table } = await loadVrpFile(vrpFile);
const rows = [];
for (const line of gunzipSync(readFileSync(ris)).toString('latin1').split('\n')) {
  if (line === '' || line.startsWith('%')) continue;
  const [origin, prefix, peers] = line.split('\t');
  if (origin.startsWith('{') || prefix === '::/0') continue;
  rows.push({ origin: Number(origin), prefix, peers: Number(peers) });
}

if (process.argv.includes('--survey')) {
  const byAs = new Map();
  for (const r of rows) {
    const state = table.validate(r.prefix, r.origin);
    const c = byAs.get(r.origin) ?? { valid: 0, invalid: 0, 'not-found': 0 };
    c[state]++;
    byAs.set(r.origin, c);
  }
  const covered = [...byAs].filter(([, c]) => c.valid + c.invalid > 0);
  covered.sort((a, b) => b[1].invalid - a[1].invalid || b[1].valid - a[1].valid);
  for (const [asn, c] of covered.slice(0, 60))
    console.log(`AS${asn}\tvalid ${c.valid}\tinvalid ${c.invalid}\tnot-found ${c['not-found']}`);
  process.exit(0);
}

const selected = rows.filter((r) => operators.has(r.origin));
selected.sort((a, b) => a.origin - b.origin || a.prefix.localeCompare(b.prefix));
const lines = [
  '# Real IPv6 routes of a few African operators, as RIPE RIS saw them on 2024-12-20',
  '# (riswhoisdump.IPv6, RIPE NCC RIS). Selected by scripts/select-routes.mjs; see README.md.',
  '# Format: prefix origin group description',
];
const counts = { valid: 0, invalid: 0, 'not-found': 0 };
for (const r of selected) {
  counts[table.validate(r.prefix, r.origin)]++;
  lines.push(`${r.prefix} AS${r.origin} ${operators.get(r.origin)} seen by ${r.peers} RIS peers`);
}
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`${selected.length} routes written to ${out}: ${JSON.stringify(counts)}`);
