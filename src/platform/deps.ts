// The effects the engine uses, passed in as one object: the app it runs for, environment,
// paths, clock, logger. Tests build their own with a temp HEPH_HOME, a fake clock or a silent logger.
import type { Logger } from 'pino';
import { type AppIdentity, HEPH_APP } from '../app/identity.js';
import { silentLogger } from './logger.js';
import { type Env, type Paths, resolvePaths } from './paths.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Deps {
  /** The app running: heph, or an app built with defineApp (its names and running version). */
  app: AppIdentity;
  env: Env;
  paths: Paths;
  clock: Clock;
  logger: Logger;
}

export function createDeps(overrides: Partial<Deps> & { env?: Env } = {}): Deps {
  const env = overrides.env ?? process.env;
  const app = overrides.app ?? HEPH_APP;
  return {
    app,
    env,
    paths: overrides.paths ?? resolvePaths(env, app),
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? silentLogger(),
  };
}
