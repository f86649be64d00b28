// The fields docs/cli.md promises in `heph status --json` (and GET /v1/status), in one place, so every
// test that checks the document checks the same contract.
import { expect } from 'vitest';

export const STATUS_FIELDS = [
  'running',
  'version',
  'pid',
  'startedAt',
  'supervisor',
  'mode',
  'update',
  'guard',
];
export const STATUS_UPDATE_FIELDS = [
  'lastCheckAt',
  'lastResult',
  'lastError',
  'latest',
  'candidate',
  'nextCheckAt',
  'consecutiveFailures',
];
export const STATUS_GUARD_FIELDS = [
  'paused',
  'pausedUntil',
  'cooldownUntil',
  'restartsInWindow',
  'circuit',
  'recommendedAction',
];

/** Asserts that a running daemon's status document has every field docs/cli.md names. */
export function expectSpecStatus(doc: unknown): void {
  const d = doc as { update: unknown; guard: unknown };
  expect(Object.keys(d)).toEqual(expect.arrayContaining(STATUS_FIELDS));
  expect(Object.keys(d.update as object)).toEqual(expect.arrayContaining(STATUS_UPDATE_FIELDS));
  expect(Object.keys(d.guard as object)).toEqual(expect.arrayContaining(STATUS_GUARD_FIELDS));
}
