// hephd as a process: config, single instance, supervisor and container detection, the control
// socket, the poll loop, the health mark, signals and the graceful drain. Returns the exit code.
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { type ControlServer, ensureRunDir, startControlServer } from '../control/server.js';
import { describeError, EXIT, HephError } from '../errors.js';
import { markHealthy } from '../install/launcher-state.js';
import type { Deps } from '../platform/deps.js';
import { writeFileAtomic } from '../platform/fs.js';
import { createLogger } from '../platform/logger.js';
import { activatedFd, detectContainer, detectSupervisor, realProbe } from '../platform/supervisor.js';
import { VERSION } from '../version.js';
import { type Checker, Daemon } from './core.js';
import { MAX_TIMER_MS } from './loop.js';
import { acquireInstance } from './instance.js';

/** Name of the development knob that multiplies every scheduler delay (docs/daemon.md). */
export const SCALE_ENV = 'HEPH_DEV_SCHEDULE_SCALE';

/** HEPH_DEV_SCHEDULE_SCALE as a number in (0, 1]; 1 when unset. Anything else is refused. */
export function scheduleScale(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) {
    throw new HephError('E_CONFIG', `${SCALE_ENV} must be a number in (0, 1], got "${value}"`, {
      hint: `unset ${SCALE_ENV} (it is a development knob), or use e.g. 0.01`,
      details: { key: SCALE_ENV },
    });
  }
  return n;
}

type InstallRelease = typeof import('../install/index.js').installRelease;

/**
 * The forge-facing effects: loaded only when the mode needs them, so `off` never touches the forge
 * code. The forge client is made now (a bad repo or token file stops the start); the installer
 * (tar, execa, the store) is imported at the first install, so a daemon that only polls does not
 * keep it in memory (bench/idle).
 */
async function forgeEffects(config: Config, deps: Deps) {
  const [{ createForgeClient }, { checkForUpdate, checkReport }] = await Promise.all([
    import('../forge/index.js'),
    import('../release/check.js'),
  ]);
  const client = createForgeClient(config, deps);
  const checker: Checker = async ({ paused }) => {
    const r = await checkForUpdate(config, deps, { paused, client });
    return { ...r, report: checkReport(r, config) };
  };
  return {
    checker,
    install: async (release: Parameters<InstallRelease>[0]['release']) => {
      const { installRelease } = await import('../install/index.js');
      return installRelease({ config, deps, client, release });
    },
  };
}

/** Why a daemon stops, as the stop marker says it (docs/daemon.md "Shutdown"). */
export type StopReason = 'self-update' | 'signal' | 'error';

/**
 * The stop marker tells clients a restart may be under way (src/control/client.ts): written as
 * the drain starts with its deadline, and again with `stoppedAt` once the drain is over. `time`
 * (= stoppingAt) keeps clients that predate the drain deadline working.
 */
function writeStopMarker(deps: Deps, marker: Record<string, unknown>): void {
  try {
    writeFileAtomic(deps.paths.stopMarker, `${JSON.stringify(marker)}\n`, 0o600);
  } catch (e) {
    deps.logger.warn({ error: describeError(e) }, 'cannot write the stop marker');
  }
}

/** SIGHUP too: a terminal that closes on a foreground hephd gets the same drain as systemctl stop. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * A log reader that went away (EPIPE on a closed pipe) must not end the daemon: every log line
 * would raise the error again. The logs are lost until the next start; the updates go on.
 */
function ignoreStdoutError(): void {}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export async function runDaemon(opts: RunOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger();
  const { createDeps } = await import('../platform/deps.js');
  const deps = createDeps({ env, logger });
  const { paths } = deps;

  let config: Config;
  let scale: number;
  try {
    config = loadConfig(paths.config, env).config;
    scale = scheduleScale(env[SCALE_ENV]);
  } catch (e) {
    logger.fatal({ error: describeError(e), hint: (e as HephError).hint }, 'cannot start');
    throw e;
  }
  if (scale !== 1)
    logger.warn({ scale }, `${SCALE_ENV} is set: every scheduler delay is multiplied by ${scale}`);

  const probe = realProbe(env);
  const supervisor = detectSupervisor(env, probe);
  const container = detectContainer(env, probe);
  const activated = activatedFd(env, process.pid) !== null;
  const mode = config.update.mode;
  const startedAt = Date.now();

  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => (resolveExit = r));
  let shutdown: (code: number, reason: StopReason, detail: string) => void = (code) => resolveExit(code);
  const fx = mode === 'off' ? null : await forgeEffects(config, deps);

  const daemon = new Daemon({
    config,
    deps,
    runtime: { supervisor, container, socketActivated: activated, startedAt, pid: process.pid },
    checker: fx ? fx.checker : async () => Promise.reject(new Error('update.mode is off')),
    install: fx ? fx.install : async () => Promise.reject(new Error('update.mode is off')),
    requestRestart: (version) =>
      setImmediate(() => shutdown(EXIT.ok, 'self-update', `restarting into ${version}`)),
    scale,
  });

  ensureRunDir(paths.runDir);
  const instance = await acquireInstance<ControlServer>(paths, logger, activated, () =>
    startControlServer({ socketPath: paths.socket, api: daemon, logger, env }),
  );
  const server = instance.listener;
  rmSync(paths.stopMarker, { force: true }); // we are up: no restart is pending any more

  const onRejection = (e: unknown) =>
    logger.error({ error: describeError(e) }, 'unhandled rejection (ignored)');
  const onException = (e: unknown) => {
    logger.fatal({ error: describeError(e), stack: (e as Error)?.stack }, 'uncaught exception');
    shutdown(EXIT.error, 'error', 'uncaught exception');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  const healthTimer = setTimeout(
    () => {
      try {
        markHealthy(paths, VERSION);
        logger.info({ version: VERSION }, 'marked healthy');
      } catch (e) {
        logger.warn({ error: describeError(e) }, 'cannot mark this version healthy');
      }
    },
    Math.min(config.restart.health_grace, MAX_TIMER_MS),
  );

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(EXIT.error);
    }
    shutdown(EXIT.ok, 'signal', signal);
  };
  shutdown = (code, reason, detail) => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      // The marker first: a client that finds no socket from here on knows to wait for a restart,
      // and until when this daemon may still be draining (an install in progress holds it).
      const drain = config.restart.drain_timeout;
      const stoppingAt = Date.now();
      const marker = {
        pid: process.pid,
        version: VERSION,
        reason,
        detail,
        time: new Date(stoppingAt).toISOString(),
        stoppingAt: new Date(stoppingAt).toISOString(),
        drainDeadline: new Date(stoppingAt + drain).toISOString(),
      };
      writeStopMarker(deps, marker);
      logger.info({ version: VERSION, supervisor, mode, reason, detail }, 'stopping');
      clearTimeout(healthTimer);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, drain)));
      // daemon.stop() abandons a running check at once; only an install holds the drain.
      await Promise.race([Promise.all([server.close(drain), daemon.stop()]), deadline]);
      clearTimeout(timer);
      writeStopMarker(deps, { ...marker, stoppedAt: new Date().toISOString() });
      instance.release();
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      logger.info({ version: VERSION, supervisor, mode, code }, 'stopped');
      resolveExit(code);
    })().catch((e) => {
      logger.error({ error: describeError(e) }, 'shutdown failed');
      resolveExit(EXIT.error);
    });
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  process.stdout.on('error', ignoreStdoutError); // kept to the end: the last log lines write too

  logger.info(
    {
      version: VERSION,
      supervisor,
      mode,
      container,
      socket: paths.socket,
      socketActivated: server.socketActivated,
      config: paths.config,
    },
    'hephd started',
  );
  const limited = daemon.modeReason();
  if (limited !== null) logger[mode === 'off' ? 'info' : 'warn']({ mode }, limited);
  daemon.start();
  return exited;
}
