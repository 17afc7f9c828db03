/**
 * Every error @rovkit/core throws is a RovError with a stable `code`; match on the
 * code, never on the message.
 */
export type RovErrorCode =
  'ROV_ERR_PREFIX' | 'ROV_ERR_ASN' | 'ROV_ERR_MAX_LENGTH' | 'ROV_ERR_VRP_FILE' | 'ROV_ERR_SNAPSHOT';

export class RovError extends Error {
  override readonly name: string = 'RovError';
  readonly code: RovErrorCode;

  constructor(code: RovErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A prefix that does not parse, has host bits set or a length out of range. */
export class PrefixError extends RovError {
  override readonly name = 'PrefixError';
  constructor(message: string) {
    super('ROV_ERR_PREFIX', message);
  }
}

/** An AS number that is not an integer in 0..4294967295. */
export class AsnError extends RovError {
  override readonly name = 'AsnError';
  constructor(message: string) {
    super('ROV_ERR_ASN', message);
  }
}

/** A maxLength below the prefix length or above 32/128. */
export class MaxLengthError extends RovError {
  override readonly name = 'MaxLengthError';
  constructor(message: string) {
    super('ROV_ERR_MAX_LENGTH', message);
  }
}

/** A VRP file that cannot be read: names the file and, where known, the line. */
export class VrpFileError extends RovError {
  override readonly name = 'VrpFileError';
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, reason: string, options?: ErrorOptions) {
    super('ROV_ERR_VRP_FILE', `${file}${line === undefined ? '' : `:${line}`}: ${reason}`, options);
    this.file = file;
    this.line = line;
  }
}

/** A snapshot that is not one, is of another format version, or is inconsistent. */
export class SnapshotError extends RovError {
  override readonly name = 'SnapshotError';
  constructor(message: string, options?: ErrorOptions) {
    super('ROV_ERR_SNAPSHOT', message, options);
  }
}
