// Methods `npm` and `command` with real processes (stand-in `npm` and `heph` scripts on PATH):
// argv without a shell, placeholders, failures audited, the smoke test on PATH; and
// installRunningVersion, which gives the store a copy of the running heph.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appNames } from '../../src/app/identity.js';
import { readAudit } from '../../src/audit/log.js';
import { configSchema } from '../../src/config/schema.js';
import { installRelease, installRunningVersion } from '../../src/install/index.js';
import { readStore } from '../../src/install/store.js';
import { createDeps, type Deps } from '../../src/platform/deps.js';
import { resolvePaths } from '../../src/platform/paths.js';
import type { VersionedRelease } from '../../src/release/types.js';
import { assetClient } from '../helpers/artifacts.js';

let home: string;
let bin: string;
let deps: Deps;

const release: VersionedRelease = {
  tag: 'v1.1.0',
  version: '1.1.0',
  name: 'v1.1.0',
  notes: '',
  draft: false,
  prerelease: false,
  publishedAt: null,
  url: '',
  assets: [],
};

function script(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'heph-methods-'));
  bin = join(home, 'bin');
  mkdirSync(bin);
  const env = { HEPH_HOME: home, HOME: home, PATH: `${bin}:/usr/bin:/bin` };
  deps = createDeps({ env, paths: resolvePaths(env) });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function install(installCfg: Record<string, unknown>) {
  return installRelease({
    config: configSchema.parse({ install: installCfg }),
    deps,
    client: assetClient(),
    release,
  });
}

describe('method command', () => {
  it('runs the command as argv with placeholders, then smoke-tests heph on PATH', async () => {
    script('heph', 'echo 1.1.0');
    const r = await install({
      method: 'command',
      command: `sh -c 'echo "$1 $2" > "$HOME/ran"' x {version} {tag}`,
    });
    expect(r).toMatchObject({ method: 'command', version: '1.1.0', path: null });
    expect(readFileSync(join(home, 'ran'), 'utf8')).toBe('1.1.0 v1.1.0\n');
    expect(readAudit(deps.paths.auditFile)[0]).toMatchObject({
      event: 'update.installed',
      method: 'command',
    });
  });

  it('does not hand the command line to a shell', async () => {
    script('heph', 'echo 1.1.0');
    // Without a shell, ">" and ";" are plain words handed to echo: no file, no second command.
    await install({ method: 'command', command: `echo hi > ${home}/redir;touch ${home}/second` });
    expect(existsSync(join(home, 'redir'))).toBe(false);
    expect(existsSync(join(home, 'redir;touch'))).toBe(false);
    expect(existsSync(join(home, 'second'))).toBe(false);
  });

  it('fails, audited, when the command fails or the smoke test disagrees', async () => {
    await expect(install({ method: 'command', command: 'sh -c "echo boom >&2; exit 3"' })).rejects.toThrow(
      /failed \(3\): boom/,
    );
    expect(readAudit(deps.paths.auditFile)[0]).toMatchObject({ event: 'update.failed' });
    script('heph', 'echo 1.0.0');
    await expect(install({ method: 'command', command: 'true' })).rejects.toMatchObject({
      code: 'E_SMOKE_TEST',
    });
  });

  it("an embedding app smoke-tests its own command on PATH, not heph's", async () => {
    const app = { ...appNames('acme'), version: '1.0.0', entry: 'dist/acme.mjs' };
    const env = { ACME_HOME: home, HOME: home, PATH: `${bin}:/usr/bin:/bin` };
    deps = createDeps({ app, env, paths: resolvePaths(env, app) });
    script('heph', 'echo 0.1.0'); // some other heph on PATH: not the app that was installed
    script('acme', 'echo 1.1.0');
    const r = await install({ method: 'command', command: 'true' });
    expect(r).toMatchObject({ method: 'command', version: '1.1.0' });
    rmSync(join(bin, 'acme'));
    const lines: string[] = [];
    deps = { ...deps, logger: pino({ level: 'info' }, { write: (l: string) => lines.push(l) }) };
    await install({ method: 'command', command: 'true' });
    expect(lines.map((l) => JSON.parse(l).msg)).toContain(
      'no acme on PATH after the install; smoke test skipped',
    );
  });
});

describe('method npm', () => {
  it('runs npm pack <package>@<version>, then npm install -g on that file', async () => {
    // a stand-in npm: `pack` writes a real package tarball where asked, `install` makes the bin
    script(
      'npm',
      [
        'echo "$@" >> "$HOME/npm-args"',
        'if [ "$1" = pack ]; then',
        '  cd "$5" && mkdir package && echo \'{"name":"@acme/heph","version":"1.1.0"}\' > package/package.json',
        '  tar czf acme-heph-1.1.0.tgz package && rm -r package && echo \'[{"filename":"acme-heph-1.1.0.tgz"}]\'',
        'else',
        `  printf '#!/bin/sh\\necho 1.1.0\\n' > ${bin}/heph; chmod 755 ${bin}/heph`,
        'fi',
      ].join('\n'),
    );
    // verify = "none": this stand-in npm has no registry (install-npm.test.ts runs the real npm
    // against a loopback registry, SHA256SUMS and engines.node included).
    const r = await install({ method: 'npm', npm_package: '@acme/heph', verify: 'none' });
    expect(r).toMatchObject({ method: 'npm', version: '1.1.0' });
    const [pack, inst, ...rest] = readFileSync(join(home, 'npm-args'), 'utf8').trim().split('\n');
    expect(pack).toMatch(/^pack @acme\/heph@1\.1\.0 --json --pack-destination (\S+)$/);
    expect(inst).toBe(`install -g ${pack!.split(' ').at(-1)}/acme-heph-1.1.0.tgz`);
    expect(rest).toEqual([]);
  });
});

describe('installRunningVersion', () => {
  it('copies the running heph into the store and makes it current, once', async () => {
    const first = await installRunningVersion(deps);
    expect(first.changed).toBe(true);
    const s = readStore(deps.paths);
    expect(s.current).toBe(first.version);
    expect(s.complete[first.version]).toBe(true);
    expect(existsSync(join(first.path, 'templates', 'launcher.mjs'))).toBe(true);
    expect(await installRunningVersion(deps)).toEqual({ ...first, changed: false });
  });
});
