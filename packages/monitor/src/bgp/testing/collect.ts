// An UpdateSink that records what it receives as text, for tests.
import { formatPrefix } from '../format.js';
import type { Family, OriginKind, UpdateSink } from '../route.js';

const kinds = ['asn', 'set', 'local'] as const;

export class CollectSink implements UpdateSink {
  readonly events: string[] = [];

  announce(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
    origin: number,
    originKind: OriginKind,
  ): void {
    const id = pathId === 0 ? '' : ` id=${pathId}`;
    const from = originKind === 0 ? String(origin) : kinds[originKind];
    this.events.push(`A ${formatPrefix(family, w0, w1, w2, w3, length)}${id} ${from}`);
  }

  withdraw(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
  ): void {
    const id = pathId === 0 ? '' : ` id=${pathId}`;
    this.events.push(`W ${formatPrefix(family, w0, w1, w2, w3, length)}${id}`);
  }

  endOfRib(afi: number, safi: number): void {
    this.events.push(`EOR ${afi}/${safi}`);
  }
}
