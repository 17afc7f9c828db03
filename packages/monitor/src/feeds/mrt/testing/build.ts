// Byte builders for hand-made MRT records in tests (not part of the build).
import { formatPrefix } from '../../../bgp/format.js';
import type { Family, OriginKind } from '../../../bgp/route.js';
import { addressBytes, u16, u32, type Bytes } from '../../../bgp/testing/build.js';
import type { MrtPeer, MrtSink } from '../parser.js';

export function record(type: number, subtype: number, body: Bytes, timestamp = 1_700_000_000): Bytes {
  return [...u32(timestamp), ...u16(type), ...u16(subtype), ...u32(body.length), ...body];
}

export interface PeerSpec {
  address: string;
  asn: number;
  bgpId?: string;
  /** Encode the AS in 2 bytes (peer type bit 1 clear). */
  as2?: boolean;
}

export function peerIndexTable(peers: PeerSpec[], view = 'rovkit'): Bytes {
  const name = [...Buffer.from(view)];
  const entries = peers.flatMap((p) => {
    const v6 = p.address.includes(':');
    const type = (v6 ? 1 : 0) | (p.as2 ? 0 : 2);
    return [
      type,
      ...addressBytes(p.bgpId ?? '192.0.2.254'),
      ...addressBytes(p.address),
      ...(p.as2 ? u16(p.asn) : u32(p.asn)),
    ];
  });
  return record(13, 1, [192, 0, 2, 1, ...u16(name.length), ...name, ...u16(peers.length), ...entries]);
}

export interface RibEntrySpec {
  peer: number;
  attributes: Bytes;
  pathId?: number;
}

/** A TABLE_DUMP_V2 RIB record; subtype 2/4 plain, 8/10 ADD-PATH (entries need pathId). */
export function rib(subtype: number, prefixText: string, entries: RibEntrySpec[], sequence = 0): Bytes {
  const [address, length] = prefixText.split('/');
  const bits = Number(length);
  const prefixBytes = addressBytes(address).slice(0, (bits + 7) >> 3);
  const addPath = subtype >= 8;
  const body = [
    ...u32(sequence),
    bits,
    ...prefixBytes,
    ...u16(entries.length),
    ...entries.flatMap((e) => [
      ...u16(e.peer),
      ...u32(1_600_000_000),
      ...(addPath ? u32(e.pathId ?? 0) : []),
      ...u16(e.attributes.length),
      ...e.attributes,
    ]),
  ];
  return record(13, subtype, body);
}

export interface Bgp4mpSpec {
  peerAs: number;
  localAs?: number;
  peer: string;
  local?: string;
  message: Bytes;
  /** BGP4MP_ET: this many microseconds lead the body. */
  microseconds?: number;
}

const AS4_SUBTYPES = new Set([4, 5, 7, 9, 11]);

export function bgp4mp(subtype: number, spec: Bgp4mpSpec): Bytes {
  const as4 = AS4_SUBTYPES.has(subtype);
  const asn = (a: number): Bytes => (as4 ? u32(a) : u16(a));
  const v6 = spec.peer.includes(':');
  const local = spec.local ?? (v6 ? '2001:db8::ffff' : '192.0.2.254');
  const body = [
    ...asn(spec.peerAs),
    ...asn(spec.localAs ?? 64511),
    ...u16(0),
    ...u16(v6 ? 2 : 1),
    ...addressBytes(spec.peer),
    ...addressBytes(local),
    ...spec.message,
  ];
  if (spec.microseconds === undefined) return record(16, subtype, body);
  return record(17, subtype, [...u32(spec.microseconds), ...body]);
}

export function stateChange(peerAs: number, peer: string): Bytes {
  return record(16, 5, [
    ...u32(peerAs),
    ...u32(64511),
    ...u16(0),
    ...u16(1),
    ...addressBytes(peer),
    192,
    0,
    2,
    254,
    0,
    1,
    0,
    6,
  ]);
}

/** A legacy TABLE_DUMP record (subtype 1 IPv4, 2 IPv6); `prefixAddress` is written in full. */
export function tableDump(prefixText: string, peer: string, peerAs: number, attributes: Bytes): Bytes {
  const [address, length] = prefixText.split('/');
  const v6 = address.includes(':');
  const body = [
    ...u16(0),
    ...u16(1),
    ...addressBytes(address),
    Number(length),
    1,
    ...u32(1_600_000_000),
    ...addressBytes(peer),
    ...u16(peerAs),
    ...u16(attributes.length),
    ...attributes,
  ];
  return record(12, v6 ? 2 : 1, body);
}

const kinds = ['', 'none', 'local'];

/** Records what an MRT sink receives as text lines. */
export class MrtCollectSink implements MrtSink {
  readonly events: string[] = [];
  announce(
    peer: MrtPeer,
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
    const id = pathId === 0 ? '' : ` id=${pathId}`;
    const o = originKind === 0 ? String(origin) : kinds[originKind];
    this.events.push(
      `A ${peer.address} AS${peer.asn} ${formatPrefix(family, w0, w1, w2, w3, length)}${id} ${o}`,
    );
  }
  withdraw(
    peer: MrtPeer,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
  ): void {
    const id = pathId === 0 ? '' : ` id=${pathId}`;
    this.events.push(`W ${peer.address} AS${peer.asn} ${formatPrefix(family, w0, w1, w2, w3, length)}${id}`);
  }
  endOfRib(peer: MrtPeer, afi: number, safi: number): void {
    this.events.push(`EOR ${peer.address} ${afi}/${safi}`);
  }
}
