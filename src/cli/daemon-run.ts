// `heph daemon run` / `hephd`: the daemon in the foreground (what the service unit runs). The
// work is in src/daemon/lifecycle.ts; this file reads the one development knob the daemon takes
// (the schedule scale) and makes sure the process really ends.
import { envName } from '../app/identity.js';
import type { ServeFn } from '../app/serve.js';
import type { CliContext } from './context.js';

/**
 * After a clean shutdown nothing should keep the event loop alive; if something does (a socket a
 * library forgot), this timer ends the process anyway instead of hanging the service stop.
 */
const EXIT_GRACE_MS = 2_000;

export async function daemonRun(ctx: CliContext, serve?: ServeFn): Promise<number> {
  const { runDaemon, scheduleScale, SCALE_ENV } = await import('../daemon/lifecycle.js');
  const { app, env } = ctx.deps;
  const knob = envName(app, SCALE_ENV);
  const code = await runDaemon({
    app,
    env: env as NodeJS.ProcessEnv,
    serve,
    scale: scheduleScale(env[knob], knob),
  });
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}
