// FOR TESTS ONLY: fault injection for the kill -9 tests (test/integration/install-faults.test.ts).
// With HEPH_FAULT_KILL_AT=<step> in the environment the installer SIGKILLs itself at that step,
// so a test can prove the store survives a crash anywhere. Unset in real use: it does nothing.

export const FAULT_ENV = 'HEPH_FAULT_KILL_AT';

/**
 * The steps of a bundle install, in order:
 * - download: mid-download, after the first bytes reached the partial file
 * - verify: checksums and signature verified, before extraction
 * - extract: extracted into the temp folder, before the smoke test
 * - smoke: smoke test passed, before the rename into versions/<version>
 * - rename: renamed into place, before the links change
 * - swap: `previous` updated and the new `current` link made under its temp name, not yet renamed
 */
export const FAULT_STEPS = ['download', 'verify', 'extract', 'smoke', 'rename', 'swap'] as const;
export type FaultStep = (typeof FAULT_STEPS)[number];

export function faultPoint(env: Readonly<Record<string, string | undefined>>, step: FaultStep): void {
  if (env[FAULT_ENV] === step) process.kill(process.pid, 'SIGKILL');
}
