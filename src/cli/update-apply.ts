// `heph update apply` and `heph update rollback` for people: ask, show progress, print; the use
// cases themselves are src/update/apply.ts and rollback.ts. Then ask a running daemon to restart
// into what is current. The forge, the check and the daemon call are effects passed in
// (ApplyEffects, real ones in update-apply-effects.ts) so tests can fake them.
import { loadConfig } from '../config/load.js';
import { HephError, isHephError } from '../errors.js';
import { createProgressBar } from '../install/progress.js';
import { applyRelease, chooseRelease } from '../update/apply.js';
import { rollbackInstall } from '../update/rollback.js';
import { requestedVersion } from '../forge/tag.js';
import { type CliContext, note, printJson, println } from './context.js';
import type { ApplyEffects } from './update-apply-effects.js';

/**
 * What became of the restart request: `pending` when the daemon runs without a supervisor that
 * would start it again, so it keeps the old version until someone restarts it; `not-restarted`
 * when nothing changed.
 */
export type DaemonOutcome = 'restarting' | 'pending' | 'not-running' | 'error' | 'not-restarted';

/** The daemon's answer to POST /v1/update/apply (src/daemon/core.ts). */
interface ApplyAnswer {
  restarting?: boolean;
  reason?: string;
  recommendedAction?: string | null;
}

async function defaultEffects(): Promise<ApplyEffects> {
  return (await import('./update-apply-effects.js')).applyEffects;
}

/** Asks the daemon to restart into what is now current; no daemon is a normal answer. */
async function restartDaemon(ctx: CliContext, fx: ApplyEffects, version: string): Promise<DaemonOutcome> {
  try {
    const answer = (await fx.callDaemon(ctx.deps.paths, 'POST', '/v1/update/apply', {
      installed: version,
    })) as ApplyAnswer | null;
    if (answer?.restarting !== false) return 'restarting';
    if (answer.reason === 'already-running') return 'not-restarted';
    if (answer.recommendedAction) note(ctx, `heph: ${answer.recommendedAction}`);
    return 'pending';
  } catch (e) {
    if (isHephError(e, 'E_NOT_RUNNING')) return 'not-running';
    note(ctx, `heph: the daemon did not accept the restart: ${(e as Error).message}`);
    note(ctx, '  restart it yourself: `heph daemon restart`');
    return 'error';
  }
}

function daemonSays(daemon: DaemonOutcome): string {
  if (daemon === 'restarting') return 'the daemon is restarting into it';
  if (daemon === 'not-running') return 'no daemon is running; it starts this version next time';
  if (daemon === 'not-restarted') return 'the daemon was not asked to restart';
  if (daemon === 'pending')
    return 'the daemon has no supervisor to restart it and runs the old version until restarted';
  return 'the daemon still runs the old version';
}

export async function updateApply(
  ctx: CliContext,
  opts: { version?: string; yes?: boolean; json?: boolean },
  fx?: ApplyEffects,
): Promise<number> {
  const effects = fx ?? (await defaultEffects());
  const { deps } = ctx;
  const { config } = loadConfig(deps.paths.config, deps.env, deps.app);
  if (opts.version !== undefined && requestedVersion(opts.version, config.forge.tag_prefix) === null) {
    throw new HephError(
      'E_USAGE',
      `--version expects a version such as 1.2.3, got ${JSON.stringify(opts.version)}`,
      {
        hint: 'leave --version out to install the candidate; an empty value is often an unset shell variable',
      },
    );
  }
  const check = await effects.checkForUpdate(config, deps, opts.version ? { findVersion: opts.version } : {});
  const current = check.current;

  const choice = chooseRelease(check, { version: opts.version, force: opts.yes }, config, deps);
  if (choice.release === null) {
    const { reason, detail } = choice;
    if (ctx.json) printJson(ctx, { installed: false, current, reason, detail });
    else println(ctx, `nothing to install: ${detail}`);
    return 0;
  }
  const { release } = choice;

  if (ctx.interactive && !opts.yes && !ctx.json) {
    if (!(await effects.confirm(ctx, `Install ${release.version} (current ${current})?`))) {
      println(ctx, 'nothing installed');
      return 0;
    }
  }

  const client = effects.createForgeClient(config, deps);
  const bar =
    ctx.interactive && !ctx.json ? createProgressBar(ctx.stderr, `downloading ${release.tag}`) : null;
  let result: Awaited<ReturnType<typeof applyRelease>>;
  try {
    result = await applyRelease({
      config,
      deps,
      client,
      release,
      named: choice.named,
      onProgress: bar ? bar.update : undefined,
    });
  } finally {
    bar?.done();
  }
  const daemon: DaemonOutcome = result.alreadyCurrent
    ? 'not-restarted'
    : await restartDaemon(ctx, effects, result.version);

  if (ctx.json) {
    printJson(ctx, { installed: !result.alreadyCurrent, current, ...result, daemon });
    return 0;
  }
  if (result.alreadyCurrent) {
    println(ctx, `${result.version} is already current; nothing to do`);
    return 0;
  }
  const was = result.previous ?? current;
  println(
    ctx,
    `installed ${deps.app.name} ${result.version} (was ${was}); ${result.version} is now current, ${daemonSays(daemon)}`,
  );
  return 0;
}

export async function updateRollback(
  ctx: CliContext,
  opts: { json?: boolean },
  fx?: ApplyEffects,
): Promise<number> {
  void opts;
  const moved = await rollbackInstall(ctx.deps);
  const daemon = await restartDaemon(ctx, fx ?? (await defaultEffects()), moved.to);
  if (ctx.json) {
    printJson(ctx, { rolledBack: true, version: moved.to, from: moved.from, daemon });
    return 0;
  }
  println(ctx, `rolled back from ${moved.from} to ${moved.to}; ${daemonSays(daemon)}`);
  note(
    ctx,
    `${ctx.deps.app.name}: auto mode skips ${moved.from} until a newer release (or \`heph update apply --version ${moved.from}\`)`,
  );
  return 0;
}
