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
