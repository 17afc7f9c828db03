// Collect, then apply (rpki-rs `PayloadTarget`/`PayloadUpdate`). An exchange stages every
// payload PDU in a PayloadUpdate, checked against the data held so far; only End of Data
// applies it to the PayloadStore, in one synchronous step. A failed exchange just drops
// its update: nothing is undone, and no consumer ever sees half a sync.
import { formatPrefix, VrpList, VrpTable } from '@rovkit/core';
import { DuplicateAnnouncementError, WithdrawalOfUnknownError } from './errors.js';
import { copyPdu, FLAG_ANNOUNCE, type AspaPdu, type PrefixFields, type RouterKeyPdu } from './pdu.js';

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

  constructor(store: PayloadStore, reset: boolean) {
    this.store = store;
    this.reset = reset;
    this.generation = store.generation;
  }

  /**
   * Stages an IPv4/IPv6 Prefix PDU. `frame` locates the PDU for an Error Report.
   * This runs once per prefix PDU of a sync: plain numeric calls, no allocation.
   */
  prefix(f: PrefixFields, frame: Buffer, offset: number, length: number): void {
    this.count++;
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
      const pdu = copyPdu(frame, offset, length);
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
   * Stages an ASPA PDU. An announcement replaces the customer's record (8210bis §5.12),
   * so only withdrawing an unknown customer is an error.
   */
  aspa(pdu: AspaPdu, frame: Buffer, offset: number, length: number): void {
    this.count++;
    const key = aspaKey(pdu.customer, pdu.afiFlags);
    if ((pdu.flags & FLAG_ANNOUNCE) !== 0) {
      const record: AspaRecord =
        pdu.afiFlags === undefined
          ? { customer: pdu.customer, providers: pdu.providers }
          : { customer: pdu.customer, providers: pdu.providers, afiFlags: pdu.afiFlags };
      this.aspas.set(key, record);
      return;
    }
    if (!this.#held(this.aspas, this.store.aspas, key))
      throw new WithdrawalOfUnknownError(`ASPA of AS${pdu.customer}`, copyPdu(frame, offset, length));
    this.aspas.set(key, null);
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
