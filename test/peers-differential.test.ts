// The peers against the naive RFC 6811 scan on real data: the 10k slice of a full 5-TA set
// plus the complete AFRINIC and LACNIC trust anchors, over a sample of real routes that
// those VRPs cover well (all pfx2as routes inside the slice, every 50th other IPv4 route,
// every 10th IPv6 route). Only differences the peer's documented quirks explain are allowed.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  dataFiles,
  formatRoute,
  loadRealRoutes,
  pickRoutes,
  readVrpFile,
  routeOrigin,
  routePrefixes,
  vrpRecord,
  type RouteSet,
  type VrpSet,
} from '../benchmarks/src/datasets.js';
import { PeerState } from '../benchmarks/src/peers/errors.js';
import { NaiveRov, toPeerState } from '../benchmarks/src/peers/naive.js';
import { createRpkiValidator } from '../benchmarks/src/peers/rpki-validator.js';
import { runRtrlib } from '../benchmarks/src/peers/rtrlib.js';
import { missing, npmPackage, peerCommand, sharedFile, type Requirement } from './support/peers.js';

const data = [
  sharedFile('routes/caida-routeviews-rv2-20240406.pfx2as.gz'),
  sharedFile('routes/ris-riswhoisdump.IPv6-20241220.gz'),
  sharedFile('vrps/rpki-client-sample10k-202404.csv.gz'),
  sharedFile('vrps/ripe-archive-afrinic-20240101.routinator.json.gz'),
  sharedFile('vrps/ripe-archive-lacnic-20240101.routinator.json.gz'),
];
const librtrDev: Requirement = {
  name: 'librtr-dev',
  install: 'apt-get install librtr-dev',
  available: existsSync('/usr/include/rtrlib/pfx/pfx.h'),
};

/** The three VRP files as one set (no triple occurs in two of them). */
function combinedVrps(): VrpSet {
  const parts = [dataFiles.vrpsRpkiClientCsv10k, dataFiles.vrpsAfrinic, dataFiles.vrpsLacnic].map(
    readVrpFile,
  );
  const cat = <T extends Uint8Array | Uint32Array>(pick: (s: VrpSet) => T, make: (n: number) => T): T => {
    const out = make(parts.reduce((n, s) => n + pick(s).length, 0));
    let at = 0;
    for (const s of parts) {
      out.set(pick(s), at);
      at += pick(s).length;
    }
    return out;
  };
  const n4 = parts.reduce((n, s) => n + s.v4.count, 0);
  const n6 = parts.reduce((n, s) => n + s.v6.count, 0);
  return {
    v4: {
      addr: cat(
        (s) => s.v4.addr,
        (n) => new Uint32Array(n),
      ),
      length: cat(
        (s) => s.v4.length,
        (n) => new Uint8Array(n),
      ),
      maxLength: cat(
        (s) => s.v4.maxLength,
        (n) => new Uint8Array(n),
      ),
      asn: cat(
        (s) => s.v4.asn,
        (n) => new Uint32Array(n),
      ),
      count: n4,
    },
    v6: {
      words: cat(
        (s) => s.v6.words,
        (n) => new Uint32Array(n),
      ),
      length: cat(
        (s) => s.v6.length,
        (n) => new Uint8Array(n),
      ),
      maxLength: cat(
        (s) => s.v6.maxLength,
        (n) => new Uint8Array(n),
      ),
      asn: cat(
        (s) => s.v6.asn,
        (n) => new Uint32Array(n),
      ),
      count: n6,
    },
    count: n4 + n6,
  };
}

/** The route sample described at the top, as a RouteSet of its own. */
function sampleRoutes(all: RouteSet): RouteSet {
  const SLICE_END = 0x05ed0000; // 5.237.0.0: the 10k slice ends at 5.236.x
  const pick4: number[] = [];
  for (let i = 0; i < all.v4.count; i++) if (all.v4.addr[i]! < SLICE_END || i % 50 === 0) pick4.push(i);
  const pick6: number[] = [];
  for (let i = 0; i < all.v6.count; i += 10) pick6.push(i);
  return pickRoutes(all, pick4, pick6);
}

describe.skipIf(missing(...data) !== undefined)('peers against the naive scan on real data', () => {
  let vrps: VrpSet;
  let routes: RouteSet;
  let oracle: Uint8Array;

  beforeAll(() => {
    vrps = combinedVrps();
    routes = sampleRoutes(loadRealRoutes());
    const codes = new Uint8Array(routes.count);
    new NaiveRov(vrps).validateRoutes(routes, codes);
    oracle = codes.map(toPeerState);
  });

  it('the sample exercises every state', () => {
    const counts = [0, 0, 0];
    for (const state of oracle) counts[state]!++;
    expect(routes.count).toBeGreaterThan(40_000);
    expect(counts[PeerState.Valid]).toBeGreaterThan(1_000);
    expect(counts[PeerState.Invalid]).toBeGreaterThan(100);
  });

  describe.skipIf(missing(peerCommand('cc'), librtrDev) !== undefined)('rtrlib', () => {
    it('agrees on every route', () => {
      const run = runRtrlib(vrps, routes, { repetitions: 1 });
      expect(run.vrps.added).toBe(vrps.count);
      const differences: string[] = [];
      for (let i = 0; i < routes.count; i++) {
        if (run.results[i] !== oracle[i]) {
          differences.push(
            `${formatRoute(routes, i)} ${routeOrigin(routes, i)}: ${run.results[i]} vs ${oracle[i]}`,
          );
        }
      }
      expect(differences).toEqual([]);
    });
  });

  describe.skipIf(missing(npmPackage('rpki-validator')) !== undefined)('rpki-validator', () => {
    const disposers: (() => void)[] = [];
    afterAll(() => disposers.forEach((dispose) => dispose()));

    it('agrees on every route but origin 0 under an AS0 VRP', async () => {
      const peer = await createRpkiValidator(
        Array.from({ length: vrps.count }, (_, i) => vrpRecord(vrps, i)),
      );
      disposers.push(() => peer.dispose());
      const prefixes = routePrefixes(routes);
      const differences: string[] = [];
      for (let i = 0; i < routes.count; i++) {
        const origin = routeOrigin(routes, i);
        const state = peer.state(prefixes[i]!, origin);
        if (state === oracle[i]) continue;
        // Quirk: origin 0 (our AS_SET stand-in) matches an AS0 VRP, so it can read Valid.
        const as0Quirk =
          (origin === 'none' || origin === 0) && state === PeerState.Valid && oracle[i] === PeerState.Invalid;
        if (!as0Quirk) differences.push(`${prefixes[i]} ${origin}: ${state} vs ${oracle[i]}`);
      }
      expect(differences).toEqual([]);
    });
  });
});
