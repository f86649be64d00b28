// Which files of an app folder go into its release: exactly the ones `npm pack` would pack, asked
// of the real npm (`npm pack --dry-run --json`), so `files`, every .npmignore, .gitignore, the
// always-included package.json/README/LICENSE and bundledDependencies mean what they mean to npm.
// Why not our own rules: docs/architecture.md ("release pack").
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { HephError } from '../errors.js';

/** npm reads the folder and prints a list; a minute covers a cold npm on a slow, shared disk. */
const NPM_PACK_TIMEOUT_MS = 60_000;

/** The part of `npm pack --dry-run --json`'s one-element array that release pack reads. */
const dryRunSchema = z
  .array(
    z.object({
      files: z.array(z.object({ path: z.string() })),
      bundled: z.array(z.string()).default([]),
    }),
  )
  .length(1);

export interface PackedFiles {
  /** Paths relative to the folder, with `/` separators, sorted by code point. */
  files: string[];
  /** The bundled dependencies npm found installed (and packed) in the folder's node_modules. */
  bundled: string[];
}

/**
 * The files `npm pack` would put in the tarball of `dir`. Scripts are not run (`prepack` and
 * `prepare` could change the folder, and release pack never changes it): build first.
 */
export async function npmPackFiles(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<PackedFiles> {
  // --loglevel: `npm run --silent` passes npm_config_loglevel=silent down, which hides the list.
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'];
  let stdout: string;
  try {
    const r = await execa('npm', args, { cwd: dir, env, timeout: NPM_PACK_TIMEOUT_MS, stdin: 'ignore' });
    stdout = r.stdout;
  } catch (e) {
    const err = e as { code?: string; stderr?: string; shortMessage?: string };
    const why =
      err.code === 'ENOENT'
        ? 'npm is not installed (release pack asks npm which files to pack): install Node.js with npm'
        : `npm pack --dry-run failed in ${dir}: ${firstErrorLine(err.stderr) ?? err.shortMessage ?? String(e)}`;
    throw new HephError('E_PACK', why, { cause: e, details: { dir } });
  }
  let parsed: z.infer<typeof dryRunSchema>;
  try {
    parsed = dryRunSchema.parse(JSON.parse(stdout));
  } catch (e) {
    throw new HephError('E_PACK', `npm pack --dry-run --json printed something unexpected in ${dir}`, {
      cause: e,
      details: { dir },
    });
  }
  const first = parsed[0]!;
  const files = first.files.map((f) => f.path.replace(/\\/g, '/')).sort(byCodePoint);
  return { files, bundled: first.bundled };
}

/**
 * Which of `paths` (files that do not exist yet, relative to `dir`) npm would pack, asked without
 * writing anything into `dir`: npm runs on a shadow folder holding only what decides it (the
 * package.json and the .npmignore/.gitignore files of every folder on the way) and the paths.
 */
export async function npmWouldPack(
  dir: string,
  paths: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const shadow = mkdtempSync(join(tmpdir(), 'heph-pack-shadow-'));
  try {
    copyFileSync(join(dir, 'package.json'), join(shadow, 'package.json'));
    const folders = new Set<string>(['']);
    for (const p of paths) {
      const parts = p.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) folders.add(parts.slice(0, i).join('/'));
    }
    for (const f of folders) {
      mkdirSync(join(shadow, f), { recursive: true });
      for (const ignore of ['.npmignore', '.gitignore']) {
        if (existsSync(join(dir, f, ignore))) copyFileSync(join(dir, f, ignore), join(shadow, f, ignore));
      }
    }
    for (const p of paths) {
      mkdirSync(dirname(join(shadow, p)), { recursive: true });
      writeFileSync(join(shadow, p), '');
    }
    const listed = new Set((await npmPackFiles(shadow, env)).files);
    return paths.filter((p) => listed.has(p));
  } finally {
    rmSync(shadow, { recursive: true, force: true });
  }
}

/** npm's own message without its `npm error` prefixes (it prints several lines; the first says it). */
function firstErrorLine(stderr: string | undefined): string | undefined {
  for (const line of (stderr ?? '').split('\n')) {
    const text = line.replace(/^npm (error|ERR!)\s*/, '').trim();
    if (text !== '' && !/^(code|errno|syscall|path)\b/.test(text) && !text.startsWith('A complete log'))
      return text;
  }
  return undefined;
}

/** Locale-free order: the same tarball bytes on every machine. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
