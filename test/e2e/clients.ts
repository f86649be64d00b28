// The callers an operator has during a self-update: a script running `heph status` in a loop,
// and a raw client connecting to the control socket. Each records every failure it saw.
import { connect } from 'node:net';
import { execa } from 'execa';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Lower priority for the polling clients (see statusLoop). */
const CLIENT_NICENESS = 10;

export interface StatusCall {
  at: number;
  exitCode: number;
  version: string | null;
  error?: string;
}

export interface Loop<T> {
  results: T[];
  stop(): Promise<T[]>;
}

/**
 * Runs `node heph status --json` one after another, `gapMs` apart, until stopped. The callers run
 * under `nice`: starting a node process every 100 ms is most of a core on a 2-core machine, and
 * the client must not be what slows the daemon's restart past the client's own grace.
 */
export function statusLoop(heph: string, env: Record<string, string>, gapMs: number): Loop<StatusCall> {
  const results: StatusCall[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const r = await execa(
        'nice',
        ['-n', String(CLIENT_NICENESS), process.execPath, heph, 'status', '--json'],
        {
          env,
          extendEnv: false,
          reject: false,
          timeout: 30_000,
        },
      );
      let version: string | null = null;
      try {
        version = (JSON.parse(String(r.stdout)) as { version?: string }).version ?? null;
      } catch {
        // not JSON: counted as a failure below through the exit code
      }
      const call: StatusCall = { at: Date.now(), exitCode: r.exitCode ?? 1, version };
      if (call.exitCode !== 0) call.error = String(r.stderr).trim().slice(0, 300);
      results.push(call);
      await sleep(gapMs);
    }
  })();
  return {
    results,
    async stop() {
      running = false;
      await done;
      return results;
    },
  };
}

export interface ConnectAttempt {
  at: number;
  ok: boolean;
  code?: string;
}

/** Connects to a unix socket every `gapMs` (not waiting for the previous one) and hangs up. */
export function connectLoop(socketPath: string, gapMs: number): Loop<ConnectAttempt> {
  const results: ConnectAttempt[] = [];
  const pending = new Set<Promise<void>>();
  const attempt = () => {
    const p = new Promise<void>((resolve) => {
      const at = Date.now();
      const s = connect(socketPath);
      s.once('connect', () => {
        results.push({ at, ok: true });
        s.destroy();
        resolve();
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        results.push({ at, ok: false, code: e.code ?? e.message });
        resolve();
      });
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  const timer = setInterval(attempt, gapMs);
  return {
    results,
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      return results;
    },
  };
}
