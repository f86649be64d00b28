// Renders templates/launcher.mjs into `paths.launcher` with the store and state folders baked in
// as explicit JSON values (no environment lookups at start: the unit's environment may differ).
import { HephError } from '../errors.js';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import { type AppIdentity, envName, HEPH_APP } from '../app/identity.js';
import type { Paths } from '../platform/paths.js';
import { MAX_STATE_FILE_BYTES, SET_ASIDE_MARK } from '../platform/state-file.js';
import { launcherStateFile } from './launcher-state.js';
import { templateText } from '../platform/templates.js';

const PLACEHOLDER = 'const BAKED = __HEPH_BAKED__;';

/**
 * The launcher's source for these paths. Values go in through JSON.stringify, which escapes
 * quotes, backslashes and control characters, so any folder name yields valid JavaScript.
 */
export function renderLauncher(
  paths: Paths,
  app: AppIdentity = HEPH_APP,
  template: string = templateText('launcher.mjs'),
): string {
  if (!template.includes(PLACEHOLDER)) {
    throw new HephError('E_INTERNAL', `the launcher template has no ${PLACEHOLDER} placeholder`);
  }
  const baked = {
    name: app.name,
    daemon: app.daemon,
    entry: app.entry,
    launchedVar: envName(app, 'LAUNCHED_VERSION'),
    store: paths.store,
    state: paths.state,
    auditFile: paths.auditFile,
    launcherState: launcherStateFile(paths),
    renderedBy: app.version,
    required: paths.versionFiles,
    maxStateBytes: MAX_STATE_FILE_BYTES,
    setAsideMark: SET_ASIDE_MARK,
  };
  return template.replace(PLACEHOLDER, () => `const BAKED = ${JSON.stringify(baked, null, 2)};`);
}

/** Writes the launcher (0755) atomically; unchanged content is left alone. */
export function writeLauncher(paths: Paths, app: AppIdentity = HEPH_APP): { file: string; changed: boolean } {
  const text = renderLauncher(paths, app);
  const file = paths.launcher;
  if (readTextIfExists(file) === text) return { file, changed: false };
  writeFileAtomic(file, text, 0o755);
  return { file, changed: true };
}
