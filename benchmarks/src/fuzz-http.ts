// Fuzzing the monitor's HTTP listener (issue 11: a million inputs). An in-process
// HttpServer with its default limits, over an engine holding routes and VRPs that cover
// them heavily, gets over loopback, one connection per input, eight at a time: valid
// requests to every path (validity single and batch, routes, fallback, status page,
// metrics) with random queries, headers, escapes and bodies; mutations of them (bytes
// changed, cut, inserted, duplicated; Content-Length and chunk sizes rewritten; huge
// headers; Expect: 100-continue); and random bytes.
//
// Checked for every input: nothing escapes (no uncaught exception, the server keeps
// listening); every answer on the connection starts with an HTTP/1.1 status line whose
// status is one of 200, 400, 404, 405, 413, 414, 417, 431, 503; a valid request is always
// answered; /metrics answers every 1,000 inputs; the engine holds the same routes and
// VRPs at the end. Memory: the V8 heap after a full GC, at the start, every 100,000 inputs
// and at the end, must not grow.
//
// node benchmarks/dist/fuzz-http.js [--inputs N] [--seed S]
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

import { VrpList } from '@rovkit/core';
import { createMetrics, Engine, HttpServer, JsonLogger } from '@rovkit/monitor';

import { collectGarbage, memory } from './stats.js';
import { fuzzMain, type FuzzReport } from './fuzz-main.js';
import { Random } from './random.js';

export interface FuzzHttpOptions {
  /** Inputs to play (default 1,000,000). */
  readonly inputs?: number;
  /** PRNG seed (default 1); the same seed plays the same inputs. */
  readonly seed?: number;
  readonly log?: (text: string) => void;
}

export type FuzzHttpResult = FuzzReport;

// 417: Node's answer to an Expect other than 100-continue (RFC 9110 10.1.1).
const ALLOWED = new Set([200, 400, 404, 405, 413, 414, 417, 431, 503]);
const CONCURRENCY = 8;
/** An input still unanswered after this long is a violation (the limits answer sooner). */
const INPUT_DEADLINE_MS = 20_000;

// ---------------------------------------------------------------- the server

function fuzzEngine(): Engine {
  const engine = new Engine({ now: () => Date.UTC(2024, 0, 1) });
  const source = engine.registerSource('fuzz');
  const own = engine.groupId('own');
  for (let i = 0; i < 64; i++)
    engine.announce(source, 4, (0x0a000000 | (i << 8)) >>> 0, 0, 0, 0, 24, 64496 + (i % 3), false, own, -1);
  engine.announce(source, 6, 0x20010db8, 0, 0, 0, 32, 64500, false, own, -1);
  const vrps = new VrpList();
  // 2 x 50 VRPs over every 10.0.x.0/24: answers of a few kB per route.
  for (let asn = 1; asn <= 50; asn++) {
    vrps.pushV4(0x0a000000, 8, 24, 64400 + asn);
    vrps.pushV4(0x0a000000, 16, 24, 64450 + asn);
  }
  vrps.pushV4(0x0a000000, 16, 24, 64496);
  engine.applyVrps(engine.registerVrpSource('file:fuzz'), vrps, new VrpList(1), true);
  return engine;
}

// ------------------------------------------------------------- the requests

const PATHS = [
  '/',
  '/metrics',
  '/healthz',
  '/readyz',
  '/api/v1/routes',
  '/api/v1/invalid-fallback',
  '/api/v1/rov-enforcement',
  '/api/v1/validity',
  '/api/v1/validity/AS64496/10.0.1.0/24',
  '/api/v1/validity/AS1/2001:db8::/32',
  '//metrics',
  '/metrics/../',
  '/nope',
];
const METHODS = [
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'CONNECT',
  'G\x00T',
];
const QUERY_KEYS = ['state', 'group', 'afi', 'limit', 'fallback', 'status', 'router', 'x'];
const QUERY_VALUES = [
  'valid',
  'invalid',
  'not-found',
  'own',
  'ipv4',
  'ipv6',
  '0',
  '5',
  '-1',
  '1e9',
  'abc',
  '%zz',
  '%',
];

function pick<T>(r: Random, items: readonly T[]): T {
  return items[r.below(items.length)]!;
}

function bytes(r: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(r.below(256));
  return s;
}

function escapes(r: Random): string {
  return pick(r, ['%E0%A4%A', '%zz', '%', '%2F', '%00', '%C3%A9', '%25', '%ff%fe', '..', '.', '']);
}

function prefix(r: Random): string {
  switch (r.below(6)) {
    case 0:
      return `10.0.${r.below(300)}.0/${pick(r, [8, 16, 24, 25, 33])}`;
    case 1:
      return `2001:db8:${r.below(0x10000).toString(16)}::/${r.below(130)}`;
    case 2:
      return `${r.below(256)}.${r.below(256)}.${r.below(256)}.${r.below(256)}/${r.below(40)}`;
    case 3:
      return escapes(r);
    case 4:
      return bytes(r, r.below(12));
    default:
      return '10.0.1.0/24';
  }
}

function asn(r: Random): string | number {
  return pick<string | number>(r, [
    'AS64496',
    'AS1',
    'as0',
    'none',
    64496,
    -1,
    4294967296,
    'ASx',
    '',
    `AS${r.u32()}`,
  ]);
}

function path(r: Random): string {
  switch (r.below(8)) {
    case 0:
      return `/api/v1/validity/${asn(r)}/${prefix(r)}`;
    case 1: {
      const q = Array.from(
        { length: r.below(4) },
        () => `${pick(r, QUERY_KEYS)}=${r.chance(0.2) ? escapes(r) : pick(r, QUERY_VALUES)}`,
      );
      return `${pick(r, ['/api/v1/routes', '/api/v1/invalid-fallback', '/api/v1/rov-enforcement'])}?${q.join('&')}`;
    }
    case 2:
      return `${pick(r, PATHS)}${escapes(r)}`;
    case 3:
      return `http://localhost${pick(r, PATHS)}`;
    case 4:
      return r.chance(0.1) ? `/${'a'.repeat(20_000)}` : `/${bytes(r, r.below(20)).replace(/[\r\n ]/g, 'x')}`;
    default:
      return pick(r, PATHS);
  }
}

function batchBody(r: Random): string {
  switch (r.below(8)) {
    case 0:
      return bytes(r, r.below(200));
    case 1:
      return JSON.stringify({ routes: r.below(2) === 0 ? 'x' : [1, null, 'a'] });
    case 2:
      return `${'['.repeat(r.below(5000))}`;
    case 3:
      // More routes than any answer may hold, or a body over 100 kB.
      return JSON.stringify({
        routes: Array.from({ length: 1000 + r.below(3000) }, () => ({ asn: 'AS1', prefix: '10.0.1.0/24' })),
      });
    default:
      return JSON.stringify({
        routes: Array.from({ length: r.below(30) }, () => ({ asn: asn(r), prefix: prefix(r) })),
      });
  }
}

/** A well-formed request: one that must get an answer. */
function validRequest(r: Random): string {
  const method = r.chance(0.3) ? 'POST' : pick(r, METHODS.slice(0, 4));
  const target = method === 'POST' ? (r.chance(0.9) ? '/api/v1/validity' : pick(r, PATHS)) : path(r);
  const headers = ['Host: localhost'];
  if (r.chance(0.2)) headers.push(`X-${r.below(100)}: ${'v'.repeat(r.below(100))}`);
  if (r.chance(0.05)) headers.push('Connection: close');
  let body = '';
  if (method === 'POST') {
    body = batchBody(r);
    const n = Buffer.byteLength(body, 'latin1');
    if (r.chance(0.2)) {
      headers.push('Transfer-Encoding: chunked');
      body = `${n.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    } else headers.push(`Content-Length: ${n}`);
    if (r.chance(0.1)) headers.push('Expect: 100-continue');
  }
  return `${method} ${target.replace(/[\r\n ]/g, '_')} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n${body}`;
}

function mutate(r: Random, input: string): string {
  let b = input;
  const count = 1 + r.below(4);
  for (let i = 0; i < count; i++) {
    const at = b.length === 0 ? 0 : r.below(b.length);
    switch (r.below(8)) {
      case 0:
        b = `${b.slice(0, at)}${String.fromCharCode(r.below(256))}${b.slice(at + 1)}`;
        break;
      case 1:
        b = b.slice(0, at);
        break;
      case 2:
        b = `${b.slice(0, at)}${bytes(r, 1 + r.below(24))}${b.slice(at)}`;
        break;
      case 3:
        b = b.replace(
          /Content-Length: \d+/i,
          `Content-Length: ${pick(r, [0, 1, r.below(1000), 99_999_999_999, -1])}`,
        );
        break;
      case 4:
        b = `${b}${b.slice(at, Math.min(b.length, at + 1 + r.below(200)))}`;
        break;
      case 5:
        b = b.replace('\r\n\r\n', `\r\nX-Huge: ${'h'.repeat(pick(r, [8000, 17_000, 70_000]))}\r\n\r\n`);
        break;
      case 6:
        b = b.replace(
          '\r\n',
          `\r\n${pick(r, ['Content-Length: 5\r\nContent-Length: 6', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Expect: 100-continue', 'Host: a\r\nHost: b'])}\r\n`,
        );
        break;
      default:
        b = b.replace(/\r\n/g, r.chance(0.5) ? '\n' : '\r');
    }
  }
  return b;
}

// --------------------------------------------------------------- one input

interface Answer {
  /** Every status line seen at the start of an answer. */
  statuses: number[];
  /** Bytes answered that did not start with a status line (first 80, hex). */
  junk: string | undefined;
}

function play(port: number, input: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no end after ${INPUT_DEADLINE_MS} ms`));
    }, INPUT_DEADLINE_MS);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      // Final statuses only: a 100 Continue comes before the answer.
      const statuses = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.1 (\d{3}) /g)]
        .map((m) => Number(m[1]))
        .filter((status) => status >= 200);
      const junk =
        text.length > 0 && !text.startsWith('HTTP/1.1 ')
          ? Buffer.from(text.slice(0, 80), 'latin1').toString('hex')
          : undefined;
      resolve({ statuses, junk });
    });
    // The client writes its input and half-closes: the server answers what it read, then closes.
    s.end(Buffer.from(input, 'latin1'));
  });
}

export async function fuzzHttp(options: FuzzHttpOptions = {}): Promise<FuzzHttpResult> {
  const inputs = options.inputs ?? 1_000_000;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => undefined);
  const engine = fuzzEngine();
  const held = `${engine.table.size} ${engine.store.used}`;
  const server = new HttpServer({
    engine,
    registry: createMetrics(
      { engine, addressSpace: () => new Float64Array(0), rtrCaches: () => [] },
      { version: 'fuzz' },
    ),
    log: new JsonLogger({ write: () => undefined }),
    statusPage: () => '<p>status</p>',
  });
  const uncaught: string[] = [];
  const onUncaught = (error: unknown): void => {
    uncaught.push(String(error));
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const { port } = await server.listen(0, '127.0.0.1');
  const outcomes: Record<string, number> = {};
  const violations: string[] = [];
  const violate = (text: string): void => {
    if (violations.length < 20) violations.push(text);
  };
  const heapMb: number[] = [];
  collectGarbage();
  heapMb.push(memory().heapUsed / 1e6);
  const start = performance.now();
  let next = 1;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i > inputs) return;
      // Each input from its own generator: the same seed plays the same inputs whatever
      // order the connections finish in.
      const r = new Random((Math.imul(i, 0x9e3779b1) ^ seed) >>> 0);
      for (let k = 0; k < 4; k++) r.u32();
      const kind = r.below(10);
      const valid = kind < 4;
      const input = valid ? validRequest(r) : kind < 9 ? mutate(r, validRequest(r)) : bytes(r, r.below(300));
      let answer: Answer;
      try {
        answer = await play(port, input);
      } catch (error) {
        violate(`input ${i}: ${String(error)} on ${JSON.stringify(input.slice(0, 200))}`);
        continue;
      }
      const first = answer.statuses[0];
      const outcome = first === undefined ? 'closed' : String(first);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (answer.junk !== undefined)
        violate(`input ${i}: answer not HTTP/1.1 (${answer.junk}) on ${JSON.stringify(input.slice(0, 200))}`);
      for (const status of answer.statuses)
        if (!ALLOWED.has(status))
          violate(`input ${i}: status ${status} on ${JSON.stringify(input.slice(0, 200))}`);
      if (valid && first === undefined)
        violate(`input ${i}: a valid request got no answer: ${JSON.stringify(input.slice(0, 200))}`);
      if (i % 1000 === 0) {
        const m = await fetch(`http://127.0.0.1:${port}/metrics`).catch((e: unknown) => e as Error);
        if (m instanceof Error || m.status !== 200)
          violate(`input ${i}: /metrics did not answer 200 (${m instanceof Error ? m.message : m.status})`);
        else await m.text();
      }
      if (i % 100_000 === 0) {
        collectGarbage();
        heapMb.push(memory().heapUsed / 1e6);
        log(`fuzz-http: ${i} inputs, heap ${heapMb.at(-1)!.toFixed(1)} MB, ${violations.length} violations`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  if (!server.server.listening) violate('the server stopped listening');
  if (`${engine.table.size} ${engine.store.used}` !== held)
    violate(`the engine changed: ${held} -> ${engine.table.size} ${engine.store.used}`);
  await server.close();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  for (const u of uncaught) violate(`uncaught: ${u}`);
  collectGarbage();
  heapMb.push(memory().heapUsed / 1e6);
  return { inputs, seed, seconds, inputsPerSecond: inputs / seconds, outcomes, violations, heapMb };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await fuzzMain(fuzzHttp);
}
