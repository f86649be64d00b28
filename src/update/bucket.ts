// This machine's place in a staged rollout: a number in [0, 1) that stays the same across
// restarts and reinstalls, derived from a machine id (read here: selection in release/ stays pure).
import { createHmac, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AppNames, envName, HEPH_NAMES } from '../app/identity.js';
import type { Env, Paths } from '../platform/paths.js';

/** systemd's (and dbus's) per-machine id; missing on macOS and in many containers. */
export const SYSTEM_MACHINE_ID_FILE = '/etc/machine-id';

/**
 * The key for hashing the machine id. machine-id(5) asks applications not to use the id itself
 * but a keyed hash with an application-specific key, so the bucket reveals nothing about the id.
 */
const BUCKET_KEY = 'heph rollout bucket v1';

/** 48 bits of the hash: exactly representable in a double, and far finer than any window. */
const BUCKET_BITS = 48;

/** The bucket for an id: the keyed SHA-256 of the id, read as a fraction in [0, 1). Pure. */
export function bucketOf(id: string): number {
  const digest = createHmac('sha256', BUCKET_KEY).update(id.trim()).digest();
  return digest.readUIntBE(0, BUCKET_BITS / 8) / 2 ** BUCKET_BITS;
}

function readId(file: string): string | null {
  try {
    const id = readFileSync(file, 'utf8').trim();
    return id === '' ? null : id;
  } catch {
    return null;
  }
}

/**
 * heph's own id, made once: a random 128-bit hex string in `<state>/machine-id` (0600). It is
 * written to a temp file and hard-linked into place, so two processes starting together agree
 * on one id (link fails with EEXIST for the loser, who then reads the winner's).
 */
export function storedMachineId(paths: Paths): string {
  const file = join(paths.state, 'machine-id');
  const existing = readId(file);
  if (existing !== null) return existing;
  mkdirSync(paths.state, { recursive: true });
  const id = randomBytes(16).toString('hex');
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${id}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const winner = readId(file);
    if (winner === null) throw e;
    return winner;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface BucketOptions {
  /** Where the system machine id lives; tests point this at a temp file or a missing path. */
  machineIdFile?: string;
}

/**
 * This machine's rollout bucket. `HEPH_MACHINE_ID` wins (tests, and fleets that want to choose
 * who goes first); then /etc/machine-id; then an id heph stores for itself.
 */
export function machineBucket(
  paths: Paths,
  env: Env = process.env,
  app: AppNames = HEPH_NAMES,
  opts: BucketOptions = {},
): number {
  const fromEnv = env[envName(app, 'MACHINE_ID')]?.trim();
  if (fromEnv) return bucketOf(fromEnv);
  const system = readId(opts.machineIdFile ?? SYSTEM_MACHINE_ID_FILE);
  return bucketOf(system ?? storedMachineId(paths));
}
