// Fuzzing the BMP session (framing, BMP messages, the BGP UPDATEs and OPENs inside) at
// scale (issue 6: a large run here, at least a million inputs; `npm test` runs a few
// thousand in packages/monitor/src/feeds/bmp/listener.test.ts). Inputs: valid router
// streams (Initiation, Peer Up with ADD-PATH or not, Route Monitoring pre/post-policy and
// Loc-RIB with IPv4, IPv6, withdrawals, AS_SET origins, Statistics, Peer Down,
// Termination), mutations of them (bytes changed, cut, inserted, duplicated, length fields
// rewritten) and random bodies behind a valid common header.
//
// Checked for every input, fed to a fresh BmpSession whole and again cut into random
// chunks: only BmpError escapes push(), with a known code; both feedings report the same
// route changes and the same error (code and offset); a valid stream raises nothing;
// close() removes every route that was added (adds and removes balance); the bytes held
// for an incomplete message never exceed the message limit. Memory: the V8 heap after a
// full GC, every 100,000 inputs, must not grow.
//
// node benchmarks/dist/fuzz-bmp.js [--inputs N] [--seed S]
import { fileURLToPath } from 'node:url';

import {
  BmpError,
  BmpSession,
  RouterState,
  type BmpPeer,
  type BmpRouteSink,
  type SessionEvents,
} from '@rovkit/monitor';

import { collectGarbage, memory } from './stats.js';
import { fuzzMain, type FuzzReport } from './fuzz-main.js';
import { BYTE_MUTATIONS, mutateBytes } from './mutate.js';
import { Random } from './random.js';

export interface FuzzBmpOptions {
  /** Inputs to play (default 1,000,000). */
  readonly inputs?: number;
  /** PRNG seed (default 1); the same seed plays the same inputs. */
  readonly seed?: number;
  readonly log?: (text: string) => void;
}

export interface FuzzBmpResult extends FuzzReport {
  readonly routesAdded: number;
}

const CODES = new Set(['BMP_ERR_MALFORMED', 'BMP_ERR_VERSION', 'BMP_ERR_TOO_LARGE']);
const MAX_MESSAGE = 1 << 16;

// ---------------------------------------------------------------- builders

type Bytes = number[];
const u16 = (v: number): Bytes => [(v >>> 8) & 255, v & 255];
const u32 = (v: number): Bytes => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const bmp = (type: number, body: Bytes): Bytes => [3, ...u32(6 + body.length), type, ...body];
const bgp = (type: number, body: Bytes): Bytes => [
  ...Array<number>(16).fill(255),
  ...u16(19 + body.length),
  type,
  ...body,
];
const attr = (flags: number, type: number, value: Bytes): Bytes =>
  value.length > 255
    ? [flags | 0x10, type, ...u16(value.length), ...value]
    : [flags, type, value.length, ...value];

interface Peer {
  type: number;
  flags: number;
  address: number;
  asn: number;
  addPath: boolean;
}

function perPeer(p: Peer, flags: number): Bytes {
  return [
    p.type,
    p.flags | flags,
    ...Array<number>(8).fill(0),
    ...Array<number>(12).fill(0),
    ...u32(p.address),
    ...u32(p.asn),
    ...u32(p.address),
    ...u32(1_700_000_000),
    ...u32(0),
  ];
}

function open(asn: number, addPath: boolean): Bytes {
  const caps = [2, 6, 65, 4, ...u32(asn), 2, 6, 1, 4, 0, 1, 0, 1, 2, 6, 1, 4, 0, 2, 0, 1];
  if (addPath) caps.push(2, 10, 69, 8, 0, 1, 1, 3, 0, 2, 1, 3);
  return bgp(1, [4, ...u16(asn > 0xffff ? 23456 : asn), 0, 90, ...u32(asn), caps.length, ...caps]);
}

function prefix4(r: Random, addPath: boolean): Bytes {
  const len = r.below(33);
  const a = r.u32();
  const bytes = [len];
  for (let b = 0; b < (len + 7) >> 3; b++) bytes.push((a >>> (24 - 8 * b)) & 255);
  return addPath ? [...u32(1 + r.below(4)), ...bytes] : bytes;
}

function prefix6(r: Random, addPath: boolean): Bytes {
  const len = r.below(129);
  const bytes = [len];
  for (let b = 0; b < (len + 7) >> 3; b++) bytes.push(r.below(256));
  return addPath ? [...u32(1 + r.below(4)), ...bytes] : bytes;
}

function asPath(r: Random, peerAs: number): Bytes {
  const path: Bytes = [2, 2, ...u32(peerAs), ...u32(r.u32())];
  if (r.chance(0.1)) path.push(1, 2, ...u32(r.u32()), ...u32(r.u32()));
  return attr(0x40, 2, path);
}

function update(r: Random, p: Peer, addPath: boolean): Bytes {
  const v6 = r.chance(0.3);
  const n = 1 + r.below(6);
  const nlri: Bytes = [];
  for (let i = 0; i < n; i++) nlri.push(...(v6 ? prefix6(r, addPath) : prefix4(r, addPath)));
  if (r.chance(0.2)) {
    // A withdrawal.
    if (!v6) return bgp(2, [...u16(nlri.length), ...nlri, ...u16(0)]);
    const a = attr(0x80, 15, [0, 2, 1, ...nlri]);
    return bgp(2, [...u16(0), ...u16(a.length), ...a]);
  }
  const attrs = [...attr(0x40, 1, [0]), ...asPath(r, p.asn)];
  if (v6) attrs.push(...attr(0x80, 14, [0, 2, 1, 16, ...Array<number>(16).fill(1), 0, ...nlri]));
  else attrs.push(...attr(0x40, 3, [192, 0, 2, 1]));
  return bgp(2, [...u16(0), ...u16(attrs.length), ...attrs, ...(v6 ? [] : nlri)]);
}

/** A valid stream of one router. */
function validStream(r: Random): Buffer {
  const out: Bytes = [];
  out.push(...bmp(4, [0, 2, 0, 1, 114, 0, 1, 0, 1, 100]));
  const peers: Peer[] = [];
  for (let i = 0, n = 1 + r.below(3); i < n; i++) {
    const type = i === 0 && r.chance(0.3) ? 3 : 0;
    // A Loc-RIB peer (type 3) has no Peer Up here, so no ADD-PATH.
    const p: Peer = {
      type,
      flags: 0,
      address: 0xc0000201 + i,
      asn: 64500 + r.below(100),
      addPath: type === 0 && r.chance(0.3),
    };
    peers.push(p);
    if (p.type !== 3)
      out.push(
        ...bmp(3, [
          ...perPeer(p, 0),
          ...Array<number>(16).fill(0),
          0,
          179,
          0x9c,
          0x40,
          ...open(64499, p.addPath),
          ...open(p.asn, p.addPath),
        ]),
      );
  }
  for (let i = 0, n = 1 + r.below(8); i < n; i++) {
    const p = peers[r.below(peers.length)]!;
    const post = p.type !== 3 && r.chance(0.4);
    // Path ids in pre-policy only where ADD-PATH was negotiated (GoBGP's habit).
    out.push(...bmp(0, [...perPeer(p, post ? 0x40 : 0), ...update(r, p, p.addPath && !post)]));
  }
  if (r.chance(0.3)) {
    const p = peers[r.below(peers.length)]!;
    out.push(
      ...bmp(1, [
        ...perPeer(p, 0),
        ...u32(2),
        0,
        0,
        0,
        4,
        ...u32(r.u32()),
        0,
        7,
        0,
        8,
        ...u32(0),
        ...u32(r.u32()),
      ]),
    );
  }
  if (r.chance(0.3)) {
    const p = peers[r.below(peers.length)]!;
    out.push(...bmp(2, [...perPeer(p, 0), 2, 0, 0]));
  }
  if (r.chance(0.2)) out.push(...bmp(5, [0, 1, 0, 2, 0, 0]));
  return Buffer.from(out);
}

function mutate(r: Random, input: Buffer): Buffer {
  let b = input;
  for (let i = 0, n = 1 + r.below(4); i < n; i++) {
    const kind = r.below(BYTE_MUTATIONS + 1);
    if (kind < BYTE_MUTATIONS) b = mutateBytes(r, b, kind, 60);
    else {
      // A 16-bit length somewhere (BGP message or attribute) rewritten.
      const at = r.below(b.length + 1);
      if (at + 1 < b.length) {
        b = Buffer.from(b);
        b.writeUInt16BE(r.below(0x10000), at);
      }
    }
  }
  return b;
}

// ------------------------------------------------------------------ playing

const noEvents: SessionEvents = {
  initiated() {},
  peerUp() {},
  peerDown() {},
  endOfRib() {},
  statistics() {},
  updateError() {},
};

/** Counts and hashes route changes, so that two feedings can be compared cheaply. */
class Tally implements BmpRouteSink {
  added = 0;
  removed = 0;
  hash = 0;
  routeAdded(
    _p: BmpPeer,
    stage: number,
    f: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    l: number,
    id: number,
    o: number,
    k: number,
  ): void {
    this.added++;
    this.#mix(1, stage, f, w0, w1, w2, w3, l, id, o, k);
  }
  routeRemoved(
    _p: BmpPeer,
    stage: number,
    f: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    l: number,
    id: number,
    o: number,
    k: number,
  ): void {
    this.removed++;
    this.#mix(2, stage, f, w0, w1, w2, w3, l, id, o, k);
  }
  #mix(...values: number[]): void {
    let h = this.hash;
    for (const v of values) h = (Math.imul(h ^ (v >>> 0), 0x9e3779b1) + 0x7f4a7c15) >>> 0;
    this.hash = h;
  }
}

interface Play {
  outcome: string;
  offset: number;
  added: number;
  removed: number;
  hash: number;
  maxBuffered: number;
}

function play(bytes: Buffer, cuts: number[]): Play | string {
  const tally = new Tally();
  const session = new BmpSession(new RouterState('192.0.2.200', 1), MAX_MESSAGE, tally, noEvents);
  let outcome = 'ok';
  let offset = -1;
  let maxBuffered = 0;
  let from = 0;
  try {
    for (const to of [...cuts, bytes.length]) {
      if (to < from) continue;
      session.push(bytes.subarray(from, to));
      maxBuffered = Math.max(maxBuffered, session.buffered);
      from = to;
    }
  } catch (error) {
    if (!(error instanceof BmpError)) return `threw ${String(error)}`;
    if (!CODES.has(error.code)) return `unknown code ${error.code}`;
    outcome = error.code;
    offset = error.offset;
  }
  // The hash covers what the router said; close() removes the rest (counted apart).
  const hash = tally.hash;
  const added = tally.added;
  session.close();
  if (tally.added !== tally.removed) return `close() left ${tally.added - tally.removed} routes`;
  if (session.router.peers.size !== 0) return `close() left ${session.router.peers.size} peers`;
  return { outcome, offset, added, removed: tally.removed, hash, maxBuffered };
}

export async function fuzzBmp(options: FuzzBmpOptions = {}): Promise<FuzzBmpResult> {
  const inputs = options.inputs ?? 1_000_000;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => undefined);
  const r = new Random(seed);
  const outcomes: Record<string, number> = {};
  const violations: string[] = [];
  const heapMb: number[] = [];
  let routesAdded = 0;
  collectGarbage();
  heapMb.push(memory().heapUsed / 1e6);
  const start = performance.now();
  for (let i = 1; i <= inputs; i++) {
    const kind = r.below(10);
    let bytes: Buffer;
    const valid = kind < 2;
    if (valid) bytes = validStream(r);
    else if (kind < 9) bytes = mutate(r, validStream(r));
    else {
      const body = Buffer.from(Array.from({ length: r.below(300) }, () => r.below(256)));
      bytes = Buffer.concat([Buffer.from([3, ...u32(6 + body.length), r.below(8)]), body]);
    }
    const cuts = Array.from({ length: r.below(6) }, () => r.below(bytes.length + 1)).sort((a, b) => a - b);
    const whole = play(bytes, []);
    const split = play(bytes, cuts);
    let broken: string | undefined;
    if (typeof whole === 'string') broken = whole;
    else if (typeof split === 'string') broken = `split: ${split}`;
    else {
      outcomes[whole.outcome] = (outcomes[whole.outcome] ?? 0) + 1;
      routesAdded += whole.added;
      if (valid && whole.outcome !== 'ok') broken = `valid stream raised ${whole.outcome}`;
      else if (
        whole.outcome !== split.outcome ||
        whole.offset !== split.offset ||
        whole.added !== split.added ||
        whole.hash !== split.hash
      )
        broken = `split feeding differs: ${JSON.stringify(whole)} vs ${JSON.stringify(split)} at cuts ${cuts}`;
      else if (split.maxBuffered > MAX_MESSAGE) broken = `${split.maxBuffered} bytes buffered`;
    }
    if (broken !== undefined && violations.length < 20)
      violations.push(`input ${i}: ${broken} on ${bytes.toString('hex').slice(0, 400)}`);
    if (i % 100_000 === 0) {
      collectGarbage();
      heapMb.push(memory().heapUsed / 1e6);
      log(`fuzz-bmp: ${i} inputs, heap ${heapMb.at(-1)!.toFixed(1)} MB, ${violations.length} violations`);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    inputs,
    seed,
    seconds,
    inputsPerSecond: inputs / seconds,
    outcomes,
    routesAdded,
    violations,
    heapMb,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await fuzzMain(fuzzBmp);
}
