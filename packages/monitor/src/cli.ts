#!/usr/bin/env node
// The `rovkit` command: one subcommand per file in ./commands, loaded on demand so
// that `rovkit validate` does not pay for the monitor's HTTP and metrics code.
import { CliUsageError, type Command } from './commands/command.js';

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: {
    summary: 'validate "prefix asn" lines against a VRP file',
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  'rtr-dump': {
    summary: 'sync from an RTR cache and print its VRPs (--watch: and every change)',
    load: async () => (await import('./commands/rtr-dump.js')).rtrDumpCommand,
  },
  monitor: {
    summary: 'serve the RPKI state of your routes: Prometheus metrics, API, status page, alerts',
    load: async () => (await import('./commands/monitor.js')).monitorCommand,
  },
  mrt: {
    summary: 'print the routes of an MRT dump (RIB or updates; gzip, bzip2)',
    load: async () => (await import('./commands/mrt.js')).mrtCommand,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: rovkit <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nrovkit <command> --help shows the options of a command.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (entry === undefined) {
    process.stderr.write(`rovkit: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof CliUsageError) {
      process.stderr.write(`rovkit ${name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof Error
        ? `${'code' in error ? `${String(error.code)}: ` : ''}${error.message}`
        : String(error);
    process.stderr.write(`rovkit: ${message}\n`);
    process.exitCode = 1;
  },
);
