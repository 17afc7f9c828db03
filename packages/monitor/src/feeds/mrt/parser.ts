// MRT (RFC 6396) record parsing: TABLE_DUMP_V2 with the ADD-PATH subtypes of RFC 8050,
// BGP4MP / BGP4MP_ET messages, and the legacy TABLE_DUMP. Bytes are pushed in chunks of
// any size; whole records are parsed in place, and only a record split across chunks is
// copied (into one reused buffer), so memory is bounded by the largest record.
//
// Path ids: the record's subtype says whether its NLRI carry them (RFC 8050 *_ADDPATH
// subtypes, RFC 6396 otherwise); nothing is guessed, so a record that does not parse as
// its subtype says is malformed (counted, skipped), never re-read another way.
import { BgpError } from '../../bgp/errors.js';
import { formatAddress, formatIPv4 } from '../../bgp/format.js';
import type { Family, OriginKind, UpdateSink } from '../../bgp/route.js';
import { readPrefixV4, readPrefixV6, UpdateParser } from '../../bgp/update.js';
import { MrtError } from './errors.js';

export const MrtType = { TableDump: 12, TableDumpV2: 13, Bgp4mp: 16, Bgp4mpEt: 17 } as const;

export const TableDumpV2Subtype = {
  PeerIndexTable: 1,
  RibIpv4Unicast: 2,
  RibIpv4Multicast: 3,
  RibIpv6Unicast: 4,
  RibIpv6Multicast: 5,
  RibGeneric: 6,
  RibIpv4UnicastAddPath: 8,
  RibIpv4MulticastAddPath: 9,
  RibIpv6UnicastAddPath: 10,
  RibIpv6MulticastAddPath: 11,
  RibGenericAddPath: 12,
} as const;

export const Bgp4mpSubtype = {
  StateChange: 0,
  Message: 1,
  MessageAs4: 4,
  StateChangeAs4: 5,
  MessageLocal: 6,
  MessageAs4Local: 7,
  MessageAddPath: 8,
  MessageAs4AddPath: 9,
  MessageLocalAddPath: 10,
  MessageAs4LocalAddPath: 11,
} as const;

const HEADER_LENGTH = 12;
/** Default limit on a record's length; real RIB records for a prefix seen by 1000 peers are ~100 kB. */
export const DEFAULT_MAX_RECORD_LENGTH = 16 * 1024 * 1024;
/** Malformed records kept in `errors` (all are counted). */
const MAX_KEPT_ERRORS = 20;

/** A BGP peer of the collector: from the PEER_INDEX_TABLE, or from BGP4MP / TABLE_DUMP headers. */
export interface MrtPeer {
  readonly family: Family;
  readonly address: string;
  readonly asn: number;
  /** BGP Identifier in dotted form; "0.0.0.0" where the record does not carry it (BGP4MP). */
  readonly bgpId: string;
}

/**
 * Receives the routes of an MRT input. RIB records only announce; BGP4MP updates
 * announce and withdraw. Arguments other than `peer` are valid only during the call;
 * `peer` objects are shared and stable for the whole input.
 */
export interface MrtSink {
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
  ): void;
  withdraw(
    peer: MrtPeer,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
  ): void;
  endOfRib(peer: MrtPeer, afi: number, safi: number): void;
}

export interface MrtStats {
  /** Complete records read. */
  records: number;
  /** Bytes of complete records read (the offset of the next record). */
  bytes: number;
  peerIndexTables: number;
  ribRecords: number;
  ribEntries: number;
  /** BGP4MP messages that were UPDATEs. */
  updates: number;
  /** BGP4MP messages of other types (OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH). */
  otherMessages: number;
  /** BGP4MP(_ET) STATE_CHANGE(_AS4) records, skipped. */
  stateChanges: number;
  /** Records of types and subtypes that carry no unicast routes here, skipped. */
  skipped: number;
  /** Records that did not parse, skipped. */
  malformed: number;
  announced: number;
  withdrawn: number;
  endOfRib: number;
}

export interface MrtParserOptions {
  /** Records longer than this stop the input with MRT_ERR_TOO_LARGE (default 16 MiB). */
  maxRecordLength?: number;
  /** Throw on the first malformed record instead of counting and skipping it. */
  strict?: boolean;
  /** Named in every error (the reader passes the path it reads). */
  file?: string;
}

/** Forwards an UpdateParser's routes to the MRT sink with the current BGP4MP peer. */
class PeerForwarder implements UpdateSink {
  peer!: MrtPeer;
  constructor(
    private readonly sink: MrtSink,
    private readonly stats: MrtStats,
  ) {}
  announce(
    f: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    l: number,
    id: number,
    o: number,
    k: OriginKind,
  ): void {
    this.stats.announced++;
    this.sink.announce(this.peer, f, w0, w1, w2, w3, l, id, o, k);
  }
  withdraw(f: Family, w0: number, w1: number, w2: number, w3: number, l: number, id: number): void {
    this.stats.withdrawn++;
    this.sink.withdraw(this.peer, f, w0, w1, w2, w3, l, id);
  }
  endOfRib(afi: number, safi: number): void {
    this.stats.endOfRib++;
    this.sink.endOfRib(this.peer, afi, safi);
  }
}

export class MrtParser {
  readonly stats: MrtStats = {
    records: 0,
    bytes: 0,
    peerIndexTables: 0,
    ribRecords: 0,
    ribEntries: 0,
    updates: 0,
    otherMessages: 0,
    stateChanges: 0,
    skipped: 0,
    malformed: 0,
    announced: 0,
    withdrawn: 0,
    endOfRib: 0,
  };
  /** The first malformed records (MRT_ERR_MALFORMED, with the BgpError as cause where there is one). */
  readonly errors: MrtError[] = [];
  /** Timestamp (seconds) of the record being parsed, readable from the sink. */
  timestamp = 0;

  readonly #sink: MrtSink;
  readonly #maxRecordLength: number;
  readonly #strict: boolean;
  readonly #file: string | undefined;
  readonly #forwarder: PeerForwarder;
  readonly #updates: UpdateParser;
  #peerTable: MrtPeer[] | undefined;
  readonly #peers = new Map<string, MrtPeer>();

  // A record split across chunks.
  #pending = new Uint8Array(4096);
  #pendingLength = 0;
  #pendingTotal = 0;
  #fatal: MrtError | undefined;

  // RIB entries of one record, checked before any is emitted.
  #entryPeer = new Uint16Array(256);
  #entryPathId = new Uint32Array(256);
  #entryOrigin = new Uint32Array(256);
  #entryKind = new Uint8Array(256);
  readonly #words = new Uint32Array(4);

  constructor(sink: MrtSink, options: MrtParserOptions = {}) {
    this.#sink = sink;
    this.#maxRecordLength = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
    this.#strict = options.strict ?? false;
    this.#file = options.file;
    this.#forwarder = new PeerForwarder(sink, this.stats);
    this.#updates = new UpdateParser(this.#forwarder);
  }

  /** The peers of the last PEER_INDEX_TABLE. */
  get peerTable(): readonly MrtPeer[] {
    return this.#peerTable ?? [];
  }

  /** Parses the complete records in `chunk` (after any left over from earlier chunks). */
  push(chunk: Uint8Array): void {
    if (this.#fatal !== undefined) throw this.#fatal;
    let p = 0;
    const n = chunk.length;
    if (this.#pendingLength > 0) {
      p = this.#fillPending(chunk);
      if (this.#pendingLength > 0) return;
    }
    while (n - p >= HEADER_LENGTH) {
      const total = this.#recordTotal(chunk, p);
      if (n - p < total) break;
      this.#record(chunk, p, p + total);
      p += total;
    }
    if (p < n) this.#startPending(chunk, p);
  }

  /**
   * Ends the input. Returns MRT_ERR_TRUNCATED when it stops inside a record (the record's
   * offset and how much of it arrived are in the error), else undefined.
   */
  end(): MrtError | undefined {
    if (this.#pendingLength === 0) return undefined;
    const have = this.#pendingLength;
    const total = this.#pendingTotal;
    this.#pendingLength = 0;
    if (have < HEADER_LENGTH) {
      return new MrtError(
        'MRT_ERR_TRUNCATED',
        this.stats.bytes,
        `input ends inside a record header (${have} of 12 bytes)`,
        undefined,
        { file: this.#file },
      );
    }
    const record = {
      type: (this.#pending[4] << 8) | this.#pending[5],
      subtype: (this.#pending[6] << 8) | this.#pending[7],
    };
    return new MrtError(
      'MRT_ERR_TRUNCATED',
      this.stats.bytes,
      `input ends inside a record of ${total} bytes, ${have} of them present`,
      record,
      { file: this.#file },
    );
  }

  /** Header + body length of the record at p (its header is complete); checks the limit. */
  #recordTotal(buf: Uint8Array, p: number): number {
    const length = ((buf[p + 8] << 24) | (buf[p + 9] << 16) | (buf[p + 10] << 8) | buf[p + 11]) >>> 0;
    if (length > this.#maxRecordLength) {
      const record = { type: (buf[p + 4] << 8) | buf[p + 5], subtype: (buf[p + 6] << 8) | buf[p + 7] };
      this.#fatal = new MrtError(
        'MRT_ERR_TOO_LARGE',
        this.stats.bytes,
        `record length ${length} exceeds the limit of ${this.#maxRecordLength} bytes (--mrt-max-record)`,
        record,
        { file: this.#file },
      );
      throw this.#fatal;
    }
    return HEADER_LENGTH + length;
  }

  #startPending(chunk: Uint8Array, p: number): void {
    this.#pendingLength = 0;
    this.#pendingTotal = HEADER_LENGTH;
    this.#fillPending(chunk.subarray(p));
  }

  /** Adds bytes of `chunk` to the pending record; parses it when complete. Returns bytes used. */
  #fillPending(chunk: Uint8Array): number {
    let p = 0;
    if (this.#pendingLength < HEADER_LENGTH) {
      const take = Math.min(HEADER_LENGTH - this.#pendingLength, chunk.length);
      this.#pending.set(chunk.subarray(0, take), this.#pendingLength);
      this.#pendingLength += take;
      p = take;
      if (this.#pendingLength < HEADER_LENGTH) return p;
      const total = this.#recordTotal(this.#pending, 0);
      if (this.#pending.length < total) {
        // Doubling, but never past the longest record allowed.
        const bigger = new Uint8Array(
          Math.min(HEADER_LENGTH + this.#maxRecordLength, Math.max(total, this.#pending.length * 2)),
        );
        bigger.set(this.#pending.subarray(0, HEADER_LENGTH));
        this.#pending = bigger;
      }
      this.#pendingTotal = total;
    }
    const take = Math.min(this.#pendingTotal - this.#pendingLength, chunk.length - p);
    this.#pending.set(chunk.subarray(p, p + take), this.#pendingLength);
    this.#pendingLength += take;
    p += take;
    if (this.#pendingLength === this.#pendingTotal) {
      this.#pendingLength = 0;
      this.#record(this.#pending, 0, this.#pendingTotal);
    }
    return p;
  }

  #record(buf: Uint8Array, start: number, end: number): void {
    const type = (buf[start + 4] << 8) | buf[start + 5];
    const subtype = (buf[start + 6] << 8) | buf[start + 7];
    this.timestamp =
      ((buf[start] << 24) | (buf[start + 1] << 16) | (buf[start + 2] << 8) | buf[start + 3]) >>> 0;
    const body = start + HEADER_LENGTH;
    try {
      switch (type) {
        case MrtType.TableDumpV2:
          this.#tableDumpV2(subtype, buf, body, end);
          break;
        case MrtType.Bgp4mp:
          this.#bgp4mp(subtype, buf, body, end);
          break;
        case MrtType.Bgp4mpEt:
          // Extended timestamp: 4 bytes of microseconds lead the body.
          if (end - body < 4)
            throw new RecordError(`BGP4MP_ET record of ${end - body} bytes has no microseconds field`);
          this.#bgp4mp(subtype, buf, body + 4, end);
          break;
        case MrtType.TableDump:
          this.#tableDump(subtype, buf, body, end);
          break;
        default:
          this.stats.skipped++;
      }
    } catch (error) {
      if (!(error instanceof RecordError || error instanceof BgpError)) throw error;
      const malformed = new MrtError(
        'MRT_ERR_MALFORMED',
        this.stats.bytes,
        error.message,
        { type, subtype },
        { cause: error, file: this.#file },
      );
      this.stats.malformed++;
      if (this.errors.length < MAX_KEPT_ERRORS) this.errors.push(malformed);
      if (this.#strict) {
        this.#fatal = malformed;
        this.stats.records++;
        this.stats.bytes += end - start;
        throw malformed;
      }
    }
    this.stats.records++;
    this.stats.bytes += end - start;
  }

  //------------ TABLE_DUMP_V2 -------------------------------------------------------------

  #tableDumpV2(subtype: number, buf: Uint8Array, p: number, end: number): void {
    switch (subtype) {
      case TableDumpV2Subtype.PeerIndexTable:
        this.#peerIndexTable(buf, p, end);
        return;
      case TableDumpV2Subtype.RibIpv4Unicast:
        this.#rib(buf, p, end, 4, false);
        return;
      case TableDumpV2Subtype.RibIpv6Unicast:
        this.#rib(buf, p, end, 6, false);
        return;
      case TableDumpV2Subtype.RibIpv4UnicastAddPath:
        this.#rib(buf, p, end, 4, true);
        return;
      case TableDumpV2Subtype.RibIpv6UnicastAddPath:
        this.#rib(buf, p, end, 6, true);
        return;
      default:
        this.stats.skipped++;
    }
  }

  /** Collector BGP ID (4), view name length (2) and name, peer count (2), then peer entries. */
  #peerIndexTable(buf: Uint8Array, p: number, end: number): void {
    need(p, end, 6, 'PEER_INDEX_TABLE header');
    const viewLength = (buf[p + 4] << 8) | buf[p + 5];
    p += 6;
    need(p, end, viewLength + 2, 'PEER_INDEX_TABLE view name and peer count');
    p += viewLength;
    const count = (buf[p] << 8) | buf[p + 1];
    p += 2;
    const peers: MrtPeer[] = [];
    for (let i = 0; i < count; i++) {
      need(p, end, 1, `peer entry ${i}`);
      const peerType = buf[p];
      const v6 = (peerType & 1) !== 0;
      const asnSize = (peerType & 2) !== 0 ? 4 : 2;
      const size = 1 + 4 + (v6 ? 16 : 4) + asnSize;
      need(p, end, size, `peer entry ${i}`);
      const bgpId = readU32(buf, p + 1);
      const address = readAddress(buf, p + 5, v6 ? 6 : 4);
      const a = p + 5 + (v6 ? 16 : 4);
      const asn = asnSize === 4 ? readU32(buf, a) : (buf[a] << 8) | buf[a + 1];
      peers.push({ family: v6 ? 6 : 4, address, asn, bgpId: formatIPv4(bgpId) });
      p += size;
    }
    if (p !== end) throw new RecordError(`${end - p} bytes after the last of ${count} peer entries`);
    this.#peerTable = peers;
    this.stats.peerIndexTables++;
  }

  /**
   * RIB_IPV4/IPV6_UNICAST(_ADDPATH): sequence (4), prefix length (1), prefix, entry count
   * (2), entries of peer index (2), originated time (4), [path id (4),] attribute length
   * (2), attributes. All entries are checked before any route is emitted.
   */
  #rib(buf: Uint8Array, p: number, end: number, family: Family, addPath: boolean): void {
    const peers = this.#peerTable;
    if (peers === undefined) throw new RecordError('RIB record before any PEER_INDEX_TABLE');
    need(p, end, 5, 'RIB header');
    const length = buf[p + 4];
    const max = family === 4 ? 32 : 128;
    if (length > max) throw new RecordError(`prefix length ${length} exceeds ${max}`);
    const bytes = (length + 7) >> 3;
    p += 5;
    need(p, end, bytes + 2, `a /${length} prefix and the entry count`);
    const words = this.#words;
    if (family === 4) {
      words[0] = readPrefixV4(buf, p, length);
      words[1] = words[2] = words[3] = 0;
    } else {
      readPrefixV6(buf, p, length, words);
    }
    p += bytes;
    const count = (buf[p] << 8) | buf[p + 1];
    p += 2;
    if (count > this.#entryPeer.length) this.#growEntries(count);
    const parser = this.#updates;
    parser.as4 = true; // RFC 6396 section 4.3.4: AS_PATH in TABLE_DUMP_V2 is always 4-byte.
    const head = addPath ? 12 : 8;
    for (let i = 0; i < count; i++) {
      need(p, end, head, `RIB entry ${i} of ${count}`);
      const index = (buf[p] << 8) | buf[p + 1];
      if (index >= peers.length) {
        throw new RecordError(`RIB entry ${i} names peer ${index}, the PEER_INDEX_TABLE has ${peers.length}`);
      }
      this.#entryPeer[i] = index;
      this.#entryPathId[i] = addPath ? readU32(buf, p + 6) : 0;
      const attributesLength = (buf[p + head - 2] << 8) | buf[p + head - 1];
      p += head;
      need(p, end, attributesLength, `attributes of RIB entry ${i}`);
      parser.parseAttributes(buf, p, p + attributesLength);
      this.#entryOrigin[i] = parser.origin;
      this.#entryKind[i] = parser.originKind;
      p += attributesLength;
    }
    if (p !== end) throw new RecordError(`${end - p} bytes after the last of ${count} RIB entries`);

    const sink = this.#sink;
    const w0 = words[0];
    const w1 = words[1];
    const w2 = words[2];
    const w3 = words[3];
    for (let i = 0; i < count; i++) {
      sink.announce(
        peers[this.#entryPeer[i]],
        family,
        w0,
        w1,
        w2,
        w3,
        length,
        this.#entryPathId[i],
        this.#entryOrigin[i],
        this.#entryKind[i] as OriginKind,
      );
    }
    this.stats.ribRecords++;
    this.stats.ribEntries += count;
    this.stats.announced += count;
  }

  #growEntries(count: number): void {
    const size = Math.max(count, this.#entryPeer.length * 2);
    this.#entryPeer = new Uint16Array(size);
    this.#entryPathId = new Uint32Array(size);
    this.#entryOrigin = new Uint32Array(size);
    this.#entryKind = new Uint8Array(size);
  }

  //------------ BGP4MP / BGP4MP_ET --------------------------------------------------------

  /**
   * MESSAGE subtypes: peer AS, local AS (2 or 4 bytes), interface index (2), AFI (2),
   * peer and local address (4 or 16 bytes each), then a whole BGP message.
   */
  #bgp4mp(subtype: number, buf: Uint8Array, p: number, end: number): void {
    let as4: boolean;
    let addPath = false;
    switch (subtype) {
      case Bgp4mpSubtype.StateChange:
      case Bgp4mpSubtype.StateChangeAs4:
        this.stats.stateChanges++;
        return;
      case Bgp4mpSubtype.Message:
      case Bgp4mpSubtype.MessageLocal:
        as4 = false;
        break;
      case Bgp4mpSubtype.MessageAs4:
      case Bgp4mpSubtype.MessageAs4Local:
        as4 = true;
        break;
      case Bgp4mpSubtype.MessageAddPath:
      case Bgp4mpSubtype.MessageLocalAddPath:
        as4 = false;
        addPath = true;
        break;
      case Bgp4mpSubtype.MessageAs4AddPath:
      case Bgp4mpSubtype.MessageAs4LocalAddPath:
        as4 = true;
        addPath = true;
        break;
      default:
        this.stats.skipped++;
        return;
    }
    const asnSize = as4 ? 4 : 2;
    need(p, end, 2 * asnSize + 4, 'BGP4MP header');
    const peerAs = as4 ? readU32(buf, p) : (buf[p] << 8) | buf[p + 1];
    const afi = (buf[p + 2 * asnSize + 2] << 8) | buf[p + 2 * asnSize + 3];
    if (afi !== 1 && afi !== 2) throw new RecordError(`BGP4MP address family ${afi} is neither 1 nor 2`);
    const family: Family = afi === 1 ? 4 : 6;
    const addressSize = family === 4 ? 4 : 16;
    p += 2 * asnSize + 4;
    need(p, end, 2 * addressSize, 'BGP4MP peer and local addresses');
    this.#forwarder.peer = this.#internPeer(buf, p, family, peerAs);
    p += 2 * addressSize;

    const parser = this.#updates;
    parser.as4 = as4;
    parser.addPathV4 = addPath;
    parser.addPathV6 = addPath;
    const type = parser.parseMessage(buf, p, end);
    if (type === 2) this.stats.updates++;
    else this.stats.otherMessages++;
  }

  #internPeer(buf: Uint8Array, p: number, family: Family, asn: number): MrtPeer {
    let key = `${asn}`;
    const size = family === 4 ? 4 : 16;
    for (let i = 0; i < size; i++) key += `.${buf[p + i]}`;
    let peer = this.#peers.get(key);
    if (peer === undefined) {
      peer = { family, address: readAddress(buf, p, family), asn, bgpId: '0.0.0.0' };
      this.#peers.set(key, peer);
    }
    return peer;
  }

  //------------ TABLE_DUMP (legacy) -------------------------------------------------------

  /**
   * View (2), sequence (2), prefix (4 or 16), prefix length (1), status (1), originated
   * time (4), peer address (4 or 16), peer AS (2), attribute length (2), attributes.
   */
  #tableDump(subtype: number, buf: Uint8Array, p: number, end: number): void {
    if (subtype !== 1 && subtype !== 2) {
      this.stats.skipped++;
      return;
    }
    const family: Family = subtype === 1 ? 4 : 6;
    const size = family === 4 ? 4 : 16;
    need(p, end, 4 + size + 6 + size + 4, 'TABLE_DUMP entry');
    const prefixAt = p + 4;
    const length = buf[prefixAt + size];
    if (length > size * 8) throw new RecordError(`prefix length ${length} exceeds ${size * 8}`);
    const peerAt = prefixAt + size + 6;
    const asAt = peerAt + size;
    const peer = this.#internPeer(buf, peerAt, family, (buf[asAt] << 8) | buf[asAt + 1]);
    const attributesLength = (buf[asAt + 2] << 8) | buf[asAt + 3];
    p = asAt + 4;
    if (p + attributesLength !== end) {
      throw new RecordError(`attribute length ${attributesLength} differs from the ${end - p} bytes left`);
    }
    const parser = this.#updates;
    parser.as4 = false;
    parser.parseAttributes(buf, p, end);
    const words = this.#words;
    if (family === 4) {
      // The full address is present; the prefix length decides which bits count.
      words[0] = readPrefixV4(buf, prefixAt, length);
      words[1] = words[2] = words[3] = 0;
    } else {
      readPrefixV6(buf, prefixAt, length, words);
    }
    this.stats.announced++;
    this.#sink.announce(
      peer,
      family,
      words[0],
      words[1],
      words[2],
      words[3],
      length,
      0,
      parser.origin,
      parser.originKind,
    );
  }
}

/** A malformed record detected by the MRT layer (BGP faults arrive as BgpError). */
class RecordError extends Error {}

function need(p: number, end: number, bytes: number, what: string): void {
  if (end - p < bytes) throw new RecordError(`${what} needs ${bytes} bytes, ${Math.max(0, end - p)} left`);
}

function readU32(buf: Uint8Array, p: number): number {
  return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
}

function readAddress(buf: Uint8Array, p: number, family: Family): string {
  if (family === 4) return formatIPv4(readU32(buf, p));
  return formatAddress(6, readU32(buf, p), readU32(buf, p + 4), readU32(buf, p + 8), readU32(buf, p + 12));
}
