// The MRT reader against `bgpdump -m` (RIPE NCC bgpdump 1.6) on every file in
// ../shared/data/mrt: both must produce the same multiset of (peer address, peer AS,
// prefix, path id, origin) announcements and (peer, prefix) withdrawals.
//
// bgpdump reads .gz and .bz2 itself. For the two bzip2 files cut at 1 MiB it decodes
// every complete bzip2 block and stops at the cut MRT record, which is what rovkit must
// do too. (`bzcat f | bgpdump -m -` is not a faithful reference: bzcat exits on the
// truncation without flushing its last few kilobytes of output.)
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatPrefix } from '../packages/monitor/src/bgp/format.js';
import { OriginKind, type Family } from '../packages/monitor/src/bgp/route.js';
import { readMrt, type MrtPeer, type MrtSink } from '../packages/monitor/src/feeds/mrt/index.js';
import { missing, peerCommand, sharedFile, sharedPath } from './support/peers.js';

const run = promisify(execFile);
const skip = missing(peerCommand('bgpdump'), sharedFile('mrt'));
const files = skip === undefined ? readdirSync(sharedPath('mrt')).sort() : [];

/** One text per IPv6 address (WHATWG URL serialisation, no dotted IPv4 tail) for both sides; IPv4 unchanged. */
function canonicalAddress(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

function canonicalPrefix(prefix: string): string {
  const slash = prefix.indexOf('/');
  return `${canonicalAddress(prefix.slice(0, slash))}${prefix.slice(slash)}`;
}

/** RFC 6811 origin from bgpdump's AS path text: "{..}" set → none; empty or confederation → the peer AS. */
function originOfPath(path: string, peerAs: string): string {
  const tokens = path.split(' ').filter((t) => t !== '');
  const last = tokens.at(-1);
  if (last === undefined || last.startsWith('[') || last.startsWith('(')) return peerAs;
  if (last.startsWith('{')) return 'none';
  return last;
}

interface BgpdumpView {
  keys: string[];
  states: number;
  other: Map<string, number>;
}

async function bgpdump(file: string): Promise<BgpdumpView> {
  const { stdout } = await run('bgpdump', ['-q', '-m', file], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const keys: string[] = [];
  let states = 0;
  const other = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const f = line.split('|');
    const addPath = f[0].endsWith('_AP');
    const peer = `${canonicalAddress(f[3])}|AS${f[4]}`;
    if (f[2] === 'A' || f[2] === 'B') {
      const pathId = addPath ? f[6] : '0';
      const path = addPath ? f[7] : f[6];
      keys.push(`A|${peer}|${canonicalPrefix(f[5])}|${pathId}|${originOfPath(path, f[4])}`);
    } else if (f[2] === 'W') {
      keys.push(`W|${peer}|${canonicalPrefix(f[5])}|${addPath ? f[6] : '0'}`);
    } else if (f[2] === 'STATE') {
      states++;
    } else {
      other.set(f[2], (other.get(f[2]) ?? 0) + 1);
    }
  }
  return { keys, states, other };
}

class KeySink implements MrtSink {
  readonly keys: string[] = [];
  announce(
    peer: MrtPeer,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
    origin: number,
    kind: OriginKind,
  ): void {
    const o = kind === OriginKind.Set ? 'none' : String(kind === OriginKind.Local ? peer.asn : origin);
    this.keys.push(
      `A|${canonicalAddress(peer.address)}|AS${peer.asn}|${canonicalPrefix(formatPrefix(family, w0, w1, w2, w3, length))}|${pathId}|${o}`,
    );
  }
  withdraw(
    peer: MrtPeer,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
  ): void {
    this.keys.push(
      `W|${canonicalAddress(peer.address)}|AS${peer.asn}|${canonicalPrefix(formatPrefix(family, w0, w1, w2, w3, length))}|${pathId}`,
    );
  }
  endOfRib(): void {}
}

/** Keys in `a` missing from `b`, counting duplicates (both sorted). */
function missingFrom(a: string[], b: string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const key of a) {
    while (j < b.length && b[j] < key) j++;
    if (j < b.length && b[j] === key) j++;
    else out.push(key);
  }
  return out;
}

describe.skipIf(skip !== undefined)('MRT reader against bgpdump -m', () => {
  it('has MRT files to compare', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s', async (name) => {
    const file = sharedPath(`mrt/${name}`);
    const sink = new KeySink();
    const [reference, result] = await Promise.all([bgpdump(file), readMrt(file, sink)]);
    const mine = sink.keys.sort();
    const theirs = reference.keys.sort();
    expect(theirs.length).toBeGreaterThan(0);
    expect({
      onlyRovkit: missingFrom(mine, theirs).slice(0, 10),
      onlyBgpdump: missingFrom(theirs, mine).slice(0, 10),
    }).toEqual({
      onlyRovkit: [],
      onlyBgpdump: [],
    });
    expect(mine.length).toBe(theirs.length);
    expect(result.stats.stateChanges).toBe(reference.states);
    expect([...reference.other]).toEqual([]);
    expect(result.stats.malformed).toBe(0);

    if (name.includes('_firstMB.bz2')) {
      // Cut at 1 MiB of bzip2: the last bzip2 block and the last MRT record are incomplete.
      expect(result.decompressError?.code).toBe('BZIP2_ERR_TRUNCATED');
      expect(result.truncated?.code).toBe('MRT_ERR_TRUNCATED');
      expect(result.truncated?.offset).toBe(result.stats.bytes);
      expect(result.complete).toBe(false);
    } else {
      expect(result.complete).toBe(true);
    }
  });
});
