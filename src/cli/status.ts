// `heph status [--json]`: the daemon's status over the control socket, for people or scripts.
// Kept light (no config, no forge code) because people and scripts run it often.
import { serviceNames } from '../app/service-names.js';
import { callDaemon } from '../control/client.js';
import type { StatusDocument } from '../control/types.js';
import { unitStarting } from '../control/unit-state.js';
import { humanDuration } from '../config/duration.js';
import { EXIT, isHephError } from '../errors.js';
import { locateService, shellDiffersNote } from '../service/service-paths.js';
import { type CliContext, note, printJson, println } from './context.js';

/** The daemon answers status from memory at once; a daemon that takes longer than this is wedged. */
export const STATUS_TIMEOUT_MS = 10_000;

/** What --json prints when no daemon answers: the same keys, nothing known. */
export function notRunningDoc(socket: string, message: string): StatusDocument & { socket: string } {
  return {
    running: false,
    version: null,
    pid: null,
    startedAt: null,
    supervisor: null,
    mode: null,
    update: null,
    guard: null,
    socket,
    reason: message,
  };
}

function human(ctx: CliContext, s: StatusDocument): void {
  const up = s.startedAt ? humanDuration(Date.now() - Date.parse(s.startedAt)) : '?';
  println(
    ctx,
    `hephd ${s.version} is running (pid ${s.pid}, up ${up}, supervisor ${s.supervisor}, mode ${s.mode})`,
  );
  const u = s.update;
  if (u) {
    const last = u.lastCheckAt ? `${u.lastCheckAt} (${u.lastResult ?? '?'})` : 'never';
    println(ctx, `  last check:  ${last}${u.nextCheckAt ? `, next ${u.nextCheckAt}` : ''}`);
    if (u.lastError) println(ctx, `  last error:  ${u.lastError} (${u.consecutiveFailures} in a row)`);
    println(ctx, `  latest:      ${u.latest ?? '-'}   candidate: ${u.candidate ?? 'none'}`);
  }
  if (s.pendingRestart) {
    const w = s.deferred?.windowStart ? ` (maintenance window at ${s.deferred.windowStart})` : '';
    println(ctx, `  installed, waiting for a restart: ${s.pendingRestart}${w}`);
  }
  if (s.restartWindow) {
    const rw = s.restartWindow;
    println(
      ctx,
      `  window:      ${rw.open ? `open until ${rw.end}` : `next ${rw.start} – ${rw.end}`} (${rw.window})`,
    );
  }
  const g = s.guard;
  if (g) {
    const pause = g.paused ? `paused${g.pausedUntil ? ` until ${g.pausedUntil}` : ''}` : 'not paused';
    const cool = g.cooldownUntil ? `, cooling down until ${g.cooldownUntil}` : '';
    println(
      ctx,
      `  guard:       ${pause}, circuit ${g.circuit}, ${g.restartsInWindow} restart(s) in window${cool}`,
    );
    if (g.recommendedAction) println(ctx, `  next step:   ${g.recommendedAction}`);
  }
  if (s.health && !s.health.ok) println(ctx, `  health:      degraded: ${s.health.reason ?? 'unknown'}`);
  if (s.reason) println(ctx, `  note:        ${s.reason}`);
}

export async function status(ctx: CliContext, opts: { json?: boolean } = {}): Promise<number> {
  // the socket the service really listens on: its unit's environment and its manager's
  const loc = locateService({
    app: ctx.deps.app,
    scope: ctx.scope?.system ? 'system' : 'user',
    env: ctx.deps.env,
    uid: process.getuid?.() ?? -1,
  });
  const { paths } = loc;
  const differs = shellDiffersNote(loc);
  if (differs && !(ctx.json || opts.json)) note(ctx, differs);
  let doc: StatusDocument;
  try {
    doc = (await callDaemon(paths, 'GET', '/v1/status', undefined, {
      timeoutMs: STATUS_TIMEOUT_MS,
      restartPlausible: () => unitStarting(serviceNames(ctx.deps.app), ctx.deps.env),
    })) as StatusDocument;
  } catch (e) {
    if (!isHephError(e, 'E_NOT_RUNNING')) throw e;
    if (ctx.json || opts.json) printJson(ctx, notRunningDoc(paths.socket, e.message));
    else {
      println(ctx, `hephd is not running (socket ${paths.socket})`);
      note(
        ctx,
        loc.installed === false
          ? '  hephd is not installed as a service: install it with `heph daemon install` (or run `hephd` in the foreground)'
          : `  ${e.hint}`,
      );
    }
    return EXIT.notRunning;
  }
  if (ctx.json || opts.json) printJson(ctx, doc);
  else human(ctx, doc);
  return EXIT.ok;
}
