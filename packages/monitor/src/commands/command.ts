/** A `rovkit` subcommand: gets its arguments (after the command name), returns the exit status. */
export interface Command {
  run(argv: string[]): Promise<number>;
}

/** A wrong flag or argument: printed with the command name, exit status 2. */
export class CliUsageError extends Error {
  readonly code = 'ROVKIT_ERR_USAGE';
  override readonly name = 'CliUsageError';
}
