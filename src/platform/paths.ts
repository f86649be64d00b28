// Where heph keeps its files: XDG base directories on every platform, or everything under one
// folder with HEPH_HOME. A pure function of the environment, so tests pass their own.
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Paths {
  /** The config file (may not exist). */
  config: string;
  /** `…/heph` under XDG_DATA_HOME: holds `versions/`, `bin/`. */
  data: string;
  /** The versioned store: `versions/<version>/`, `current`, `previous`. */
  store: string;
  /** The launcher the service unit runs. */
  launcher: string;
  /** `…/heph` under XDG_STATE_HOME: state.json, audit.jsonl, caches, locks. */
  state: string;
  stateFile: string;
  auditFile: string;
  /** Folder holding the control socket (mode 0700). */
  runDir: string;
  socket: string;
  /** Left by a daemon as it shuts down; tells clients a restart is plausible. */
  stopMarker: string;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' ? v : undefined;
}

export function resolvePaths(env: Env, home: string = env.HOME ?? homedir()): Paths {
  const hephHome = nonEmpty(env.HEPH_HOME);
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
    config = join(xdgConfig, 'heph', 'config.toml');
    data = join(xdgData, 'heph');
    state = join(xdgState, 'heph');
    runDir = runtime ? join(runtime, 'heph') : join(state, 'run');
  }
  const explicitConfig = nonEmpty(env.HEPH_CONFIG);
  if (explicitConfig) config = explicitConfig;
  return {
    config,
    data,
    store: join(data, 'versions'),
    launcher: join(data, 'bin', 'hephd'),
    state,
    stateFile: join(state, 'state.json'),
    auditFile: join(state, 'audit.jsonl'),
    runDir,
    socket: join(runDir, 'hephd.sock'),
    stopMarker: join(runDir, 'hephd.stopped'),
  };
}
