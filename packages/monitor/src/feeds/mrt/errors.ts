export type MrtErrorCode =
  /** A record that does not parse; the reader skips it (counted) unless `strict`. */
  | 'MRT_ERR_MALFORMED'
  /** The input ends inside a record: the records before it were read. */
  | 'MRT_ERR_TRUNCATED'
  /**
   * A record length above the configured limit (checked from the header, before any
   * memory is taken): the input is not MRT or is corrupt; reading stops, the records
   * before it are kept.
   */
  | 'MRT_ERR_TOO_LARGE';

/** An MRT (RFC 6396) input problem. `offset` is the record's byte offset in the decompressed input. */
export class MrtError extends Error {
  override readonly name = 'MrtError';
  readonly code: MrtErrorCode;
  readonly offset: number;
  /** The file read, when the reader was given a path. */
  readonly file: string | undefined;
  /** MRT type and subtype of the record, when its header was read. */
  readonly type: number | undefined;
  readonly subtype: number | undefined;

  constructor(
    code: MrtErrorCode,
    offset: number,
    message: string,
    record?: { type: number; subtype: number },
    options?: ErrorOptions & { file?: string | undefined },
  ) {
    super(
      `${options?.file === undefined ? '' : `${options.file}: `}${message} (record at byte ${offset}${record ? `, type ${record.type}/${record.subtype}` : ''})`,
      options,
    );
    this.file = options?.file;
    this.code = code;
    this.offset = offset;
    this.type = record?.type;
    this.subtype = record?.subtype;
  }
}
