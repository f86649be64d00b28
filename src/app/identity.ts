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
 * Messages and hints are written once, in heph's own names (`heph update resume`, `hephd`,
 * `HEPH_HOME`); an embedding app shows them in its own. Only command references in backticks,
 * the daemon's name as a word and the variable prefix are renamed, so paths and data are left be.
 */
export function renameForApp(text: string, app: AppNames): string {
  if (app.name === 'heph') return text;
  return text
    .replace(/^heph: /gm, `${app.name}: `)
    .replace(/`heph(?=[ `])/g, `\`${app.name}`)
    .replace(/\bhephd\b/g, app.daemon)
    .replace(/\bHEPH_(?=[A-Z])/g, `${app.envPrefix}_`)
    .replace(/\bheph (?=(update|daemon|config|doctor|status|release)\b)/g, `${app.name} `);
}
