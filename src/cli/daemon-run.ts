// `heph daemon run` / `hephd`: the daemon in the foreground (what the service unit runs). The
// work is in src/daemon/lifecycle.ts; this file only makes sure the process really ends.
import type { CliContext } from './context.js';

/**
 * After a clean shutdown nothing should keep the event loop alive; if something does (a socket a
 * library forgot), this timer ends the process anyway instead of hanging the service stop.
 */
const EXIT_GRACE_MS = 2_000;

export async function daemonRun(_ctx: CliContext): Promise<number> {
  const { runDaemon } = await import('../daemon/lifecycle.js');
  const code = await runDaemon();
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}
