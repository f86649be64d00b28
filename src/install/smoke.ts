// The smoke test: a new version must at least start and report the version it claims to be,
// before anything points at it. Run with this very node (process.execPath), no shell.
import { join } from 'node:path';
import { execa } from 'execa';
import { HephError } from '../errors.js';
import type { Env } from '../platform/paths.js';

/** `heph --version` answers in well under a second; 10 s allows a cold disk on a loaded machine. */
export const SMOKE_TIMEOUT_MS = 10_000;

/** Runs `<dir>/<entry> --version` and requires it to print exactly `version`. */
export async function smokeTestBundle(dir: string, entry: string, version: string, env: Env): Promise<void> {
  await smokeTest([process.execPath, join(dir, entry)], version, env);
}

/** Runs `argv --version`; throws E_SMOKE_TEST unless it prints exactly `version` and exits 0. */
export async function smokeTest(argv: string[], version: string, env: Env): Promise<void> {
  const r = await execa(argv[0]!, [...argv.slice(1), '--version'], {
    env: { ...env },
    extendEnv: false,
    reject: false,
    timeout: SMOKE_TIMEOUT_MS,
    stdin: 'ignore',
  });
  const printed = String(r.stdout ?? '').trim();
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new HephError('E_SMOKE_TEST', `${argv[0]} not found (ENOENT)`, { hint: 'check PATH' });
  }
  if (r.timedOut) {
    throw new HephError(
      'E_SMOKE_TEST',
      `the new version did not answer --version within ${SMOKE_TIMEOUT_MS / 1000} s`,
      {
        hint: 'nothing was switched; the release is broken on this machine — report it or pin another version',
      },
    );
  }
  if (r.exitCode !== 0 || printed !== version) {
    const why = r.exitCode !== 0 ? `exited ${r.exitCode}` : `printed "${printed.slice(0, 80)}"`;
    const err = String(r.stderr ?? '')
      .trim()
      .split('\n')[0]
      ?.slice(0, 200);
    throw new HephError(
      'E_SMOKE_TEST',
      `the new version ${version} failed its smoke test: --version ${why}${err ? ` (${err})` : ''}`,
      {
        hint: 'nothing was switched; the release is broken on this machine — report it or pin another version',
      },
    );
  }
}
