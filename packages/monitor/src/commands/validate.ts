// `rovkit validate --vrps FILE [--format text|json] [prefix asn ...]`: validates routes
// given as arguments or as "prefix asn" lines on stdin. stdin may be anything: lines are
// cut at a length limit while reading (a line without end costs the limit, not its size),
// bad input is quoted short with control bytes escaped, and at most MAX_ERROR_LINES bad
// lines are reported one by one.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import {
  escapeControls,
  loadVrpFile,
  quoteInput,
  RovError,
  toValidityJson,
  type VrpTable,
} from '@rovkit/core';
import { CliUsageError, type Command } from './command.js';

/** Longest stdin line read (bytes before the newline); longer lines are reported and skipped. */
export const DEFAULT_LINE_LIMIT = 4096;
/** Bad lines reported one by one; the rest are counted. */
export const MAX_ERROR_LINES = 100;

const help = `usage: rovkit validate --vrps FILE [--format text|json] [PREFIX ASN ...]

Validates routes against the VRPs in FILE (rpki-client or Routinator JSON or CSV,
gzipped or not). Routes come as PREFIX ASN pairs on the command line, or as
"PREFIX ASN" lines on stdin (blank lines and # comments are skipped). ASN may be
64496, AS64496 or "none" (an AS_SET origin).

Output, one line per route:
  text  PREFIX ASN STATE            (STATE: valid, invalid, not-found)
  json  {"route": ..., "validity": ...} as Routinator's validity API

A bad line is reported on stderr with its line number (the first ${MAX_ERROR_LINES}
one by one, then how many more); the others are still validated and the exit status
is 1. A line longer than --line-limit is reported and skipped.

options:
  --vrps FILE          VRP file (required)
  --format text|json   output format (default text)
  --line-limit BYTES   longest stdin line (default ${DEFAULT_LINE_LIMIT})
  -h, --help           this help
`;

export const validateCommand: Command = {
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          vrps: { type: 'string' },
          format: { type: 'string', default: 'text' },
          'line-limit': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      throw new CliUsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (values.vrps === undefined) throw new CliUsageError('--vrps FILE is required (see --help)');
    const format = values.format;
    if (format !== 'text' && format !== 'json')
      throw new CliUsageError(`--format must be text or json, not "${format}"`);
    if (positionals.length % 2 !== 0) {
      throw new CliUsageError(
        `routes on the command line come in PREFIX ASN pairs; "${positionals.at(-1)}" has no ASN`,
      );
    }
    const limitText = values['line-limit'] ?? String(DEFAULT_LINE_LIMIT);
    const lineLimit = /^\d{1,10}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(lineLimit >= 16))
      throw new CliUsageError(`--line-limit takes a number of bytes of at least 16, not "${limitText}"`);
    const { table } = await loadVrpFile(values.vrps);
    const out = new LineWriter();
    let bad = 0;
    const report = (where: string, lineNumber: number, reason: string): void => {
      if (++bad <= MAX_ERROR_LINES) process.stderr.write(`${where} ${lineNumber}: ${reason}\n`);
    };
    const check = (text: string, lineNumber: number, where: string): void => {
      const line = text.trim();
      if (line === '' || line.startsWith('#')) return;
      const fields = line.split(/\s+/);
      if (fields.length !== 2) {
        report(where, lineNumber, `expected "PREFIX ASN", got ${quoteInput(line)}`);
        return;
      }
      try {
        out.write(formatResult(table, fields[0]!, fields[1]!, format));
      } catch (error) {
        if (!(error instanceof RovError)) throw error;
        // The message quotes the field, which may be long or binary.
        const message = escapeControls(error.message);
        report(where, lineNumber, message.length > 200 ? `${message.slice(0, 200)}…` : message);
      }
    };
    if (positionals.length > 0) {
      for (let i = 0; i < positionals.length; i += 2)
        check(`${positionals[i]} ${positionals[i + 1]}`, i / 2 + 1, 'route');
    } else {
      for await (const line of boundedLines(process.stdin, lineLimit)) {
        if (line.text !== undefined) check(line.text, line.number, 'line');
        else
          report(
            'line',
            line.number,
            `longer than the limit of ${lineLimit} bytes, skipped (starting ${quoteInput(line.head, 40)})`,
          );
        if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
      }
    }
    await out.end();
    if (bad > MAX_ERROR_LINES) process.stderr.write(`${bad - MAX_ERROR_LINES} more bad lines not shown\n`);
    return bad > 0 ? 1 : 0;
  },
};

interface Line {
  readonly number: number;
  /** The line (latin1, so that every byte stays one character); undefined when too long. */
  readonly text: string | undefined;
  /** The start of a line that was too long. */
  readonly head: string;
}

// Lines of `input`, each at most `limit` bytes: a longer one yields only its number and
// head, and its bytes are dropped as they come, never held.
async function* boundedLines(input: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let held = 0;
  let head: string | undefined;
  let number = 0;
  const take = (): Line => {
    const line: Line =
      head !== undefined
        ? { number: ++number, text: undefined, head }
        : { number: ++number, text: Buffer.concat(parts).toString('latin1'), head: '' };
    parts = [];
    held = 0;
    head = undefined;
    return line;
  };
  for await (const chunk of input) {
    for (let from = 0; ;) {
      const nl = chunk.indexOf(0x0a, from);
      const piece = chunk.subarray(from, nl < 0 ? chunk.length : nl);
      if (head === undefined) {
        if (held + piece.length > limit) {
          head = Buffer.concat([...parts, piece.subarray(0, 64)]).toString('latin1', 0, 64);
          parts = [];
          held = 0;
        } else if (nl >= 0 && held === 0) {
          // The common case, a whole line inside the chunk: decoded in place.
          yield { number: ++number, text: piece.toString('latin1'), head: '' };
          from = nl + 1;
          continue;
        } else if (piece.length > 0) {
          // A copy: a view would keep the whole chunk alive for a few bytes.
          parts.push(Buffer.from(piece));
          held += piece.length;
        }
      }
      if (nl < 0) break;
      yield take();
      from = nl + 1;
    }
  }
  if (held > 0 || head !== undefined) yield take();
}

function formatResult(table: VrpTable, prefix: string, asn: string, format: 'text' | 'json'): string {
  const origin = asn.toLowerCase() === 'none' ? 'none' : asn;
  if (format === 'json') return JSON.stringify(toValidityJson(table.explain(prefix, origin)));
  return `${prefix} ${asn} ${table.validate(prefix, origin)}`;
}

// Batches output lines into few writes; the reading loop waits for 'drain', so that
// piping millions of routes through does not queue them all in memory.
class LineWriter {
  #lines: string[] = [];

  write(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length >= 4096) this.#flush();
  }

  #flush(): void {
    if (this.#lines.length === 0) return;
    process.stdout.write(`${this.#lines.join('\n')}\n`);
    this.#lines = [];
  }

  async end(): Promise<void> {
    this.#flush();
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
  }
}
