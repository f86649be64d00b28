// `heph doctor`'s judgement: small pure checks over facts gathered elsewhere (doctor-facts.ts),
// each answering ok, warn or fail with a one-line fix, so every case is a row in a table test.
import type { Supervisor } from '../platform/supervisor.js';
import { type ManagerKind, type Scope, STOP_MARGIN_MS } from './spec.js';
import type { InstalledUnit } from './unitfile.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  status: CheckStatus;
  summary: string;
  /** One line saying what to do; absent when there is nothing to do. */
  fix?: string;
}

export interface TokenFileFact {
  /** What points at it: `forge.token_file` or the unit's `EnvironmentFile`. */
  source: string;
  path: string;
  exists: boolean;
  readable: boolean;
  /** Who must read it: the service's user (token_file) or the manager (EnvironmentFile). */
  reader: string;
  /** Permission bits, e.g. 0o600. */
  mode: number | null;
}

export interface DoctorFacts {
  version: string;
  configFile: string;
  /** configDigest() of the config file as it is now (compared with the unit's). */
  configDigest: string;
  config:
    | { ok: true; mode: string; allowInContainer: boolean; drainTimeoutMs?: number }
    | { ok: false; message: string; hint?: string };
  manager: ManagerKind | null;
  unit: InstalledUnit | null;
  unitScope: Scope | null;
  /** The launcher this heph would put in ExecStart (paths.launcher). */
  expectedLauncher: string;
  /** Whether each path named by the unit exists. */
  pathExists: Record<string, boolean>;
  forge:
    | { ok: true; kind: string; repo: string; releases: number; fromCache: boolean; viaProxy: string | null }
    | { ok: false; message: string; hint?: string }
    | null;
  tokenFiles: TokenFileFact[];
  daemon:
    | {
        running: true;
        version: string | null;
        pid: number | null;
        supervisor: Supervisor | null;
        /** The config the daemon runs with (status `config`), when it says (older ones do not). */
        config?: { digest: string | null; loadedAt: string; restartNeeded?: string[] } | null;
      }
    | { running: false; message: string };
  store:
    | { ok: true; current: string | null; previous: string | null; complete: Record<string, boolean> }
    | { ok: false; message: string; hint?: string };
  container: string | null;
  linger: { user: string; enabled: boolean } | null;
  /** Files set aside as corrupt (`<file>.corrupt-<time>`, src/platform/state-file.ts), full paths. */
  setAside: string[];
  /** Whether the service's user (not root) can read the config, and what stops it. */
  configAccess?: { reader: string; readable: boolean; obstacle: string | null } | null;
  /** The shell would look for the daemon's socket elsewhere than the service listens. */
  shellSocket?: { shell: string; service: string } | null;
  /** What this heph's code and templates render for the installed unit's kind (render.ts). */
  renderFingerprint?: string | null;
  /** install.verify and, for "attestation", the trusted root's age (null: config invalid). */
  verify?: VerifyFact | null;
}

export interface VerifyFact {
  mode: 'sha256' | 'minisign' | 'attestation' | 'none';
  /** The app whose shipped root it is (heph, or an embedding app's name), for the advice. */
  app?: string;
  /** For "attestation": the workflow releases must come from, as `OWNER/NAME/path@ref-pattern`. */
  workflow: string | null;
  trustedRoot:
    | { source: 'shipped' | 'file'; path: string | null; ageDays: number; staleAfterDays: number }
    | { source: 'file'; path: string; error: string }
    | null;
}

type Check = (f: DoctorFacts) => DoctorCheck | DoctorCheck[] | null;

const INSTALL = 'run `heph daemon install`';

export const checkConfig: Check = (f) =>
  f.config.ok
    ? { id: 'config', status: 'ok', summary: `${f.configFile} is valid (update.mode = ${f.config.mode})` }
    : {
        id: 'config',
        status: 'fail',
        summary: f.config.message,
        fix: f.config.hint ?? 'fix it, then run `heph config validate`',
      };

export const checkUnit: Check = (f) => {
  if (f.manager === null) {
    return {
      id: 'unit',
      status: 'warn',
      summary: 'no service manager here (no systemd, no launchd): nothing restarts hephd after a self-update',
      fix: '`heph daemon install --manager none` puts heph in the store and prints the command for your own supervisor',
    };
  }
  if (f.unit === null) {
    return {
      id: 'unit',
      status: f.container ? 'warn' : 'fail',
      summary: `hephd is not installed as a ${f.manager} service`,
      fix: INSTALL,
    };
  }
  if (f.unit.restart !== 'always') {
    const what =
      f.unit.manager === 'systemd' ? `Restart=${f.unit.restart}` : `KeepAlive is ${f.unit.restart}`;
    return {
      id: 'unit',
      status: 'fail',
      summary: `${f.unit.path} has ${what}: self-restart would stop the daemon`,
      fix: `${INSTALL} (it writes Restart=always / KeepAlive)`,
    };
  }
  return { id: 'unit', status: 'ok', summary: `${f.unit.path} (${f.unitScope} service, restarts always)` };
};

export const checkUnitPaths: Check = (f) => {
  if (!f.unit) return null;
  const [node, launcher] = f.unit.execStart;
  if (!node || !launcher) {
    return {
      id: 'unit-paths',
      status: 'fail',
      summary: `${f.unit.path} has no node and launcher to start`,
      fix: INSTALL,
    };
  }
  if (!f.pathExists[node]) {
    return {
      id: 'unit-paths',
      status: 'fail',
      summary: `the unit starts ${node}, which no longer exists (node moved or was upgraded away)`,
      fix: `${INSTALL} with the node you want to keep: it writes the path of the node that runs it`,
    };
  }
  if (launcher !== f.expectedLauncher) {
    return {
      id: 'unit-paths',
      status: 'fail',
      summary: `the unit starts ${launcher}, but this heph's launcher is ${f.expectedLauncher}`,
      fix: `${INSTALL} from the same environment (HEPH_HOME, XDG_*) the service should use`,
    };
  }
  if (!f.pathExists[launcher]) {
    return { id: 'unit-paths', status: 'fail', summary: `the launcher ${launcher} is missing`, fix: INSTALL };
  }
  return { id: 'unit-paths', status: 'ok', summary: `starts ${node} ${launcher}` };
};

export const checkStamp: Check = (f) => {
  if (!f.unit) return null;
  const st = f.unit.stamp;
  if (st === null) {
    return {
      id: 'unit-stamp',
      status: 'warn',
      summary: `${f.unit.path} was not written by heph`,
      fix: INSTALL,
    };
  }
  if (!st.intact) {
    return {
      id: 'unit-stamp',
      status: 'warn',
      summary: `${f.unit.path} was edited by hand since heph ${st.version} wrote it`,
      fix: `${INSTALL} to rewrite it (put lasting changes in a drop-in or the config)`,
    };
  }
  if (st.version !== f.version && st.render !== undefined && st.render === f.renderFingerprint) {
    // a self-update changes the version, not the unit: what matters is what this heph would write
    return {
      id: 'unit-stamp',
      status: 'ok',
      summary: `written by heph ${st.version}, unchanged since; heph ${f.version} writes the same unit`,
    };
  }
  if (st.version !== f.version) {
    return {
      id: 'unit-stamp',
      status: 'warn',
      summary: `the unit was written by heph ${st.version}; this is heph ${f.version}`,
      fix: `${INSTALL} to bring the unit up to date`,
    };
  }
  return { id: 'unit-stamp', status: 'ok', summary: `written by heph ${st.version}, unchanged since` };
};

/** The service reads its config as its own user: root's 0600 file is a service that exits 78. */
export const checkConfigAccess: Check = (f) => {
  const a = f.configAccess;
  if (!a) return null;
  if (a.readable)
    return {
      id: 'config-access',
      status: 'ok',
      summary: `${f.configFile} is readable by ${a.reader}, who runs the service`,
    };
  return {
    id: 'config-access',
    status: 'fail',
    summary: `${a.reader}, who runs the service, cannot read ${f.configFile} (blocked at ${a.obstacle}): hephd exits 78`,
    fix: `run \`heph daemon install --system --user ${a.reader}\` (it lets ${a.reader}'s group read it), or chgrp ${a.reader} ${f.configFile} && chmod g+r ${f.configFile}`,
  };
};

/** A shell without the service's environment (no XDG_RUNTIME_DIR) talks to a socket nobody listens on. */
export const checkShellEnvironment: Check = (f) => {
  if (!f.shellSocket) return null;
  return {
    id: 'shell-env',
    status: 'warn',
    summary: `this shell's environment points at ${f.shellSocket.shell}, the service listens on ${f.shellSocket.service}`,
    fix: 'export XDG_RUNTIME_DIR=/run/user/$(id -u) (or use a login session); `heph status` finds the service either way',
  };
};

/**
 * Is the config file as it is now the one hephd runs with? The running daemon says which it
 * loaded (at start or at its last reload); an older daemon that does not is compared through the
 * unit's digest. Either way the fix is a reload, not a restart (docs/operations.md "Live reload").
 */
export const checkConfigApplied: Check = (f) => {
  if (!f.config.ok) return null;
  const RELOAD = 'run `heph daemon reload` to apply it (no restart)';
  const loaded = f.daemon.running ? f.daemon.config : null;
  if (loaded?.digest) {
    if (loaded.digest === f.configDigest && (loaded.restartNeeded?.length ?? 0) > 0) {
      // Reloaded, but an embedding app's [app] table reaches its serve only at a start.
      return {
        id: 'config-applied',
        status: 'warn',
        summary: `hephd reloaded the config (${loaded.loadedAt}), but ${loaded.restartNeeded!.map((k) => (k === 'app' ? '[app]' : k)).join(', ')} takes effect only at the next start`,
        fix: 'run `heph daemon restart`',
      };
    }
    if (loaded.digest === f.configDigest) {
      return {
        id: 'config-applied',
        status: 'ok',
        summary: `hephd runs with the config as it is now (loaded ${loaded.loadedAt})`,
      };
    }
    return {
      id: 'config-applied',
      status: 'warn',
      summary: `${f.configFile} changed since hephd loaded it (${loaded.loadedAt}); it still runs with the old settings`,
      fix: RELOAD,
    };
  }
  if (!f.unit || f.unit.configDigest === null) return null;
  if (f.unit.configDigest === f.configDigest) {
    return { id: 'config-applied', status: 'ok', summary: 'the service runs with the config as it is now' };
  }
  return {
    id: 'config-applied',
    status: 'warn',
    summary: `${f.configFile} changed since the service was installed; hephd may still run with the old settings`,
    fix: RELOAD,
  };
};

/**
 * The unit's stop timeout is written at `daemon install` (drain_timeout + a margin); a reload
 * applies a longer drain_timeout to the daemon, but the manager would still SIGKILL it earlier.
 */
export const checkStopTimeout: Check = (f) => {
  if (!f.config.ok || f.config.drainTimeoutMs === undefined) return null;
  const unitSec = f.unit?.stopTimeoutSec;
  if (unitSec === undefined || unitSec === null) return null;
  const wantSec = Math.ceil((f.config.drainTimeoutMs + STOP_MARGIN_MS) / 1000);
  if (unitSec >= wantSec) return null;
  const key = f.unit!.manager === 'launchd' ? 'ExitTimeOut' : 'TimeoutStopSec';
  return {
    id: 'unit-stop-timeout',
    status: 'warn',
    summary: `the unit's ${key} is ${unitSec} s, less than restart.drain_timeout (${f.config.drainTimeoutMs / 1000} s) + ${STOP_MARGIN_MS / 1000} s: the manager may kill hephd before its drain ends`,
    fix: `run \`heph daemon install${f.unitScope === 'system' ? ' --system' : ''}\` again: it writes ${key} from the config`,
  };
};

export const checkForge: Check = (f) => {
  if (f.forge === null) return null;
  if (!f.forge.ok) {
    // With mode "off" the daemon never asks the forge: only a manual check would fail.
    const polls = !f.config.ok || f.config.mode !== 'off';
    return {
      id: 'forge',
      status: polls ? 'fail' : 'warn',
      summary: `forge not usable with the service's settings${polls ? '' : ' (update.mode = "off": hephd does not poll)'}: ${f.forge.message}`,
      fix: f.forge.hint ?? 'check forge.url, forge.repo, the token and the proxy in the unit',
    };
  }
  const via = f.forge.viaProxy ? ` via proxy ${f.forge.viaProxy}` : '';
  return {
    id: 'forge',
    status: 'ok',
    summary: `${f.forge.kind} ${f.forge.repo} answered with ${f.forge.releases} releases${via}${f.forge.fromCache ? ' (not modified)' : ''}`,
  };
};

export const checkTokenFiles: Check = (f) =>
  f.tokenFiles.map((t): DoctorCheck => {
    if (!t.exists) {
      return {
        id: 'token',
        status: 'fail',
        summary: `${t.source} ${t.path} does not exist`,
        fix: `create it (mode 0600, owned by ${t.reader}) or remove ${t.source}`,
      };
    }
    if (!t.readable) {
      return {
        id: 'token',
        status: 'fail',
        summary: `${t.source} ${t.path} cannot be read by ${t.reader}, who runs the service`,
        fix: `chown ${t.reader} ${t.path} && chmod 600 ${t.path}`,
      };
    }
    if (t.mode !== null && (t.mode & 0o077) !== 0) {
      return {
        id: 'token',
        status: 'warn',
        summary: `${t.path} holds a token and is readable by others (mode 0${t.mode.toString(8)})`,
        fix: `chmod 600 ${t.path}`,
      };
    }
    return { id: 'token', status: 'ok', summary: `${t.path} is readable by ${t.reader} only` };
  });

export const checkDaemon: Check = (f) => {
  if (f.daemon.running) {
    const v = f.daemon.version ? ` ${f.daemon.version}` : '';
    return {
      id: 'daemon',
      status: 'ok',
      summary: `hephd${v} is running (pid ${f.daemon.pid ?? '?'}) and answering`,
    };
  }
  return {
    id: 'daemon',
    status: f.unit ? 'fail' : 'warn',
    summary: f.daemon.message,
    fix: f.unit ? 'run `heph daemon start`; `heph daemon logs` says why it stopped' : INSTALL,
  };
};

export const checkStore: Check = (f) => {
  if (!f.store.ok)
    return { id: 'store', status: 'fail', summary: f.store.message, fix: f.store.hint ?? INSTALL };
  const { current, previous, complete } = f.store;
  if (current === null)
    return { id: 'store', status: 'fail', summary: 'the store has no current version', fix: INSTALL };
  const broken = [current, previous].filter((v): v is string => v !== null && !complete[v]);
  if (broken.length) {
    return {
      id: 'store',
      status: 'fail',
      summary: `store version ${broken.join(', ')} is incomplete (files missing)`,
      fix: 'run `heph update apply --version <good version> --yes` to reinstall, or `heph daemon install`',
    };
  }
  return {
    id: 'store',
    status: 'ok',
    summary: `current ${current}${previous ? `, previous ${previous}` : ', no previous'}`,
  };
};

export const checkSupervisor: Check = (f) => {
  if (!f.daemon.running || f.daemon.supervisor === null) return null;
  if (f.daemon.supervisor !== 'none') {
    return { id: 'supervisor', status: 'ok', summary: `hephd runs under ${f.daemon.supervisor}` };
  }
  const auto = f.config.ok && f.config.mode === 'auto';
  return {
    id: 'supervisor',
    status: auto ? 'warn' : 'ok',
    summary: auto
      ? 'hephd runs without a supervisor: after a self-update nobody starts it again'
      : 'hephd runs without a supervisor (fine outside auto mode)',
    fix: auto ? INSTALL : undefined,
  };
};

export const checkContainer: Check = (f) => {
  if (f.container === null) return null;
  const auto = f.config.ok && f.config.mode === 'auto';
  if (auto && f.config.ok && !f.config.allowInContainer) {
    return {
      id: 'container',
      status: 'warn',
      summary: `running in a container (${f.container}): auto mode only notifies here`,
      fix: 'ship updates by rebuilding the image, or set install.allow_in_container = true',
    };
  }
  return { id: 'container', status: 'ok', summary: `running in a container (${f.container})` };
};

export const checkLinger: Check = (f) => {
  if (f.linger === null) return null;
  if (f.linger.enabled)
    return { id: 'linger', status: 'ok', summary: `${f.linger.user}'s services keep running after logout` };
  return {
    id: 'linger',
    status: 'warn',
    summary: `hephd stops when ${f.linger.user} logs out (lingering is off)`,
    fix: `loginctl enable-linger ${f.linger.user}`,
  };
};

/** A state file heph found corrupt was set aside and started afresh: say so until it is looked at. */
export const checkSetAside: Check = (f) => {
  if (f.setAside.length === 0) return null;
  const names = f.setAside.map((p) => p.slice(p.lastIndexOf('/') + 1));
  const lost = names.some((n) => n.startsWith('launcher.json'))
    ? ' (launcher.json held the start counts and quarantined versions: a version that failed before may be tried again)'
    : '';
  return {
    id: 'state-files',
    status: 'warn',
    summary: `corrupt state set aside and started afresh: ${names.join(', ')}${lost}`,
    fix: `look at what they hold (\`heph update history\` has when), then delete them: rm ${f.setAside.join(' ')}`,
  };
};

const VERIFY_PROVES: Record<VerifyFact['mode'], string> = {
  none: 'downloads are NOT checked',
  sha256: 'downloads match SHA256SUMS',
  minisign: 'SHA256SUMS is signed by a configured key',
  attestation: 'each release was built by',
};

export const checkVerify: Check = (f) => {
  const v = f.verify;
  if (!v) return null;
  const head = `install.verify = ${v.mode}: ${VERIFY_PROVES[v.mode]}`;
  if (v.mode === 'none') {
    return {
      id: 'verify',
      status: 'warn',
      summary: head,
      fix: 'set install.verify = "sha256" or stronger (docs/security.md)',
    };
  }
  if (v.mode !== 'attestation' || v.trustedRoot === null)
    return { id: 'verify', status: 'ok', summary: head };
  const root = v.trustedRoot;
  if ('error' in root) {
    return {
      id: 'verify',
      status: 'fail',
      summary: `${head} ${v.workflow}, but install.trusted_root ${root.path} ${root.error}`,
      fix: 'point install.trusted_root at `gh attestation trusted-root` output, or remove it to use the shipped root',
    };
  }
  const which = root.source === 'shipped' ? 'the shipped trusted root' : `install.trusted_root ${root.path}`;
  const summary = `${head} ${v.workflow}; ${which} is ${root.ageDays} days old`;
  if (root.ageDays > root.staleAfterDays) {
    return {
      id: 'verify',
      status: 'warn',
      summary,
      fix:
        root.source === 'shipped'
          ? `upgrade ${v.app ?? 'heph'}, or set install.trusted_root to a fresh \`gh attestation trusted-root\` (GitHub rotates its certificates twice a year)`
          : `refresh it: gh attestation trusted-root > ${root.path}`,
    };
  }
  return { id: 'verify', status: 'ok', summary };
};

export const CHECKS: readonly Check[] = [
  checkConfig,
  checkConfigAccess,
  checkUnit,
  checkUnitPaths,
  checkStamp,
  checkConfigApplied,
  checkStopTimeout,
  checkForge,
  checkTokenFiles,
  checkDaemon,
  checkStore,
  checkVerify,
  checkSupervisor,
  checkContainer,
  checkLinger,
  checkSetAside,
  checkShellEnvironment,
];

export function runChecks(f: DoctorFacts, checks: readonly Check[] = CHECKS): DoctorCheck[] {
  return checks.flatMap((c) => {
    const r = c(f);
    return r === null ? [] : Array.isArray(r) ? r : [r];
  });
}

export function doctorExitCode(results: DoctorCheck[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
