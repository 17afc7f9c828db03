// rtrlib's prefix table (Debian librtr-dev 0.8) as a benchmark peer: a small C harness
// (benchmarks/c/rtrlib_bench.c) is compiled on first use, cached by source hash in
// benchmarks/.work/, and fed binary column files written here.
//
// Semantics (from rtrlib 0.8 rtrlib/pfx/trie/trie-pfx.c, pfx_table_elem_matches, and
// checked by test/peers-rtrlib.test.ts):
// - A VRP with AS 0 covers but never matches: `asn != 0 && asn == origin && len <= max_len`.
//   So a route covered only by AS0 VRPs is Invalid, as RFC 6483 section 4 / RFC 7607 want.
// - A route with origin 0 (how we pass an AS_SET, "none") never matches: Invalid when
//   covered, NotFound otherwise, as RFC 6811 asks for NONE.
// - Results are valid / invalid / not found only: rtrlib does not say whether an Invalid is
//   due to the AS or to the length.
// - pfx_table_add refuses an exact duplicate (prefix, length, maxLength, AS, socket) with
//   PFX_DUPLICATE_RECORD; it keeps no reference count.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot, workDir, type RouteSet, type VrpSet } from '../datasets.js';
import { summarize, type Summary } from '../stats.js';
import { PeerError } from './errors.js';

export const rtrlibSource = join(repoRoot, 'benchmarks', 'c', 'rtrlib_bench.c');
const COMPILER = 'cc';
const FLAGS = ['-O2', '-std=c11', '-Wall', '-Wextra'];
const VRPS_MAGIC = 0x31505256;
const ROUTES_MAGIC = 0x31545452;

/**
 * Compiles the harness unless a binary for this source and these flags exists in
 * benchmarks/.work/, and returns the binary's path. Throws PeerError
 * BENCH_ERR_PEER_BUILD when cc or librtr-dev is missing.
 */
export function buildRtrlibHarness(): string {
  const source = readFileSync(rtrlibSource);
  const hash = createHash('sha256').update(source).update(FLAGS.join(' ')).digest('hex').slice(0, 16);
  const binary = join(workDir, `rtrlib_bench-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(workDir, { recursive: true });
  // Concurrent test workers may build at once: each writes its own file, rename is atomic.
  const temporary = `${binary}.tmp-${process.pid}`;
  const result = spawnSync(COMPILER, [...FLAGS, '-o', temporary, rtrlibSource, '-lrtr'], {
    encoding: 'utf8',
  });
  if (result.error !== undefined || result.status !== 0) {
    rmSync(temporary, { force: true });
    const detail = result.error?.message ?? result.stderr.trim();
    throw new PeerError('BENCH_ERR_PEER_BUILD', 'rtrlib', `cannot build ${rtrlibSource}: ${detail}`, {
      cause: result.error,
    });
  }
  renameSync(temporary, binary);
  return binary;
}

/** Concatenates typed arrays, each padded to 4 bytes, after a 16-byte header. */
function sections(magic: number, n4: number, n6: number, parts: readonly ArrayBufferView[]): Buffer {
  const header = new Uint32Array([magic, n4, n6, 0]);
  const chunks: Buffer[] = [Buffer.from(header.buffer)];
  for (const part of parts) {
    chunks.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    const pad = (4 - (part.byteLength % 4)) % 4;
    if (pad > 0) chunks.push(Buffer.alloc(pad));
  }
  return Buffer.concat(chunks);
}

/** The VRPS file of rtrlib_bench.c (this machine's byte order). */
export function encodeVrps(vrps: VrpSet): Buffer {
  const { v4, v6 } = vrps;
  return sections(VRPS_MAGIC, v4.count, v6.count, [
    v4.addr.subarray(0, v4.count),
    v4.asn.subarray(0, v4.count),
    v4.length.subarray(0, v4.count),
    v4.maxLength.subarray(0, v4.count),
    v6.words.subarray(0, v6.count * 4),
    v6.asn.subarray(0, v6.count),
    v6.length.subarray(0, v6.count),
    v6.maxLength.subarray(0, v6.count),
  ]);
}

/** The ROUTES file of rtrlib_bench.c; an AS_SET origin is passed as 0. */
export function encodeRoutes(routes: RouteSet): Buffer {
  const { v4, v6 } = routes;
  return sections(ROUTES_MAGIC, v4.count, v6.count, [
    v4.addr.subarray(0, v4.count),
    v4.origin.subarray(0, v4.count),
    v4.length.subarray(0, v4.count),
    v6.words.subarray(0, v6.count * 4),
    v6.origin.subarray(0, v6.count),
    v6.length.subarray(0, v6.count),
  ]);
}

export interface RtrlibOptions {
  /** Validation passes over all routes per process run (default 5). */
  repetitions?: number;
  /** Process runs, each loading the table afresh: gives the spread of the load (default 1). */
  runs?: number;
}

export interface RtrlibRun {
  readonly vrps: { v4: number; v6: number; added: number; duplicates: number; errors: number };
  /** pfx_table_add of every VRP, one sample per run; ops = VRPs. */
  readonly load: Summary;
  /** Resident set growth over the load (KiB → bytes), median over runs. */
  readonly tableRssBytes: number;
  readonly peakRssBytes: number;
  /** pfx_table_validate of every IPv4 / IPv6 / all route(s); ops = routes. */
  readonly v4: Summary;
  readonly v6: Summary;
  readonly all: Summary;
  /** One byte per route in RouteSet order: PeerState (0 not found, 1 valid, 2 invalid). */
  readonly results: Uint8Array;
  readonly counts: { notFound: number; valid: number; invalid: number };
}

interface HarnessOutput {
  vrps: { v4: number; v6: number; added: number; duplicates: number; errors: number };
  loadSeconds: number;
  rssBeforeLoadKiB: number;
  rssAfterLoadKiB: number;
  routes: { v4: number; v6: number };
  repetitions: { v4Seconds: number; v6Seconds: number }[];
  validateErrors: number;
  counts: { notFound: number; valid: number; invalid: number };
  peakRssKiB: number;
}

/**
 * Loads `vrps` into an rtrlib pfx_table and validates every route of `routes`
 * `repetitions` times, in a child process. Routes with an AS_SET origin go in as origin 0.
 */
export function runRtrlib(vrps: VrpSet, routes: RouteSet, options: RtrlibOptions = {}): RtrlibRun {
  const { repetitions = 5, runs = 1 } = options;
  const binary = buildRtrlibHarness();
  mkdirSync(workDir, { recursive: true });
  const dir = mkdtempSync(join(workDir, 'rtrlib-run-'));
  try {
    const vrpsPath = join(dir, 'vrps.bin');
    const routesPath = join(dir, 'routes.bin');
    const resultsPath = join(dir, 'results.bin');
    writeFileSync(vrpsPath, encodeVrps(vrps));
    writeFileSync(routesPath, encodeRoutes(routes));
    const outputs: HarnessOutput[] = [];
    let results = new Uint8Array(0);
    for (let run = 0; run < runs; run++) {
      const child = spawnSync(binary, [vrpsPath, routesPath, String(repetitions), resultsPath], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      if (child.error !== undefined || child.status !== 0) {
        throw new PeerError(
          'BENCH_ERR_PEER_RUN',
          'rtrlib',
          `${binary} failed: ${child.error?.message ?? child.stderr}`,
          {
            cause: child.error,
          },
        );
      }
      let output: HarnessOutput;
      try {
        output = JSON.parse(child.stdout) as HarnessOutput;
      } catch (error) {
        throw new PeerError('BENCH_ERR_PEER_OUTPUT', 'rtrlib', `unreadable output: ${child.stdout}`, {
          cause: error,
        });
      }
      if (output.validateErrors !== 0 || output.routes.v4 + output.routes.v6 !== routes.count) {
        throw new PeerError('BENCH_ERR_PEER_OUTPUT', 'rtrlib', `validation failed: ${child.stdout}`);
      }
      outputs.push(output);
      results = new Uint8Array(readFileSync(resultsPath));
    }
    const first = outputs[0]!;
    const reps = outputs.flatMap((o) => o.repetitions);
    const v4Ms = reps.map((r) => r.v4Seconds * 1000);
    const v6Ms = reps.map((r) => r.v6Seconds * 1000);
    const tableKiB = outputs.map((o) => o.rssAfterLoadKiB - o.rssBeforeLoadKiB).sort((a, b) => a - b);
    return {
      vrps: first.vrps,
      load: summarize(
        outputs.map((o) => o.loadSeconds * 1000),
        vrps.count,
      ),
      tableRssBytes: tableKiB[tableKiB.length >> 1]! * 1024,
      peakRssBytes: Math.max(...outputs.map((o) => o.peakRssKiB)) * 1024,
      v4: summarize(v4Ms, routes.v4.count),
      v6: summarize(v6Ms, routes.v6.count),
      all: summarize(
        v4Ms.map((ms, i) => ms + v6Ms[i]!),
        routes.count,
      ),
      results,
      counts: first.counts,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
