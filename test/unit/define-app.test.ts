// defineApp: a spec it cannot use is refused at once with E_APP naming the field (docs/api.md
// "defineApp"); a valid one gives the names that follow from `name`; `--version` is answered
// without building the command line.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AppSpec, defineApp } from '../../src/lib/define.js';
import { EXIT, type HephError, isHephError } from '../../src/errors.js';

const valid: AppSpec = { name: 'acme', version: '1.2.3', entry: 'dist/acme.mjs' };

/** The E_APP error defineApp throws for `spec`. */
function refusal(spec: unknown): HephError {
  try {
    defineApp(spec as AppSpec);
  } catch (e) {
    if (isHephError(e, 'E_APP')) return e;
    throw e;
  }
  throw new Error('defineApp accepted the spec');
}

describe('defineApp validation', () => {
  it.each([
    ['a name with a slash', { name: 'acme/x' }, 'name'],
    ['an upper-case name', { name: 'Acme' }, 'name'],
    ['a name of 32 characters', { name: `a${'b'.repeat(31)}` }, 'name'],
    ['a name that is not a string', { name: 42 }, 'name'],
    ['a version that is not semver', { version: '1.2' }, 'version'],
    ['a version with a v', { version: 'v1.2.3' }, 'version'],
    ['an entry outside the package', { entry: '../x.mjs' }, 'entry'],
    ['an entry that leaves the package halfway', { entry: 'dist/../../x.mjs' }, 'entry'],
    ['an absolute entry', { entry: '/abs.mjs' }, 'entry'],
    ['a Windows absolute entry', { entry: 'C:/abs.mjs' }, 'entry'],
    ['an entry that is not JavaScript', { entry: 'dist/acme.ts' }, 'entry'],
    ['a forge kind that does not exist', { forge: { kind: 'svn' } }, 'forge.kind'],
    ['a forge setting that does not exist', { forge: { branch: 'main' } }, 'forge.branch'],
    ['a forge repo that is not a string', { forge: { repo: 7 } }, 'forge.repo'],
    ['a serve that is not a function', { serve: 'yes' }, 'serve'],
    ['commands that are not a function', { commands: ['hello'] }, 'commands'],
    ['a description that is not a string', { description: 42 }, 'description'],
    ['a launchd prefix that is not reverse-DNS', { launchdPrefix: 'com..example' }, 'launchdPrefix'],
  ])('refuses %s, naming the field', (_what, change, field) => {
    const e = refusal({ ...valid, ...change });
    expect(e.details.field).toBe(field);
    expect(e.message).toMatch(new RegExp(`^defineApp: ${field.replace('.', '\\.')}: `));
    expect(e.hint).toBeTruthy();
    expect(e.exitCode).toBe(EXIT.error);
  });

  it('refuses a spec that is not an object', () => {
    expect(refusal(null).details.field).toBe('spec');
  });

  it('gives every name from the name, and the app asset as the install default', () => {
    const app = defineApp({
      ...valid,
      name: 'my-app',
      forge: { kind: 'gitlab', repo: 'g/p' },
      launchdPrefix: 'com.example',
    });
    expect(app.name).toBe('my-app');
    expect(app.version).toBe('1.2.3');
    expect(app.identity).toMatchObject({
      name: 'my-app',
      daemon: 'my-appd',
      envPrefix: 'MY_APP',
      entry: 'dist/acme.mjs',
      launchdPrefix: 'com.example',
      defaults: { install: { asset: 'my-app-{version}.tgz' }, forge: { kind: 'gitlab', repo: 'g/p' } },
    });
    const paths = app.paths({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/1' });
    expect(paths.config).toBe('/h/.config/my-app/config.toml');
    expect(paths.socket).toBe('/run/user/1/my-app/my-appd.sock');
    expect(paths.launcher).toBe('/h/.local/share/my-app/bin/my-appd');
    expect(paths.versionFiles).toEqual(['package.json', 'dist/acme.mjs']);
    expect(app.paths({ HOME: '/h', MY_APP_HOME: '/srv/a' }).stateFile).toBe('/srv/a/state/state.json');
  });
});

describe('App.main --version', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it.each([['--version'], ['-V']])('answers %s without building the command line', async (flag) => {
    // The command line (commander) prints through process.stdout; the fast path writes fd 1 itself.
    const write = vi.spyOn(process.stdout, 'write');
    const app = defineApp({ ...valid, version: '4.5.6' });
    expect(await app.main([flag])).toBe(0);
    expect(process.exitCode).toBe(0);
    expect(write).not.toHaveBeenCalled();
  });
});
