// Which service manager this machine has and what it can do here, and the one dispatch from a
// manager's name to its backend (systemd.ts and launchd.ts side by side, STYLE.md #8).
import { existsSync } from 'node:fs';
import { HephError } from '../errors.js';
import { HEPH_NAMES } from '../app/identity.js';
import { launchdBackend } from './launchd.js';
import { type ServiceNames, serviceNames } from '../app/service-names.js';
import type { ManagerKind, Scope } from './spec.js';
import { systemdBackend } from './systemd.js';
import type { Capabilities, ServiceBackend } from './types.js';

/** systemd creates this folder when it runs as PID 1 (sd_booted); a user manager needs it too. */
export const SYSTEMD_BOOTED_MARKER = '/run/systemd/system';

export interface ManagerFacts {
  platform: NodeJS.Platform;
  /** SYSTEMD_BOOTED_MARKER exists. */
  systemdBooted: boolean;
}

export function readManagerFacts(): ManagerFacts {
  return { platform: process.platform, systemdBooted: existsSync(SYSTEMD_BOOTED_MARKER) };
}

/** The manager this machine runs, or null (a container, a non-systemd Linux, Windows). */
export function detectManager(facts: ManagerFacts): ManagerKind | null {
  if (facts.platform === 'darwin') return 'launchd';
  if (facts.platform === 'linux' && facts.systemdBooted) return 'systemd';
  return null;
}

export interface ManagerChoice {
  backend: ServiceBackend;
  capabilities: Capabilities;
  /** True when --manager named it although this machine does not seem to run it. */
  forced: boolean;
}

/**
 * The backend for `--manager` (when given) or for this machine. Naming a manager the machine
 * lacks is allowed (rendering with --dry-run on a build host) and reported as `forced`.
 */
export function chooseManager(
  requested: ManagerKind | undefined,
  facts: ManagerFacts,
  names: ServiceNames = serviceNames(HEPH_NAMES),
): ManagerChoice {
  const detected = detectManager(facts);
  const kind = requested ?? detected;
  if (kind === null) {
    throw new HephError(
      'E_SERVICE',
      `no supported service manager on this machine (${facts.platform}, no ${SYSTEMD_BOOTED_MARKER})`,
      {
        hint: 'run `heph daemon run` under your own supervisor, or pass --manager systemd|launchd with --dry-run to see the unit',
      },
    );
  }
  const backend = kind === 'systemd' ? systemdBackend(names) : launchdBackend(names);
  return {
    backend,
    capabilities: backend.capabilities,
    forced: requested !== undefined && requested !== detected,
  };
}

export function describeScope(kind: ManagerKind, scope: Scope): string {
  if (kind === 'systemd') return scope === 'user' ? 'systemd user service' : 'systemd system service';
  return scope === 'user' ? 'launchd LaunchAgent' : 'launchd LaunchDaemon';
}
