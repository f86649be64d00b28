// Telling people about a new candidate: one `update.available` audit event per version (not per
// poll), then notify.command and notify.webhook once each. Their failures never stop the daemon.
import { execa } from 'execa';
import { request } from 'undici';
import { appendAudit, type AuditEvent } from '../audit/log.js';
import { type Config, isLoopbackHost } from '../config/schema.js';
import { describeError } from '../errors.js';
import { dispatcherFor } from '../forge/http.js';
import { splitCommand } from '../install/methods.js';
import type { Deps } from '../platform/deps.js';
import type { VersionedRelease } from '../release/types.js';
import { envName } from '../app/identity.js';
import { userAgent } from '../forge/http.js';
import type { DaemonState } from '../update/state.js';

/** A notify command or webhook that takes longer than this is abandoned (and reported). */
export const NOTIFY_TIMEOUT_MS = 30_000;
/** Versions remembered as announced; older ones can never come back as candidates anyway. */
export const MAX_ANNOUNCED = 50;
/** Output of a failing notify command kept for the log. */
const MAX_OUTPUT_CHARS = 2_000;
/** Shells whose `-c` script gets shell-quoted placeholder values, so a tag cannot inject code. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', '/bin/sh', '/bin/bash', '/usr/bin/bash', '/bin/dash']);

const shellQuote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

/**
 * The argv of notify.command: split like a shell splits words (no shell runs), placeholders
 * {version} {tag} {url} filled inside each word. In an explicit `sh -c '…'` script the values
 * are single-quoted, since that word is code.
 */
export function notifyArgv(template: string, r: Pick<VersionedRelease, 'version' | 'tag' | 'url'>): string[] {
  const words = splitCommand(template);
  const script = SHELLS.has(words[0] ?? '') && words[1] === '-c' ? 2 : -1;
  return words.map((w, i) => {
    const q = i === script ? shellQuote : (v: string) => v;
    return w
      .replaceAll('{version}', q(r.version))
      .replaceAll('{tag}', q(r.tag))
      .replaceAll('{url}', q(r.url));
  });
}

async function runCommand(config: Config, deps: Deps, r: VersionedRelease): Promise<void> {
  const argv = notifyArgv(config.notify.command, r);
  if (argv.length === 0) return;
  const res = await execa(argv[0]!, argv.slice(1), {
    env: {
      ...deps.env,
      [envName(deps.app, 'VERSION')]: r.version,
      [envName(deps.app, 'TAG')]: r.tag,
      [envName(deps.app, 'URL')]: r.url,
    },
    extendEnv: false,
    reject: false,
    timeout: NOTIFY_TIMEOUT_MS,
    all: true,
    stdin: 'ignore',
  });
  if (res.timedOut) throw new Error(`notify.command did not finish within ${NOTIFY_TIMEOUT_MS / 1000} s`);
  if (res.exitCode !== 0 || res.failed) {
    const out = String(res.all ?? '')
      .slice(-MAX_OUTPUT_CHARS)
      .trim();
    const why =
      res.exitCode === undefined ? (res.originalMessage ?? 'could not start') : `exit ${res.exitCode}`;
    throw new Error(`notify.command failed (${why})${out ? `: ${out.split('\n').pop()}` : ''}`);
  }
}

async function postWebhook(config: Config, deps: Deps, event: AuditEvent): Promise<void> {
  const url = new URL(config.notify.webhook);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new Error(`notify.webhook must be https:// (http:// only on loopback), got ${url.origin}`);
  }
  const t = { connect: NOTIFY_TIMEOUT_MS, headers: NOTIFY_TIMEOUT_MS, body: NOTIFY_TIMEOUT_MS };
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent(deps.app) },
    body: JSON.stringify(event),
    dispatcher: dispatcherFor(deps.env, t, url),
    signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
  });
  await res.body.dump();
  if (res.statusCode >= 300)
    throw new Error(`notify.webhook answered HTTP ${res.statusCode} (${url.origin}${url.pathname})`);
}

/**
 * Announces `release` once: returns false when it was announced before. The caller persists
 * `state` (announced is updated here). Command and webhook run side by side; each failure is
 * audited as `notify.failed` with the channel and the error, and logged.
 */
export async function announce(
  config: Config,
  deps: Deps,
  state: DaemonState,
  release: VersionedRelease,
): Promise<boolean> {
  if (state.announced.includes(release.version)) return false;
  state.announced = [...state.announced, release.version].slice(-MAX_ANNOUNCED);
  const event = appendAudit(
    deps.paths.auditFile,
    {
      event: 'update.available',
      version: release.version,
      tag: release.tag,
      url: release.url,
      publishedAt: release.publishedAt,
      current: deps.app.version,
    },
    deps.logger,
    deps.app,
  );
  const channels: Array<['command' | 'webhook', () => Promise<void>]> = [];
  if (config.notify.command.trim()) channels.push(['command', () => runCommand(config, deps, release)]);
  if (config.notify.webhook) channels.push(['webhook', () => postWebhook(config, deps, event)]);
  await Promise.all(
    channels.map(async ([channel, run]) => {
      try {
        await run();
        deps.logger.info({ channel, version: release.version }, 'notified');
      } catch (e) {
        appendAudit(
          deps.paths.auditFile,
          { event: 'notify.failed', version: release.version, channel, error: describeError(e) },
          deps.logger,
          deps.app,
        );
      }
    }),
  );
  return true;
}
