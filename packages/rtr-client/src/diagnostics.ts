// Observability without a metrics dependency (undici core/diagnostics.js): named
// node:diagnostics_channel channels plus util.debuglog. Messages are built only when a
// channel has subscribers, so the per-PDU channel costs one property read otherwise.
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

export const channels = {
  /** `{ client, state, previous }` on every state change. */
  stateChange: diagnosticsChannel.channel('rpki:rtr:stateChange'),
  /** `{ client, cache, direction: 'in' | 'out', version, type, length }` per PDU. */
  pdu: diagnosticsChannel.channel('rpki:rtr:pdu'),
  /** `{ client, delta }` when an update was applied. */
  delta: diagnosticsChannel.channel('rpki:rtr:delta'),
  /** `{ client, cache, error }` for every failure (also those that only lead to a retry). */
  error: diagnosticsChannel.channel('rpki:rtr:error'),
  /** `{ client, cache, message }` for tolerated oddities (timers out of range, unusable state file). */
  warning: diagnosticsChannel.channel('rpki:rtr:warning'),
} as const;

export const debug = debuglog('rtr');
