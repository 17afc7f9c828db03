// A growable columnar list of VRPs: what deltas, staged RTR payloads and diffs are
// made of. One set of typed arrays instead of an object per VRP.
import type { Family } from './prefix.js';
import { vrpObject, type Vrp } from './vrp.js';

export class VrpList {
  #length = 0;
  #family: Uint8Array;
  #words: Uint32Array;
  #prefixLength: Uint8Array;
  #maxLength: Uint8Array;
  #asn: Uint32Array;

  constructor(capacity = 64) {
    this.#family = new Uint8Array(capacity);
    this.#words = new Uint32Array(capacity * 4);
    this.#prefixLength = new Uint8Array(capacity);
    this.#maxLength = new Uint8Array(capacity);
    this.#asn = new Uint32Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  pushV4(addr: number, length: number, maxLength: number, asn: number): void {
    this.push(4, addr, 0, 0, 0, length, maxLength, asn);
  }

  pushV6(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
  ): void {
    this.push(6, w0, w1, w2, w3, length, maxLength, asn);
  }

  push(
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    maxLength: number,
    asn: number,
  ): void {
    const i = this.#length;
    if (i === this.#family.length) this.#grow();
    this.#family[i] = family;
    const b = i * 4;
    this.#words[b] = w0;
    this.#words[b + 1] = w1;
    this.#words[b + 2] = w2;
    this.#words[b + 3] = w3;
    this.#prefixLength[i] = length;
    this.#maxLength[i] = maxLength;
    this.#asn[i] = asn;
    this.#length = i + 1;
  }

  /** Appends every VRP of `other`. */
  append(other: VrpList): void {
    other.forEach((family, w0, w1, w2, w3, length, maxLength, asn) =>
      this.push(family, w0, w1, w2, w3, length, maxLength, asn),
    );
  }

  /** Calls `visit` with each VRP as numbers, in list order. */
  forEach(
    visit: (
      family: Family,
      w0: number,
      w1: number,
      w2: number,
      w3: number,
      length: number,
      maxLength: number,
      asn: number,
    ) => void,
  ): void {
    const w = this.#words;
    for (let i = 0; i < this.#length; i++) {
      const b = i * 4;
      visit(
        this.#family[i] === 4 ? 4 : 6,
        w[b]!,
        w[b + 1]!,
        w[b + 2]!,
        w[b + 3]!,
        this.#prefixLength[i]!,
        this.#maxLength[i]!,
        this.#asn[i]!,
      );
    }
  }

  family(i: number): 4 | 6 {
    return this.#family[i] === 4 ? 4 : 6;
  }

  word(i: number, w: number): number {
    return this.#words[i * 4 + w]!;
  }

  prefixLength(i: number): number {
    return this.#prefixLength[i]!;
  }

  maxLength(i: number): number {
    return this.#maxLength[i]!;
  }

  asn(i: number): number {
    return this.#asn[i]!;
  }

  get(i: number): Vrp {
    if (i < 0 || i >= this.#length)
      throw new RangeError(`VrpList index ${i} out of range 0..${this.#length - 1}`);
    const b = i * 4;
    const w = this.#words;
    return vrpObject(
      this.family(i),
      w[b]!,
      w[b + 1]!,
      w[b + 2]!,
      w[b + 3]!,
      this.#prefixLength[i]!,
      this.#maxLength[i]!,
      this.#asn[i]!,
    );
  }

  *[Symbol.iterator](): IterableIterator<Vrp> {
    for (let i = 0; i < this.#length; i++) yield this.get(i);
  }

  clear(): void {
    this.#length = 0;
  }

  #grow(): void {
    const capacity = Math.max(16, Math.ceil(this.#family.length * 1.5));
    const grow = <T extends Uint8Array | Uint32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.#family = grow(this.#family, new Uint8Array(capacity));
    this.#words = grow(this.#words, new Uint32Array(capacity * 4));
    this.#prefixLength = grow(this.#prefixLength, new Uint8Array(capacity));
    this.#maxLength = grow(this.#maxLength, new Uint8Array(capacity));
    this.#asn = grow(this.#asn, new Uint32Array(capacity));
  }
}
