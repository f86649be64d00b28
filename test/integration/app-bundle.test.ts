// An app built on defineApp and bundled as docs/embedding.md says (esbuild, one file: nothing from
// node_modules and no templates/ folder beside it) owns itself like heph does: `daemon install`
// copies the app's own package into the store and writes its launcher and unit from the
// templates the library carries inside the bundle.
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { appNames } from '../../src/app/identity.js';
import { resolvePaths } from '../../src/platform/paths.js';
import { bundleScript } from '../helpers/bundle.js';
import { cleanEnv, DIST } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const VERSION = '2.3.4';

let pkg = '';
let home = '';
const env = () => cleanEnv({ HOME: home, ACME_HOME: home, NO_COLOR: '1' });
const acme = (args: string[]) =>
  execa(process.execPath, [join(pkg, 'dist', 'acme.mjs'), ...args], {
    env: env(),
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });

beforeAll(async () => {
  const work = tempDir('heph-app-bundle-');
  pkg = join(work, 'acme');
  home = join(work, 'home');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  mkdirSync(home);
  // the app's source, importing the built library entry as `import … from 'heph'` would
  const source = join(work, 'acme.mjs');
  writeFileSync(
    source,
    [
      "import { existsSync, readFileSync, writeFileSync } from 'node:fs';",
      "import { join } from 'node:path';",
      `import { defineApp } from ${JSON.stringify(join(DIST, 'index.mjs'))};`,
      "const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));",
      '// serve says whether the stop marker of the last daemon was still there when it began',
      'const serve = () => writeFileSync(join(process.env.ACME_HOME, "serve-saw.json"),',
      '  JSON.stringify({ stopMarker: existsSync(app.paths().stopMarker) }));',
      "const app = defineApp({ name: 'acme', version: pkg.version, entry: 'dist/acme.mjs', serve });",
      'await app.main(process.argv.slice(2));',
      '',
    ].join('\n'),
  );
  await bundleScript(source, join(pkg, 'dist', 'acme.mjs'));
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'acme', version: VERSION, type: 'module' }),
  );
}, 120_000);

describe('an app bundle with nothing beside it', () => {
  it('daemon install --manager none puts the app itself into its store, with its launcher', async () => {
    const r = await acme(['daemon', 'install', '--manager', 'none', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const paths = resolvePaths({ ACME_HOME: home }, appNames('acme'));
    expect(existsSync(join(paths.store, VERSION, 'dist', 'acme.mjs'))).toBe(true);
    expect(readlinkSync(join(paths.store, 'current'))).toContain(VERSION);
    const launcher = readFileSync(paths.launcher, 'utf8');
    expect(launcher).toContain('"entry": "dist/acme.mjs"');
    expect(launcher).toContain('"daemon": "acmed"');
    // the copy in the store is a runnable acme
    const stored = await execa(
      process.execPath,
      [join(paths.store, 'current', 'dist', 'acme.mjs'), '--version'],
      {
        env: env(),
        extendEnv: false,
        reject: false,
      },
    );
    expect(stored.stdout.trim()).toBe(VERSION);
    // said in the app's own names
    const again = await acme(['daemon', 'install', '--manager', 'none']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`store     acme ${VERSION} already there`);
    expect(again.stdout).toContain('acme daemon install: no service manager');
  });

  it('daemon install --dry-run renders the systemd unit for acmed', async () => {
    const r = await acme(['daemon', 'install', '--manager', 'systemd', '--dry-run', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { files: { path: string; content?: string }[] };
    const unit = doc.files.find((f) => f.path.endsWith('/acmed.service'));
    expect(unit?.content).toMatch(/Description=acmed: keeps this machine on the newest acme release/);
  });

  it("keeps the last daemon's stop marker until serve has begun (its socket may not exist before)", async () => {
    const paths = resolvePaths({ ACME_HOME: home }, appNames('acme'));
    mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
    // the marker a daemon leaves as it stops for a restart
    const now = new Date().toISOString();
    writeFileSync(
      paths.stopMarker,
      JSON.stringify({ pid: null, stoppingAt: now, time: now, stoppedAt: now }),
    );
    const daemon = execa(process.execPath, [join(pkg, 'dist', 'acme.mjs'), 'daemon', 'run'], {
      env: { ...env(), ACME_UPDATE_MODE: 'off' },
      extendEnv: false,
      reject: false,
    });
    const saw = join(home, 'serve-saw.json');
    try {
      await vi.waitFor(() => expect(existsSync(saw)).toBe(true), { timeout: 30_000, interval: 100 });
      // a client refused while serve starts listening still finds the marker: it waits
      expect(JSON.parse(readFileSync(saw, 'utf8'))).toEqual({ stopMarker: true });
      // and once serve has begun, the daemon is up: the marker goes
      await vi.waitFor(() => expect(existsSync(paths.stopMarker)).toBe(false), { timeout: 10_000 });
    } finally {
      daemon.kill('SIGTERM');
      await daemon;
    }
  });

  it("update check and install's dry run speak of acme", async () => {
    const releases = join(home, 'releases');
    mkdirSync(join(releases, 'v2.4.0'), { recursive: true });
    writeFileSync(join(releases, 'v2.4.0', 'acme-2.4.0.tgz'), 'not checked by a check');
    expect((await acme(['release', 'index', releases])).exitCode).toBe(0);
    writeFileSync(join(home, 'config.toml'), `[forge]\nkind = "static"\nurl = "file://${releases}/"\n`);
    const check = await acme(['update', 'check']);
    expect(check.stdout).toContain('acme 2.4.0 is available (current 2.3.4)');
    expect(check.stdout).toContain('run `acme update apply`');
    const dry = await acme(['daemon', 'install', '--manager', 'systemd', '--dry-run']);
    expect(dry.stdout).toContain('would install acme 2.3.4 into');
  });
});
