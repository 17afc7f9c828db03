// RTR full-sync speed (issue 4): the 424k-VRP file served by StayRTR on loopback, synced
// by rovkit, by rtrlib's `rtrclient -e` and by StayRTR's `rtrdump`, side by side in one
// run against the same StayRTR; and decoding alone, from a recorded byte stream of that
// full sync replayed from memory (target >= 2 M PDUs/s).
//
// Figures per repetition:
// - rovkit sync: a child Node process (so that its peak RSS is its own) runs RtrClient,
//   timing connect -> End of Data applied -> `synced`; its wall time includes Node's
//   start-up (~50 ms) and exit.
// - rtrclient -e: wall time (the table export to /dev/null and the shutdown included),
//   and its sync time from its own log (rtr_mgr_start() to "Sync successful").
// - rtrdump: wall time (it writes its JSON to /dev/null).
// Peak RSS and CPU time (user + system) of each process from /usr/bin/time when installed
// (peak RSS from getrusage otherwise).
// - decode: Framer + the prefix decoder (readPrefix) into a VrpList, 64 KiB chunks.
// - session: the whole state machine from memory (@rovkit/rtr-client/fuzz's harness):
//   framing, decoding, staging in a VrpTable and the atomic apply at End of Data.
//
// Run alone: node benchmarks/dist/rtr-sync.js [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { VrpList } from '@rovkit/core';
import { Framer, newPrefixFields, readPrefix, RtrClient } from '@rovkit/rtr-client';
import { runRtrStream } from '@rovkit/rtr-client/fuzz';

import { vrpJsonWithoutExpires } from './datasets.js';
import { figure, type Figure, type Measurement } from './report.js';
import { measure, measureAsync, summarize, type Summary } from './stats.js';

export interface RtrSyncOptions {
  /** Fewer repetitions (default false). */
  readonly quick?: boolean;
  /** Timed repetitions per client (default 9, quick 2). */
  readonly repetitions?: number;
  /** RTR version for every client (default 1: what rtrclient speaks). */
  readonly version?: 0 | 1 | 2;
  /** VRP JSON to serve (default: the 424k file without `expires`). */
  readonly vrpFile?: string;
  readonly log?: (text: string) => void;
}

export interface ProcessFigures {
  readonly wall: Summary;
  /** Sync time alone (connect to End of Data), where the tool reports it. */
  readonly sync?: Summary;
  /** Highest peak RSS over the repetitions, bytes. */
  readonly peakRssBytes: number | undefined;
  /** CPU time (user + system) of the whole process, when /usr/bin/time is installed. */
  readonly cpu?: Summary;
}

export interface RtrSyncResult {
  readonly version: number;
  readonly vrps: number;
  /** PDUs in the recorded full sync (Cache Response, prefixes, ASPA, End of Data). */
  readonly pdus: number;
  readonly streamBytes: number;
  readonly rovkit: ProcessFigures;
  readonly rtrclient?: ProcessFigures;
  readonly rtrdump?: ProcessFigures;
  /** Decoding from memory, ops = PDUs. */
  readonly decode: Summary;
  /** The session state machine from memory, ops = PDUs. */
  readonly session: Summary;
  readonly notes: readonly string[];
}

//------------ helpers

export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

export interface Served {
  readonly address: string;
  stop(): Promise<void>;
}

export async function startStayRtr(file: string, log: (t: string) => void): Promise<Served> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawn(
    'stayrtr',
    [
      '-bind',
      address,
      '-cache',
      file,
      '-checktime=false',
      '-metrics.addr',
      '127.0.0.1:0',
      '-refresh',
      '86400',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const started = Date.now();
  while (!text.includes('Server started')) {
    if (child.exitCode !== null) throw new Error(`stayrtr exited: ${text.slice(-1000)}`);
    if (Date.now() - started > 120_000) throw new Error(`stayrtr did not start: ${text.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`rtr-sync: StayRTR on ${address}`);
  return {
    address,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Records the bytes StayRTR sends for a Reset Query, up to and including End of Data. */
function recordFullSync(address: string, version: number): Promise<Buffer> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let scanned = 0;
    let pending = Buffer.alloc(0);
    const socket = connect({ host, port: Number(port) }, () => {
      socket.write(Buffer.from([version, 2, 0, 0, 0, 0, 0, 8]));
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      // Walk the PDU headers to find End of Data (type 7).
      pending = Buffer.concat([pending, chunk]);
      let p = 0;
      while (pending.length - p >= 8) {
        const length = pending.readUInt32BE(p + 4);
        if (pending.length - p < length) break;
        if (pending[p + 1] === 7) {
          socket.destroy();
          resolve(Buffer.concat(chunks, size).subarray(0, scanned + p + length));
          return;
        }
        p += length;
      }
      scanned += p;
      pending = pending.subarray(p);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('stream ended before End of Data')));
  });
}

interface Run {
  readonly ms: number;
  /** Peak RSS in bytes, when /usr/bin/time is installed. */
  readonly rssBytes: number | undefined;
  /** User + system CPU milliseconds, when /usr/bin/time is installed. */
  readonly cpuMs: number | undefined;
  readonly output: string;
}

/** Runs a command once: wall time, peak RSS and what it printed. */
function runOnce(command: string, args: readonly string[]): Run {
  const useTime = existsSync('/usr/bin/time');
  const dir = mkdtempSync(join(tmpdir(), 'rovkit-bench-'));
  try {
    const stats = join(dir, 'time');
    const argv = useTime ? ['-f', '%M %U %S', '-o', stats, command, ...args] : [...args];
    const start = performance.now();
    const r = spawnSync(useTime ? '/usr/bin/time' : command, argv, {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${command} exited ${r.status}: ${(r.stderr ?? '').slice(-500)}`);
    let rssBytes: number | undefined;
    let cpuMs: number | undefined;
    if (useTime) {
      const [kb, user, system] = readFileSync(stats, 'utf8')
        .trim()
        .split('\n')
        .at(-1)!
        .split(' ')
        .map(Number);
      if (Number.isFinite(kb)) rssBytes = kb! * 1024;
      if (Number.isFinite(user) && Number.isFinite(system)) cpuMs = (user! + system!) * 1000;
    }
    return { ms, rssBytes, cpuMs, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cpuOf(runs: readonly Run[]): { cpu: Summary } | Record<string, never> {
  const values = runs.map((r) => r.cpuMs).filter((v): v is number => v !== undefined);
  return values.length === runs.length && values.length > 0 ? { cpu: summarize(values) } : {};
}

function peak(runs: readonly Run[], extra: readonly number[] = []): number | undefined {
  const values = [...runs.map((r) => r.rssBytes).filter((v): v is number => v !== undefined), ...extra];
  return values.length === 0 ? undefined : Math.max(...values);
}

/** rtrclient's own sync time: from "rtr_mgr_start()" to "Sync successful" in its log. */
function rtrclientSyncMs(output: string): number | undefined {
  const stamp = (line: string | undefined): number | undefined => {
    const m = line === undefined ? null : /\((\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+):(\d+)\)/.exec(line);
    if (m === null) return undefined;
    const [, y, mo, d, h, mi, s, us] = m.map(Number) as number[];
    return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) + us! / 1000;
  };
  const lines = output.split('\n');
  const start = stamp(lines.find((l) => l.includes('rtr_mgr_start()')));
  const end = stamp(lines.find((l) => l.includes('Sync successful')));
  return start === undefined || end === undefined ? undefined : end - start;
}

//------------ rovkit in a child process

interface ChildResult {
  readonly syncMs: number;
  readonly vrps: number;
  readonly maxRssBytes: number;
}

/** The child's side: sync once, print what it measured. */
async function childMain(address: string, version: 0 | 1 | 2): Promise<void> {
  const start = performance.now();
  const client = new RtrClient({ caches: [address], version });
  client.start();
  await client.whenSynced();
  const syncMs = performance.now() - start;
  const result: ChildResult = {
    syncMs,
    vrps: client.table.size,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  await client.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

//------------ decoding from memory

function decodeOnce(stream: Buffer, chunk: number, out: VrpList): number {
  let pdus = 0;
  const f = newPrefixFields();
  out.clear();
  const framer = new Framer((buf, offset, length) => {
    pdus++;
    const type = buf[offset + 1];
    if (type === 4 || type === 6) {
      readPrefix(buf, offset, length, f);
      if (f.family === 4) out.pushV4(f.w0, f.prefixLength, f.maxLength, f.asn);
      else out.pushV6(f.w0, f.w1, f.w2, f.w3, f.prefixLength, f.maxLength, f.asn);
    }
  });
  for (let p = 0; p < stream.length; p += chunk) framer.push(stream.subarray(p, p + chunk));
  framer.end();
  return pdus;
}

function countPdus(stream: Buffer): number {
  let n = 0;
  for (let p = 0; p < stream.length; p += stream.readUInt32BE(p + 4)) n++;
  return n;
}

//------------ the benchmark

export async function benchRtrSync(options: RtrSyncOptions = {}): Promise<RtrSyncResult> {
  const quick = options.quick ?? false;
  const repetitions = options.repetitions ?? (quick ? 2 : 9);
  const version = options.version ?? 1;
  const log = options.log ?? (() => undefined);
  const notes: string[] = [];
  if (!onPath('stayrtr')) throw new Error('stayrtr is not installed (apt-get install stayrtr)');
  const file = options.vrpFile ?? vrpJsonWithoutExpires();
  const server = await startStayRtr(file, log);
  try {
    log('rtr-sync: recording a full sync');
    const stream = await recordFullSync(server.address, version);
    const pdus = countPdus(stream);

    const script = fileURLToPath(import.meta.url);
    const [host, port] = server.address.split(':') as [string, string];
    const haveRtrclient = onPath('rtrclient');
    const haveRtrdump = onPath('rtrdump');
    if (!haveRtrclient) notes.push('rtrclient is not installed (apt-get install rtr-tools)');
    else if (version !== 1) notes.push('rtrclient speaks version 1 whatever the others use');
    if (!haveRtrdump) notes.push('rtrdump is not installed (apt-get install stayrtr)');
    const ours: Run[] = [];
    const theirs: Run[] = [];
    const dumps: Run[] = [];
    // One run of each client per round, the order rotating from round to round, so that
    // neither a change in the machine's load nor the cache's state after the previous client
    // favours one of them.
    const clients: (() => void)[] = [
      () => ours.push(runOnce(process.execPath, [script, '--child', server.address, String(version)])),
    ];
    if (haveRtrclient)
      clients.push(() => theirs.push(runOnce('rtrclient', ['-e', '-o', '/dev/null', 'tcp', host, port])));
    if (haveRtrdump)
      clients.push(() =>
        dumps.push(
          runOnce('rtrdump', [
            '-connect',
            server.address,
            '-rtr.version',
            String(version),
            '-file',
            '/dev/null',
          ]),
        ),
      );
    for (let i = 0; i < repetitions; i++) {
      log(`rtr-sync: round ${i + 1} of ${repetitions}`);
      for (let k = 0; k < clients.length; k++) clients[(i + k) % clients.length]!();
    }
    const children = ours.map((r) => JSON.parse(r.output.trim().split('\n').at(-1)!) as ChildResult);
    const vrps = children[0]!.vrps;
    const rovkit: ProcessFigures = {
      wall: summarize(ours.map((r) => r.ms)),
      sync: summarize(
        children.map((c) => c.syncMs),
        vrps,
      ),
      peakRssBytes: peak(
        ours,
        children.map((c) => c.maxRssBytes),
      ),
      ...cpuOf(ours),
    };
    let rtrclient: ProcessFigures | undefined;
    if (haveRtrclient) {
      const syncs = theirs.map((r) => rtrclientSyncMs(r.output)).filter((v): v is number => v !== undefined);
      rtrclient = {
        wall: summarize(theirs.map((r) => r.ms)),
        ...(syncs.length > 0 ? { sync: summarize(syncs, vrps) } : {}),
        peakRssBytes: peak(theirs),
        ...cpuOf(theirs),
      };
    }
    const rtrdump: ProcessFigures | undefined = haveRtrdump
      ? { wall: summarize(dumps.map((r) => r.ms)), peakRssBytes: peak(dumps), ...cpuOf(dumps) }
      : undefined;

    log('rtr-sync: decoding from memory');
    const list = new VrpList(vrps + 16);
    let decoded = 0;
    const decode = measure(() => (decoded = decodeOnce(stream, 65_536, list)), {
      repetitions: quick ? 5 : 15,
      warmup: 2,
      ops: pdus,
    });
    if (decoded !== pdus || list.length !== vrps)
      notes.push(`decode saw ${decoded} PDUs and ${list.length} VRPs, expected ${pdus} and ${vrps}`);
    const cuts: number[] = [];
    for (let p = 65_536; p < stream.length; p += 65_536) cuts.push(p);
    let sessionVrps = 0;
    const session = await measureAsync(
      async () => {
        const r = await runRtrStream(stream, { version, cuts });
        sessionVrps = r.vrps;
      },
      { repetitions: quick ? 2 : 5, warmup: 1, ops: pdus },
    );
    if (sessionVrps !== vrps) notes.push(`session harness applied ${sessionVrps} VRPs, expected ${vrps}`);
    return {
      version,
      vrps,
      pdus,
      streamBytes: stream.length,
      rovkit,
      ...(rtrclient === undefined ? {} : { rtrclient }),
      ...(rtrdump === undefined ? {} : { rtrdump }),
      decode,
      session,
      notes,
    };
  } finally {
    await server.stop();
  }
}

function ms(s: Summary, rss?: number): Figure {
  return figure(s, 'ms', rss === undefined ? undefined : { rssBytes: rss });
}

/** The result as report rows: sync time (lower is better, rtrclient as the relative target), decode rates. */
export function rtrSyncMeasurements(r: RtrSyncResult): Measurement[] {
  const rows: Measurement[] = [];
  const syncPeers: Record<string, Figure> = {};
  if (r.rtrclient?.sync !== undefined) syncPeers['rtrclient (sync, from its log)'] = ms(r.rtrclient.sync);
  rows.push({
    id: 'rtr.sync.424k',
    scenario: `RTR full sync of ${r.vrps.toLocaleString('en-US')} VRPs from StayRTR (v${r.version}), connect to End of Data applied`,
    unit: 'ms',
    better: 'lower',
    rovkit: ms(r.rovkit.sync!, r.rovkit.peakRssBytes),
    ...(r.rtrclient?.sync === undefined
      ? {}
      : { relativeTarget: { peer: 'rtrclient (sync, from its log)', factor: 1 } }),
    peers: syncPeers,
    note: `peak RSS of the rovkit process ${((r.rovkit.peakRssBytes ?? 0) / 1e6).toFixed(0)} MB (target < 150 MB)`,
  });
  const wallPeers: Record<string, Figure> = {};
  if (r.rtrclient !== undefined) wallPeers['rtrclient -e'] = ms(r.rtrclient.wall, r.rtrclient.peakRssBytes);
  if (r.rtrdump !== undefined) wallPeers['rtrdump'] = ms(r.rtrdump.wall, r.rtrdump.peakRssBytes);
  rows.push({
    id: 'rtr.sync.424k.process',
    scenario: 'RTR full sync, whole process (start-up, sync, exit)',
    unit: 'ms',
    better: 'lower',
    rovkit: ms(r.rovkit.wall, r.rovkit.peakRssBytes),
    peers: wallPeers,
    note: 'rtrclient -e also exports its table (to /dev/null); rtrdump writes JSON (to /dev/null)',
  });
  if (r.rovkit.cpu !== undefined) {
    const cpuPeers: Record<string, Figure> = {};
    if (r.rtrclient?.cpu !== undefined) cpuPeers['rtrclient -e'] = ms(r.rtrclient.cpu);
    if (r.rtrdump?.cpu !== undefined) cpuPeers['rtrdump'] = ms(r.rtrdump.cpu);
    rows.push({
      id: 'rtr.sync.424k.cpu',
      scenario: 'RTR full sync, CPU time of the whole client process (user + system)',
      unit: 'ms',
      better: 'lower',
      rovkit: ms(r.rovkit.cpu),
      peers: cpuPeers,
      note: "StayRTR writes each PDU on its own, so the sync's wall time depends on how the client reads (rovkit gathers small reads, see rtr-client's README); this is what each client spends itself, Node's start-up included",
    });
  }
  rows.push({
    id: 'rtr.decode.424k',
    scenario: `RTR decode from memory: ${r.pdus.toLocaleString('en-US')} PDUs (${(r.streamBytes / 1e6).toFixed(1)} MB) recorded from StayRTR`,
    unit: 'PDUs/s',
    better: 'higher',
    rovkit: figure(r.decode, 'opsPerSec'),
    target: 2_000_000,
    note: 'Framer + readPrefix into a VrpList, 64 KiB chunks',
  });
  rows.push({
    id: 'rtr.session.424k',
    scenario: 'RTR session from memory: frame, decode, stage in a VrpTable, apply at End of Data',
    unit: 'PDUs/s',
    better: 'higher',
    rovkit: figure(r.session, 'opsPerSec'),
  });
  return rows;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === '--child') {
    await childMain(process.argv[3]!, Number(process.argv[4]) as 0 | 1 | 2);
  } else {
    const result = await benchRtrSync({
      quick: process.argv.includes('--quick'),
      log: (t) => process.stderr.write(`${t}\n`),
    });
    const brief = (s: Summary | undefined): string =>
      s === undefined ? '-' : `${s.medianMs.toFixed(0)} ms [${s.minMs.toFixed(0)}..${s.maxMs.toFixed(0)}]`;
    const mb = (b: number | undefined): string => (b === undefined ? '-' : `${(b / 1e6).toFixed(0)} MB`);
    process.stdout.write(
      [
        `VRPs ${result.vrps}, PDUs ${result.pdus}, stream ${(result.streamBytes / 1e6).toFixed(1)} MB, RTR v${result.version}`,
        `rovkit    sync ${brief(result.rovkit.sync)}  process ${brief(result.rovkit.wall)}  peak RSS ${mb(result.rovkit.peakRssBytes)}`,
        `rtrclient sync ${brief(result.rtrclient?.sync)}  process ${brief(result.rtrclient?.wall)}  peak RSS ${mb(result.rtrclient?.peakRssBytes)}`,
        `rtrdump   process ${brief(result.rtrdump?.wall)}  peak RSS ${mb(result.rtrdump?.peakRssBytes)}`,
        `decode    ${((result.decode.opsPerSec ?? 0) / 1e6).toFixed(2)} M PDUs/s [${((result.decode.opsPerSecMin ?? 0) / 1e6).toFixed(2)}..${((result.decode.opsPerSecMax ?? 0) / 1e6).toFixed(2)}]`,
        `session   ${((result.session.opsPerSec ?? 0) / 1e6).toFixed(2)} M PDUs/s [${((result.session.opsPerSecMin ?? 0) / 1e6).toFixed(2)}..${((result.session.opsPerSecMax ?? 0) / 1e6).toFixed(2)}]`,
        ...result.notes.map((n) => `note: ${n}`),
        '',
      ].join('\n'),
    );
  }
}
