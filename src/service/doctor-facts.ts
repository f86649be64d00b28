// Gathers what `heph doctor` judges, the way the *service* sees it: the installed unit, the
// environment it sets (Environment= lines and its EnvironmentFile, not this shell's), the forge
// as reached with that environment, token files as the service's user, the daemon, the store.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { loadConfig, readConfigText } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { callDaemon } from '../control/client.js';
import { describeError, isHephError } from '../errors.js';
import { createForgeClient } from '../forge/index.js';
import { readStore } from '../install/store.js';
import { readTextIfExists } from '../platform/fs.js';
import type { AppNames } from '../app/identity.js';
import { listSetAside } from '../platform/state-file.js';
import { type Env, resolvePaths } from '../platform/paths.js';
import { detectContainer, realProbe, type Supervisor } from '../platform/supervisor.js';
import { type Account, canRead } from './accounts.js';
import type { DoctorFacts, TokenFileFact } from './doctor.js';
import type { ServiceDeps } from './effects.js';
import { detectManager } from './manager.js';
import { configDigest, type Scope } from './spec.js';
import { LINGER_DIR } from './systemd.js';
import { systemd } from './systemd.js';
import { launchd } from './launchd.js';
import { type InstalledUnit, parseEnvFile, readPlistUnit, readSystemdUnit } from './unitfile.js';

/** The daemon gets this long to answer; doctor reports a hung daemon rather than hanging itself. */
export const DAEMON_ANSWER_TIMEOUT_MS = 5_000;

/** The installed unit for the manager, user scope first; null when none is installed. */
function findUnit(
  d: ServiceDeps,
  manager: 'systemd' | 'launchd',
): { unit: InstalledUnit; scope: Scope } | null {
  const backend = manager === 'systemd' ? systemd : launchd;
  for (const scope of ['user', 'system'] as const) {
    const path = backend.unitPaths(scope, d.env, d.home)[0]!;
    const text = readTextIfExists(path);
    if (text === undefined) continue;
    return { unit: manager === 'systemd' ? readSystemdUnit(path, text) : readPlistUnit(path, text), scope };
  }
  return null;
}

/** What the service's process environment will hold: the unit's settings, not this shell's. */
export function serviceEnvironment(d: ServiceDeps, unit: InstalledUnit | null, scope: Scope | null): Env {
  if (unit === null) return d.env;
  // systemd sets HOME to the home of User= (launchd: UserName); a user unit gets the user's own
  const home = unit.runAs ? (d.account(unit.runAs)?.home ?? d.home) : d.home;
  const base: Record<string, string | undefined> = { HOME: home };
  // a user manager hands its own runtime folder to units; a system unit has none by default
  if (scope === 'user') base.XDG_RUNTIME_DIR = d.env.XDG_RUNTIME_DIR;
  const fromFiles: Record<string, string> = {};
  for (const f of unit.environmentFiles) Object.assign(fromFiles, parseEnvFile(readTextIfExists(f) ?? ''));
  return { ...base, ...unit.environment, ...fromFiles };
}

function expandHome(file: string, env: Env): string {
  if (file === '~' || file.startsWith('~/')) return join(env.HOME ?? homedir(), file.slice(1));
  return isAbsolute(file) ? file : resolve(file);
}

function tokenFact(source: string, path: string, reader: Account | null, readerName: string): TokenFileFact {
  try {
    const st = statSync(path);
    return {
      source,
      path,
      exists: true,
      readable: reader === null ? false : canRead(st, reader),
      reader: readerName,
      mode: st.mode & 0o777,
    };
  } catch {
    return { source, path, exists: false, readable: false, reader: readerName, mode: null };
  }
}

async function forgeFact(config: Config, d: ServiceDeps, env: Env): Promise<DoctorFacts['forge']> {
  try {
    const client = createForgeClient(config, { ...d, env, paths: resolvePaths(env, d.app, d.home) });
    const list = await client.listReleases();
    // the variable undici's EnvHttpProxyAgent reads for this URL's scheme (lower case first)
    const proxy = config.forge.url.startsWith('http:')
      ? (env.http_proxy ?? env.HTTP_PROXY)
      : (env.https_proxy ?? env.HTTPS_PROXY);
    return {
      ok: true,
      kind: config.forge.kind,
      repo: config.forge.repo,
      releases: list.releases.length,
      fromCache: list.fromCache,
      viaProxy: proxy ? proxy.replace(/\/\/[^@/]*@/, '//[credentials]@') : null,
    };
  } catch (e) {
    return { ok: false, message: describeError(e), hint: isHephError(e) ? e.hint : undefined };
  }
}

async function daemonFact(env: Env, app: AppNames, home: string): Promise<DoctorFacts['daemon']> {
  const paths = resolvePaths(env, app, home);
  try {
    const s = (await callDaemon(paths, 'GET', '/v1/status', undefined, {
      timeoutMs: DAEMON_ANSWER_TIMEOUT_MS,
    })) as {
      version?: string;
      pid?: number;
      supervisor?: Supervisor;
    };
    return {
      running: true,
      version: s.version ?? null,
      pid: s.pid ?? null,
      supervisor: s.supervisor ?? null,
    };
  } catch (e) {
    return { running: false, message: describeError(e) };
  }
}

export async function gatherFacts(d: ServiceDeps): Promise<DoctorFacts> {
  const manager = detectManager(d.facts);
  const found = manager ? findUnit(d, manager) : null;
  const unit = found?.unit ?? null;
  const unitScope = found?.scope ?? null;
  const env = serviceEnvironment(d, unit, unitScope);
  // the installing user as the account database knows it (its groups decide group-readable files)
  const me: Account = d.account(d.userName) ?? {
    name: d.userName,
    uid: d.uid,
    gids: process.getgroups?.() ?? [],
  };
  const serviceUser = unit?.runAs ? d.account(unit.runAs) : me;
  const serviceUserName = unit?.runAs ?? d.userName;
  // EnvironmentFile is read by the manager: root for system units, the user for user units
  const managerUser = unitScope === 'system' ? { name: 'root', uid: 0, gids: [0] } : me;

  // the config the service reads: its own HEPH_HOME/HEPH_CONFIG/XDG_CONFIG_HOME decide the path
  const configFile = resolvePaths(env, d.app, d.home).config;
  let config: DoctorFacts['config'];
  let loaded: Config | null = null;
  try {
    loaded = loadConfig(configFile, env, d.app).config;
    config = { ok: true, mode: loaded.update.mode, allowInContainer: loaded.install.allow_in_container };
  } catch (e) {
    config = { ok: false, message: describeError(e), hint: isHephError(e) ? e.hint : undefined };
  }

  const tokenFiles: TokenFileFact[] = [];
  for (const f of unit?.environmentFiles ?? []) {
    if (readTextIfExists(f) !== undefined || unit?.manager === 'systemd') {
      const fact = tokenFact('EnvironmentFile', f, managerUser, managerUser.name);
      // "-" made it optional: a missing one is fine as long as no token is expected in it
      if (fact.exists) tokenFiles.push(fact);
    }
  }
  if (loaded && loaded.forge.token_file.trim() !== '') {
    tokenFiles.push(
      tokenFact(
        'forge.token_file',
        expandHome(loaded.forge.token_file.trim(), env),
        serviceUser,
        serviceUserName,
      ),
    );
  }

  const pathExists: Record<string, boolean> = {};
  for (const p of unit?.execStart ?? []) pathExists[p] = d.exists(p);

  const servicePaths = resolvePaths(env, d.app, d.home);
  let store: DoctorFacts['store'];
  try {
    const s = readStore(resolvePaths(env, d.app, d.home));
    store = { ok: true, current: s.current, previous: s.previous, complete: s.complete };
  } catch (e) {
    store = { ok: false, message: describeError(e), hint: isHephError(e) ? e.hint : undefined };
  }

  return {
    version: d.app.version,
    configFile,
    configDigest: configDigest(config.ok ? (readConfigText(configFile) ?? '') : ''),
    config,
    manager,
    unit,
    unitScope,
    expectedLauncher: d.paths.launcher,
    pathExists,
    forge: loaded ? await forgeFact(loaded, d, env) : null,
    tokenFiles,
    daemon: await daemonFact(env, d.app, d.home),
    store,
    container: detectContainer(d.env, realProbe(d.env)),
    linger:
      manager === 'systemd' && unitScope === 'user'
        ? { user: d.userName, enabled: d.exists(join(LINGER_DIR, d.userName)) }
        : null,
    setAside: listSetAside(servicePaths.state),
  };
}
