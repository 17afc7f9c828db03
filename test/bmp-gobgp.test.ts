// The BMP listener against Debian's GoBGP. Two gobgpd on loopback:
//   A (AS 4200000001) holds the routes added with `gobgp global rib add/del` and sends
//     its Loc-RIB over BMP;
//   B (AS 64512) peers with A (ADD-PATH receive, IPv4 + IPv6 unicast), rejects
//     198.51.100.0/24 by import policy, has a route of its own, and sends BMP with
//     route-monitoring-policy "all" (pre-policy, post-policy, Loc-RIB).
// After each step the listener's view must equal GoBGP's own RIBs: B's adj-in from A
// (pre-policy), B's paths from A in its global RIB (post-policy), B's and A's best paths
// (Loc-RIB), as (prefix, origin) multisets.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPrefix } from '../packages/monitor/src/bgp/format.js';
import { OriginKind, type Family } from '../packages/monitor/src/bgp/route.js';
import {
  BmpListener,
  PolicyStage,
  policyStageNames,
  type BmpPeer,
  type BmpRouter,
  type BmpRouteSink,
} from '../packages/monitor/src/feeds/bmp/index.js';
import { bmpServerConfig, Gobgpd, globalConfig, gobgpOrigin, type GobgpPath } from './support/gobgp.js';
import { missing, peerCommand } from './support/peers.js';

const skip = missing(peerCommand('gobgpd'), peerCommand('gobgp'));

const AS_A = 4200000001;
const AS_B = 64512;
const families = ['ipv4', 'ipv6'] as const;

const timers = `  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
    idle-hold-time-after-reset = 1
`;
const afiSafis = `  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;

/** Every route event as "+|- router peerAS stage prefix origin". */
class EventLog implements BmpRouteSink {
  readonly lines: string[] = [];
  routeAdded(
    peer: BmpPeer,
    stage: PolicyStage,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    _pathId: number,
    origin: number,
    kind: OriginKind,
  ): void {
    this.lines.push(
      `+ ${peer.router.id} ${peer.asn} ${policyStageNames[stage]} ${formatPrefix(family, w0, w1, w2, w3, length)} ${kind === 0 ? origin : kind}`,
    );
  }
  routeRemoved(
    peer: BmpPeer,
    stage: PolicyStage,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    _pathId: number,
    origin: number,
    kind: OriginKind,
  ): void {
    this.lines.push(
      `- ${peer.router.id} ${peer.asn} ${policyStageNames[stage]} ${formatPrefix(family, w0, w1, w2, w3, length)} ${kind === 0 ? origin : kind}`,
    );
  }
}

describe.skipIf(skip !== undefined)('BMP listener against GoBGP', { timeout: 60_000 }, () => {
  const events = new EventLog();
  let listener: BmpListener;
  let a: Gobgpd | undefined;
  let b: Gobgpd | undefined;

  beforeAll(async () => {
    listener = new BmpListener({ host: '127.0.0.1', port: 0, sink: events });
    const { port: bmpPort } = await listener.start();
    a = await Gobgpd.start(
      'a',
      (ports) => `${globalConfig(AS_A, '192.0.2.1', ports)}
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = ${AS_B}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "127.0.0.1"
  [neighbors.add-paths.config]
    send-max = 8
${timers}${afiSafis}
${bmpServerConfig(bmpPort, 'local-rib')}`,
    );
    const aPort = a.ports.bgp;
    b = await Gobgpd.start(
      'b',
      (ports) => `${globalConfig(AS_B, '192.0.2.2', ports)}
[global.apply-policy.config]
  import-policy-list = ["reject-test-net-2"]
  default-import-policy = "accept-route"
[[defined-sets.prefix-sets]]
  prefix-set-name = "test-net-2"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "198.51.100.0/24"
    masklength-range = "24..32"
[[policy-definitions]]
  name = "reject-test-net-2"
  [[policy-definitions.statements]]
    name = "reject"
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "test-net-2"
      match-set-options = "any"
    [policy-definitions.statements.actions]
      route-disposition = "reject-route"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = ${AS_A}
  [neighbors.transport.config]
    remote-port = ${aPort}
    local-address = "127.0.0.1"
  [neighbors.add-paths.config]
    receive = true
${timers}${afiSafis}
${bmpServerConfig(bmpPort, 'all')}`,
    );
    await b.cli('global', 'rib', 'add', '203.0.113.0/24', '-a', 'ipv4');
  }, 60_000);

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await listener?.stop();
  });

  /** The BMP router whose Loc-RIB peer (or, for B, whose peer A) has this AS. */
  function routerOf(localAs: number): BmpRouter | undefined {
    for (const router of listener.routers.values()) {
      for (const peer of router.peers.values()) {
        if (peer.type === 'loc-rib' && peer.asn === localAs) return router;
        if (localAs === AS_B && peer.type === 'global' && peer.asn === AS_A) return router;
      }
    }
    return undefined;
  }

  function listenerView(localAs: number, stage: PolicyStage): string[] {
    const router = routerOf(localAs);
    const out: string[] = [];
    for (const peer of router?.peers.values() ?? []) {
      const wanted =
        stage === PolicyStage.LocRib ? peer.type === 'loc-rib' : peer.type === 'global' && peer.asn === AS_A;
      if (!wanted) continue;
      for (const r of peer.routes(stage)) {
        const o =
          r.originKind === OriginKind.Set
            ? 'none'
            : String(r.originKind === OriginKind.Local ? peer.asn : r.origin);
        out.push(`${r.prefix} ${o}`);
      }
    }
    return out.sort();
  }

  async function rib(daemon: Gobgpd, args: string[]): Promise<Record<string, GobgpPath[]>> {
    try {
      return await daemon.json<Record<string, GobgpPath[]>>(...args);
    } catch (error) {
      // gobgp answers "session is not established" for the adj-in of a disabled neighbor.
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      if (`${stdout ?? ''}${stderr ?? ''}`.includes('not established')) return {};
      throw error;
    }
  }

  async function gobgpView(stage: PolicyStage, daemon: Gobgpd, localAs: number): Promise<string[]> {
    const out: string[] = [];
    for (const family of families) {
      const args =
        stage === PolicyStage.PrePolicy
          ? ['neighbor', '127.0.0.1', 'adj-in', '-a', family]
          : ['global', 'rib', '-a', family];
      for (const paths of Object.values(await rib(daemon, args))) {
        for (const path of paths) {
          if (stage === PolicyStage.PostPolicy && path['neighbor-ip'] !== '127.0.0.1') continue;
          if (stage === PolicyStage.LocRib && path.best !== true) continue;
          out.push(`${path.nlri.prefix} ${gobgpOrigin(path, localAs)}`);
        }
      }
    }
    return out.sort();
  }

  type View = Record<'bPre' | 'bPost' | 'bLocRib' | 'aLocRib', string[]>;

  async function expected(): Promise<View> {
    return {
      bPre: await gobgpView(PolicyStage.PrePolicy, b!, AS_B),
      bPost: await gobgpView(PolicyStage.PostPolicy, b!, AS_B),
      bLocRib: await gobgpView(PolicyStage.LocRib, b!, AS_B),
      aLocRib: await gobgpView(PolicyStage.LocRib, a!, AS_A),
    };
  }

  function actual(): View {
    return {
      bPre: listenerView(AS_B, PolicyStage.PrePolicy),
      bPost: listenerView(AS_B, PolicyStage.PostPolicy),
      bLocRib: listenerView(AS_B, PolicyStage.LocRib),
      aLocRib: listenerView(AS_A, PolicyStage.LocRib),
    };
  }

  /** Waits for GoBGP and the listener to settle on the same view, then returns both. */
  async function converge(check: (view: View) => boolean): Promise<{ want: View; got: View }> {
    let want = await expected();
    let got = actual();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (check(want) && JSON.stringify(want) === JSON.stringify(got)) break;
      await new Promise((r) => setTimeout(r, 100));
      want = await expected();
      got = actual();
    }
    return { want, got };
  }

  function peerEvent(name: 'peerUp' | 'peerDown', asn: number): Promise<BmpPeer> {
    return new Promise((resolve) => {
      const listen = (peer: BmpPeer): void => {
        if (peer.asn !== asn) return;
        listener.off(name, listen);
        resolve(peer);
      };
      listener.on(name, listen);
    });
  }

  const add = (prefix: string, family: string, ...rest: string[]): Promise<string> =>
    a!.cli('global', 'rib', 'add', prefix, '-a', family, ...rest);

  it('sees pre-policy, post-policy and Loc-RIB exactly as GoBGP holds them', async () => {
    await add('192.0.2.0/24', 'ipv4', 'aspath', '4200000009,64496', 'nexthop', '10.0.0.1');
    await add('198.51.100.0/24', 'ipv4', 'nexthop', '10.0.0.1');
    await add('2001:db8::/32', 'ipv6', 'aspath', '64497 {64498,64499}', 'nexthop', '2001:db8::1');
    await add('2001:db8:1::/48', 'ipv6', 'aspath', '64510', 'nexthop', '2001:db8::1');
    const { want, got } = await converge(
      (v) => v.bPre.length === 4 && v.aLocRib.length === 4 && v.bLocRib.length === 4,
    );
    expect(got).toEqual(want);
    // The step did what it meant to: the policy shows between pre- and post-policy.
    expect(want.bPre).toEqual([
      '192.0.2.0/24 64496',
      '198.51.100.0/24 4200000001',
      '2001:db8:1::/48 64510',
      '2001:db8::/32 none',
    ]);
    expect(want.bPost).toEqual(['192.0.2.0/24 64496', '2001:db8:1::/48 64510', '2001:db8::/32 none']);
    expect(want.bLocRib).toContain('203.0.113.0/24 64512');
    // ADD-PATH is negotiated between A and B: pre-policy routes carry GoBGP's path ids.
    const peerA = [...(routerOf(AS_B)?.peers.values() ?? [])].find((p) => p.type === 'global')!;
    expect([...peerA.routes(PolicyStage.PrePolicy)].every((r) => r.pathId > 0)).toBe(true);
    expect(peerA.up).toBe(true);
    expect(listener.routers.size).toBe(2);
  });

  it('follows a changed origin and a withdrawal', async () => {
    await add('192.0.2.0/24', 'ipv4', 'aspath', '64511', 'nexthop', '10.0.0.1');
    await a!.cli('global', 'rib', 'del', '2001:db8:1::/48', '-a', 'ipv6');
    const { want, got } = await converge(
      (v) => v.bPre.includes('192.0.2.0/24 64511') && !v.bPre.some((l) => l.startsWith('2001:db8:1::/48')),
    );
    expect(got).toEqual(want);
    expect(want.bPost).toEqual(['192.0.2.0/24 64511', '2001:db8::/32 none']);
    const b = routerOf(AS_B)!.id;
    expect(events.lines).toContain(`- ${b} ${AS_A} post-policy 192.0.2.0/24 64496`);
    expect(events.lines).toContain(`+ ${b} ${AS_A} post-policy 192.0.2.0/24 64511`);
  });

  it('removes the peer’s routes on Peer Down and restores them on Peer Up', async () => {
    // A reports its side of the session too (its peer B, AS 64512): wait for B's report of A.
    const down = peerEvent('peerDown', AS_A);
    await b!.cli('neighbor', '127.0.0.1', 'disable');
    const peer = await down;
    expect([peer.router.id, peer.address, peer.up]).toEqual([routerOf(AS_B)!.id, '127.0.0.1', false]);
    let { want, got } = await converge((v) => v.bPre.length === 0 && v.bLocRib.length === 1);
    expect(got).toEqual(want);
    expect(got.bLocRib).toEqual(['203.0.113.0/24 64512']);
    expect(got.bPost).toEqual([]);

    const up = peerEvent('peerUp', AS_A);
    await b!.cli('neighbor', '127.0.0.1', 'enable');
    await up;
    ({ want, got } = await converge((v) => v.bPre.length === 3 && v.bLocRib.length === 3));
    expect(got).toEqual(want);
  });

  it('removes a router’s routes when its session closes, and keeps the other router', async () => {
    const bRouter = routerOf(AS_B)!;
    const gone = once(listener, 'routerDown') as Promise<[BmpRouter]>;
    await b!.stop();
    b = undefined;
    const [router] = await gone;
    expect(router.id).toBe(bRouter.id);
    const removed = events.lines.filter((l) => l.startsWith(`- ${bRouter.id} `));
    const added = events.lines.filter((l) => l.startsWith(`+ ${bRouter.id} `));
    expect(removed.length).toBeGreaterThan(0);
    // Every route ever added for B was removed again (adds and removes balance per route).
    expect(removed.length).toBe(added.length);
    expect([...listener.routers.values()].map((r) => r.id)).toEqual([routerOf(AS_A)!.id]);
    expect(listenerView(AS_A, PolicyStage.LocRib)).toEqual(await gobgpView(PolicyStage.LocRib, a!, AS_A));
  });
});
