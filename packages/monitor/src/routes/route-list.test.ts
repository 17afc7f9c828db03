import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RouteFileError } from '../errors.js';
import { parseRouteList, readRouteList, routeListFormat } from './route-list.js';

const brief = (text: string, file = 'routes.txt') =>
  parseRouteList(file, text).map((e) => [
    e.prefix,
    e.isSet ? 'none' : e.origin,
    e.group,
    e.description,
    e.line,
  ]);

function errorOf(file: string, text: string): RouteFileError {
  try {
    parseRouteList(file, text);
  } catch (error) {
    if (error instanceof RouteFileError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('route lists', () => {
  it('reads text lines with optional group and description', () => {
    expect(
      brief(
        '# mine\n192.0.2.0/24 AS64496\n\n2001:db8::/32 64497 customer:acme Acme Ltd # note\n198.51.100.0/24 none\n',
      ),
    ).toEqual([
      ['192.0.2.0/24', 64496, 'own', '', 2],
      ['2001:db8::/32', 64497, 'customer:acme', 'Acme Ltd', 4],
      ['198.51.100.0/24', 'none', 'own', '', 5],
    ]);
  });

  it('reads BGPalerter prefixes.yml, skipping options and ignored prefixes', () => {
    const yml = [
      '192.0.2.0/24:',
      '  description: main block',
      '  asn:',
      '    - 64496',
      '    - 64497',
      '  ignoreMorespecifics: false',
      '  group: own',
      '198.51.100.0/24:',
      '  asn: 64511',
      '  ignore: true',
      '2001:db8::/32:',
      '  asn: AS64500',
      '  group: customer:acme',
      'options:',
      '  monitorASns:',
      '    64496:',
      '      group: default',
    ].join('\n');
    expect(brief(yml, 'prefixes.yml')).toEqual([
      ['192.0.2.0/24', 64496, 'own', 'main block', 4],
      ['192.0.2.0/24', 64497, 'own', 'main block', 5],
      ['2001:db8::/32', 64500, 'customer:acme', '', 12],
    ]);
  });

  it('reads JSON as a mapping or a list, with lines', () => {
    expect(
      brief(
        '{\n  "192.0.2.0/24": {"asn": 64496, "group": "own"},\n  "2001:db8::/32": {"asn": [1, 2]}\n}',
        'r.json',
      ),
    ).toEqual([
      ['192.0.2.0/24', 64496, 'own', '', 2],
      ['2001:db8::/32', 1, 'own', '', 3],
      ['2001:db8::/32', 2, 'own', '', 3],
    ]);
    expect(brief('[\n {"prefix": "192.0.2.0/24", "asn": "AS1", "description": "x"}\n]', 'r')).toEqual([
      ['192.0.2.0/24', 1, 'own', 'x', 2],
    ]);
  });

  it('detects the format', () => {
    expect(routeListFormat('a.yaml', '')).toBe('yaml');
    expect(routeListFormat('a', ' {')).toBe('json');
    expect(routeListFormat('a', '192.0.2.0/24 1')).toBe('text');
  });

  it.each([
    ['r.txt', '192.0.2.0/24 1\n192.0.2.1/24 1\n', 2, /host bits set/],
    ['r.txt', '192.0.2.0/24\n', 1, /expected "prefix origin/],
    ['r.txt', '\n\n192.0.2.0/24 AS4294967296\n', 3, /invalid AS number/],
    ['r.yml', '192.0.2.0/24:\n  asn: 1\n  colour: red\n', 3, /unknown key "colour"/],
    ['r.yml', '192.0.2.0/24:\n  description: x\n', 1, /asn is missing/],
    ['r.yml', '192.0.2.0/24:\n  asn: [1, x]\n', 2, /invalid AS number "x"/],
    ['r.yml', 'a: [\n', 2, /./],
    ['r.json', '{\n "192.0.2.0/24": {"asn": 1},\n "10.0.0.0/33": {"asn": 1}\n}', 3, /length 33 exceeds 32/],
    ['r.json', '{\n "192.0.2.0/24": {"asn": 1,}\n', 3, /./],
  ])('%s %j: names line %d and the reason', (file, text, line, reason) => {
    const error = errorOf(file, text);
    expect(error.code).toBe('ROVKIT_ERR_ROUTE_FILE');
    expect(error.file).toBe(file);
    expect(error.line).toBe(line);
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(`${file}:${line}: ${error.reason}`);
  });
});

describe('route list line limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rovkit-route-list-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const limit = 200;
  // Each shape with its second line padded to `n` bytes.
  const shapes: [string, (n: number) => string][] = [
    [
      'r.txt',
      (n) => `192.0.2.0/24 AS1
198.51.100.0/24 AS2 own ${'d'.repeat(n - 24)}
`,
    ],
    [
      'r.yml',
      (n) => `192.0.2.0/24:
  description: ${'d'.repeat(n - 15)}
  asn: 1
`,
    ],
    [
      'r.json',
      (n) => `[
{"prefix": "192.0.2.0/24", "asn": 1, "description": "${'d'.repeat(n - 55)}"}
]`,
    ],
  ];

  it.each(shapes)(
    '%s: takes a line of the limit, refuses one byte more with its number',
    async (name, make) => {
      expect(make(limit).split('\n')[1]).toHaveLength(limit);
      const path = join(dir, name);
      writeFileSync(path, make(limit));
      expect((await readRouteList(path, limit)).length).toBeGreaterThan(0);
      expect(parseRouteList(path, make(limit), undefined, limit).length).toBeGreaterThan(0);
      writeFileSync(path, make(limit + 1));
      const error = await readRouteList(path, limit).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RouteFileError);
      expect((error as RouteFileError).code).toBe('ROVKIT_ERR_ROUTE_FILE');
      expect((error as RouteFileError).message).toBe(
        `${path}:2: a line longer than the limit of ${limit} bytes`,
      );
      expect(() => parseRouteList(path, make(limit + 1), undefined, limit)).toThrow(
        `${path}:2: a line longer than the limit of ${limit} bytes`,
      );
    },
  );

  it('refuses a 50 MB line after reading about the limit, holding little', async () => {
    const path = join(dir, 'huge.txt');
    const out = createWriteStream(path);
    const chunk = Buffer.alloc(1 << 20, 0x41);
    out.write('192.0.2.0/24 AS1\n');
    for (let i = 0; i < 50; i++)
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((r) => out.end(() => r()));
    const before = process.memoryUsage().arrayBuffers;
    await expect(readRouteList(path, 1000)).rejects.toThrow(
      `${path}:2: a line longer than the limit of 1000 bytes`,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
  });

  it('quotes bad input short and with control bytes escaped', () => {
    const e = errorOf('r.txt', `\x1b[2J${'x'.repeat(500)}\n`);
    expect(e.message).not.toMatch(/[\x00-\x1f]/);
    expect(e.message).toContain('got "\\x1b[2Jxxx');
    expect(e.message.length).toBeLessThan(200);
  });
});
