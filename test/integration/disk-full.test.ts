// A full disk, for real: HEPH_HOME on a tiny tmpfs (in a private mount namespace) filled to the
// last block, then the commands that write — `config set` and `update pause` — must fail with the
// file named and what to do, leave the file as it was, and leave no temp file behind.
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/platform/paths.js';
import { getArtifacts, publishRelease, seedStore, serveFolder } from '../helpers/artifacts.js';
import { bundleInstallDriver } from '../helpers/installer.js';
import { HEPH } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** Why this cannot run here (a mount namespace needs root and unshare), or null. */
function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for a private mount namespace';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'needs unshare (util-linux)';
  return null;
}

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`disk-full test cannot run under CI: ${why}`);
if (why) console.log(`skipping the disk-full test: ${why}`);

/** Runs `script` in sh inside a new mount namespace with HEPH_HOME on a full 64 KiB tmpfs. */
function onFullDisk(home: string, script: string) {
  const setup = [
    `mount -t tmpfs -o size=64k tmpfs '${home}'`,
    `printf '[update]\\nmode = "off"\\n' > '${home}/config.toml'`,
    `dd if=/dev/zero of='${home}/filler' bs=4k 2>/dev/null || true`,
  ].join(' && ');
  return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${setup} && ${script}`], {
    env: { PATH: process.env.PATH, HEPH_HOME: home, HOME: home, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe.skipIf(why !== null)('a full disk', () => {
  it('config set and update pause fail naming the file and the fix; nothing changes, nothing is left', () => {
    const home = tempDir('heph-diskfull-');
    const out = tempDir('heph-diskfull-out-'); // outside the full disk
    // Each command's exit code, stderr, then the config and the folder as they are afterwards.
    const r = onFullDisk(
      home,
      [
        `node '${HEPH}' config set update.interval 7h 2>'${out}/set.err'; echo "set=$?"`,
        `node '${HEPH}' update pause --for 2h 2>'${out}/pause.err'; echo "pause=$?"`,
        `cat '${home}/config.toml'`,
        `echo '--'`,
        `ls -A '${home}' '${home}/state' 2>/dev/null`,
      ].join('; '),
    );
    expect(r.status, r.stderr).toBe(0);
    const [codes, rest] = [r.stdout.split('[update]')[0]!, r.stdout.slice(r.stdout.indexOf('[update]'))];
    expect(codes).toContain('set=1');
    expect(codes).toContain('pause=1');
    const [config, listing] = rest.split('--\n');
    expect(config).toBe('[update]\nmode = "off"\n'); // byte-identical
    expect(listing).not.toMatch(/\.tmp/); // no temp file left behind

    const setErr = readFileSync(`${out}/set.err`, 'utf8');
    expect(setErr).toBe(
      `heph: cannot write ${home}/config.toml (ENOSPC); it is unchanged\n  the disk is full: free space on the filesystem that holds it, then try again\n`,
    );
    const pauseErr = readFileSync(`${out}/pause.err`, 'utf8');
    expect(pauseErr).toContain(`heph: cannot write ${home}/state/state.json (ENOSPC); it is unchanged`);
    expect(pauseErr).toContain('the disk is full');
    // The mount was private to the namespace: the real folder is empty again.
    expect(readdirSync(home)).toEqual([]);
  });

  it.each([
    ['during the download', 200],
    ['during the extraction', 1400],
  ])(
    'a disk that fills after the preflight (%s): E_IO naming the file and the fix, current unchanged, no leftovers',
    async (_, freeKiB) => {
      const prep = tempDir('heph-diskfull-prep-');
      const releases = tempDir('heph-diskfull-releases-');
      const art = await getArtifacts();
      await seedStore(resolvePaths({ HEPH_HOME: prep }), art, '1.0.0');
      publishRelease(releases, '1.1.0', art);
      const server = await serveFolder(releases);
      const { driver, dir } = await bundleInstallDriver('heph-diskfull-driver-');
      try {
        const home = tempDir('heph-diskfull-');
        // The installer (a real process, test/integration/install-driver.ts) is told the disk is
        // roomy (HEPH_DRIVER_FREE_BYTES, its preflight hook); the tmpfs has freeKiB left.
        const r = await execa(
          'unshare',
          [
            '-m',
            '--propagation',
            'private',
            'sh',
            '-c',
            [
              `mount -t tmpfs -o size=8m tmpfs '${home}'`,
              `cp -a '${prep}/.' '${home}/'`,
              `(dd if=/dev/zero of='${home}/filler' bs=4k 2>/dev/null || true)`,
              `truncate -s -${freeKiB}k '${home}/filler'`,
              `(node '${driver}' '${releases}' '${server.url}' 1.1.0; echo "exit=$?")`,
              `readlink '${home}/data/versions/current'`,
              `ls -A '${home}/data/versions'`,
            ].join(' && '),
          ],
          {
            env: {
              PATH: process.env.PATH,
              HEPH_HOME: home,
              HOME: home,
              HEPH_DRIVER_FREE_BYTES: String(2 ** 40),
              HEPH_DRIVER_FORGE_CLIENT: '1',
            },
            extendEnv: false,
            reject: false,
            timeout: 60_000,
          },
        );
        expect(r.exitCode, r.stderr).toBe(0);
        const [result, code, current, ...listing] = r.stdout.trim().split('\n');
        // before the fix: E_INTERNAL "ENOSPC: no space left on device, write" with no file and no
        // hint, or (a write failing mid-download) an install that stalled and ended with no output
        expect(code, `${result}\n${r.stderr}`).toBe('exit=1');
        const err = JSON.parse(result!);
        expect(current).toBe('1.0.0');
        expect(listing.filter((n) => n.startsWith('.tmp-'))).toEqual([]);
        expect(err.error).toBe('E_IO');
        // the file being written when the disk filled: the download, or a file inside the extraction
        expect(err.message).toMatch(
          new RegExp(
            `^cannot write ${home}/data/versions/\\.tmp-(download|extract)-\\S+ \\(ENOSPC\\); (nothing was installed|1\\.1\\.0 was not installed; nothing changed)$`,
          ),
        );
        expect(err.hint).toContain('the disk is full: free space on the filesystem that holds it');
      } finally {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
