// Where an app keeps its files: XDG base directories on every platform, or everything under one
// folder with HEPH_HOME (ACME_HOME for an app named acme). A pure function of the environment
// and the app's names, so tests pass their own.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type AppIdentity, type AppNames, envName, HEPH_NAMES, requiredFiles } from '../app/identity.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Paths {
  /** The config file (may not exist). */
  config: string;
  /** `…/<name>` under XDG_DATA_HOME: holds `versions/`, `bin/`. */
  data: string;
  /** The versioned store: `versions/<version>/`, `current`, `previous`. */
  store: string;
  /** The launcher the service unit runs. */
  launcher: string;
  /** What every store version must hold to run: package.json and the app's entry (relative). */
  versionFiles: readonly string[];
  /** `…/<name>` under XDG_STATE_HOME: state.json, audit.jsonl, caches, locks. */
  state: string;
  stateFile: string;
  auditFile: string;
  /** Folder holding the control socket (mode 0700). */
  runDir: string;
  socket: string;
  /** Left by a daemon as it shuts down; tells clients a restart is plausible. */
  stopMarker: string;
  /** The running daemon's pid, version and socket (refusal messages, doctor). */
  pidFile: string;
  /** Held briefly while a daemon starts, so two starters cannot both bind. */
  startLock: string;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' ? v : undefined;
}

/**
 * `app` names the folders; its entry (when given; else the `dist/<name>.mjs` convention) is what a
 * store version must hold.
 */
export function resolvePaths(
  env: Env,
  app: AppNames & Partial<Pick<AppIdentity, 'entry'>> = HEPH_NAMES,
  home: string = env.HOME ?? homedir(),
): Paths {
  const hephHome = nonEmpty(env[envName(app, 'HOME')]);
  let config: string;
  let data: string;
  let state: string;
  let runDir: string;
  if (hephHome) {
    config = join(hephHome, 'config.toml');
    data = join(hephHome, 'data');
    state = join(hephHome, 'state');
    runDir = join(hephHome, 'run');
  } else {
    const xdgConfig = nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, '.config');
    const xdgData = nonEmpty(env.XDG_DATA_HOME) ?? join(home, '.local', 'share');
    const xdgState = nonEmpty(env.XDG_STATE_HOME) ?? join(home, '.local', 'state');
    const runtime = nonEmpty(env.XDG_RUNTIME_DIR);
    config = join(xdgConfig, app.name, 'config.toml');
    data = join(xdgData, app.name);
    state = join(xdgState, app.name);
    runDir = runtime ? join(runtime, app.name) : join(state, 'run');
  }
  const explicitConfig = nonEmpty(env[envName(app, 'CONFIG')]);
  if (explicitConfig) config = explicitConfig;
  return {
    config,
    data,
    store: join(data, 'versions'),
    launcher: join(data, 'bin', app.daemon),
    versionFiles: requiredFiles({ entry: app.entry ?? `dist/${app.name}.mjs` }),
    state,
    stateFile: join(state, 'state.json'),
    auditFile: join(state, 'audit.jsonl'),
    runDir,
    socket: join(runDir, `${app.daemon}.sock`),
    stopMarker: join(runDir, `${app.daemon}.stopped`),
    pidFile: join(runDir, `${app.daemon}.pid`),
    startLock: join(runDir, `${app.daemon}.start.lock`),
  };
}
