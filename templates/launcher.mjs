#!/usr/bin/env node
// The app's launcher: what the service unit runs (`ExecStart=<node> <data>/bin/hephd`). It lives
// outside every version so a broken new version cannot break it, and uses node built-ins only.
//
// On each start: read <state>/launcher.json; if `current` was started MAX_FAILED_STARTS times
// without ever being marked healthy (the daemon does that after restart.health_grace) and a
// different, non-quarantined `previous` exists, switch `current` back to it, quarantine the bad
// version and write both decisions to the audit log. Then count this start and import the
// version's entry (`<entry> daemon run`) in this very process, so the service manager's main pid stays ours and a
// version that dies while importing still had its start counted.
//
// Rendered by src/install/launcher.ts, which bakes the app's names and folders in below as JSON.
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * @type {{ name: string, daemon: string, entry: string, launchedVar: string, store: string,
 *   state: string, auditFile: string, launcherState: string, renderedBy: string }}
 */
const BAKED = __HEPH_BAKED__;

/** Starts that never became healthy before the version is given up (systemd restarts it between). */
const MAX_FAILED_STARTS = 3;
/** The exit code service units do not restart on (RestartPreventExitStatus=78): nothing to run. */
const EXIT_NOTHING_TO_RUN = 78;
const LAUNCHER_STATE_VERSION = 1;
/** The program inside each version, run as `<entry> daemon run`. */
const DAEMON_ENTRY = BAKED.entry;

function say(text) {
  process.stderr.write(`${BAKED.daemon} launcher: ${text}\n`);
}

function readState() {
  const empty = { v: LAUNCHER_STATE_VERSION, attempts: {}, healthy: [], quarantined: [], rolledBack: [] };
  try {
    const s = JSON.parse(readFileSync(BAKED.launcherState, 'utf8'));
    return {
      v: LAUNCHER_STATE_VERSION,
      attempts: typeof s.attempts === 'object' && s.attempts ? s.attempts : {},
      healthy: Array.isArray(s.healthy) ? s.healthy : [],
      quarantined: Array.isArray(s.quarantined) ? s.quarantined : [],
      // kept as read: the daemon's list of versions a person rolled back from
      rolledBack: Array.isArray(s.rolledBack) ? s.rolledBack : [],
    };
  } catch {
    return empty; // missing or torn: count afresh rather than refuse to start
  }
}

/** Write beside, fsync, rename over: a crash leaves the old or the new file, never half. */
function writeAtomic(file, text) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function readLink(name) {
  try {
    const target = readlinkSync(join(BAKED.store, name));
    return target.includes('/') ? null : target;
  } catch {
    return null;
  }
}

function runnable(version) {
  return version !== null && existsSync(join(BAKED.store, version, DAEMON_ENTRY));
}

/** Same atomic swap as the installer: a new link under a temp name, renamed over `current`. */
function setCurrent(version) {
  const tmp = join(BAKED.store, `.tmp-link-launcher-${process.pid}-${randomBytes(4).toString('hex')}`);
  rmSync(tmp, { force: true });
  symlinkSync(version, tmp);
  renameSync(tmp, join(BAKED.store, 'current'));
}

function audit(event) {
  const line = `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`;
  try {
    mkdirSync(dirname(BAKED.auditFile), { recursive: true, mode: 0o700 });
    appendFileSync(BAKED.auditFile, line, { mode: 0o600 });
  } catch (e) {
    say(`could not write the audit log: ${e.message}`);
  }
  process.stderr.write(line);
}

let current = readLink('current');
if (!runnable(current)) {
  say(
    `no runnable version in ${BAKED.store} (current: ${current ?? 'none'}); run \`${BAKED.name} daemon install\` to put one there`,
  );
  process.exit(EXIT_NOTHING_TO_RUN);
}

const state = readState();
const isQuarantined = (v) => state.quarantined.some((q) => q.version === v);
const failedStarts = state.attempts[current] ?? 0;

function saveState() {
  try {
    writeAtomic(BAKED.launcherState, `${JSON.stringify(state, null, 2)}\n`);
  } catch (e) {
    say(`could not write ${BAKED.launcherState}: ${e.message}`);
  }
}

// A quarantined `current` is one whose rollback was cut short (killed between the quarantine and
// the swap): finish it. Otherwise a version that never became healthy in MAX_FAILED_STARTS starts
// is given up.
const giveUp =
  isQuarantined(current) || (!state.healthy.includes(current) && failedStarts >= MAX_FAILED_STARTS);
if (giveUp) {
  const previous = readLink('previous');
  if (previous !== null && previous !== current && !isQuarantined(previous) && runnable(previous)) {
    const bad = current;
    let reason = `failed to start ${MAX_FAILED_STARTS} times`;
    if (isQuarantined(bad)) {
      reason = state.quarantined.find((q) => q.version === bad).reason;
    } else {
      // Quarantine first and durably: a crash before the swap then still never reruns `bad`
      // unnoticed, and no installer ever selects it again.
      state.quarantined.push({ version: bad, reason, at: new Date().toISOString() });
      delete state.attempts[bad];
      saveState();
      audit({ event: 'update.quarantined', version: bad, reason, by: 'launcher' });
    }
    setCurrent(previous);
    current = previous;
    audit({ event: 'update.rolled-back', version: previous, from: bad, reason, by: 'launcher' });
    say(`version ${bad} ${reason}; quarantined it and rolled back to ${previous}`);
  } else {
    say(`version ${current} has failed ${failedStarts} starts and there is no other version to fall back to`);
  }
}

if (!state.healthy.includes(current)) state.attempts[current] = (state.attempts[current] ?? 0) + 1;
saveState();

// The version folder itself, not `current`: a swap while this daemon runs must not change which
// files the already-running version loads lazily.
process.env[BAKED.launchedVar] = current;
const entry = join(BAKED.store, current, DAEMON_ENTRY);
process.argv = [process.argv[0], entry, 'daemon', 'run'];
await import(pathToFileURL(entry).href);
