// How VRPs get into the monitor: each VRP source (a watched file, an RTR client) keeps
// its own set and hands the monitor exact deltas of it. The monitor holds the union of
// all sources (VrpTable counts copies, so a VRP two sources share stays until both
// withdraw it) and revalidates only the routes under the changed prefixes.
import type { VrpList } from '@rovkit/core';

export interface VrpSink {
  /** A source id for applyVrps. */
  registerVrpSource(name: string): number;
  /**
   * The source's set changed: `withdrawn` were in it and are gone, `announced` are new.
   * `full`: this is the source's complete set (its first, or a reset after which the
   * delta was computed against what it held before).
   */
  applyVrps(source: number, announced: VrpList, withdrawn: VrpList, full: boolean): void;
  /**
   * The source's data expired (it withdrew everything with applyVrps first): it holds no
   * usable VRPs until its next full set.
   */
  vrpsExpired?(source: number): void;
}

/** A VRP input's lifecycle. start() resolves once started (not necessarily synced). */
export interface VrpSource {
  /** Names the source in metrics (`source` label), logs and alerts. */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
