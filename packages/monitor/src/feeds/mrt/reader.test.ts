import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, peerCommand } from '../../../../../test/support/peers.js';
import { BgpError } from '../../bgp/errors.js';
import { asPath, nextHop, nlri, origin, SEQUENCE, update, type Bytes } from '../../bgp/testing/build.js';
import { MrtError } from './errors.js';
import { MrtParser } from './parser.js';
import { MrtFileSource, readMrt } from './reader.js';
import { bgp4mp, MrtCollectSink, peerIndexTable, record, rib } from './testing/build.js';

const fuzzRuns = Number(process.env.ROVKIT_FUZZ_RUNS ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'rovkit-mrt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const attrs = (...asns: number[]): Bytes => [...origin(), ...nextHop(), ...asPath([[SEQUENCE, asns]])];
const peers = peerIndexTable([{ address: '192.0.2.10', asn: 64500 }]);

/** A dump of `count` RIB records, one /24 each. */
function dump(count: number): Buffer {
  const records: Bytes = [...peers];
  for (let i = 0; i < count; i++) {
    records.push(
      ...rib(
        2,
        `10.${(i >> 8) & 255}.${i & 255}.0/24`,
        [{ peer: 0, attributes: attrs(64500, 65000 + (i % 100)) }],
        i,
      ),
    );
  }
  return Buffer.from(records);
}

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('readMrt', () => {
  const raw = dump(3000);
  const expected = (() => {
    const sink = new MrtCollectSink();
    const parser = new MrtParser(sink);
    parser.push(raw);
    return sink.events;
  })();

  it('reads plain and gzip files', async () => {
    for (const [name, bytes, compression] of [
      ['plain.mrt', raw, 'none'],
      ['dump.gz', gzipSync(raw), 'gzip'],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const sink = new MrtCollectSink();
      const result = await readMrt(file, sink);
      expect(result.compression).toBe(compression);
      expect(result.complete).toBe(true);
      expect(result.stats.ribEntries).toBe(3000);
      expect(sink.events).toEqual(expected);
    }
  });

  it.skipIf(missing(peerCommand('bzip2')) !== undefined)(
    'reads bzip2 and reports a cut bzip2 stream and record',
    async () => {
      const bz = spawnSync('bzip2', ['-c', '-1'], { input: raw }).stdout;
      const whole = new MrtCollectSink();
      expect((await readMrt(chunks(bz, 1000), whole)).complete).toBe(true);
      expect(whole.events).toEqual(expected);

      const cut = new MrtCollectSink();
      const result = await readMrt(chunks(bz.subarray(0, bz.length - 10), 1000), cut);
      expect(result.complete).toBe(false);
      expect(result.decompressError?.code).toBe('BZIP2_ERR_TRUNCATED');
      // Whatever complete blocks held is delivered: a prefix of the records.
      expect(expected.slice(0, cut.events.length)).toEqual(cut.events);
      if (result.truncated !== undefined) expect(result.truncated.offset).toBe(result.stats.bytes);
    },
  );

  it('reports a cut gzip input, the cut record, and keeps what came before', async () => {
    const gz = gzipSync(raw);
    const sink = new MrtCollectSink();
    const result = await readMrt(chunks(gz.subarray(0, Math.floor(gz.length * 0.6)), 4096), sink);
    expect(result.decompressError?.code).toBe('GZIP_ERR_TRUNCATED');
    expect(result.truncated?.code).toBe('MRT_ERR_TRUNCATED');
    expect(result.truncated?.offset).toBe(result.stats.bytes);
    expect(sink.events.length).toBeGreaterThan(100);
    expect(sink.events).toEqual(expected.slice(0, sink.events.length));
  });

  it('reports an MRT record cut at the end of an uncompressed input', async () => {
    const sink = new MrtCollectSink();
    const result = await readMrt(chunks(raw.subarray(0, raw.length - 3), 777), sink);
    expect(result.decompressError).toBeUndefined();
    expect(result.truncated?.offset).toBe(
      raw.length - rib(2, '10.11.183.0/24', [{ peer: 0, attributes: attrs(64500, 65099) }], 2999).length,
    );
    expect(sink.events).toEqual(expected.slice(0, -1));
  });

  it('rejects with the file system error for a missing file', async () => {
    await expect(readMrt(join(dir, 'missing.mrt'), new MrtCollectSink())).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const sink = new MrtCollectSink();
    let seen = 0;
    const original = sink.announce.bind(sink);
    sink.announce = (...args) => {
      if (++seen === 10) controller.abort(new Error('enough'));
      original(...args);
    };
    await expect(readMrt(chunks(raw, 512), sink, { signal: controller.signal })).rejects.toThrow('enough');
    expect(seen).toBeLessThan(3000);
  });
});

describe('MrtFileSource', () => {
  it('reads its file on start and can be stopped', async () => {
    const file = join(dir, 'source.mrt.gz');
    writeFileSync(file, gzipSync(dump(50)));
    const sink = new MrtCollectSink();
    const source = new MrtFileSource({ file, sink });
    const result = await source.start();
    expect(result.stats.announced).toBe(50);
    await source.stop();
    const again = new MrtFileSource({ file, sink: new MrtCollectSink() });
    const running = again.start();
    await again.stop();
    await running.catch((error: unknown) => expect(String(error)).toMatch(/stopped/));
  });
});

describe('readMrt limits', () => {
  it('keeps the records before one over the length limit and names the file, offset and limit', async () => {
    const good = dump(3);
    const big = record(13, 2, Array<number>(5000).fill(0));
    const file = join(dir, 'too-large.mrt');
    writeFileSync(file, Buffer.concat([good, Buffer.from(big), dump(2)]));
    const sink = new MrtCollectSink();
    const result = await readMrt(file, sink, { maxRecordLength: 4999 });
    expect(sink.events).toHaveLength(3);
    expect(result.stats.records).toBe(4);
    expect(result.complete).toBe(false);
    expect(result.truncated).toBeUndefined();
    expect(result.tooLarge).toMatchObject({ code: 'MRT_ERR_TOO_LARGE', offset: good.length, file });
    expect(result.tooLarge?.message).toContain(`${file}: record length 5000 exceeds the limit of 4999 bytes`);
    // One byte more of limit and the record is read (as malformed: zeros are no RIB entry).
    const again = await readMrt(file, new MrtCollectSink(), { maxRecordLength: 5000 });
    expect(again.tooLarge).toBeUndefined();
    expect(again.stats.records).toBe(4 + 1 + 3);
  });
});

describe('MRT fuzz', () => {
  // Only MrtError may escape push(); malformed records are counted, never thrown.
  function feed(bytes: Uint8Array): void {
    const parser = new MrtParser(new MrtCollectSink(), { maxRecordLength: 1 << 16 });
    try {
      parser.push(bytes);
      parser.end();
    } catch (error) {
      if (!(error instanceof MrtError)) throw error;
      expect(error.code).toBe('MRT_ERR_TOO_LARGE');
    }
    for (const e of parser.errors) {
      expect(e.code).toBe('MRT_ERR_MALFORMED');
      if (e.cause !== undefined) expect(e.cause instanceof BgpError || e.cause instanceof Error).toBe(true);
    }
  }

  const bodyOf = (type: number, subtype: number, body: Uint8Array): Uint8Array =>
    Uint8Array.from(record(type, subtype, [...body]));

  it('random records of every routed type raise no exception', () => {
    const typed = fc.tuple(
      fc.constantFrom<[number, number]>(
        [13, 1],
        [13, 2],
        [13, 4],
        [13, 8],
        [13, 10],
        [16, 1],
        [16, 4],
        [16, 9],
        [17, 4],
        [12, 1],
        [12, 2],
      ),
      fc.uint8Array({ maxLength: 200 }),
    );
    fc.assert(
      fc.property(fc.array(typed, { maxLength: 6 }), (records) => {
        const bytes = records.flatMap(([[type, subtype], body]) => [...bodyOf(type, subtype, body)]);
        feed(Uint8Array.from([...peers, ...bytes]));
      }),
      { numRuns: fuzzRuns * 3 },
    );
  });

  it('mutated valid records raise no exception', () => {
    const seed = [
      ...peers,
      ...rib(8, '192.0.2.0/24', [{ peer: 0, attributes: attrs(1, 2), pathId: 3 }]),
      ...bgp4mp(4, {
        peerAs: 1,
        peer: '192.0.2.9',
        message: update({ attributes: attrs(2), nlri: nlri(['10.0.0.0/8']) }),
      }),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 5,
        }),
        (edits) => {
          const bytes = seed.slice();
          for (const [at, value] of edits) bytes[at] = value;
          feed(Uint8Array.from(bytes));
        },
      ),
      { numRuns: fuzzRuns * 5 },
    );
  });

  it('random bytes raise no exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => feed(bytes)),
      { numRuns: fuzzRuns * 3 },
    );
  });
});
