import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotError } from './errors.js';
import { decodeSnapshot, encodeSnapshot, loadSnapshot, saveSnapshot } from './snapshot.js';
import { VrpTable } from './vrp-table.js';

function sample(): VrpTable {
  const t = new VrpTable({ capacity: 2 });
  t.add({ prefix: '10.0.0.0/8', maxLength: 24, asn: 1, ta: 'ripe', expires: 1700000000 });
  t.add({ prefix: '10.1.0.0/16', maxLength: 16, asn: 2 });
  t.add({ prefix: '10.1.0.0/16', maxLength: 16, asn: 2 });
  t.add({ prefix: '192.0.2.0/24', maxLength: 24, asn: 0, ta: 'arin' });
  t.add({ prefix: '2001:db8::/32', maxLength: 48, asn: 3, ta: 'ripe' });
  t.add({ prefix: '2001:db8:1::/48', maxLength: 48, asn: 4 });
  t.remove({ prefix: '192.0.2.0/24', maxLength: 24, asn: 0 }); // leaves freed slots behind
  return t;
}

describe('snapshots', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rovkit-snap-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([false, true])('round-trip the table (compress %s), counts and free lists included', (compress) => {
    const original = sample();
    const bytes = encodeSnapshot(original, { compress });
    expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(compress);
    const restored = decodeSnapshot(bytes);
    expect([...restored]).toEqual([...original]);
    expect(restored.size).toBe(original.size);
    expect(restored.count({ prefix: '10.1.0.0/16', maxLength: 16, asn: 2 })).toBe(2);
    expect(restored.validate('10.1.2.0/24', 1)).toBe('valid');
    expect(restored.validate('2001:db8:1::/48', 3)).toBe('valid');
    // The restored table goes on working: reuse of freed slots, new trust anchors.
    restored.add({ prefix: '192.0.2.0/24', maxLength: 24, asn: 5, ta: 'lacnic' });
    restored.add({ prefix: '10.0.0.0/8', maxLength: 24, asn: 1, ta: 'ripe' });
    expect(restored.explain('192.0.2.0/24', 5).matched).toEqual([
      { prefix: '192.0.2.0/24', maxLength: 24, asn: 5, ta: 'lacnic' },
    ]);
    for (const v of [...restored]) while (restored.remove(v));
    expect(restored.size).toBe(0);
  });

  it('saves and loads files', async () => {
    const path = join(dir, 'table.msgpack.gz');
    await saveSnapshot(sample(), path, { compress: true });
    expect([...(await loadSnapshot(path))]).toEqual([...sample()]);
    await expect(loadSnapshot(join(dir, 'absent'))).rejects.toThrow(SnapshotError);
  });

  it('refuses what is not a consistent snapshot', async () => {
    const packr = new Packr({ moreTypes: true });
    const good = packr.unpack(encodeSnapshot(sample())) as Record<string, unknown>;
    const broken = (patch: (s: Record<string, any>) => void): Buffer => {
      const copy = packr.unpack(packr.pack(good)) as Record<string, any>;
      patch(copy);
      return packr.pack(copy);
    };
    const cases: [Buffer | Uint8Array, RegExp][] = [
      [Buffer.from('not msgpack at all \xff\xff'), /snapshot/],
      [packr.pack({ format: 'other' }), /not a rovkit/],
      [broken((s) => (s.version = 99)), /version 99/],
      [broken((s) => (s.entryNext[0] = 1000)), /entryNext\[0\]/],
      [broken((s) => (s.v4.child0[0] = 77)), /v4\.child0/],
      [broken((s) => (s.v6.head = new Int32Array(1))), /v6\.head/],
      [broken((s) => (s.entryTa[0] = 40)), /unknown trust anchor/],
      [broken((s) => (s.v4.len[0] = 60)), /length 60/],
      [Buffer.from([0x1f, 0x8b, 1, 2, 3]), /gzip/],
    ];
    for (const [bytes, message] of cases) {
      let error: unknown;
      try {
        decodeSnapshot(bytes);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(SnapshotError);
      expect((error as SnapshotError).message).toMatch(message);
    }
    await writeFile(join(dir, 'junk'), 'junk');
    await expect(loadSnapshot(join(dir, 'junk'))).rejects.toThrow(SnapshotError);
  });
});
