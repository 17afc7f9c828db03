// `rovkit mrt`: the announcements of an MRT dump (RIB or updates, gzip, bzip2 or plain)
// as "prefix origin" lines or JSON lines.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { AsnError, parseAsn } from '@rovkit/core';
import { formatOrigin, formatPrefix } from '../bgp/format.js';
import { OriginKind, type Family } from '../bgp/route.js';
import { readMrt, type MrtPeer, type MrtReadResult, type MrtSink } from '../feeds/mrt/index.js';
import { CliUsageError, type Command } from './command.js';

const help = `usage: rovkit mrt --file F [--origin-asn N,...] [--format text|json]

Prints the routes announced in an MRT dump (RFC 6396: TABLE_DUMP_V2 RIBs with or
without ADD-PATH, BGP4MP/BGP4MP_ET updates, TABLE_DUMP), one per RIB entry or
announcement. The file may be gzip, bzip2 or uncompressed.

  --file F             the MRT file (required)
  --origin-asn N,...   only routes originated by these ASes (64496 or AS64496;
                       repeat the flag or separate with commas)
  --format text|json   text: "prefix origin" lines (default);
                       json: one object per line with prefix, origin, peer, pathId
  -h, --help           this text

The origin is the last AS of the AS_PATH's final AS_SEQUENCE, "none" when the path
ends in an AS_SET (such routes are never Valid), and the peer's AS when the path is
empty. Withdrawals in update files are not printed.

Exit status: 0 when the whole file was read; 1 when it is cut or its compression is
corrupt (every route before the cut is printed, the cut is reported on stderr);
2 for wrong arguments.
`;

export interface CommandIo {
  stdout: Writable;
  stderr: Writable;
}

interface Options {
  file: string;
  origins: Set<number> | undefined;
  format: 'text' | 'json';
}

function parseOptions(argv: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: 'string' },
        'origin-asn': { type: 'string', multiple: true },
        format: { type: 'string', default: 'text' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (values.help === true) return 'help';
  if (values.file === undefined || values.file === '') throw new CliUsageError('--file is required');
  if (values.format !== 'text' && values.format !== 'json') {
    throw new CliUsageError(`--format must be text or json, not "${values.format}"`);
  }
  let origins: Set<number> | undefined;
  if (values['origin-asn'] !== undefined) {
    origins = new Set();
    for (const item of values['origin-asn'].flatMap((v) => v.split(','))) {
      try {
        origins.add(parseAsn(item.trim()));
      } catch (error) {
        if (error instanceof AsnError)
          throw new CliUsageError(`--origin-asn: ${error.message}`, { cause: error });
        throw error;
      }
    }
  }
  return { file: values.file, origins, format: values.format };
}

/** Buffers output lines and writes them in large pieces. */
class LineSink implements MrtSink {
  #pending = '';
  readonly #out: Writable;
  readonly #origins: Set<number> | undefined;
  readonly #json: boolean;

  constructor(out: Writable, options: Options) {
    this.#out = out;
    this.#origins = options.origins;
    this.#json = options.format === 'json';
  }

  announce(
    peer: MrtPeer,
    family: Family,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    length: number,
    pathId: number,
    origin: number,
    kind: OriginKind,
  ): void {
    const asn = kind === OriginKind.Local ? peer.asn : origin;
    if (this.#origins !== undefined && (kind === OriginKind.Set || !this.#origins.has(asn))) return;
    const prefix = formatPrefix(family, w0, w1, w2, w3, length);
    if (this.#json) {
      const o = kind === OriginKind.Set ? '"none"' : String(asn);
      this.#pending += `{"prefix":"${prefix}","origin":${o},"peer":{"address":"${peer.address}","asn":${peer.asn}},"pathId":${pathId}}\n`;
    } else {
      this.#pending += `${prefix} ${formatOrigin(origin, kind, peer.asn)}\n`;
    }
    if (this.#pending.length >= 65536) this.flush();
  }

  withdraw(): void {}
  endOfRib(): void {}

  flush(): void {
    if (this.#pending.length === 0) return;
    this.#out.write(this.#pending);
    this.#pending = '';
  }
}

/** Yields the file's chunks, waiting while `out` is full so that memory stays bounded. */
async function* paced(file: string, out: Writable, signal: AbortSignal): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024, signal })) {
    if (out.writableNeedDrain) await once(out, 'drain', { signal });
    yield chunk as Buffer;
  }
}

function report(result: MrtReadResult, file: string, stderr: Writable): number {
  const { stats } = result;
  if (stats.malformed > 0) {
    stderr.write(
      `rovkit mrt: ${file}: ${stats.malformed} malformed records skipped, the first: ${result.errors[0]?.message}\n`,
    );
  }
  if (result.decompressError !== undefined) {
    stderr.write(`rovkit mrt: ${file}: ${result.decompressError.code}: ${result.decompressError.message}\n`);
  }
  const cut = result.tooLarge ?? result.truncated;
  if (cut !== undefined) stderr.write(`rovkit mrt: ${file}: ${cut.code}: ${cut.message}\n`);
  return result.decompressError !== undefined || cut !== undefined ? 1 : 0;
}

export async function runMrt(argv: string[], io: CommandIo): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    io.stdout.write(help);
    return 0;
  }
  const sink = new LineSink(io.stdout, options);
  const controller = new AbortController();
  // A reader that went away (`rovkit mrt ... | head`) ends the run quietly.
  let closed = false;
  const onError = (error: NodeJS.ErrnoException): void => {
    closed = true;
    controller.abort(error);
  };
  io.stdout.on('error', onError);
  try {
    const result = await readMrt(paced(options.file, io.stdout, controller.signal), sink, {
      signal: controller.signal,
    });
    sink.flush();
    return report(result, options.file, io.stderr);
  } catch (error) {
    if (closed) return 0;
    throw error;
  } finally {
    io.stdout.off('error', onError);
  }
}

export const mrtCommand: Command = {
  run: (argv) => runMrt(argv, { stdout: process.stdout, stderr: process.stderr }),
};
