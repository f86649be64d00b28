// `heph daemon install` as a plan and its application: the files (launcher, units, the 0600
// token file) with their content and whether they change, and the manager commands. A dry run
// prints the plan; a real run applies it, so both always agree on what "install" means.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, readConfigText } from '../config/load.js';
import { HephError } from '../errors.js';
import { installRunningVersion, readStore } from '../install/index.js';
import { renderLauncher } from '../install/launcher.js';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import { type Account, chownTree } from './accounts.js';
import type { ServiceDeps } from './effects.js';
import { chooseManager, describeScope } from './manager.js';
import { renderSecretFile } from './render.js';
import { type Cmd, type CmdResult, commandLine } from './runner.js';
import { buildSpec, type ManagerKind, type Scope, type ServiceSpec, secretFilePath } from './spec.js';
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
  /** Files of an earlier install to remove, after `retire` stopped what they describe. */
  stale: string[];
  retire: Cmd[];
  warnings: string[];
  /** A system service running as a named user gets these folders (root created them). */
  handOver: { account: Account; paths: string[] } | null;
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

export async function planInstall(d: ServiceDeps, opts: ServiceInstallOptions): Promise<InstallPlan> {
  const { config } = loadConfig(d.paths.config, d.env, d.app); // refuses an invalid config (exit 78)
  const choice = chooseManager(opts.manager, d.facts, d.names);
  const { backend } = choice;
  const scope: Scope = opts.system ? 'system' : 'user';
  const warnings: string[] = [];
  if (choice.forced)
    warnings.push(`this machine does not seem to run ${backend.kind}; the files are for another machine`);
  if (scope === 'system' && opts.user === undefined) {
    warnings.push('the system service runs as root; pass --user NAME to run it as a dedicated account');
  }
  const spec = buildSpec({
    app: d.app,
    manager: backend.kind,
    scope,
    runAs: opts.user ?? (scope === 'system' && backend.kind === 'systemd' ? 'root' : undefined),
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
  if (scope === 'system' && spec.runAs !== undefined && spec.runAs !== 'root') {
    const account = d.account(spec.runAs);
    if (account === null) {
      throw new HephError('E_USAGE', `--user: there is no account named "${spec.runAs}" on this machine`, {
        hint: `create it first (e.g. useradd --system ${spec.runAs}), or name an existing one`,
      });
    }
    handOver = { account, paths: [d.paths.data, d.paths.state, d.paths.runDir] };
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
  }
  commands.push(...(await runCommands(d, plan.commands)));
  return { plan, storeChanged: stored.changed, commands };
}
