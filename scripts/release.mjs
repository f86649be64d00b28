#!/usr/bin/env node
// `npm run release -- --version X --out DIR [--sign KEYFILE]`: heph's own use of `heph release
// pack` (docs/releasing.md). It builds heph for version X in a temp folder (the working tree is
// never touched), lays out the package there (package.json with that version and no
// dependencies, since the bundle is self-contained; dist/…; templates/…), then packs that folder
// with the heph it just built: `release pack` writes DIR/heph-X.tgz, adds or replaces its line in
// DIR/SHA256SUMS and, with --sign, writes DIR/SHA256SUMS.minisig with the real `minisign` tool.
// One packing implementation (src/publish/pack.ts), and every release is packed by itself.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import semver from 'semver';
import { build } from './build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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

/** Thrown when `heph release pack` refused: it has already said why on stderr. */
class PackFailed extends Error {
  constructor(code) {
    super(`heph release pack exited ${code}`);
    this.exitCode = code;
  }
}

export async function release({ version, out, sign, trustedComment, quiet = true }) {
  // Checked before the build, which takes seconds; release pack checks it again (isExactVersion).
  const parsed = semver.parse(version);
  if (
    parsed === null ||
    `${parsed.version}${parsed.build.length ? `+${parsed.build.join('.')}` : ''}` !== version
  )
    throw new Error(`"${version}" cannot be a version (exact semver: 1.2.3, 2.0.0-rc.1)`);
  const work = mkdtempSync(join(tmpdir(), 'heph-release-'));
  try {
    const pkgDir = join(work, 'package');
    await build({ version, outdir: join(pkgDir, 'dist'), quiet });
    cpSync(join(root, 'templates'), join(pkgDir, 'templates'), { recursive: true });
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    pkg.version = version;
    for (const f of DROPPED_FIELDS) delete pkg[f];
    writeFileSync(join(pkgDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

    const args = [join(pkgDir, 'dist', 'heph.mjs'), 'release', 'pack', pkgDir];
    args.push('--version', version, '--out', resolve(out), '--json');
    if (sign) args.push('--sign', resolve(sign));
    if (trustedComment) args.push('--trusted-comment', trustedComment);
    // stdin and stderr stay the terminal's: minisign asks there for an encrypted key's password.
    const r = spawnSync(process.execPath, args, { stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8' });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new PackFailed(r.status ?? 1);
    const packed = JSON.parse(r.stdout);
    if (packed.removedSignature)
      process.stderr.write(`release: removed ${packed.removedSignature}: it signed the old SHA256SUMS\n`);
    return { tarball: packed.tarball, sums: packed.sums, sha256: packed.sha256, signature: packed.signature };
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
    if (!(e instanceof PackFailed)) process.stderr.write(`release: ${e.message}\n`);
    process.exit(e instanceof PackFailed ? e.exitCode : 1);
  }
}
