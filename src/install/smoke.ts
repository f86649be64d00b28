// The smoke test: a new version must at least start and report the version it claims to be,
// before anything points at it. Run with this very node (process.execPath), no shell.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { requestOnce } from '../control/client.js';
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

/** Starting the new version's CLI, loading the config and listening: seconds at most. */
export const PROBE_TIMEOUT_MS = 20_000;
const PROBE_HINT =
  'nothing was switched and the version is quarantined (auto mode does not try it again; a newer release is picked up as usual); `heph update apply --version V --yes` forces it';

export type ProbeOutcome = 'ready' | 'unsupported';

/**
 * The readiness probe (docs/operations.md "Readiness before the switch"): runs
 * `<dir>/<entry> daemon probe --socket TMP`, which loads the config, builds its forge
 * client and listens; then asks it GET /v1/health, which must answer 200 {ok, version} with this
 * version, and lets it exit 0; all within PROBE_TIMEOUT_MS. Throws E_SMOKE_TEST otherwise.
 * A release from before the probe existed (its CLI has no `daemon probe`) is 'unsupported'.
 */
export async function probeBundle(
  dir: string,
  entry: string,
  version: string,
  env: Env,
): Promise<ProbeOutcome> {
  const tmp = mkdtempSync(join(tmpdir(), 'heph-ready-'));
  const socket = join(tmp, 'probe.sock');
  const fail = (why: string) =>
    new HephError('E_SMOKE_TEST', `the new version ${version} failed its readiness probe: ${why}`, {
      hint: PROBE_HINT,
    });
  const child = execa(process.execPath, [join(dir, entry), 'daemon', 'probe', '--socket', socket], {
    env: { ...env },
    extendEnv: false,
    reject: false,
    timeout: PROBE_TIMEOUT_MS,
    stdin: 'ignore',
    cwd: tmp,
  });
  try {
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (out.split('\n').includes('ready')) resolve(true);
      });
      void child.then(() => resolve(false));
    });
    if (!ready) {
      const r = await child;
      const err = String(r.stderr ?? '').trim();
      if (r.exitCode === 2 && /unknown command 'probe'/.test(err)) return 'unsupported';
      if (r.timedOut) throw fail(`it did not listen within ${PROBE_TIMEOUT_MS / 1000} s`);
      const first = err
        .split('\n')
        .find((l) => l.trim() !== '')
        ?.slice(0, 300);
      throw fail(`it exited ${r.exitCode ?? r.signal}${first ? ` (${first})` : ''}`);
    }
    const answer = await getHealth(socket).catch((e: unknown) => {
      throw fail(`GET /v1/health failed: ${(e as Error).message}`);
    });
    if (answer.status !== 200 || (answer.body as { ok?: unknown })?.ok !== true) {
      throw fail(`GET /v1/health answered ${answer.status}`);
    }
    const said = (answer.body as { version?: unknown }).version;
    if (said !== version) throw fail(`it says it is version ${String(said)}`);
    const r = await child;
    if (r.exitCode !== 0) throw fail(`it exited ${r.exitCode ?? r.signal} after answering`);
    return 'ready';
  } finally {
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
    await child.catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** GET /v1/health of the probed version, once (the control client's request, no restart grace). */
async function getHealth(socketPath: string): Promise<{ status: number; body: unknown }> {
  const a = await requestOnce(socketPath, 'GET', '/v1/health', undefined, PROBE_TIMEOUT_MS);
  if (!a.ok) throw a.error ?? new Error(`no answer to GET /v1/health (${a.refused ?? 'refused'})`);
  return { status: a.status ?? 0, body: a.body ?? null };
}
