// Which reference peers and data this machine has. Tests that need one are mandatory
// under CI=true (a missing peer fails the run) and are skipped with one visible line
// naming what to install otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedData = resolve(repoRoot, '../shared/data');
export const inCi = process.env.CI === 'true';

export interface Requirement {
  /** What is needed, e.g. "stayrtr". */
  readonly name: string;
  /** How to get it on a fresh machine. */
  readonly install: string;
  readonly available: boolean;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const installHints: Record<string, string> = {
  stayrtr: 'apt-get install stayrtr',
  rtrdump: 'apt-get install stayrtr',
  rtrclient: 'apt-get install rtr-tools',
  'rpki-rov': 'apt-get install rtr-tools',
  gobgpd: 'apt-get install gobgpd',
  gobgp: 'apt-get install gobgpd',
  bgpdump: 'apt-get install bgpdump',
  prometheus: 'apt-get install prometheus',
  promtool: 'apt-get install prometheus',
  chromium: 'apt-get install chromium',
  cc: 'apt-get install gcc librtr-dev',
};

/** A command-line peer found on PATH. */
export function peerCommand(command: string): Requirement {
  return {
    name: command,
    install: installHints[command] ?? `install ${command}`,
    available: onPath(command),
  };
}

/** A file in ../shared/data (path relative to it). */
export function sharedFile(relative: string): Requirement {
  return {
    name: `../shared/data/${relative}`,
    install: 'check out the shared data folder beside the repository',
    available: existsSync(join(sharedData, relative)),
  };
}

/** An npm package of the test workspace (e.g. rpki-validator). */
export function npmPackage(name: string): Requirement {
  return {
    name,
    install: 'npm install',
    available: existsSync(join(repoRoot, 'node_modules', name, 'package.json')),
  };
}

/**
 * Decides whether a suite that needs `requirements` runs. Under CI=true it always runs,
 * so a missing peer surfaces as a failure; elsewhere it is skipped and the reason is
 * printed once.
 */
export function missing(...requirements: Requirement[]): string | undefined {
  const absent = requirements.filter((r) => !r.available);
  if (absent.length === 0 || inCi) return undefined;
  const line = `skipped: needs ${absent.map((r) => `${r.name} (${r.install})`).join(', ')}`;
  process.stderr.write(`${line}\n`);
  return line;
}

export function sharedPath(relative: string): string {
  return join(sharedData, relative);
}
