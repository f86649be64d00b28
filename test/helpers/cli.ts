// Runs the built CLI (dist/heph.mjs) as a user would, in a scratch HEPH_HOME.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * Where the suite's bundle is built (global-setup.ts): dist/ unless HEPH_TEST_DIST names another
 * folder, so two test runs in one checkout (or a run beside `npm run build`) never share files.
 */
export const DIST = process.env.HEPH_TEST_DIST ? resolve(process.env.HEPH_TEST_DIST) : join(ROOT, 'dist');
export const HEPH = join(DIST, 'heph.mjs');
export const HEPHD = join(DIST, 'hephd.mjs');

export interface Scratch {
  home: string;
  env: Record<string, string>;
  writeConfig(toml: string): string;
  cleanup(): void;
}

/** A temp HEPH_HOME with no inherited HEPH_* or proxy variables. */
export function scratch(prefix = 'heph-test-'): Scratch {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const env: Record<string, string> = {
    HEPH_HOME: home,
    HOME: home,
    HEPH_LOG_LEVEL: 'info',
    NO_COLOR: '1',
  };
  return {
    home,
    env,
    writeConfig(toml: string) {
      const file = join(home, 'config.toml');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, toml);
      return file;
    },
    cleanup() {
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The environment of this process minus anything that would steer heph from outside the test. */
export function cleanEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(HEPH_|XDG_|HTTPS?_PROXY$|NO_PROXY$|https?_proxy$|no_proxy$|INVOCATION_ID$|JOURNAL_STREAM$|NOTIFY_SOCKET$|LISTEN_)/i.test(
        k,
      )
    )
      continue;
    out[k] = v;
  }
  return { ...out, ...extra };
}

export interface RunOptions {
  /** Text for stdin; otherwise stdin is closed, as for a script. */
  input?: string;
  timeout?: number;
  cwd?: string;
}

/** Runs the built CLI; never throws on a non-zero exit (tests assert on exitCode). */
export async function runHeph(
  args: string[],
  env: Record<string, string | undefined>,
  opts: RunOptions = {},
) {
  return execa(process.execPath, [HEPH, ...args], {
    env: cleanEnv(env),
    extendEnv: false,
    reject: false,
    timeout: opts.timeout ?? 30_000,
    cwd: opts.cwd,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
  });
}
