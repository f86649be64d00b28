// Gathers what `heph doctor` judges, the way the *service* sees it: the installed unit, the
// environment it sets (Environment= lines and its EnvironmentFile, not this shell's), the forge
// as reached with that environment, token files as the service's user, the daemon, the store.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
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
import { type Account, canAccess, canRead } from './accounts.js';
import { renderFingerprint } from './render.js';
import { serviceEnv } from './service-paths.js';
import { SHIPPED_ROOT_CAPTURED, TRUSTED_ROOT_STALE_DAYS } from '../install/attestation/shipped-root.js';
import { readTrustedRootFile } from '../install/attestation/trusted-root-file.js';
import type { DoctorFacts, TokenFileFact, VerifyFact } from './doctor.js';
import type { ServiceDeps } from './effects.js';
import { detectManager } from './manager.js';
import { configDigest, type Scope } from './spec.js';
import { LINGER_DIR } from './systemd.js';
import { findUnit } from './service-node.js';
import { type InstalledUnit, parseEnvFile } from './unitfile.js';

/** The daemon gets this long to answer; doctor reports a hung daemon rather than hanging itself. */
export const DAEMON_ANSWER_TIMEOUT_MS = 5_000;

/** install.verify as the service will apply it, and how old its trusted root is. */
export function verifyFact(config: Config, env: Env, now: number, app = 'heph'): VerifyFact {
  const mode = config.install.verify;
  if (mode !== 'attestation') return { mode, workflow: null, trustedRoot: null };
  const a = config.install.attestation;
  const workflow = `${a.repo || config.forge.repo}/${a.workflow}@${a.ref}`;
  const days = (ms: number) => Math.max(0, Math.floor((now - ms) / 86_400_000));
  const file = config.install.trusted_root.trim();
  if (file === '') {
    const ageDays = days(Date.parse(SHIPPED_ROOT_CAPTURED));
    return {
      mode,
      app,
      workflow,
      trustedRoot: { source: 'shipped', path: null, ageDays, staleAfterDays: TRUSTED_ROOT_STALE_DAYS },
    };
  }
  const path = expandHome(file, env);
  try {
    // the installer's own reader: a file every install would refuse is a failure here too
    readTrustedRootFile(path);
    const st = statSync(path);
    return {
      mode,
      workflow,
      trustedRoot: {
        source: 'file',
        path,
        ageDays: days(st.mtimeMs),
        staleAfterDays: TRUSTED_ROOT_STALE_DAYS,
      },
    };
  } catch (e) {
    const why = isHephError(e) && typeof e.details.why === 'string' ? e.details.why : null;
    return {
      mode,
      workflow,
      trustedRoot: {
        source: 'file',
        path,
        error: why ?? `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      },
    };
  }
}

/** What the service's process environment will hold: the unit's settings, not this shell's. */
export function serviceEnvironment(d: ServiceDeps, unit: InstalledUnit | null, scope: Scope | null): Env {
  if (unit === null) return d.env;
  // systemd sets HOME to the home of User= (launchd: UserName); a user unit gets the user's own
  const home = unit.runAs ? (d.account(unit.runAs)?.home ?? d.home) : d.home;
  const fromFiles: Record<string, string> = {};
  for (const f of unit.environmentFiles) Object.assign(fromFiles, parseEnvFile(readTextIfExists(f) ?? ''));
  // the same resolution `heph status` uses (service-paths.ts), plus the EnvironmentFile's lines
  const base = serviceEnv(unit.environment, {
    scope: scope ?? 'user',
    env: d.env,
    home,
    uid: d.uid,
    exists: d.exists,
  });
  return { ...base, ...fromFiles };
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

async function forgeFact(
  config: Config,
  d: ServiceDeps,
  env: Env,
  /** Root checking a service that runs as someone else: keep root's files out of its state. */
  privateCache: boolean,
): Promise<DoctorFacts['forge']> {
  const paths = resolvePaths(env, d.app, d.home);
  const scratch = privateCache ? mkdtempSync(join(tmpdir(), 'heph-doctor-')) : null;
  try {
    const client = createForgeClient(config, {
      ...d,
      env,
      paths: scratch ? { ...paths, state: scratch } : paths,
    });
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
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
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
      config?: { digest?: string | null; loadedAt?: string; restartNeeded?: unknown };
    };
    return {
      running: true,
      version: s.version ?? null,
      pid: s.pid ?? null,
      supervisor: s.supervisor ?? null,
      config:
        typeof s.config?.digest === 'string'
          ? {
              digest: s.config.digest,
              loadedAt: String(s.config.loadedAt ?? ''),
              restartNeeded: Array.isArray(s.config.restartNeeded) ? s.config.restartNeeded.map(String) : [],
            }
          : null,
    };
  } catch (e) {
    return { running: false, message: describeError(e) };
  }
}

/** Whether `who` can read `file` and pass every folder above it; the first obstacle, or null. */
function readableBy(file: string, who: Account): { readable: boolean; obstacle: string | null } {
  const chain: [string, 4 | 1][] = [];
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) chain.unshift([dir, 1]);
  chain.push([file, 4]);
  for (const [path, bit] of chain) {
    try {
      const st = statSync(path);
      if (!canAccess({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }, who, bit)) {
        return {
          readable: false,
          obstacle: `${path} (owner ${st.uid}:${st.gid}, mode 0${(st.mode & 0o777).toString(8)})`,
        };
      }
    } catch {
      return { readable: false, obstacle: `${path} (missing)` };
    }
  }
  return { readable: true, obstacle: null };
}

/** What this heph renders for a unit of the installed one's kind (render.ts), or null. */
function fingerprintOf(unit: InstalledUnit, scope: Scope, names: ServiceDeps['names']): string | null {
  try {
    return renderFingerprint({
      names,
      manager: unit.manager,
      scope,
      runAs: unit.runAs ?? undefined,
      socket: unit.socket ? 'socket' : undefined,
    });
  } catch {
    return null; // no templates here (a bare dist/): the version comparison stands
  }
}

export async function gatherFacts(d: ServiceDeps, opts: { scope?: Scope } = {}): Promise<DoctorFacts> {
  const manager = detectManager(d.facts);
  const found = manager ? findUnit(d, manager, opts.scope) : null;
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
    config = {
      ok: true,
      mode: loaded.update.mode,
      allowInContainer: loaded.install.allow_in_container,
      drainTimeoutMs: loaded.restart.drain_timeout,
    };
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

  // the service's user must read the config itself (hephd exits 78 otherwise); root reads anything
  const configAccess =
    serviceUser && serviceUser.uid !== 0 && readTextIfExists(configFile) !== undefined
      ? { reader: serviceUserName, ...readableBy(configFile, serviceUser) }
      : null;
  const shellSocket = resolvePaths(d.env, d.app, d.home).socket;
  const serviceSocket = resolvePaths(env, d.app, d.home).socket;

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
    configAccess,
    renderFingerprint: unit && unitScope ? fingerprintOf(unit, unitScope, d.names) : null,
    shellSocket:
      unit && shellSocket !== serviceSocket ? { shell: shellSocket, service: serviceSocket } : null,
    forge: loaded
      ? await forgeFact(loaded, d, env, unitScope === 'system' && d.uid === 0 && serviceUser?.uid !== 0)
      : null,
    tokenFiles,
    daemon: await daemonFact(env, d.app, d.home),
    store,
    container: detectContainer(d.env, realProbe(d.env)),
    verify: loaded ? verifyFact(loaded, env, d.clock.now(), d.app.name) : null,
    linger:
      manager === 'systemd' && unitScope === 'user'
        ? { user: d.userName, enabled: d.exists(join(LINGER_DIR, d.userName)) }
        : null,
    setAside: listSetAside(servicePaths.state),
  };
}
