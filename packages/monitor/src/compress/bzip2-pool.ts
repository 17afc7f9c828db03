// Worker threads that decode bzip2 block pieces (see bzip2-blocks.ts), shared by every
// reader in the process. Workers start on the first piece and stop after a while without
// work, so a daemon that reads a dump now and then does not keep their memory (about 30 MB
// each); idle or not, they never keep the process alive. If a worker dies, its piece is
// decoded in this thread and the pool goes on with the others; once all have died, every
// piece is.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { decodePiece, type BlockPiece, type PieceResult } from './bzip2-blocks.js';
import { Bzip2Workspace } from './bzip2.js';
import { POOL_SPARES, SpareMemory } from './bzip2-spares.js';
import type { PieceReply, PieceRequest } from './bzip2-worker.js';

/** Workers at most; bzip2 inputs rarely keep more busy while one thread parses the output. */
const MAX_WORKERS = 4;
/** How long workers wait for more work before they stop. */
const DEFAULT_IDLE_MS = 30_000;

interface Job {
  id: number;
  piece: BlockPiece;
  resolve: (result: PieceResult) => void;
}

interface Slot {
  worker: Worker;
  /** The job the worker is on; a worker gets one at a time. */
  current: Job | undefined;
  /** Set when the pool stops the worker, so that its exit is not taken for a crash. */
  stopping: boolean;
}

export interface Bzip2PoolOptions {
  /** Milliseconds without work after which the workers stop (default 30 s). */
  idleMs?: number;
}

export class Bzip2Pool {
  readonly size: number;
  readonly #script: URL;
  readonly #idleMs: number;
  #slots: Slot[] = [];
  /** Workers lost to crashes; at `size`, the pool decodes in this thread only. */
  #lost = 0;
  readonly #queue: Job[] = [];
  #nextId = 0;
  #inThread: Bzip2Workspace | undefined;
  #hereQueue: Promise<void> = Promise.resolve();
  /** Output memory handed back by readers, for the workers to reuse. */
  readonly #spares = new SpareMemory(POOL_SPARES);
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /** A pool of `size` workers running `script` (the built bzip2-worker.js), started on use. */
  constructor(size: number, script: URL, options: Bzip2PoolOptions = {}) {
    this.size = size;
    this.#script = script;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  }

  /** Workers running now. */
  get workers(): number {
    return this.#slots.length;
  }

  /** Decodes a piece in a worker; never rejects (a failure is in the result). */
  decode(piece: BlockPiece): Promise<PieceResult> {
    return new Promise((resolve) => {
      const job = { id: this.#nextId++, piece, resolve };
      if (this.#closed || this.#lost >= this.size) {
        void this.#decodeHere(job);
        return;
      }
      clearTimeout(this.#idleTimer);
      while (this.#slots.length + this.#lost < this.size) this.#slots.push(this.#start());
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /**
   * Takes back the memory of an output the reader is done with (it must hold no view of it),
   * so that workers write later outputs there instead of allocating: fresh memory for every
   * block made V8 collect garbage far more often in a large heap.
   */
  recycle(memory: ArrayBuffer): void {
    if (!this.#closed) this.#spares.add(memory);
  }

  /** Stops the workers for good; pieces not yet decoded are decoded in this thread. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    for (const job of this.#queue.splice(0)) void this.#decodeHere(job);
    await this.#stopWorkers();
  }

  async #stopWorkers(): Promise<void> {
    const slots = this.#slots;
    this.#slots = [];
    // Idle workers keep no memory, and neither does the pool.
    this.#spares.clear();
    for (const slot of slots) {
      slot.stopping = true;
      if (slot.current !== undefined) void this.#decodeHere(slot.current);
      slot.current = undefined;
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #start(): Slot {
    const worker = new Worker(this.#script);
    const slot: Slot = { worker, current: undefined, stopping: false };
    worker.unref();
    worker.on('message', (reply: PieceReply) => {
      const job = slot.current;
      if (job === undefined || job.id !== reply.id) return;
      slot.current = undefined;
      job.resolve(reply.result);
      this.#dispatch();
    });
    const lost = (): void => {
      if (slot.stopping) return;
      slot.stopping = true;
      this.#lost++;
      this.#slots = this.#slots.filter((other) => other !== slot);
      const job = slot.current;
      slot.current = undefined;
      if (job !== undefined) void this.#decodeHere(job);
      if (this.#slots.length === 0) for (const queued of this.#queue.splice(0)) void this.#decodeHere(queued);
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    return slot;
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) break;
      if (slot.current !== undefined) continue;
      const job = this.#queue.shift()!;
      slot.current = job;
      // Only a worker with a piece keeps the process alive.
      slot.worker.ref();
      const spares = this.#spares.takeLargest(2);
      const request: PieceRequest = { id: job.id, piece: job.piece, spares };
      slot.worker.postMessage(request, spares);
    }
    let busy = false;
    for (const slot of this.#slots) {
      if (slot.current === undefined) slot.worker.unref();
      else busy = true;
    }
    if (!busy && this.#slots.length > 0) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => void this.#stopWorkers(), this.#idleMs);
      this.#idleTimer.unref();
    }
  }

  /** Decodes in this thread, one piece after another: they share one workspace. */
  #decodeHere(job: Job): Promise<void> {
    this.#inThread ??= new Bzip2Workspace();
    const workspace = this.#inThread;
    this.#hereQueue = this.#hereQueue.then(async () => {
      try {
        job.resolve(await decodePiece(job.piece, workspace));
      } catch (error) {
        // decodePiece reports failures in its result; anything else is a bug, reported alike.
        job.resolve({ failure: { code: 'BZIP2_ERR_DATA', message: String(error), offset: 0 } });
      }
    });
    return this.#hereQueue;
  }
}

let shared: Bzip2Pool | null | undefined;

/**
 * The process's pool, started on first use; undefined when it would not help (one CPU, or
 * ROVKIT_BZIP2_WORKERS=0) or when the worker script is not built. ROVKIT_BZIP2_WORKERS sets
 * the number of workers (default: one per CPU, at most 4; none with a single CPU).
 */
export function sharedBzip2Pool(): Bzip2Pool | undefined {
  if (shared !== undefined) return shared ?? undefined;
  const configured = process.env.ROVKIT_BZIP2_WORKERS;
  const cpus = availableParallelism();
  const size =
    configured !== undefined && configured !== ''
      ? Number(configured)
      : cpus >= 2
        ? Math.min(cpus, MAX_WORKERS)
        : 0;
  const script = workerScript();
  shared = Number.isInteger(size) && size >= 1 && script !== undefined ? new Bzip2Pool(size, script) : null;
  return shared ?? undefined;
}

/**
 * The built worker script. Run from the TypeScript sources (under vitest), this module sits
 * in src/ and a worker cannot load TypeScript on Node 20, so it takes the built file from
 * dist/ (npm test builds first).
 */
export function workerScript(): URL | undefined {
  const here = import.meta.url;
  const script = here.endsWith('.ts')
    ? new URL('../../dist/compress/bzip2-worker.js', here)
    : new URL('./bzip2-worker.js', here);
  return existsSync(fileURLToPath(script)) ? script : undefined;
}
