import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VrpFileError } from '../errors.js';
import { VrpTable } from '../vrp-table.js';
import { loadVrpBuffer, loadVrpFile, VrpStreamLoader } from './vrp-file.js';

const rpkiClientJson = `{
	"metadata": { "buildtime": "2023-05-04T14:52:07Z", "talfiles": ["a\\"b.tal"], "nested": {"x": [1, {"y": "}"}]} },
	"roas": [
		{ "asn": 12975, "prefix": "1.178.112.0/20", "maxLength": 20, "ta": "ripe", "expires": 1683277596 },
		{ "asn": 19905, "prefix": "1.178.112.0/20", "maxLength": 24, "ta": "ripe", "expires": 1683277597 },
		{ "asn": 0, "prefix": "2001:db8::/32", "maxLength": 48, "ta": "apnic", "expires": 1683277598 }
	],
	"provider_authorizations": [ { "customer_asid": 1, "providers": [2, 3] } ]
}
`;

const routinatorJson = `{
  "metadata": { "generated": 1704086032, "generatedTime": "2024-01-01T05:13:52Z" }
,
  "roas": [
    { "asn": "AS270494", "prefix": "24.152.4.0/23", "maxLength": 23, "ta": "lacnic" },
    { "asn": "AS4294967295", "prefix": "::ffff:24.152.6.0/120", "maxLength": 128, "ta": "lacnic" }
  ],
  "routerKeys": [], "aspas": []
}`;

const csv = `ASN,IP Prefix,Max Length,Trust Anchor,Expires\r
AS13335,1.0.0.0/24,24,apnic,1713709073\r
AS0,2001:db8::/32,32,ripe,1713709074\r
`;

describe('VRP file loaders', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rovkit-load-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads rpki-client JSON with ta and expires, skipping metadata and ASPA', async () => {
    const { table, count, format } = await loadVrpBuffer('a.json', Buffer.from(rpkiClientJson));
    expect(format).toBe('json');
    expect(count).toBe(3);
    expect([...table]).toEqual([
      { prefix: '1.178.112.0/20', maxLength: 20, asn: 12975, ta: 'ripe', expires: 1683277596 },
      { prefix: '1.178.112.0/20', maxLength: 24, asn: 19905, ta: 'ripe', expires: 1683277597 },
      { prefix: '2001:db8::/32', maxLength: 48, asn: 0, ta: 'apnic', expires: 1683277598 },
    ]);
  });

  it('reads Routinator JSON with "AS" string numbers', async () => {
    const { table } = await loadVrpBuffer('r.json', Buffer.from(routinatorJson));
    expect([...table]).toEqual([
      { prefix: '24.152.4.0/23', maxLength: 23, asn: 270494, ta: 'lacnic' },
      { prefix: '::ffff:24.152.6.0/120', maxLength: 128, asn: 4294967295, ta: 'lacnic' },
    ]);
  });

  it('reads rpki-client and Routinator CSV', async () => {
    const { table, format } = await loadVrpBuffer('v.csv', Buffer.from(csv));
    expect(format).toBe('csv');
    expect([...table]).toEqual([
      { prefix: '1.0.0.0/24', maxLength: 24, asn: 13335, ta: 'apnic', expires: 1713709073 },
      { prefix: '2001:db8::/32', maxLength: 32, asn: 0, ta: 'ripe', expires: 1713709074 },
    ]);
    const routinator = await loadVrpBuffer(
      'r.csv',
      Buffer.from('ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,ripe\n'),
    );
    expect([...routinator.table]).toEqual([{ prefix: '10.0.0.0/8', maxLength: 8, asn: 1, ta: 'ripe' }]);
  });

  it('splits at every offset, one and two cuts', async () => {
    for (const text of [rpkiClientJson, routinatorJson, csv]) {
      const data = Buffer.from(text);
      const reference = await loadVrpBuffer('x', data);
      const expected = [...reference.table];
      for (let cut = 1; cut < data.length; cut++) {
        const table = new VrpTable();
        const loader = new VrpStreamLoader('x', table);
        loader.push(data.subarray(0, cut));
        loader.push(data.subarray(cut, cut + 7));
        loader.push(data.subarray(cut + 7));
        await loader.end();
        expect([...table], `cut at ${cut}`).toEqual(expected);
      }
    }
  });

  it('reads gzip transparently from disk', async () => {
    const path = join(dir, 'v.json.gz');
    await writeFile(path, gzipSync(rpkiClientJson));
    const result = await loadVrpFile(path);
    expect(result.compressed).toBe(true);
    expect(result.table.size).toBe(3);
  });

  it.each([
    ['bad prefix', '{"roas": [\n{"asn": 1, "prefix": "10.0.0.1/8", "maxLength": 8}]}', 2, /host bits/],
    [
      'maxLength too short',
      '{"roas": [\n\n{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 7}]}',
      3,
      /maxLength 7/,
    ],
    [
      'maxLength over 32',
      '{"roas": [{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 33}]}',
      1,
      /maxLength 33/,
    ],
    [
      'ASN too large',
      '{"roas": [\n{"asn": 4294967296, "prefix": "10.0.0.0/8", "maxLength": 8}]}',
      2,
      /4294967296/,
    ],
    ['ASN text', '{"roas": [\n{"asn": "ASx", "prefix": "10.0.0.0/8", "maxLength": 8}]}', 2, /"ASx"/],
    ['fraction', '{"roas": [\n{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 8.5}]}', 2, /maxLength.*8\.5/],
    ['missing prefix', '{"roas": [\n{"asn": 1, "maxLength": 8}]}', 2, /without "prefix"/],
    [
      'truncated',
      '{"roas": [\n{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 8},\n{"asn": 2, "pre',
      3,
      /ends before/,
    ],
    ['no roas', '{"metadata": {}}', 1, /no "roas"/],
    ['not an object', '[1, 2]', 1, /must be a JSON object/],
    ['garbage after', '{"roas": []} x', 1, /after the JSON document/],
    ['unbalanced skip', '{"metadata": {"a": [}, "roas": []}', 1, /unbalanced/],
    [
      'CSV bad line',
      'ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,ripe\nAS2,10.0.0.0/33,33,ripe\n',
      3,
      /10\.0\.0\.0\/33/,
    ],
    ['CSV short line', 'AS1,10.0.0.0/8\n', 1, /expected ASN/],
  ])('reports %s with the line', async (_name, text, line, reason) => {
    const error = await loadVrpBuffer('f.json', Buffer.from(text)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VrpFileError);
    expect((error as VrpFileError).code).toBe('ROV_ERR_VRP_FILE');
    expect((error as VrpFileError).line).toBe(line);
    expect((error as VrpFileError).message).toMatch(reason);
    expect((error as VrpFileError).message).toContain(`f.json:${line}:`);
  });

  it('reports a missing file, an empty file and broken gzip', async () => {
    await expect(loadVrpFile(join(dir, 'absent.json'))).rejects.toThrow(/absent\.json: cannot read/);
    await expect(loadVrpBuffer('e.json', Buffer.alloc(0))).rejects.toThrow(/empty/);
    const broken = gzipSync(rpkiClientJson).subarray(0, 60);
    await expect(loadVrpBuffer('b.json.gz', broken)).rejects.toThrow(VrpFileError);
  });
});

describe('VRP file limits', () => {
  const limit = 256;
  const roa = (size: number): string => {
    // A ROA object of exactly `size` bytes: the trust anchor name pads it.
    const base = '{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 8, "ta": ""}';
    return base.replace('"ta": ""', `"ta": "${'t'.repeat(size - base.length)}"`);
  };
  const json = (roaText: string): string => `{\n"roas": [\n${roaText}\n]}`;
  const load = (text: string, chunk = 0): Promise<unknown> => {
    if (chunk === 0)
      return loadVrpBuffer('f.json', Buffer.from(text), { tokenLimit: limit }).then(() => undefined);
    const loader = new VrpStreamLoader('f.json', new VrpTable(), undefined, limit);
    const data = Buffer.from(text);
    return (async () => {
      for (let i = 0; i < data.length; i += chunk) loader.push(data.subarray(i, i + chunk));
      await loader.end();
    })();
  };
  const refused = async (promise: Promise<unknown>, line: number): Promise<VrpFileError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VrpFileError);
    const e = error as VrpFileError;
    expect(e.line).toBe(line);
    expect(e.message).toContain(`f.json:${line}: `);
    expect(e.message).toContain(`limit of ${limit} bytes`);
    return e;
  };

  it('takes a ROA object of the limit and refuses one byte more, whole or in chunks', async () => {
    expect(roa(limit)).toHaveLength(limit);
    for (const chunk of [0, 1, 7, 100, 300]) {
      await expect(load(json(roa(limit)), chunk)).resolves.toBeUndefined();
      await refused(load(json(roa(limit + 1)), chunk), 3);
    }
  });

  it('refuses a skipped string, a number and a key one byte over the limit', async () => {
    const str = (n: number): string => `{"metadata": "${'m'.repeat(n - 2)}", "roas": []}`;
    const num = (n: number): string => `{"metadata": ${'1'.repeat(n)}, "roas": []}`;
    const key = (n: number): string => `{"${'k'.repeat(n - 2)}": 1, "roas": []}`;
    for (const make of [str, num, key])
      for (const chunk of [0, 1, 50]) {
        await expect(load(make(limit), chunk)).resolves.toBeUndefined();
        await refused(load(make(limit + 1), chunk), 1);
      }
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH and keeps many keys linear', async () => {
    const nested = (depth: number): string => `{"m": ${'['.repeat(depth)}${']'.repeat(depth)}, "roas": []}`;
    await expect(load(nested(64))).resolves.toBeUndefined();
    await expect(load(nested(65))).rejects.toThrow(/f\.json:1: .*nested deeper than 64 levels/);
    // A million-deep array would have grown the stack of closers by 8 bytes a level.
    await expect(load(nested(1_000_000), 65_536)).rejects.toThrow(/nested deeper than 64/);
    const keys = Array.from({ length: 100_000 }, (_, i) => `"k${i}": [${i}, {"x": "y"}]`).join(',\n');
    await expect(load(`{${keys},\n"roas": [${roa(100)}]}`, 65_536)).resolves.toBeUndefined();
  });

  it('refuses a CSV line of one byte over the limit, with or without a newline', async () => {
    const line = (n: number): string => `AS1,10.0.0.0/8,8,${'t'.repeat(n - 17)}`;
    expect(line(limit)).toHaveLength(limit);
    const csvText = (l: string, end = '\n'): string => `ASN,IP Prefix,Max Length,Trust Anchor\n${l}${end}`;
    const loadCsv = (text: string, chunk = 0): Promise<unknown> => load(text, chunk);
    for (const chunk of [0, 1, 100]) {
      await expect(loadCsv(csvText(line(limit)), chunk)).resolves.toBeUndefined();
      await expect(loadCsv(csvText(line(limit), ''), chunk)).resolves.toBeUndefined();
      await refused(loadCsv(csvText(line(limit + 1)), chunk), 2);
      await refused(loadCsv(csvText(line(limit + 1), ''), chunk), 2);
    }
  });

  it('holds a small multiple of the limit, not of the token: 200 MB in a string', async () => {
    // The old reader concatenated every chunk of an unfinished token: 200 MB of "a" in a
    // prefix cost 25-35 times the token before V8 ran out of memory.
    const chunk = Buffer.alloc(1 << 20, 0x61);
    const loader = new VrpStreamLoader('big.json', new VrpTable());
    const before = process.memoryUsage();
    let error: unknown;
    let pushed = 0;
    try {
      loader.push(Buffer.from('{"roas": [\n{"asn": 1, "prefix": "'));
      for (; pushed < 200; pushed++) {
        loader.push(chunk);
        const grown = process.memoryUsage().arrayBuffers - before.arrayBuffers;
        if (grown > 16 << 20) throw new Error(`${grown} bytes held after ${pushed + 1} MB`);
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VrpFileError);
    expect((error as VrpFileError).message).toMatch(
      /^big\.json:2: a token or ROA object longer than the limit of 65536 bytes \(starting "\{\\"asn\\": 1, \\"prefix\\": \\"aa…"\)$/,
    );
    expect(pushed).toBe(0);
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(16 << 20);
  });

  it('holds no run of blanks between tokens, whatever its length', async () => {
    const table = new VrpTable();
    const loader = new VrpStreamLoader('blank.json', table);
    const spaces = Buffer.alloc(1 << 20, 0x20);
    const lines = Buffer.alloc(1 << 20, 0x0a);
    const before = process.memoryUsage().arrayBuffers;
    loader.push(Buffer.from('{"roas": [{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 8}'));
    for (let i = 0; i < 40; i++) {
      loader.push(i % 2 === 0 ? spaces : lines);
      const grown = process.memoryUsage().arrayBuffers - before;
      if (grown > 16 << 20) throw new Error(`${grown} bytes held after ${i + 1} MB of blanks`);
    }
    expect(() => loader.push(Buffer.from(', x'))).toThrow(`blank.json:${20 * (1 << 20) + 1}: `);
  });

  it('escapes control bytes in the input it quotes', async () => {
    const e = await loadVrpBuffer('f.json', Buffer.from('{"roas": [\x1b[31m\x00]}')).catch((x: unknown) => x);
    expect((e as VrpFileError).message).not.toMatch(/[\x00-\x1f]/);
    expect((e as VrpFileError).message).toContain('\\x1b[31m\\x00');
    const c = await loadVrpBuffer('f.csv', Buffer.from('AS1,\x07\x1b\n')).catch((x: unknown) => x);
    expect((c as VrpFileError).message).toContain('got "AS1,\\x07\\x1b"');
  });

  it('counts the lines of leading blanks without keeping them', async () => {
    const loader = new VrpStreamLoader('f.json', new VrpTable());
    const blanks = Buffer.alloc(1 << 20, 0x0a);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 8; i++) loader.push(blanks);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 << 20);
    expect(() => loader.push(Buffer.from('{"roas": [x]}'))).toThrow(`f.json:${8 * (1 << 20) + 1}: `);
  });
});
