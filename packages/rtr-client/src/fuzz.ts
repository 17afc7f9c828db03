// A harness that plays an arbitrary byte stream, as a cache's answer, to one session of
// the client's state machine (exported as "@rovkit/rtr-client/fuzz" for the fuzz test
// and benchmarks/src/fuzz-rtr.ts). No sockets: an in-memory Duplex carries the bytes.
import { Duplex } from 'node:stream';
import { VrpTable } from '@rovkit/core';
import { RtrError, RtrWireError } from './errors.js';
import { Framer } from './framer.js';
import { DEFAULT_MAX_PDU_LENGTH, PduType, type EndOfDataPdu } from './pdu.js';
import { PayloadStore, type PayloadDelta, type PayloadUpdate } from './payload.js';
import { Session, type QueryKind, type SessionHost } from './session.js';

export interface FuzzOptions {
  /** Query the session sends first (default 'reset'). */
  readonly query?: QueryKind;
  readonly version?: 0 | 1 | 2;
  /** Offsets at which the input is cut into chunks (sorted or not). */
  readonly cuts?: readonly number[];
  readonly maxPduLength?: number;
}

export interface FuzzResult {
  /** How the first exchange ended, or the code of the error that ended it. */
  readonly outcome: string;
  /** The code of the error that closed the session in the end. */
  readonly closedBy: string;
  /** The Error Report code of the protocol error that ended the session, if one did. */
  readonly pduErrorCode: number | undefined;
  /** Error Report PDUs the client sent back (their error codes). */
  readonly reportsSent: readonly number[];
  /** Updates applied (0 or more; each only at End of Data). */
  readonly applied: number;
  /** VRPs held afterwards. */
  readonly vrps: number;
  /** Highest number of VRPs seen held while bytes were being processed, before the first End of Data. */
  readonly vrpsBeforeEndOfData: number;
}

class Host implements SessionHost {
  readonly store = new PayloadStore(new VrpTable());
  applied = 0;
  commit(_session: Session, update: PayloadUpdate, _eod: EndOfDataPdu): PayloadDelta | undefined {
    if (!update.reset && update.generation !== this.store.generation) return undefined;
    this.applied++;
    return this.store.apply(update);
  }
}

/** Plays `input` to a fresh session after its first query; never throws. */
export async function runRtrStream(input: Buffer, options: FuzzOptions = {}): Promise<FuzzResult> {
  const host = new Host();
  const reportsSent: number[] = [];
  const replies = new Framer((buf, offset) => {
    if (buf[offset + 1] === PduType.ErrorReport) reportsSent.push((buf[offset + 2]! << 8) | buf[offset + 3]!);
  }, 1 << 24);
  // One Duplex: the session reads what the harness pushes, and writes into `replies`.
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      replies.push(Buffer.from(chunk));
      callback();
    },
    final(callback) {
      callback();
    },
  });
  const session = new Session(
    host,
    { target: 'fuzz://input', connect: () => Promise.resolve(socket) },
    {
      version: options.version ?? 2,
      minVersion: 0,
      maxPduLength: options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
      maxPayloadPdus: Number.MAX_SAFE_INTEGER,
      responseTimeout: 60_000,
      responseDeadline: 600_000,
      minProgress: { bytes: 0, intervalMs: 60_000, graceMs: 0 },
      notifyDebounce: 1,
      client: host,
    },
  );
  let outcome = 'open';
  let pduErrorCode: number | undefined;
  let vrpsBeforeEndOfData = 0;
  await session.open(1000);
  const done = session.exchange(options.query ?? 'reset').then(
    (o) => {
      outcome = o.kind;
    },
    (error: unknown) => {
      outcome = error instanceof RtrError ? error.code : `unexpected ${String(error)}`;
      if (error instanceof RtrWireError) pduErrorCode = error.pduErrorCode;
    },
  );
  const cuts = [...new Set(options.cuts ?? [])]
    .filter((c) => c > 0 && c < input.length)
    .sort((a, b) => a - b);
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    if (session.isClosed) break;
    socket.push(input.subarray(prev, c));
    if (host.applied === 0) vrpsBeforeEndOfData = Math.max(vrpsBeforeEndOfData, host.store.table.size);
    prev = c;
  }
  socket.push(null);
  await done;
  // The input has ended, so the session closes by itself; its reason covers errors found
  // after the first exchange (in PDUs that follow End of Data).
  const reason = await session.closed;
  if (reason instanceof RtrWireError) pduErrorCode = reason.pduErrorCode;
  return {
    outcome,
    closedBy: reason.code,
    pduErrorCode,
    reportsSent,
    applied: host.applied,
    vrps: host.store.table.size,
    vrpsBeforeEndOfData,
  };
}
