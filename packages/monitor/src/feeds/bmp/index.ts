// BMP (RFC 7854, RFC 9069 Loc-RIB, RFC 8671 Adj-RIB-Out) as a route source.
export { BmpError, type BmpErrorCode } from './errors.js';
export {
  BmpListener,
  DEFAULT_BMP_PORT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_INIT_TIMEOUT,
  DEFAULT_MAX_MESSAGE_LENGTH,
  DEFAULT_MAX_PENDING,
  DEFAULT_MAX_ROUTERS,
  type BmpListenerCounters,
  type BmpListenerOptions,
} from './listener.js';
export { BmpMessageType, BmpPeerType, PeerDownReason, type PeerDown, type Termination } from './messages.js';
export {
  BmpSession,
  RouterState,
  UPDATE_TREATMENTS,
  type SessionEvents,
  type UpdateTreatment,
} from './session.js';
export {
  POLICY_STAGES,
  PolicyStage,
  policyStageNames,
  type BmpCloseReason,
  type BmpListenerEvents,
  type BmpLogEntry,
  type BmpPeer,
  type BmpPeerTypeName,
  type BmpRoute,
  type BmpRouteSink,
  type BmpRouter,
  type BmpRouterCounters,
  type PolicyStageName,
} from './types.js';
export { unpackKind, unpackOrigin, type RouteVisitor } from './rib.js';
