// The configuration's shape, defaults and rules (zod). Durations are parsed to milliseconds here
// so the rest of heph never sees a duration string.
import { statSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { parseWindow, WindowSyntaxError } from '../daemon/windows.js';
import { GITHUB_ACTIONS_ISSUER } from '../install/attestation/policy.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.js';

/** Polling more often than this only adds load on the forge (and GitHub's 60 req/h anonymous limit). */
export const MIN_INTERVAL_MS = 5 * 60_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

const duration = (opts: { min?: number; minText?: string } = {}) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like "90s", "15m", "6h" or "1d", got "${text}"`,
      });
      return z.NEVER;
    }
    if (opts.min !== undefined && ms < opts.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${opts.minText}, got "${text}"` });
      return z.NEVER;
    }
    // Every duration has this bound: past it dates and timers break later, at check time.
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_DURATION_TEXT}, got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });

/**
 * A whole number within [min, max]. The bounds come before .int(): zod reports issues in check
 * order, so 1e20 is "at most 100", not "at most Number.MAX_SAFE_INTEGER".
 */
const integer = (min: number, max: number) => z.number().min(min).max(max).int();

const forgeUrl = z.string().refine(
  (text) => {
    if (text === '') return true;
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      return false;
    }
    if (u.protocol === 'https:') return true;
    if (u.protocol === 'file:') return true; // checked per kind below (static only)
    return u.protocol === 'http:' && isLoopbackHost(u.hostname);
  },
  { message: 'expected an https:// URL (http:// only for 127.0.0.1, localhost or [::1])' },
);

const semverRange = z.string().refine((r) => semver.validRange(r) !== null, {
  message: 'expected a semver range such as "^1" or ">=1.2 <2"',
});

/** One maintenance window (docs/operations.md "Maintenance windows"); checked, kept as text. */
const windowText = z.string().superRefine((text, ctx) => {
  try {
    parseWindow(text);
  } catch (e) {
    if (!(e instanceof WindowSyntaxError)) throw e;
    ctx.addIssue({ code: 'custom', message: e.message });
  }
});

const updateSchema = z.strictObject({
  mode: z.enum(['off', 'notify', 'auto']).default('off'),
  interval: duration({ min: MIN_INTERVAL_MS, minText: '5m' }).default(6 * 3_600_000),
  jitter: z.number().min(0).max(0.5).default(0.1),
  channel: z.enum(['stable', 'prerelease']).default('stable'),
  allow_major: z.boolean().default(false),
  min_release_age: duration().default(0),
  rollout_window: duration().default(0),
  pin: semverRange.optional(),
  /** Maintenance windows for auto mode's restarts; empty = any time. */
  windows: z.array(windowText).max(50).default([]),
});

const forgeSchema = z.strictObject({
  kind: z.enum(['github', 'gitea', 'forgejo', 'gitlab', 'static']).default('github'),
  url: forgeUrl.default(''),
  repo: z.string().default(''),
  tag_prefix: z.string().default('v'),
  token_file: z.string().default(''),
});

/** Who may have built a release, for verify = "attestation" (docs/security.md, "Provenance"). */
const attestationSchema = z.strictObject({
  repo: z.string().default(''), // '' = forge.repo
  workflow: z
    .string()
    .refine((w) => w === '' || /^[^/@\s][^@\s]*$/.test(w), {
      message: 'expected a path inside the repository such as ".github/workflows/release.yml"',
    })
    .default(''),
  ref: z.string().min(1).default('refs/tags/*'),
  issuer: z
    .string()
    .refine((t) => t.startsWith('https://') && URL.canParse(t), { message: 'expected an https:// URL' })
    .default(GITHUB_ACTIONS_ISSUER),
  github_hosted_only: z.boolean().default(true),
});

const installSchema = z.strictObject({
  method: z.enum(['bundle', 'npm', 'command']).default('bundle'),
  command: z.string().default(''),
  asset: z.string().min(1).default('heph-{version}.tgz'),
  verify: z.enum(['sha256', 'minisign', 'attestation', 'none']).default('sha256'),
  public_keys: z.array(z.string().min(1)).default([]),
  // '' = the shipped root; else an absolute path or one under the service user's home (~/…)
  trusted_root: z
    .string()
    .superRefine((p, ctx) => {
      const t = p.trim();
      if (t === '' || t === '~' || t.startsWith('~/') || isAbsolute(t)) return;
      ctx.addIssue({ code: 'custom', message: `expected an absolute path (or ~/…), got "${p}"` });
    })
    .default(''),
  attestation: attestationSchema.prefault({}),
  keep: integer(2, 100).default(3),
  allow_in_container: z.boolean().default(false),
  npm_package: z.string().default('heph'),
});

const restartSchema = z.strictObject({
  drain_timeout: duration().default(30_000),
  cooldown: duration().default(15 * 60_000),
  max_per_window: integer(1, 1000).default(3),
  window: duration({ min: 60_000, minText: '1m' }).default(24 * 3_600_000),
  health_grace: duration().default(30_000),
});

/** https://, or http:// to a loopback host: the same rule for the forge and the webhook. */
function isSafeHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
  } catch {
    return false;
  }
}

const notifySchema = z.strictObject({
  command: z.string().default(''),
  webhook: z
    .string()
    .refine((t) => t === '' || isSafeHttpUrl(t), {
      message: 'expected an https:// URL (http:// only for 127.0.0.1, localhost or [::1])',
    })
    .default(''),
});

/**
 * [metrics] textfile: where node_exporter's textfile collector reads (*.prom files in its
 * --collector.textfile.directory). The folder must exist: heph writes the file, not the folder.
 */
const metricsSchema = z.strictObject({
  textfile: z
    .string()
    .superRefine((text, ctx) => {
      if (text === '') return;
      let problem: string | null = null;
      if (!isAbsolute(text)) problem = 'expected an absolute path';
      else if (!text.endsWith('.prom'))
        problem = 'expected a file name ending in .prom (node_exporter reads only those)';
      else if (!statSync(dirname(text), { throwIfNoEntry: false })?.isDirectory())
        problem = `the folder ${dirname(text)} does not exist`;
      else if (statSync(text, { throwIfNoEntry: false })?.isFile() === false)
        problem = 'a folder (or another non-file) has that name; expected a file path';
      if (problem !== null) ctx.addIssue({ code: 'custom', message: `${problem}, got "${text}"` });
    })
    .default(''),
});

/**
 * What forge.repo must look like for `kind`, or null when `repo` has that shape. GitLab takes a
 * project path with subgroups or a numeric id; the others OWNER/NAME; static needs none.
 */
export function repoShapeProblem(kind: string, repo: string): string | null {
  if (kind === 'static') return null;
  if (kind === 'gitlab') {
    return /^(\d+|[^/\s]+(\/[^/\s]+)+)$/.test(repo)
      ? null
      : 'GROUP/PROJECT (subgroups allowed) or a numeric project id';
  }
  return /^[^/\s]+\/[^/\s]+$/.test(repo) ? null : 'OWNER/NAME';
}

type RawConfig = {
  forge: { repo: string };
  install: { method: string; attestation: z.output<typeof attestationSchema> };
};

/** verify = "attestation" needs a GitHub repository and workflow to compare the build with. */
function attestationIssues(c: RawConfig, ctx: z.RefinementCtx): void {
  const a = c.install.attestation;
  if (c.install.method !== 'bundle') {
    ctx.addIssue({
      code: 'custom',
      path: ['install', 'verify'],
      message: `"attestation" works with method = "bundle" only (method is "${c.install.method}")`,
    });
  }
  if (a.workflow === '') {
    ctx.addIssue({
      code: 'custom',
      path: ['install', 'attestation', 'workflow'],
      message:
        'required when install.verify = "attestation": the workflow file that attests releases, e.g. ".github/workflows/release.yml"',
    });
  }
  const repo = a.repo || c.forge.repo;
  if (!/^[^/\s]+\/[^/\s]+$/.test(repo)) {
    ctx.addIssue({
      code: 'custom',
      path: ['install', 'attestation', 'repo'],
      message:
        a.repo === ''
          ? `required when install.verify = "attestation" and forge.repo is not a GitHub OWNER/NAME (it is "${c.forge.repo}")`
          : `expected OWNER/NAME, got "${a.repo}"`,
    });
  }
}

export const DEFAULT_FORGE_URL: Record<string, string> = {
  github: 'https://api.github.com',
};

export const configSchema = z
  .strictObject({
    update: updateSchema.prefault({}),
    forge: forgeSchema.prefault({}),
    install: installSchema.prefault({}),
    restart: restartSchema.prefault({}),
    notify: notifySchema.prefault({}),
    metrics: metricsSchema.prefault({}),
    /** An embedding app's own table: passed to serve(ctx) as ctx.config, untouched (docs/embedding.md). */
    app: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((c, ctx) => {
    if (c.forge.url.startsWith('file:') && c.forge.kind !== 'static') {
      ctx.addIssue({
        code: 'custom',
        path: ['forge', 'url'],
        message: 'file:// URLs are only for kind = "static"',
      });
    }
    if (c.install.verify === 'minisign' && c.install.public_keys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['install', 'public_keys'],
        message: 'verify = "minisign" needs at least one public key',
      });
    }
    if (c.install.verify === 'attestation') attestationIssues(c, ctx);
    if (c.install.method === 'command' && c.install.command.trim() === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['install', 'command'],
        message: 'method = "command" needs a command (placeholders {version} {tag})',
      });
    }
    // forge.repo and forge.url are checked here, not first when the forge is asked, so that
    // `config validate` and `config set` catch them; with mode "off" an unset repo is fine.
    const polls = c.update.mode !== 'off';
    const shape = repoShapeProblem(c.forge.kind, c.forge.repo);
    if (shape !== null && (c.forge.repo !== '' || polls)) {
      ctx.addIssue({
        code: 'custom',
        path: ['forge', 'repo'],
        message:
          c.forge.repo === ''
            ? `required when update.mode = "${c.update.mode}": expected ${shape}`
            : `expected ${shape}, got "${c.forge.repo}"`,
      });
    }
    if (polls && c.forge.url === '' && !DEFAULT_FORGE_URL[c.forge.kind]) {
      ctx.addIssue({
        code: 'custom',
        path: ['forge', 'url'],
        message: `required for kind = "${c.forge.kind}" when update.mode = "${c.update.mode}"`,
      });
    }
  })
  .transform((c) => ({
    ...c,
    forge: { ...c.forge, url: c.forge.url || DEFAULT_FORGE_URL[c.forge.kind] || '' },
  }));

/** The validated configuration; durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
export type ForgeKind = Config['forge']['kind'];

/** Tables inside a section (`[install.attestation]`): their keys are listed one by one. */
const SUBTABLES: Record<string, z.ZodObject> = { 'install.attestation': attestationSchema };

/** Every settable key, as `section.key` (or `section.table.key`), for hints and `config get`. */
export const KNOWN_KEYS: readonly string[] = Object.entries({
  update: updateSchema,
  forge: forgeSchema,
  install: installSchema,
  restart: restartSchema,
  notify: notifySchema,
  metrics: metricsSchema,
}).flatMap(([section, schema]) =>
  Object.keys(schema.shape).flatMap((k) => {
    const sub = SUBTABLES[`${section}.${k}`];
    return sub ? Object.keys(sub.shape).map((n) => `${section}.${k}.${n}`) : [`${section}.${k}`];
  }),
);

/** Keys whose values are durations (for `config get` and env overrides). */
export const DURATION_KEYS = new Set([
  'update.interval',
  'update.min_release_age',
  'update.rollout_window',
  'restart.drain_timeout',
  'restart.cooldown',
  'restart.window',
  'restart.health_grace',
]);
