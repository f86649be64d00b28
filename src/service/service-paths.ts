// Where the installed service's files really are: resolved from the environment the *service*
// gets (its unit's Environment= lines over what its manager gives it), not the shell's. `heph
// status`, `heph doctor` and install's start check all find the daemon's socket this way, and
// say when the shell would have looked elsewhere (a shell without XDG_RUNTIME_DIR: sudo -iu,
// cron, ssh without a session). A leaf: status reads it on every call.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type AppNames, envName } from '../app/identity.js';
import { serviceNames, systemUnitFile, userUnitFile } from '../app/service-names.js';
import { type Env, type Paths, resolvePaths } from '../platform/paths.js';
import { parseUnitSections, unitEnvironment } from './unit-syntax.js';

/** Where pam_systemd puts a user's runtime folder, the one the user manager hands its units. */
export const USER_RUNTIME_ROOT = '/run/user';

export type UnitScope = 'user' | 'system';

/**
 * The runtime folder a user manager gives its units: the shell's when it has one (a login
 * session's is the manager's), else /run/user/UID when it exists.
 */
export function managerRuntimeDir(
  env: Env,
  uid: number,
  exists: (p: string) => boolean = existsSync,
): string | undefined {
  if (env.XDG_RUNTIME_DIR) return env.XDG_RUNTIME_DIR;
  const dir = join(USER_RUNTIME_ROOT, String(uid));
  return exists(dir) ? dir : undefined;
}

/** The environment a unit's process gets: HOME, the manager's runtime folder, then the unit's lines. */
export function serviceEnv(
  unitEnv: Record<string, string>,
  opts: { scope: UnitScope; env: Env; home: string; uid: number; exists?: (p: string) => boolean },
): Env {
  const base: Record<string, string | undefined> = { HOME: opts.home };
  // a user manager hands its own runtime folder to units; a system unit has none by default
  if (opts.scope === 'user') base.XDG_RUNTIME_DIR = managerRuntimeDir(opts.env, opts.uid, opts.exists);
  return { ...base, ...unitEnv };
}

export interface ServiceLocation {
  /** The service's paths (socket, state, …), or the shell's when no unit describes this install. */
  paths: Paths;
  /** The installed unit these came from, or null. */
  unit: string | null;
  /** Set when the shell's environment would look for the socket somewhere else. */
  shellSocket: string | null;
  /** Whether a hephd unit of this scope exists at all (null: not a systemd machine). */
  installed: boolean | null;
}

/**
 * Finds the systemd unit of `scope` and resolves the service's paths from it. A unit whose
 * HEPH_HOME differs from the shell's describes another install: the shell's paths stand then.
 */
export function locateService(opts: {
  /** The app's names: its unit, its variables (HEPH_HOME), its folders. */
  app: AppNames;
  scope: UnitScope;
  env: Env;
  home?: string;
  uid: number;
  /** The service's HOME when it runs as another user (system units with User=). */
  serviceHome?: string;
}): ServiceLocation {
  const home = opts.home ?? opts.env.HOME ?? homedir();
  const shell = resolvePaths(opts.env, opts.app, home);
  const names = serviceNames(opts.app);
  const unit =
    opts.scope === 'system' ? systemUnitFile(names) : userUnitFile(names, { ...opts.env, HOME: home });
  let text: string | undefined;
  try {
    // node:fs, not platform/fs.ts (whose atomic writes load node:crypto): status stays light
    text = readFileSync(unit, 'utf8');
  } catch {
    text = undefined; // none, or one this user may not read (another user's HOME): nothing here
  }
  const none = { paths: shell, unit: null, shellSocket: null };
  if (text === undefined) return { ...none, installed: process.platform === 'linux' ? false : null };
  const unitEnv = unitEnvironment(parseUnitSections(text));
  const homeVar = envName(opts.app, 'HOME');
  if ((unitEnv[homeVar] ?? '') !== (opts.env[homeVar] ?? '')) return { ...none, installed: null };
  const env = serviceEnv(unitEnv, {
    scope: opts.scope,
    env: opts.env,
    home: opts.serviceHome ?? home,
    uid: opts.uid,
  });
  const paths = resolvePaths(env, opts.app, opts.serviceHome ?? home);
  return { paths, unit, shellSocket: paths.socket === shell.socket ? null : shell.socket, installed: true };
}

/** The note for a shell whose environment points elsewhere than the service's. */
export function shellDiffersNote(loc: ServiceLocation): string | null {
  if (loc.shellSocket === null || loc.unit === null) return null;
  return `note: the service's socket is ${loc.paths.socket} (from ${loc.unit} and its manager); this shell's environment would look at ${loc.shellSocket}${
    loc.paths.runDir.startsWith(`${USER_RUNTIME_ROOT}/`)
      ? ' — export XDG_RUNTIME_DIR=/run/user/$(id -u), or use a login session'
      : ''
  }`;
}
