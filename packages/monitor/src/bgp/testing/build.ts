// Byte builders for hand-made BGP messages in tests (not part of the build). Each function
// returns plain byte arrays so that tests can splice, cut and corrupt them freely.

export type Bytes = number[];

export const u16 = (v: number): Bytes => [(v >>> 8) & 255, v & 255];
export const u32 = (v: number): Bytes => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

/** The 16 bytes of an IPv6 address in text form (full or with "::"); tests only. */
export function ipv6Bytes(text: string): Bytes {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups =
    tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8) throw new Error(`bad IPv6 address in test: ${text}`);
  return groups.flatMap((g) => u16(g));
}

export function ipv4Bytes(text: string): Bytes {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4) throw new Error(`bad IPv4 address in test: ${text}`);
  return parts;
}

export function addressBytes(text: string): Bytes {
  return text.includes(':') ? ipv6Bytes(text) : ipv4Bytes(text);
}

/** One NLRI entry: [path id,] length, the significant bytes of the prefix. */
export function prefix(text: string, pathId?: number): Bytes {
  const [address, length] = text.split('/');
  const bits = Number(length);
  const bytes = addressBytes(address).slice(0, (bits + 7) >> 3);
  return [...(pathId === undefined ? [] : u32(pathId)), bits, ...bytes];
}

export function nlri(prefixes: string[], pathIds?: number[]): Bytes {
  return prefixes.flatMap((p, i) => prefix(p, pathIds?.[i]));
}

/** A path attribute; the extended-length flag is set when the value needs it or `extended`. */
export function attribute(type: number, value: Bytes, flags = 0x40, extended = false): Bytes {
  if (value.length > 255 || extended) return [flags | 0x10, type, ...u16(value.length), ...value];
  return [flags, type, value.length, ...value];
}

export const SET = 1;
export const SEQUENCE = 2;
export const CONFED_SEQUENCE = 3;
export const CONFED_SET = 4;

export function pathValue(segments: Array<[number, number[]]>, asnSize: 2 | 4 = 4): Bytes {
  return segments.flatMap(([type, asns]) => [
    type,
    asns.length,
    ...asns.flatMap((a) => (asnSize === 4 ? u32(a) : u16(a))),
  ]);
}

export const origin = (value = 0): Bytes => attribute(1, [value]);
export const asPath = (segments: Array<[number, number[]]>, asnSize: 2 | 4 = 4): Bytes =>
  attribute(2, pathValue(segments, asnSize));
export const as4Path = (segments: Array<[number, number[]]>): Bytes =>
  attribute(17, pathValue(segments, 4), 0xc0);
export const nextHop = (address = '192.0.2.1'): Bytes => attribute(3, ipv4Bytes(address));
export const aggregator = (asn: number, asnSize: 2 | 4 = 2): Bytes =>
  attribute(7, [...(asnSize === 4 ? u32(asn) : u16(asn)), 192, 0, 2, 9], 0xc0);
export const as4Aggregator = (asn: number): Bytes => attribute(18, [...u32(asn), 192, 0, 2, 9], 0xc0);

export function mpReach(afi: number, safi: number, nextHopBytes: Bytes, nlriBytes: Bytes): Bytes {
  return attribute(14, [...u16(afi), safi, nextHopBytes.length, ...nextHopBytes, 0, ...nlriBytes], 0x80);
}

export function mpUnreach(afi: number, safi: number, nlriBytes: Bytes): Bytes {
  return attribute(15, [...u16(afi), safi, ...nlriBytes], 0x80);
}

export function header(type: number, body: Bytes): Bytes {
  return [...Array<number>(16).fill(0xff), ...u16(19 + body.length), type, ...body];
}

export interface UpdateParts {
  withdrawn?: Bytes;
  attributes?: Bytes;
  nlri?: Bytes;
}

export function updateBody(parts: UpdateParts): Bytes {
  const withdrawn = parts.withdrawn ?? [];
  const attributes = parts.attributes ?? [];
  return [
    ...u16(withdrawn.length),
    ...withdrawn,
    ...u16(attributes.length),
    ...attributes,
    ...(parts.nlri ?? []),
  ];
}

export const update = (parts: UpdateParts): Bytes => header(2, updateBody(parts));

export interface OpenParts {
  asn: number;
  bgpId?: string;
  holdTime?: number;
  /** Capabilities as [code, value bytes]. */
  capabilities?: Array<[number, Bytes]>;
  /** Encode the optional parameters in the RFC 9072 extended form. */
  extended?: boolean;
}

export const capFourOctetAs = (asn: number): [number, Bytes] => [65, u32(asn)];
export const capAddPath = (entries: Array<[number, number, number]>): [number, Bytes] => [
  69,
  entries.flatMap(([afi, safi, sendReceive]) => [...u16(afi), safi, sendReceive]),
];
export const capMultiprotocol = (afi: number, safi: number): [number, Bytes] => [1, [...u16(afi), 0, safi]];

export function open(parts: OpenParts): Bytes {
  const caps = (parts.capabilities ?? []).flatMap(([code, value]) => [code, value.length, ...value]);
  const myAs = parts.asn > 0xffff ? 23456 : parts.asn;
  const fixed = [4, ...u16(myAs), ...u16(parts.holdTime ?? 90), ...ipv4Bytes(parts.bgpId ?? '192.0.2.1')];
  if (parts.extended) {
    const params = [2, ...u16(caps.length), ...caps];
    return header(1, [...fixed, 255, 255, ...u16(params.length), ...params]);
  }
  const params = caps.length === 0 ? [] : [2, caps.length, ...caps];
  return header(1, [...fixed, params.length, ...params]);
}

export const keepalive = (): Bytes => header(4, []);
