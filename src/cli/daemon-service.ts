// `heph daemon install|uninstall|start|stop|restart|status|logs`: thin wrappers that build the
// service effects, call src/service/, and print the plan, the result or one JSON document.
import { envName } from '../app/identity.js';
import { HephError } from '../errors.js';
import { registerSecret, redactText } from '../platform/logger.js';
import { resolvePaths } from '../platform/paths.js';
import { systemEnv } from '../platform/system-scope.js';
import { type ServiceDeps, serviceDeps } from '../service/effects.js';
import {
  applyInstall,
  type ServiceInstallOptions,
  type InstallPlan,
  planInstall,
  queryState,
  runCommands,
} from '../service/install.js';
import { describeChange } from '../service/access.js';
import { GROUP_FILE, groupName } from '../service/accounts.js';
import { readTextIfExists } from '../platform/fs.js';
import { applyForeign, planForeign, supervisorCommand } from '../service/foreign.js';
import { launchdLogFile } from '../app/service-names.js';
import { assertManagerAnswers } from '../service/reach.js';
import { locateService } from '../service/service-paths.js';
import { ensureStarted } from '../service/settle.js';
import { chooseManager, describeScope } from '../service/manager.js';
import { commandLine } from '../service/runner.js';
import type { Scope } from '../service/spec.js';
import { uninstall } from '../service/uninstall.js';
import type { Verb } from '../service/types.js';
import { type CliContext, note, printJson, println } from './context.js';

/** `heph daemon logs -n` past this is a typo, not a wish (journalctl would print for minutes). */
const MAX_LOG_LINES = 100_000;

/** A system service's files live under /var/lib/<name> unless HEPH_HOME says otherwise (system-scope.ts). */
export function depsFor(ctx: CliContext, system: boolean): ServiceDeps {
  if (!system) return serviceDeps(ctx.deps);
  const env = systemEnv(ctx.deps.env, ctx.deps.app);
  return serviceDeps({ ...ctx.deps, env, paths: resolvePaths(env, ctx.deps.app) });
}

const mode = (m: number) => `0${m.toString(8)}`;

function planJson(plan: InstallPlan, dryRun: boolean) {
  return {
    manager: plan.manager,
    scope: plan.scope,
    unit: plan.files.find((f) => f.kind === 'unit')?.path ?? null,
    dryRun,
    changed: plan.files.some((f) => f.changed) || plan.commands.length > 0,
    state: { loaded: plan.state.loaded, active: plan.state.active, enabled: plan.state.enabled },
    files: plan.files.map((f) => ({
      kind: f.kind,
      path: f.path,
      mode: mode(f.mode),
      changed: f.changed,
      ...(dryRun ? { content: redactText(f.content) } : {}),
    })),
    warnings: plan.warnings,
    owner: plan.handOver
      ? {
          user: plan.handOver.account.name,
          paths: plan.handOver.paths,
          access: plan.handOver.access.map((c) => ({ path: c.path, need: c.need, mode: mode(c.after.mode) })),
        }
      : null,
  };
}

/** --manager none: the store and the launcher, and the command for the operator's own supervisor. */
async function installForeign(
  ctx: CliContext,
  d: ServiceDeps,
  opts: { dryRun?: boolean; system?: boolean },
): Promise<number> {
  if (opts.system) {
    throw new HephError('E_USAGE', '--manager none writes no unit, so --system means nothing with it', {
      hint: 'drop --system; run the printed command as the account your supervisor uses',
    });
  }
  const plan = planForeign(d);
  const command = supervisorCommand(plan);
  const files = [
    {
      kind: 'launcher',
      path: plan.launcher.path,
      mode: mode(plan.launcher.mode),
      changed: plan.launcher.changed,
    },
  ];
  if (opts.dryRun) {
    if (ctx.json) {
      printJson(ctx, {
        manager: 'none',
        dryRun: true,
        files,
        command: plan.command,
        warnings: plan.warnings,
      });
      return 0;
    }
    println(ctx, 'heph daemon install --dry-run --manager none: nothing is changed');
    println(ctx, `would install heph into ${d.paths.store} if it is not there`);
    println(ctx, `would ${plan.launcher.changed ? 'write' : 'keep (unchanged)'} ${plan.launcher.path}`);
    println(ctx, `your supervisor would run: ${command}`);
    for (const w of plan.warnings) note(ctx, `warning: ${w}`);
    return 0;
  }
  const result = await applyForeign(d, plan);
  if (ctx.json) {
    printJson(ctx, {
      manager: 'none',
      dryRun: false,
      changed: result.storeChanged || plan.launcher.changed,
      store: { version: result.storeVersion, changed: result.storeChanged },
      files,
      command: plan.command,
      warnings: plan.warnings,
    });
    return 0;
  }
  println(ctx, 'heph daemon install: no service manager (--manager none)');
  println(
    ctx,
    `  store     ${ctx.deps.app.name} ${result.storeVersion} ${result.storeChanged ? 'installed' : 'already there'}`,
  );
  println(ctx, `  launcher  ${plan.launcher.path} ${plan.launcher.changed ? '(written)' : '(unchanged)'}`);
  println(
    ctx,
    'run this under your supervisor and start it again whenever it exits (exit 78: fix the config first):',
  );
  println(ctx, `  ${command}`);
  for (const w of plan.warnings) note(ctx, `warning: ${w}`);
  return 0;
}

export async function daemonInstall(
  ctx: CliContext,
  opts: Omit<ServiceInstallOptions, 'manager'> & {
    manager?: ServiceInstallOptions['manager'] | 'none';
    dryRun?: boolean;
    json?: boolean;
  },
): Promise<number> {
  const d = depsFor(ctx, Boolean(opts.system));
  if (opts.manager === 'none') return installForeign(ctx, d, opts);
  registerSecret(d.env[envName(d.app, 'FORGE_TOKEN')]?.trim()); // the token file's content is printed redacted
  const plan = await planInstall(d, { ...opts, manager: opts.manager });
  if (opts.dryRun) {
    if (ctx.json) {
      printJson(ctx, {
        ...planJson(plan, true),
        store: { version: plan.store.version, current: plan.store.current },
        removes: plan.stale,
        commands: [...plan.retire, ...plan.commands].map((c) => ({ argv: [c.file, ...c.args] })),
      });
      return 0;
    }
    println(ctx, `heph daemon install --dry-run: ${plan.description}; nothing is changed`);
    println(
      ctx,
      `would install ${ctx.deps.app.name} ${plan.store.version} into ${d.paths.store} if it is not there`,
    );
    for (const f of plan.files) {
      println(ctx, `\nwould ${f.changed ? 'write' : 'keep (unchanged)'} ${f.path} (mode ${mode(f.mode)}):`);
      ctx.stdout.write(`${redactText(f.content).trimEnd()}\n`); // as written: no --system hints in it
    }
    println(ctx, '');
    if (plan.handOver) {
      println(
        ctx,
        `would give ${plan.handOver.paths.join(', ')} to ${plan.handOver.account.name} (the service's user)`,
      );
      const groups = readTextIfExists(GROUP_FILE) ?? '';
      const group = (gid: number) => groupName(gid, groups) ?? String(gid);
      for (const c of plan.handOver.access) println(ctx, `would change ${describeChange(c, group)}`);
    }
    if (plan.commands.length + plan.retire.length === 0)
      println(ctx, 'would run no command (the service is already as wanted)');
    for (const c of plan.retire) println(ctx, `would run: ${commandLine(c)}`);
    for (const f of plan.stale) println(ctx, `would remove ${f} (no longer wanted)`);
    for (const c of plan.commands) println(ctx, `would run: ${commandLine(c)}`);
    for (const w of plan.warnings) note(ctx, `warning: ${w}`);
    return 0;
  }
  const result = await applyInstall(d, plan);
  const changed =
    result.storeChanged ||
    plan.files.some((f) => f.changed) ||
    plan.stale.length > 0 ||
    result.commands.length > 0;
  if (ctx.json) {
    printJson(ctx, {
      ...planJson(plan, false),
      changed,
      store: { version: plan.store.version, changed: result.storeChanged },
      commands: result.commands,
    });
    return 0;
  }
  println(ctx, `heph daemon install: ${plan.description}`);
  println(
    ctx,
    `  store     ${ctx.deps.app.name} ${plan.store.version} ${result.storeChanged ? 'installed' : 'already there'}`,
  );
  for (const f of plan.files)
    println(ctx, `  ${f.kind.padEnd(9)} ${f.path} ${f.changed ? '(written)' : '(unchanged)'}`);
  for (const c of result.commands) println(ctx, `  ran       ${c.argv.join(' ')}`);
  if (!changed) println(ctx, 'nothing changed: the service was already installed as it should be');
  else if (opts.start === false)
    println(ctx, 'installed; not started (--no-start): run `heph daemon start` when ready');
  else println(ctx, 'installed and running; `heph status` shows the daemon');
  for (const w of plan.warnings) note(ctx, `warning: ${w}`);
  return 0;
}

export async function verbState(d: ServiceDeps, scope: Scope) {
  const { backend } = chooseManager(undefined, d.facts, d.names);
  const unitPath = backend.unitPaths(scope, d.env, d.home)[0]!;
  const installed = d.exists(unitPath);
  const state = await queryState(backend, scope, d);
  return { backend, unitPath, installed, state };
}

export async function daemonVerb(
  ctx: CliContext,
  verb: Verb | 'uninstall',
  opts: { system?: boolean; purge?: boolean; json?: boolean },
): Promise<number> {
  const scope: Scope = opts.system ? 'system' : 'user';
  const d = depsFor(ctx, Boolean(opts.system));
  if (verb === 'uninstall') {
    const r = await uninstall(d, { system: opts.system, purge: opts.purge });
    if (ctx.json) {
      printJson(ctx, {
        manager: r.manager,
        scope: r.scope,
        removed: r.removed,
        kept: r.kept,
        commands: r.commands,
      });
      return 0;
    }
    if (r.removed.length === 0) println(ctx, `no ${r.description} was installed; nothing removed`);
    for (const c of r.commands) println(ctx, `ran      ${c.argv.join(' ')}`);
    for (const p of r.removed) println(ctx, `removed  ${p}`);
    if (r.kept.length) println(ctx, `kept     ${r.kept.join(', ')} (pass --purge to remove them too)`);
    return 0;
  }
  const { backend, unitPath, installed, state } = await verbState(d, scope);
  const what = describeScope(backend.kind, scope);
  // a manager this shell cannot reach is an error to fix (exit 1), not a stopped service (exit 3)
  if (installed) await assertManagerAnswers(d, backend.kind, scope);
  if (verb === 'status') {
    if (ctx.json) {
      printJson(ctx, { manager: backend.kind, scope, unit: unitPath, installed, ...state });
      return state.active ? 0 : 3;
    }
    if (!installed) {
      println(ctx, `hephd is not installed as a ${what} (no ${unitPath}); run \`heph daemon install\``);
      return 3;
    }
    let last = 0;
    for (const c of backend.verbCommands('status', scope, d.uid, state, unitPath))
      last = (await d.runner(c, { inherit: true })).exitCode;
    return last === 0 ? 0 : 3;
  }
  if (!installed) {
    throw new HephError('E_SERVICE', `hephd is not installed as a ${what} (no ${unitPath})`, {
      hint: `run \`heph daemon install${opts.system ? ' --system' : ''}\` first`,
    });
  }
  const done = await runCommands(d, backend.verbCommands(verb, scope, d.uid, state, unitPath));
  if (verb === 'start' || verb === 'restart') {
    // read the unit's state back: a daemon that dies at once is exit 1 with its log, not "ran"
    const { paths } = locateService({ app: d.app, scope, env: d.env, home: d.home, uid: d.uid });
    await ensureStarted(d, backend, scope, paths, {
      unit: backend.kind === 'systemd' ? d.names.unit : d.names.launchdLabel,
      logFile: launchdLogFile(d.names, scope, d.home),
    });
  }
  if (ctx.json) {
    printJson(ctx, { manager: backend.kind, scope, verb, commands: done });
    return 0;
  }
  for (const c of done) println(ctx, `ran ${c.argv.join(' ')}`);
  if (done.length === 0) println(ctx, `hephd was already ${verb === 'stop' ? 'stopped' : 'in that state'}`);
  return 0;
}

export async function daemonLogs(
  ctx: CliContext,
  opts: { follow?: boolean; lines?: string; system?: boolean },
): Promise<number> {
  const lines = Number(opts.lines ?? '100');
  if (!Number.isInteger(lines) || lines < 0 || lines > MAX_LOG_LINES) {
    throw new HephError(
      'E_USAGE',
      `-n/--lines: "${opts.lines}" is not a number of lines from 0 to ${MAX_LOG_LINES}`,
      {
        hint: 'for example: heph daemon logs -n 200',
      },
    );
  }
  const scope: Scope = opts.system ? 'system' : 'user';
  const d = depsFor(ctx, Boolean(opts.system));
  const { backend } = chooseManager(undefined, d.facts, d.names);
  const cmd = backend.logsCommand(
    scope,
    { lines, follow: Boolean(opts.follow) },
    launchdLogFile(d.names, scope, d.home),
  );
  const r = await d.runner(cmd, { inherit: true });
  return r.exitCode === 0 ? 0 : 1;
}
