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
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// A SIGHUP (`systemctl reload`) while starting must not end the process (Node's default): the
// config is read at start anyway, and the daemon takes over SIGHUP once it has read it.
process.on('SIGHUP', () => {});

/**
 * @type {{ name: string, daemon: string, entry: string, launchedVar: string, store: string,
 *   state: string, auditFile: string, launcherState: string, renderedBy: string,
 *   required: string[], maxStateBytes: number, setAsideMark: string }}
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

const isCount = (n) => Number.isInteger(n) && n >= 0;
const isObject = (x) => typeof x === 'object' && x !== null && !Array.isArray(x);
const isEntry = (q) =>
  isObject(q) && typeof q.version === 'string' && typeof q.reason === 'string' && typeof q.at === 'string';

/**
 * Why a parsed launcher.json is not ours, or null when it is. The same shape as
 * src/install/launcher-state.ts checks with zod; by hand here, as the launcher has no dependencies.
 */
function shapeProblem(s) {
  if (!isObject(s)) return 'the document is not an object';
  if (s.attempts !== undefined && !(isObject(s.attempts) && Object.values(s.attempts).every(isCount)))
    return 'attempts: expected an object of counts';
  if (s.healthy !== undefined && !(Array.isArray(s.healthy) && s.healthy.every((v) => typeof v === 'string')))
    return 'healthy: expected a list of versions';
  if (s.quarantined !== undefined && !(Array.isArray(s.quarantined) && s.quarantined.every(isEntry)))
    return 'quarantined: expected a list of {version, reason, at}';
  if (s.rolledBack !== undefined && !(Array.isArray(s.rolledBack) && s.rolledBack.every(isEntry)))
    return 'rolledBack: expected a list of {version, reason, at}';
  return null;
}

/**
 * Moves a corrupt launcher.json aside (`launcher.json.corrupt-<time>`) and reports it once (audit
 * and stderr, which the service manager logs; `heph doctor` lists the file). Never throws.
 */
function setAside(reason) {
  const now = new Date();
  const aside = `${BAKED.launcherState}${BAKED.setAsideMark}${now.toISOString().replace(/[-:]/g, '')}`;
  let moved = aside;
  try {
    renameSync(BAKED.launcherState, aside);
  } catch {
    moved = null;
  }
  audit({
    event: 'state.corrupt',
    version: null,
    file: BAKED.launcherState,
    setAside: moved,
    reason,
    by: 'launcher',
  });
  say(
    `${BAKED.launcherState} is unusable (${reason}); ${moved ? `set aside as ${moved}` : 'it could not be moved'} and started afresh`,
  );
}

/**
 * launcher.json as the launcher can trust it. Missing: empty. Anything else unusable (not a regular
 * file, too large, not JSON, a foreign shape) is set aside and counted afresh: a start must never
 * fail here, or the service manager would restart into the same failure forever.
 */
function readState() {
  const empty = { v: LAUNCHER_STATE_VERSION, attempts: {}, healthy: [], quarantined: [], rolledBack: [] };
  try {
    const problem = stateProblem();
    if (problem === 'missing') return empty;
    if (typeof problem === 'string') {
      setAside(problem);
      return empty;
    }
    const s = problem.state;
    return {
      ...s,
      v: LAUNCHER_STATE_VERSION,
      attempts: s.attempts ?? {},
      healthy: s.healthy ?? [],
      quarantined: s.quarantined ?? [],
      // kept as read: the daemon's list of versions a person rolled back from
      rolledBack: s.rolledBack ?? [],
    };
  } catch (e) {
    say(`cannot read ${BAKED.launcherState} (${e?.message ?? e}); counting afresh`);
    return empty;
  }
}

/** `{ state }` when launcher.json is usable, 'missing', or why it is not usable. */
function stateProblem() {
  let st;
  try {
    st = statSync(BAKED.launcherState);
  } catch {
    return 'missing'; // (or unreachable: nothing to set aside)
  }
  // stat before reading: a FIFO would block readFileSync, /dev/zero would never end
  if (!st.isFile()) return 'not a regular file';
  if (st.size > BAKED.maxStateBytes) return `larger than ${BAKED.maxStateBytes} bytes`;
  const text = readFileSync(BAKED.launcherState, 'utf8'); // EACCES and such: not corruption
  let s;
  try {
    s = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  return shapeProblem(s) ?? { state: s };
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

/** A version folder with every file a version needs (src/install/store.ts REQUIRED_FILES). */
function runnable(version) {
  return version !== null && BAKED.required.every((f) => existsSync(join(BAKED.store, version, f)));
}

/** x.y.z[-pre] as numbers and identifiers, or null: enough semver to order version folders. */
function parseVersion(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  return m ? { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] } : null;
}

/** semver precedence: numbers first, a prerelease below its release, identifiers compared in turn. */
function compareVersions(a, b) {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i] - y.core[i];
  if (!x.pre.length || !y.pre.length) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/** The store's version folders, newest first. */
function storeVersionsNewestFirst() {
  try {
    return readdirSync(BAKED.store)
      .filter((n) => !n.startsWith('.') && n !== 'current' && n !== 'previous')
      .sort((a, b) => compareVersions(b, a));
  } catch {
    return [];
  }
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

const state = readState();
const isQuarantined = (v) => state.quarantined.some((q) => q.version === v);

function saveState() {
  try {
    writeAtomic(BAKED.launcherState, `${JSON.stringify(state, null, 2)}\n`);
  } catch (e) {
    say(`could not write ${BAKED.launcherState}: ${e.message}`);
  }
}

/**
 * Where to go when `current` cannot or must not run: `previous` if it is intact and not
 * quarantined, else the newest such version in the store, else null.
 */
function fallbackFrom(bad) {
  const previous = readLink('previous');
  const candidates = [previous, ...storeVersionsNewestFirst()];
  return candidates.find((v) => v !== null && v !== bad && runnable(v) && !isQuarantined(v)) ?? null;
}

let current = readLink('current');
if (!runnable(current)) {
  // current is missing or incomplete (deleted by hand, a disk that lost it): any intact version
  // beats refusing to run, and heph's own selection brings the newest release back later.
  const to = fallbackFrom(current);
  if (to === null) {
    say(
      `no runnable version in ${BAKED.store} (current: ${current ?? 'none'}); run \`${BAKED.name} daemon install\` to put one there`,
    );
    process.exit(EXIT_NOTHING_TO_RUN);
  }
  const reason = `current (${current ?? 'none'}) is missing or incomplete`;
  setCurrent(to);
  audit({ event: 'update.rolled-back', version: to, from: current, reason, by: 'launcher' });
  say(`${reason}; switched current to ${to}`);
  current = to;
}

const failedStarts = state.attempts[current] ?? 0;

// A quarantined `current` is one whose rollback was cut short (killed between the quarantine and
// the swap): finish it. Otherwise a version that never became healthy in MAX_FAILED_STARTS starts
// is given up.
const giveUp =
  isQuarantined(current) || (!state.healthy.includes(current) && failedStarts >= MAX_FAILED_STARTS);
if (giveUp) {
  const to = fallbackFrom(current);
  if (to !== null) {
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
    setCurrent(to);
    current = to;
    audit({ event: 'update.rolled-back', version: to, from: bad, reason, by: 'launcher' });
    say(`version ${bad} ${reason}; quarantined it and rolled back to ${to}`);
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
