import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../../test/support/peers.js';

// Runs the built CLI (`npm test` builds first), as a user would.
const cli = join(repoRoot, 'packages/monitor/dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'rovkit-validate-'));
const vrps = join(dir, 'vrps.csv');
writeFileSync(
  vrps,
  'ASN,IP Prefix,Max Length,Trust Anchor\nAS64496,192.0.2.0/24,24,ripe\nAS0,198.51.100.0/24,24,ripe\n',
);

function rovkit(
  args: string[],
  input: string | Buffer = '',
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The child's peak RSS in MB, written to fd 3 by a preloaded hook at exit.
const peakHook =
  "data:text/javascript,import{writeSync}from'node:fs';process.on('exit',()=>writeSync(3,String(process.resourceUsage().maxRSS)))";
function rovkitPeak(
  args: string[],
  input: Buffer,
): { stderr: Buffer; stdout: string; status: number | null; rssMb: number } {
  const r = spawnSync(process.execPath, ['--import', peakHook, cli, ...args], {
    input,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
  });
  return {
    stderr: r.stderr,
    stdout: r.stdout.toString(),
    status: r.status,
    rssMb: Number(String(r.output[3])) / 1024,
  };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rovkit validate', () => {
  it('validates stdin lines, reporting bad lines with their number and going on', () => {
    const r = rovkit(
      ['validate', '--vrps', vrps],
      '192.0.2.0/24 AS64496\n# comment\n\n192.0.2.0/25 64496\n192.0.2.1/24 1\n198.51.100.0/24 none\n10.0.0.0/8 1\nnonsense\n',
    );
    expect(r.stdout).toBe(
      '192.0.2.0/24 AS64496 valid\n192.0.2.0/25 64496 invalid\n198.51.100.0/24 none invalid\n10.0.0.0/8 1 not-found\n',
    );
    expect(r.stderr).toContain('line 5: invalid prefix "192.0.2.1/24": host bits set');
    expect(r.stderr).toContain('line 8: expected "PREFIX ASN", got "nonsense"');
    expect(r.status).toBe(1);
  });

  it('reports a 10 MB line by its number and the limit, holding about the limit', () => {
    const good = '192.0.2.0/24 AS64496\n';
    const small = rovkitPeak(['validate', '--vrps', vrps], Buffer.from(`${good}x\n${good}`));
    const huge = rovkitPeak(
      ['validate', '--vrps', vrps],
      Buffer.concat([Buffer.from(good), Buffer.alloc(10_000_000, 0x41), Buffer.from(`\n${good}`)]),
    );
    expect(huge.stderr.toString()).toBe(
      `line 2: longer than the limit of 4096 bytes, skipped (starting "${'A'.repeat(40)}…")\n`,
    );
    expect(huge.stdout).toBe('192.0.2.0/24 AS64496 valid\n192.0.2.0/24 AS64496 valid\n');
    expect(huge.status).toBe(1);
    // The old reader held the line (and wrote it to stderr): tens of MB more.
    expect(huge.rssMb - small.rssMb).toBeLessThan(12);
  });

  it('takes a line of --line-limit bytes and refuses one more', () => {
    const line = '192.0.2.0/24 AS64496'; // 20 bytes
    const r = rovkit(['validate', '--vrps', vrps, '--line-limit', '20'], `${line}\n${line} \n${line}`);
    expect(r.stdout).toBe(`${line} valid\n${line} valid\n`);
    expect(r.stderr).toBe(`line 2: longer than the limit of 20 bytes, skipped (starting "${line} ")\n`);
    expect(rovkit(['validate', '--vrps', vrps, '--line-limit', 'x']).status).toBe(2);
  });

  it('puts no control byte of binary input on stderr, and at most 100 bad lines', () => {
    let x = 12345;
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    const r = spawnSync(process.execPath, [cli, 'validate', '--vrps', vrps], { input: bytes });
    const stderr = r.stderr;
    expect(r.status).toBe(1);
    expect([...stderr].filter((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f)).toEqual([]);
    const lines = stderr.toString().trimEnd().split('\n');
    expect(lines).toHaveLength(101);
    expect(lines.at(-1)).toMatch(/^\d+ more bad lines not shown$/);
    for (const l of lines.slice(0, -1)) expect(l.length).toBeLessThan(400);
  });

  it('takes routes as arguments and prints Routinator JSON', () => {
    const r = rovkit(['validate', '--vrps', vrps, '--format', 'json', '192.0.2.0/25', 'AS64496']);
    expect(r.status).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer.validity).toMatchObject({ state: 'invalid', reason: 'length' });
    expect(answer.validity.VRPs.unmatched_length).toEqual([
      { asn: 'AS64496', prefix: '192.0.2.0/24', max_length: '24' },
    ]);
  });

  it.each([
    [['validate'], /--vrps FILE is required/],
    [['validate', '--vrps', vrps, '--format', 'xml'], /--format must be text or json/],
    [['validate', '--vrps', vrps, '--bogus'], /Unknown option '--bogus'/],
    [['validate', '--vrps', vrps, '10.0.0.0/8'], /has no ASN/],
    [['nope'], /unknown command "nope"/],
  ])('refuses %j with exit 2', (args, message) => {
    const r = rovkit(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('names a broken VRP file and its line', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"roas": [\n{"asn": 1, "prefix": "10.0.0.0/8", "maxLength": 7}]}');
    const r = rovkit(['validate', '--vrps', broken, '10.0.0.0/8', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`ROV_ERR_VRP_FILE: ${broken}:2: invalid maxLength 7`);
  });
});
