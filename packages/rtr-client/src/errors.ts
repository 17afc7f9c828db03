/**
 * Every error @rovkit/rtr-client emits or throws is an RtrError with a stable `code`;
 * match on the code (or the class), never on the message. Errors that correspond to an
 * RTR Error Report carry the wire code in `pduErrorCode` (RFC 8210 §12, 8210bis §12).
 */

/** Error codes of the Error Report PDU. */
export const ErrorCode = {
  CorruptData: 0,
  InternalError: 1,
  NoDataAvailable: 2,
  InvalidRequest: 3,
  UnsupportedProtocolVersion: 4,
  UnsupportedPduType: 5,
  WithdrawalOfUnknownRecord: 6,
  DuplicateAnnouncement: 7,
  UnexpectedProtocolVersion: 8,
  /** 8210bis: an ASPA announcement without providers, with AS0 among several, or unsorted. */
  AspaProviderListError: 9,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const errorCodeNames: readonly string[] = [
  'Corrupt Data',
  'Internal Error',
  'No Data Available',
  'Invalid Request',
  'Unsupported Protocol Version',
  'Unsupported PDU Type',
  'Withdrawal of Unknown Record',
  'Duplicate Announcement Received',
  'Unexpected Protocol Version',
  'ASPA Provider List Error',
];

/** The RFC name of an Error Report code, or `code N` for codes this library does not know. */
export function errorCodeName(code: number): string {
  return errorCodeNames[code] ?? `code ${code}`;
}

export type RtrErrorCode =
  | 'RTR_ERR_CORRUPT_DATA'
  | 'RTR_ERR_INTERNAL'
  | 'RTR_ERR_INVALID_REQUEST'
  | 'RTR_ERR_UNSUPPORTED_VERSION'
  | 'RTR_ERR_UNSUPPORTED_PDU_TYPE'
  | 'RTR_ERR_WITHDRAWAL_OF_UNKNOWN'
  | 'RTR_ERR_DUPLICATE_ANNOUNCEMENT'
  | 'RTR_ERR_UNEXPECTED_VERSION'
  | 'RTR_ERR_ASPA_PROVIDER_LIST'
  | 'RTR_ERR_REMOTE'
  | 'RTR_ERR_NO_DATA'
  | 'RTR_ERR_CONNECT'
  | 'RTR_ERR_CONNECT_TIMEOUT'
  | 'RTR_ERR_CONNECTION_CLOSED'
  | 'RTR_ERR_RESPONSE_TIMEOUT'
  | 'RTR_ERR_RESPONSE_DEADLINE'
  | 'RTR_ERR_RESPONSE_TOO_SLOW'
  | 'RTR_ERR_PAYLOAD_LIMIT'
  | 'RTR_ERR_EXPIRED'
  | 'RTR_ERR_INVALID_ARGUMENT'
  | 'RTR_ERR_STATE_FILE'
  | 'RTR_ERR_CLOSED';

export class RtrError extends Error {
  override readonly name: string = 'RtrError';
  readonly code: RtrErrorCode;

  constructor(code: RtrErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A protocol violation detected here. The session answers it with an Error Report
 * carrying `pduErrorCode` and the offending PDU (`pdu`, a copy of at most the PDU's
 * bytes), then drops the transport (every such error is fatal, RFC 8210 §12).
 */
export class RtrWireError extends RtrError {
  override readonly name: string = 'RtrWireError';
  readonly pduErrorCode: ErrorCode;
  /** The erroneous PDU (or its header), for the Error Report. Empty when unknown. */
  pdu: Uint8Array;

  constructor(code: RtrErrorCode, pduErrorCode: ErrorCode, message: string, pdu?: Uint8Array) {
    super(code, message);
    this.pduErrorCode = pduErrorCode;
    this.pdu = pdu ?? new Uint8Array(0);
  }
}

/** A PDU whose length, fields or place in the exchange make no sense (wire code 0). */
export class CorruptDataError extends RtrWireError {
  override readonly name = 'CorruptDataError';
  constructor(message: string, pdu?: Uint8Array) {
    super('RTR_ERR_CORRUPT_DATA', ErrorCode.CorruptData, message, pdu);
  }
}

/** A PDU with a protocol version this library does not implement (wire code 4). */
export class UnsupportedVersionError extends RtrWireError {
  override readonly name = 'UnsupportedVersionError';
  readonly version: number;
  constructor(version: number, pdu?: Uint8Array) {
    super(
      'RTR_ERR_UNSUPPORTED_VERSION',
      ErrorCode.UnsupportedProtocolVersion,
      `unsupported protocol version ${version}`,
      pdu,
    );
    this.version = version;
  }
}

/** A PDU type that does not exist in the session's version, or that a router never receives (wire code 5). */
export class UnsupportedPduTypeError extends RtrWireError {
  override readonly name = 'UnsupportedPduTypeError';
  readonly pduType: number;
  constructor(pduType: number, version: number, pdu?: Uint8Array) {
    super(
      'RTR_ERR_UNSUPPORTED_PDU_TYPE',
      ErrorCode.UnsupportedPduType,
      `unsupported PDU type ${pduType} in version ${version}`,
      pdu,
    );
    this.pduType = pduType;
  }
}

/** A PDU of another version than the one the session was opened with (wire code 8). */
export class UnexpectedVersionError extends RtrWireError {
  override readonly name = 'UnexpectedVersionError';
  constructor(got: number, expected: number, pdu?: Uint8Array) {
    super(
      'RTR_ERR_UNEXPECTED_VERSION',
      ErrorCode.UnexpectedProtocolVersion,
      `PDU of version ${got} in a version ${expected} session`,
      pdu,
    );
  }
}

/** A withdrawal of a record the router does not hold (wire code 6). */
export class WithdrawalOfUnknownError extends RtrWireError {
  override readonly name = 'WithdrawalOfUnknownError';
  constructor(record: string, pdu?: Uint8Array) {
    super(
      'RTR_ERR_WITHDRAWAL_OF_UNKNOWN',
      ErrorCode.WithdrawalOfUnknownRecord,
      `withdrawal of unknown record ${record}`,
      pdu,
    );
  }
}

/** An announcement of a record the router already holds (wire code 7). */
export class DuplicateAnnouncementError extends RtrWireError {
  override readonly name = 'DuplicateAnnouncementError';
  constructor(record: string, pdu?: Uint8Array) {
    super(
      'RTR_ERR_DUPLICATE_ANNOUNCEMENT',
      ErrorCode.DuplicateAnnouncement,
      `duplicate announcement of ${record}`,
      pdu,
    );
  }
}

/** An ASPA PDU whose provider list breaks 8210bis §5.12 (wire code 9). */
export class AspaProviderListError extends RtrWireError {
  override readonly name = 'AspaProviderListError';
  constructor(message: string, pdu?: Uint8Array) {
    super('RTR_ERR_ASPA_PROVIDER_LIST', ErrorCode.AspaProviderListError, message, pdu);
  }
}

/**
 * A response staging more payload PDUs than `maxPayloadPdus` allows, so that a broken
 * cache that never sends End of Data cannot grow the client's memory without end. Sent
 * as Internal Error (wire code 1): a limit of this client, not a fault RFC 8210 names.
 */
export class PayloadLimitError extends RtrWireError {
  override readonly name = 'PayloadLimitError';
  constructor(limit: number, pdu?: Uint8Array) {
    super(
      'RTR_ERR_PAYLOAD_LIMIT',
      ErrorCode.InternalError,
      `the cache sent more than ${limit} payload PDUs in one response (maxPayloadPdus)`,
      pdu,
    );
  }
}

/** A PDU that is a request (Serial/Reset Query) arriving at the router (wire code 3). */
export class InvalidRequestError extends RtrWireError {
  override readonly name = 'InvalidRequestError';
  constructor(message: string, pdu?: Uint8Array) {
    super('RTR_ERR_INVALID_REQUEST', ErrorCode.InvalidRequest, message, pdu);
  }
}

/**
 * The cache sent an Error Report. `pduErrorCode` is the cache's code, `text` its
 * diagnostic text. Never answered (RFC 8210 §5.11). "No Data Available" has its own
 * class because it is not fatal.
 */
export class RemoteError extends RtrError {
  override readonly name: string = 'RemoteError';
  readonly pduErrorCode: number;
  readonly text: string;
  constructor(pduErrorCode: number, text: string, code: RtrErrorCode = 'RTR_ERR_REMOTE') {
    super(
      code,
      `cache reported ${errorCodeName(pduErrorCode)}${text === '' ? '' : `: ${JSON.stringify(text)}`}`,
    );
    this.pduErrorCode = pduErrorCode;
    this.text = text;
  }
}

/** The cache has no data yet (Error Report code 2): not fatal, the client retries later. */
export class NoDataAvailableError extends RemoteError {
  override readonly name = 'NoDataAvailableError';
  constructor(text: string) {
    super(ErrorCode.NoDataAvailable, text, 'RTR_ERR_NO_DATA');
  }
}

/** Transport-level failures and local conditions. */
export class ConnectError extends RtrError {
  override readonly name = 'ConnectError';
  constructor(target: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('RTR_ERR_CONNECT', `cannot connect to ${target}${reason}`, options);
  }
}

export class ConnectTimeoutError extends RtrError {
  override readonly name = 'ConnectTimeoutError';
  constructor(target: string, ms: number) {
    super('RTR_ERR_CONNECT_TIMEOUT', `connecting to ${target} took longer than ${ms} ms`);
  }
}

export class ConnectionClosedError extends RtrError {
  override readonly name = 'ConnectionClosedError';
  constructor(target: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('RTR_ERR_CONNECTION_CLOSED', `connection to ${target} closed${reason}`, options);
  }
}

export class ResponseTimeoutError extends RtrError {
  override readonly name = 'ResponseTimeoutError';
  constructor(target: string, ms: number) {
    super('RTR_ERR_RESPONSE_TIMEOUT', `${target} sent nothing for ${ms} ms in the middle of an exchange`);
  }
}

/** A response (query to End of Data) took longer than `responseDeadline` as a whole. */
export class ResponseDeadlineError extends RtrError {
  override readonly name = 'ResponseDeadlineError';
  constructor(target: string, ms: number) {
    super(
      'RTR_ERR_RESPONSE_DEADLINE',
      `${target} did not finish its response within ${ms} ms (responseDeadline)`,
    );
  }
}

/**
 * A response that goes on but too slowly: fewer than `bytes` in an interval of `ms`,
 * once the grace period is over (a cache that trickles bytes never trips the idle timeout).
 */
export class ResponseTooSlowError extends RtrError {
  override readonly name = 'ResponseTooSlowError';
  constructor(target: string, got: number, bytes: number, ms: number) {
    super(
      'RTR_ERR_RESPONSE_TOO_SLOW',
      `${target} sent ${got} bytes in ${ms} ms of its response, below the minimum progress of ${bytes} bytes (minProgress)`,
    );
  }
}

export class ExpiredError extends RtrError {
  override readonly name = 'ExpiredError';
  constructor(seconds: number) {
    super('RTR_ERR_EXPIRED', `no successful sync for ${seconds} s (the expire interval): data purged`);
  }
}

export class InvalidArgumentError extends RtrError {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string) {
    super('RTR_ERR_INVALID_ARGUMENT', message);
  }
}

export class StateFileError extends RtrError {
  override readonly name = 'StateFileError';
  constructor(path: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('RTR_ERR_STATE_FILE', `cannot use state file ${path}${reason}`, options);
  }
}

export class ClosedError extends RtrError {
  override readonly name = 'ClosedError';
  constructor() {
    super('RTR_ERR_CLOSED', 'the client was closed');
  }
}
