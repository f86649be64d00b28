// install.method = "npm": what `install.verify` means for it, and npm's failures as typed errors.
// With verify = "sha256" (or "minisign") heph has npm fetch the package tarball (`npm pack`,
// with the user's registry, auth and proxy settings), checks those bytes against the release's
// SHA256SUMS, and has npm install that very file: what is checked is what is installed, with
// no second download a registry could answer differently (docs/configuration.md). With verify =
// "none" the packed file is installed unchecked. Either way its engines.node is checked against
// the node the service runs before `npm install -g` (runtime.ts), as the bundle method does.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import * as tar from 'tar';
import type { Config } from '../config/schema.js';
import { describeError, type ErrorCode, HephError } from '../errors.js';
import type { ForgeClient } from '../forge/types.js';
import type { Deps } from '../platform/deps.js';
import type { VersionedRelease } from '../release/types.js';
import { assetName } from '../release/version.js';
import { fetchTrustedSums } from './bundle.js';
import { checkAgainstSums } from './checksums.js';
import { checkRuntime } from './runtime.js';

/** A global npm install downloads and links a package; minutes on a slow registry mirror. */
export const NPM_TIMEOUT_MS = 5 * 60_000;
/** The log keeps the tail of npm's output, enough to see why it failed. */
const MAX_LOGGED_OUTPUT = 8_000;
/** npm's error lines kept in the message: the first ones say what went wrong, the rest is advice. */
const MAX_ERROR_LINES = 4;

/** The file name `npm pack` gives name@version: `heph-1.2.3.tgz`, `acme-heph-1.2.3.tgz` for @acme/heph. */
export function npmTarballName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/**
 * npm's own error lines (`npm ERR! …` up to npm 9, `npm error …` from npm 10), without the
 * pointer to its debug log and blank ones: "npm error code ETARGET", "npm error notarget No
 * matching version found for heph@9.9.9.".
 */
export function npmErrorLines(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => /^npm (ERR!|error)( |$)/.test(l))
    .filter((l) => !/A complete log of this run|^npm (ERR!|error)\s*$|Log files were not written/.test(l));
}

/** npm's error code (`code ETARGET`), if it printed one. */
function npmCode(lines: string[]): string | null {
  for (const l of lines) {
    const m = /^npm (?:ERR!|error) code (\S+)/.exec(l);
    if (m) return m[1]!;
  }
  return null;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
]);

/** heph's code for npm's: what is missing, what is unreachable, what cannot be written, the rest. */
function codeFor(npm: string | null): { code: ErrorCode; hint: string } {
  if (npm === 'ETARGET' || npm === 'E404') {
    return {
      code: 'E_NOT_FOUND',
      hint: 'the registry npm uses does not have this version (yet): check install.npm_package and the registry (npm config get registry)',
    };
  }
  if (npm !== null && (UNREACHABLE.has(npm) || /^E5\d\d$/.test(npm))) {
    return {
      code: 'E_FORGE_UNREACHABLE',
      hint: "npm cannot reach its registry: check the network, npm's registry and proxy settings (npm config list); try again later",
    };
  }
  if (npm === 'EACCES' || npm === 'EPERM' || npm === 'EROFS' || npm === 'ENOSPC') {
    return {
      code: 'E_IO',
      hint: "npm cannot write its global folder (npm prefix -g): fix its permissions or npm's prefix, or free disk space",
    };
  }
  if (npm === 'EINTEGRITY') {
    return {
      code: 'E_VERIFY',
      hint: 'the registry sent a tarball that does not match its own integrity; nothing was installed',
    };
  }
  return {
    code: 'E_COMMAND',
    hint: 'the full output is in the log; run the same npm command by hand to see why',
  };
}

/** Runs npm (argv, no shell); a failure is a HephError carrying npm's own error lines. */
async function npm(args: string[], deps: Deps, opts: { cwd?: string } = {}): Promise<string> {
  const what = `npm ${args.join(' ')}`;
  deps.logger.info({ argv: ['npm', ...args] }, `running ${what}`);
  const r = await execa('npm', args, {
    env: { ...deps.env },
    extendEnv: false,
    reject: false,
    timeout: NPM_TIMEOUT_MS,
    stdin: 'ignore',
    cwd: opts.cwd,
  });
  const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  deps.logger.info({ exitCode: r.exitCode, output: output.slice(-MAX_LOGGED_OUTPUT) }, `${what} finished`);
  if (r.timedOut) {
    throw new HephError('E_COMMAND', `${what} did not finish within ${Math.round(NPM_TIMEOUT_MS / 1000)} s`, {
      hint: 'run it by hand to see why it hangs (a slow registry or mirror?)',
      details: { command: what },
    });
  }
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new HephError('E_COMMAND', 'npm is not on PATH', {
      hint: 'install.method = "npm" needs npm on the PATH heph runs with (the service unit keeps the PATH of `daemon install`)',
      details: { command: what },
    });
  }
  if (r.exitCode !== 0 || r.failed) {
    const lines = npmErrorLines(output);
    const shown = lines.length > 0 ? lines.slice(0, MAX_ERROR_LINES) : output.trim().split('\n').slice(-1);
    const cause = shown.join('; ').slice(0, 600);
    const { code, hint } = codeFor(npmCode(lines));
    throw new HephError(code, `${what} failed (exit ${r.exitCode ?? 'none'})${cause ? `: ${cause}` : ''}`, {
      hint,
      details: { command: what, exitCode: r.exitCode ?? null, npmCode: npmCode(lines) },
    });
  }
  return String(r.stdout ?? '');
}

/**
 * `npm pack <spec>` into a scratch folder: the tarball npm would install, fetched the way npm
 * fetches (registry, auth, proxy from npm's own config). Returns its path.
 */
async function packTarball(spec: string, dir: string, deps: Deps): Promise<string> {
  const out = await npm(['pack', spec, '--json', '--pack-destination', dir], deps, { cwd: dir });
  let filename: unknown;
  try {
    filename = (JSON.parse(out) as { filename?: unknown }[])[0]?.filename;
  } catch {
    filename = undefined;
  }
  if (typeof filename !== 'string' || basename(filename) !== filename) {
    throw new HephError('E_COMMAND', `npm pack ${spec} did not say which file it wrote`, {
      hint: 'run `npm pack <package>@<version> --json` by hand; an npm older than 7 lacks --json',
      details: { command: `npm pack ${spec}` },
    });
  }
  return join(dir, filename);
}

/**
 * engines.node of the packed package (its package/package.json) against the node the service
 * runs, as the bundle method checks an extracted release: refused before `npm install -g`.
 */
async function checkPackedRuntime(file: string, version: string, deps: Deps, dir: string): Promise<void> {
  const into = join(dir, 'package-json');
  mkdirSync(into);
  try {
    await tar.x({
      file,
      cwd: into,
      strip: 1,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      // npm writes package/, but installs whatever single folder a registry tarball holds
      filter: (path) => /^(\.\/)?[^/]+\/package\.json$/.test(path),
    });
  } catch (e) {
    throw new HephError(
      'E_UNSAFE_ARCHIVE',
      `${basename(file)} from npm pack cannot be read: ${describeError(e)}`,
      {
        hint: 'the registry served a broken package tarball; nothing was installed',
      },
    );
  }
  if (!existsSync(join(into, 'package.json'))) {
    throw new HephError('E_UNSAFE_ARCHIVE', `${basename(file)} from npm pack holds no package.json`, {
      hint: 'the registry served something that is not an npm package; nothing was installed',
    });
  }
  await checkRuntime(into, version, deps);
}

/** `npm install -g` of the release's version, checked as install.verify says (see the top of this file). */
export async function npmInstall(
  config: Config,
  deps: Deps,
  release: VersionedRelease,
  client: ForgeClient,
): Promise<void> {
  const name = config.install.npm_package;
  const spec = `${name}@${release.version}`;
  const sums = await fetchTrustedSums({ config, deps, client, release });
  const dir = mkdtempSync(join(tmpdir(), `${deps.app.name}-npm-`));
  try {
    const file = await packTarball(spec, dir, deps);
    if (sums === null) {
      await checkPackedRuntime(file, release.version, deps, dir);
      await npm(['install', '-g', file], deps);
      return;
    }
    const packed = npmTarballName(name, release.version);
    const asset = assetName(config.install.asset, release.version, release.tag);
    const listed = [packed, basename(file), asset].find((n) => sums.has(n));
    if (listed === undefined) {
      const also = asset === packed ? '' : ` nor ${asset} (install.asset)`;
      throw new HephError(
        'E_VERIFY',
        also === ''
          ? `SHA256SUMS of ${release.tag} does not list ${packed} (the npm package's tarball)`
          : `SHA256SUMS of ${release.tag} lists neither ${packed} (the npm package's tarball)${also}`,
        {
          hint: 'publish the npm tarball with the release (`npm pack` output in SHA256SUMS), or set install.verify = "none" at your own risk',
          details: { tag: release.tag },
        },
      );
    }
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    checkAgainstSums(sums, listed, sha256);
    deps.logger.info({ version: release.version, file: listed, sha256 }, 'npm tarball matches SHA256SUMS');
    await checkPackedRuntime(file, release.version, deps, dir);
    await npm(['install', '-g', file], deps);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
