// The names of an app's service (derived from its name, like every other file): systemd units, the launchd label, the secret files beside the
// config and the launchd log file. A leaf (node:path and the app's names only), so `status` can
// ask "is the unit starting?" without loading the service code, and nothing keeps a copy.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AppNames } from './identity.js';

export type Scope = 'user' | 'system';

/** The environment (as src/platform/paths.ts Env; not imported: this folder is below platform/). */
type Env = Readonly<Record<string, string | undefined>>;

export interface ServiceNames {
  /** `hephd.service` */
  unit: string;
  /** `hephd.socket` */
  socketUnit: string;
  /** `dev.heph.hephd`: the launchd label (`<reverse-dns>.<daemon>`). */
  launchdLabel: string;
  /** `hephd.env`: the systemd EnvironmentFile holding the token (0600, beside the config). */
  envFile: string;
  /** `hephd.token`: the token file a launchd job reads (0600, beside the config). */
  launchdTokenFile: string;
  /** The app's name and daemon, for descriptions and log folders. */
  app: AppNames;
}

/** heph's launchd jobs are dev.heph.*; an app passes its own reverse-DNS prefix (defineApp launchdPrefix). */
export const HEPH_LAUNCHD_PREFIX = 'dev.heph';

export function serviceNames(app: AppNames & { launchdPrefix?: string }): ServiceNames {
  const prefix = app.launchdPrefix ?? (app.name === 'heph' ? HEPH_LAUNCHD_PREFIX : `local.${app.name}`);
  return {
    unit: `${app.daemon}.service`,
    socketUnit: `${app.daemon}.socket`,
    launchdLabel: `${prefix}.${app.daemon}`,
    envFile: `${app.daemon}.env`,
    launchdTokenFile: `${app.daemon}.token`,
    app: { name: app.name, daemon: app.daemon, envPrefix: app.envPrefix },
  };
}

/** Where systemd reads administrator-written system units. */
export const SYSTEM_UNIT_DIR = '/etc/systemd/system';

/** Where `daemon install --system` writes the app's system unit. */
export function systemUnitFile(names: ServiceNames): string {
  return join(SYSTEM_UNIT_DIR, names.unit);
}

/** Where `daemon install` writes the user unit, for this environment. */
export function userUnitFile(names: ServiceNames, env: Env): string {
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'systemd', 'user', names.unit);
}

/** launchd has no journal: the daemon's output goes to a file here (Console.app shows it too). */
export function launchdLogDir(names: ServiceNames, scope: Scope, home: string): string {
  const folder = names.app.name;
  return scope === 'system' ? join('/Library/Logs', folder) : join(home, 'Library', 'Logs', folder);
}

export function launchdLogFile(names: ServiceNames, scope: Scope, home: string): string {
  return join(launchdLogDir(names, scope, home), `${names.app.daemon}.log`);
}
