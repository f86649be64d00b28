// Live reload (SIGHUP, `systemctl reload`, POST /v1/config/reload): which keys a new config
// changes, and one reload at a time. docs/operations.md "Live reload".
import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config/schema.js';
import { KNOWN_KEYS } from '../config/schema.js';

/**
 * The `section.key`s whose values differ between two validated configs, in KNOWN_KEYS order, then
 * `app` when an embedding app's own [app] table differs (it is compared as a whole).
 */
export function changedKeys(before: Config, after: Config): string[] {
  const value = (c: Config, key: string) => {
    const [section, name] = key.split('.') as [keyof Config, string];
    return JSON.stringify((c[section] as Record<string, unknown> | undefined)?.[name] ?? null);
  };
  const keys = KNOWN_KEYS.filter((k) => value(before, k) !== value(after, k));
  if (!sameAppTable(before.app, after.app)) keys.push('app');
  return keys;
}

/** Whether two [app] tables hold the same values (key order aside). */
export function sameAppTable(a: Config['app'], b: Config['app']): boolean {
  return isDeepStrictEqual(a ?? {}, b ?? {});
}

/** Runs `fn` after every earlier call has settled: two SIGHUPs in a row reload twice, in order. */
export function serialize<A extends unknown[], T>(
  fn: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (...args: A) => {
    const run = tail.then(
      () => fn(...args),
      () => fn(...args),
    );
    tail = run.catch(() => {});
    return run;
  };
}
