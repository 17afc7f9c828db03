// Differential test on real data (issue 3): every real route of ../shared/data (1,004,423
// IPv4 routes from CAIDA pfx2as 2024-04-06 after multi-origin expansion, 270,345 IPv6 rows
// from a RIS whois dump 2024-12-20; 1,274,768 announcements in all) validated by
// @rovkit/core and by the peers, over two VRP sets:
// - the complete AFRINIC and LACNIC trust anchors (2024-01-01, Routinator JSON) plus the
//   10k-row rpki-client CSV slice of a full set (April 2024, close to the IPv4 routes' date);
// - RIPE's pre-production rpki-client JSON, 424,223 VRPs (2023-05-04).
// Peers: rtrlib (`rpki-rov` syncing over RTR from a StayRTR on 127.0.0.1 that serves the
// same VRPs, and rtrlib's pfx_table fed directly through benchmarks/c/rtrlib_bench.c) and
// rpki-validator@2.14.7 (its documented Promise API). rpki-rov is fast enough for all routes
// (about 1.3 million lines in 5 s), so no sample is taken for it.
// Core runs its batch API on every route and its string API on every 5th route. Agreement
// must be exact except for the classes in DIFFERENCE_CLASSES, each decided by an RFC; every
// difference is checked against its class's condition (not just counted) and anything else
// fails the test.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadVrpFile, validityOf, VrpTable, type Origin } from '@rovkit/core';
import {
  dataFiles,
  formatRoute,
  loadRealRoutes,
  readVrpFile,
  routeOrigin,
  routeSetFromList,
  vrpJsonWithoutExpires,
  vrpRecord,
  vrpSetFromList,
  type RouteSet,
  type VrpSet,
} from '../benchmarks/src/datasets.js';
import { PeerState } from '../benchmarks/src/peers/errors.js';
import { NaiveRov, toPeerState } from '../benchmarks/src/peers/naive.js';
import { createRpkiValidator } from '../benchmarks/src/peers/rpki-validator.js';
import { runRtrlib } from '../benchmarks/src/peers/rtrlib.js';
import {
  concatVrps,
  coveringVrps,
  runRpkiRov,
  startStayRtr,
  withoutDefaultVrps,
  writeVrpJson,
  type StayRtrProcess,
} from './support/differential-peers.js';
import { missing, npmPackage, peerCommand, sharedFile, type Requirement } from './support/peers.js';

const librtrDev: Requirement = {
  name: 'librtr-dev',
  install: 'apt-get install librtr-dev',
  available: existsSync('/usr/include/rtrlib/pfx/pfx.h'),
};

const skip = missing(
  sharedFile('routes/caida-routeviews-rv2-20240406.pfx2as.gz'),
  sharedFile('routes/ris-riswhoisdump.IPv6-20241220.gz'),
  sharedFile('vrps/rpki-client-ripe-prepdev-TESTTA-20230504.json.gz'),
  sharedFile('vrps/ripe-archive-afrinic-20240101.routinator.json.gz'),
  sharedFile('vrps/ripe-archive-lacnic-20240101.routinator.json.gz'),
  sharedFile('vrps/rpki-client-sample10k-202404.csv.gz'),
  peerCommand('stayrtr'),
  peerCommand('rpki-rov'),
  peerCommand('cc'),
  librtrDev,
  npmPackage('rpki-validator'),
);

type PeerName = 'rtrlib rpki-rov via StayRTR' | 'rtrlib pfx_table (C harness)' | 'rpki-validator@2.14.7';

interface Context {
  readonly routes: RouteSet;
  /** The VRPs as the peer-side parser (benchmarks/src/datasets.ts) reads them. */
  readonly vrps: VrpSet;
  /** The same without /0 VRPs. */
  readonly withoutDefault: VrpSet;
}

interface Difference {
  /** Route index, RouteSet order. */
  readonly i: number;
  readonly core: PeerState;
  readonly peer: PeerState;
}

interface DifferenceClass {
  readonly id: string;
  readonly rfc: string;
  readonly peers: readonly PeerName[];
  /** What the peer does and what the RFC says instead. */
  readonly why: string;
  /** Whether this class accounts for the difference, checked from the VRPs and the route. */
  explains(d: Difference, context: Context): boolean;
}

function isNoneOrZero(routes: RouteSet, i: number): boolean {
  const origin = routeOrigin(routes, i);
  return origin === 'none' || origin === 0;
}

function routeLength(routes: RouteSet, i: number): number {
  return i < routes.v4.count ? routes.v4.length[i]! : routes.v6.length[i - routes.v4.count]!;
}

/** The route's state by the naive RFC 6811 scan over the set without /0 VRPs. */
function stateWithoutDefault(context: Context, i: number): PeerState {
  return toPeerState(new NaiveRov(context.withoutDefault).validateRoute(context.routes, i));
}

function coveredByDefaultVrp(context: Context, i: number): boolean {
  return coveringVrps(context.vrps, context.routes, i).some((v) => v.prefix.endsWith('/0'));
}

/** Every difference an RFC decides; nothing else is allowed. */
const DIFFERENCE_CLASSES: readonly DifferenceClass[] = [
  {
    id: 'as0-vrp-matches-origin-none-or-0',
    rfc: 'RFC 6483 §4 and RFC 7607 §2 (an AS 0 VRP never matches); RFC 6811 §2 (an AS_SET origin is NONE)',
    peers: ['rpki-validator@2.14.7'],
    why:
      'rpki-validator compares roa.asn === origin with no case for AS 0, and cannot take an AS_SET origin, ' +
      'which is passed as 0; so such a route under an AS0 VRP whose maxLength admits it reads Valid. ' +
      'Per the RFCs it is Invalid.',
    explains: (d, { routes, vrps }) =>
      d.core === PeerState.Invalid &&
      d.peer === PeerState.Valid &&
      isNoneOrZero(routes, d.i) &&
      coveringVrps(vrps, routes, d.i).some((v) => v.asn === 0 && v.maxLength >= routeLength(routes, d.i)),
  },
  {
    id: 'default-vrp-ignored',
    rfc: 'RFC 6811 §2 (a VRP covers every route its prefix contains: 0.0.0.0/0 and ::/0 cover the family)',
    peers: ['rpki-validator@2.14.7'],
    why:
      'rpki-validator starts its trie lookup below the root, so /0 VRPs cover nothing (and drops one whose ' +
      'maxLength is 0); a route under one reads as if the /0 VRP were absent.',
    explains: (d, context) =>
      coveredByDefaultVrp(context, d.i) && d.peer === stateWithoutDefault(context, d.i),
  },
  {
    id: 'default-vrp-withheld-from-rtrlib',
    rfc: 'RFC 6811 §2 (as above)',
    peers: ['rtrlib rpki-rov via StayRTR', 'rtrlib pfx_table (C harness)'],
    why:
      'rtrlib 0.8 aborts (assertion in lrtr_get_bits) on every validation in a family whose table holds a ' +
      '/0 VRP, so /0 VRPs are not given to it; a route under one reads as if the /0 VRP were absent.',
    explains: (d, context) =>
      coveredByDefaultVrp(context, d.i) && d.peer === stateWithoutDefault(context, d.i),
  },
];

/**
 * Compares a peer's states with core's, sorts each difference into the first class that
 * explains it, and returns the counts per class plus the unexplained differences (text).
 */
function compare(
  peer: PeerName,
  coreStates: Uint8Array,
  peerStates: Uint8Array,
  context: Context,
): { compared: number; classes: Record<string, number>; unexplained: string[] } {
  const classes: Record<string, number> = {};
  for (const c of DIFFERENCE_CLASSES) if (c.peers.includes(peer)) classes[c.id] = 0;
  const unexplained: string[] = [];
  const names = ['not-found', 'valid', 'invalid'];
  for (let i = 0; i < coreStates.length; i++) {
    if (coreStates[i] === peerStates[i]) continue;
    const d: Difference = { i, core: coreStates[i] as PeerState, peer: peerStates[i] as PeerState };
    const match = DIFFERENCE_CLASSES.find((c) => c.peers.includes(peer) && c.explains(d, context));
    if (match !== undefined) classes[match.id]!++;
    else if (unexplained.length < 20) {
      const covering = coveringVrps(context.vrps, context.routes, i)
        .slice(0, 8)
        .map((v) => `${v.prefix}-${v.maxLength} AS${v.asn}`);
      unexplained.push(
        `${formatRoute(context.routes, i)} origin ${routeOrigin(context.routes, i)}: core ` +
          `${names[d.core]}, ${peer} ${names[d.peer] ?? d.peer}; covering: ${covering.join(', ') || 'none'}`,
      );
    } else unexplained.push('…');
  }
  const summary = Object.entries(classes)
    .map(([id, n]) => `${id} ${n}`)
    .join(', ');
  process.stdout.write(
    `differential: ${peer}: ${coreStates.length} routes compared; RFC-decided differences: ${summary || 'none listed'}\n`,
  );
  return { compared: coreStates.length, classes, unexplained };
}

function countStates(states: Uint8Array): [number, number, number] {
  const counts: [number, number, number] = [0, 0, 0];
  for (const s of states) counts[s as 0 | 1 | 2]++;
  return counts;
}

interface VrpSource {
  readonly name: string;
  readonly files: readonly string[];
}

const SOURCES: readonly VrpSource[] = [
  {
    name: 'AFRINIC + LACNIC trust anchors and the 10k rpki-client CSV slice',
    files: [dataFiles.vrpsAfrinic, dataFiles.vrpsLacnic, dataFiles.vrpsRpkiClientCsv10k],
  },
  { name: 'RIPE prepdev rpki-client JSON, 424k VRPs', files: [dataFiles.vrps424k] },
];

describe.skipIf(skip !== undefined)('differential: @rovkit/core against rtrlib and rpki-validator', () => {
  let routes: RouteSet;
  const scratch = mkdtempSync(join(tmpdir(), 'rovkit-differential-'));
  const started: StayRtrProcess[] = [];

  beforeAll(() => {
    routes = loadRealRoutes();
  });
  afterAll(async () => {
    for (const s of started) await s.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('uses at least a million real announcements of both families', () => {
    expect(routes.count).toBeGreaterThanOrEqual(1_000_000);
    expect(routes.v4.count).toBeGreaterThan(900_000);
    expect(routes.v6.count).toBeGreaterThan(200_000);
  });

  describe.each(SOURCES)('$name', (source) => {
    let context: Context;
    let table: VrpTable;
    let coreCodes: Uint8Array;
    let coreStates: Uint8Array;

    beforeAll(async () => {
      const vrps = concatVrps(source.files.map(readVrpFile));
      context = { routes, vrps, withoutDefault: withoutDefaultVrps(vrps).rest };
      table = new VrpTable();
      for (const file of source.files) await loadVrpFile(file, { table });
      coreCodes = new Uint8Array(routes.count);
      const { v4, v6 } = routes;
      table.validateBatchV4(v4.addr, v4.length, v4.origin, coreCodes.subarray(0, v4.count));
      table.validateBatchV6(v6.words, v6.length, v6.origin, coreCodes.subarray(v4.count));
      coreStates = coreCodes.map(toPeerState);
    }, 120_000);

    it('core holds every VRP of the files, and every state occurs often', () => {
      // None of these files repeats a (prefix, maxLength, AS) triple, nor do they share one.
      expect([table.sizeV4, table.sizeV6]).toEqual([context.vrps.v4.count, context.vrps.v6.count]);
      const [notFound, valid, invalid] = countStates(coreStates);
      process.stdout.write(
        `differential: ${source.name}: ${context.vrps.count} VRPs; core: ${valid} valid, ` +
          `${invalid} invalid, ${notFound} not found\n`,
      );
      expect(Math.min(notFound, valid, invalid)).toBeGreaterThan(1_000);
    });

    it('core string API agrees with its batch API on every 5th route (origin as number, "ASn", "n")', () => {
      let compared = 0;
      const differences: string[] = [];
      for (let i = 0; i < routes.count; i += 5) {
        const prefix = formatRoute(routes, i);
        const o = routeOrigin(routes, i);
        const origin: Origin = o === 'none' ? 'none' : i % 3 === 0 ? o : i % 3 === 1 ? `AS${o}` : String(o);
        const code = table.validateCode(prefix, origin);
        const state = table.validate(prefix, origin);
        if (code !== coreCodes[i] || state !== validityOf(coreCodes[i]!)) {
          differences.push(`${prefix} ${origin}: string ${code}/${state}, batch ${coreCodes[i]}`);
        }
        compared++;
      }
      expect(compared).toBeGreaterThan(250_000);
      expect(differences.slice(0, 20)).toEqual([]);
    });

    it('rtrlib rpki-rov via StayRTR agrees on every route, RFC-decided classes apart', async () => {
      const { rest, removedV4, removedV6 } = withoutDefaultVrps(context.vrps);
      // A single JSON file is served as StayRTR reads it from disk (expires removed);
      // otherwise the union, written from the peer-side parse.
      let file: string;
      if (source.files.length === 1 && removedV4 + removedV6 === 0 && source.files[0]!.includes('.json')) {
        file = vrpJsonWithoutExpires(source.files[0]!);
      } else {
        file = join(scratch, `served-${SOURCES.indexOf(source)}.json`);
        writeVrpJson(rest, file, 'differential');
      }
      const stayrtr = await startStayRtr(file);
      started.push(stayrtr);
      try {
        expect(stayrtr.uniques).toBe(rest.count);
        const run = await runRpkiRov(stayrtr.port, routes);
        expect(run.prefixPdus).toBe(rest.count);
        const result = compare('rtrlib rpki-rov via StayRTR', coreStates, run.results, context);
        expect(result.compared).toBe(routes.count);
        expect(result.unexplained).toEqual([]);
      } finally {
        await stayrtr.stop();
        started.splice(started.indexOf(stayrtr), 1);
      }
    }, 180_000);

    it('rtrlib pfx_table (C harness, fed directly) agrees on every route, RFC-decided classes apart', () => {
      const run = runRtrlib(context.withoutDefault, routes, { repetitions: 1 });
      expect(run.vrps).toMatchObject({ added: context.withoutDefault.count, errors: 0 });
      const result = compare('rtrlib pfx_table (C harness)', coreStates, run.results, context);
      expect(result.unexplained).toEqual([]);
    }, 120_000);

    it('rpki-validator@2.14.7 (Promise API) agrees on every route, RFC-decided classes apart', async () => {
      const peer = await createRpkiValidator(
        Array.from({ length: context.vrps.count }, (_, i) => vrpRecord(context.vrps, i)),
      );
      const states = new Uint8Array(routes.count);
      try {
        expect(peer.size).toBe(context.vrps.count);
        for (let i = 0; i < routes.count; i++) {
          states[i] = await peer.stateAsync(formatRoute(routes, i), routeOrigin(routes, i));
        }
      } finally {
        peer.dispose();
      }
      const result = compare('rpki-validator@2.14.7', coreStates, states, context);
      expect(result.unexplained).toEqual([]);
    }, 180_000);
  });
});

// The classes above are conditions, not excuses: on hand-made VRPs that trigger each of them
// the peers' differences land in the right class, and a difference no class covers is reported.
describe.skipIf(missing(peerCommand('cc'), librtrDev, npmPackage('rpki-validator')) !== undefined)(
  'differential: the RFC-decided classes on hand-made cases',
  () => {
    const records = [
      { prefix: '0.0.0.0/0', maxLength: 32, asn: 64500 },
      { prefix: '192.0.2.0/24', maxLength: 24, asn: 0 },
      { prefix: '2001:db8::/32', maxLength: 48, asn: 64501 },
      { prefix: '::/0', maxLength: 0, asn: 64502 },
    ];
    const vrps = vrpSetFromList(records);
    const routes = routeSetFromList([
      { prefix: '198.51.100.0/24', origin: 64500 }, // core Valid through the /0 VRP
      { prefix: '192.0.2.0/24', origin: 'none' }, // core Invalid: AS_SET under an AS0 VRP
      { prefix: '2001:db8::/32', origin: 64501 }, // Valid everywhere
      { prefix: '2001:db8:1::/64', origin: 64501 }, // Invalid (length) everywhere
      { prefix: '2001:db9::/32', origin: 64501 }, // core Invalid: only ::/0 covers it
    ]);
    const context: Context = { routes, vrps, withoutDefault: withoutDefaultVrps(vrps).rest };
    const table = new VrpTable();
    for (const r of records) table.add(r);
    const coreStates = Uint8Array.from({ length: routes.count }, (_, i) =>
      toPeerState(table.validateCode(formatRoute(routes, i), routeOrigin(routes, i))),
    );

    it('core gives the RFC answers', () => {
      const { Valid, Invalid } = PeerState;
      expect(Array.from(coreStates)).toEqual([Valid, Invalid, Valid, Invalid, Invalid]);
    });

    it('rpki-validator: the AS0 and /0 classes explain its differences', async () => {
      const peer = await createRpkiValidator(records);
      const states = new Uint8Array(routes.count);
      try {
        for (let i = 0; i < routes.count; i++) {
          states[i] = await peer.stateAsync(formatRoute(routes, i), routeOrigin(routes, i));
        }
      } finally {
        peer.dispose();
      }
      const result = compare('rpki-validator@2.14.7', coreStates, states, context);
      expect(result.unexplained).toEqual([]);
      expect(result.classes).toEqual({ 'as0-vrp-matches-origin-none-or-0': 1, 'default-vrp-ignored': 2 });
    });

    it('rtrlib: the withheld /0 class explains its differences', () => {
      const run = runRtrlib(context.withoutDefault, routes, { repetitions: 1 });
      const result = compare('rtrlib pfx_table (C harness)', coreStates, run.results, context);
      expect(result.unexplained).toEqual([]);
      expect(result.classes).toEqual({ 'default-vrp-withheld-from-rtrlib': 2 });
    });

    it('a difference outside the classes is reported', () => {
      const states = coreStates.slice();
      states[2] = PeerState.NotFound; // 2001:db8::/32 AS64501, Valid by a plain VRP
      const result = compare('rpki-validator@2.14.7', coreStates, states, context);
      expect(result.unexplained).toHaveLength(1);
      expect(result.unexplained[0]).toContain('2001:db8::/32 origin 64501');
    });
  },
);
