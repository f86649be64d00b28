// The one error type heph throws on purpose, and the single table that maps its codes to exit
// codes. Only the entry point (main.ts) turns a HephError into a message, a hint and an exit code.

export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  notRunning: 3,
  candidate: 10,
  unavailable: 69,
  noPermission: 77,
  config: 78,
} as const;

export type ErrorCode =
  | 'E_CONFIG' // invalid configuration file, key or value
  | 'E_USAGE' // bad command line
  | 'E_FORGE_UNREACHABLE' // connect/DNS/timeout/5xx
  | 'E_FORGE_RATE_LIMITED' // 403/429 with a reset or Retry-After
  | 'E_FORGE_AUTH' // 401/403 credentials refused
  | 'E_FORGE_NOT_FOUND' // 404 repo or release
  | 'E_FORGE_PAYLOAD' // invalid JSON, missing field, oversized body
  | 'E_VERIFY' // checksum, digest or signature mismatch
  | 'E_UNSAFE_ARCHIVE' // tarball entry escapes or is special
  | 'E_SMOKE_TEST' // the new version does not start
  | 'E_PREFLIGHT' // store not writable, not enough disk
  | 'E_LOCKED' // another install holds the lock
  | 'E_NOT_OWNED' // heph was installed by something else
  | 'E_NOT_RUNNING' // the daemon is not running
  | 'E_DAEMON' // the daemon answered with an error
  | 'E_SERVICE' // service manager failure
  | 'E_NOT_FOUND' // a version or file that is not there
  | 'E_IO' // a file could not be written (disk full, permissions, read-only)
  | 'E_APP' // defineApp got a spec it cannot use (the embedding app's code, not its user's input)
  | 'E_PACK' // release pack: the app folder cannot make a release (package.json, entry, signing)
  | 'E_COMMAND' // an install tool (npm, install.command) failed; its own error lines say why
  | 'E_INTERNAL';

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  E_CONFIG: EXIT.config,
  E_USAGE: EXIT.usage,
  E_FORGE_UNREACHABLE: EXIT.unavailable,
  E_FORGE_RATE_LIMITED: EXIT.unavailable,
  E_FORGE_AUTH: EXIT.noPermission,
  E_FORGE_NOT_FOUND: EXIT.unavailable,
  E_FORGE_PAYLOAD: EXIT.unavailable,
  E_VERIFY: EXIT.error,
  E_UNSAFE_ARCHIVE: EXIT.error,
  E_SMOKE_TEST: EXIT.error,
  E_PREFLIGHT: EXIT.error,
  E_LOCKED: EXIT.error,
  E_NOT_OWNED: EXIT.error,
  E_NOT_RUNNING: EXIT.notRunning,
  E_DAEMON: EXIT.error,
  E_SERVICE: EXIT.error,
  E_NOT_FOUND: EXIT.error,
  E_IO: EXIT.error,
  E_APP: EXIT.error,
  E_PACK: EXIT.error,
  E_COMMAND: EXIT.error,
  E_INTERNAL: EXIT.error,
};

export interface HephErrorOptions {
  /** One sentence telling the user what to do next. */
  hint?: string;
  cause?: unknown;
  /** Machine-readable details (never secrets): key, file, status, retryAt, … */
  details?: Record<string, unknown>;
}

export class HephError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: HephErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HephError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? {};
  }

  get exitCode(): number {
    return EXIT_BY_CODE[this.code];
  }
}

export function isHephError(e: unknown, code?: ErrorCode): e is HephError {
  return e instanceof HephError && (code === undefined || e.code === code);
}

export function exitCodeFor(e: unknown): number {
  return e instanceof HephError ? e.exitCode : EXIT.error;
}

/** A short, single-line description of any thrown value (for logs and audit `error` fields). */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.name;
  return String(e);
}
