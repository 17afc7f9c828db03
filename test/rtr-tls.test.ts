// RTR over TLS with a client certificate (RFC 6810 §7.2: a cache may authenticate
// routers). StayRTR 0.5 has no client authentication, so the cache here is the
// in-process scripted cache behind a node:tls server on 127.0.0.1 that demands a
// certificate; openssl makes the certificates.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { RtrClient } from '@rovkit/rtr-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCache, vrpKey } from '../packages/rtr-client/src/testing/fake-cache.js';
import { missing, peerCommand } from './support/peers.js';

const skip = missing(peerCommand('openssl'));

/** A self-signed P-256 certificate for `name`; returns its PEM files' contents. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name}`,
  ]); // prettier-ignore
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  return { cert, key };
}

describe.skipIf(skip !== undefined)('RTR over TLS with a client certificate', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let files: { ca: Buffer; routerCert: Buffer; routerKey: Buffer; otherCert: Buffer; otherKey: Buffer };
  const peers: string[] = [];
  const cache = new FakeCache({ name: 'tls' });
  cache.update([{ prefix: '192.0.2.0/24', maxLength: 24, asn: 64496 }], undefined, false);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rovkit-mtls-'));
    const cacheCert = selfSigned(dir, 'rtr.test');
    const router = selfSigned(dir, 'router.test');
    const other = selfSigned(dir, 'other.test');
    files = {
      ca: await readFile(cacheCert.cert),
      routerCert: await readFile(router.cert),
      routerKey: await readFile(router.key),
      otherCert: await readFile(other.cert),
      otherKey: await readFile(other.key),
    };
    server = createServer(
      {
        cert: await readFile(cacheCert.cert),
        key: await readFile(cacheCert.key),
        requestCert: true,
        rejectUnauthorized: true,
        ca: files.routerCert,
      },
      (socket: TLSSocket) => {
        peers.push(String(socket.getPeerCertificate().subject?.CN));
        cache.serve(socket);
      },
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await cache.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('syncs when it presents the certificate the cache trusts', async () => {
    const client = new RtrClient({
      caches: [
        {
          tls: true,
          host: '127.0.0.1',
          port,
          ca: files.ca,
          servername: 'rtr.test',
          cert: files.routerCert,
          key: files.routerKey,
        },
      ],
    });
    try {
      client.start();
      await client.whenSynced();
      expect(client.cache).toBe(`tls://127.0.0.1:${port}`);
      expect([...client.table].map(vrpKey)).toEqual([...cache.vrps.keys()]);
      expect(peers).toEqual(['router.test']);
    } finally {
      await client.close();
    }
  });

  it('gets no data with a certificate the cache does not trust, or with none', async () => {
    for (const identity of [{ cert: files.otherCert, key: files.otherKey }, {}]) {
      const client = new RtrClient({
        caches: [{ tls: true, host: '127.0.0.1', port, ca: files.ca, servername: 'rtr.test', ...identity }],
        backoff: { initial: 50, max: 100 },
      });
      const errors: string[] = [];
      client.on('error', (e) => errors.push(e.code));
      try {
        client.start();
        const started = Date.now();
        while (errors.length < 2 && Date.now() - started < 10_000)
          await new Promise((r) => setTimeout(r, 10));
        expect(errors.length).toBeGreaterThanOrEqual(2);
        expect(errors.every((c) => c === 'RTR_ERR_CONNECT' || c === 'RTR_ERR_CONNECTION_CLOSED')).toBe(true);
        expect(client.table.size).toBe(0);
        expect(client.state.status).not.toBe('synced');
      } finally {
        await client.close();
      }
    }
    expect(peers).toEqual(['router.test']);
  });
});
