// The command-line wiring (commander). It does no work itself: each action lazily imports the
// one file that implements its command group, so `heph status` never loads the installer.
import type { Command as CommanderCommand } from 'commander';
import type { Logger } from 'pino';
import { type AppIdentity, renameForApp } from '../app/identity.js';
import type { ServeFn } from '../app/serve.js';
import { describeError, EXIT, HephError, exitCodeFor } from '../errors.js';
import type { Deps } from '../platform/deps.js';
import { resolvePaths } from '../platform/paths.js';
import type { CliContext } from './context.js';

/** What the command line needs of an app (defineApp builds it; heph is the first). */
export interface CliApp {
  identity: AppIdentity;
  /** One line for `--help`. */
  description?: string;
  serve?: ServeFn;
  /** Adds the app's own commander commands beside heph's. */
  commands?: (program: CommanderCommand) => void;
}

/** `update …` with --system, run by root, acts as the account that owns the install. */
const AS_OWNER = { asOwner: true } as const;

type Action = (ctx: CliContext, ...args: never[]) => Promise<number | undefined> | number | undefined;

const noop = () => {};
/**
 * For commands that never log (`status`): loading pino would cost `heph status` a third of its
 * cold start (bench/cold-start), so they get this stand-in instead of a silent pino logger.
 */
const quietLogger = {
  level: 'silent',
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => quietLogger,
} as unknown as Logger;

/** `light`: paths and clock only, nothing that loads pino (see quietLogger). */
async function makeDeps(app: AppIdentity, light: boolean, system: boolean): Promise<Deps> {
  const env = system
    ? (await import('../platform/system-scope.js')).systemEnv(process.env, app)
    : process.env;
  if (light) {
    return {
      app,
      env,
      paths: resolvePaths(env, app),
      clock: { now: Date.now },
      logger: quietLogger,
    };
  }
  return (await import('../platform/deps.js')).createDeps({ app, env });
}

/** --system: the scope hints get, with the system unit's User= for `daemon install` hints. */
async function systemScope(app: AppIdentity): Promise<CliContext['scope']> {
  const { readTextIfExists } = await import('../platform/fs.js');
  const { unitRunAs } = await import('./scope-hints.js');
  const { serviceNames, systemUnitFile } = await import('../app/service-names.js');
  return { system: true, runAs: unitRunAs(readTextIfExists(systemUnitFile(serviceNames(app)))) };
}

async function makeContext(
  app: AppIdentity,
  json: boolean,
  light = false,
  system = false,
): Promise<CliContext> {
  return {
    deps: await makeDeps(app, light, system),
    json,
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    scope: system ? await systemScope(app) : undefined,
  };
}

/** Prints an error the way every command does, and returns its exit code. */
export async function reportError(
  ctx: Pick<CliContext, 'json' | 'stdout' | 'stderr' | 'scope'> & { app: AppIdentity },
  e: unknown,
): Promise<number> {
  const { redactText } = await import('../platform/logger.js');
  const { scoped } = await import('./context.js');
  const code = exitCodeFor(e);
  const message = renameForApp(scoped(ctx, redactText(describeError(e))), ctx.app);
  const hint =
    e instanceof HephError && e.hint ? renameForApp(scoped(ctx, redactText(e.hint)), ctx.app) : undefined;
  if (ctx.json) {
    const body = {
      error: {
        code: e instanceof HephError ? e.code : 'E_INTERNAL',
        message,
        hint: hint ?? null,
        exitCode: code,
      },
    };
    ctx.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  }
  ctx.stderr.write(`${ctx.app.name}: ${message}\n${hint ? `  ${hint}\n` : ''}`);
  if (!(e instanceof HephError) && process.env[`${ctx.app.envPrefix}_DEBUG`])
    ctx.stderr.write(`${(e as Error).stack ?? ''}\n`);
  return code;
}

/** "heph: update available: X" on stderr, as update-notifier would (update-notice.ts). */
async function updateHint(ctx: CliContext, argv: readonly string[]): Promise<void> {
  const stderr = ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  if (ctx.json || !stderr.isTTY) return; // the policy's cheap half, before loading it
  const { updateNotice } = await import('./update-notice.js');
  updateNotice({
    argv,
    json: ctx.json,
    tty: Boolean(stderr.isTTY),
    system: Boolean(ctx.scope?.system),
    version: ctx.deps.app.version,
    name: ctx.deps.app.name,
    now: ctx.deps.clock.now(),
    paths: ctx.deps.paths,
    write: (text) => ctx.stderr.write(text),
  });
}

/**
 * Command lines so common or so hot that they skip commander: importing it costs `heph status`
 * ~8 ms of a ~50 ms cold start (bench/cold-start), and hephd ~0.5 MB of resident memory. Only
 * these exact argument lists; anything else (`--help`, an unknown option) goes through commander.
 */
function plainCommand(argv: readonly string[]): 'status' | 'daemon run' | null {
  const line = argv.join(' ');
  if (line === 'status' || line === 'status --json') return 'status';
  if (line === 'daemon run') return 'daemon run';
  return null;
}

export async function runCli(argv: string[], app: CliApp): Promise<number> {
  const { identity } = app;
  const names = { daemon: identity.daemon, name: identity.name };
  /** `--system` on every command that reads or drives an install (system-scope.ts). */
  const SYSTEM_HELP = `the system install (/var/lib/${identity.name}, or ${identity.envPrefix}_HOME when set)`;
  let exit: number = EXIT.ok;
  let json = argv.includes('--json');

  /** Wraps a lazily loaded command so it gets a context and its errors are mapped once. */
  const lazy =
    <A extends unknown[]>(
      load: () => Promise<(ctx: CliContext, ...args: A) => ReturnType<Action>>,
      opts: { light?: boolean; asOwner?: boolean } = {},
    ) =>
    async (...args: A) => {
      const cmd = args[args.length - 2] as { json?: boolean; system?: boolean } | undefined;
      const given = cmd && typeof cmd === 'object' ? cmd : {};
      json = json || Boolean(given.json);
      const ctx = await makeContext(identity, json, opts.light, Boolean(given.system));
      try {
        if (given.system && opts.asOwner) {
          // root drives a system install as the account that owns it: every file it writes there
          // (state, caches, the store) stays the service's (system-scope.ts)
          const { becomeOwner, installOwner } = await import('../platform/system-scope.js');
          const owner = installOwner(ctx.deps.paths, process.getuid?.() ?? -1);
          if (owner) becomeOwner(owner);
        }
        const fn = await load();
        exit = (await fn(ctx, ...args)) ?? EXIT.ok;
      } catch (e) {
        exit = await reportError({ ...ctx, app: identity }, e);
      }
      await updateHint(ctx, argv);
    };

  const statusAction = lazy(async () => (await import('./status.js')).status, { light: true });
  const daemonRunAction = lazy(async () => {
    const { daemonRun } = await import('./daemon-run.js');
    return (ctx: CliContext) => daemonRun(ctx, app.serve);
  });
  const plain = plainCommand(argv);
  if (plain !== null) {
    // The same action commander would call, with the options it would have parsed, and the same
    // last resort for an error outside the action.
    try {
      await (plain === 'status' ? statusAction({ json }) : daemonRunAction());
    } catch (e) {
      return await reportError({ json, stdout: process.stdout, stderr: process.stderr, app: identity }, e);
    }
    return exit;
  }

  const { Command, CommanderError, Option } = await import('commander');
  const program = new Command(identity.name)
    .description(app.description ?? 'keep a long-running service on the newest release of its forge, safely')
    .version(identity.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions()
    .exitOverride();

  program
    .command('status')
    .description("the daemon's status over the control socket")
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(statusAction);

  const update = program.command('update').description('check, install, roll back and steer self-updates');
  update
    .command('check')
    .description('ask the forge now (no daemon needed)')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .option('--exit-code', 'exit 10 when a candidate exists')
    .action(lazy(async () => (await import('./update-check.js')).updateCheck, AS_OWNER));
  update
    .command('apply')
    .description('install a release now, then restart the daemon if one runs')
    .option('--version <version>', 'install this version instead of the candidate')
    .option('-y, --yes', 'do not ask')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(
      // Only (ctx, opts): commander appends its Command, which would land in updateApply's `fx` slot.
      lazy(async () => {
        const { updateApply } = await import('./update-apply.js');
        return (ctx: CliContext, opts: Parameters<typeof updateApply>[1]) => updateApply(ctx, opts);
      }, AS_OWNER),
    );
  update
    .command('rollback')
    .description('make the previous version current and restart the daemon')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(
      lazy(async () => {
        const { updateRollback } = await import('./update-apply.js');
        return (ctx: CliContext, opts: Parameters<typeof updateRollback>[1]) => updateRollback(ctx, opts);
      }, AS_OWNER),
    );
  update
    .command('pause')
    .description('stop auto mode from installing (manual override)')
    .option('--for <duration>', 'resume by itself after this long (e.g. 2h, 7d)')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./update-pause.js')).updatePause, AS_OWNER));
  update
    .command('resume')
    .description('let auto mode install again (also closes an open circuit)')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./update-pause.js')).updateResume, AS_OWNER));
  update
    .command('history')
    .description('the audit log, newest first')
    .option('-n, --limit <n>', 'at most this many events', '50')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./update-history.js')).updateHistory, AS_OWNER));

  const daemon = program
    .command('daemon')
    .description(`run, install and control the ${names.daemon} service`);
  daemon
    .command('run')
    .description('the daemon in the foreground (what the service runs)')
    .action(daemonRunAction);
  daemon
    .command('install')
    .description(`install ${names.name} into the store, write the launcher and the unit, enable and start it`)
    .option('--system', 'a system service (root) instead of a user service')
    .addOption(
      new Option(
        '--manager <manager>',
        'service manager (none: store and launcher only, for your own supervisor)',
      ).choices(['systemd', 'launchd', 'none']),
    )
    .option('--dry-run', 'print every file and command, change nothing')
    .option('--no-start', 'write and enable, but do not start')
    .option('--socket', 'systemd socket activation: clients queue during restarts')
    .option('--user <name>', 'with --system: the user the service runs as')
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./daemon-service.js')).daemonInstall));
  for (const verb of ['uninstall', 'start', 'stop', 'restart', 'status'] as const) {
    const c = daemon
      .command(verb)
      .description(`${verb} the ${names.daemon} service`)
      .option('--system', 'the system service')
      .option('--json', 'one JSON document on stdout');
    if (verb === 'uninstall') c.option('--purge', 'also remove config, store and state');
    c.action(
      lazy(async () => {
        const { daemonVerb } = await import('./daemon-service.js');
        return (ctx: CliContext, opts: Record<string, unknown>) => daemonVerb(ctx, verb, opts);
      }),
    );
  }
  daemon
    .command('probe', { hidden: true })
    .description('readiness probe of a new version before it is switched to (the installer runs it)')
    .requiredOption('--socket <path>', 'a temporary socket to answer one health request on')
    .action(
      lazy(async () => async (ctx: CliContext, opts: { socket: string }) => {
        const { runProbe } = await import('../daemon/probe.js');
        return runProbe(ctx.deps, opts.socket);
      }),
    );
  daemon
    .command('reload')
    .description('make the running hephd re-read its config (no restart)')
    .option('--system', 'the system service')
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./daemon-reload.js')).daemonReload));
  daemon
    .command('logs')
    .description("the service's log")
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'lines to show', '100')
    .option('--system', 'the system service')
    .action(lazy(async () => (await import('./daemon-service.js')).daemonLogs));

  program
    .command('doctor')
    .description('check the install end to end; each check ok, warn or fail with the fix')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./doctor.js')).doctor));

  const config = program.command('config').description('read and edit the configuration');
  config
    .command('path')
    .description('print the config file path')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./config.js')).configPath));
  config
    .command('get')
    .argument('[key]', 'section.key, e.g. update.mode (all keys when omitted)')
    .description('print a value (bare: auto, not "auto")')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./config.js')).configGet));
  config
    .command('set')
    .argument('<key>', 'section.key')
    .argument('<value>', 'the new value')
    .description('validate the whole result, then write it atomically')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./config.js')).configSet));
  config
    .command('validate')
    .description('check the config file; exit 78 when invalid')
    .option('--system', SYSTEM_HELP)
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./config.js')).configValidate));

  const release = program.command('release').description('tools for publishing releases');
  release
    .command('index')
    .argument('<dir>', 'a folder of release folders named by tag')
    .description('write DIR/index.json for a static release source')
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./release.js')).releaseIndex));
  release
    .command('pack')
    .argument('<dir>', "the app's folder (the one that holds its package.json); it is not changed")
    .description(
      'write OUT/<name>-X.tgz (what npm would pack), OUT/SHA256SUMS and, with --sign, its signature',
    )
    .requiredOption('--version <version>', 'the release version (semver)')
    .requiredOption('--out <dir>', 'the folder for the release files')
    .option('--sign <key>', 'a minisign secret key: also write OUT/SHA256SUMS.minisig')
    .option('--trusted-comment <text>', "the signature's trusted comment (default: NAME VERSION SHA256SUMS)")
    .option('--json', 'one JSON document on stdout')
    .action(lazy(async () => (await import('./release.js')).releasePack, { light: true }));

  app.commands?.(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are "errors" to commander with exit code 0
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return await reportError({ json, stdout: process.stdout, stderr: process.stderr, app: identity }, e);
  }
  return exit;
}
