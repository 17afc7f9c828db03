export type BmpErrorCode =
  /** A message that does not parse (its BGP PDU's BgpError is the cause where there is one). */
  | 'BMP_ERR_MALFORMED'
  /** A BMP version other than 3 (RFC 7854). */
  | 'BMP_ERR_VERSION'
  /** A message longer than the listener's limit: refusing to buffer it. */
  | 'BMP_ERR_TOO_LARGE'
  /** A connection whose first message is not an Initiation (RFC 7854 section 4.3). */
  | 'BMP_ERR_NO_INITIATION';

/**
 * A router's BMP stream that cannot be read. The listener closes that router's session
 * (only that one) and reports the error. `offset` is the message's byte offset in the
 * session's stream, `messageType` its BMP type when the header was read.
 */
export class BmpError extends Error {
  override readonly name = 'BmpError';
  readonly code: BmpErrorCode;
  readonly offset: number;
  readonly messageType: number | undefined;

  constructor(
    code: BmpErrorCode,
    offset: number,
    message: string,
    messageType?: number,
    options?: ErrorOptions,
  ) {
    super(
      `${message} (message at byte ${offset}${messageType === undefined ? '' : `, type ${messageType}`})`,
      options,
    );
    this.code = code;
    this.offset = offset;
    this.messageType = messageType;
  }
}
