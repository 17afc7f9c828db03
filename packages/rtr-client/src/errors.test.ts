// Every error class from one table (undici test/errors.js): code, name, wire code,
// and the class hierarchy consumers match on.
import { describe, expect, it } from 'vitest';
import {
  AspaProviderListError,
  ClosedError,
  ConnectError,
  ConnectionClosedError,
  ConnectTimeoutError,
  CorruptDataError,
  DuplicateAnnouncementError,
  ErrorCode,
  errorCodeName,
  ExpiredError,
  InvalidArgumentError,
  InvalidRequestError,
  NoDataAvailableError,
  RemoteError,
  ResponseTimeoutError,
  RtrError,
  RtrWireError,
  StateFileError,
  UnexpectedVersionError,
  UnsupportedPduTypeError,
  UnsupportedVersionError,
  WithdrawalOfUnknownError,
} from './errors.js';

const table: [Error, string, string, number | undefined][] = [
  [new CorruptDataError('x'), 'CorruptDataError', 'RTR_ERR_CORRUPT_DATA', ErrorCode.CorruptData],
  [new UnsupportedVersionError(3), 'UnsupportedVersionError', 'RTR_ERR_UNSUPPORTED_VERSION', 4],
  [new UnsupportedPduTypeError(5, 1), 'UnsupportedPduTypeError', 'RTR_ERR_UNSUPPORTED_PDU_TYPE', 5],
  [new UnexpectedVersionError(1, 2), 'UnexpectedVersionError', 'RTR_ERR_UNEXPECTED_VERSION', 8],
  [
    new WithdrawalOfUnknownError('10.0.0.0/8'),
    'WithdrawalOfUnknownError',
    'RTR_ERR_WITHDRAWAL_OF_UNKNOWN',
    6,
  ],
  [
    new DuplicateAnnouncementError('10.0.0.0/8'),
    'DuplicateAnnouncementError',
    'RTR_ERR_DUPLICATE_ANNOUNCEMENT',
    7,
  ],
  [new AspaProviderListError('x'), 'AspaProviderListError', 'RTR_ERR_ASPA_PROVIDER_LIST', 9],
  [new InvalidRequestError('x'), 'InvalidRequestError', 'RTR_ERR_INVALID_REQUEST', 3],
  [new RemoteError(1, 'boom'), 'RemoteError', 'RTR_ERR_REMOTE', 1],
  [new NoDataAvailableError(''), 'NoDataAvailableError', 'RTR_ERR_NO_DATA', 2],
  [new ConnectError('127.0.0.1:1'), 'ConnectError', 'RTR_ERR_CONNECT', undefined],
  [new ConnectTimeoutError('127.0.0.1:1', 5), 'ConnectTimeoutError', 'RTR_ERR_CONNECT_TIMEOUT', undefined],
  [new ConnectionClosedError('127.0.0.1:1'), 'ConnectionClosedError', 'RTR_ERR_CONNECTION_CLOSED', undefined],
  [new ResponseTimeoutError('127.0.0.1:1', 5), 'ResponseTimeoutError', 'RTR_ERR_RESPONSE_TIMEOUT', undefined],
  [new ExpiredError(7200), 'ExpiredError', 'RTR_ERR_EXPIRED', undefined],
  [new InvalidArgumentError('x'), 'InvalidArgumentError', 'RTR_ERR_INVALID_ARGUMENT', undefined],
  [new StateFileError('/x'), 'StateFileError', 'RTR_ERR_STATE_FILE', undefined],
  [new ClosedError(), 'ClosedError', 'RTR_ERR_CLOSED', undefined],
];

describe('errors', () => {
  it.each(table.map(([e, name, code, wire]) => [name, e, code, wire] as const))(
    '%s has its name, code and wire code',
    (name, error, code, wire) => {
      expect(error).toBeInstanceOf(RtrError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect((error as RtrError).code).toBe(code);
      expect((error as { pduErrorCode?: number }).pduErrorCode).toBe(wire);
      expect(error.message.length).toBeGreaterThan(0);
    },
  );

  it('makes the locally detected protocol errors RtrWireErrors and remote ones not', () => {
    const wire = table.filter(([e]) => e instanceof RtrWireError).map(([, name]) => name);
    expect(wire).toHaveLength(8);
    expect(new NoDataAvailableError('')).toBeInstanceOf(RemoteError);
    expect(new RemoteError(0, '')).not.toBeInstanceOf(RtrWireError);
  });

  it('names the value in the message and keeps a cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new ConnectError('127.0.0.1:324', { cause });
    expect(e.message).toContain('127.0.0.1:324');
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.cause).toBe(cause);
    expect(new UnsupportedVersionError(7).message).toContain('7');
  });

  it('names every Error Report code of RFC 8210 and 8210bis, and numbers unknown ones', () => {
    expect(errorCodeName(ErrorCode.CorruptData)).toBe('Corrupt Data');
    expect(errorCodeName(ErrorCode.AspaProviderListError)).toBe('ASPA Provider List Error');
    expect(errorCodeName(99)).toBe('code 99');
  });
});
