// Builds dist/ once before the suite, so black-box tests run the real bundle.
import { build } from '../../scripts/build.mjs';
import { DIST } from './cli.js';

export default async function setup(): Promise<void> {
  await build({ quiet: true, outdir: DIST });
}
