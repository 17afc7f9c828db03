// A raw HTTP/1.1 client for the listener's tests: exact bytes out (no URL normalisation,
// no retries), one answer in, and what the socket saw (reset, close) reported rather than
// thrown. Loopback only.
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: string;
  body: string;
  /** A socket error seen before the whole answer was read (ECONNRESET, EPIPE...). */
  error: string | undefined;
  /** The server closed the connection. */
  closed: boolean;
  /** performance.now() when the first byte of the answer came. */
  firstByteAt: number;
}

/** Writes `head` then `body` (in 64 KiB pieces) and reads one answer, or what came before close. */
export function raw(
  port: number,
  head: string,
  body: Buffer = Buffer.alloc(0),
  timeoutMs = 15_000,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let size = 0;
    let error: string | undefined;
    let settled = false;
    // Where the body starts and how long it is, once the header is in.
    let firstByteAt = Infinity;
    let bodyAt = -1;
    let bodyLength = -1;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks, size).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      s.destroy();
      resolve({
        status,
        headers: end < 0 ? text : text.slice(0, end),
        body: end < 0 ? '' : text.slice(end + 4),
        error,
        closed,
        firstByteAt,
      });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('data', (d: Buffer) => {
      if (size === 0) firstByteAt = performance.now();
      chunks.push(d);
      size += d.length;
      if (bodyAt < 0) {
        const text = Buffer.concat(chunks, size).toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        bodyAt = end + 4;
        const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end));
        bodyLength = length === null ? Infinity : Number(length[1]);
      }
      if (size - bodyAt >= bodyLength) finish(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    s.on('close', () => finish(true));
    s.write(head);
    let at = 0;
    const pump = (): void => {
      while (at < body.length && !s.destroyed) {
        const piece = body.subarray(at, at + 65536);
        at += piece.length;
        if (!s.write(piece)) {
          s.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

export function post(path: string, length: number | 'chunked'): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\n${
    length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`
  }\r\n\r\n`;
}

/** Resolves once the socket is closed by the server, or with false after `ms`. */
export function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}
