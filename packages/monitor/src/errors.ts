// Every error the monitor reports on its own account is a MonitorError with a stable
// `code`; match on the code, never on the message. Errors about a file name the file,
// the line where there is one, and the reason.

export type MonitorErrorCode =
  'ROVKIT_ERR_CONFIG' | 'ROVKIT_ERR_ROUTE_FILE' | 'ROVKIT_ERR_LISTEN' | 'ROVKIT_ERR_STORE_FULL';

export class MonitorError extends Error {
  override readonly name: string = 'MonitorError';
  readonly code: MonitorErrorCode;

  constructor(code: MonitorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** `file:line: reason`, or `file: reason` where no line applies. */
function located(file: string, line: number | undefined, reason: string): string {
  return `${file}${line === undefined ? '' : `:${line}`}: ${reason}`;
}

/** A config file or flag that cannot be used. `file` is "command line" for flags. */
export class ConfigError extends MonitorError {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly line: number | undefined;
  readonly reason: string;

  constructor(file: string, line: number | undefined, reason: string, options?: ErrorOptions) {
    super('ROVKIT_ERR_CONFIG', located(file, line, reason), options);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** A route list that cannot be read: the file, the line where known, the reason. */
export class RouteFileError extends MonitorError {
  override readonly name = 'RouteFileError';
  readonly file: string;
  readonly line: number | undefined;
  readonly reason: string;

  constructor(file: string, line: number | undefined, reason: string, options?: ErrorOptions) {
    super('ROVKIT_ERR_ROUTE_FILE', located(file, line, reason), options);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** The HTTP port cannot be bound (in use, no permission, bad address). */
export class ListenError extends MonitorError {
  override readonly name = 'ListenError';
  readonly address: string;

  constructor(address: string, reason: string, options?: ErrorOptions) {
    super('ROVKIT_ERR_LISTEN', `cannot listen on ${address}: ${reason}`, options);
    this.address = address;
  }
}

/** More sources registered than the route store can tell apart. */
export class StoreFullError extends MonitorError {
  override readonly name = 'StoreFullError';
  constructor(message: string) {
    super('ROVKIT_ERR_STORE_FULL', message);
  }
}
