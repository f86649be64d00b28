// `heph daemon reload`: the running hephd re-reads its config without a restart. Through the
// service manager when a unit is installed (`systemctl reload` → ExecReload= sends SIGHUP;
// `launchctl kill SIGHUP`), then the outcome is read from the audit log (config.reloaded or
// config.refused); with no unit, straight over the control socket (POST /v1/config/reload).
import { readAudit } from '../audit/log.js';
import { callDaemon } from '../control/client.js';
import { HephError } from '../errors.js';
import { runCommands } from '../service/install.js';
import type { Scope } from '../service/spec.js';
import { type CliContext, printJson, println } from './context.js';
import { depsFor, verbState } from './daemon-service.js';

/** How long the daemon may take to apply a reload the manager passed on (a slow forge client). */
const OUTCOME_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

interface Outcome {
  reloaded: boolean;
  changed?: string[];
  /** Changed keys that take effect only at the next start (`app`: an embedding app's [app]). */
  restartNeeded?: string[];
  error?: string;
}

/** The first config.reloaded/config.refused at or after `since` (epoch ms), polling the audit log. */
async function awaitOutcome(auditFile: string, since: number): Promise<Outcome | null> {
  const end = Date.now() + OUTCOME_TIMEOUT_MS;
  for (;;) {
    const hit = readAudit(auditFile, 50).find(
      (e) => (e.event === 'config.reloaded' || e.event === 'config.refused') && Date.parse(e.time) >= since,
    );
    if (hit) {
      return hit.event === 'config.reloaded'
        ? {
            reloaded: true,
            changed: (hit.changed as string[] | undefined) ?? [],
            restartNeeded: (hit.restartNeeded as string[] | undefined) ?? [],
          }
        : { reloaded: false, error: hit.error ?? 'refused' };
    }
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export async function daemonReload(
  ctx: CliContext,
  opts: { system?: boolean; json?: boolean },
): Promise<number> {
  const scope: Scope = opts.system ? 'system' : 'user';
  const d = depsFor(ctx, Boolean(opts.system));
  // No service manager here (a foreign supervisor, `--manager none`): the socket is the way.
  const manager = await verbState(d, scope).catch((e: unknown) => {
    if (e instanceof HephError) return null;
    throw e;
  });
  let outcome: Outcome | null;
  let commands: Array<{ argv: string[] }> = [];
  if (manager?.installed && manager.state.active) {
    const { backend, state } = manager;
    // The audit's times are the daemon's clock (same machine), in milliseconds: only an event
    // written after this moment answers this reload.
    const since = Date.now();
    commands = await runCommands(d, backend.verbCommands('reload', scope, d.uid, state, ''));
    outcome = await awaitOutcome(d.paths.auditFile, since);
    if (outcome === null) {
      throw new HephError(
        'E_DAEMON',
        `${ctx.deps.app.daemon} did not report the reload within ${OUTCOME_TIMEOUT_MS / 1000} s`,
        {
          hint: `check \`${ctx.deps.app.name} daemon logs\`; \`${ctx.deps.app.name} status --json\` shows config.loadedAt`,
        },
      );
    }
  } else {
    try {
      const r = (await callDaemon(d.paths, 'POST', '/v1/config/reload')) as {
        changed?: string[];
        restartNeeded?: string[];
      };
      outcome = { reloaded: true, changed: r.changed ?? [], restartNeeded: r.restartNeeded ?? [] };
    } catch (e) {
      if (e instanceof HephError && e.code === 'E_DAEMON' && e.details.code === 'E_CONFIG') {
        outcome = {
          reloaded: false,
          error: e.message.replace(/^\S+ refused POST \/v1\/config\/reload: /, ''),
        };
      } else throw e;
    }
  }
  if (!outcome.reloaded) {
    throw new HephError(
      'E_CONFIG',
      `${ctx.deps.app.daemon} refused the new config and keeps the old one: ${outcome.error}`,
      {
        hint: `fix the file (\`${ctx.deps.app.name} config validate\` names the key), then run \`${ctx.deps.app.name} daemon reload\` again`,
      },
    );
  }
  if (ctx.json) {
    printJson(ctx, {
      reloaded: true,
      changed: outcome.changed,
      restartNeeded: outcome.restartNeeded ?? [],
      commands: commands.map((c) => c.argv),
    });
    return 0;
  }
  for (const c of commands) println(ctx, `ran ${c.argv.join(' ')}`);
  const changed = outcome.changed ?? [];
  println(
    ctx,
    changed.length
      ? `${ctx.deps.app.daemon} reloaded the config; changed: ${changed.join(', ')}`
      : `${ctx.deps.app.daemon} reloaded the config; nothing changed`,
  );
  if ((outcome.restartNeeded ?? []).includes('app')) {
    println(
      ctx,
      `the [app] table reaches the app at its next start: run \`${ctx.deps.app.name} daemon restart\``,
    );
  }
  return 0;
}
