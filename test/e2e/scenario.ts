// The inside half of a scenario under a real systemd user manager, shared by the e2e driver and
// the self-update bench driver: the private manager's start and stop around the scenario, the
// one result line, and the steps both take (config, unpack a release, run heph, read the audit).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Paths } from '../../src/platform/paths.js';
import { privateSystemdMarker, startUserManager, type UserManager } from '../../scripts/lib/user-manager.mjs';

export type { UserManager };

/** Each awaited step gets this long (the brief: N+1 within 60 s; an update polls every ~3 s). */
export const STEP_TIMEOUT_MS = 60_000;
/** A heph command that takes longer is hung. */
const HEPH_TIMEOUT_MS = 120_000;
/** Lines of the manager's log the result carries (its units' output lands there). */
const MANAGER_LOG_LINES = 60;
/** How often waitUntil asks again. */
const WAIT_POLL_MS = 250;
export const UNIT = 'hephd.service';
const SOCKET_UNIT = 'hephd.socket';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What the scenario is doing, on stderr (the test streams it; stdout carries the result). */
export function say(text: string): void {
  process.stderr.write(`e2e ${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

/** Polls `fn` until it gives something other than null/false; says how long it took. */
export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | null | false>,
  ms = STEP_TIMEOUT_MS,
  log: (text: string) => void = say,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== null && v !== false) {
      log(`${what}: after ${((Date.now() - start) / 1000).toFixed(1)} s`);
      return v;
    }
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(WAIT_POLL_MS);
  }
}

/** The config both scenarios run: auto mode against a loopback GitHub, a poll every ~3 s. */
export function scenarioConfig(forgeUrl: string, repo: string): string {
  return [
    '[update]',
    'mode = "auto"',
    'interval = "5m"', // × HEPH_DEV_SCHEDULE_SCALE 0.01: a poll every ~3 s
    '[forge]',
    'kind = "github"',
    `url = "${forgeUrl}"`,
    `repo = "${repo}"`,
    '[install]',
    'verify = "sha256"',
    'keep = 5', // every version a scenario installs stays in the store
    'allow_in_container = true', // these machines have /.dockerenv
    '[restart]',
    'cooldown = "1s"',
    'max_per_window = 20',
    'health_grace = "2s"',
    'drain_timeout = "5s"',
    '',
  ].join('\n');
}

/** The environment heph runs with under the manager: its user's world, polls 100× sooner. */
export function scenarioEnv(m: UserManager): Record<string, string> {
  return { ...m.env, HEPH_DEV_SCHEDULE_SCALE: '0.01', NO_COLOR: '1' };
}

export function writeScenarioConfig(paths: Paths, forge: { url: string; repo: string }): void {
  mkdirSync(join(paths.config, '..'), { recursive: true });
  writeFileSync(paths.config, scenarioConfig(forge.url, forge.repo));
}

/** heph `version` as a user would have it: the release tarball unpacked; its heph.mjs. */
export function unpackRelease(m: UserManager, artifacts: string, version: string): string {
  const pkg = join(m.root, 'pkg');
  mkdirSync(pkg);
  execFileSync('tar', ['-xzf', join(artifacts, version, `heph-${version}.tgz`), '-C', pkg]);
  return join(pkg, 'package', 'dist', 'heph.mjs');
}

/** Runs `node <bin> args` with exactly `env` (plus `extra`); never rejects. */
export function hephRunner(env: Record<string, string>) {
  return (bin: string, args: string[], extra: Record<string, string> = {}) =>
    execa(process.execPath, [bin, ...args], {
      env: { ...env, ...extra },
      extendEnv: false,
      reject: false,
      timeout: HEPH_TIMEOUT_MS,
    });
}

export interface AuditEvent {
  event: string;
  version: string | null;
  time: string;
}

export function readAudit(paths: Paths): AuditEvent[] {
  return readFileSync(paths.auditFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

export interface Scenario {
  /** What the driver prints after the marker; `ok` is set once the body resolves. */
  result: Record<string, unknown>;
  /** What a person would look at first when the body fails (there is no journal). */
  onFailure(diagnose: () => Promise<unknown>): void;
}

/**
 * Runs `body` against a private user manager (inside `unshare -m`, started by runDriver) with
 * the JSON input in `inputVar`, prints `<marker> {result}` and exits: 0 when the body resolved.
 * The manager is always stopped, also on the SIGTERM the harness sends when time runs out; its
 * scratch folder is removed after a success and kept (named in `result.scratch`) after a failure.
 */
export async function runScenario<I extends { pidFile: string }>(opts: {
  marker: string;
  inputVar: string;
  body: (m: UserManager, input: I, s: Scenario) => Promise<void>;
  /** The units stopped before the manager (default heph's: hephd.socket, hephd.service). */
  units?: string[];
}): Promise<never> {
  const input = JSON.parse(process.env[opts.inputVar] ?? '{}') as I;
  const result: Record<string, unknown> = { ok: false };
  let diagnose: (() => Promise<unknown>) | null = null;
  let manager: UserManager | null = null;
  const finish = async (code: number): Promise<never> => {
    if (manager) {
      await manager.stop(opts.units ?? [SOCKET_UNIT, UNIT]);
      result.managerLogTail = manager.logTail(MANAGER_LOG_LINES);
      if (result.ok) rmSync(manager.root, { recursive: true, force: true });
      else result.scratch = manager.root; // kept for a look
    }
    process.stdout.write(`${opts.marker} ${JSON.stringify(result)}\n`);
    process.exit(code);
  };
  process.once('SIGTERM', () => {
    result.error = 'stopped by the harness (SIGTERM)';
    void finish(1);
  });
  try {
    privateSystemdMarker();
    manager = await startUserManager({ pidFile: input.pidFile, log: say });
    await opts.body(manager, input, {
      result,
      onFailure: (fn) => {
        diagnose = fn;
      },
    });
    result.ok = true;
    return await finish(0);
  } catch (e) {
    result.error = (e as Error).stack ?? String(e);
    say(`failed: ${(e as Error).message}`);
    const d = diagnose as (() => Promise<unknown>) | null;
    if (d) result.diagnosis = await d().catch((err: Error) => `diagnosis failed: ${err.message}`);
    return await finish(1);
  }
}
