// Loads the real VRP files in ../shared/data and checks them against the counts its
// README states (recomputed there by scripts/stats.py).
import { describe, expect, it } from 'vitest';
import { missing, sharedFile, sharedPath } from '../../../../test/support/peers.js';
import { decodeSnapshot, encodeSnapshot } from '../snapshot.js';
import { loadVrpFile } from './vrp-file.js';

const files = {
  afrinic: 'vrps/ripe-archive-afrinic-20240101.routinator.json.gz',
  lacnic: 'vrps/ripe-archive-lacnic-20240101.routinator.json.gz',
  prepdev: 'vrps/rpki-client-ripe-prepdev-TESTTA-20230504.json.gz',
  rpkiClientCsv: 'vrps/rpki-client-sample10k-202404.csv.gz',
  routinatorCsv: 'vrps/routinator-sample10k-202404.csv.gz',
};
const skip = missing(...Object.values(files).map(sharedFile));

describe.skipIf(skip !== undefined)('real VRP files', () => {
  it.each([
    ['afrinic', 9760, 675, 36],
    ['lacnic', 31031, 8172, 13],
    ['prepdev', 424223, 100620, 466],
    ['rpkiClientCsv', 9999, 0, 6],
    ['routinatorCsv', 9999, 0, 6],
  ] as const)('%s: %i VRPs, %i IPv6, %i AS0', async (name, total, v6, as0) => {
    const { table, count } = await loadVrpFile(sharedPath(files[name]));
    expect(count).toBe(total);
    expect(table.size).toBe(total); // the README: no duplicate triples
    expect(table.sizeV6).toBe(v6);
    let zero = 0;
    table.forEachVrp((_f, _a, _b, _c, _d, _l, _m, asn) => {
      if (asn === 0) zero++;
    });
    expect(zero).toBe(as0);
    if (name === 'prepdev') {
      expect([...decodeSnapshot(encodeSnapshot(table))].length).toBe(total);
      // Heap budget of the issue: under 10 MB per 100k VRPs.
      expect(table.byteLength / (total / 100_000)).toBeLessThan(10e6);
    }
  });
});
