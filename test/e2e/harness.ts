// The outside half of a scenario under a real systemd user manager, shared by the e2e test and
// the self-update bench: bundle the driver with esbuild, run it under `unshare -m`, read its one
// result line, and end the manager it started if the driver itself could not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { bundleScript } from '../helpers/bundle.js';
import { ROOT } from '../helpers/cli.js';

/** After the driver's SIGTERM it stops its manager (whose units get their own stop time). */
const DRIVER_KILL_GRACE_MS = 30_000;
/** How much of the driver's stdout an error quotes when no result line came. */
const QUOTED_OUTPUT_CHARS = 2_000;

export interface DriverRun {
  /** The driver's parsed result line, or null when it printed none. */
  result: Record<string, unknown> | null;
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Bundles `entry` (relative to the repository) into `work`, runs it as `unshare -m node driver`
 * with `input` (plus `pidFile`, where the driver's manager writes its pid) as JSON in the
 * variable `inputVar`, and returns the JSON after `<marker> ` on its stdout.
 */
export async function runDriver(opts: {
  entry: string;
  work: string;
  inputVar: string;
  input: Record<string, unknown>;
  marker: string;
  timeoutMs: number;
  /** The driver's stderr as it comes (what it is doing); kept in `stderr` either way. */
  onStderr?: (chunk: Buffer) => void;
}): Promise<DriverRun> {
  // src/version.ts reads ../package.json when unbundled: give the bundle heph's version instead
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const driver = await bundleScript(opts.entry, join(opts.work, 'driver.mjs'), {
    __HEPH_VERSION__: JSON.stringify(version),
  });
  const pidFile = join(opts.work, 'manager.pid');
  const run = execa('unshare', ['-m', process.execPath, driver], {
    env: { ...process.env, [opts.inputVar]: JSON.stringify({ ...opts.input, pidFile }) },
    reject: false,
    timeout: opts.timeoutMs,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: DRIVER_KILL_GRACE_MS,
  });
  if (opts.onStderr) run.stderr?.on('data', opts.onStderr);
  const done = await run;
  endLeftoverManager(pidFile);
  const stdout = String(done.stdout);
  const line = stdout.split('\n').find((l) => l.startsWith(`${opts.marker} `));
  return {
    result: line ? (JSON.parse(line.slice(opts.marker.length + 1)) as Record<string, unknown>) : null,
    exitCode: done.exitCode,
    signal: done.signal,
    stdout,
    stderr: String(done.stderr),
  };
}

/** The error for a driver run that printed no result line. */
export function noResult(run: DriverRun): Error {
  return new Error(
    `the driver printed no result (exit ${run.exitCode ?? run.signal}):\n${run.stdout.slice(-QUOTED_OUTPUT_CHARS)}${run.stderr.slice(-QUOTED_OUTPUT_CHARS)}`,
  );
}

/**
 * The driver stops its manager itself; if it was killed first, the pid it left says whom to stop:
 * only if that pid is still a systemd (a pid is reused once its process is gone). SIGTERM, so
 * the manager still stops its units on the way out.
 */
function endLeftoverManager(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') process.kill(pid, 'SIGTERM');
  } catch {
    // already gone, as it should be
  }
}
