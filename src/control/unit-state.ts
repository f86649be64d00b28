// The second sign of a restart (docs/daemon.md "Clients"): the service manager reports the unit
// starting. Only asked after a refused connect with no fresh stop marker, so its cost is rare.
import { existsSync } from 'node:fs';
import type { Env } from '../platform/paths.js';
import { type ServiceNames, systemUnitFile, userUnitFile } from '../app/service-names.js';
/** systemctl answers from memory in milliseconds; one that hangs must not hold a client. */
export const SYSTEMCTL_TIMEOUT_MS = 1_000;
/**
 * `is-active` says "activating" while a unit starts, including the RestartSec wait after a
 * self-update exit (SubState auto-restart), and "reloading" during a reload.
 */
const STARTING = new Set(['activating', 'reloading']);

/**
 * node:child_process is imported here, when a refused connect needs the answer, not with the
 * module: `heph status` against a running daemon never spawns, and the import costs its cold start.
 */
async function isActive(args: string[], unit: string, env: Env): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      'systemctl',
      [...args, 'is-active', unit],
      { timeout: SYSTEMCTL_TIMEOUT_MS, env: env as NodeJS.ProcessEnv },
      // is-active exits non-zero for anything but "active"; the word on stdout is the answer.
      (_err, stdout) => resolve(String(stdout ?? '').trim()),
    );
  });
}

/**
 * True when systemd (user or system manager) says hephd is starting. Only a manager that has a
 * hephd unit is asked: without one it cannot be starting hephd, and each systemctl costs a
 * `heph status` about as much again as its own start. launchd has no stable machine-readable
 * state (`launchctl print` is for people), so there the stop marker is the only sign. Never
 * throws: no systemctl means no sign.
 */
export async function unitStarting(
  names: ServiceNames,
  env: Env,
  platform: NodeJS.Platform = process.platform,
  exists: (file: string) => boolean = existsSync,
): Promise<boolean> {
  if (platform !== 'linux') return false;
  const asks: Promise<string>[] = [];
  if (exists(userUnitFile(names, env))) asks.push(isActive(['--user'], names.unit, env));
  if (exists(systemUnitFile(names))) asks.push(isActive([], names.unit, env));
  const answers = await Promise.all(asks);
  return answers.some((a) => STARTING.has(a));
}
