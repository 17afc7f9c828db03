// `rovkit monitor` started as an operator starts it: the built CLI in a child process of
// its own, so that a test sees its exit, its log lines and its resident memory. The start
// banner on stderr gives the URL; stop() ends it by PID (SIGTERM, SIGKILL after 5 s).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './peers.js';
import { until } from './monitor-peers.js';

export const cli = join(repoRoot, 'packages/monitor/dist/cli.js');

export interface MonitorProcess {
  readonly child: ChildProcess;
  /** The status page's URL, ending in "/": `${url}metrics` and so on. */
  readonly url: string;
  /** What it printed so far (JSON log lines and alerts on stdout, the banner on stderr). */
  stdout(): string;
  stderr(): string;
  /** The stdout lines that are JSON objects (log lines and alerts). */
  logLines(): Record<string, unknown>[];
  /** Current and peak resident set, in bytes (Linux /proc). */
  memory(): { now: number; peak: number };
  /** Ends it if it still runs; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `rovkit monitor ARGS` and waits for its start banner. */
export async function startMonitor(args: readonly string[], timeoutMs = 60_000): Promise<MonitorProcess> {
  const child = spawn(process.execPath, [cli, 'monitor', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    return child.exitCode;
  };
  let url: string;
  try {
    url = await until(
      'the start banner',
      () => {
        if (child.exitCode !== null) throw new Error(`rovkit monitor exited: ${stderr.slice(-2000)}`);
        return /status page\s+(\S+)/.exec(stderr)?.[1];
      },
      timeoutMs,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    child,
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    logLines: () =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    memory: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (key: string): number =>
        Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
      return { now: kb('VmRSS'), peak: kb('VmHWM') };
    },
    stop,
  };
}
