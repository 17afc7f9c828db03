// Collect, then apply (rpki-rs `PayloadTarget`/`PayloadUpdate`). An exchange stages every
// payload PDU in a PayloadUpdate, checked against the data held so far; only End of Data
// applies it to the PayloadStore, in one synchronous step. A failed exchange just drops
// its update: nothing is undone, and no consumer ever sees half a sync.
import { formatPrefix, VrpList, VrpTable } from '@rovkit/core';
import { DuplicateAnnouncementError, WithdrawalOfUnknownError } from './errors.js';
import { Writer } from './writer.js';
import {
  copyPdu,
  FLAG_ANNOUNCE,
  newPrefixFields,
  PduType,
  writeAspa,
  type AspaPdu,
  type PrefixFields,
  type RouterKeyPdu,
} from './pdu.js';

/** An ASPA record as the router holds it: one per customer (per customer and AFI in the 8210bis-10 layout). */
export interface AspaRecord {
  readonly customer: number;
  readonly providers: readonly number[];
  /** Only for records received in the 8210bis-10 layout (StayRTR: 0 = IPv4, 1 = IPv6). */
  readonly afiFlags?: number;
}

/** A BGPsec router key (RFC 8210 §5.10). */
export interface RouterKeyRecord {
  readonly asn: number;
  /** Subject Key Identifier, 40 hex digits. */
  readonly ski: string;
  /** Subject Public Key Info, DER in base64. */
  readonly spki: string;
}

export interface Changes<T> {
  readonly announced: readonly T[];
  readonly withdrawn: readonly T[];
}

/** What one applied update changed. */
export interface PayloadDelta {
  readonly announced: VrpList;
  readonly withdrawn: VrpList;
  readonly aspa: Changes<AspaRecord>;
  readonly routerKeys: Changes<RouterKeyRecord>;
}

function aspaKey(customer: number, afiFlags: number | undefined): string {
  return afiFlags === undefined ? String(customer) : `${customer}/${afiFlags}`;
}

function routerKeyKey(r: RouterKeyRecord): string {
  return `${r.asn}/${r.ski}/${r.spki}`;
}

function describe(f: PrefixFields): string {
  return `${formatPrefix(f.family, f.w0, f.w1, f.w2, f.w3, f.prefixLength)}-${f.maxLength} AS${f.asn}`;
}

const emptyTable = new VrpTable({ capacity: 16 });

/** The data the router holds: VRPs, ASPA records and router keys. */
export class PayloadStore {
  readonly table: VrpTable;
  readonly aspas = new Map<string, AspaRecord>();
  readonly routerKeys = new Map<string, RouterKeyRecord>();
  /** Counts applied updates, so that an update staged against older data can be recognised. */
  generation = 0;

  constructor(table: VrpTable = new VrpTable()) {
    this.table = table;
  }

  get empty(): boolean {
    return this.table.size === 0 && this.aspas.size === 0 && this.routerKeys.size === 0;
  }

  /** Starts staging an exchange: `reset` for the answer to a Reset Query (a full set). */
  start(reset: boolean): PayloadUpdate {
    return new PayloadUpdate(this, reset);
  }

  /** Applies a finished update in one step and returns what changed. */
  apply(update: PayloadUpdate): PayloadDelta {
    if (update.store !== this) throw new Error('update belongs to another store');
    update.finish();
    if (!update.reset && update.generation !== this.generation)
      throw new Error('incremental update staged against data that has changed since');
    let announced: VrpList;
    let withdrawn: VrpList;
    if (update.reset) {
      ({ announced, withdrawn } = this.table.diff(update.added));
      // A first full set replaces nothing: the staged table's arrays become the held ones,
      // instead of a second copy of every VRP.
      if (this.table.size === 0) this.table.moveFrom(update.added);
      else this.table.applyDelta(announced, withdrawn);
    } else {
      announced = emptyTable.diff(update.added).announced;
      withdrawn = emptyTable.diff(update.removed).announced;
      this.table.applyDelta(announced, withdrawn);
    }
    const aspa = applyRecords(this.aspas, update.aspas, update.reset, sameAspa);
    const routerKeys = applyRecords(this.routerKeys, update.routerKeys, update.reset, () => true);
    this.generation++;
    return { announced, withdrawn, aspa, routerKeys };
  }

  /** Drops everything (expire); returns the withdrawals. */
  purge(): PayloadDelta {
    const { withdrawn } = this.table.diff(emptyTable);
    this.table.clear();
    const aspa = { announced: [], withdrawn: [...this.aspas.values()] };
    const routerKeys = { announced: [], withdrawn: [...this.routerKeys.values()] };
    this.aspas.clear();
    this.routerKeys.clear();
    this.generation++;
    return { announced: new VrpList(), withdrawn, aspa, routerKeys };
  }
}

function sameAspa(a: AspaRecord, b: AspaRecord): boolean {
  return a.providers.length === b.providers.length && a.providers.every((p, i) => p === b.providers[i]);
}

/**
 * Applies staged records (`null` = withdrawn) to `held`. For a reset the staged map is
 * the complete new set, so whatever it lacks is withdrawn.
 */
function applyRecords<T>(
  held: Map<string, T>,
  staged: Map<string, T | null>,
  reset: boolean,
  same: (a: T, b: T) => boolean,
): Changes<T> {
  const announced: T[] = [];
  const withdrawn: T[] = [];
  if (reset) {
    for (const [key, old] of held) {
      if (!staged.has(key)) {
        withdrawn.push(old);
        held.delete(key);
      }
    }
  }
  for (const [key, next] of staged) {
    const old = held.get(key);
    if (next === null) {
      if (old !== undefined) {
        withdrawn.push(old);
        held.delete(key);
      }
    } else if (old === undefined || !same(old, next)) {
      if (old !== undefined) withdrawn.push(old);
      announced.push(next);
      held.set(key, next);
    }
  }
  return { announced, withdrawn };
}

// Prefix PDUs are logged as they arrive, in one growing Uint32Array, and checked and
// sorted into `added`/`removed` only at End of Data (`finish`): a response that never
// ends costs its log (3 words per IPv4 prefix, 6 per IPv6) instead of trie nodes and
// entries (measured with 2-4 M staged: 85-97 bytes of RSS per IPv4 prefix and 93-127
// per IPv6 before, 12-17 and 24-34 now; ASPA records, logged the same way, 158-218
// before as Map entries and objects, 21-34 now). Record: flags | prefix length << 8 | max length << 16 | family 6
// << 24, ASN, then 1 or 4 address words.
const LOG_V6 = 1 << 24;

/**
 * The payload of one exchange, staged. For a reset, `added` becomes the complete VRP set;
 * for a serial update, `added` and `removed` are the net changes against the store.
 * Announcing a VRP that is held, or withdrawing one that is not, throws the matching
 * wire error (RFC 8210 §5.6: codes 7 and 6).
 */
export class PayloadUpdate {
  readonly store: PayloadStore;
  readonly reset: boolean;
  readonly generation: number;
  readonly added = new VrpTable();
  readonly removed = new VrpTable();
  readonly aspas = new Map<string, AspaRecord | null>();
  readonly routerKeys = new Map<string, RouterKeyRecord | null>();
  /** Payload PDUs staged, for diagnostics. */
  count = 0;
  #log = new Uint32Array(0);
  #logLength = 0;
  #aspaLog = new Uint32Array(0);
  #aspaLength = 0;
  #replayed = 0;
  #version = 0;
  readonly #fields = newPrefixFields();

  constructor(store: PayloadStore, reset: boolean) {
    this.store = store;
    this.reset = reset;
    this.generation = store.generation;
  }

  /**
   * Stages an IPv4/IPv6 Prefix PDU (logged; checked at `finish`). `frame` gives the
   * version for an Error Report. Runs once per prefix PDU of a sync: plain numeric, no
   * allocation but the log's amortized growth.
   */
  prefix(f: PrefixFields, frame: Buffer, offset: number, _length: number): void {
    this.count++;
    this.#version = frame[offset]!;
    const v6 = f.family === 6;
    let log = this.#log;
    let n = this.#logLength;
    if (n + 6 > log.length) {
      const grown = new Uint32Array(Math.max(1024, log.length * 2));
      grown.set(log.subarray(0, n));
      this.#log = log = grown;
    }
    log[n++] = ((f.flags & 0xff) | (f.prefixLength << 8) | (f.maxLength << 16) | (v6 ? LOG_V6 : 0)) >>> 0;
    log[n++] = f.asn;
    log[n++] = f.w0;
    if (v6) {
      log[n++] = f.w1;
      log[n++] = f.w2;
      log[n++] = f.w3;
    }
    this.#logLength = n;
  }

  /** Bytes the prefix log holds (allocated), for bounds and tests. */
  get stagedBytes(): number {
    return this.#log.byteLength + this.#aspaLog.byteLength;
  }

  /**
   * Checks the logged prefixes in order and stages them in `added`/`removed`; throws the
   * wire error of the first bad one (with the PDU rebuilt from its fields, reserved byte
   * zero). Idempotent; `PayloadStore.apply` calls it.
   */
  finish(): void {
    const log = this.#log;
    const end = this.#logLength;
    const f = this.#fields;
    let i = this.#replayed;
    while (i < end) {
      const head = log[i]!;
      f.flags = head & 0xff;
      f.prefixLength = (head >>> 8) & 0xff;
      f.maxLength = (head >>> 16) & 0xff;
      f.asn = log[i + 1]!;
      f.w0 = log[i + 2]!;
      if ((head & LOG_V6) !== 0) {
        f.family = 6;
        f.w1 = log[i + 3]!;
        f.w2 = log[i + 4]!;
        f.w3 = log[i + 5]!;
        i += 6;
      } else {
        f.family = 4;
        f.w1 = f.w2 = f.w3 = 0;
        i += 3;
      }
      this.#replayed = i;
      this.#stage(f);
    }
    // The log is spent: drop it rather than hold it beside the staged tables.
    this.#log = new Uint32Array(0);
    this.#logLength = this.#replayed = 0;
    this.#finishAspas();
  }

  #stage(f: PrefixFields): void {
    const announce = (f.flags & FLAG_ANNOUNCE) !== 0;
    const ok =
      f.family === 4
        ? announce
          ? this.#announceV4(f.w0, f.prefixLength, f.maxLength, f.asn)
          : this.#withdrawV4(f.w0, f.prefixLength, f.maxLength, f.asn)
        : announce
          ? this.#announceV6(f.w0, f.w1, f.w2, f.w3, f.prefixLength, f.maxLength, f.asn)
          : this.#withdrawV6(f.w0, f.w1, f.w2, f.w3, f.prefixLength, f.maxLength, f.asn);
    if (!ok) {
      const pdu = prefixPdu(this.#version, f);
      throw announce
        ? new DuplicateAnnouncementError(describe(f), pdu)
        : new WithdrawalOfUnknownError(describe(f), pdu);
    }
  }

  #announceV4(a: number, len: number, max: number, asn: number): boolean {
    if (this.reset) return this.added.addV4(a, len, max, asn);
    if (this.removed.removeV4(a, len, max, asn)) return true;
    if (this.store.table.hasV4(a, len, max, asn)) return false;
    return this.added.addV4(a, len, max, asn);
  }

  #withdrawV4(a: number, len: number, max: number, asn: number): boolean {
    if (this.added.removeV4(a, len, max, asn)) return true;
    if (this.reset || !this.store.table.hasV4(a, len, max, asn)) return false;
    return this.removed.addV4(a, len, max, asn);
  }

  #announceV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    len: number,
    max: number,
    asn: number,
  ): boolean {
    if (this.reset) return this.added.addV6(w0, w1, w2, w3, len, max, asn);
    if (this.removed.removeV6(w0, w1, w2, w3, len, max, asn)) return true;
    if (this.store.table.hasV6(w0, w1, w2, w3, len, max, asn)) return false;
    return this.added.addV6(w0, w1, w2, w3, len, max, asn);
  }

  #withdrawV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    len: number,
    max: number,
    asn: number,
  ): boolean {
    if (this.added.removeV6(w0, w1, w2, w3, len, max, asn)) return true;
    if (this.reset || !this.store.table.hasV6(w0, w1, w2, w3, len, max, asn)) return false;
    return this.removed.addV6(w0, w1, w2, w3, len, max, asn);
  }

  #held<T>(staged: Map<string, T | null>, held: Map<string, T>, key: string): boolean {
    const s = staged.get(key);
    if (s !== undefined) return s !== null;
    return !this.reset && held.has(key);
  }

  /**
   * Stages an ASPA PDU (logged like prefixes: flags | (afiFlags + 1) << 8, customer,
   * provider count, providers; checked at `finish`). An announcement replaces the
   * customer's record (8210bis §5.12), so only withdrawing an unknown customer is an error.
   */
  aspa(pdu: AspaPdu, frame: Buffer, offset: number, _length: number): void {
    this.count++;
    this.#version = frame[offset]!;
    const count = pdu.providers.length;
    let log = this.#aspaLog;
    let n = this.#aspaLength;
    if (n + 3 + count > log.length) {
      const grown = new Uint32Array(Math.max(1024, log.length * 2, n + 3 + count));
      grown.set(log.subarray(0, n));
      this.#aspaLog = log = grown;
    }
    log[n++] = (pdu.flags & 0xff) | ((pdu.afiFlags === undefined ? 0 : pdu.afiFlags + 1) << 8);
    log[n++] = pdu.customer;
    log[n++] = count;
    for (let i = 0; i < count; i++) log[n++] = pdu.providers[i]!;
    this.#aspaLength = n;
  }

  #finishAspas(): void {
    const log = this.#aspaLog;
    const end = this.#aspaLength;
    let i = 0;
    while (i < end) {
      const head = log[i]!;
      const flags = head & 0xff;
      const afi = head >>> 8;
      const afiFlags = afi === 0 ? undefined : afi - 1;
      const customer = log[i + 1]!;
      const count = log[i + 2]!;
      const providers = Array.from(log.subarray(i + 3, i + 3 + count));
      i += 3 + count;
      const key = aspaKey(customer, afiFlags);
      if ((flags & FLAG_ANNOUNCE) !== 0) {
        this.aspas.set(
          key,
          afiFlags === undefined ? { customer, providers } : { customer, providers, afiFlags },
        );
        continue;
      }
      if (!this.#held(this.aspas, this.store.aspas, key)) {
        this.#aspaLog = new Uint32Array(0);
        this.#aspaLength = 0;
        const pdu = writeAspa(new Writer(64), this.#version, flags, customer, providers, afiFlags).take();
        throw new WithdrawalOfUnknownError(`ASPA of AS${customer}`, new Uint8Array(pdu));
      }
      this.aspas.set(key, null);
    }
    this.#aspaLog = new Uint32Array(0);
    this.#aspaLength = 0;
  }

  /** Stages a Router Key PDU; keys are identified by (ASN, SKI, SPKI). */
  routerKey(pdu: RouterKeyPdu, frame: Buffer, offset: number, length: number): void {
    this.count++;
    const record: RouterKeyRecord = {
      asn: pdu.asn,
      ski: Buffer.from(pdu.ski.buffer, pdu.ski.byteOffset, pdu.ski.length).toString('hex'),
      spki: Buffer.from(pdu.spki.buffer, pdu.spki.byteOffset, pdu.spki.length).toString('base64'),
    };
    const key = routerKeyKey(record);
    const held = this.#held(this.routerKeys, this.store.routerKeys, key);
    if ((pdu.flags & FLAG_ANNOUNCE) !== 0) {
      if (held)
        throw new DuplicateAnnouncementError(
          `router key ${record.ski} AS${record.asn}`,
          copyPdu(frame, offset, length),
        );
      // A withdraw-then-announce inside one update nets out to "still held".
      if (this.routerKeys.get(key) === null && !this.reset && this.store.routerKeys.has(key))
        this.routerKeys.delete(key);
      else this.routerKeys.set(key, record);
      return;
    }
    if (!held)
      throw new WithdrawalOfUnknownError(
        `router key ${record.ski} AS${record.asn}`,
        copyPdu(frame, offset, length),
      );
    if (this.store.routerKeys.has(key) && !this.reset) this.routerKeys.set(key, null);
    else this.routerKeys.delete(key);
  }
}

/** The wire form of a prefix PDU from its fields (reserved byte zero), for an Error Report. */
function prefixPdu(version: number, f: PrefixFields): Uint8Array {
  const v6 = f.family === 6;
  const b = Buffer.alloc(v6 ? 32 : 20);
  b[0] = version;
  b[1] = v6 ? PduType.Ipv6Prefix : PduType.Ipv4Prefix;
  b.writeUInt32BE(b.length, 4);
  b[8] = f.flags;
  b[9] = f.prefixLength;
  b[10] = f.maxLength;
  b.writeUInt32BE(f.w0, 12);
  if (v6) {
    b.writeUInt32BE(f.w1, 16);
    b.writeUInt32BE(f.w2, 20);
    b.writeUInt32BE(f.w3, 24);
  }
  b.writeUInt32BE(f.asn, v6 ? 28 : 16);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
