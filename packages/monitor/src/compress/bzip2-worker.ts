// A worker thread of the bzip2 pool: decodes block pieces one message at a time and sends
// back the output (transferred, not copied), in memory the reader handed back when it can.
// One workspace serves every piece.
import { parentPort } from 'node:worker_threads';
import { decodePiece, type BlockPiece, type PieceResult } from './bzip2-blocks.js';
import { Bzip2Workspace } from './bzip2.js';
import { SpareMemory, WORKER_SPARES } from './bzip2-spares.js';

export interface PieceRequest {
  id: number;
  piece: BlockPiece;
  /** Memory of outputs the reader is done with, to hold the next ones (transferred). */
  spares: ArrayBuffer[];
}

export interface PieceReply {
  id: number;
  result: PieceResult;
}

const port = parentPort;
if (port === null) throw new Error('bzip2-worker.js runs only as a worker thread');

const workspace = new Bzip2Workspace();
const spares = new SpareMemory(WORKER_SPARES);

/** Room for an output: a spare big enough, or new memory with some headroom for later ones. */
function take(length: number): Uint8Array {
  const memory = spares.take(length) ?? new ArrayBuffer(length + (length >> 3));
  return new Uint8Array(memory, 0, length);
}

// Pieces are decoded in arrival order; the pool sends a worker its next piece only when
// it answered the previous one, so one workspace is never shared. The output's memory goes
// to the reader whole (transferred, not copied).
port.on('message', (request: PieceRequest) => {
  for (const memory of request.spares) spares.add(memory);
  void decodePiece(request.piece, workspace, take).then((result) => {
    const reply: PieceReply = { id: request.id, result };
    const memory = result.output?.buffer;
    if (memory instanceof ArrayBuffer) port.postMessage(reply, [memory]);
    else port.postMessage(reply);
  });
});
