// Staging is compact: prefix PDUs are logged in one Uint32Array until End of Data, so a
// response that never ends costs 12 bytes per IPv4 prefix (24 per IPv6) plus growth
// slack, not trie nodes; the checks (codes 6 and 7) run at End of Data, in order.
import { describe, expect, it } from 'vitest';
import { ErrorCode, RtrWireError } from './errors.js';
import { PayloadStore } from './payload.js';
import { newPrefixFields, readPrefix } from './pdu.js';
import { encode, prefix } from './testing/pdus.js';

function stage(update: ReturnType<PayloadStore['start']>, bytes: Buffer): void {
  const f = newPrefixFields();
  readPrefix(bytes, 0, bytes.length, f);
  update.prefix(f, bytes, 0, bytes.length);
}

describe('PayloadUpdate', () => {
  it('logs 100,000 staged IPv4 prefixes in at most 24 bytes each, and builds nothing before End of Data', () => {
    const store = new PayloadStore();
    const update = store.start(true);
    const f = newPrefixFields();
    const frame = encode(prefix(2, '10.0.0.0/24', 24, 1));
    for (let n = 0; n < 100_000; n++) {
      f.family = 4;
      f.flags = 1;
      f.prefixLength = 24;
      f.maxLength = 24;
      f.w0 = ((10 << 24) | (n << 8)) >>> 0;
      f.asn = 64500;
      update.prefix(f, frame, 0, frame.length);
    }
    expect(update.count).toBe(100_000);
    expect(update.added.size).toBe(0);
    expect(update.stagedBytes).toBeLessThanOrEqual(24 * 100_000);
    update.finish();
    expect(update.added.size).toBe(100_000);
    expect(update.stagedBytes).toBe(0);
    store.apply(update);
    expect(store.table.size).toBe(100_000);
  });

  it('reports the first duplicate at End of Data with the PDU as it was sent', () => {
    const store = new PayloadStore();
    const update = store.start(true);
    const a = encode(prefix(2, '192.0.2.0/24', 24, 64496));
    const c = encode(prefix(2, '2001:db8::/32', 48, 65000));
    stage(update, a);
    stage(update, c);
    stage(update, c);
    stage(update, a);
    let error: unknown;
    try {
      update.finish();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RtrWireError);
    expect((error as RtrWireError).pduErrorCode).toBe(ErrorCode.DuplicateAnnouncement);
    expect(Array.from((error as RtrWireError).pdu)).toEqual(Array.from(c));
  });

  it('answers a withdrawal of a prefix not held with code 6, after an announce-withdraw pair nets out', () => {
    const store = new PayloadStore();
    const update = store.start(false);
    const a = encode(prefix(1, '192.0.2.0/24', 24, 64496));
    const wa = encode(prefix(1, '192.0.2.0/24', 24, 64496, false));
    stage(update, a);
    stage(update, wa);
    stage(update, wa);
    expect(() => update.finish()).toThrow(
      expect.objectContaining({ pduErrorCode: ErrorCode.WithdrawalOfUnknownRecord }),
    );
  });

  it('logs staged ASPA records compactly too, and withdraws an unknown one with code 6 at End of Data', () => {
    const store = new PayloadStore();
    const update = store.start(true);
    const frame = Buffer.from([2]);
    for (let n = 0; n < 10_000; n++)
      update.aspa(
        { type: 11, version: 2, flags: 1, customer: n + 1, providers: [n + 2, n + 3] },
        frame,
        0,
        20,
      );
    // 5 words a record, with at most twice that for growth.
    expect(update.stagedBytes).toBeLessThanOrEqual(2 * 20 * 10_000);
    expect(update.aspas.size).toBe(0);
    update.finish();
    expect(update.aspas.size).toBe(10_000);
    const next = store.start(false);
    next.aspa({ type: 11, version: 2, flags: 0, customer: 777_777, providers: [] }, frame, 0, 12);
    expect(() => next.finish()).toThrow(
      expect.objectContaining({
        pduErrorCode: ErrorCode.WithdrawalOfUnknownRecord,
        pdu: new Uint8Array([2, 11, 0, 0, 0, 0, 0, 12, 0, 0x0b, 0xde, 0x31]),
      }),
    );
  });
});
