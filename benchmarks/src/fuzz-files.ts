// Fuzzing the file parsers at scale (issue 11: a million inputs; the tests beside the
// readers cover the limits one byte past): the VRP JSON and CSV readers of @rovkit/core
// and the route list parser of the monitor (text, BGPalerter YAML, JSON). Inputs are
// real-looking files (rpki-client and Routinator JSON with metadata and ASPA, Routinator
// and rpki-client CSV, route lists in the three shapes) and mutations of them: bytes
// changed, cut, inserted or duplicated, a token grown past the limit, deep nesting, huge
// numbers, control bytes and random bytes.
//
// Checked for every input: only the typed error of the parser escapes (VrpFileError,
// ROV_ERR_VRP_FILE; RouteFileError, ROVKIT_ERR_ROUTE_FILE), never another exception; a
// VRP file fed whole and fed in random chunks gives the same outcome (the same VRP count,
// or an error both ways); error messages are short and hold no control byte. Memory: the
// V8 heap after a full GC, every 100,000 inputs, must not grow.
//
// node benchmarks/dist/fuzz-files.js [--inputs N] [--seed S]
import { fileURLToPath } from 'node:url';

import { RovError, VrpFileError, VrpStreamLoader, VrpTable } from '@rovkit/core';
import { parseRouteList, RouteFileError, type RouteListFormat } from '@rovkit/monitor';

import { collectGarbage, memory } from './stats.js';
import { fuzzMain, type FuzzReport } from './fuzz-main.js';
import { BYTE_MUTATIONS, mutateBytes } from './mutate.js';
import { Random } from './random.js';

export interface FuzzFilesOptions {
  /** Inputs to play (default 1,000,000). */
  readonly inputs?: number;
  /** PRNG seed (default 1); the same seed plays the same inputs. */
  readonly seed?: number;
  readonly log?: (text: string) => void;
}

export type FuzzFilesResult = FuzzReport;

/** Small limits, so that mutations reach them often. */
const TOKEN_LIMIT = 512;
const LINE_LIMIT = 512;

// ---------------------------------------------------------------- real-looking files

const TAS = ['ripe', 'arin', 'apnic', 'lacnic', 'afrinic'];

function v4(r: Random): { prefix: string; length: number } {
  const length = 8 + r.below(25);
  const address = (r.u32() & (length === 32 ? 0xffffffff : ~(0xffffffff >>> length))) >>> 0;
  return {
    prefix: `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}/${length}`,
    length,
  };
}

function v6(r: Random): { prefix: string; length: number } {
  const length = 16 + r.below(49);
  const groups = [0x2000 + r.below(0x1000), r.below(0x10000), r.below(0x10000), r.below(0x10000)];
  for (let g = 0; g < 4; g++) {
    const keep = Math.max(0, Math.min(16, length - 16 * g));
    groups[g] = keep === 0 ? 0 : groups[g]! & (0xffff << (16 - keep)) & 0xffff;
  }
  return { prefix: `${groups.map((x) => x.toString(16)).join(':')}::/${length}`, length };
}

function roas(r: Random): { asn: number; prefix: string; maxLength: number; ta: string }[] {
  return Array.from({ length: r.below(30) }, () => {
    const p = r.chance(0.7) ? v4(r) : v6(r);
    const family = p.prefix.includes(':') ? 128 : 32;
    return {
      asn: r.chance(0.05) ? 0 : r.below(400_000),
      prefix: p.prefix,
      maxLength: Math.min(family, p.length + r.below(4)),
      ta: TAS[r.below(TAS.length)]!,
    };
  });
}

function vrpJson(r: Random): string {
  const list = roas(r);
  const routinator = r.chance(0.5);
  const items = list.map((v) =>
    routinator
      ? `    { "asn": "AS${v.asn}", "prefix": "${v.prefix}", "maxLength": ${v.maxLength}, "ta": "${v.ta}" }`
      : `\t\t{ "asn": ${v.asn}, "prefix": "${v.prefix}", "maxLength": ${v.maxLength}, "ta": "${v.ta}", "expires": ${1_700_000_000 + r.below(1_000_000)} }`,
  );
  const metadata = routinator
    ? '"metadata": { "generated": 1704086032, "generatedTime": "2024-01-01T05:13:52Z" }'
    : '"metadata": { "buildmachine": "rpki.example.net", "buildtime": "2024-01-01T05:13:52Z", "roas": 7, "talfiles": ["a.tal", "b\\"c.tal"] }';
  const aspa = '"aspas": [ { "customer": 64496, "providers": [64497, 64498], "expires": 1704086032 } ]';
  return `{\n  ${metadata},\n  "roas": [\n${items.join(',\n')}\n  ],\n  ${aspa}\n}\n`;
}

function vrpCsv(r: Random): string {
  const expires = r.chance(0.5);
  const head = `ASN,IP Prefix,Max Length,Trust Anchor${expires ? ',Expires' : ''}\n`;
  const eol = r.chance(0.3) ? '\r\n' : '\n';
  return (
    head +
    roas(r)
      .map(
        (v) =>
          `AS${v.asn},${v.prefix},${v.maxLength},${v.ta}${expires ? `,${1_700_000_000 + r.below(1e6)}` : ''}`,
      )
      .join(eol) +
    eol
  );
}

function routeList(r: Random): { text: string; format: RouteListFormat } {
  const list = roas(r).map((v) => ({
    prefix: v.prefix,
    asn: v.asn,
    group: r.chance(0.3) ? `customer:c${r.below(9)}` : 'own',
    description: r.chance(0.5) ? `Customer ${r.below(100)} Ltd` : '',
  }));
  switch (r.below(3)) {
    case 0:
      return {
        format: 'text',
        text: `# routes\n${list.map((e) => `${e.prefix} AS${e.asn} ${e.group} ${e.description}`.trimEnd()).join('\n')}\n`,
      };
    case 1:
      return {
        format: 'yaml',
        text:
          list
            .map(
              (e) =>
                `${e.prefix}:\n  description: ${e.description || 'none'}\n  asn:\n    - ${e.asn}\n  group: ${e.group}\n  ignoreMorespecifics: false`,
            )
            .join('\n') + '\noptions:\n  monitorASns:\n    64496:\n      group: default\n',
      };
    default:
      return {
        format: 'json',
        text: r.chance(0.5)
          ? JSON.stringify(list, null, 2)
          : JSON.stringify(Object.fromEntries(list.map((e) => [e.prefix, { asn: [e.asn], group: e.group }]))),
      };
  }
}

// ---------------------------------------------------------------- mutations

function mutate(r: Random, input: Buffer): Buffer {
  let b = input;
  const count = 1 + r.below(4);
  for (let i = 0; i < count; i++) {
    const at = b.length === 0 ? 0 : r.below(b.length);
    const kind = r.below(BYTE_MUTATIONS + 6);
    if (kind < BYTE_MUTATIONS) {
      b = mutateBytes(r, b, kind, 200);
      continue;
    }
    switch (kind - BYTE_MUTATIONS + 4) {
      case 4: {
        // A run around the limit: inside a string or a line it makes a token too long.
        const n = TOKEN_LIMIT - 8 + r.below(32) + (r.chance(0.2) ? r.below(4 * TOKEN_LIMIT) : 0);
        b = Buffer.concat([b.subarray(0, at), Buffer.alloc(n, r.chance(0.5) ? 0x61 : 0x31), b.subarray(at)]);
        break;
      }
      case 5: {
        const depth = 50 + r.below(30);
        const open = r.chance(0.5) ? '[' : '{"a":';
        const close = open === '[' ? ']' : '}';
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(open.repeat(depth) + (r.chance(0.8) ? close.repeat(depth) : '')),
          b.subarray(at),
        ]);
        break;
      }
      case 6:
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(r.chance(0.5) ? '1e999' : '9'.repeat(40)),
          b.subarray(at),
        ]);
        break;
      case 7:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([r.below(32)]), b.subarray(at)]);
        break;
      case 8: {
        const tokens = ['"', ',', ':', '{', '}', '[', ']', '\\', '\n', '#', '- ', '&a ', '*a', '!!binary '];
        b = Buffer.concat([b.subarray(0, at), Buffer.from(tokens[r.below(tokens.length)]!), b.subarray(at)]);
        break;
      }
      default:
        b = Buffer.concat([b.subarray(0, at), b.subarray(r.below(b.length + 1))]);
    }
  }
  return b;
}

// ---------------------------------------------------------------- running

type Outcome = { ok: true; count: number } | { ok: false; code: string; message: string };

function typed(error: unknown, code: string): Outcome {
  if (error instanceof RovError || error instanceof RouteFileError) {
    if (error.code !== code) throw error;
    return { ok: false, code: error.code, message: error.message };
  }
  throw error;
}

async function loadVrps(data: Buffer, cuts: number[]): Promise<Outcome> {
  const loader = new VrpStreamLoader('fuzz', new VrpTable(), undefined, TOKEN_LIMIT);
  try {
    let from = 0;
    for (const cut of cuts) {
      loader.push(data.subarray(from, cut));
      from = cut;
    }
    loader.push(data.subarray(from));
    await loader.end();
    return { ok: true, count: loader.count };
  } catch (error) {
    return typed(error, new VrpFileError('', undefined, '').code);
  }
}

function badMessage(message: string): string | undefined {
  if (message.length > 600) return `message of ${message.length} characters`;
  if (/[\x00-\x1f\x7f]/.test(message)) return `control byte in ${JSON.stringify(message)}`;
  return undefined;
}

export async function fuzzFiles(options: FuzzFilesOptions = {}): Promise<FuzzFilesResult> {
  const inputs = options.inputs ?? 1_000_000;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => undefined);
  const r = new Random(seed);
  const outcomes: Record<string, number> = {};
  const violations: string[] = [];
  const violate = (i: number, what: string, input: Buffer): void => {
    if (violations.length < 20)
      violations.push(`input ${i}: ${what} on ${JSON.stringify(input.toString('latin1').slice(0, 300))}`);
  };
  const heapMb: number[] = [];
  collectGarbage();
  heapMb.push(memory().heapUsed / 1e6);
  const start = performance.now();
  for (let i = 1; i <= inputs; i++) {
    const kind = r.below(3);
    const random = r.chance(0.05);
    let input: Buffer;
    let format: RouteListFormat = 'text';
    if (kind === 2) {
      const list = routeList(r);
      format = list.format;
      input = Buffer.from(list.text);
    } else input = Buffer.from(kind === 0 ? vrpJson(r) : vrpCsv(r));
    if (random) input = Buffer.from(Array.from({ length: r.below(300) }, () => r.below(256)));
    else if (r.chance(0.85)) input = mutate(r, input);
    const name = kind === 2 ? `routes-${format}` : kind === 0 ? 'vrp-json' : 'vrp-csv';
    let outcome: Outcome;
    try {
      if (kind === 2) {
        try {
          outcome = {
            ok: true,
            count: parseRouteList('fuzz', input.toString('utf8'), format, LINE_LIMIT).length,
          };
        } catch (error) {
          outcome = typed(error, 'ROVKIT_ERR_ROUTE_FILE');
        }
      } else {
        outcome = await loadVrps(input, []);
        const cuts = Array.from({ length: r.below(6) }, () => r.below(input.length + 1)).sort(
          (a, b) => a - b,
        );
        const chunked = await loadVrps(input, cuts);
        if (chunked.ok !== outcome.ok || (chunked.ok && outcome.ok && chunked.count !== outcome.count))
          violate(
            i,
            `whole ${JSON.stringify(outcome)} but in chunks at ${cuts} ${JSON.stringify(chunked)}`,
            input,
          );
      }
    } catch (error) {
      violate(i, `${name} threw ${String(error)}`, input);
      continue;
    }
    const key = `${name} ${outcome.ok ? 'ok' : outcome.code}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (!outcome.ok) {
      const bad = badMessage(outcome.message);
      if (bad !== undefined) violate(i, `${name}: ${bad}`, input);
    }
    if (i % 100_000 === 0) {
      collectGarbage();
      heapMb.push(memory().heapUsed / 1e6);
      log(`fuzz-files: ${i} inputs, heap ${heapMb.at(-1)!.toFixed(1)} MB, ${violations.length} violations`);
    }
  }
  collectGarbage();
  heapMb.push(memory().heapUsed / 1e6);
  const seconds = (performance.now() - start) / 1000;
  return { inputs, seed, seconds, inputsPerSecond: inputs / seconds, outcomes, violations, heapMb };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await fuzzMain(fuzzFiles);
}
