// @rovkit/rtr-client against StayRTR 0.5 (Debian `stayrtr`) serving the real VRP files
// of ../shared/data, for RTR versions 0, 1 and 2, cross-checked with StayRTR's own
// `rtrdump`. StayRTR listens on 127.0.0.1 with free ports; every test stops what it
// started.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { formatPrefix, parseAsn, parsePrefix, type VrpList } from '@rovkit/core';
import { RtrClient, type RtrClientOptions, type RtrDelta } from '@rovkit/rtr-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rtrDump } from '../packages/monitor/src/commands/rtr-dump.js';
import { missing, peerCommand, sharedFile, sharedPath } from './support/peers.js';
import { freePort, readVrpJson, StayRtr, type VrpJson } from './support/stayrtr.js';

const BIG = 'vrps/rpki-client-ripe-prepdev-TESTTA-20230504.json.gz';
const AFRINIC = 'vrps/ripe-archive-afrinic-20240101.routinator.json.gz';
const LACNIC = 'vrps/ripe-archive-lacnic-20240101.routinator.json.gz';
const CSV_RPKI_CLIENT = 'vrps/rpki-client-sample10k-202404.csv.gz';
const CSV_ROUTINATOR = 'vrps/routinator-sample10k-202404.csv.gz';

const skip = missing(
  peerCommand('stayrtr'),
  peerCommand('rtrdump'),
  sharedFile(BIG),
  sharedFile(AFRINIC),
  sharedFile(LACNIC),
  sharedFile(CSV_RPKI_CLIENT),
  sharedFile(CSV_ROUTINATOR),
);

const servers: StayRtr[] = [];
const clients: RtrClient[] = [];

async function stayrtr(
  json: VrpJson,
  options: { protocol?: number; port?: number; args?: string[] } = {},
): Promise<StayRtr> {
  const s = await StayRtr.start({ json, ...options });
  servers.push(s);
  return s;
}

function client(addresses: string[], options: Partial<RtrClientOptions> = {}): RtrClient {
  const c = new RtrClient({
    caches: addresses,
    backoff: { initial: 100, max: 1000, jitter: 0.5 },
    notifyDebounce: 20,
    ...options,
  });
  clients.push(c);
  return c;
}

async function synced(c: RtrClient, ms = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.whenSynced(),
      new Promise((_r, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no sync within ${ms} ms, state ${JSON.stringify(c.state)}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(what: string, predicate: () => boolean, ms = 30_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

//------------ the sets being compared, as "prefix maxLength ASN" keys

function key(prefix: string, maxLength: number, asn: number | string): string {
  const p = parsePrefix(prefix);
  return `${formatPrefix(p.family, ...p.words, p.length)} ${maxLength} ${parseAsn(asn)}`;
}

function fileKeys(json: VrpJson): string[] {
  return json.roas.map((r) => key(r.prefix, r.maxLength, r.asn)).sort();
}

function clientKeys(c: RtrClient): string[] {
  const out: string[] = [];
  c.table.forEachVrp((family, w0, w1, w2, w3, length, maxLength, asn) =>
    out.push(`${formatPrefix(family, w0, w1, w2, w3, length)} ${maxLength} ${asn}`),
  );
  return out.sort();
}

function listKeys(list: VrpList): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++)
    out.push(
      `${formatPrefix(list.family(i), list.word(i, 0), list.word(i, 1), list.word(i, 2), list.word(i, 3), list.prefixLength(i))} ${list.maxLength(i)} ${list.asn(i)}`,
    );
  return out.sort();
}

function fileAspaKeys(json: VrpJson): string[] {
  const pa = json.provider_authorizations ?? {};
  return [
    ...(pa.ipv4 ?? []).map((a) => `0 ${a.customer_asid} ${[...a.providers].sort((x, y) => x - y).join(',')}`),
    ...(pa.ipv6 ?? []).map((a) => `1 ${a.customer_asid} ${[...a.providers].sort((x, y) => x - y).join(',')}`),
  ].sort();
}

function clientAspaKeys(c: RtrClient): string[] {
  return c.aspas
    .map((a) => `${a.afiFlags ?? '-'} ${a.customer} ${[...a.providers].sort((x, y) => x - y).join(',')}`)
    .sort();
}

/** Runs StayRTR's rtrdump against `address` and returns its JSON. */
async function rtrdump(address: string, version: number): Promise<VrpJson> {
  const dir = await mkdtemp(join(tmpdir(), 'rovkit-rtrdump-'));
  try {
    const file = join(dir, 'out.json');
    const child = spawn('rtrdump', ['-connect', address, '-rtr.version', String(version), '-file', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) throw new Error(`rtrdump exited ${code}: ${log}`);
    return JSON.parse(await readFile(file, 'utf8')) as VrpJson;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The 10k CSV slices as JSON StayRTR reads. */
async function csvAsJson(relative: string): Promise<VrpJson> {
  const lines = gunzipSync(await readFile(sharedPath(relative)))
    .toString('utf8')
    .trim()
    .split('\n')
    .slice(1);
  return {
    roas: lines.map((line) => {
      const [asn, prefix, maxLength, ta] = line.split(',') as [string, string, string, string];
      return { asn, prefix, maxLength: Number(maxLength), ta };
    }),
  };
}

/** Records the queries a client sends (through the rpki:rtr:pdu diagnostics channel). */
function recordQueries(c: RtrClient): { list: string[]; stop: () => void } {
  const list: string[] = [];
  const on = (message: unknown): void => {
    const m = message as { client: unknown; direction: string; type: number; version: number };
    if (m.client !== c || m.direction !== 'out') return;
    list.push(
      m.type === 1
        ? `serial@v${m.version}`
        : m.type === 2
          ? `reset@v${m.version}`
          : `type${m.type}@v${m.version}`,
    );
  };
  subscribe('rpki:rtr:pdu', on);
  return { list, stop: () => unsubscribe('rpki:rtr:pdu', on) };
}

describe.skipIf(skip !== undefined)('RTR interop with StayRTR', () => {
  describe('the 424k-VRP rpki-client file (with 6,647 ASPA)', () => {
    let json: VrpJson;
    let expected: string[];
    let server: StayRtr;

    beforeAll(async () => {
      json = await readVrpJson(sharedPath(BIG));
      expected = fileKeys(json);
      server = await StayRtr.start({ json, refresh: 3600 });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    it.each([0, 1, 2])(
      'syncs at version %i the exact set of the file, the same as rtrdump',
      async (version) => {
        const c = client([server.address], { version: version as 0 | 1 | 2 });
        c.start();
        await synced(c);
        expect(c.version).toBe(version);
        const got = clientKeys(c);
        expect(got.length).toBe(424_223);
        expect(got).toEqual(expected);
        const dump = await rtrdump(server.address, version);
        expect(fileKeys(dump)).toEqual(got);
        if (version === 2) {
          // StayRTR 0.5 sends ASPA in the 8210bis-10 layout, one record per customer and AFI.
          expect(c.aspas.length).toBe(2 * 6647);
          expect(clientAspaKeys(c)).toEqual(fileAspaKeys(json));
          expect(fileAspaKeys(dump)).toEqual(fileAspaKeys(json));
        } else {
          expect(c.aspas).toEqual([]);
        }
        await c.close();
      },
      120_000,
    );

    it('prints through `rovkit rtr-dump` the same VRPs and ASPA as rtrdump', async () => {
      const stdout = new PassThrough();
      const chunks: Buffer[] = [];
      stdout.on('data', (c: Buffer) => chunks.push(c));
      const status = await rtrDump(['--rtr', server.address], { stdout, stderr: new PassThrough() });
      expect(status).toBe(0);
      const ours = JSON.parse(Buffer.concat(chunks).toString('utf8')) as VrpJson;
      const dump = await rtrdump(server.address, 2);
      expect(fileKeys(ours)).toEqual(fileKeys(dump));
      expect(fileAspaKeys(ours)).toEqual(fileAspaKeys(dump));
    }, 120_000);
  });

  it.each([
    [AFRINIC, 0],
    [LACNIC, 1],
    [CSV_RPKI_CLIENT, 2],
    [CSV_ROUTINATOR, 1],
  ] as const)(
    'syncs %s at version %i exactly',
    async (file, version) => {
      const json = file.endsWith('.csv.gz') ? await csvAsJson(file) : await readVrpJson(sharedPath(file));
      const s = await stayrtr(json);
      const c = client([s.address], { version });
      c.start();
      await synced(c);
      expect(clientKeys(c)).toEqual(fileKeys(json));
      expect(clientKeys(c)).toEqual(fileKeys(await rtrdump(s.address, version)));
    },
    60_000,
  );

  describe.each([0, 1, 2])('version %i', (version) => {
    it('follows a changed file: Serial Notify, then an incremental delta equal to the change', async () => {
      const full = await readVrpJson(sharedPath(LACNIC));
      const before: VrpJson = { ...full, roas: full.roas.filter((_r, i) => i % 10 !== 3) };
      const after: VrpJson = { ...full, roas: full.roas.filter((_r, i) => i % 10 !== 7) };
      const s = await stayrtr(before);
      const c = client([s.address], { version: version as 0 | 1 | 2 });
      const queries = recordQueries(c);
      const deltas: RtrDelta[] = [];
      c.on('delta', (d) => deltas.push(d));
      try {
        c.start();
        await synced(c);
        const serial = c.serial!;
        await s.serve(after);
        await until('the incremental delta', () => deltas.length === 2);
        const d = deltas[1]!;
        expect(d.reason).toBe('sync');
        expect(d.serial).toBe((serial + 1) >>> 0);
        const b = new Set(fileKeys(before));
        const a = new Set(fileKeys(after));
        expect(listKeys(d.announced)).toEqual([...a].filter((k) => !b.has(k)).sort());
        expect(listKeys(d.withdrawn)).toEqual([...b].filter((k) => !a.has(k)).sort());
        expect(clientKeys(c)).toEqual(fileKeys(after));
        // Triggered by StayRTR's Serial Notify (the refresh timer is an hour).
        expect(queries.list).toEqual([`reset@v${version}`, `serial@v${version}`]);
      } finally {
        queries.stop();
      }
    }, 60_000);

    it('does a full reset after StayRTR restarts with a new session id, keeping the data meanwhile', async () => {
      const first = await readVrpJson(sharedPath(AFRINIC));
      const s = await stayrtr(first);
      const c = client([s.address], { version: version as 0 | 1 | 2 });
      const queries = recordQueries(c);
      const sizes: number[] = [];
      const deltas: RtrDelta[] = [];
      c.on('delta', (d) => deltas.push(d));
      try {
        c.start();
        await synced(c);
        const session = c.sessionId;
        c.on('stateChange', () => sizes.push(c.table.size));
        const second: VrpJson = { ...first, roas: first.roas.slice(100) };
        await s.restart(second);
        await until('the new session', () => c.sessionId !== session && c.state.status === 'synced');
        expect(clientKeys(c)).toEqual(fileKeys(second));
        const last = deltas.at(-1)!;
        expect(last.reason).toBe('reset');
        // StayRTR answers the old session's Serial Query with an Error Report: the
        // client reconnects with a Reset Query (rtrlib 0.8 repeats the Serial Query).
        expect(queries.list.slice(0, 2)).toEqual([`reset@v${version}`, `serial@v${version}`]);
        expect(queries.list.at(-1)).toBe(`reset@v${version}`);
        expect(sizes.every((n) => n === first.roas.length || n === second.roas.length)).toBe(true);
      } finally {
        queries.stop();
      }
    }, 60_000);
  });

  it('keeps the data of a killed StayRTR while reconnecting with backoff, resyncs when it is back, purges at expire', async () => {
    const json = await readVrpJson(sharedPath(AFRINIC));
    const s = await stayrtr(json);
    const c = client([s.address], {
      timers: { expire: 4 },
      backoff: { initial: 100, max: 800, jitter: 0.5 },
    });
    const waits: number[] = [];
    c.on('stateChange', (st) => {
      if (st.status === 'stale') waits.push(st.retryAt - Date.now());
    });
    c.start();
    await synced(c);
    await s.kill();
    await until('three failed attempts', () => waits.length >= 3, 10_000);
    expect(c.table.size).toBe(json.roas.length);
    expect(c.state.status === 'stale' || c.state.status === 'connecting').toBe(true);
    // Exponential backoff with jitter: each wait in [d/2, d] for d = 100, 200, 400 ms.
    [100, 200, 400].forEach((d, i) => {
      expect(waits[i]!).toBeLessThanOrEqual(d);
      expect(waits[i]!).toBeGreaterThanOrEqual(d / 2 - 5);
    });
    await s.restart();
    await until('the resync', () => c.state.status === 'synced', 20_000);
    expect(clientKeys(c)).toEqual(fileKeys(json));
    await s.kill();
    await until('the purge', () => c.state.status === 'expired', 15_000);
    expect(c.table.size).toBe(0);
  }, 60_000);

  it('fails over to a second StayRTR and returns to the first when it is back', async () => {
    const full = await readVrpJson(sharedPath(AFRINIC));
    const primaryJson: VrpJson = { ...full, roas: full.roas.slice(0, 6000) };
    const fallbackJson: VrpJson = { ...full, roas: full.roas.slice(3000) };
    const primary = await stayrtr(primaryJson);
    const fallback = await stayrtr(fallbackJson);
    const c = client([primary.address, fallback.address], { switchBackInterval: 500 });
    const deltas: RtrDelta[] = [];
    c.on('delta', (d) => deltas.push(d));
    c.start();
    await synced(c);
    expect(c.cache).toBe(`tcp://${primary.address}`);
    await primary.kill();
    await until('the fallback', () => c.cache === `tcp://${fallback.address}` && c.state.status === 'synced');
    expect(clientKeys(c)).toEqual(fileKeys(fallbackJson));
    const over = deltas.at(-1)!;
    expect(listKeys(over.withdrawn)).toEqual(fileKeys({ roas: full.roas.slice(0, 3000) }));
    expect(listKeys(over.announced)).toEqual(fileKeys({ roas: full.roas.slice(6000) }));
    expect(c.table.size).toBe(fallbackJson.roas.length);
    await primary.restart();
    await until(
      'the switch back',
      () => c.cache === `tcp://${primary.address}` && c.state.status === 'synced',
    );
    expect(clientKeys(c)).toEqual(fileKeys(primaryJson));
    const back = deltas.at(-1)!;
    expect(listKeys(back.announced)).toEqual(fileKeys({ roas: full.roas.slice(0, 3000) }));
    expect(listKeys(back.withdrawn)).toEqual(fileKeys({ roas: full.roas.slice(6000) }));
  }, 60_000);

  it('keeps the BGPsec router keys StayRTR serves (versions 1 and 2), as rtrdump does, and their withdrawal', async () => {
    const keys = [0, 1].map(() => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const der = publicKey.export({ type: 'spki', format: 'der' });
      // RFC 8208 §3.2: SKI = SHA-1 of the subjectPublicKey bits.
      const ski = createHash('sha1')
        .update(der.subarray(der.length - 65))
        .digest('hex');
      return { asn: 64496, ski, pubkey: der.toString('base64') };
    });
    const json: VrpJson = {
      roas: [{ asn: 64496, prefix: '192.0.2.0/24', maxLength: 24 }],
      bgpsec_keys: keys,
    };
    const s = await stayrtr(json);
    const sorted = (list: { asn: number; ski: string; pubkey?: string; spki?: string }[]): string[] =>
      list.map((k) => `${k.asn} ${k.ski} ${k.pubkey ?? k.spki}`).sort();
    for (const version of [0, 1, 2] as const) {
      const c = client([s.address], { version });
      c.start();
      await synced(c);
      expect(sorted(c.routerKeys)).toEqual(version === 0 ? [] : sorted(keys));
      const dump = await rtrdump(s.address, version);
      expect(sorted((dump.bgpsec_keys as typeof keys | undefined) ?? [])).toEqual(sorted(c.routerKeys));
      if (version === 2) {
        const deltas: RtrDelta[] = [];
        c.on('delta', (d) => deltas.push(d));
        await s.serve({
          ...json,
          roas: [...json.roas, { asn: 64497, prefix: '198.51.100.0/24', maxLength: 24 }],
          bgpsec_keys: [keys[0]!],
        });
        await until('the delta', () => deltas.length === 1);
        expect(sorted([...deltas[0]!.routerKeys.withdrawn])).toEqual(sorted([keys[1]!]));
        expect(sorted(c.routerKeys)).toEqual(sorted([keys[0]!]));
      }
      await c.close();
    }
  }, 60_000);

  it.each([
    [1, 1],
    [0, 0],
  ])(
    'speaks version %i with a StayRTR running -protocol %i (answer at the lower version, no Error Report)',
    async (protocol) => {
      const json = await readVrpJson(sharedPath(AFRINIC));
      const s = await stayrtr(json, { protocol });
      const c = client([s.address], { version: 2 });
      c.start();
      await synced(c);
      expect(c.version).toBe(protocol);
      expect(clientKeys(c)).toEqual(fileKeys(json));
    },
    30_000,
  );

  it('rejects the IPv4 PDU with prefix length 120 StayRTR sends for an IPv4-mapped VRP (RFC 8210 §5.6); rtrdump prints <nil>', async () => {
    const json: VrpJson = {
      roas: [
        { asn: 64496, prefix: '192.0.2.0/24', maxLength: 24 },
        { asn: 64497, prefix: '::ffff:198.51.100.0/120', maxLength: 120 },
      ],
    };
    const s = await stayrtr(json);
    const c = client([s.address]);
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    c.start();
    await until('the error', () => errors.includes('RTR_ERR_CORRUPT_DATA'));
    expect(c.table.size).toBe(0);
    expect(c.state.status === 'synced').toBe(false);
    const dump = await rtrdump(s.address, 1);
    expect(dump.roas.map((r) => r.prefix).sort()).toEqual(['192.0.2.0/24', '<nil>']);
  }, 30_000);

  it.skipIf(missing(peerCommand('openssl')) !== undefined)(
    'syncs over TLS with a CA and a server name, and refuses a wrong name',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rovkit-tls-'));
      try {
        const cert = join(dir, 'cert.pem');
        const keyFile = join(dir, 'key.pem');
        const made = spawnSync('openssl', [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
          '-keyout', keyFile, '-out', cert, '-days', '1', '-subj', '/CN=rtr.test',
          '-addext', 'subjectAltName=DNS:rtr.test',
        ]); // prettier-ignore
        expect(made.status).toBe(0);
        const json = await readVrpJson(sharedPath(AFRINIC));
        const tlsPort = await freePort();
        await stayrtr(json, {
          args: ['-tls.bind', `127.0.0.1:${tlsPort}`, '-tls.cert', cert, '-tls.key', keyFile],
        });
        const ca = await readFile(cert);
        const c = client([], {
          caches: [{ tls: true, host: '127.0.0.1', port: tlsPort, ca, servername: 'rtr.test' }],
        });
        c.start();
        await synced(c);
        expect(c.cache).toBe(`tls://127.0.0.1:${tlsPort}`);
        expect(clientKeys(c)).toEqual(fileKeys(json));
        const wrong = client([], {
          caches: [{ tls: true, host: '127.0.0.1', port: tlsPort, ca, servername: 'other.test' }],
        });
        const errors: { code: string; cause: unknown }[] = [];
        wrong.on('error', (e) => errors.push({ code: e.code, cause: e.cause }));
        wrong.start();
        await until('the refusal', () => errors.length > 0);
        expect(errors[0]!.code).toBe('RTR_ERR_CONNECT');
        expect((errors[0]!.cause as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});
