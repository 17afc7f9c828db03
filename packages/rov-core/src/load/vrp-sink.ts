import type { Family } from '../prefix.js';

/**
 * Where a VRP file reader puts what it reads: numbers only, so that a million VRPs
 * do not become a million objects. `ta` is an index from internTa.
 */
export interface VrpSink {
  internTa(name: string): number;
  addRaw(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
    ta: number,
    expires: number,
  ): unknown;
}

/** A streaming reader of one VRP file format. */
export interface VrpFileReader {
  /** Feeds the next piece of the (decompressed) file. */
  push(chunk: Buffer): void;
  /** Signals the end of the file; throws if it ended early. */
  end(): void;
  /** VRP rows read so far. */
  readonly count: number;
}
