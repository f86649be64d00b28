// `heph daemon install` as a plan and its application: the files (launcher, units, the 0600
// token file) with their content and whether they change, and the manager commands. A dry run
// prints the plan; a real run applies it, so both always agree on what "install" means.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { loadConfig, readConfigText } from '../config/load.js';
import { HephError } from '../errors.js';
import { installRunningVersion, readStore } from '../install/index.js';
import { renderLauncher } from '../install/launcher.js';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import { type Paths, resolvePaths } from '../platform/paths.js';
import { type AccessChange, applyAccess, planAccess, statFacts } from './access.js';
import { type Account, chownTree } from './accounts.js';
import type { ServiceDeps } from './effects.js';
import { chooseManager, describeScope } from './manager.js';
import { renderSecretFile } from './render.js';
import { type Cmd, type CmdResult, commandLine } from './runner.js';
import {
  buildSpec,
  type ManagerKind,
  type Scope,
  type ServiceSpec,
  secretFilePath,
  USER_NAME,
} from './spec.js';
import { envName } from '../app/identity.js';
import { launchdLogFile } from '../app/service-names.js';
import { assertManagerAnswers } from './reach.js';
import { serviceEnv } from './service-paths.js';
import { ensureStarted as awaitServiceStart } from './settle.js';
import { LINGER_DIR } from './systemd.js';
import type { ServiceBackend, ServiceState } from './types.js';

export interface ServiceInstallOptions {
  system?: boolean;
  manager?: ManagerKind;
  dryRun?: boolean;
  /** commander's --no-start gives start: false. */
  start?: boolean;
  socket?: boolean;
  user?: string;
}

export type FileKind = 'launcher' | 'unit' | 'secret';

export interface PlannedFile {
  kind: FileKind;
  path: string;
  mode: number;
  content: string;
  changed: boolean;
}

export interface InstallPlan {
  manager: ManagerKind;
  scope: Scope;
  description: string;
  spec: ServiceSpec;
  files: PlannedFile[];
  store: { version: string; current: string | null };
  state: ServiceState;
  commands: Cmd[];
  /** False with --no-start: nothing is started, so nothing is waited for. */
  start: boolean;
  /** Files of an earlier install to remove, after `retire` stopped what they describe. */
  stale: string[];
  retire: Cmd[];
  warnings: string[];
  /**
   * A system service running as a named user gets these folders (root created them), and read
   * access (through its group) to what it reads that root made: the config, the token file.
   */
  handOver: { account: Account; paths: string[]; access: AccessChange[] } | null;
}

export interface CommandReport {
  argv: string[];
  exitCode: number;
}

const NOT_LOADED: ServiceState = { loaded: false, active: false, enabled: false, detail: {} };

/** Asks the manager about the service; a manager that cannot answer means "not installed". */
export async function queryState(
  backend: ServiceBackend,
  scope: Scope,
  d: ServiceDeps,
): Promise<ServiceState> {
  try {
    return backend.parseState(await d.runner(backend.stateQuery(scope, d.uid)));
  } catch {
    return NOT_LOADED;
  }
}

/** The warning for user services that stop at logout, with the exact command that fixes it. */
export function lingerWarning(d: ServiceDeps, manager: ManagerKind, scope: Scope): string | null {
  if (manager !== 'systemd' || scope !== 'user') return null;
  if (d.exists(join(LINGER_DIR, d.userName))) return null;
  return `user services stop when ${d.userName} logs out (no ${join(LINGER_DIR, d.userName)}); to keep hephd running, run: loginctl enable-linger ${d.userName}`;
}

/** The account a system service runs as (not root), or null; refuses an unknown name. */
function serviceAccount(d: ServiceDeps, scope: Scope, runAs: string | undefined): Account | null {
  // an invalid name is buildSpec's to refuse, with its own message
  if (scope !== 'system' || runAs === undefined || runAs === 'root' || !USER_NAME.test(runAs)) return null;
  const account = d.account(runAs);
  if (account === null) {
    throw new HephError('E_USAGE', `--user: there is no account named "${runAs}" on this machine`, {
      hint: `create it first (e.g. useradd --system ${runAs}), or name an existing one`,
    });
  }
  return account;
}

/** forge.token_file when it names a file by absolute path (the daemon reads it as its user). */
function tokenFileOf(setting: string): string[] {
  const f = setting.trim();
  return f !== '' && isAbsolute(f) ? [f] : [];
}

/** Where the service's daemon listens: the unit's environment over its manager's (service-paths.ts). */
export function servicePaths(d: ServiceDeps, scope: Scope, environment: Record<string, string>): Paths {
  const home = d.home;
  return resolvePaths(
    serviceEnv(environment, { scope, env: d.env, home, uid: d.uid, exists: d.exists }),
    d.app,
    home,
  );
}

/** Exit 1 with the unit's last log lines unless the started service answers (settle.ts). */
export async function ensureStarted(
  d: ServiceDeps,
  scope: Scope,
  spec: Pick<ServiceSpec, 'environment'> & { manager: ManagerKind },
): Promise<void> {
  const { backend } = chooseManager(spec.manager, d.facts, d.names);
  await awaitServiceStart(d, backend, scope, servicePaths(d, scope, spec.environment), {
    unit: spec.manager === 'systemd' ? d.names.unit : d.names.launchdLabel,
    logFile: launchdLogFile(d.names, scope, d.home),
  });
}

export async function planInstall(d: ServiceDeps, opts: ServiceInstallOptions): Promise<InstallPlan> {
  const { config } = loadConfig(d.paths.config, d.env, d.app); // refuses an invalid config (exit 78)
  const choice = chooseManager(opts.manager, d.facts, d.names);
  const { backend } = choice;
  const scope: Scope = opts.system ? 'system' : 'user';
  const warnings: string[] = [];
  if (choice.forced)
    warnings.push(`this machine does not seem to run ${backend.kind}; the files are for another machine`);
  if (scope === 'system' && d.uid !== 0) {
    warnings.push(
      'installing a system service needs root: run the real install with sudo (this dry run shows what it would do)',
    );
  }
  if (scope === 'system' && opts.user === undefined) {
    warnings.push('the system service runs as root; pass --user NAME to run it as a dedicated account');
  }
  const runAs = opts.user ?? (scope === 'system' && backend.kind === 'systemd' ? 'root' : undefined);
  const account = serviceAccount(d, scope, runAs);
  const spec = buildSpec({
    app: d.app,
    manager: backend.kind,
    scope,
    runAs,
    runAsGroup: account?.group,
    socket: Boolean(opts.socket),
    env: d.env,
    paths: d.paths,
    uid: d.uid,
    node: d.node,
    home: d.home,
    drainTimeoutMs: config.restart.drain_timeout,
    configText: readConfigText(d.paths.config) ?? '',
    keepSecret: existsSync(secretFilePath(d.names, backend.kind, d.paths)),
  });
  const planned = (kind: FileKind, path: string, content: string, mode: number): PlannedFile => ({
    kind,
    path,
    mode,
    content,
    changed: readTextIfExists(path) !== content,
  });
  const files: PlannedFile[] = [planned('launcher', d.paths.launcher, renderLauncher(d.paths, d.app), 0o755)];
  for (const u of backend.unitFiles(spec, d.env)) files.push(planned('unit', u.path, u.content, u.mode));
  if (spec.token !== undefined)
    files.push(planned('secret', spec.secretFile, renderSecretFile(spec, spec.token), 0o600));
  else if (existsSync(spec.secretFile)) {
    warnings.push(`HEPH_FORGE_TOKEN is not set: keeping the token already in ${spec.secretFile}`);
  }
  const state = choice.forced ? NOT_LOADED : await queryState(backend, scope, d);
  const changed = files.some((f) => f.changed);
  const stale = backend.staleFiles(spec, d.env).filter((f) => d.exists(f));
  const commands = backend.installCommands(spec, { changed, state, start: opts.start !== false, stale });
  const linger = lingerWarning(d, backend.kind, scope);
  if (linger) warnings.push(linger);
  const store = readStore(d.paths);
  if (store.current !== null && store.current !== spec.version) {
    // install adds this heph to the store but never switches versions behind the user's back
    warnings.push(
      `the service runs the store's current version ${store.current}, not this heph ${spec.version}; to switch: heph update apply --version ${spec.version}`,
    );
  }
  let handOver: InstallPlan['handOver'] = null;
  if (account !== null) {
    const access = planAccess(
      {
        files: [d.paths.config, ...tokenFileOf(config.forge.token_file)],
        folders: [d.paths.data, d.paths.state, d.paths.runDir],
        home: d.env[envName(d.app, 'HOME')] || dirname(d.paths.data),
        who: account,
      },
      statFacts,
    );
    for (const b of access.blocked) {
      warnings.push(
        `${account.name} cannot pass through ${b}, which holds what the service reads: let it (chmod o+x or a group), or move the install`,
      );
    }
    handOver = { account, paths: [d.paths.data, d.paths.state, d.paths.runDir], access: access.changes };
  }
  return {
    manager: backend.kind,
    scope,
    description: describeScope(backend.kind, scope),
    spec,
    files,
    store: { version: spec.version, current: store.current },
    state,
    commands,
    start: opts.start !== false,
    stale,
    retire: backend.retireCommands(scope, stale),
    warnings,
    handOver,
  };
}

/** Runs commands in order; the first unexpected failure stops the install with its output. */
export async function runCommands(d: ServiceDeps, cmds: Cmd[]): Promise<CommandReport[]> {
  const done: CommandReport[] = [];
  for (const cmd of cmds) {
    const r: CmdResult = await d.runner(cmd);
    done.push({ argv: [cmd.file, ...cmd.args], exitCode: r.exitCode });
    if (r.exitCode !== 0 && !cmd.tolerateFailure) {
      const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
      throw new HephError(
        'E_SERVICE',
        `\`${commandLine(cmd)}\` failed (exit ${r.exitCode}): ${why || 'no output'}`,
        {
          hint: 'see `heph daemon status` and `heph daemon logs`, fix the cause, then run the command again',
          details: { argv: [cmd.file, ...cmd.args], exitCode: r.exitCode },
        },
      );
    }
  }
  return done;
}

export interface ServiceInstallResult {
  plan: InstallPlan;
  storeChanged: boolean;
  commands: CommandReport[];
}

/** Applies a plan: the running version into the store, files atomically, then the commands. */
export async function applyInstall(d: ServiceDeps, plan: InstallPlan): Promise<ServiceInstallResult> {
  const needsRoot = plan.scope === 'system' && d.uid !== 0;
  if (needsRoot) {
    throw new HephError('E_SERVICE', `installing the ${plan.description} needs root`, {
      hint: 'run it with sudo, or drop --system for a user service',
    });
  }
  // before anything is written: a manager that cannot be reached would leave a changed unit
  // behind that it never loaded (a shell without XDG_RUNTIME_DIR)
  if (plan.commands.length + plan.retire.length > 0) await assertManagerAnswers(d, plan.manager, plan.scope);
  const stored = await installRunningVersion(d);
  for (const f of plan.files) if (f.changed) writeFileAtomic(f.path, f.content, f.mode);
  const commands = await runCommands(d, plan.retire);
  for (const f of plan.stale) rmSync(f, { force: true }); // before the daemon-reload forgets them
  // launchd opens StandardOutPath but does not create its folder
  if (plan.manager === 'launchd') mkdirSync(plan.spec.logDir, { recursive: true });
  if (plan.handOver) {
    // the daemon creates its socket in runDir: it must exist and be the service user's
    mkdirSync(d.paths.runDir, { recursive: true, mode: 0o700 });
    for (const p of plan.handOver.paths) chownTree(p, plan.handOver.account);
    applyAccess(plan.handOver.access);
  }
  commands.push(...(await runCommands(d, plan.commands)));
  // read the unit's state back: "installed and running" only for a daemon that answers
  if (plan.start && plan.commands.length > 0) await ensureStarted(d, plan.scope, plan.spec);
  return { plan, storeChanged: stored.changed, commands };
}
