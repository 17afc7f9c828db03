/** Which part of a BGP message was malformed; stable, for tests and counters. */
export type BgpPart =
  | 'header'
  | 'open'
  | 'capability'
  | 'withdrawn'
  | 'attributes'
  | 'as_path'
  | 'mp_reach'
  | 'mp_unreach'
  | 'nlri';

/**
 * A BGP message (or an MRT RIB entry's attributes) that does not parse. `part` names the
 * field, `offset` is the byte offset of the fault in the buffer that was given to the parser.
 */
export class BgpError extends Error {
  readonly code = 'BGP_ERR_MALFORMED';
  override readonly name = 'BgpError';
  readonly part: BgpPart;
  readonly offset: number;

  constructor(part: BgpPart, offset: number, message: string, options?: ErrorOptions) {
    super(`${part}: ${message} (at byte ${offset})`, options);
    this.part = part;
    this.offset = offset;
  }
}
