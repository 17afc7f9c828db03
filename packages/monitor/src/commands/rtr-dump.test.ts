import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCache } from '../../../rtr-client/src/testing/fake-cache.js';
import { aspa, cacheResponse, endOfData, prefix } from '../../../rtr-client/src/testing/pdus.js';
import { CliUsageError } from './command.js';
import { rtrDump } from './rtr-dump.js';

const caches: FakeCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

async function cacheOn(): Promise<{ cache: FakeCache; address: string }> {
  const cache = new FakeCache({ sessionId: 321 });
  cache.update(
    [
      { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 },
      { prefix: '2001:db8::/32', maxLength: 48, asn: 65000 },
    ],
    new Map([[64500, [1, 2]]]),
    false,
  );
  caches.push(cache);
  const port = await cache.listen();
  return { cache, address: `127.0.0.1:${port}` };
}

function streams(): { stdout: PassThrough; stderr: PassThrough; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  stderr.on('data', (c: Buffer) => (e += c.toString()));
  return { stdout, stderr, out: () => o, err: () => e };
}

describe('rovkit rtr-dump', () => {
  it('prints the synced set as rpki-client JSON', async () => {
    const { cache, address } = await cacheOn();
    const io = streams();
    expect(await rtrDump(['--rtr', address], io)).toBe(0);
    const json = JSON.parse(io.out());
    expect(json.metadata).toMatchObject({ session_id: 321, serial: cache.serial, rtr_version: 2, vrps: 2 });
    expect(json.roas).toEqual([
      { asn: 64496, prefix: '192.0.2.0/24', maxLength: 24 },
      { asn: 65000, prefix: '2001:db8::/32', maxLength: 48 },
    ]);
    expect(json.aspas).toEqual([{ customer_asid: 64500, providers: [1, 2] }]);
    expect(json.bgpsec_keys).toEqual([]);
  });

  it('prints CSV, and speaks the version asked for', async () => {
    const { cache, address } = await cacheOn();
    const io = streams();
    expect(await rtrDump(['--rtr', address, '--format', 'csv', '--version', '1'], io)).toBe(0);
    expect(io.out()).toBe(
      'ASN,IP Prefix,Max Length,Trust Anchor\nAS64496,192.0.2.0/24,24,\nAS65000,2001:db8::/32,48,\n',
    );
    expect(cache.log[0]!.received[0]).toMatchObject({ version: 1 });
  });

  it('puts ASPA records of the 8210bis-10 layout under provider_authorizations by AFI', async () => {
    const { cache, address } = await cacheOn();
    cache.onQuery = async (conn) => {
      await conn.send(
        cacheResponse(2, 5),
        prefix(2, '10.0.0.0/8', 8, 1),
        aspa(2, 28, [3, 4], true, 0),
        aspa(2, 28, [5], true, 1),
        endOfData(2, 5, 9),
      );
      return true;
    };
    const io = streams();
    expect(await rtrDump(['--rtr', address], io)).toBe(0);
    expect(JSON.parse(io.out()).provider_authorizations).toEqual({
      ipv4: [{ customer_asid: 28, providers: [3, 4] }],
      ipv6: [{ customer_asid: 28, providers: [5] }],
    });
  });

  it('with --watch prints every change until interrupted', async () => {
    const { cache, address } = await cacheOn();
    const io = streams();
    const controller = new AbortController();
    const run = rtrDump(['--rtr', address, '--watch', '--format', 'csv'], {
      ...io,
      signal: controller.signal,
    });
    while (!io.out().includes('AS65000')) await new Promise((r) => setTimeout(r, 5));
    cache.update([
      { prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 },
      { prefix: '203.0.113.0/24', maxLength: 24, asn: 0 },
    ]);
    while (!io.out().includes('+,AS0')) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(await run).toBe(0);
    expect(io.out().split('\n').slice(3)).toEqual([
      '-,AS65000,2001:db8::/32,48,',
      '+,AS0,203.0.113.0/24,24,',
      '',
    ]);
  });

  it('gives up after --timeout when the cache is down, naming the error', async () => {
    const { address } = await cacheOn();
    await caches[0]!.stop();
    const io = streams();
    expect(await rtrDump(['--rtr', address, '--timeout', '0.3'], io)).toBe(1);
    expect(io.err()).toContain('RTR_ERR_CONNECT');
    expect(io.err()).toContain('no sync within 0.3 s');
    expect(io.out()).toBe('');
  });

  it.each([
    [[], /--rtr HOST:PORT is required/],
    [['--rtr', '127.0.0.1:1', '--format', 'xml'], /--format must be json or csv/],
    [['--rtr', '127.0.0.1:1', '--version', '3'], /--version must be 0, 1 or 2/],
    [['--rtr', '127.0.0.1:1', '--bogus'], /Unknown option '--bogus'/],
    [['--rtr', '127.0.0.1:1', '--ca', 'x.pem'], /need --tls/],
    [['--rtr', '127.0.0.1:1', '--tls', '--cert', 'c.pem'], /--cert and --key go together/],
    [['--rtr', '127.0.0.1:99999'], /invalid port/],
    [['--rtr', '127.0.0.1:1', '--timeout', 'soon'], /--timeout must be seconds/],
  ])('refuses %j with a usage error', async (args, message) => {
    const io = streams();
    await expect(rtrDump(args, io)).rejects.toThrow(CliUsageError);
    await expect(rtrDump(args, io)).rejects.toThrow(message);
  });
});
