// Real release artifacts for tests, built ONCE per source tree with the project's own
// `npm run release` and cached under os.tmpdir()/heph-artifacts-<hash of the sources>:
// good versions, a version whose daemon entry exits 1, a real minisign key pair (two, for
// rotation), plus helpers to publish tampered, unsafe or mis-listed variants into a test folder.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import type { ForgeClient, ReleaseAsset } from '../../src/forge/types.js';
import { extractRelease } from '../../src/install/extract.js';
import { ensureStore, swapCurrent } from '../../src/install/store.js';
import type { Paths } from '../../src/platform/paths.js';
import { pidAlive } from '../../src/platform/process.js';
import type { VersionedRelease } from '../../src/release/types.js';
import { ROOT } from './cli.js';

/** Versions built for every run: enough for upgrade, rollback and pruning (keep = 3) tests. */
export const GOOD_VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'] as const;
/**
 * A real build whose daemon exits 1 at start (`heph.mjs daemon run`, what the launcher runs, and
 * `hephd.mjs`); `--version` still passes, so it gets past the smoke test.
 */
export const BROKEN_VERSION = '1.4.0';
/** Folders and files whose content decides whether the cache is still valid. */
const HASHED = ['src', 'scripts', 'templates', 'package.json'];

export interface Artifacts {
  dir: string;
  /** The tarball of a version: `<dir>/<version>/heph-<version>.tgz`. */
  tarball(version: string): string;
  keys: { a: KeyPair; b: KeyPair };
}

export interface KeyPair {
  pub: string;
  sec: string;
  /** The base64 line of the public key, as written in install.public_keys. */
  line: string;
}

function hashTree(): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const n of readdirSync(p).sort()) walk(join(p, n));
    } else {
      h.update(relative(ROOT, p));
      h.update(readFileSync(p));
    }
  };
  for (const p of HASHED) if (existsSync(join(ROOT, p))) walk(join(ROOT, p));
  return h.digest('hex').slice(0, 16);
}

/** What `npm run release` runs, without npm's own start-up (~1 s of CPU a version on these machines). */
function npmRelease(version: string, out: string): void {
  execFileSync(process.execPath, ['scripts/release.mjs', '--version', version, '--out', out], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function makeKey(dir: string, name: string): KeyPair {
  const pub = join(dir, `${name}.pub`);
  const sec = join(dir, `${name}.key`);
  execFileSync('minisign', ['-G', '-W', '-f', '-p', pub, '-s', sec], { stdio: 'ignore' });
  return { pub, sec, line: readFileSync(pub, 'utf8').trim().split('\n')[1]!.trim() };
}

function keysOf(dir: string): Artifacts['keys'] {
  const load = (name: string): KeyPair => {
    const pub = join(dir, `${name}.pub`);
    return {
      pub,
      sec: join(dir, `${name}.key`),
      line: readFileSync(pub, 'utf8').trim().split('\n')[1]!.trim(),
    };
  };
  return { a: load('a'), b: load('b') };
}

/** Replaces one file inside a tarball (in place): new content, or a change of the old one. */
export async function replaceInTarball(
  tgz: string,
  entry: string,
  content: string | ((old: string) => string),
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'heph-repack-'));
  try {
    await tar.x({ file: tgz, cwd: work });
    const file = join(work, entry);
    writeFileSync(file, typeof content === 'string' ? content : content(readFileSync(file, 'utf8')));
    rmSync(tgz);
    await tar.c({ gzip: true, cwd: work, file: tgz, portable: true }, ['package']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The artifacts for this source tree, built on first use (any worker) and reused after. */
/**
 * A cache for another source tree is garbage once nobody has touched it for this long (a run in
 * another checkout may still be using a fresh one, so younger ones stay).
 */
const STALE_CACHE_MS = 3_600_000;

/** Removes caches of older source trees, and half-built ones whose builder is gone. */
function pruneCaches(keep: string): void {
  const now = Date.now();
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('heph-artifacts-') || join(tmpdir(), name) === keep) continue;
    const path = join(tmpdir(), name);
    const builder = /\.tmp-(\d+)$/.exec(name);
    try {
      const stale = builder ? !pidAlive(Number(builder[1])) : now - statSync(path).mtimeMs > STALE_CACHE_MS;
      if (stale) rmSync(path, { recursive: true, force: true });
    } catch {
      // another run removed it first
    }
  }
}

export async function getArtifacts(): Promise<Artifacts> {
  const dir = join(tmpdir(), `heph-artifacts-${hashTree()}`);
  pruneCaches(dir);
  if (!existsSync(join(dir, 'done'))) {
    // Built in a private folder then renamed: parallel workers never see half a cache.
    const work = `${dir}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    for (const v of [...GOOD_VERSIONS, BROKEN_VERSION]) npmRelease(v, join(work, v));
    const broken = join(work, BROKEN_VERSION, `heph-${BROKEN_VERSION}.tgz`);
    await replaceInTarball(broken, 'package/dist/hephd.mjs', 'process.exit(1);\n');
    await replaceInTarball(broken, 'package/dist/heph.mjs', (old) => {
      const [shebang, ...rest] = old.split('\n');
      return [
        shebang,
        "if (process.argv.slice(2).join(' ') === 'daemon run') process.exit(1);",
        ...rest,
      ].join('\n');
    });
    writeFileSync(
      join(work, BROKEN_VERSION, 'SHA256SUMS'),
      `${sha256(broken)}  heph-${BROKEN_VERSION}.tgz\n`,
    );
    makeKey(work, 'a');
    makeKey(work, 'b');
    writeFileSync(join(work, 'done'), 'ok\n');
    try {
      renameSync(work, dir);
    } catch {
      rmSync(work, { recursive: true, force: true }); // another worker won the race
    }
  }
  return { dir, tarball: (v) => join(dir, v, `heph-${v}.tgz`), keys: keysOf(dir) };
}

/** Signs `file` into `file.minisig` with the real minisign tool. */
export function minisignSign(
  file: string,
  key: KeyPair,
  opts: { legacy?: boolean; out?: string } = {},
): string {
  const out = opts.out ?? `${file}.minisig`;
  const args = ['-S', '-s', key.sec, '-m', file, '-x', out, '-t', 'heph test'];
  if (opts.legacy) args.push('-l');
  execFileSync('minisign', args, { stdio: 'ignore' });
  return out;
}

export interface PublishOptions {
  /** The tarball to publish as heph-<version>.tgz (default: the real one for the version). */
  tarball?: string;
  /** SHA256SUMS text; default: a correct line for the published tarball. */
  sums?: string;
  /** Sign SHA256SUMS with this key (writes SHA256SUMS.minisig). */
  sign?: KeyPair;
}

/**
 * Writes a release folder `<root>/v<version>/` (heph-<version>.tgz, SHA256SUMS, maybe .minisig),
 * the layout `heph release index` and the loopback forges serve. Returns the folder.
 */
export function publishRelease(
  root: string,
  version: string,
  art: Artifacts,
  opts: PublishOptions = {},
): string {
  const dir = join(root, `v${version}`);
  mkdirSync(dir, { recursive: true });
  const name = `heph-${version}.tgz`;
  cpSync(opts.tarball ?? art.tarball(version), join(dir, name));
  writeFileSync(join(dir, 'SHA256SUMS'), opts.sums ?? `${sha256(join(dir, name))}  ${name}\n`);
  if (opts.sign) minisignSign(join(dir, 'SHA256SUMS'), opts.sign);
  return dir;
}

export interface RawEntry {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev';
  linkpath?: string;
  body?: string;
}

const TYPEFLAG: Record<NonNullable<RawEntry['type']>, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  dir: '5',
  fifo: '6',
};

/**
 * A gzipped tar written byte by byte (ustar headers), so tests can make archives that node-tar
 * and GNU tar refuse to create: `../` paths, absolute paths, escaping links, fifos.
 */
export function rawTarball(file: string, entries: RawEntry[]): void {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    const put = (text: string, off: number, len: number) => h.write(text.slice(0, len), off, len, 'utf8');
    put(e.path, 0, 100);
    put('0000644\0', 100, 8);
    put('0000000\0', 108, 8);
    put('0000000\0', 116, 8);
    const size = e.type === undefined || e.type === 'file' ? body.length : 0;
    put(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
    put(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
      12,
    );
    put('        ', 148, 8);
    put(TYPEFLAG[e.type ?? 'file'], 156, 1);
    put(e.linkpath ?? '', 157, 100);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    let sum = 0;
    for (const b of h) sum += b;
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
    blocks.push(h);
    if (size > 0) {
      const padded = Buffer.alloc(Math.ceil(size / 512) * 512);
      body.copy(padded);
      blocks.push(padded);
    }
  }
  blocks.push(Buffer.alloc(1024));
  writeFileSync(file, gzipSync(Buffer.concat(blocks)));
}

export interface ReleaseServer {
  url: string;
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves the files under `root` over HTTP on 127.0.0.1 (port 0), as any forge's asset host would. */
export async function serveFolder(root: string): Promise<ReleaseServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The release `v<version>` folder under `root` as a VersionedRelease whose asset URLs point at `url`. */
export function releaseFromFolder(
  root: string,
  version: string,
  url: string,
  digests: Record<string, string> = {},
): VersionedRelease {
  const tag = `v${version}`;
  const assets: ReleaseAsset[] = readdirSync(join(root, tag)).map((name) => ({
    name,
    url: `${url}/${tag}/${name}`,
    size: statSync(join(root, tag, name)).size,
    sha256: digests[name] ?? null,
  }));
  return {
    tag,
    version,
    name: tag,
    notes: '',
    draft: false,
    prerelease: false,
    publishedAt: new Date(0).toISOString(),
    url: `${url}/${tag}`,
    assets,
  };
}

/**
 * A minimal HTTP ForgeClient for installer tests (download with size cap and SHA-256, small text
 * assets): the installer only needs these two calls, and it keeps these tests independent of
 * the forge clients, which have their own tests.
 */
export function assetClient(): ForgeClient {
  return {
    kind: 'static',
    repo: 'test/heph',
    listReleases: async () => ({ releases: [], fromCache: false, requests: 0, bodyBytes: 0 }),
    async downloadAsset(asset, dest, opts) {
      const res = await fetch(asset.url, { signal: opts.signal ?? null });
      if (!res.ok || !res.body) throw new Error(`GET ${asset.url}: ${res.status}`);
      const total = Number(res.headers.get('content-length')) || null;
      const hash = createHash('sha256');
      const out = createWriteStream(dest, { mode: 0o600 });
      let bytes = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        if (bytes > opts.maxBytes) {
          out.destroy();
          throw new Error('asset over the size cap');
        }
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        opts.onProgress?.(bytes, total);
      }
      await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
      return { bytes, sha256: hash.digest('hex') };
    },
    async fetchAssetText(asset, maxBytes) {
      const res = await fetch(asset.url);
      if (!res.ok) throw new Error(`GET ${asset.url}: ${res.status}`);
      const text = await res.text();
      if (text.length > maxBytes) throw new Error('text asset over the size cap');
      return text;
    },
  };
}

/** Puts a real release into a store as `current` (what `heph daemon install` would leave). */
export async function seedStore(paths: Paths, art: Artifacts, version: string): Promise<void> {
  ensureStore(paths);
  const dir = join(paths.store, version);
  mkdirSync(dir, { recursive: true });
  await extractRelease(art.tarball(version), dir);
  swapCurrent(paths, version);
}
