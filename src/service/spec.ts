// What a service unit says, decided once from the install's options and environment: which
// manager and scope, the absolute node and launcher, the captured environment, where the token goes.
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import { HephError } from '../errors.js';
import type { Env, Paths } from '../platform/paths.js';
import { type AppNames, envName, HEPH_NAMES } from '../app/identity.js';
import { KNOWN_KEYS } from '../config/schema.js';
import { launchdLogDir, type Scope, type ServiceNames, serviceNames } from '../app/service-names.js';

export type ManagerKind = 'systemd' | 'launchd';
export type { Scope };

/** TimeoutStopSec / ExitTimeOut = drain_timeout + this, so a drain is never cut by SIGKILL. */
export const STOP_MARGIN_MS = 15_000;
/** PATH for the service when the installing shell had none (launchd and systemd need absolute). */
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

export interface ServiceSpec {
  /** The unit names, label and secret files, from the app's name (src/service/names.ts). */
  names: ServiceNames;
  manager: ManagerKind;
  scope: Scope;
  /** The user a system service runs as (User= / UserName); undefined for user services. */
  runAs?: string;
  /** runAs's primary group (the socket unit's SocketGroup=), when known. */
  runAsGroup?: string;
  /** The uid of the installing user (launchd's gui/UID domain). */
  uid: number;
  /** Absolute path of the node that runs the launcher (the one running this install). */
  node: string;
  launcher: string;
  /** Variables written into the unit: HEPH_* (never the token), PATH, proxies, XDG folders. */
  environment: Record<string, string>;
  /** systemd: EnvironmentFile (HEPH_FORGE_TOKEN=…); launchd: the token file. Mode 0600. */
  secretFile: string;
  /** The token to put into secretFile, when the installing environment has one. */
  token?: string;
  /** Socket activation: the ListenStream path (systemd only). */
  socket?: string;
  drainTimeoutMs: number;
  /**
   * SHA-256 (hex, shortened) of the config file at install, written into the unit as a comment:
   * the daemon reads its config once, so a changed config must change the unit, which makes the
   * next `heph daemon install` restart hephd.
   */
  configDigest: string;
  /** launchd log folder (`~/Library/Logs/heph`). */
  logDir: string;
  home: string;
  version: string;
}

/** Variables copied from the installing shell into the unit (besides the app's own, below). */
const CAPTURED = ['PATH', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy'];
/** Folder variables that decide the app's paths: the service must resolve the same files as the CLI. */
const CAPTURED_USER_ONLY = ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR'];
/**
 * The app's own variables a unit may carry, without the prefix (HEPH_HOME, ACME_HOME, …): an
 * allowlist, so nothing a test or a debugging shell sets (HTTP timeouts, fault knobs, DEBUG, the
 * token) ever reaches a real service. Config overrides (HEPH_UPDATE_MODE, …) are added from the
 * schema's keys. The two DEV_ knobs are copied on purpose: tests and the demo run services with them.
 */
const CAPTURED_OWN = ['HOME', 'CONFIG', 'LOG_LEVEL', 'MACHINE_ID', 'DEV_SCHEDULE_SCALE', 'DEV_PROBE_ROOT'];

/** The app's variables a unit may carry, with the prefix: CAPTURED_OWN plus every config key's. */
export function capturedOwnVariables(app: AppNames): Set<string> {
  const names = CAPTURED_OWN.map((k) => envName(app, k));
  for (const key of KNOWN_KEYS) {
    // forge.token_file stays: it names a file, never the token (the token goes to the secret file).
    names.push(envName(app, key.replace('.', '_').toUpperCase()));
  }
  return new Set(names);
}

/** Hex digits of the config digest kept in the unit: enough to notice any edit. */
const CONFIG_DIGEST_CHARS = 16;

export function configDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, CONFIG_DIGEST_CHARS);
}

/**
 * PATH as the service should have it: only absolute entries (a service has no working folder
 * worth searching, and launchd expands nothing), with the folder of the node that runs heph, so
 * `npm` and `node` mean the same programs as at install.
 */
export function servicePath(path: string | undefined, node: string): string {
  const parts = (path ?? '').split(':').filter((p) => isAbsolute(p));
  const unique = [...new Set(parts.length ? parts : DEFAULT_PATH.split(':'))];
  if (!unique.includes(dirname(node))) unique.push(dirname(node));
  return unique.join(':');
}

/** The environment the service gets, sorted by name so the rendered unit is stable. */
export function captureEnvironment(
  env: Env,
  scope: Scope,
  node = '/usr/bin/node',
  app: AppNames = HEPH_NAMES,
): Record<string, string> {
  const out: Record<string, string> = {};
  const own = capturedOwnVariables(app);
  const names = Object.keys(env).filter(
    (k) => own.has(k) || CAPTURED.includes(k) || (scope === 'user' && CAPTURED_USER_ONLY.includes(k)),
  );
  for (const k of names.sort()) {
    const v = env[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  out.PATH = servicePath(out.PATH, node);
  return out;
}

export interface SpecInput {
  /** The app being installed: its names and the version that renders the unit. */
  app: AppNames & { version: string; launchdPrefix?: string };
  manager: ManagerKind;
  scope: Scope;
  runAs?: string;
  runAsGroup?: string;
  socket: boolean;
  env: Env;
  paths: Paths;
  uid: number;
  node: string;
  home: string;
  drainTimeoutMs: number;
  /** The config file's text ('' when there is none). */
  configText: string;
  /** The secret file from an earlier install exists (its token stays in use without a new one). */
  keepSecret?: boolean;
}

/** systemd: the EnvironmentFile; launchd: the file HEPH_FORGE_TOKEN_FILE names. Beside the config. */
export function secretFilePath(names: ServiceNames, manager: ManagerKind, paths: Paths): string {
  return join(dirname(paths.config), manager === 'systemd' ? names.envFile : names.launchdTokenFile);
}

/** A user name systemd's User= and launchd's UserName accept without quoting. */
export const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

export function buildSpec(input: SpecInput): ServiceSpec {
  const { manager, scope, env, paths } = input;
  if (!isAbsolute(input.node)) {
    throw new HephError('E_SERVICE', `the node path ${input.node} is not absolute`, {
      hint: 'run heph with an absolute node (for example /usr/bin/node heph …)',
    });
  }
  if (input.runAs !== undefined && !USER_NAME.test(input.runAs)) {
    throw new HephError('E_USAGE', `--user: "${input.runAs}" is not a valid user name`, {
      hint: 'give an existing account name such as heph',
    });
  }
  if (input.runAs !== undefined && scope !== 'system') {
    throw new HephError('E_USAGE', '--user only applies to a system service', {
      hint: 'add --system, or drop --user to run as yourself',
    });
  }
  if (input.socket && manager !== 'systemd') {
    throw new HephError('E_USAGE', '--socket needs systemd (launchd socket activation needs C code)', {
      hint: 'drop --socket; clients still retry through a restart for 8 s',
    });
  }
  const names = serviceNames(input.app);
  const environment = captureEnvironment(env, scope, input.node, input.app);
  const token = env[envName(input.app, 'FORGE_TOKEN')]?.trim() || undefined;
  const secretFile = secretFilePath(names, manager, paths);
  // launchd has no EnvironmentFile: the daemon reads the token through forge.token_file, set by
  // its env override so the config file stays the user's. Only when heph manages a token: an
  // override would hide a token_file the user configured.
  if (manager === 'launchd' && (token !== undefined || input.keepSecret)) {
    environment[envName(input.app, 'FORGE_TOKEN_FILE')] = secretFile;
  }
  const logDir = launchdLogDir(names, scope, input.home);
  return {
    names,
    manager,
    scope,
    runAs: input.runAs,
    runAsGroup: input.runAsGroup,
    uid: input.uid,
    node: input.node,
    launcher: paths.launcher,
    environment,
    secretFile,
    token,
    socket: input.socket ? paths.socket : undefined,
    drainTimeoutMs: input.drainTimeoutMs,
    configDigest: configDigest(input.configText),
    logDir,
    home: input.home,
    version: input.app.version,
  };
}
