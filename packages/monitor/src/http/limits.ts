// Every limit of the HTTP listener, in one place: its default, and the `rovkit monitor`
// flag that sets it (packages/monitor/README.md, "HTTP limits"). The listener is reachable
// from the operator's network, so a silent, trickling or greedy client costs a bounded
// number of sockets, bytes, milliseconds and answers.

export interface HttpLimits {
  /** Connections open at once; one more is closed on accept (--http-max-connections). */
  readonly maxConnections: number;
  /** ms without a byte either way before a connection is closed (--http-idle-timeout). */
  readonly idleTimeoutMs: number;
  /** ms from the first byte of a request (or the connection) to its last header (--http-header-timeout). */
  readonly headersTimeoutMs: number;
  /** ms for a whole request, body included (--http-request-timeout). */
  readonly requestTimeoutMs: number;
  /** ms a kept-alive connection waits for its next request. */
  readonly keepAliveTimeoutMs: number;
  /** Bytes of request line and headers; more is answered 431. */
  readonly maxHeaderBytes: number;
  /** Bytes of a request body; more is answered 413 (--http-max-body). */
  readonly maxBodyBytes: number;
  /** Routes in one batch validity request; more is answered 413 (--http-max-batch-routes). */
  readonly maxBatchRoutes: number;
  /** Bytes of one batch validity answer; a larger one is refused with 413 (--http-max-answer). */
  readonly maxAnswerBytes: number;
  /** Batch validity requests worked on at once; more are answered 503 (--http-max-batches). */
  readonly maxConcurrentBatches: number;
  /** Largest `limit=` of the route lists (routes, invalid-fallback, rov-enforcement); more is 400 (--http-max-list). */
  readonly maxListLimit: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  // ~20,000 idle sockets exhausted the file descriptors; a scraper, a browser and a few
  // API clients need a handful.
  maxConnections: 1024,
  idleTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  // Node's own default (16 KiB), named here so that it is stated and tested.
  maxHeaderBytes: 16 * 1024,
  // Routinator's batch validity limit: about 2,000 routes.
  maxBodyBytes: 100_000,
  maxBatchRoutes: 10_000,
  maxAnswerBytes: 16 * 1024 * 1024,
  maxConcurrentBatches: 2,
  // Each listed route carries its explanation: 1.27 M of them would be hundreds of MB
  // built in one go.
  maxListLimit: 10_000,
};

/** Batch work runs in slices of about this many ms, with a turn of the event loop between. */
export const BATCH_SLICE_MS = 10;

/** How often the timeouts of open requests are checked (Node's default is 30 s). */
export const TIMEOUT_CHECK_MS = 1_000;

/**
 * After an answer sent before the body was read (a 413, a 405 to a POST), up to this many
 * body bytes are still read and dropped, for at most LINGER_MS, so that a client that
 * writes its whole body before reading sees the answer and not a reset (nginx's
 * lingering close); past either the connection is closed.
 */
export const LINGER_BYTES = 64 * 1024 * 1024;
export const LINGER_MS = 5_000;
