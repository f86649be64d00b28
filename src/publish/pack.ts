// `release pack`: an app's release made from its folder, which it never changes: OUT/<name>-X.tgz
// (npm-pack layout, the files npm would pack, package.json at version X), OUT/SHA256SUMS with the
// tarball's line added or replaced, and with a key OUT/SHA256SUMS.minisig (docs/releasing.md).
//
// Nothing is visible before it is complete: every check runs before anything is written (none
// writes into DIR), then the files are written under temp names inside OUT and renamed at the
// end; a failure removes them (and OUT itself when this run created it), so a refused release
// leaves OUT as it was.
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { execa } from 'execa';
import semver from 'semver';
import * as tar from 'tar';
import { HephError } from '../errors.js';
import { fsyncDir } from '../platform/fs.js';
import { npmPackFiles, npmWouldPack } from './npm-files.js';
import { updateSums } from './sums.js';

/** npm pack stamps every entry with this date, so the same inputs give the same bytes. */
export const FIXED_MTIME = new Date('1985-10-26T08:15:00Z');
/** minisign derives the key from a password (scrypt): seconds, not minutes. */
const MINISIGN_TIMEOUT_MS = 120_000;

/** Who is being released: the app's CLI passes its own name and entry (`defineApp`). */
export interface PackApp {
  /** package.json `name` must be this (or `@scope/<name>`); the tarball is `<name>-X.tgz`. */
  name: string;
  /** The file the launcher runs (`package/<entry>`); it must be among the packed files. */
  entry?: string | undefined;
}

export interface PackOptions {
  /** The app's folder, holding its package.json. Never written to. */
  dir: string;
  /** The release version, exact semver (`1.2.3`, `2.0.0-rc.1`). */
  version: string;
  /** Where the release files go (created when missing). */
  out: string;
  /** A minisign secret key: also write SHA256SUMS.minisig with the real `minisign` tool. */
  sign?: string | undefined;
  /** The signature's trusted comment; default `<name> <version> SHA256SUMS`. */
  trustedComment?: string | undefined;
  /** Without it the name and entries come from package.json alone. */
  app?: PackApp | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface PackResult {
  name: string;
  version: string;
  tarball: string;
  sha256: string;
  sums: string;
  signature: string | null;
  /** SHA256SUMS changed without --sign, so the old signature no longer matched and was removed. */
  removedSignature: string | null;
  /** The packed files, relative to the package root. */
  files: string[];
}

const usage = (message: string) => new HephError('E_USAGE', message);
const refuse = (message: string, details: Record<string, unknown> = {}) =>
  new HephError('E_PACK', message, { details });

export async function packRelease(opts: PackOptions): Promise<PackResult> {
  const env = opts.env ?? process.env;
  if (!isExactVersion(opts.version)) {
    throw usage(
      `--version "${opts.version}" cannot be a version: give an exact semver version such as 1.2.3 or 2.0.0-rc.1`,
    );
  }
  const dir = resolve(opts.dir);
  const manifestFile = join(dir, 'package.json');
  const pkg = readManifest(manifestFile);
  const name = releaseName(pkg, opts.app, manifestFile);
  const entries = entriesOf(pkg, opts.app, manifestFile);
  if (opts.sign !== undefined && !isFile(opts.sign)) {
    throw new HephError('E_NOT_FOUND', `--sign ${opts.sign}: no such key file; give the minisign secret key`);
  }
  const realDir = realpathSync(dir);
  const out = resolve(opts.out);
  const realOut = realPathOfMaybeMissing(out);
  if (existsSync(out) && !statSync(out).isDirectory()) throw usage(`--out ${out} is a file: give a folder`);
  if (realOut === realDir) throw usage(`--out ${out} is the app's folder: give a folder outside it`);
  const outRel = insideOf(realDir, realOut);

  const packed = await npmPackFiles(dir, env);
  checkEntries(entries, packed.files, dir);
  checkBundled(pkg, packed.bundled, dir);
  const tgzName = `${name}-${opts.version}.tgz`;
  if (outRel !== null) {
    refuseIfPacked(packed.files, outRel, out);
    // The next release would pack this one: OUT is in a folder `files` names, or one no ignore file excludes.
    const outputs = [tgzName, 'SHA256SUMS', 'SHA256SUMS.minisig'].map((f) => `${outRel}/${f}`);
    const would = await npmWouldPack(dir, outputs, env);
    if (would.length > 0) refuseIfPacked(would, outRel, out, true);
  }

  const tmpTag = `${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  const tmpTgz = join(out, `.${tgzName}.${tmpTag}`);
  const sumsFile = join(out, 'SHA256SUMS');
  const tmpSums = join(out, `.SHA256SUMS.${tmpTag}`);
  const sigFile = `${sumsFile}.minisig`;
  const tmpSig = join(out, `.SHA256SUMS.minisig.${tmpTag}`);
  let createdOut: string | undefined;
  try {
    createdOut = mkdirSync(out, { recursive: true });
  } catch (e) {
    throw ioError(out, e);
  }
  const stage = mkdtempSync(join(tmpdir(), 'heph-pack-'));
  let done = false;
  try {
    stagePackage(dir, packed.files, { ...pkg, version: opts.version }, join(stage, 'package'));
    await tar.c(
      { gzip: true, cwd: stage, file: tmpTgz, portable: true, mtime: FIXED_MTIME, noDirRecurse: true },
      packed.files.map((f) => `package/${f}`),
    );
    fsyncFile(tmpTgz);
    const sha256 = createHash('sha256').update(readFileSync(tmpTgz)).digest('hex');
    const previous = existsSync(sumsFile) ? readFileSync(sumsFile, 'utf8') : '';
    writeFileSync(tmpSums, updateSums(previous, tgzName, sha256));
    fsyncFile(tmpSums);
    if (opts.sign !== undefined) {
      await minisignSign(
        tmpSums,
        tmpSig,
        opts.sign,
        opts.trustedComment ?? `${name} ${opts.version} SHA256SUMS`,
      );
      fsyncFile(tmpSig);
    }

    const tarball = join(out, tgzName);
    renameSync(tmpTgz, tarball);
    renameSync(tmpSums, sumsFile);
    let removedSignature: string | null = null;
    if (opts.sign !== undefined) renameSync(tmpSig, sigFile);
    else if (existsSync(sigFile)) {
      rmSync(sigFile, { force: true });
      removedSignature = sigFile;
    }
    fsyncDir(out);
    done = true;
    return {
      name,
      version: opts.version,
      tarball,
      sha256,
      sums: sumsFile,
      signature: opts.sign !== undefined ? sigFile : null,
      removedSignature,
      files: packed.files,
    };
  } catch (e) {
    throw e instanceof HephError ? e : ioError(out, e);
  } finally {
    rmSync(stage, { recursive: true, force: true });
    if (!done) {
      for (const f of [tmpTgz, tmpSums, tmpSig]) rmSync(f, { force: true });
      if (createdOut !== undefined) rmSync(createdOut, { recursive: true, force: true });
    }
  }
}

/** Semver exactly as written: no `v`, `=` or spaces (it names the tarball), build metadata kept. */
export function isExactVersion(v: string): boolean {
  const p = semver.parse(v);
  return p !== null && `${p.version}${p.build.length > 0 ? `+${p.build.join('.')}` : ''}` === v;
}

type Manifest = Record<string, unknown>;

function readManifest(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw refuse(`${file} not found: give the app's folder (the one that holds its package.json)`, { file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw refuse(`${file} is not valid JSON (${(e as Error).message}): fix it`, { file });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw refuse(`${file} does not hold a JSON object: fix it`, { file });
  }
  return value as Manifest;
}

/** The tarball's base name: the app's name, or npm's own file name for the package. */
function releaseName(pkg: Manifest, app: PackApp | undefined, file: string): string {
  const name = pkg.name;
  if (typeof name !== 'string' || !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) {
    throw refuse(`${file}: "name" is missing or not a package name: set it to the app's name`, { file });
  }
  const bare = name.slice(name.indexOf('/') + 1);
  if (app === undefined) return name.startsWith('@') ? name.slice(1).replace('/', '-') : name;
  if (bare !== app.name) {
    throw refuse(
      `${file} names the package "${name}", not "${app.name}": give ${app.name}'s folder, or pack ${bare} with its own \`${bare} release pack\``,
      { file, name },
    );
  }
  return app.name;
}

interface Entry {
  path: string;
  /** Where it was named, for the error message. */
  from: string;
}

/** The files the app runs: the app's entry, every `bin` and `main`, as package-relative paths. */
function entriesOf(pkg: Manifest, app: PackApp | undefined, file: string): Entry[] {
  const raw: Entry[] = [];
  if (app?.entry !== undefined) raw.push({ path: app.entry, from: `the entry of ${app.name}` });
  if (typeof pkg.bin === 'string') raw.push({ path: pkg.bin, from: 'package.json "bin"' });
  else if (pkg.bin !== null && typeof pkg.bin === 'object') {
    for (const [k, v] of Object.entries(pkg.bin)) {
      if (typeof v === 'string') raw.push({ path: v, from: `package.json "bin.${k}"` });
    }
  }
  if (typeof pkg.main === 'string') raw.push({ path: pkg.main, from: 'package.json "main"' });
  if (raw.length === 0) {
    throw refuse(`${file} names no entry: set "bin" (or "main") to the file the app runs`, { file });
  }
  return raw.map((e) => {
    const p = posix.normalize(e.path.replace(/\\/g, '/')).replace(/^\.\//, '');
    if (posix.isAbsolute(p) || p === '..' || p.startsWith('../') || p === '.') {
      throw refuse(`${e.from} "${e.path}" is outside the package: name a file inside the app's folder`, {
        file,
      });
    }
    return { path: p, from: e.from };
  });
}

function checkEntries(entries: Entry[], files: string[], dir: string): void {
  const packed = new Set(files);
  for (const e of entries) {
    // `main` may omit the extension or name a folder, the way Node resolves it.
    const candidates = [e.path, `${e.path}.js`, `${e.path}.json`, `${e.path}/index.js`];
    if (candidates.some((c) => packed.has(c))) continue;
    const why = existsSync(join(dir, e.path)) ? 'is not among the files npm packs' : 'does not exist';
    throw refuse(`${e.from} "${e.path}" ${why} in ${dir}: build it, or add it to package.json "files"`, {
      entry: e.path,
    });
  }
}

/** Every bundled dependency must be installed, or npm silently packs the tarball without it. */
function checkBundled(pkg: Manifest, bundled: string[], dir: string): void {
  const declared = pkg.bundleDependencies ?? pkg.bundledDependencies;
  const deps = pkg.dependencies !== null && typeof pkg.dependencies === 'object' ? pkg.dependencies : {};
  const names = Array.isArray(declared)
    ? declared.filter((n): n is string => typeof n === 'string')
    : declared === true
      ? Object.keys(deps)
      : [];
  const have = new Set(bundled);
  const missing = names.filter((n) => !have.has(n));
  if (missing.length > 0) {
    throw refuse(
      `bundledDependencies ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed in ${join(dir, 'node_modules')}: run npm install there first`,
      { missing },
    );
  }
}

/** `child`'s path relative to `parent` when it lies strictly inside it, else null. */
function insideOf(parent: string, child: string): string | null {
  const rel = relative(parent, child);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return rel.split(sep).join('/');
}

function refuseIfPacked(files: string[], outRel: string, out: string, future = false): void {
  const hit = files.find((f) => f.startsWith(`${outRel}/`));
  if (hit !== undefined) {
    const what = future ? `${hit} once written` : hit;
    throw usage(
      `--out ${out} is inside what the app packs (npm would pack ${what}): give a folder outside the app, or exclude it in .npmignore or "files"`,
    );
  }
}

/** The real path of `p`, resolving the part of it that exists (OUT may not exist yet). */
function realPathOfMaybeMissing(p: string): string {
  const rest: string[] = [];
  let cur = p;
  while (!existsSync(cur)) {
    const parent = dirname(cur);
    if (parent === cur) break;
    rest.unshift(basename(cur));
    cur = parent;
  }
  return join(realpathSync(cur), ...rest);
}

/**
 * Copies the packed files into `pkgDir` with package.json rewritten. Modes are normalised to
 * 0644, or 0755 for a file with any execute bit (what git keeps), so bytes do not depend on umask.
 */
function stagePackage(dir: string, files: string[], manifest: Manifest, pkgDir: string): void {
  for (const f of files) {
    const dest = join(pkgDir, f);
    mkdirSync(dirname(dest), { recursive: true });
    if (f === 'package.json') writeFileSync(dest, `${JSON.stringify(manifest, null, 2)}\n`);
    else copyFileSync(join(dir, f), dest);
    const exec = f !== 'package.json' && (statSync(join(dir, f)).mode & 0o111) !== 0;
    chmodSync(dest, exec ? 0o755 : 0o644);
  }
}

async function minisignSign(file: string, sigFile: string, key: string, comment: string): Promise<void> {
  // minisign reads an encrypted key's password from stdin (prompting on stderr): at a terminal
  // the person sees the prompt; in CI a password can be piped in.
  const prompt = Boolean(process.stdin.isTTY);
  try {
    await execa('minisign', ['-S', '-s', key, '-m', file, '-x', sigFile, '-t', comment], {
      stdin: 'inherit',
      stdout: 'ignore',
      stderr: prompt ? 'inherit' : 'pipe',
      timeout: MINISIGN_TIMEOUT_MS,
    });
  } catch (e) {
    const err = e as { code?: string; stderr?: string; shortMessage?: string };
    if (err.code === 'ENOENT') {
      throw refuse(
        '--sign needs the minisign tool, which is not installed: apt-get install minisign (or brew install minisign)',
      );
    }
    const last = (err.stderr ?? '')
      .split('\n')
      .map((l) => l.replace(/^(Password: )+/, '').trim())
      .filter((l) => l !== '')
      .pop();
    throw refuse(`minisign could not sign with ${key}: ${last ?? err.shortMessage ?? String(e)}`, { key });
  }
}

/** A file system error while writing OUT (disk full, permissions, read-only), naming OUT. */
function ioError(out: string, e: unknown): HephError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  return new HephError(
    'E_IO',
    `cannot write the release into ${out} (${code}): make it a folder you can write to, on a disk with free space`,
    { cause: e, details: { file: out, errno: code } },
  );
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
