/** Stable codes for what can go wrong with a peer harness; match on `code`, not the message. */
export type PeerErrorCode =
  'BENCH_ERR_PEER_MISSING' | 'BENCH_ERR_PEER_BUILD' | 'BENCH_ERR_PEER_RUN' | 'BENCH_ERR_PEER_OUTPUT';

/** A peer (rtrlib harness, rpki-validator) that is missing, fails to build or run, or prints nonsense. */
export class PeerError extends Error {
  override readonly name = 'PeerError';
  readonly code: PeerErrorCode;
  /** The peer's name: "rtrlib", "rpki-validator". */
  readonly peer: string;

  constructor(code: PeerErrorCode, peer: string, message: string, options?: ErrorOptions) {
    super(`${peer}: ${message}`, options);
    this.code = code;
    this.peer = peer;
  }
}

/** Route states the peers report, one byte per route: rtrlib cannot say why a route is invalid. */
export const PeerState = { NotFound: 0, Valid: 1, Invalid: 2 } as const;
export type PeerState = (typeof PeerState)[keyof typeof PeerState];
