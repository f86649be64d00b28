// The rendered launcher run with node again and again, as systemd would: a release whose daemon
// entry exits 1 is rolled back after 3 failed starts and quarantined (audited), selection then
// says `quarantined`; a healthy version is never counted; no version at all exits 78.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/log.js';
import { extractRelease } from '../../src/install/extract.js';
import { renderLauncher, writeLauncher } from '../../src/install/launcher.js';
import {
  markHealthy,
  quarantineVersion,
  readLauncherState,
  readQuarantined,
} from '../../src/install/launcher-state.js';
import { readStore, swapCurrent } from '../../src/install/store.js';
import { type Paths, resolvePaths } from '../../src/platform/paths.js';
import { select } from '../../src/release/select.js';
import { type Artifacts, BROKEN_VERSION, getArtifacts, seedStore } from '../helpers/artifacts.js';
import { cleanEnv } from '../helpers/cli.js';

let art: Artifacts;
let home: string;
let paths: Paths;

beforeAll(async () => {
  art = await getArtifacts();
});
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'heph-launcher-'));
  paths = resolvePaths({ HEPH_HOME: home });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function addVersion(version: string): Promise<void> {
  const dir = join(paths.store, version);
  mkdirSync(dir, { recursive: true });
  await extractRelease(art.tarball(version), dir);
}

/** A launcher start that has neither exited nor switched versions by then is hung. */
const LAUNCH_TIMEOUT_MS = 30_000;
/** How often a test looks at the store while a start runs. */
const POLL_MS = 100;

/** One start by the service manager: node <launcher>. A daemon that keeps running is stopped by pid. */
function start() {
  return execa(process.execPath, [paths.launcher], {
    env: cleanEnv({ HEPH_HOME: home }),
    extendEnv: false,
    reject: false,
    timeout: LAUNCH_TIMEOUT_MS,
    stdin: 'ignore',
  });
}

/**
 * Lets a start run until it has switched `current` to `version` and audited the switch (or
 * LAUNCH_TIMEOUT_MS passed), then stops whatever daemon it went on to run, by its pid. The audit
 * line follows the swap: stopping at the swap alone could cut the launcher before it.
 */
async function runUntilCurrentIs(run: ReturnType<typeof start>, version: string): Promise<void> {
  const deadline = Date.now() + LAUNCH_TIMEOUT_MS;
  const switched = () =>
    readStore(paths).current === version &&
    readAudit(paths.auditFile).some((e) => e.event === 'update.rolled-back' && e.version === version);
  while (!switched() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (run.pid !== undefined && run.exitCode === null) process.kill(run.pid, 'SIGTERM');
  await run;
}

describe('launcher', () => {
  it('is rendered 0755 with the store and state folders baked in, idempotently', () => {
    const first = writeLauncher(paths);
    expect(first).toEqual({ file: paths.launcher, changed: true });
    expect(statSync(paths.launcher).mode & 0o777).toBe(0o755);
    expect(readFileSync(paths.launcher, 'utf8')).toContain(JSON.stringify(paths.store));
    expect(writeLauncher(paths).changed).toBe(false);
  });

  it('renders valid JavaScript for folder names with quotes, backslashes and newlines', () => {
    const odd = resolvePaths({ HEPH_HOME: join(home, `it's "odd"\\\n\u2028 ${'$' + '{x}'}`) });
    const file = join(home, 'odd-launcher.mjs');
    writeFileSync(file, renderLauncher(odd));
    execFileSync(process.execPath, ['--check', file]);
    expect(readFileSync(file, 'utf8')).toContain(JSON.stringify(odd.store));
  });

  it('exits 78 with a clear message when there is no version to run', async () => {
    writeLauncher(paths);
    const r = await start();
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/no runnable version.*heph daemon install/);
  });

  it('finishes a rollback that was killed between the quarantine and the swap', async () => {
    await seedStore(paths, art, '1.0.0');
    markHealthy(paths, '1.0.0');
    await addVersion(BROKEN_VERSION);
    swapCurrent(paths, BROKEN_VERSION);
    writeLauncher(paths);
    // What a launcher killed right after saving the quarantine leaves behind: current is still bad.
    quarantineVersion(paths, BROKEN_VERSION, 'failed to start 3 times');

    await runUntilCurrentIs(start(), '1.0.0');
    expect(readStore(paths).current).toBe('1.0.0');
    expect(readAudit(paths.auditFile)[0]).toMatchObject({
      event: 'update.rolled-back',
      version: '1.0.0',
      from: BROKEN_VERSION,
      reason: 'failed to start 3 times',
    });
    expect(readLauncherState(paths).attempts[BROKEN_VERSION]).toBeUndefined();
  });

  it('rolls back a version whose daemon exits 1 after 3 failed starts, and quarantines it', async () => {
    await seedStore(paths, art, '1.0.0');
    markHealthy(paths, '1.0.0');
    await addVersion(BROKEN_VERSION);
    swapCurrent(paths, BROKEN_VERSION);
    writeLauncher(paths);

    for (let i = 1; i <= 3; i++) {
      const r = await start();
      expect(r.exitCode).toBe(1);
      expect(readLauncherState(paths).attempts[BROKEN_VERSION]).toBe(i);
      expect(readStore(paths).current).toBe(BROKEN_VERSION);
    }
    // The 4th start switches back and runs 1.0.0's daemon, whatever that daemon then does.
    await runUntilCurrentIs(start(), '1.0.0');

    expect(readStore(paths)).toMatchObject({ current: '1.0.0' });
    const state = readLauncherState(paths);
    expect(state.quarantined).toEqual([
      { version: BROKEN_VERSION, reason: 'failed to start 3 times', at: expect.any(String) },
    ]);
    expect(state.attempts[BROKEN_VERSION]).toBeUndefined();
    expect(state.attempts['1.0.0']).toBeUndefined(); // healthy versions are not counted
    const audit = readAudit(paths.auditFile).map(({ event, version, from, reason }) => ({
      event,
      version,
      from,
      reason,
    }));
    // Newest first: the quarantine is written (and audited) before the swap back.
    expect(audit).toEqual([
      {
        event: 'update.rolled-back',
        version: '1.0.0',
        from: BROKEN_VERSION,
        reason: 'failed to start 3 times',
      },
      {
        event: 'update.quarantined',
        version: BROKEN_VERSION,
        from: undefined,
        reason: 'failed to start 3 times',
      },
    ]);

    // Selection then refuses the quarantined release, with reason `quarantined`.
    const selection = select({
      releases: [
        {
          tag: `v${BROKEN_VERSION}`,
          name: '',
          notes: '',
          draft: false,
          prerelease: false,
          publishedAt: '2024-01-01T00:00:00Z',
          url: '',
          assets: [{ name: `heph-${BROKEN_VERSION}.tgz`, url: 'x', size: 1, sha256: null }],
        },
      ],
      current: '1.0.0',
      policy: {
        channel: 'stable',
        allowMajor: false,
        minReleaseAgeMs: 0,
        rolloutWindowMs: 0,
        tagPrefix: 'v',
        asset: 'heph-{version}.tgz',
        quarantined: readQuarantined(paths),
        paused: false,
      },
      now: Date.parse('2025-01-01T00:00:00Z'),
      bucket: 0,
    });
    expect(selection).toMatchObject({ candidate: null, reason: 'quarantined' });
  });

  it('does not roll back when there is no other version, and keeps counting', async () => {
    await addVersion(BROKEN_VERSION);
    mkdirSync(paths.state, { recursive: true });
    swapCurrent(paths, BROKEN_VERSION);
    writeLauncher(paths);
    for (let i = 0; i < 4; i++) expect((await start()).exitCode).toBe(1);
    expect(readStore(paths).current).toBe(BROKEN_VERSION);
    expect(readLauncherState(paths).attempts[BROKEN_VERSION]).toBe(4);
    expect(existsSync(paths.auditFile)).toBe(false);
  });

  it('never counts or rolls back a version once marked healthy', async () => {
    await seedStore(paths, art, '1.0.0');
    await addVersion(BROKEN_VERSION);
    swapCurrent(paths, BROKEN_VERSION);
    markHealthy(paths, BROKEN_VERSION);
    writeLauncher(paths);
    for (let i = 0; i < 4; i++) expect((await start()).exitCode).toBe(1);
    expect(readStore(paths).current).toBe(BROKEN_VERSION);
    expect(readLauncherState(paths).attempts).toEqual({});
  });

  it('with current and previous gone, runs the newest intact version that is not quarantined', async () => {
    for (const v of ['1.0.0', '1.1.0', '1.3.0']) await addVersion(v);
    mkdirSync(join(paths.store, '1.2.0')); // incomplete: a killed copy
    writeFileSync(join(paths.store, '1.2.0', 'package.json'), '{}');
    quarantineVersion(paths, '1.3.0', 'failed to start 3 times');
    symlinkSync('9.9.9', join(paths.store, 'current')); // both gone (deleted by hand)
    symlinkSync('9.9.8', join(paths.store, 'previous'));
    writeLauncher(paths);

    await runUntilCurrentIs(start(), '1.1.0');
    expect(readStore(paths).current).toBe('1.1.0');
    expect(readAudit(paths.auditFile)[0]).toMatchObject({
      event: 'update.rolled-back',
      version: '1.1.0',
      from: '9.9.9',
      reason: 'current (9.9.9) is missing or incomplete',
      by: 'launcher',
    });
  });

  it.each([
    [
      'a null quarantine entry',
      '{"quarantined":[null]}',
      'quarantined: expected a list of {version, reason, at}',
    ],
    ['a string where a count goes', '{"attempts":{"1.4.0":"3"}}', 'attempts: expected an object of counts'],
    ['an array', '[1,2]', 'the document is not an object'],
    ['junk', 'not json at all', 'not valid JSON'],
    ['healthy as a string', '{"healthy":"1.0.0"}', 'healthy: expected a list of versions'],
  ])(
    'a launcher.json with %s is set aside and counted afresh, never a crash loop',
    async (_, text, reason) => {
      await addVersion(BROKEN_VERSION);
      swapCurrent(paths, BROKEN_VERSION);
      writeLauncher(paths);
      mkdirSync(paths.state, { recursive: true });
      const file = join(paths.state, 'launcher.json');
      writeFileSync(file, text);

      const r = await start();
      expect(r.stderr).not.toContain('TypeError');
      expect(r.exitCode).toBe(1); // the broken version's own exit: it was started and counted
      expect(r.stderr).toContain(`${file} is unusable (${reason}); set aside as ${file}.corrupt-`);
      expect(readLauncherState(paths).attempts).toEqual({ [BROKEN_VERSION]: 1 });
      const aside = readdirSync(paths.state).filter((n) => n.startsWith('launcher.json.corrupt-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(paths.state, aside[0]!), 'utf8')).toBe(text);
      expect(readAudit(paths.auditFile).filter((e) => e.event === 'state.corrupt')).toMatchObject([
        { file, setAside: join(paths.state, aside[0]!), reason, by: 'launcher' },
      ]);
      // once: the next start finds a good file and reports nothing
      const again = await start();
      expect(again.stderr).not.toContain('unusable');
      expect(readLauncherState(paths).attempts).toEqual({ [BROKEN_VERSION]: 2 });
    },
  );

  it('a FIFO or a device in place of launcher.json is set aside, not read (it would block or never end)', async () => {
    await addVersion(BROKEN_VERSION);
    swapCurrent(paths, BROKEN_VERSION);
    writeLauncher(paths);
    mkdirSync(paths.state, { recursive: true });
    const file = join(paths.state, 'launcher.json');
    execFileSync('mkfifo', [file]);
    const r = await start();
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${file} is unusable (not a regular file)`);
    rmSync(file); // the start above wrote a fresh one
    symlinkSync('/dev/zero', file);
    const z = await start();
    expect(z.exitCode).toBe(1);
    expect(z.stderr).toContain(`${file} is unusable (not a regular file)`);
    expect(readLauncherState(paths).attempts).toEqual({ [BROKEN_VERSION]: 1 });
  });
});
