// hephd as a process: config, single instance, supervisor and container detection, the control
// socket, the poll loop, the health mark, signals and the graceful drain. Returns the exit code.
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { assertSocketPath, type ControlServer, ensureRunDir, startControlServer } from '../control/server.js';
import { describeError, EXIT, HephError } from '../errors.js';
import { markHealthy, uncountStart } from '../install/launcher-state.js';
import type { Deps } from '../platform/deps.js';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import { appendAudit } from '../audit/log.js';
import { configDigest } from '../service/spec.js';
import { changedKeys, sameAppTable, serialize } from './reload.js';
import { createLogger } from '../platform/logger.js';
import { setLongTimeout } from '../platform/timers.js';
import { activatedFd, detectContainer, detectSupervisor, realProbe } from '../platform/supervisor.js';
import { type AppIdentity, envName, HEPH_APP } from '../app/identity.js';
import { serviceNames } from '../app/service-names.js';
import { InFlight, type ServeContext, type ServeFn } from '../app/serve.js';
import { type Checker, Daemon } from './core.js';
import { acquireInstance } from './instance.js';

/** The development knob that multiplies every scheduler delay (docs/daemon.md), without its prefix. */
export const SCALE_ENV = 'DEV_SCHEDULE_SCALE';

/**
 * HEPH_DEV_SCHEDULE_SCALE as a number in (0, 1]; 1 when unset. Anything else is refused. Read once
 * by the entry point (src/cli/daemon-run.ts) and passed in: the daemon never reads test knobs.
 */
export function scheduleScale(value: string | undefined, name = `HEPH_${SCALE_ENV}`): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) {
    throw new HephError('E_CONFIG', `${name} must be a number in (0, 1], got "${value}"`, {
      hint: `unset ${name} (it is a development knob), or use e.g. 0.01`,
      details: { key: name },
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
    import('../update/check.js'),
  ]);
  const client = createForgeClient(config, deps);
  const checker: Checker = async ({ paused }) => {
    const r = await checkForUpdate(config, deps, { paused, client });
    return { ...r, report: checkReport(r, config) };
  };
  return {
    checker,
    install: async (release: Parameters<InstallRelease>[0]['release'], opts: { stage?: boolean } = {}) => {
      const { installRelease } = await import('../install/index.js');
      return installRelease({ config, deps, client, release, ...opts });
    },
    switchStaged: async (version: string) => {
      const { switchStaged } = await import('../install/index.js');
      return switchStaged(config, deps, version);
    },
  };
}

const offChecker = async (): Promise<never> => Promise.reject(new Error('update.mode is off'));
const offInstall = async (): Promise<never> => Promise.reject(new Error('update.mode is off'));

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

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** SIGHUP re-reads the config (systemd's ExecReload=, `heph daemon reload`): docs/operations.md. */
const RELOAD_SIGNAL = 'SIGHUP';

/**
 * A log reader that went away (EPIPE on a closed pipe) must not end the daemon: every log line
 * would raise the error again. The logs are lost until the next start; the updates go on.
 */
function ignoreStdoutError(): void {}

export interface RunOptions {
  /** The app this daemon is (default: heph). */
  app?: AppIdentity;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** The embedding app's work (defineApp's serve), run once the control socket is up. */
  serve?: ServeFn;
  /** Multiplies every scheduler delay (the entry point reads the development knob). */
  scale?: number;
}

export async function runDaemon(opts: RunOptions = {}): Promise<number> {
  // First thing: Node's default for SIGHUP ends the process (exit 129), and a `systemctl reload`
  // can come while the daemon is still starting. One before the config is read is covered by that
  // read; one after it is queued and run once the daemon is up (`early.hup`).
  const early = { configRead: false, hup: false };
  const onEarlyReload = () => {
    if (early.configRead) early.hup = true;
  };
  process.on(RELOAD_SIGNAL, onEarlyReload);
  try {
    return await startDaemon(opts, early, () => process.off(RELOAD_SIGNAL, onEarlyReload));
  } finally {
    process.off(RELOAD_SIGNAL, onEarlyReload);
  }
}

async function startDaemon(
  opts: RunOptions,
  early: { configRead: boolean; hup: boolean },
  dropEarlyReload: () => void,
): Promise<number> {
  const env = opts.env ?? process.env;
  const app = opts.app ?? HEPH_APP;
  const logger = opts.logger ?? createLogger({ level: env[envName(app, 'LOG_LEVEL')], app });
  const { createDeps } = await import('../platform/deps.js');
  const deps = createDeps({ env, logger, app });
  const { paths } = deps;
  const scale = opts.scale ?? 1;

  let config: Config;
  let digest: string;
  try {
    early.configRead = true; // a SIGHUP from here on may name a file newer than what is read now
    config = loadConfig(paths.config, env, app).config;
    digest = configDigest(readTextIfExists(paths.config) ?? '');
  } catch (e) {
    logger.fatal({ error: describeError(e), hint: (e as HephError).hint }, 'cannot start');
    // A bad config is not the version's fault: the launcher must not count this start against it.
    if (env[envName(app, 'LAUNCHED_VERSION')] === app.version) {
      try {
        uncountStart(paths, app.version);
      } catch {
        // the state folder is unwritable too: the config error is what to report
      }
    }
    throw e;
  }
  if (scale !== 1) {
    const knob = envName(app, SCALE_ENV);
    logger.warn({ scale }, `${knob} is set: every scheduler delay is multiplied by ${scale}`);
  }

  const probe = realProbe(env);
  const supervisor = detectSupervisor(env, probe, [serviceNames(app).launchdLabel]);
  const container = detectContainer(env, probe);
  const activated = activatedFd(env, process.pid) !== null;
  if (!activated) {
    // Before anything binds or probes: a path past sun_path is configuration (exit 78), not a
    // crash for the supervisor to retry forever.
    try {
      assertSocketPath(paths.socket);
    } catch (e) {
      logger.fatal({ error: describeError(e), hint: (e as HephError).hint }, 'cannot start');
      throw e;
    }
  }
  const startedAt = Date.now();

  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => (resolveExit = r));
  let shutdown: (code: number, reason: StopReason, detail: string) => void = (code) => resolveExit(code);
  const fx = config.update.mode === 'off' ? null : await forgeEffects(config, deps);
  const servedApp = config.app; // what serve(ctx) gets as ctx.config

  const daemon = new Daemon({
    config,
    deps,
    runtime: { supervisor, container, socketActivated: activated, startedAt, pid: process.pid },
    checker: fx ? fx.checker : offChecker,
    install: fx ? fx.install : offInstall,
    switchStaged: fx ? fx.switchStaged : offInstall,
    requestRestart: (version) =>
      setImmediate(() => shutdown(EXIT.ok, 'self-update', `restarting into ${version}`)),
    reloadConfig: (by) => reload(by),
    configDigest: digest,
    scale,
  });

  /**
   * Re-reads and validates the config; a valid one (and the forge client built from it) replaces
   * the old without a restart, an invalid one is refused (logged and audited) and the old stays.
   */
  const reload = serialize(async (by: 'signal' | 'socket') => {
    let next: Config;
    let nextDigest: string;
    let nextFx: Awaited<ReturnType<typeof forgeEffects>> | null;
    try {
      nextDigest = configDigest(readTextIfExists(paths.config) ?? '');
      next = loadConfig(paths.config, env, app).config;
      nextFx = next.update.mode === 'off' ? null : await forgeEffects(next, deps);
    } catch (e) {
      const error = describeError(e);
      logger.error(
        { error, hint: (e as HephError).hint, by },
        'config reload refused: the old config stays in force',
      );
      appendAudit(paths.auditFile, { event: 'config.refused', version: app.version, error, by }, logger, app);
      throw e;
    }
    const changed = changedKeys(config, next);
    // serve(ctx) was handed the [app] table once, at start: a new one reaches it at the next start.
    const restartNeeded = opts.serve && !sameAppTable(servedApp, next.app) ? ['app'] : [];
    await daemon.reconfigure({
      restartNeeded,
      config: next,
      configDigest: nextDigest,
      checker: nextFx ? nextFx.checker : offChecker,
      install: nextFx ? nextFx.install : offInstall,
      switchStaged: nextFx ? nextFx.switchStaged : offInstall,
    });
    config = next;
    appendAudit(
      paths.auditFile,
      { event: 'config.reloaded', version: app.version, changed, restartNeeded, by },
      logger,
      app,
    );
    const limited = daemon.modeReason();
    if (limited !== null) logger.info({ mode: config.update.mode }, limited);
    if (restartNeeded.length > 0) {
      logger.warn(
        { restartNeeded },
        `the [app] table changed: ${app.name} reads it at start, so it takes effect at the next restart (\`${app.name} daemon restart\`)`,
      );
    }
    return { reloaded: true, changed, restartNeeded, mode: config.update.mode };
  });

  ensureRunDir(paths.runDir);
  const instance = await acquireInstance<ControlServer>({
    paths,
    app: deps.app,
    logger,
    activated,
    listen: () => startControlServer({ socketPath: paths.socket, api: daemon, logger, env, app }),
  });
  const server = instance.listener;

  // The app's work: aborted as the drain starts; the drain waits for what it tracked.
  const draining = new AbortController();
  const inFlight = new InFlight();

  const onRejection = (e: unknown) =>
    logger.error({ error: describeError(e) }, 'unhandled rejection (ignored)');
  const onException = (e: unknown) => {
    logger.fatal({ error: describeError(e), stack: (e as Error)?.stack }, 'uncaught exception');
    shutdown(EXIT.error, 'error', 'uncaught exception');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  let markedHealthy = false;
  const cancelHealthTimer = setLongTimeout(() => {
    markedHealthy = true;
    try {
      markHealthy(paths, app.version);
      logger.info({ version: app.version }, 'marked healthy');
    } catch (e) {
      logger.warn({ error: describeError(e) }, 'cannot mark this version healthy');
    }
  }, config.restart.health_grace);

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
        version: app.version,
        reason,
        detail,
        time: new Date(stoppingAt).toISOString(),
        stoppingAt: new Date(stoppingAt).toISOString(),
        drainDeadline: new Date(stoppingAt + drain).toISOString(),
      };
      writeStopMarker(deps, marker);
      logger.info({ version: app.version, supervisor, mode: config.update.mode, reason, detail }, 'stopping');
      cancelHealthTimer();
      draining.abort(new Error(`${app.daemon} is stopping (${reason})`));
      let cancelDeadline = () => {};
      // setLongTimeout: a drain_timeout past ~24.8 days must not turn into 1 ms
      const deadline = new Promise<void>((r) => (cancelDeadline = setLongTimeout(r, drain)));
      // daemon.stop() abandons a running check at once; only an install holds the drain, and the
      // app's tracked work (ctx.track) up to the same deadline.
      await Promise.race([Promise.all([server.close(drain), daemon.stop(), inFlight.settled()]), deadline]);
      if (inFlight.size > 0) logger.warn({ inFlight: inFlight.size }, 'drain timeout: work still in flight');
      cancelDeadline();
      writeStopMarker(deps, { ...marker, stoppedAt: new Date().toISOString() });
      // Stopped cleanly on request (a signal, a self-update) before health_grace: this start ran
      // fine, so the launcher must not count it as one that never became healthy.
      if (code === EXIT.ok && !markedHealthy && env[envName(app, 'LAUNCHED_VERSION')] === app.version) {
        try {
          uncountStart(paths, app.version);
        } catch (e) {
          logger.warn({ error: describeError(e) }, 'cannot update the launcher state');
        }
      }
      instance.release();
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
      process.off(RELOAD_SIGNAL, onReload);
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      logger.info({ version: app.version, supervisor, mode: config.update.mode, code }, 'stopped');
      resolveExit(code);
    })().catch((e) => {
      logger.error({ error: describeError(e) }, 'shutdown failed');
      resolveExit(EXIT.error);
    });
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  const onReload = () => {
    if (stopping) return;
    logger.info({ signal: RELOAD_SIGNAL, config: paths.config }, 'reloading the config');
    reload('signal').catch(() => {}); // refused: logged and audited by reload()
  };
  process.on(RELOAD_SIGNAL, onReload);
  dropEarlyReload();
  process.stdout.on('error', ignoreStdoutError); // kept to the end: the last log lines write too

  logger.info(
    {
      version: app.version,
      supervisor,
      mode: config.update.mode,
      container,
      socket: paths.socket,
      socketActivated: server.socketActivated,
      config: paths.config,
    },
    `${app.daemon} started`,
  );
  const limited = daemon.modeReason();
  const mode = config.update.mode;
  if (limited !== null) logger[mode === 'off' ? 'info' : 'warn']({ mode }, limited);
  daemon.start();
  if (opts.serve) startServing(opts.serve);
  if (early.hup) onReload(); // a SIGHUP that came while starting: the file may have changed since
  // We are up: no restart is pending any more. Only now, after serve's synchronous start (where an
  // app binds its own socket): until then, a client refused on that socket still sees the marker
  // and waits (src/control/grace.ts) instead of failing.
  rmSync(paths.stopMarker, { force: true });
  return exited;

  /** serve(ctx) runs beside the update loop; its failure, at start or later, ends the daemon with 1. */
  function startServing(serve: ServeFn): void {
    const ctx: ServeContext = {
      name: app.name,
      version: app.version,
      config: config.app,
      logger: logger.child({ app: app.name }),
      signal: draining.signal,
      track: inFlight.track,
    };
    // called now, not a tick later: its synchronous start runs before the marker goes (above)
    new Promise((resolve) => resolve(serve(ctx))).catch((e) => {
      logger.fatal({ error: describeError(e), stack: (e as Error)?.stack }, 'serve failed');
      shutdown(EXIT.error, 'error', `serve failed: ${describeError(e)}`);
    });
  }
}
