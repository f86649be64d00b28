// What the private user manager (user-manager.mjs) and the private system manager
// (system-manager.mjs) share: running a command to its end, quoting the manager's log, reading
// unit properties, checking for tools, and removing a private cgroup subtree. Plain JS: the
// demo runs it without a build.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

export const SYSTEMD_BINARY = '/usr/lib/systemd/systemd';
/** Lines of a manager's log quoted in an error. */
export const LOG_TAIL_LINES = 40;
/** How often start and stop look at the manager again. */
export const POLL_MS = 100;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `promise` does or after `ms`, whichever is first, leaving no timer behind. */
export async function within(promise, ms) {
  let timer;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** A diagnostics sink: stderr, timestamped and prefixed, so stdout stays the caller's. */
export function stderrLog(prefix) {
  return (text) => process.stderr.write(`${prefix} ${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

/** The first of `tools` not on PATH, or null when all are. */
export function missingTool(tools) {
  for (const tool of tools) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) return tool;
  }
  return null;
}

/** The last lines of a file, for an error message. */
export function tail(file, lines = LOG_TAIL_LINES) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Removes private cgroup subtrees once their processes are gone (deepest folders first; rmdir only). */
export function removeCgroups(dirs, log) {
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch (err) {
      log(`cgroup ${dir} left behind: ${err.message}`);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
}

/** Runs a command to its end; never rejects (a spawn failure is exit 1 with the reason). */
export function run(command, args, { env, timeoutMs, input } = {}) {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (exitCode) => {
      if (settled) return;
      settled = true;
      resolve({ exitCode, stdout, stderr });
    };
    const child = spawn(command, args, {
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    if (input !== undefined) child.stdin.end(input);
    child.stdout.setEncoding('utf8').on('data', (c) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c) => {
      stderr += c;
    });
    child.once('error', (e) => {
      stderr += e.message;
      done(1);
    });
    child.once('close', (code) => done(code ?? 1));
  });
}

/** A unit's properties as a record (`systemctl show -p A,B unit`), through the given systemctl. */
export async function showUnit(systemctl, unit, props) {
  const r = await systemctl('show', '-p', props.join(','), unit);
  const map = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) map[line.slice(0, i)] = line.slice(i + 1);
  }
  return map;
}
