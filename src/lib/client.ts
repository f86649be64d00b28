// The typed client of an app's control socket (docs/api.md "Clients"): what `acme status` and
// `acme update …` use, for an app's own tools. Every call rides out a restart of the daemon
// (src/control/grace.ts); errors are HephErrors with stable codes (E_NOT_RUNNING, E_DAEMON).
import { callDaemon } from '../control/client.js';
import type { StatusDocument } from '../control/types.js';
import { unitStarting } from '../control/unit-state.js';
import { HephError } from '../errors.js';
import { type Env, type Paths, resolvePaths } from '../platform/paths.js';
import { serviceNames } from '../app/service-names.js';
import { APP_NAME, type AppNames, appNames, renameForApp } from '../app/identity.js';

export interface ControlClient {
  /** Where the app's files are for this environment (the socket, the stop marker, …). */
  readonly paths: Paths;
  /** GET /v1/status: the `status --json` document. */
  status(): Promise<StatusDocument>;
  /** GET /v1/health: `{ ok, reason? }` (503 is an answer here, not an error). */
  health(): Promise<{ ok: boolean; reason?: string }>;
  /** POST /v1/update/check: the `update check --json` document. */
  check(): Promise<Record<string, unknown>>;
  /** POST /v1/update/pause, for a duration such as "2h" or until resumed. */
  pause(forDuration?: string): Promise<Record<string, unknown>>;
  /** POST /v1/update/resume: lifts every guard block. */
  resume(): Promise<Record<string, unknown>>;
  /** POST /v1/update/apply: restart into `installed`, a version already made current. */
  apply(installed: string): Promise<Record<string, unknown>>;
}

export interface ClientOptions {
  /** The environment to resolve the app's folders from (default: process.env). */
  env?: Env;
  /** Per request (default 120 s: a check may take as long as the forge). */
  timeoutMs?: number;
}

/** A client of the control socket of the app named `app` (its name, or its names). */
export function controlClient(app: string | AppNames, opts: ClientOptions = {}): ControlClient {
  const name = typeof app === 'string' ? app : app?.name;
  if (typeof name !== 'string' || !APP_NAME.test(name)) {
    throw new HephError('E_APP', `controlClient: app: ${JSON.stringify(name)} is not a valid app name`, {
      hint: 'pass the app\'s name as given to defineApp (e.g. "acme"), or app.identity',
      details: { field: 'app' },
    });
  }
  const names = typeof app === 'string' ? appNames(app) : app;
  const env = opts.env ?? process.env;
  const paths = resolvePaths(env, names);
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    try {
      return await callDaemon(paths, method, path, body, {
        timeoutMs: opts.timeoutMs,
        // The second sign of a restart, as for `acme status`: the service manager starts the unit.
        restartPlausible: () => unitStarting(serviceNames(names), env),
      });
    } catch (e) {
      throw inAppNames(e, names);
    }
  };
  return {
    paths,
    status: async () => (await call('GET', '/v1/status')) as StatusDocument,
    health: async () => (await call('GET', '/v1/health')) as { ok: boolean; reason?: string },
    check: async () => (await call('POST', '/v1/update/check', {})) as Record<string, unknown>,
    pause: async (forDuration) =>
      (await call(
        'POST',
        '/v1/update/pause',
        forDuration === undefined ? {} : { for: forDuration },
      )) as Record<string, unknown>,
    resume: async () => (await call('POST', '/v1/update/resume', {})) as Record<string, unknown>,
    apply: async (installed) =>
      (await call('POST', '/v1/update/apply', { installed })) as Record<string, unknown>,
  };
}

/** The control client's errors are written in heph's names (`hephd`, `heph daemon start`): the app's. */
function inAppNames(e: unknown, names: AppNames): unknown {
  if (!(e instanceof HephError) || names.name === 'heph') return e;
  return new HephError(e.code, renameForApp(e.message, names), {
    ...(e.hint !== undefined ? { hint: renameForApp(e.hint, names) } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
    details: e.details,
  });
}
