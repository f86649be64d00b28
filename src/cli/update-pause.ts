// `heph update pause [--for D]` and `heph update resume`: the manual override of auto mode. With
// a daemon they go through its socket; without one they edit state.json so the decision holds.
import { serviceNames } from '../app/service-names.js';
import { durationBoundProblem, parseDuration } from '../config/duration.js';
import { callDaemon } from '../control/client.js';
import { unitStarting } from '../control/unit-state.js';
import { updateState } from '../update/state.js';
import { HephError, isHephError } from '../errors.js';
import { pauseUpdates, resumeUpdates } from '../update/pause.js';
import { type CliContext, note, printJson, println } from './context.js';

function forMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  const bound = ms === undefined ? null : durationBoundProblem(ms);
  if (ms === undefined || bound !== null) {
    throw new HephError(
      'E_USAGE',
      `--for expects a duration like "2h" or "7d", got "${text}"${bound ? `: it ${bound}` : ''}`,
      {
        hint: 'a number and a unit: s, m, h or d',
      },
    );
  }
  return ms;
}

/** Asks the daemon; null when none runs (the caller then edits state.json itself). */
async function viaDaemon(ctx: CliContext, path: string, body: unknown): Promise<unknown | null> {
  try {
    return await callDaemon(ctx.deps.paths, 'POST', path, body, {
      restartPlausible: () => unitStarting(serviceNames(ctx.deps.app), ctx.deps.env),
    });
  } catch (e) {
    if (isHephError(e, 'E_NOT_RUNNING')) return null;
    throw e;
  }
}

export async function updatePause(ctx: CliContext, opts: { for?: string; json?: boolean }): Promise<number> {
  const ms = forMs(opts.for);
  const { deps } = ctx;
  const answer = (await viaDaemon(ctx, '/v1/update/pause', ms === undefined ? {} : { for: opts.for })) as {
    pausedUntil?: string | null;
  } | null;
  const daemon = answer !== null;
  let until: string | null = answer?.pausedUntil ?? null;
  if (!daemon) {
    updateState(deps.paths, (s) => {
      until = pauseUpdates(s, deps, ms, 'cli');
    });
  }
  if (ctx.json) {
    printJson(ctx, { paused: true, pausedUntil: until, daemon: daemon ? 'running' : 'not-running' });
    return 0;
  }
  println(ctx, `updates paused${until ? ` until ${until}` : ' until `heph update resume`'}`);
  if (!daemon)
    note(
      ctx,
      `heph: no daemon is running; the pause is saved in ${deps.paths.stateFile} and holds when it starts`,
    );
  return 0;
}

export async function updateResume(ctx: CliContext, _opts: { json?: boolean }): Promise<number> {
  const { deps } = ctx;
  const answer = await viaDaemon(ctx, '/v1/update/resume', {});
  const daemon = answer !== null;
  if (!daemon) {
    updateState(deps.paths, (s) => resumeUpdates(s, deps, 'cli'));
  }
  if (ctx.json) {
    printJson(ctx, { paused: false, circuit: 'closed', daemon: daemon ? 'running' : 'not-running' });
    return 0;
  }
  println(ctx, 'updates resumed (the restart circuit is closed)');
  if (!daemon) note(ctx, `heph: no daemon is running; the change is saved in ${deps.paths.stateFile}`);
  return 0;
}
