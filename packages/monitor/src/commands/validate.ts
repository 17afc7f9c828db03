// `rovkit validate --vrps FILE [--format text|json] [prefix asn ...]`: validates routes
// given as arguments or as "prefix asn" lines on stdin.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadVrpFile, RovError, toValidityJson, type VrpTable } from '@rovkit/core';
import { CliUsageError, type Command } from './command.js';

const help = `usage: rovkit validate --vrps FILE [--format text|json] [PREFIX ASN ...]

Validates routes against the VRPs in FILE (rpki-client or Routinator JSON or CSV,
gzipped or not). Routes come as PREFIX ASN pairs on the command line, or as
"PREFIX ASN" lines on stdin (blank lines and # comments are skipped). ASN may be
64496, AS64496 or "none" (an AS_SET origin).

Output, one line per route:
  text  PREFIX ASN STATE            (STATE: valid, invalid, not-found)
  json  {"route": ..., "validity": ...} as Routinator's validity API

A bad line is reported on stderr with its line number; the others are still
validated and the exit status is 1.

options:
  --vrps FILE          VRP file (required)
  --format text|json   output format (default text)
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
    const { table } = await loadVrpFile(values.vrps);
    const out = new LineWriter();
    let bad = 0;
    const check = (text: string, lineNumber: number, where: string): void => {
      const line = text.trim();
      if (line === '' || line.startsWith('#')) return;
      const fields = line.split(/\s+/);
      if (fields.length !== 2) {
        process.stderr.write(`${where} ${lineNumber}: expected "PREFIX ASN", got "${line}"\n`);
        bad++;
        return;
      }
      try {
        out.write(formatResult(table, fields[0]!, fields[1]!, format));
      } catch (error) {
        if (!(error instanceof RovError)) throw error;
        process.stderr.write(`${where} ${lineNumber}: ${error.message}\n`);
        bad++;
      }
    };
    if (positionals.length > 0) {
      for (let i = 0; i < positionals.length; i += 2)
        check(`${positionals[i]} ${positionals[i + 1]}`, i / 2 + 1, 'route');
    } else {
      let lineNumber = 0;
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        check(line, ++lineNumber, 'line');
        if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
      }
    }
    await out.end();
    return bad > 0 ? 1 : 0;
  },
};

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
