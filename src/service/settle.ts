// After install (or `daemon start|restart`) starts hephd, read its state back until it answers
// on its socket or plainly failed: a unit that dies at once (a config its user cannot read: exit
// 78; a crash at start: auto-restart) is exit 1 with its last log lines, never "running". The
// verdict is a pure function of what the manager says (judgeStart), the waiting is not.
import { request } from 'node:http';
import { HephError } from '../errors.js';
import type { Paths } from '../platform/paths.js';
import type { ServiceDeps } from './effects.js';
import type { Cmd } from './runner.js';
import type { Scope } from './spec.js';
import type { ServiceBackend, ServiceState } from './types.js';

/**
 * How long a started hephd gets to answer on its socket: node's cold start plus loading the
 * config takes about a second, several on a loaded 2-core machine; a crash shows well before.
 */
export const SETTLE_TIMEOUT_MS = 15_000;
/** How often the manager is asked again meanwhile. */
export const SETTLE_POLL_MS = 250;
/** One status request; the daemon answers from memory. */
const ANSWER_TIMEOUT_MS = 2_000;
/** Log lines quoted when the unit failed. */
export const FAILED_LOG_LINES = 15;

export type StartVerdict = { kind: 'up' } | { kind: 'failed'; why: string } | { kind: 'waiting' };

/** What the manager's state says about a unit just started (systemd's words; launchd has fewer). */
export function judgeStart(state: ServiceState, answered: boolean): StartVerdict {
  if (answered) return { kind: 'up' };
  const p = state.detail;
  const exit = p.ExecMainStatus && p.ExecMainStatus !== '0' ? `exit ${p.ExecMainStatus}` : null;
  if (p.ActiveState === 'failed') {
    return {
      kind: 'failed',
      why: `it failed${exit ? ` (${exit}${p.ExecMainStatus === '78' ? ': a configuration problem' : ''})` : p.Result ? ` (${p.Result})` : ''}`,
    };
  }
  // Restart=always brings a crashing daemon back; a non-zero exit before it ever answered is a
  // crash at start (an update's restart exits 0)
  if (p.SubState === 'auto-restart' && exit)
    return { kind: 'failed', why: `it crashed at start (${exit}) and is being restarted` };
  return { kind: 'waiting' };
}

/** The unit's last log lines: the journal, or the manager's own status when it has none. */
export async function lastLogLines(
  d: ServiceDeps,
  backend: ServiceBackend,
  scope: Scope,
  logFile: string,
): Promise<string> {
  const journal = await d.runner(
    backend.logsCommand(scope, { lines: FAILED_LOG_LINES, follow: false }, logFile),
  );
  const text = journal.stdout.trim();
  if (journal.exitCode === 0 && text !== '' && !/^-- No entries --$|No journal files/m.test(text))
    return text;
  if (backend.kind !== 'systemd') return text;
  const statusCmd: Cmd | undefined = backend.verbCommands(
    'status',
    scope,
    d.uid,
    { loaded: true, active: false, enabled: false, detail: {} },
    '',
  )[0];
  if (!statusCmd) return text;
  const st = await d.runner({ ...statusCmd, args: [...statusCmd.args, '-n', String(FAILED_LOG_LINES)] });
  return (st.stdout || st.stderr).trim();
}

export interface SettleEffects {
  query(): Promise<ServiceState>;
  answers(): Promise<boolean>;
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Waits for the verdict; at the deadline a unit still active is taken as up (a slow machine). */
export async function awaitStart(
  fx: SettleEffects,
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<Exclude<StartVerdict, { kind: 'waiting' }> & { state: ServiceState }> {
  const end = fx.now() + timeoutMs;
  for (;;) {
    const state = await fx.query();
    const verdict = judgeStart(state, await fx.answers());
    if (verdict.kind !== 'waiting') return { ...verdict, state };
    if (fx.now() >= end) {
      return state.active
        ? { kind: 'up', state }
        : { kind: 'failed', why: `it stayed ${state.detail.ActiveState ?? 'inactive'}`, state };
    }
    await fx.sleep(SETTLE_POLL_MS);
  }
}

/**
 * One GET /v1/status on the socket, no retry: the client's restart grace (control/client.ts)
 * would wait out a stopped daemon's marker for seconds while the unit has already failed.
 */
function answersOnce(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { socketPath, path: '/v1/status', method: 'GET', timeout: ANSWER_TIMEOUT_MS },
      (res) => {
        res.resume();
        resolve(res.statusCode !== undefined && res.statusCode < 500);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** The real effects: the manager's state and a status request on the service's socket. */
export function settleEffects(
  d: ServiceDeps,
  backend: ServiceBackend,
  scope: Scope,
  paths: Paths,
): SettleEffects {
  return {
    query: async () => {
      try {
        return backend.parseState(await d.runner(backend.stateQuery(scope, d.uid)));
      } catch {
        return { loaded: false, active: false, enabled: false, detail: {} };
      }
    },
    answers: () => answersOnce(paths.socket),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

/** Throws exit 1 with the unit's last log lines unless the started unit came up. */
export async function ensureStarted(
  d: ServiceDeps,
  backend: ServiceBackend,
  scope: Scope,
  paths: Paths,
  opts: { unit: string; logFile: string; fx?: SettleEffects },
): Promise<void> {
  const v = await awaitStart(opts.fx ?? settleEffects(d, backend, scope, paths));
  if (v.kind === 'up') return;
  const log = await lastLogLines(d, backend, scope, opts.logFile);
  // the log rides in the hint: the message is one line, the hint is printed whole
  const quoted =
    log === ''
      ? '  (no log lines)'
      : log
          .split('\n')
          .map((l) => `  | ${l}`)
          .join('\n');
  throw new HephError('E_SERVICE', `${opts.unit} did not stay up: ${v.why}`, {
    hint: `its last log lines:\n${quoted}\n  fix what the log says, then run the command again (\`heph doctor\` checks the usual causes)`,
    details: { state: v.state.detail, log },
  });
}
