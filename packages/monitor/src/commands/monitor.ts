// `rovkit monitor`: the daemon. Reads the configuration, starts the Monitor, prints where
// to look, and runs until SIGINT or SIGTERM. Log lines and alerts go to stdout as JSON;
// the human-readable start banner goes to stderr, so that stdout stays machine-readable.
import { ConfigError, MonitorError } from '../errors.js';
import { HELP, loadConfig } from '../config.js';
import { Monitor } from '../monitor.js';
import { CliUsageError, type Command } from './command.js';
import { RovError } from '@rovkit/core';

export const monitorCommand: Command = {
  async run(argv) {
    let config;
    try {
      config = loadConfig(argv);
    } catch (error) {
      // A flag parseArgs does not know is a usage error (exit 2); the rest names its file.
      if (error instanceof ConfigError && error.file === 'command line' && error.cause !== undefined)
        throw new CliUsageError(error.reason);
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`rovkit monitor: ${error.message}\n`);
      return 1;
    }
    if (config === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    let monitor: Monitor;
    try {
      monitor = new Monitor(config, { out: process.stdout });
      await monitor.start();
    } catch (error) {
      if (error instanceof MonitorError || error instanceof RovError || isRtrError(error)) {
        process.stderr.write(`rovkit monitor: ${(error as Error).message}\n`);
        return 1;
      }
      throw error;
    }
    const url = monitor.url;
    const lines = [
      `rovkit monitor ${config.bundled.vrps || config.bundled.routes ? 'on bundled sample data ' : ''}listening on ${config.bind}:${monitor.address!.port}`,
      `  status page  ${url}`,
      `  metrics      ${url}metrics`,
      `  invalid      ${url}api/v1/routes?state=invalid`,
      `  validity     ${url}api/v1/validity/AS33771/2c0f:fe38::/32`,
    ];
    const bmp = monitor.bmp?.listener.address;
    if (bmp !== undefined) {
      const host = bmp.family === 'IPv6' ? `[${bmp.address}]` : bmp.address;
      lines.push(`  BMP          ${host}:${bmp.port} (routers connect here)`);
      lines.push(`  ROV enforced ${url}api/v1/rov-enforcement`);
    }
    lines.push(`  fallback     ${url}api/v1/invalid-fallback?fallback=none`);
    if (config.bundled.vrps)
      lines.push('  VRPs: bundled AFRINIC trust anchor, 2024-01-01 (use --rtr or --vrps for live data)');
    if (config.bundled.routes)
      lines.push('  routes: bundled RIPE RIS routes of six African networks (use --routes for yours)');
    process.stderr.write(`${lines.join('\n')}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await monitor.stop();
    return 0;
  },
};

// rtr-client's errors (a bad --rtr address is an InvalidArgumentError) carry RTR_ERR_ codes.
function isRtrError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('RTR_ERR_');
}
