// Structured log lines: one JSON object per line ({"time", "level", "event", ...}), so
// that log shippers read them without a pattern. Alerts are log lines too (see alerts.ts).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Something with write(string): process.stdout, a file stream, a test's collector. */
export interface LineOutput {
  write(line: string): unknown;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class JsonLogger implements Logger {
  readonly #out: LineOutput;
  readonly #min: number;
  readonly #now: () => number;

  constructor(out: LineOutput, options: { level?: LogLevel; now?: () => number } = {}) {
    this.#out = out;
    this.#min = rank[options.level ?? 'info'];
    this.#now = options.now ?? Date.now;
  }

  log(level: LogLevel, event: string, fields: Readonly<Record<string, unknown>> = {}): void {
    if (rank[level] < this.#min) return;
    const line = { time: new Date(this.#now()).toISOString(), level, event, ...fields };
    this.#out.write(`${JSON.stringify(line, errorsAsText)}\n`);
  }
}

// Errors carry their code and message into the line; JSON.stringify alone gives "{}".
function errorsAsText(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? value.message : { code, message: value.message };
  }
  return value;
}
