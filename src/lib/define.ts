// defineApp: the engine as a library. One call turns an app's name, version, entry and forge into
// a self-updating daemon with heph's whole command line under the app's own name; heph itself is
// built with it (src/main.ts). Contract: docs/api.md; guide: docs/embedding.md.
import type { Socket } from 'node:net';
import type { Command } from 'commander';
import { HephError } from '../errors.js';
import { type Env, type Paths, resolvePaths } from '../platform/paths.js';
import type { ClientOptions, ControlClient } from './client.js';
import { APP_NAME, type AppIdentity, appNames } from '../app/identity.js';
import type { ServeFn } from '../app/serve.js';

/** The forge kinds a spec may name (the config's forge.kind). */
const FORGE_KINDS = ['github', 'gitea', 'forgejo', 'gitlab', 'static'] as const;
export type AppForgeKind = (typeof FORGE_KINDS)[number];

/** semver 2.0's own grammar (semver.org), so validating a spec loads no library at start. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export interface AppForge {
  kind?: AppForgeKind;
  /** OWNER/NAME (GitLab: the project path). */
  repo?: string;
  /** API base, instance URL, or the static index. */
  url?: string;
  tag_prefix?: string;
}

export interface AppSpec<AppConfig = Record<string, unknown>> {
  /** `acme`: /^[a-z][a-z0-9-]{0,30}$/; names every file, unit, socket and variable. */
  name: string;
  /** The running version (semver), usually your package.json's. */
  version: string;
  /** The program inside the release package, relative (`dist/acme.mjs`); the launcher runs it. */
  entry: string;
  /** Defaults for the config's [forge] table; the config file wins. */
  forge?: AppForge;
  /** One line for `--help`. */
  description?: string;
  /** Reverse-DNS prefix of the launchd label: `com.example` gives `com.example.acmed`. */
  launchdPrefix?: string;
  /** The app's work inside the daemon (`acme daemon run`). */
  serve?: ServeFn<AppConfig>;
  /** Adds your own commander commands beside heph's. */
  commands?: (program: Command) => void;
}

export interface App {
  readonly name: string;
  readonly version: string;
  /** Every name that follows from `name`, with the version and entry. */
  readonly identity: AppIdentity;
  /** Runs the app's command line (`acme status`, `acme daemon run`, …); sets process.exitCode. */
  main(argv?: readonly string[]): Promise<number>;
  /** The app's files for an environment (default process.env): config, store, socket, … */
  paths(env?: Env): Paths;
  /** A typed client of the app's control socket that rides out restarts. */
  client(opts?: ClientOptions): Promise<ControlClient>;
  /** Connects to one of the app's own unix sockets, riding out the daemon's restart. */
  connect(socketPath: string, opts?: { env?: Env }): Promise<Socket>;
}

function invalid(field: string, message: string, hint: string): HephError {
  return new HephError('E_APP', `defineApp: ${field}: ${message}`, { hint, details: { field } });
}

/** A relative path that stays inside the package: no `..`, not absolute, no backslashes. */
function entryProblem(entry: string): string | null {
  if (entry === '') return 'is empty';
  if (entry.startsWith('/') || /^[A-Za-z]:/.test(entry)) return `"${entry}" is absolute`;
  if (entry.includes('\\')) return `"${entry}" has a backslash`;
  const parts = entry.split('/');
  if (parts.some((p) => p === '..')) return `"${entry}" leaves the package`;
  if (parts.some((p) => p === '' || p === '.')) return `"${entry}" is not a plain relative path`;
  if (!/\.(mjs|cjs|js)$/.test(entry)) return `"${entry}" is not a .js, .mjs or .cjs file`;
  return null;
}

/** Checks a spec and says which field is wrong; returns the identity it describes. */
export function appIdentity(spec: AppSpec<never>): AppIdentity {
  if (spec === null || typeof spec !== 'object') {
    throw invalid('spec', 'expected an object', 'call defineApp({ name, version, entry })');
  }
  if (typeof spec.name !== 'string' || !APP_NAME.test(spec.name)) {
    throw invalid(
      'name',
      `${JSON.stringify(spec.name)} is not a valid app name`,
      'use lower-case letters, digits and dashes, starting with a letter, at most 31 characters (e.g. "acme")',
    );
  }
  if (typeof spec.version !== 'string' || !SEMVER.test(spec.version)) {
    throw invalid(
      'version',
      `${JSON.stringify(spec.version)} is not a semver version`,
      'pass your package.json version, e.g. "1.2.3"',
    );
  }
  const where = typeof spec.entry === 'string' ? entryProblem(spec.entry) : 'is not a string';
  if (where !== null) {
    throw invalid('entry', where, 'name the program inside your release package, e.g. "dist/acme.mjs"');
  }
  const forge = spec.forge ?? {};
  if (typeof forge !== 'object' || forge === null) {
    throw invalid('forge', 'expected an object', 'e.g. { kind: "github", repo: "acme/acme" }');
  }
  if (forge.kind !== undefined && !FORGE_KINDS.includes(forge.kind)) {
    throw invalid(
      'forge.kind',
      `${JSON.stringify(forge.kind)} is not a forge kind`,
      `use one of ${FORGE_KINDS.join(', ')}`,
    );
  }
  for (const key of ['repo', 'url', 'tag_prefix'] as const) {
    if (forge[key] !== undefined && typeof forge[key] !== 'string') {
      throw invalid(`forge.${key}`, 'expected a string', 'or leave it out');
    }
  }
  if (spec.serve !== undefined && typeof spec.serve !== 'function') {
    throw invalid('serve', 'expected a function', 'serve(ctx) runs your work inside the daemon');
  }
  if (spec.commands !== undefined && typeof spec.commands !== 'function') {
    throw invalid('commands', 'expected a function', 'commands(program) adds your commander commands');
  }
  if (spec.description !== undefined && typeof spec.description !== 'string') {
    throw invalid('description', 'expected a string', 'one line for --help');
  }
  const known = new Set(['kind', 'repo', 'url', 'tag_prefix']);
  const unknown = Object.keys(forge).find((k) => !known.has(k));
  if (unknown !== undefined) {
    throw invalid(`forge.${unknown}`, 'is not a forge setting', 'use kind, repo, url or tag_prefix');
  }
  if (spec.launchdPrefix !== undefined && !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(spec.launchdPrefix)) {
    throw invalid(
      'launchdPrefix',
      `${JSON.stringify(spec.launchdPrefix)} is not a reverse-DNS name`,
      'e.g. "com.example"',
    );
  }
  const names = appNames(spec.name);
  const forgeDefaults = Object.fromEntries(Object.entries(forge).filter(([, v]) => v !== undefined));
  return {
    ...names,
    version: spec.version,
    entry: spec.entry,
    ...(spec.launchdPrefix !== undefined ? { launchdPrefix: spec.launchdPrefix } : {}),
    defaults: {
      install: { asset: `${spec.name}-{version}.tgz` },
      ...(Object.keys(forgeDefaults).length > 0 ? { forge: forgeDefaults } : {}),
    },
  };
}

/** One line straight to fd 1 (src/main.ts: building process.stdout costs ~2.5 ms). */
function printLine(text: string): void {
  try {
    process.getBuiltinModule('node:fs').writeSync(1, `${text}\n`);
  } catch {
    process.stdout.write(`${text}\n`);
  }
}

export function defineApp<AppConfig = Record<string, unknown>>(spec: AppSpec<AppConfig>): App {
  const identity = appIdentity(spec as AppSpec<never>);
  return {
    name: identity.name,
    version: identity.version,
    identity,
    async main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
      if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
        // As heph's own entry (src/main.ts): answered before the command line (commander, ~0.5 MB
        // of JavaScript) is loaded, since an install's smoke test runs `<entry> --version`.
        printLine(identity.version);
        process.exitCode = 0;
        return 0;
      }
      const { runCli } = await import('../cli/program.js');
      const code = await runCli([...argv], {
        identity,
        description: spec.description,
        serve: spec.serve as ServeFn | undefined,
        commands: spec.commands,
      });
      process.exitCode = code;
      return code;
    },
    paths(env = process.env) {
      return resolvePaths(env, identity);
    },
    async client(opts) {
      const { controlClient } = await import('./client.js');
      return controlClient(identity, opts);
    },
    async connect(socketPath, opts = {}) {
      const { connectWithGrace } = await import('../control/grace.js');
      const { unitStarting } = await import('../control/unit-state.js');
      const { serviceNames } = await import('../app/service-names.js');
      const env = opts.env ?? process.env;
      return connectWithGrace(socketPath, {
        stopMarker: resolvePaths(env, identity).stopMarker,
        restartPlausible: () => unitStarting(serviceNames(identity), env),
      });
    },
  };
}
