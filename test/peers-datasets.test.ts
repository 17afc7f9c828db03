// The benchmark data readers against the counts that ../shared/data/README.md states
// (recomputed there by scripts/stats.py), plus the derived VRP files.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import {
  DatasetError,
  dataFiles,
  formatRoute,
  formatV4,
  formatV6,
  parsePrefixText,
  readPfx2as,
  readRisWhoisV6,
  readVrpFile,
  routeSetFromList,
  scaledVrpFile,
  vrpJsonWithoutExpires,
  vrpSetFromList,
  workDir,
  type V4Vrps,
  type VrpSet,
} from '../benchmarks/src/datasets.js';
import { missing, sharedFile } from './support/peers.js';

const routesSkip = missing(
  sharedFile('routes/caida-routeviews-rv2-20240406.pfx2as.gz'),
  sharedFile('routes/ris-riswhoisdump.IPv6-20241220.gz'),
);
const vrpsSkip = missing(
  sharedFile('vrps/rpki-client-ripe-prepdev-TESTTA-20230504.json.gz'),
  sharedFile('vrps/ripe-archive-afrinic-20240101.routinator.json.gz'),
  sharedFile('vrps/ripe-archive-lacnic-20240101.routinator.json.gz'),
  sharedFile('vrps/rpki-client-sample10k-202404.csv.gz'),
  sharedFile('vrps/routinator-sample10k-202404.csv.gz'),
);

function countAs0(vrps: VrpSet): number {
  let n = 0;
  for (let i = 0; i < vrps.v4.count; i++) if (vrps.v4.asn[i] === 0) n++;
  for (let i = 0; i < vrps.v6.count; i++) if (vrps.v6.asn[i] === 0) n++;
  return n;
}

describe('prefix text', () => {
  it('parses and formats IPv6 the way WHATWG URL serialises it (RFC 5952, hex only)', () => {
    const words = new Uint32Array(4);
    for (const text of [
      '::/0',
      '2001:db8::/32',
      '2001:db8:0:0:1:0:0:1/128',
      '::ffff:92.47.144.56/127',
      'fe80::/10',
      '1:0:0:2::/64',
    ]) {
      const { family, length } = parsePrefixText(text, words);
      expect(family).toBe(6);
      const address = text.slice(0, text.indexOf('/'));
      expect(`[${formatV6(words, 0, length).split('/')[0]}]`).toBe(new URL(`http://[${address}]/`).hostname);
    }
  });

  it('rejects host bits, bad lengths and bad syntax with a DatasetError', () => {
    for (const text of [
      '192.0.2.1/24',
      '192.0.2.0/33',
      '2001:db8::1/32',
      '2001:db8::/129',
      '1.2.3/8',
      '::1::/128',
      '192.0.2.0/024',
    ]) {
      expect(() => parsePrefixText(text)).toThrow(DatasetError);
    }
    try {
      parsePrefixText('192.0.2.1/24');
    } catch (error) {
      expect((error as DatasetError).code).toBe('BENCH_ERR_DATASET');
      expect((error as DatasetError).message).toContain('192.0.2.1/24');
    }
  });

  it('routeSetFromList marks AS_SET origins and keeps the families apart', () => {
    const set = routeSetFromList([
      { prefix: '2001:db8::/32', origin: 'none' },
      { prefix: '192.0.2.0/24', origin: 64496 },
    ]);
    expect([set.v4.count, set.v6.count, set.count]).toEqual([1, 1, 2]);
    expect(formatRoute(set, 0)).toBe('192.0.2.0/24');
    expect(formatRoute(set, 1)).toBe('2001:db8::/32');
    expect([set.v6.origin[0], set.v6.originIsSet[0], set.v4.originIsSet[0]]).toEqual([0, 1, 0]);
  });
});

describe.skipIf(routesSkip !== undefined)('real routes', () => {
  it('reads pfx2as: 998,042 prefixes, 5,018 multi-origin, 39 rows with AS sets, 4,977 longer than /24', () => {
    const v4 = readPfx2as();
    let prefixes = 0;
    let multi = 0;
    let longer = 0;
    const setRows = new Set<number>();
    for (let i = 0; i < v4.count; i++) {
      const same = i > 0 && v4.addr[i] === v4.addr[i - 1] && v4.length[i] === v4.length[i - 1];
      if (!same) {
        prefixes++;
        if (v4.length[i]! > 24) longer++;
        if (i + 1 < v4.count && v4.addr[i + 1] === v4.addr[i] && v4.length[i + 1] === v4.length[i]) multi++;
      }
      if (v4.originIsSet[i] === 1) {
        setRows.add(prefixes);
        expect(v4.origin[i]).toBe(0);
      }
    }
    expect(prefixes).toBe(998_042);
    expect(multi).toBe(5_018);
    expect(setRows.size).toBe(39);
    expect(longer).toBe(4_977);
    expect(v4.addr.length).toBe(v4.count);
    expect(formatV4(v4.addr[0]!, v4.length[0]!)).toBe('1.0.0.0/24');
  });

  it('reads the RIS IPv6 dump: 270,345 rows, 256,399 prefixes, 47 ::/0, 49 AS-set origins', () => {
    const v6 = readRisWhoisV6();
    expect(v6.count).toBe(270_345);
    const unique = new Set<string>();
    let defaults = 0;
    let sets = 0;
    for (let i = 0; i < v6.count; i++) {
      unique.add(formatV6(v6.words, i * 4, v6.length[i]!));
      if (v6.length[i] === 0) defaults++;
      if (v6.originIsSet[i] === 1) sets++;
    }
    expect(unique.size).toBe(256_399);
    expect(defaults).toBe(47);
    expect(sets).toBe(49);
  });

  it('formats routes back to text that parses to the same numbers', () => {
    const v6 = readRisWhoisV6();
    const words = new Uint32Array(4);
    for (let i = 0; i < v6.count; i += 13) {
      const { length } = parsePrefixText(formatV6(v6.words, i * 4, v6.length[i]!), words);
      expect([...words, length]).toEqual([...v6.words.subarray(i * 4, i * 4 + 4), v6.length[i]]);
    }
  });
});

describe.skipIf(vrpsSkip !== undefined)('VRP files', () => {
  it.each([
    [dataFiles.vrps424k, 424_223, 100_620, 466],
    [dataFiles.vrpsAfrinic, 9_760, 675, 36],
    [dataFiles.vrpsLacnic, 31_031, 8_172, 13],
    [dataFiles.vrpsRpkiClientCsv10k, 9_999, 0, 6],
    [dataFiles.vrpsRoutinatorCsv10k, 9_999, 0, 6],
  ])('%s: %i VRPs, %i IPv6, %i AS0', (path, total, v6, as0) => {
    const vrps = readVrpFile(path);
    expect([vrps.count, vrps.v6.count, countAs0(vrps)]).toEqual([total, v6, as0]);
  });

  it('copies a VRP JSON without any expires, keeping everything else', () => {
    const source = join(workDir, `test-expires-${process.pid}.json.gz`);
    const json = {
      metadata: { buildtime: '2023-05-04T14:52:07Z', expires: 1 },
      roas: [{ asn: 64496, prefix: '192.0.2.0/24', maxLength: 24, ta: 't', expires: 1683277596 }],
      provider_authorizations: { ipv4: [{ customer_asid: 64496, expires: 1683277596, providers: [64497] }] },
    };
    writeFileSync(source, gzipSync(JSON.stringify(json)));
    const copy = vrpJsonWithoutExpires(source);
    try {
      expect(JSON.parse(readFileSync(copy, 'utf8'))).toEqual({
        metadata: { buildtime: '2023-05-04T14:52:07Z', expires: 1 },
        roas: [{ asn: 64496, prefix: '192.0.2.0/24', maxLength: 24, ta: 't' }],
        provider_authorizations: { ipv4: [{ customer_asid: 64496, providers: [64497] }] },
      });
    } finally {
      rmSync(source, { force: true });
      rmSync(copy, { force: true });
    }
  });

  it('scales a VRP file with shifted copies: exact count, valid, unique, no overlap, deterministic', () => {
    const source = dataFiles.vrpsAfrinic;
    const original = readVrpFile(source);
    const target = 30_001; // two full copies and a partial third
    const path = scaledVrpFile(target, source);
    const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
    rmSync(path);
    try {
      expect(
        createHash('sha256')
          .update(readFileSync(scaledVrpFile(target, source)))
          .digest('hex'),
      ).toBe(hash);
      const scaled = readVrpFile(path); // strict: would throw on host bits or a bad maxLength
      expect(scaled.count).toBe(target);

      // IPv6: the original in 2000::/3, copy k in the /3 numbered k + 1, in order.
      const perCopy = new Map<number, number>();
      for (let i = 0; i < scaled.v6.count; i++) {
        const top = scaled.v6.words[i * 4]! >>> 29;
        perCopy.set(top, (perCopy.get(top) ?? 0) + 1);
      }
      expect([...perCopy.keys()].sort()).toEqual([1, 2, 3, 4]);
      expect(perCopy.get(1)).toBe(original.v6.count);

      // IPv4: every VRP is unique, and no VRP of one copy overlaps a VRP of another.
      const v4 = scaled.v4;
      const keys = new Set<string>();
      for (let i = 0; i < v4.count; i++)
        keys.add(`${v4.addr[i]}/${v4.length[i]}-${v4.maxLength[i]}-${v4.asn[i]}`);
      expect(keys.size).toBe(v4.count);
      expect(overlapsAcrossCopies(v4, original.v4.count)).toBe(0);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it('refuses a target below the source size', () => {
    expect(() => scaledVrpFile(100, dataFiles.vrpsAfrinic)).toThrow(DatasetError);
  });
});

/**
 * Counts VRPs that overlap a VRP of another copy. VRP i belongs to copy floor(i / n):
 * scaledVrpFile writes the source first, then copy after copy (IPv4 columns keep that order).
 */
function overlapsAcrossCopies(v4: V4Vrps, n: number): number {
  const order = Array.from({ length: v4.count }, (_, i) => i);
  const size = (i: number): number => 2 ** (32 - v4.length[i]!);
  order.sort((a, b) => v4.addr[a]! - v4.addr[b]! || size(b) - size(a));
  let overlaps = 0;
  const stack: number[] = []; // enclosing VRPs of the current one, outermost first
  for (const i of order) {
    while (stack.length > 0 && v4.addr[stack.at(-1)!]! + size(stack.at(-1)!) <= v4.addr[i]!) stack.pop();
    if (stack.some((j) => Math.floor(j / n) !== Math.floor(i / n))) overlaps++;
    stack.push(i);
  }
  return overlaps;
}

describe('vrpSetFromList', () => {
  it('rejects a maxLength below the prefix length', () => {
    expect(() => vrpSetFromList([{ prefix: '192.0.2.0/24', maxLength: 23, asn: 1 }])).toThrow(DatasetError);
  });
});
