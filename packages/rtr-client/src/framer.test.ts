import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer } from './framer.js';
import {
  aspa,
  cacheReset,
  cacheResponse,
  encode,
  endOfData,
  errorReport,
  prefix,
  routerKey,
  serialNotify,
} from './testing/pdus.js';

// A stream with every PDU a router receives, of several sizes.
const stream = encode(
  serialNotify(2, 7, 1),
  cacheResponse(2, 7),
  prefix(2, '192.0.2.0/24', 24, 64496),
  prefix(2, '2001:db8::/32', 48, 65000),
  routerKey(2, new Uint8Array(20).fill(7), 64496, new Uint8Array(91).fill(3)),
  aspa(2, 28, [41881, 61036]),
  aspa(2, 29, [1], true, 1),
  errorReport(2, 2, 'no data yet'),
  prefix(2, '10.0.0.0/8', 8, 1, false),
  endOfData(2, 7, 2),
  cacheReset(2),
);

function frameBoundaries(buf: Buffer): number[] {
  const out: number[] = [];
  for (let p = 0; p < buf.length; p += buf.readUInt32BE(p + 4)) out.push(p);
  return out;
}

/** Frames the stream delivered as the given chunks; returns each frame's bytes as hex. */
function frames(chunks: Buffer[]): string[] {
  const out: string[] = [];
  const framer = new Framer((buf, offset, length) => out.push(buf.toString('hex', offset, offset + length)));
  for (const c of chunks) framer.push(c);
  framer.end();
  return out;
}

const whole = frames([stream]);

describe('Framer', () => {
  it('frames a stream delivered in one chunk', () => {
    expect(whole.length).toBe(11);
    expect(whole.join('')).toBe(stream.toString('hex'));
    expect(frameBoundaries(stream).length).toBe(11);
  });

  it('frames the same PDUs when the stream is split at every offset', () => {
    for (let k = 0; k <= stream.length; k++) {
      expect(frames([stream.subarray(0, k), stream.subarray(k)])).toEqual(whole);
    }
  });

  it('frames the same PDUs when split at every pair of offsets', () => {
    // Covers splits inside one header, across a header and a body, and chunks smaller than a PDU.
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j += 5) {
        expect(frames([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])).toEqual(whole);
      }
    }
  });

  it('frames one byte at a time', () => {
    const bytes: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1));
    expect(frames(bytes)).toEqual(whole);
  });

  it('frames random chunkings (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 20 }), (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const c of sorted) {
          chunks.push(stream.subarray(prev, c));
          prev = c;
        }
        chunks.push(stream.subarray(prev));
        expect(frames(chunks)).toEqual(whole);
      }),
    );
  });

  it('hands complete PDUs over as views of the chunk, without copying', () => {
    const seen: Buffer[] = [];
    const framer = new Framer((buf) => seen.push(buf));
    framer.push(stream);
    expect(seen.every((b) => b === stream)).toBe(true);
  });

  it('holds back no more than one incomplete PDU', () => {
    const framer = new Framer(() => undefined);
    const boundaries = frameBoundaries(stream);
    const cut = boundaries[5]! + 3;
    framer.push(stream.subarray(0, cut));
    expect(framer.pending).toBe(3);
  });
});
