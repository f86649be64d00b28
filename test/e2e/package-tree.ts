// A heph package on disk as npm would lay it out (package.json, dist/, templates/), made from the
// suite's bundle: `daemon install` copies the *running* package, so it needs one to run from.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, ROOT } from '../helpers/cli.js';

export interface PackageTree {
  root: string;
  heph: string;
}

/** Copies the test bundle and the templates into a fresh folder that looks like an install. */
export function packageTree(version = '0.1.0', parent = tmpdir()): PackageTree {
  const root = mkdtempSync(join(parent, 'heph-pkg-'));
  writeFileSync(
    join(root, 'package.json'),
    `${JSON.stringify({ name: 'heph', version, type: 'module' }, null, 2)}\n`,
  );
  cpSync(DIST, join(root, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'templates'), join(root, 'templates'), { recursive: true });
  return { root, heph: join(root, 'dist', 'heph.mjs') };
}
