// Peers and VRP-set helpers for test/differential.test.ts: a StayRTR on 127.0.0.1 serving
// a VRP JSON, rtrlib's rpki-rov validating routes through it (one "IP LENGTH ASN" line per
// route on stdin, one "IP LENGTH ASN|VRPs|CODE" line back), and VrpSet plumbing. The VRP
// columns come from benchmarks/src/datasets.ts, whose parser is independent of
// @rovkit/core, so that what the peers are fed does not inherit a bug of what they check.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

import {
  formatRoute,
  routeOrigin,
  vrpRecord,
  type RouteSet,
  type V4Vrps,
  type V6Vrps,
  type VrpRecord,
  type VrpSet,
} from '../../benchmarks/src/datasets.js';
import { PeerState } from '../../benchmarks/src/peers/errors.js';

// ---------------------------------------------------------------- VRP sets

/** Several VRP sets as one, in order (duplicates kept). */
export function concatVrps(parts: readonly VrpSet[]): VrpSet {
  const join = <T extends Uint8Array | Uint32Array>(arrays: T[], make: (n: number) => T): T => {
    const out = make(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  const u8 = (n: number): Uint8Array => new Uint8Array(n);
  const u32 = (n: number): Uint32Array => new Uint32Array(n);
  const v4: V4Vrps = {
    addr: join(
      parts.map((p) => p.v4.addr),
      u32,
    ),
    length: join(
      parts.map((p) => p.v4.length),
      u8,
    ),
    maxLength: join(
      parts.map((p) => p.v4.maxLength),
      u8,
    ),
    asn: join(
      parts.map((p) => p.v4.asn),
      u32,
    ),
    count: parts.reduce((n, p) => n + p.v4.count, 0),
  };
  const v6: V6Vrps = {
    words: join(
      parts.map((p) => p.v6.words),
      u32,
    ),
    length: join(
      parts.map((p) => p.v6.length),
      u8,
    ),
    maxLength: join(
      parts.map((p) => p.v6.maxLength),
      u8,
    ),
    asn: join(
      parts.map((p) => p.v6.asn),
      u32,
    ),
    count: parts.reduce((n, p) => n + p.v6.count, 0),
  };
  return { v4, v6, count: v4.count + v6.count };
}

/** The set without its /0 VRPs (0.0.0.0/0, ::/0), and how many there were per family. */
export function withoutDefaultVrps(vrps: VrpSet): { rest: VrpSet; removedV4: number; removedV6: number } {
  const keep4: number[] = [];
  const keep6: number[] = [];
  for (let i = 0; i < vrps.v4.count; i++) if (vrps.v4.length[i] !== 0) keep4.push(i);
  for (let i = 0; i < vrps.v6.count; i++) if (vrps.v6.length[i] !== 0) keep6.push(i);
  const words = new Uint32Array(keep6.length * 4);
  keep6.forEach((j, k) => words.set(vrps.v6.words.subarray(j * 4, j * 4 + 4), k * 4));
  const rest: VrpSet = {
    v4: {
      addr: Uint32Array.from(keep4, (i) => vrps.v4.addr[i]!),
      length: Uint8Array.from(keep4, (i) => vrps.v4.length[i]!),
      maxLength: Uint8Array.from(keep4, (i) => vrps.v4.maxLength[i]!),
      asn: Uint32Array.from(keep4, (i) => vrps.v4.asn[i]!),
      count: keep4.length,
    },
    v6: {
      words,
      length: Uint8Array.from(keep6, (j) => vrps.v6.length[j]!),
      maxLength: Uint8Array.from(keep6, (j) => vrps.v6.maxLength[j]!),
      asn: Uint32Array.from(keep6, (j) => vrps.v6.asn[j]!),
      count: keep6.length,
    },
    count: keep4.length + keep6.length,
  };
  return { rest, removedV4: vrps.v4.count - keep4.length, removedV6: vrps.v6.count - keep6.length };
}

const MASKS = new Uint32Array(33);
for (let n = 1; n <= 32; n++) MASKS[n] = (0xffffffff << (32 - n)) >>> 0;

/** Every VRP of `vrps` covering route i, by a linear scan (to explain a difference). */
export function coveringVrps(vrps: VrpSet, routes: RouteSet, i: number): VrpRecord[] {
  const found: VrpRecord[] = [];
  if (i < routes.v4.count) {
    const addr = routes.v4.addr[i]!;
    const length = routes.v4.length[i]!;
    const v = vrps.v4;
    for (let k = 0; k < v.count; k++) {
      const l = v.length[k]!;
      if (l <= length && ((addr ^ v.addr[k]!) & MASKS[l]!) === 0) found.push(vrpRecord(vrps, k));
    }
    return found;
  }
  const j = i - routes.v4.count;
  const length = routes.v6.length[j]!;
  const v = vrps.v6;
  for (let k = 0; k < v.count; k++) {
    const l = v.length[k]!;
    if (l > length) continue;
    let inside = true;
    for (let w = 0; w < 4 && inside; w++) {
      const bits = Math.min(32, Math.max(0, l - w * 32));
      inside = ((routes.v6.words[j * 4 + w]! ^ v.words[k * 4 + w]!) & MASKS[bits]!) === 0;
    }
    if (inside) found.push(vrpRecord(vrps, vrps.v4.count + k));
  }
  return found;
}

/** An rpki-client style JSON of the set (integer ASNs, no `expires`) that StayRTR serves in full. */
export function writeVrpJson(vrps: VrpSet, path: string, ta: string): void {
  const roas: string[] = [];
  for (let i = 0; i < vrps.count; i++) {
    const r = vrpRecord(vrps, i);
    roas.push(`{"asn":${r.asn},"prefix":"${r.prefix}","maxLength":${r.maxLength},"ta":"${ta}"}`);
  }
  writeFileSync(
    path,
    `{"metadata":{"buildtime":"2024-04-15T00:00:00Z","generator":"rovkit test/differential"},"roas":[\n${roas.join(',\n')}\n]}\n`,
  );
}

// ---------------------------------------------------------------- StayRTR

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (typeof address !== 'object' || address === null) throw new Error('no port from the kernel');
  return address.port;
}

export interface StayRtrProcess {
  readonly port: number;
  /** VRPs StayRTR reports loading ("New update (N uniques, ...)"). */
  readonly uniques: number;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/**
 * Starts `stayrtr` on 127.0.0.1 (a free port; metrics on a free port too) serving `file`,
 * and waits until it has loaded the file and listens. The caller stops it.
 */
export async function startStayRtr(file: string, timeoutMs = 60_000): Promise<StayRtrProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'stayrtr',
      [
        '-bind',
        `127.0.0.1:${port}`,
        '-cache',
        file,
        '-checktime=false',
        '-metrics.addr',
        '127.0.0.1:0',
        '-refresh',
        '3600',
        '-loglevel',
        'info',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    const onLog = (chunk: Buffer): void => {
      log = (log + chunk.toString('utf8')).slice(-65536);
    };
    child.stdout!.on('data', onLog);
    child.stderr!.on('data', onLog);
    const started = Date.now();
    while (!/StayRTR Server started/.test(log)) {
      if (child.exitCode !== null || Date.now() - started > timeoutMs) {
        await stopChild(child);
        // Another process may have taken the port between freePort() and the bind.
        if (attempt < 3 && /address already in use/.test(log)) break;
        throw new Error(`stayrtr did not start serving ${file}: ${log.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!/StayRTR Server started/.test(log)) continue;
    const uniques = /New update \((\d+) uniques/.exec(log);
    return {
      port,
      uniques: uniques === null ? -1 : Number(uniques[1]),
      stop: () => stopChild(child),
    };
  }
}

// ---------------------------------------------------------------- rpki-rov

export interface RpkiRovRun {
  /** PeerState per route, RouteSet order. */
  readonly results: Uint8Array;
  /** "Sync successful, received N Prefix PDUs" from rtrlib's log. */
  readonly prefixPdus: number;
  readonly ms: number;
}

/** rpki-rov's line for route i: "IP LENGTH ASN" (an AS_SET origin goes in as 0). */
function rovLine(routes: RouteSet, i: number): string {
  const prefix = formatRoute(routes, i);
  const slash = prefix.indexOf('/');
  const origin = routeOrigin(routes, i);
  return `${prefix.slice(0, slash)} ${prefix.slice(slash + 1)} ${origin === 'none' ? 0 : origin}`;
}

// rpki-rov's codes: 0 valid, 1 not found, 2 invalid.
const ROV_STATE = [PeerState.Valid, PeerState.NotFound, PeerState.Invalid];

/**
 * Validates every route with `rpki-rov 127.0.0.1 PORT` (rtrlib's RTR manager syncs from the
 * cache first). Input is streamed with backpressure and output parsed as it arrives; each
 * answer's echo of "IP LENGTH ASN" is checked against the route it belongs to. rpki-rov
 * prints its ASN with %d, so ASNs above 2^31 - 1 come back negative.
 */
export async function runRpkiRov(port: number, routes: RouteSet, timeoutMs = 120_000): Promise<RpkiRovRun> {
  const started = Date.now();
  const child = spawn('rpki-rov', ['127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const results = new Uint8Array(routes.count).fill(255);
  let answered = 0;
  let stderr = '';
  let prefixPdus = -1;
  let failure: Error | undefined;
  let pending = '';
  const fail = (message: string): void => {
    if (failure === undefined) {
      failure = new Error(message);
      child.kill('SIGKILL');
    }
  };
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-65536);
    const m = /received (\d+) Prefix PDUs/.exec(stderr);
    if (m !== null) prefixPdus = Number(m[1]);
  });
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    let start = 0;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
      const line = pending.slice(start, end);
      start = end + 1;
      if (answered === routes.count) {
        // After the last route, stdin's EOF makes rpki-rov print "input error" and exit 1.
        if (line !== 'input error') fail(`rpki-rov: unexpected line after the last route: ${line}`);
        continue;
      }
      const bar = line.indexOf('|');
      const lastBar = line.lastIndexOf('|');
      const code = Number(line.slice(lastBar + 1));
      const expected = rovLine(routes, answered);
      const sp = expected.lastIndexOf(' ');
      const echo = `${expected.slice(0, sp)} ${Number(expected.slice(sp + 1)) | 0}`;
      if (bar < 0 || lastBar === bar || line.slice(0, bar) !== echo || !(code >= 0 && code <= 2)) {
        fail(`rpki-rov: answer ${answered} "${line.slice(0, 200)}" does not fit "${expected}"`);
        return;
      }
      results[answered++] = ROV_STATE[code]!;
    }
    pending = pending.slice(start);
  });
  const exited = once(child, 'close');
  child.stdin.on('error', (error) => fail(`rpki-rov stdin: ${error.message}`));
  const BATCH = 4096;
  for (let from = 0; from < routes.count && failure === undefined && child.exitCode === null; from += BATCH) {
    const to = Math.min(routes.count, from + BATCH);
    const lines: string[] = [];
    for (let i = from; i < to; i++) lines.push(rovLine(routes, i));
    if (!child.stdin.write(`${lines.join('\n')}\n`)) {
      await Promise.race([once(child.stdin, 'drain'), exited]);
    }
  }
  child.stdin.end();
  await exited;
  clearTimeout(timer);
  if (failure !== undefined) throw failure;
  if (answered !== routes.count) {
    throw new Error(
      `rpki-rov answered ${answered} of ${routes.count} routes (exit ${child.exitCode}, ` +
        `signal ${child.signalCode}); stdout tail "${pending.slice(-200)}", stderr tail: ${stderr.slice(-2000)}`,
    );
  }
  return { results, prefixPdus, ms: Date.now() - started };
}
