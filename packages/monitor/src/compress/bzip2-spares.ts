// Memory of decoded blocks the reader is done with, kept to hold later blocks (the pool
// hands it to its workers, a worker writes outputs into it). Bounded in count and bytes:
// a hostile stream can make one block's output 46.6 MB (a 900k block of runs of 4 + 255),
// and a stream of ever larger blocks would otherwise leave every smaller buffer behind,
// since none fits the next output.

/** Spares kept by the pool and by each worker at most (count, bytes). */
export const POOL_SPARES = { count: 10, bytes: 64 * 1024 * 1024 } as const;
export const WORKER_SPARES = { count: 2, bytes: 64 * 1024 * 1024 } as const;

export class SpareMemory {
  readonly #maxCount: number;
  readonly #maxBytes: number;
  /** Smallest first. */
  #spares: ArrayBuffer[] = [];
  #bytes = 0;

  constructor(limits: { count: number; bytes: number }) {
    this.#maxCount = limits.count;
    this.#maxBytes = limits.bytes;
  }

  get count(): number {
    return this.#spares.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps `memory`; over a limit, the smallest spares are dropped (`memory` too, if smallest). */
  add(memory: ArrayBuffer): void {
    if (memory.byteLength === 0 || memory.byteLength > this.#maxBytes) return;
    let at = 0;
    while (at < this.#spares.length && this.#spares[at]!.byteLength < memory.byteLength) at++;
    this.#spares.splice(at, 0, memory);
    this.#bytes += memory.byteLength;
    while (this.#spares.length > this.#maxCount || this.#bytes > this.#maxBytes)
      this.#bytes -= this.#spares.shift()!.byteLength;
  }

  /** The smallest spare of at least `length` bytes, taken out; undefined if none fits. */
  take(length: number): ArrayBuffer | undefined {
    const at = this.#spares.findIndex((spare) => spare.byteLength >= length);
    if (at === -1) return undefined;
    const [memory] = this.#spares.splice(at, 1);
    this.#bytes -= memory!.byteLength;
    return memory;
  }

  /** Up to `n` spares, the largest first, taken out (to send on). */
  takeLargest(n: number): ArrayBuffer[] {
    const taken = this.#spares.splice(Math.max(0, this.#spares.length - n)).reverse();
    for (const memory of taken) this.#bytes -= memory.byteLength;
    return taken;
  }

  clear(): void {
    this.#spares = [];
    this.#bytes = 0;
  }
}
