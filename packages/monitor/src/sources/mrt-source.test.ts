// An MRT dump as the monitor's route source: a file that stops early (a record over the
// length limit) keeps the routes read before it and says where and why it stopped.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asPath, nextHop, origin, SEQUENCE, type Bytes } from '../bgp/testing/build.js';
import { Engine } from '../engine/engine.js';
import { peerIndexTable, record, rib } from '../feeds/mrt/testing/build.js';
import type { Logger, LogLevel } from '../log.js';
import { MrtRouteSource } from './mrt-source.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-mrt-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const attrs = (...asns: number[]): Bytes => [...origin(), ...nextHop(), ...asPath([[SEQUENCE, asns]])];

describe('MrtRouteSource', () => {
  it('keeps the routes before a record over --mrt-max-record and logs the file, offset and limit', async () => {
    const head = [
      ...peerIndexTable([{ address: '192.0.2.10', asn: 64500 }]),
      ...rib(2, '192.0.2.0/24', [{ peer: 0, attributes: attrs(64500, 64496) }]),
      ...rib(2, '198.51.100.0/24', [{ peer: 0, attributes: attrs(64500, 64497) }]),
    ];
    const file = join(dir, 'rib.mrt');
    writeFileSync(
      file,
      Uint8Array.from([
        ...head,
        ...record(13, 2, Array<number>(8192).fill(0)),
        ...rib(2, '203.0.113.0/24', [{ peer: 0, attributes: attrs(64500, 64498) }]),
      ]),
    );
    const lines: Array<[LogLevel, string, Readonly<Record<string, unknown>>]> = [];
    const log: Logger = { log: (level, event, fields = {}) => lines.push([level, event, fields]) };
    const engine = new Engine();
    const source = new MrtRouteSource({ file, sink: engine, log, maxRecordLength: 8191 });
    await source.start();
    expect(source.routes).toBe(2);
    expect(engine.store.size).toBe(2);
    const [level, event, fields] = lines.find(([, e]) => e === 'mrt_loaded')!;
    expect([level, event, fields.complete]).toEqual(['warn', 'mrt_loaded', false]);
    expect(fields.cut).toMatchObject({ code: 'MRT_ERR_TOO_LARGE', offset: head.length });
    expect(String((fields.cut as Error).message)).toContain(
      `${file}: record length 8192 exceeds the limit of 8191 bytes`,
    );
    await source.stop();
  });
});
