// Worker threads that decode bzip2 block pieces (see bzip2-blocks.ts), shared by every
// reader in the process. Idle workers do not keep the process alive. If a worker dies, its
// pieces are decoded in this thread instead and the pool goes on with the others.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { decodePiece, type BlockPiece, type PieceResult } from './bzip2-blocks.js';
import { Bzip2Workspace } from './bzip2.js';
import type { PieceReply, PieceRequest } from './bzip2-worker.js';

/** Workers at most; bzip2 inputs rarely keep more busy while one thread parses the output. */
const MAX_WORKERS = 4;

interface Job {
  id: number;
  piece: BlockPiece;
  resolve: (result: PieceResult) => void;
}

interface Slot {
  worker: Worker;
  /** The job the worker is on; a worker gets one at a time. */
  current: Job | undefined;
}

export class Bzip2Pool {
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #inThread: Bzip2Workspace | undefined;
  #closed = false;

  /** Starts `size` workers running `script` (the built bzip2-worker.js). */
  constructor(size: number, script: URL) {
    this.size = size;
    for (let i = 0; i < size; i++) this.#slots.push(this.#start(script));
  }

  /** Decodes a piece in a worker; never rejects (a failure is in the result). */
  decode(piece: BlockPiece): Promise<PieceResult> {
    return new Promise((resolve) => {
      const job = { id: this.#nextId++, piece, resolve };
      if (this.#closed || this.#slots.length === 0) {
        void this.#decodeHere(job);
        return;
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Stops the workers; pieces still queued are decoded in this thread. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    for (const job of this.#queue.splice(0)) void this.#decodeHere(job);
    for (const slot of slots) {
      if (slot.current !== undefined) void this.#decodeHere(slot.current);
      slot.current = undefined;
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #start(script: URL): Slot {
    const worker = new Worker(script);
    const slot: Slot = { worker, current: undefined };
    worker.unref();
    worker.on('message', (reply: PieceReply) => {
      const job = slot.current;
      if (job === undefined || job.id !== reply.id) return;
      slot.current = undefined;
      job.resolve(reply.result);
      this.#dispatch();
    });
    const lost = (): void => {
      const index = this.#slots.indexOf(slot);
      if (index !== -1) this.#slots.splice(index, 1);
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
      const request: PieceRequest = { id: job.id, piece: job.piece };
      slot.worker.postMessage(request);
    }
    for (const slot of this.#slots) if (slot.current === undefined) slot.worker.unref();
  }

  async #decodeHere(job: Job): Promise<void> {
    this.#inThread ??= new Bzip2Workspace();
    job.resolve(await decodePiece(job.piece, this.#inThread));
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
