// Which files of an app folder go into its release: exactly the ones `npm pack` would pack, asked
// of the real npm (`npm pack --dry-run --json`), so `files`, every .npmignore, .gitignore, the
// always-included package.json/README/LICENSE and bundledDependencies mean what they mean to npm.
// Why not our own rules: docs/architecture.md ("release pack").
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
