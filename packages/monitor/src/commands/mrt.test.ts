import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { asPath, nextHop, nlri, origin, SEQUENCE, SET, update, type Bytes } from '../bgp/testing/build.js';
import { bgp4mp, peerIndexTable, rib } from '../feeds/mrt/testing/build.js';
import { CliUsageError } from './command.js';
import { runMrt } from './mrt.js';

const dir = mkdtempSync(join(tmpdir(), 'rovkit-mrt-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const attrs = (segments: Array<[number, number[]]>): Bytes => [
  ...origin(),
  ...nextHop(),
  ...asPath(segments),
];
const dump = [
  ...peerIndexTable([
    { address: '192.0.2.10', asn: 64500 },
    { address: '2001:db8::10', asn: 64501 },
  ]),
  ...rib(2, '192.0.2.0/24', [
    { peer: 0, attributes: attrs([[SEQUENCE, [64500, 64496]]]) },
    {
      peer: 1,
      attributes: attrs([
        [SEQUENCE, [64501, 64497]],
        [SET, [1, 2]],
      ]),
    },
  ]),
  ...rib(4, '2001:db8::/32', [{ peer: 1, attributes: attrs([]) }]),
  ...bgp4mp(4, {
    peerAs: 4200000000,
    peer: '198.51.100.1',
    message: update({
      withdrawn: nlri(['10.0.0.0/8']),
      attributes: attrs([[SEQUENCE, [65000]]]),
      nlri: nlri(['203.0.113.0/24']),
    }),
  }),
];
const file = join(dir, 'dump.gz');
writeFileSync(file, gzipSync(Buffer.from(dump)));

async function mrt(
  argv: string[],
  stdout: Writable = new PassThrough(),
): Promise<{ status: number; out: string; err: string }> {
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const errChunks: Buffer[] = [];
  err.on('data', (c: Buffer) => errChunks.push(c));
  const status = await runMrt(argv, { stdout, stderr: err });
  return { status, out: Buffer.concat(chunks).toString(), err: Buffer.concat(errChunks).toString() };
}

describe('rovkit mrt', () => {
  it('prints "prefix origin" lines: none for an AS_SET, the peer AS for an empty path', async () => {
    const { status, out, err } = await mrt(['--file', file]);
    expect(status).toBe(0);
    expect(err).toBe('');
    expect(out).toBe('192.0.2.0/24 64496\n192.0.2.0/24 none\n2001:db8::/32 64501\n203.0.113.0/24 65000\n');
  });

  it('prints JSON lines with the peer', async () => {
    const { out } = await mrt(['--file', file, '--format', 'json']);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { prefix: '192.0.2.0/24', origin: 64496, peer: { address: '192.0.2.10', asn: 64500 }, pathId: 0 },
      { prefix: '192.0.2.0/24', origin: 'none', peer: { address: '2001:db8::10', asn: 64501 }, pathId: 0 },
      { prefix: '2001:db8::/32', origin: 64501, peer: { address: '2001:db8::10', asn: 64501 }, pathId: 0 },
      {
        prefix: '203.0.113.0/24',
        origin: 65000,
        peer: { address: '198.51.100.1', asn: 4200000000 },
        pathId: 0,
      },
    ]);
  });

  it('filters by origin ASN lists, in either spelling and repeated', async () => {
    expect((await mrt(['--file', file, '--origin-asn', 'AS64496,65000'])).out).toBe(
      '192.0.2.0/24 64496\n203.0.113.0/24 65000\n',
    );
    expect((await mrt(['--file', file, '--origin-asn', '64501', '--origin-asn', 'as64496'])).out).toBe(
      '192.0.2.0/24 64496\n2001:db8::/32 64501\n',
    );
  });

  it('prints every route before a cut and exits 1 with the cut on stderr', async () => {
    const cut = join(dir, 'cut.mrt');
    writeFileSync(cut, Buffer.from(dump.slice(0, dump.length - 5)));
    const { status, out, err } = await mrt(['--file', cut]);
    expect(status).toBe(1);
    expect(out).toBe('192.0.2.0/24 64496\n192.0.2.0/24 none\n2001:db8::/32 64501\n');
    expect(err).toMatch(/MRT_ERR_TRUNCATED/);
  });

  it('prints every route before a record over the length limit and exits 1 naming it', async () => {
    const big = join(dir, 'big.mrt');
    // A header announcing 16 MiB + 1 bytes: refused from the header, its body never read.
    const header = [0, 0, 0, 0, 0, 13, 0, 2, 1, 0, 0, 1];
    writeFileSync(big, Buffer.from([...dump, ...header]));
    const { status, out, err } = await mrt(['--file', big]);
    expect(status).toBe(1);
    expect(out).toBe('192.0.2.0/24 64496\n192.0.2.0/24 none\n2001:db8::/32 64501\n203.0.113.0/24 65000\n');
    expect(err).toContain(
      `rovkit mrt: ${big}: MRT_ERR_TOO_LARGE: record length 16777217 exceeds the limit of 16777216`,
    );
  });

  it('prints help', async () => {
    const { status, out } = await mrt(['--help']);
    expect(status).toBe(0);
    expect(out).toMatch(/usage: rovkit mrt --file F/);
  });

  const bad: Array<[string, string[]]> = [
    ['an unknown flag', ['--file', file, '--nope']],
    ['a missing --file', []],
    ['a positional argument', ['--file', file, 'extra']],
    ['an unknown format', ['--file', file, '--format', 'xml']],
    ['a bad ASN', ['--file', file, '--origin-asn', '64496,AS-x']],
  ];

  it.each(bad)('rejects %s with CliUsageError', async (_name, argv) => {
    await expect(mrt(argv)).rejects.toBeInstanceOf(CliUsageError);
  });

  it('fails with the file system error for a missing file', async () => {
    await expect(mrt(['--file', join(dir, 'absent.gz')])).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ends with status 0 when stdout fails with EPIPE (a reader that went away)', async () => {
    const closed = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    // Many routes so that output is written before the input ends.
    const many: Bytes = [...peerIndexTable([{ address: '192.0.2.10', asn: 64500 }])];
    for (let i = 0; i < 20000; i++) {
      many.push(
        ...rib(2, `10.${i >> 8}.${i & 255}.0/24`, [{ peer: 0, attributes: attrs([[SEQUENCE, [64500]]]) }]),
      );
    }
    const big = join(dir, 'big.mrt');
    writeFileSync(big, Buffer.from(many));
    const err = new PassThrough();
    await expect(runMrt(['--file', big], { stdout: closed, stderr: err })).resolves.toBe(0);
  });
});
