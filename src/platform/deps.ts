// The effects heph's core uses, passed in as one object (STYLE.md #5): environment, paths,
// clock, logger. Tests build their own with a temp HEPH_HOME, a fake clock or a silent logger.
import type { Logger } from 'pino';
import { silentLogger } from './logger.js';
import { type Env, type Paths, resolvePaths } from './paths.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Deps {
  env: Env;
  paths: Paths;
  clock: Clock;
  logger: Logger;
}

export function createDeps(overrides: Partial<Deps> & { env?: Env } = {}): Deps {
  const env = overrides.env ?? process.env;
  return {
    env,
    paths: overrides.paths ?? resolvePaths(env),
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? silentLogger(),
  };
}
