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

function rovkit(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
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
