// A worker thread of the bzip2 pool: decodes block pieces one message at a time and sends
// back the output (transferred, not copied). One workspace serves every piece.
import { parentPort } from 'node:worker_threads';
import { decodePiece, type BlockPiece, type PieceResult } from './bzip2-blocks.js';
import { Bzip2Workspace } from './bzip2.js';

export interface PieceRequest {
  id: number;
  piece: BlockPiece;
}

export interface PieceReply {
  id: number;
  result: PieceResult;
}

const port = parentPort;
if (port === null) throw new Error('bzip2-worker.js runs only as a worker thread');

const workspace = new Bzip2Workspace();
// Pieces are decoded in arrival order; the pool sends a worker its next piece only when
// it answered the previous one, so one workspace is never shared.
port.on('message', (request: PieceRequest) => {
  void decodePiece(request.piece, workspace).then((result) => {
    const output = result.output;
    const reply: PieceReply = { id: request.id, result };
    if (output === undefined) port.postMessage(reply);
    else port.postMessage(reply, [ownBuffer(output, reply)]);
  });
});

/** Makes the output the sole user of its ArrayBuffer, so that it can be transferred. */
function ownBuffer(output: Uint8Array, reply: PieceReply): ArrayBuffer {
  if (
    output.byteOffset === 0 &&
    output.byteLength === output.buffer.byteLength &&
    output.buffer instanceof ArrayBuffer
  )
    return output.buffer;
  const copy = new Uint8Array(output);
  reply.result = { ...reply.result, output: copy };
  return copy.buffer;
}
