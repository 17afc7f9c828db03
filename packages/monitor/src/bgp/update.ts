// BGP UPDATE parsing (RFC 4271 section 4.3) with the extensions a route feed meets:
// MP_REACH_NLRI / MP_UNREACH_NLRI for IPv6 unicast (RFC 4760), 4-byte ASNs and the
// AS4_PATH merge (RFC 6793), ADD-PATH path identifiers (RFC 7911) and End-of-RIB markers
// (RFC 4724). Shared by the MRT reader and the BMP listener.
//
// The parser reads straight from the caller's bytes (no copies), checks every length
// against the field that contains it, and validates a whole message before it emits any
// route, so a malformed message emits nothing. The origin AS is all it keeps of the path
// attributes: route origin validation needs nothing else.
import { BgpError } from './errors.js';
import { Afi, OriginKind, Safi, type UpdateSink } from './route.js';

export const BgpMessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;

/** 16-byte marker, 2-byte length, 1-byte type. */
export const BGP_HEADER_LENGTH = 19;
/** RFC 8654 extended messages raise the RFC 4271 limit of 4096 to the 16-bit maximum. */
export const BGP_MAX_MESSAGE_LENGTH = 65535;

const enum Attr {
  AsPath = 2,
  Aggregator = 7,
  MpReach = 14,
  MpUnreach = 15,
  As4Path = 17,
  As4Aggregator = 18,
}

const enum Segment {
  None = 0,
  Set = 1,
  Sequence = 2,
  ConfedSequence = 3,
  ConfedSet = 4,
}

/** The 2-byte placeholder for a 4-byte ASN (RFC 6793). */
const AS_TRANS = 23456;

/**
 * What UpdateParser.recover() did with an UPDATE that does not parse (RFC 7606): 0 is
 * treat-as-withdraw (every route the message names was withdrawn); otherwise the bits
 * of the families whose routes from this peer can no longer be known (session reset or
 * AFI/SAFI disable): the caller forgets them.
 */
export const Recovery = { Withdrawn: 0, ResetV4: 1, ResetV6: 2, ResetAll: 3 } as const;

/** Bits of UpdateParser.families. */
export const NLRI_V4 = 1;
export const NLRI_V6 = 2;

/**
 * Checks a BGP message header at `start` whose message must end exactly at `end` (the
 * enclosing MRT record or BMP message gives the end), and returns the message type.
 */
export function readMessageHeader(buf: Uint8Array, start: number, end: number): number {
  const available = end - start;
  if (available < BGP_HEADER_LENGTH) {
    throw new BgpError('header', start, `a BGP message needs at least 19 bytes, ${available} available`);
  }
  for (let i = 0; i < 16; i++) {
    if (buf[start + i] !== 0xff) throw new BgpError('header', start + i, 'marker is not all ones');
  }
  const length = (buf[start + 16] << 8) | buf[start + 17];
  if (length !== available) {
    throw new BgpError(
      'header',
      start + 16,
      `length field ${length} differs from the ${available} bytes available`,
    );
  }
  const type = buf[start + 18];
  if (type < BgpMessageType.Open || type > BgpMessageType.RouteRefresh) {
    throw new BgpError('header', start + 18, `unknown message type ${type}`);
  }
  return type;
}

/**
 * Checks that [start, end) is a sequence of (ADD-PATH id,) length, prefix bytes with no
 * length above `maxLength`, and returns the number of prefixes.
 */
function checkNlri(
  buf: Uint8Array,
  start: number,
  end: number,
  maxLength: number,
  addPath: boolean,
  part: 'withdrawn' | 'nlri' | 'mp_reach' | 'mp_unreach',
): number {
  let p = start;
  let count = 0;
  const head = addPath ? 5 : 1;
  while (p < end) {
    if (end - p < head) {
      throw new BgpError(
        part,
        p,
        `${end - p} bytes left, a ${addPath ? 'path id and ' : ''}prefix length needs ${head}`,
      );
    }
    if (addPath) p += 4;
    const length = buf[p];
    if (length > maxLength) throw new BgpError(part, p, `prefix length ${length} exceeds ${maxLength}`);
    const bytes = (length + 7) >> 3;
    if (p + 1 + bytes > end) {
      throw new BgpError(part, p, `a /${length} prefix needs ${bytes} bytes, ${end - p - 1} left`);
    }
    p += 1 + bytes;
    count++;
  }
  return count;
}

/** checkNlri as a test: whether [start, end) reads as NLRI. */
function nlriParses(
  buf: Uint8Array,
  start: number,
  end: number,
  maxLength: number,
  addPath: boolean,
): boolean {
  try {
    checkNlri(buf, start, end, maxLength, addPath, 'nlri');
    return true;
  } catch (error) {
    if (error instanceof BgpError) return false;
    throw error;
  }
}

/** 4 or 6 for IPv4 / IPv6 unicast at `p` (AFI, SAFI), else 0. */
function unicastFamily(buf: Uint8Array, p: number): number {
  if (buf[p + 2] !== Safi.Unicast) return 0;
  const afi = (buf[p] << 8) | buf[p + 1];
  return afi === Afi.IPv4 ? 4 : afi === Afi.IPv6 ? 6 : 0;
}

/** Word `k` (0..3) of an IPv6 prefix of `bytes` bytes at `p`, host bits of `length` cleared. */
function prefixWord(buf: Uint8Array, p: number, bytes: number, length: number, k: number): number {
  const bits = length - 32 * k;
  if (bits <= 0) return 0;
  const b = 4 * k;
  // Bytes past the encoded prefix are absent on the wire and read as zero.
  const w =
    (buf[p + b] << 24) |
    (b + 1 < bytes ? buf[p + b + 1] << 16 : 0) |
    (b + 2 < bytes ? buf[p + b + 2] << 8 : 0) |
    (b + 3 < bytes ? buf[p + b + 3] : 0);
  return bits >= 32 ? w >>> 0 : (w & (0xffffffff << (32 - bits))) >>> 0;
}

/** An IPv4 prefix of `length` bits at `p` as a u32, host bits cleared. */
export function readPrefixV4(buf: Uint8Array, p: number, length: number): number {
  if (length === 0) return 0;
  const bytes = (length + 7) >> 3;
  const w =
    (buf[p] << 24) |
    (bytes > 1 ? buf[p + 1] << 16 : 0) |
    (bytes > 2 ? buf[p + 2] << 8 : 0) |
    (bytes > 3 ? buf[p + 3] : 0);
  // length is 1..32 here; a shift by 32 would be a shift by 0 in JavaScript.
  return (w & (0xffffffff << (32 - length))) >>> 0;
}

/**
 * Parses UPDATE messages and MRT RIB attributes and hands the routes to `sink`. One parser
 * serves one stream of messages; set `as4` and the ADD-PATH flags to what was negotiated
 * (or what the MRT subtype says) before each message.
 */
export class UpdateParser {
  /** AS_PATH carries 4-byte ASNs (RFC 6793 capability on both sides, MRT *_AS4 subtypes). */
  as4 = true;
  /** IPv4 unicast NLRI carry path identifiers (RFC 7911 receive direction negotiated). */
  addPathV4 = false;
  /** IPv6 unicast NLRI carry path identifiers. */
  addPathV6 = false;

  /** Origin of the last attributes parsed (see OriginKind). */
  origin = 0;
  originKind: OriginKind = OriginKind.Local;

  /** MP_REACH / MP_UNREACH for an AFI/SAFI other than IPv4/IPv6 unicast, skipped. */
  otherFamilies = 0;
  /** AS4_PATH attributes that were malformed and so ignored (RFC 7606 attribute discard). */
  discardedAs4Paths = 0;
  /** UPDATEs announcing routes without an AS_PATH attribute (read as an empty path). */
  missingAsPath = 0;
  /** NLRI_V4 / NLRI_V6: the families with at least one NLRI entry in the last UPDATE parsed. */
  families = 0;

  readonly #sink: UpdateSink;

  // Where the last attribute scan found each attribute we use; start -1 when absent.
  #asPathStart = -1;
  #asPathEnd = 0;
  #as4PathStart = -1;
  #as4PathEnd = 0;
  #mpReachStart = -1;
  #mpReachEnd = 0;
  #mpUnreachStart = -1;
  #mpUnreachEnd = 0;
  #aggregatorAs = -1;
  #as4Aggregator = false;
  #attributeCount = 0;

  // Final segment of the last path walked, for the origin.
  #finalType: number = Segment.None;
  #finalAs = 0;

  constructor(sink: UpdateSink) {
    this.#sink = sink;
  }

  /** Parses one whole BGP message (header included); UPDATEs are emitted. Returns the type. */
  parseMessage(buf: Uint8Array, start: number, end: number): number {
    const type = readMessageHeader(buf, start, end);
    if (type === BgpMessageType.Update) this.parseUpdate(buf, start + BGP_HEADER_LENGTH, end);
    return type;
  }

  /** Parses the body of an UPDATE (after the 19-byte header) that ends at `end`. */
  parseUpdate(buf: Uint8Array, start: number, end: number): void {
    if (end - start < 4) {
      throw new BgpError(
        'withdrawn',
        start,
        `an UPDATE body needs at least 4 bytes, ${end - start} available`,
      );
    }
    const withdrawnLength = (buf[start] << 8) | buf[start + 1];
    const withdrawnStart = start + 2;
    const withdrawnEnd = withdrawnStart + withdrawnLength;
    if (withdrawnEnd + 2 > end) {
      throw new BgpError(
        'withdrawn',
        start,
        `withdrawn routes length ${withdrawnLength} leaves no room for the attributes length (${end - withdrawnStart} bytes left)`,
      );
    }
    const attributesLength = (buf[withdrawnEnd] << 8) | buf[withdrawnEnd + 1];
    const attributesStart = withdrawnEnd + 2;
    const attributesEnd = attributesStart + attributesLength;
    if (attributesEnd > end) {
      throw new BgpError(
        'attributes',
        withdrawnEnd,
        `total path attribute length ${attributesLength} exceeds the ${end - attributesStart} bytes left`,
      );
    }
    this.families = 0;
    if (withdrawnLength === 0 && attributesLength === 0 && attributesEnd === end) {
      this.#sink.endOfRib(Afi.IPv4, Safi.Unicast);
      return;
    }

    let families =
      checkNlri(buf, withdrawnStart, withdrawnEnd, 32, this.addPathV4, 'withdrawn') > 0 ? NLRI_V4 : 0;
    this.#scanAttributes(buf, attributesStart, attributesEnd);
    if (checkNlri(buf, attributesEnd, end, 32, this.addPathV4, 'nlri') > 0) families |= NLRI_V4;

    // MP attribute bodies: AFI (2), SAFI (1), then for MP_REACH a next hop and a reserved byte.
    let unreachFamily = 0;
    let unreachNlri = 0;
    if (this.#mpUnreachStart >= 0) {
      const s = this.#mpUnreachStart;
      const e = this.#mpUnreachEnd;
      if (e - s < 3) throw new BgpError('mp_unreach', s, `MP_UNREACH_NLRI needs 3 bytes, has ${e - s}`);
      if (withdrawnLength === 0 && attributesEnd === end && this.#attributeCount === 1 && e - s === 3) {
        this.#sink.endOfRib((buf[s] << 8) | buf[s + 1], buf[s + 2]);
        return;
      }
      unreachFamily = this.#family(buf, s);
      unreachNlri = s + 3;
      if (unreachFamily !== 0) {
        const n = checkNlri(
          buf,
          unreachNlri,
          e,
          unreachFamily === 4 ? 32 : 128,
          this.#addPath(unreachFamily),
          'mp_unreach',
        );
        if (n > 0) families |= unreachFamily === 4 ? NLRI_V4 : NLRI_V6;
      }
    }
    let reachFamily = 0;
    let reachNlri = 0;
    if (this.#mpReachStart >= 0) {
      const s = this.#mpReachStart;
      const e = this.#mpReachEnd;
      if (e - s < 5) throw new BgpError('mp_reach', s, `MP_REACH_NLRI needs at least 5 bytes, has ${e - s}`);
      const nextHopLength = buf[s + 3];
      reachNlri = s + 4 + nextHopLength + 1;
      if (reachNlri > e) {
        throw new BgpError(
          'mp_reach',
          s + 3,
          `next hop length ${nextHopLength} exceeds the attribute (${e - s - 5} bytes)`,
        );
      }
      reachFamily = this.#family(buf, s);
      if (reachFamily !== 0) {
        const n = checkNlri(
          buf,
          reachNlri,
          e,
          reachFamily === 4 ? 32 : 128,
          this.#addPath(reachFamily),
          'mp_reach',
        );
        if (n > 0) families |= reachFamily === 4 ? NLRI_V4 : NLRI_V6;
      }
    }

    const announces = attributesEnd < end || (reachFamily !== 0 && reachNlri < this.#mpReachEnd);
    if (announces) {
      // RFC 4271 makes AS_PATH mandatory and RFC 7606 has a speaker treat its absence as a
      // withdrawal, but a monitor reports what the router holds: GoBGP's BMP Loc-RIB sends
      // locally originated routes without AS_PATH. Absent reads as empty (origin Local).
      if (this.#asPathStart < 0) this.missingAsPath++;
      this.#computeOrigin(buf);
    }
    this.families = families;

    // Everything is checked: emit, withdrawals first.
    this.#emitV4(buf, withdrawnStart, withdrawnEnd, false);
    if (unreachFamily === 4) this.#emitV4(buf, unreachNlri, this.#mpUnreachEnd, false);
    else if (unreachFamily === 6) this.#emitV6(buf, unreachNlri, this.#mpUnreachEnd, false);
    this.#emitV4(buf, attributesEnd, end, true);
    if (reachFamily === 4) this.#emitV4(buf, reachNlri, this.#mpReachEnd, true);
    else if (reachFamily === 6) this.#emitV6(buf, reachNlri, this.#mpReachEnd, true);
  }

  /**
   * RFC 7606 for a whole UPDATE message (header included) that parseMessage() rejected
   * with a BgpError, under the same `as4` / ADD-PATH settings. A monitor cannot reset
   * the session, so it maps the RFC's approaches onto what it holds:
   * - the NLRI can all be located and read (an AS_PATH that does not parse, attributes
   *   whose lengths do not add up, section 4 relying on the Total Path Attribute Length):
   *   treat-as-withdraw (section 2): every route the message names, in the Withdrawn
   *   Routes, the NLRI field, MP_UNREACH_NLRI or MP_REACH_NLRI, is emitted as withdrawn;
   * - a Withdrawn Routes or NLRI field that does not parse, a malformed MP_REACH_NLRI or
   *   MP_UNREACH_NLRI, either of them twice (section 3 g, 3 j, 5.3): session reset or
   *   AFI/SAFI disable; the families concerned are returned (Recovery.ResetV4 / V6), the
   *   routes of the message's other families are withdrawn;
   * - a header or a Withdrawn Routes / Total Path Attribute Length that does not fit the
   *   message: nothing can be located, Recovery.ResetAll.
   * Nothing is ever announced here, so the routes held stay a subset of those announced.
   */
  recover(buf: Uint8Array, start: number, end: number): number {
    try {
      if (readMessageHeader(buf, start, end) !== BgpMessageType.Update) return Recovery.ResetAll;
    } catch (error) {
      if (error instanceof BgpError) return Recovery.ResetAll;
      throw error;
    }
    const body = start + BGP_HEADER_LENGTH;
    if (end - body < 4) return Recovery.ResetAll;
    const withdrawnStart = body + 2;
    const withdrawnEnd = withdrawnStart + ((buf[body] << 8) | buf[body + 1]);
    if (withdrawnEnd + 2 > end) return Recovery.ResetAll;
    const attributesStart = withdrawnEnd + 2;
    const attributesEnd = attributesStart + ((buf[withdrawnEnd] << 8) | buf[withdrawnEnd + 1]);
    if (attributesEnd > end) return Recovery.ResetAll;
    let reset = 0;
    if (!nlriParses(buf, withdrawnStart, withdrawnEnd, 32, this.addPathV4)) reset |= Recovery.ResetV4;
    if (!nlriParses(buf, attributesEnd, end, 32, this.addPathV4)) reset |= Recovery.ResetV4;
    // The attributes as far as their lengths hold (section 4: the rest is ignored).
    let reachStart = -1;
    let reachEnd = 0;
    let unreachStart = -1;
    let unreachEnd = 0;
    let p = attributesStart;
    while (attributesEnd - p >= 3) {
      const type = buf[p + 1];
      let length: number;
      if ((buf[p] & 0x10) !== 0) {
        if (attributesEnd - p < 4) break;
        length = (buf[p + 2] << 8) | buf[p + 3];
        p += 4;
      } else {
        length = buf[p + 2];
        p += 3;
      }
      if (p + length > attributesEnd) break;
      if (type === Attr.MpReach || type === Attr.MpUnreach) {
        if ((type === Attr.MpReach ? reachStart : unreachStart) >= 0) return Recovery.ResetAll;
        if (type === Attr.MpReach) {
          reachStart = p;
          reachEnd = p + length;
        } else {
          unreachStart = p;
          unreachEnd = p + length;
        }
      }
      p += length;
    }
    let unreachFamily = 0;
    if (unreachStart >= 0) {
      if (unreachEnd - unreachStart < 3) return Recovery.ResetAll;
      unreachFamily = unicastFamily(buf, unreachStart);
      if (
        unreachFamily !== 0 &&
        !nlriParses(
          buf,
          unreachStart + 3,
          unreachEnd,
          unreachFamily === 4 ? 32 : 128,
          this.#addPath(unreachFamily),
        )
      ) {
        reset |= unreachFamily === 4 ? Recovery.ResetV4 : Recovery.ResetV6;
        unreachFamily = 0;
      }
    }
    let reachFamily = 0;
    let reachNlri = 0;
    if (reachStart >= 0) {
      if (reachEnd - reachStart < 3) return Recovery.ResetAll;
      reachFamily = unicastFamily(buf, reachStart);
      reachNlri = reachStart + 5 + (reachEnd - reachStart >= 4 ? buf[reachStart + 3] : 0);
      if (
        reachFamily !== 0 &&
        (reachNlri > reachEnd ||
          !nlriParses(buf, reachNlri, reachEnd, reachFamily === 4 ? 32 : 128, this.#addPath(reachFamily)))
      ) {
        reset |= reachFamily === 4 ? Recovery.ResetV4 : Recovery.ResetV6;
        reachFamily = 0;
      }
    }
    // Withdraw what the message names in the families that are not reset.
    if ((reset & Recovery.ResetV4) === 0) {
      this.#emitV4(buf, withdrawnStart, withdrawnEnd, false);
      this.#emitV4(buf, attributesEnd, end, false);
    }
    if (unreachFamily === 4 && (reset & Recovery.ResetV4) === 0)
      this.#emitV4(buf, unreachStart + 3, unreachEnd, false);
    else if (unreachFamily === 6 && (reset & Recovery.ResetV6) === 0)
      this.#emitV6(buf, unreachStart + 3, unreachEnd, false);
    if (reachFamily === 4 && (reset & Recovery.ResetV4) === 0) this.#emitV4(buf, reachNlri, reachEnd, false);
    else if (reachFamily === 6 && (reset & Recovery.ResetV6) === 0)
      this.#emitV6(buf, reachNlri, reachEnd, false);
    return reset;
  }

  /**
   * Reads path attributes outside an UPDATE (MRT RIB entries) and sets `origin` and
   * `originKind`. MP_REACH_NLRI there is abbreviated (RFC 6396 section 4.3.4) and is not
   * used: the prefix is in the RIB record. A missing AS_PATH reads as an empty one.
   */
  parseAttributes(buf: Uint8Array, start: number, end: number): void {
    this.#scanAttributes(buf, start, end);
    this.#computeOrigin(buf);
  }

  /** 4, 6 or 0 (another AFI/SAFI, counted and skipped) for the AFI/SAFI at `p`. */
  #family(buf: Uint8Array, p: number): number {
    const afi = (buf[p] << 8) | buf[p + 1];
    const safi = buf[p + 2];
    if (safi === Safi.Unicast) {
      if (afi === Afi.IPv4) return 4;
      if (afi === Afi.IPv6) return 6;
    }
    this.otherFamilies++;
    return 0;
  }

  #addPath(family: number): boolean {
    return family === 4 ? this.addPathV4 : this.addPathV6;
  }

  #scanAttributes(buf: Uint8Array, start: number, end: number): void {
    this.#asPathStart = -1;
    this.#as4PathStart = -1;
    this.#mpReachStart = -1;
    this.#mpUnreachStart = -1;
    this.#aggregatorAs = -1;
    this.#as4Aggregator = false;
    let count = 0;
    let p = start;
    while (p < end) {
      if (end - p < 3)
        throw new BgpError('attributes', p, `${end - p} bytes left, an attribute header needs 3`);
      const flags = buf[p];
      const type = buf[p + 1];
      let length: number;
      if ((flags & 0x10) !== 0) {
        if (end - p < 4)
          throw new BgpError('attributes', p, `${end - p} bytes left, an extended attribute header needs 4`);
        length = (buf[p + 2] << 8) | buf[p + 3];
        p += 4;
      } else {
        length = buf[p + 2];
        p += 3;
      }
      const valueEnd = p + length;
      if (valueEnd > end) {
        throw new BgpError(
          'attributes',
          p,
          `attribute ${type} length ${length} exceeds the ${end - p} bytes left`,
        );
      }
      count++;
      // A repeated attribute: RFC 7606 section 3(g) keeps the first, except that a repeated
      // MP_REACH or MP_UNREACH makes the whole message malformed.
      switch (type) {
        case Attr.AsPath:
          if (this.#asPathStart < 0) {
            this.#asPathStart = p;
            this.#asPathEnd = valueEnd;
          }
          break;
        case Attr.As4Path:
          if (this.#as4PathStart < 0) {
            this.#as4PathStart = p;
            this.#as4PathEnd = valueEnd;
          }
          break;
        case Attr.MpReach:
          if (this.#mpReachStart >= 0) throw new BgpError('mp_reach', p, 'MP_REACH_NLRI appears twice');
          this.#mpReachStart = p;
          this.#mpReachEnd = valueEnd;
          break;
        case Attr.MpUnreach:
          if (this.#mpUnreachStart >= 0) throw new BgpError('mp_unreach', p, 'MP_UNREACH_NLRI appears twice');
          this.#mpUnreachStart = p;
          this.#mpUnreachEnd = valueEnd;
          break;
        case Attr.Aggregator:
          // 2-byte AS + IPv4 address on 2-byte sessions; anything else is discarded.
          if (length === 6 && this.#aggregatorAs < 0) this.#aggregatorAs = (buf[p] << 8) | buf[p + 1];
          break;
        case Attr.As4Aggregator:
          if (length === 8) this.#as4Aggregator = true;
          break;
      }
      p = valueEnd;
    }
    this.#attributeCount = count;
  }

  /**
   * Walks an AS_PATH / AS4_PATH value: checks it, leaves its final segment in #finalType /
   * #finalAs and returns its AS count as RFC 6793 section 4.2.3 counts (an AS_SET is one,
   * confederation segments are none). With `skipConfed` confederation segments are left
   * out of the final segment (they must not appear in AS4_PATH).
   */
  #walkPath(buf: Uint8Array, start: number, end: number, asnSize: 2 | 4, skipConfed: boolean): number {
    let p = start;
    let count = 0;
    let finalType: number = Segment.None;
    let finalAs = 0;
    while (p < end) {
      if (end - p < 2) throw new BgpError('as_path', p, `${end - p} byte left, a segment header needs 2`);
      const type = buf[p];
      const n = buf[p + 1];
      if (type < Segment.Set || type > Segment.ConfedSet)
        throw new BgpError('as_path', p, `unknown segment type ${type}`);
      if (n === 0) throw new BgpError('as_path', p, 'segment of zero ASes');
      const last = p + 2 + (n - 1) * asnSize;
      p += 2 + n * asnSize;
      if (p > end)
        throw new BgpError(
          'as_path',
          last,
          `segment of ${n} ASes overruns the attribute by ${p - end} bytes`,
        );
      if (type === Segment.Sequence) count += n;
      else if (type === Segment.Set) count += 1;
      else if (skipConfed) continue;
      finalType = type;
      finalAs =
        asnSize === 4
          ? ((buf[last] << 24) | (buf[last + 1] << 16) | (buf[last + 2] << 8) | buf[last + 3]) >>> 0
          : (buf[last] << 8) | buf[last + 1];
    }
    this.#finalType = finalType;
    this.#finalAs = finalAs;
    return count;
  }

  #computeOrigin(buf: Uint8Array): void {
    let type: number = Segment.None;
    let asn = 0;
    if (this.#asPathStart >= 0) {
      const n = this.#walkPath(buf, this.#asPathStart, this.#asPathEnd, this.as4 ? 4 : 2, false);
      type = this.#finalType;
      asn = this.#finalAs;
      // RFC 6793 section 4.2.3: merge AS4_PATH into a 2-byte AS_PATH unless an AGGREGATOR
      // that is not AS_TRANS comes with an AS4_AGGREGATOR. The merged path is the first
      // n - m ASes of AS_PATH followed by AS4_PATH, so when AS4_PATH has any AS its final
      // segment is the merged path's final segment.
      const useAs4Path =
        !this.as4 &&
        this.#as4PathStart >= 0 &&
        !(this.#as4Aggregator && this.#aggregatorAs >= 0 && this.#aggregatorAs !== AS_TRANS);
      if (useAs4Path) {
        let m = -1;
        try {
          m = this.#walkPath(buf, this.#as4PathStart, this.#as4PathEnd, 4, true);
        } catch (error) {
          if (!(error instanceof BgpError)) throw error;
          this.discardedAs4Paths++;
        }
        if (m > 0 && m <= n) {
          type = this.#finalType;
          asn = this.#finalAs;
        }
      }
    }
    if (type === Segment.Sequence) {
      this.origin = asn;
      this.originKind = OriginKind.Asn;
    } else {
      this.origin = 0;
      this.originKind = type === Segment.Set ? OriginKind.Set : OriginKind.Local;
    }
  }

  #emitV4(buf: Uint8Array, start: number, end: number, announce: boolean): void {
    const sink = this.#sink;
    const addPath = this.addPathV4;
    const origin = this.origin;
    const kind = this.originKind;
    let p = start;
    while (p < end) {
      let pathId = 0;
      if (addPath) {
        pathId = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
        p += 4;
      }
      const length = buf[p];
      const addr = readPrefixV4(buf, p + 1, length);
      p += 1 + ((length + 7) >> 3);
      if (announce) sink.announce(4, addr, 0, 0, 0, length, pathId, origin, kind);
      else sink.withdraw(4, addr, 0, 0, 0, length, pathId);
    }
  }

  #emitV6(buf: Uint8Array, start: number, end: number, announce: boolean): void {
    const sink = this.#sink;
    const addPath = this.addPathV6;
    const origin = this.origin;
    const kind = this.originKind;
    let p = start;
    while (p < end) {
      let pathId = 0;
      if (addPath) {
        pathId = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
        p += 4;
      }
      const length = buf[p];
      const bytes = (length + 7) >> 3;
      const q = p + 1;
      const w0 = prefixWord(buf, q, bytes, length, 0);
      const w1 = prefixWord(buf, q, bytes, length, 1);
      const w2 = prefixWord(buf, q, bytes, length, 2);
      const w3 = prefixWord(buf, q, bytes, length, 3);
      p = q + bytes;
      if (announce) sink.announce(6, w0, w1, w2, w3, length, pathId, origin, kind);
      else sink.withdraw(6, w0, w1, w2, w3, length, pathId);
    }
  }
}

/** Reads an IPv6 prefix of `length` bits at `p` into `out[0..3]`, host bits cleared. */
export function readPrefixV6(buf: Uint8Array, p: number, length: number, out: Uint32Array | number[]): void {
  const bytes = (length + 7) >> 3;
  out[0] = prefixWord(buf, p, bytes, length, 0);
  out[1] = prefixWord(buf, p, bytes, length, 1);
  out[2] = prefixWord(buf, p, bytes, length, 2);
  out[3] = prefixWord(buf, p, bytes, length, 3);
}
