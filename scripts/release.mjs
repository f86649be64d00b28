#!/usr/bin/env node
// `npm run release -- --version X --out DIR [--sign KEYFILE]`: builds heph for version X in a temp
// folder (the working tree is never touched), packs it in npm-pack layout and records its SHA-256.
//
// Writes DIR/heph-X.tgz (package/package.json with that version and no dependencies, since the
// bundle is self-contained; package/dist/…; package/templates/…), adds or replaces its line in
// DIR/SHA256SUMS (sha256sum format) and, with --sign, writes DIR/SHA256SUMS.minisig by running the
// real `minisign` tool, the one release managers already use (docs/releasing.md).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tar from 'tar';
import { build } from './build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** npm pack stamps every entry with this date so that the same inputs give the same bytes. */
const FIXED_MTIME = new Date('1985-10-26T08:15:00Z');
/** A version becomes a file name and a store folder name: no separators, no spaces, no dotfiles. */
const SAFE_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;
/** package.json fields a self-contained bundle does not need (and must not make npm install). */
const DROPPED_FIELDS = ['dependencies', 'devDependencies', 'scripts', 'optionalDependencies'];

function usage(message) {
  process.stderr.write(
    `release: ${message}\nusage: npm run release -- --version X.Y.Z --out DIR [--sign MINISIGN_SECRET_KEY]\n`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--version') opts.version = value();
    else if (flag === '--out') opts.out = value();
    else if (flag === '--sign') opts.sign = value();
    else if (flag === '--trusted-comment') opts.trustedComment = value();
    else usage(`unknown argument ${a}`);
  }
  if (!opts.version) usage('--version is required');
  if (!opts.out) usage('--out is required');
  return opts;
}

function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Adds or replaces `name`'s line, keeping the other files' lines (several assets, one SHA256SUMS). */
export function updateSums(text, name, hex) {
  const lines = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => {
      const m = /^[0-9a-fA-F]{64} [ *](.+)$/.exec(l);
      return !m || m[1] !== name;
    });
  lines.push(`${hex}  ${name}`);
  return `${lines.join('\n')}\n`;
}

/** Signs `file` into `file.minisig` with the minisign tool (prompts only for an encrypted key). */
function sign(file, key, trustedComment) {
  const args = ['-S', '-s', key, '-m', file, '-x', `${file}.minisig`];
  if (trustedComment) args.push('-t', trustedComment);
  const r = spawnSync('minisign', args, { stdio: ['inherit', 'pipe', 'inherit'] });
  if (r.error)
    throw new Error(`could not run minisign (${r.error.message}); install it (apt-get install minisign)`);
  if (r.status !== 0) throw new Error(`minisign exited ${r.status}`);
}

export async function release({ version, out, sign: key, trustedComment, quiet = true }) {
  if (!SAFE_VERSION.test(version))
    throw new Error(`"${version}" cannot be a version (letters, digits, . + _ -)`);
  const outDir = resolve(out);
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'heph-release-'));
  try {
    const pkgDir = join(work, 'package');
    await build({ version, outdir: join(pkgDir, 'dist'), quiet });
    cpSync(join(root, 'templates'), join(pkgDir, 'templates'), { recursive: true });
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    pkg.version = version;
    for (const f of DROPPED_FIELDS) delete pkg[f];
    writeFileSync(join(pkgDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

    const name = `heph-${version}.tgz`;
    const tmpTgz = join(work, name);
    await tar.c({ gzip: true, cwd: work, file: tmpTgz, portable: true, mtime: FIXED_MTIME }, ['package']);
    // Rename within DIR so a reader of DIR never sees half a tarball.
    const dest = join(outDir, name);
    const partial = join(outDir, `.${name}.partial`);
    cpSync(tmpTgz, partial);
    renameSync(partial, dest);

    const sums = join(outDir, 'SHA256SUMS');
    let previous = '';
    try {
      previous = readFileSync(sums, 'utf8');
    } catch {
      // first asset in this folder
    }
    const hex = sha256File(dest);
    writeFileSync(sums, updateSums(previous, name, hex));
    if (key) sign(sums, key, trustedComment ?? `heph ${version} SHA256SUMS`);
    return { tarball: dest, sums, sha256: hex, signature: key ? `${sums}.minisig` : null };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = parseArgs(process.argv.slice(2));
  try {
    const r = await release(opts);
    process.stdout.write(`${r.tarball}\n${r.sums}\n${r.signature ? `${r.signature}\n` : ''}`);
  } catch (e) {
    process.stderr.write(`release: ${e.message}\n`);
    process.exit(1);
  }
}
