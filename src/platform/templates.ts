// The files in templates/ (service units, plists, the launcher) as text. A build bakes them into
// the bundle (scripts/build.mjs defines __HEPH_TEMPLATES__), so heph's own bundle and an app that
// bundles the library carry them inside; run from source (tests), they are read from templates/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HephError } from '../errors.js';

declare const __HEPH_TEMPLATES__: Record<string, string> | undefined;

/** src/platform/ → the repository root, where templates/ lives when running from source. */
const SOURCE_TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

export function templateText(name: string): string {
  if (typeof __HEPH_TEMPLATES__ === 'object') {
    const text = __HEPH_TEMPLATES__[name];
    if (text !== undefined) return text;
  } else {
    const file = join(SOURCE_TEMPLATES, name);
    if (existsSync(file)) return readFileSync(file, 'utf8');
  }
  throw new HephError('E_NOT_FOUND', `the template templates/${name} is missing from this build`, {
    hint: 'rebuild with `npm run build`, which bakes templates/ into the bundle',
  });
}
