export type DecompressErrorCode =
  /** Not a bzip2 stream (bad signature or block size), or data after the end of a stream. */
  | 'BZIP2_ERR_FORMAT'
  /** Corrupt compressed data (bad block magic, Huffman tables, selectors, run lengths...). */
  | 'BZIP2_ERR_DATA'
  /** A block or stream CRC does not match the decompressed data. */
  | 'BZIP2_ERR_CRC'
  /** The input ends inside a block or before the end-of-stream marker. */
  | 'BZIP2_ERR_TRUNCATED'
  /** A feature this decoder does not implement (randomised blocks of bzip2 0.9.0). */
  | 'BZIP2_ERR_UNSUPPORTED'
  | 'GZIP_ERR_DATA'
  | 'GZIP_ERR_TRUNCATED';

/**
 * A compressed input that cannot be decoded. Everything decoded before the fault has been
 * emitted when this is raised: `outputBytes` says how much, `inputOffset` is the position
 * in the compressed input where the fault was found (approximate for gzip).
 */
export class DecompressError extends Error {
  override readonly name = 'DecompressError';
  readonly code: DecompressErrorCode;
  readonly inputOffset: number;
  readonly outputBytes: number;

  constructor(
    code: DecompressErrorCode,
    message: string,
    inputOffset: number,
    outputBytes: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.inputOffset = inputOffset;
    this.outputBytes = outputBytes;
  }
}
