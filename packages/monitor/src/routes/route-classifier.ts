// Which routes a live feed (BMP) brings in are the operator's, and in which group:
//   - a route inside a prefix of the route list takes the group of the most specific
//     listed prefix that holds it (own, customer:NAME, ...);
//   - else a route whose origin is one of the operator's ASNs (--own-asn) is "own";
//   - else it is someone else's: counted in the feed's own group only when the
//     selection is "all".
import { PrefixTrie, type Family } from '@rovkit/core';

/** --bmp-routes: all routes seen, the operator's (listed prefixes or own ASNs), or listed prefixes only. */
export const ROUTE_SELECTIONS = ['all', 'own', 'listed'] as const;
export type RouteSelection = (typeof ROUTE_SELECTIONS)[number];

/** Group of routes whose origin is an own ASN (and of list entries naming no group). */
export const OWN_GROUP = 'own';

export interface ListedPrefix {
  readonly family: Family;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  readonly length: number;
  readonly group: string;
}

export class RouteClassifier {
  readonly selection: RouteSelection;
  readonly ownAsns: ReadonlySet<number>;
  /** Group of the routes that are neither listed nor own (selection "all"). */
  readonly otherGroup: string;
  readonly #v4 = new PrefixTrie(1, 64);
  readonly #v6 = new PrefixTrie(4, 64);
  // Trie heads hold an index into #groups; -1 is a node that only joins two others.
  #groups: string[] = [];
  #best = -1;
  readonly #visit = (n: number): void => {
    const g = this.#trie.head[n]!;
    if (g >= 0) this.#best = g;
  };
  #trie: PrefixTrie = this.#v4;

  constructor(selection: RouteSelection, ownAsns: ReadonlySet<number>, otherGroup: string) {
    this.selection = selection;
    this.ownAsns = ownAsns;
    this.otherGroup = otherGroup;
  }

  /** Listed prefixes held. */
  listed = 0;

  /** Replaces the listed prefixes (the route lists were read again). */
  setListed(prefixes: Iterable<ListedPrefix>): void {
    this.#v4.clear();
    this.#v6.clear();
    const groups: string[] = [];
    const index = new Map<string, number>();
    this.listed = 0;
    for (const p of prefixes) {
      let g = index.get(p.group);
      if (g === undefined) {
        g = groups.length;
        groups.push(p.group);
        index.set(p.group, g);
      }
      const trie = this.#key(p.family, p.w0, p.w1, p.w2, p.w3);
      const n = trie.insert(p.length);
      // Two entries for one prefix (two origins) with different groups: the first wins,
      // as a route list names one group per prefix in practice.
      if (trie.head[n]! < 0) {
        trie.head[n] = g;
        this.listed++;
      }
    }
    this.#groups = groups;
  }

  /** The route's group, or undefined when the selection leaves it out. */
  classify(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    origin: number,
    isSet: boolean,
  ): string | undefined {
    const trie = this.#key(family, w0, w1, w2, w3);
    this.#trie = trie;
    this.#best = -1;
    if (trie.root >= 0) trie.forEachCovering(length, this.#visit);
    if (this.#best >= 0) return this.#groups[this.#best];
    if (this.selection === 'listed') return undefined;
    if (!isSet && this.ownAsns.has(origin)) return OWN_GROUP;
    return this.selection === 'all' ? this.otherGroup : undefined;
  }

  #key(family: Family, w0: number, w1: number, w2: number, w3: number): PrefixTrie {
    const trie = family === 4 ? this.#v4 : this.#v6;
    const k = trie.key;
    k[0] = w0;
    k[1] = w1;
    k[2] = w2;
    k[3] = w3;
    return trie;
  }
}
