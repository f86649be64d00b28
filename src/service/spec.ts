// What a service unit says, decided once from the install's options and environment: which
// manager and scope, the absolute node and launcher, the captured environment, where the token goes.
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import { HephError } from '../errors.js';
import type { Env, Paths } from '../platform/paths.js';
import { VERSION } from '../version.js';

export type ManagerKind = 'systemd' | 'launchd';
export type Scope = 'user' | 'system';

/** The systemd unit names and the launchd label; fixed so every command finds the same service. */
export const UNIT_NAME = 'hephd.service';
export const SOCKET_UNIT_NAME = 'hephd.socket';
export const LAUNCHD_LABEL = 'dev.heph.hephd';
/** TimeoutStopSec / ExitTimeOut = drain_timeout + this, so a drain is never cut by SIGKILL. */
export const STOP_MARGIN_MS = 15_000;
/** The name of the 0600 file holding HEPH_FORGE_TOKEN (systemd) or the token itself (launchd). */
export const ENV_FILE_NAME = 'hephd.env';
export const LAUNCHD_TOKEN_FILE_NAME = 'hephd.token';
/** PATH for the service when the installing shell had none (launchd and systemd need absolute). */
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

/** launchd has no journal: hephd's output goes to a file here (Console.app shows it too). */
export function launchdLogDir(scope: Scope, home: string): string {
  return scope === 'system' ? '/Library/Logs/heph' : join(home, 'Library', 'Logs', 'heph');
}

export function launchdLogFile(scope: Scope, home: string): string {
  return join(launchdLogDir(scope, home), 'hephd.log');
}

export interface ServiceSpec {
  manager: ManagerKind;
  scope: Scope;
  /** The user a system service runs as (User= / UserName); undefined for user services. */
  runAs?: string;
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

/** Variables copied from the installing shell into the unit (besides HEPH_*). */
const CAPTURED = ['PATH', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy'];
/** Folder variables that decide heph's paths: the service must resolve the same files as the CLI. */
const CAPTURED_USER_ONLY = ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR'];
/**
 * Never into a unit: secrets, variables that only make sense in the installing shell, and the
 * fault-injection knobs (a stray HEPH_FAULT_KILL_AT would SIGKILL every install the service
 * makes; HEPH_TEST_FREE_BYTES would lie to the disk preflight). HEPH_DEV_SCHEDULE_SCALE and
 * HEPH_DEV_PROBE_ROOT are copied on purpose: tests and the demo run services with them.
 */
export const NEVER_CAPTURED = new Set([
  'HEPH_FORGE_TOKEN',
  'HEPH_DEBUG',
  'HEPH_FAULT_KILL_AT',
  'HEPH_TEST_FREE_BYTES',
]);

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
export function captureEnvironment(env: Env, scope: Scope, node = '/usr/bin/node'): Record<string, string> {
  const out: Record<string, string> = {};
  const names = Object.keys(env).filter(
    (k) =>
      (k.startsWith('HEPH_') && !NEVER_CAPTURED.has(k)) ||
      CAPTURED.includes(k) ||
      (scope === 'user' && CAPTURED_USER_ONLY.includes(k)),
  );
  for (const k of names.sort()) {
    const v = env[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  out.PATH = servicePath(out.PATH, node);
  return out;
}

export interface SpecInput {
  manager: ManagerKind;
  scope: Scope;
  runAs?: string;
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
export function secretFilePath(manager: ManagerKind, paths: Paths): string {
  return join(dirname(paths.config), manager === 'systemd' ? ENV_FILE_NAME : LAUNCHD_TOKEN_FILE_NAME);
}

/** A user name systemd's User= and launchd's UserName accept without quoting. */
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

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
  const environment = captureEnvironment(env, scope, input.node);
  const token = env.HEPH_FORGE_TOKEN?.trim() || undefined;
  const secretFile = secretFilePath(manager, paths);
  // launchd has no EnvironmentFile: the daemon reads the token through forge.token_file, set by
  // its env override so the config file stays the user's. Only when heph manages a token: an
  // override would hide a token_file the user configured.
  if (manager === 'launchd' && (token !== undefined || input.keepSecret)) {
    environment.HEPH_FORGE_TOKEN_FILE = secretFile;
  }
  const logDir = scope === 'system' ? '/Library/Logs/heph' : join(input.home, 'Library', 'Logs', 'heph');
  return {
    manager,
    scope,
    runAs: input.runAs,
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
    version: VERSION,
  };
}
