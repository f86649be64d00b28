// The steps of a bundle install, and the hooks a caller may pass in to observe them. Tests use
// the hooks to SIGKILL an installer at each step (test/integration/install-faults.test.ts) or to
// pretend the disk is full; production passes none. Nothing here reads the environment.

/**
 * The steps of a bundle install, in order:
 * - download: mid-download, after the first bytes reached the partial file
 * - verify: checksums and signature verified, before extraction
 * - extract: extracted into the temp folder, before the smoke test
 * - smoke: smoke test passed, before the rename into versions/<version>
 * - rename: renamed into place, before the links change
 * - swap: `previous` updated and the new `current` link made under its temp name, not yet renamed
 */
export const INSTALL_STEPS = ['download', 'verify', 'extract', 'smoke', 'rename', 'swap'] as const;
export type InstallStep = (typeof INSTALL_STEPS)[number];

export interface InstallHooks {
  /** Called as each step completes (synchronously: a hook that kills the process stops it there). */
  onStep?(step: InstallStep): void;
  /** Free bytes on the store's filesystem (default: statfs). */
  freeBytes?(dir: string): number;
}
