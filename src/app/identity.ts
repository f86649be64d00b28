// Who is running: heph itself, or an app built on heph with defineApp (docs/embedding.md). Every
// file, unit, socket, variable and command name follows from the app's name; heph's own are the
// case name = "heph". A leaf module (only the build's version) so the lightest commands can use it.
import { VERSION } from '../version.js';

/** The names that follow from an app's name; enough to find its files and its service. */
export interface AppNames {
  /** `heph`, `acme`: the command, the config folder, the asset prefix. */
  readonly name: string;
  /** `hephd`, `acmed`: the daemon, its unit, socket and launcher. */
  readonly daemon: string;
  /** `HEPH`, `ACME`: the prefix of every environment variable (`ACME_HOME`, `ACME_UPDATE_MODE`). */
  readonly envPrefix: string;
}

/** The running app: its names plus what only the running program knows. */
export interface AppIdentity extends AppNames {
  /** The running version (semver). */
  readonly version: string;
  /** Path of the program inside the release package (`dist/heph.mjs`); the launcher runs it. */
  readonly entry: string;
  /** Reverse-DNS prefix of the launchd label (`com.example` → `com.example.acmed`). */
  readonly launchdPrefix?: string;
  /** Config values under the file's (defineApp's forge, the app's asset name): `{ forge: {…} }`. */
  readonly defaults?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** Names that make a valid unit, file, variable and command name on every platform. */
export const APP_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** The names for `name` (assumed valid: defineApp checks it against APP_NAME). */
export function appNames(name: string): AppNames {
  return { name, daemon: `${name}d`, envPrefix: name.toUpperCase().replaceAll('-', '_') };
}

/** heph's own names. */
export const HEPH_NAMES: AppNames = appNames('heph');

/**
 * heph's own identity: the default app of the engine's effects (src/platform/deps.ts). heph's
 * command line is built from the same values with defineApp (src/lib/heph.ts; a test keeps the
 * two equal).
 */
export const HEPH_APP: AppIdentity = {
  ...HEPH_NAMES,
  version: VERSION,
  entry: 'dist/heph.mjs',
  defaults: { install: { asset: 'heph-{version}.tgz' } },
};

/** `HEPH_HOME` for heph, `ACME_HOME` for acme. */
export function envName(app: AppNames, key: string): string {
  return `${app.envPrefix}_${key}`;
}

/** The files a store version must hold to be runnable: its package.json and its entry. */
export function requiredFiles(app: Pick<AppIdentity, 'entry'>): string[] {
  return ['package.json', app.entry];
}

/**
 * heph as a word of a message (`heph update resume`, "heph did not make it", "heph's launcher"),
 * not part of a path, file or package name (dist/heph.mjs, heph-1.2.3.tgz, owner/heph, @x/heph).
 * A word quoted on its own ("heph", also as \"heph\" inside a JSON line) is data, such as a
 * package name, and is left be too.
 */
const HEPH_WORD = /(?<![\w./@~\\-])heph(?![\w/@-]|\.\w)/g;
/** hephd as a word (`hephd started`, `hephd.service`), not in a path or name (owner/hephd, x-hephd-y). */
const HEPHD_WORD = /(?<![\w./@~\\-])hephd(?![\w/@-])/g;
/** The variable prefix (HEPH_HOME, $HEPH_HOME, "HEPH_FORGE_TOKEN"), not inside another name (ABC-HEPH_X). */
const HEPH_VARIABLE = /(?<![\w./@~\\-])HEPH_(?=[A-Z])/g;

function quotedAlone(all: string, at: number): boolean {
  const after = all.slice(at + 4, at + 6);
  return all[at - 1] === '"' && (after[0] === '"' || after === '\\"');
}

/**
 * Messages and hints are written once, in heph's own names (`heph update resume`, `hephd`,
 * `HEPH_HOME`); an embedding app shows them in its own. heph as a word, the daemon's name as a
 * word and the variable prefix are renamed; paths, files and package names are left be. A text
 * renamed twice (the daemon's answer, printed again by the CLI) stays right: a name already the
 * app's is not renamed again (HEPH_SYNC_HOME for an app heph-sync).
 */
export function renameForApp(text: string, app: AppNames): string {
  if (app.name === 'heph') return text;
  const to = (name: string) => (found: string, at: number, all: string) =>
    all.startsWith(name, at) ? found : name;
  const article = /^[aeiou]/.test(app.name) ? 'an ' : 'a ';
  return text
    .replace(HEPHD_WORD, to(app.daemon))
    .replace(HEPH_VARIABLE, to(`${app.envPrefix}_`))
    .replace(/\ba (?=heph(?![\w/@-]|\.\w))/g, article)
    .replace(HEPH_WORD, (found, at: number, all: string) => (quotedAlone(all, at) ? found : app.name));
}
