// Byte builders for hand-made BMP messages in tests (not part of the build).
import { formatPrefix } from '../../../bgp/format.js';
import type { Family, OriginKind } from '../../../bgp/route.js';
import { addressBytes, u16, u32, type Bytes } from '../../../bgp/testing/build.js';
import type { BmpPeer, BmpRouteSink, PolicyStage } from '../types.js';
import { policyStageNames } from '../types.js';

export function bmp(type: number, body: Bytes, version = 3): Bytes {
  return [version, ...u32(6 + body.length), type, ...body];
}

export interface PeerSpec {
  type?: number;
  flags?: number;
  /** 8 bytes of peer distinguisher. */
  distinguisher?: Bytes;
  address?: string;
  asn?: number;
  bgpId?: string;
}

export const PRE = 0;
export const POST = 0x40;
export const V6 = 0x80;
export const AS2 = 0x20;
export const OUT = 0x10;

export function perPeer(spec: PeerSpec = {}): Bytes {
  const address = spec.address ?? '192.0.2.1';
  const v6 = address.includes(':');
  const addr = v6 ? addressBytes(address) : [...Array<number>(12).fill(0), ...addressBytes(address)];
  return [
    spec.type ?? 0,
    (spec.flags ?? 0) | (v6 ? V6 : 0),
    ...(spec.distinguisher ?? Array<number>(8).fill(0)),
    ...addr,
    ...u32(spec.asn ?? 64500),
    ...addressBytes(spec.bgpId ?? '192.0.2.1'),
    ...u32(1_700_000_000),
    ...u32(0),
  ];
}

export const routeMonitoring = (peer: PeerSpec, bgpMessage: Bytes): Bytes =>
  bmp(0, [...perPeer(peer), ...bgpMessage]);

export interface PeerUpSpec {
  localAddress?: string;
  localPort?: number;
  remotePort?: number;
  sent: Bytes;
  received: Bytes;
  information?: string[];
}

export function peerUp(peer: PeerSpec, spec: PeerUpSpec): Bytes {
  const local = spec.localAddress ?? '192.0.2.254';
  const localBytes = local.includes(':')
    ? addressBytes(local)
    : [...Array<number>(12).fill(0), ...addressBytes(local)];
  const tlvs = (spec.information ?? []).flatMap((s) => {
    const b = [...Buffer.from(s)];
    return [...u16(0), ...u16(b.length), ...b];
  });
  return bmp(3, [
    ...perPeer(peer),
    ...localBytes,
    ...u16(spec.localPort ?? 179),
    ...u16(spec.remotePort ?? 40000),
    ...spec.sent,
    ...spec.received,
    ...tlvs,
  ]);
}

export const peerDown = (peer: PeerSpec, reason: number, data: Bytes = []): Bytes =>
  bmp(2, [...perPeer(peer), reason, ...data]);

function tlv(type: number, value: Bytes): Bytes {
  return [...u16(type), ...u16(value.length), ...value];
}

export function initiation(sysName?: string, sysDescr?: string, strings: string[] = []): Bytes {
  return bmp(4, [
    ...(sysDescr === undefined ? [] : tlv(1, [...Buffer.from(sysDescr)])),
    ...(sysName === undefined ? [] : tlv(2, [...Buffer.from(sysName)])),
    ...strings.flatMap((s) => tlv(0, [...Buffer.from(s)])),
  ]);
}

export const termination = (reason: number, text?: string): Bytes =>
  bmp(5, [...(text === undefined ? [] : tlv(0, [...Buffer.from(text)])), ...tlv(1, u16(reason))]);

/** Statistics: [type, value bytes] pairs. */
export function statistics(peer: PeerSpec, stats: Array<[number, Bytes]>): Bytes {
  return bmp(1, [
    ...perPeer(peer),
    ...u32(stats.length),
    ...stats.flatMap(([type, value]) => tlv(type, value)),
  ]);
}

const kinds = ['', 'none', 'local'];

/** Records route changes as text lines: "+ router peer stage prefix [id] origin". */
export class BmpCollectSink implements BmpRouteSink {
  readonly events: string[] = [];
  routeAdded(
    peer: BmpPeer,
    stage: PolicyStage,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
    origin: number,
    originKind: OriginKind,
  ): void {
    this.events.push(
      this.#line('+', peer, stage, family, [w0, w1, w2, w3], length, pathId, origin, originKind),
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
    pathId: number,
    origin: number,
    originKind: OriginKind,
  ): void {
    this.events.push(
      this.#line('-', peer, stage, family, [w0, w1, w2, w3], length, pathId, origin, originKind),
    );
  }
  #line(
    sign: string,
    peer: BmpPeer,
    stage: PolicyStage,
    family: Family,
    w: number[],
    length: number,
    pathId: number,
    origin: number,
    kind: OriginKind,
  ): string {
    const id = pathId === 0 ? '' : ` id=${pathId}`;
    const o = kind === 0 ? String(origin) : kinds[kind];
    return `${sign} ${peer.address} ${policyStageNames[stage]} ${formatPrefix(family, w[0], w[1], w[2], w[3], length)}${id} ${o}`;
  }
}
