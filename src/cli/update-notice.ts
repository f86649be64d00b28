// The "update available" notice after a command, as update-notifier gives it: from the daemon's
// state.json only (no network call), to a person at a terminal only, never with --json, at most
// once a day, and not after commands that show the candidate themselves or remove the install.
import { join } from 'node:path';
import semver from 'semver';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import type { Paths } from '../platform/paths.js';

/** update-notifier's default interval between two notices. */
export const NOTICE_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Beside state.json: when the notice was last printed, so it is not printed again for a day. */
export const NOTICE_FILE = 'update-notice.json';

export interface NoticeSituation {
  argv: readonly string[];
  json: boolean;
  /** stderr is a terminal. */
  tty: boolean;
  /** A --system command: root's notices would be written into the service's state folder. */
  system: boolean;
  /** state.json's `candidate`, or undefined. */
  candidate: unknown;
  version: string;
  /** When the notice was last printed (ms), or null. */
  lastShownAt: number | null;
  now: number;
}

/** Commands whose own output says what is available, or that take the install away. */
function quietAfter(argv: readonly string[]): boolean {
  const [first, second] = argv;
  if (first === 'status' || first === 'update') return true;
  return first === 'daemon' && (second === 'run' || second === 'uninstall');
}

/** The candidate to announce now, or null: the whole policy, pure. */
export function noticeFor(s: NoticeSituation): string | null {
  if (s.json || !s.tty || s.system || quietAfter(s.argv)) return null;
  if (typeof s.candidate !== 'string' || !semver.valid(s.candidate) || !semver.valid(s.version)) return null;
  if (!semver.gt(s.candidate, s.version)) return null;
  if (s.lastShownAt !== null && s.now - s.lastShownAt < NOTICE_INTERVAL_MS && s.lastShownAt <= s.now)
    return null;
  return s.candidate;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(readTextIfExists(file) ?? 'null') as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Prints the notice when the policy says so, and remembers when. Never throws. */
export function updateNotice(
  opts: Omit<NoticeSituation, 'candidate' | 'lastShownAt'> & {
    paths: Pick<Paths, 'state' | 'stateFile'>;
    /** The app's name (`heph`, `acme`), for the notice's words. */
    name: string;
    write(text: string): void;
  },
): void {
  try {
    const state = readJson(opts.paths.stateFile);
    if (state === null) return;
    const file = join(opts.paths.state, NOTICE_FILE);
    const last = readJson(file)?.shownAt;
    const candidate = noticeFor({
      ...opts,
      candidate: state.candidate,
      lastShownAt: typeof last === 'number' ? last : null,
    });
    if (candidate === null) return;
    opts.write(`${opts.name}: update available: ${candidate} (run \`${opts.name} update apply\`)\n`);
    writeFileAtomic(file, `${JSON.stringify({ shownAt: opts.now, candidate })}\n`, 0o600);
  } catch {
    // a notice is never worth an error
  }
}
