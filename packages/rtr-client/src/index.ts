// @rovkit/rtr-client: an RPKI-to-Router client (RFC 6810, RFC 8210, draft-ietf-sidrops-8210bis)
// on node:net and node:tls. The codec is exported too, for tools and tests.
export * from './errors.js';
export {
  PduType,
  HEADER_LENGTH,
  MAX_VERSION,
  DEFAULT_MAX_PDU_LENGTH,
  DEFAULT_TIMERS,
  FLAG_ANNOUNCE,
  decodePdu,
  readPrefix,
  newPrefixFields,
  writePdu,
  writeSerialNotify,
  writeSerialQuery,
  writeResetQuery,
  writeCacheResponse,
  writeIpv4Prefix,
  writeIpv6Prefix,
  writeEndOfData,
  writeCacheReset,
  writeRouterKey,
  writeErrorReport,
  writeAspa,
} from './pdu.js';
export type {
  Pdu,
  PrefixFields,
  Timers,
  SerialNotifyPdu,
  SerialQueryPdu,
  ResetQueryPdu,
  CacheResponsePdu,
  Ipv4PrefixPdu,
  Ipv6PrefixPdu,
  EndOfDataPdu,
  CacheResetPdu,
  RouterKeyPdu,
  ErrorReportPdu,
  AspaPdu,
} from './pdu.js';
export { Framer, type FrameHandler } from './framer.js';
export { Reader } from './reader.js';
export { Writer } from './writer.js';
export { compareSerial, serialBefore, serialAdd } from './serial.js';
export {
  RtrClient,
  DEFAULT_MAX_PAYLOAD_PDUS,
  DEFAULT_RESPONSE_DEADLINE_MS,
  DEFAULT_MIN_PROGRESS,
  TIMER_RANGES,
  type RtrClientOptions,
  type RtrClientState,
  type RtrClientEvents,
  type RtrDataState,
  type RtrDelta,
  type RtrWarning,
  type CacheOption,
  type BackoffOptions,
} from './client.js';
export type { AspaRecord, RouterKeyRecord, Changes, PayloadDelta } from './payload.js';
export {
  tcpTransport,
  tlsTransport,
  parseCacheAddress,
  RTR_TCP_PORT,
  RTR_TLS_PORT,
  type Transport,
  type TcpOptions,
  type TlsOptions,
} from './transport.js';
export { channels } from './diagnostics.js';
export { encodeState, decodeState, type PersistedState, type PersistedHeader } from './persist.js';
