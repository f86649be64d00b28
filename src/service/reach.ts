// Whether the service manager answers this shell, asked before anything is written: a shell
// without XDG_RUNTIME_DIR (sudo -iu, cron, ssh without a session) cannot reach the user manager,
// and an install that rewrote the unit first would leave it changed and not loaded.
import { HephError } from '../errors.js';
import type { ServiceDeps } from './effects.js';
import type { ManagerKind, Scope } from './spec.js';

/** The cheapest question systemctl answers only over the manager's socket. */
export function probeCommand(scope: Scope) {
  const args = ['show', '--property=Version'];
  return { file: 'systemctl', args: scope === 'user' ? ['--user', ...args] : args };
}

/** The error for a manager that does not answer, with how to fix this shell. */
export function unreachable(scope: Scope, d: Pick<ServiceDeps, 'env' | 'uid'>, output: string): HephError {
  const why = output.trim().split('\n')[0] || 'no answer';
  if (scope === 'system') {
    return new HephError(
      'E_SERVICE',
      `systemd (the system manager) does not answer: ${why}; nothing was changed`,
      {
        hint: 'is systemd running as PID 1 here? Without it, use `heph daemon install --manager none`',
      },
    );
  }
  const noRuntime = !d.env.XDG_RUNTIME_DIR;
  return new HephError(
    'E_SERVICE',
    `your systemd user manager does not answer this shell: ${why}; nothing was changed`,
    {
      hint: noRuntime
        ? `this shell has no XDG_RUNTIME_DIR (sudo -iu, cron, ssh without a session): export XDG_RUNTIME_DIR=/run/user/$(id -u), or use a login session (ssh, machinectl shell USER@), then run the command again`
        : `check that XDG_RUNTIME_DIR (${d.env.XDG_RUNTIME_DIR}) is your user manager's (\`systemctl --user status\`), or use a login session`,
    },
  );
}

/** Throws E_SERVICE (exit 1) unless the manager of `scope` answers; launchd is not asked. */
export async function assertManagerAnswers(
  d: ServiceDeps,
  manager: ManagerKind,
  scope: Scope,
): Promise<void> {
  if (manager !== 'systemd') return;
  const r = await d.runner(probeCommand(scope));
  if (r.exitCode !== 0) throw unreachable(scope, d, r.stderr || r.stdout);
}
