// Methods `npm` and `command`: heph installed by something other than its own store. Both run
// without a shell (argv only), with a timeout, keep the tool's output in the log, and are followed
// by the smoke test on the `heph` found on PATH when there is one.
import { execa } from 'execa';
import type { Config } from '../config/schema.js';
import { HephError } from '../errors.js';
import type { Deps } from '../platform/deps.js';
import type { ForgeClient } from '../forge/types.js';
import type { VersionedRelease } from '../release/types.js';
import { npmErrorLines, npmInstall } from './npm.js';
import { smokeTest } from './smoke.js';

/** A user's install command may build or fetch; bounded so a hung command never wedges the daemon. */
export const COMMAND_TIMEOUT_MS = 10 * 60_000;
/** The log keeps the tail of the tool's output, enough to see why it failed. */
const MAX_LOGGED_OUTPUT = 8_000;

/**
 * Splits a command line into argv the way a POSIX shell would for words and quotes only:
 * 'single' and "double" quotes, backslash escapes outside single quotes. No variables, globs,
 * pipes or redirections: those need an explicit `sh -c '…'`, which is then the user's choice.
 */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) {
    throw new HephError('E_CONFIG', `install.command has an unterminated ${quote} quote`, {
      hint: "close the quote; write `sh -c '…'` if you need shell syntax",
      details: { key: 'install.command' },
    });
  }
  if (inWord) out.push(word);
  return out;
}

/** The argv for `install.command`, placeholders substituted inside each word (never re-split). */
export function commandArgv(template: string, release: Pick<VersionedRelease, 'version' | 'tag'>): string[] {
  const argv = splitCommand(template).map((w) =>
    w.replaceAll('{version}', release.version).replaceAll('{tag}', release.tag),
  );
  if (argv.length === 0) {
    throw new HephError('E_CONFIG', 'install.command is empty', { details: { key: 'install.command' } });
  }
  return argv;
}

async function run(argv: string[], timeout: number, deps: Deps, what: string): Promise<void> {
  deps.logger.info({ argv }, `running ${what}`);
  const r = await execa(argv[0]!, argv.slice(1), {
    env: { ...deps.env },
    extendEnv: false,
    reject: false,
    timeout,
    all: true,
    stdin: 'ignore',
  });
  const output = String(r.all ?? '').slice(-MAX_LOGGED_OUTPUT);
  deps.logger.info({ exitCode: r.exitCode, output }, `${what} finished`);
  if (r.timedOut) {
    throw new HephError('E_COMMAND', `${what} did not finish within ${Math.round(timeout / 1000)} s`, {
      hint: 'run it by hand to see why it hangs',
      details: { command: what },
    });
  }
  if (r.exitCode !== 0 || r.failed) {
    // npm's own error lines when the command runs npm; otherwise the tool's last line.
    const npmLines = npmErrorLines(output);
    const last =
      npmLines.length > 0 ? npmLines.slice(0, 4).join('; ') : (output.trim().split('\n').pop() ?? '');
    throw new HephError(
      'E_COMMAND',
      `${what} failed (${r.exitCode ?? r.code ?? 'no exit code'})${last ? `: ${last.slice(0, 400)}` : ''}`,
      {
        hint: 'the full output is in the log; run the same command by hand to see why',
        details: { command: what, exitCode: r.exitCode ?? null },
      },
    );
  }
}

/**
 * The smoke test on whatever the app's command (`heph`, `acme`) is now first on PATH; skipped
 * (with a log line) when none is.
 */
async function smokeOnPath(version: string, deps: Deps): Promise<void> {
  try {
    await smokeTest([deps.app.name], version, deps.env);
  } catch (e) {
    if (e instanceof HephError && /ENOENT|not found/i.test(e.message)) {
      deps.logger.warn(`no ${deps.app.name} on PATH after the install; smoke test skipped`);
      return;
    }
    throw e;
  }
}

export async function installWithNpm(
  config: Config,
  deps: Deps,
  release: VersionedRelease,
  client: ForgeClient,
): Promise<void> {
  await npmInstall(config, deps, release, client);
  await smokeOnPath(release.version, deps);
}

export async function installWithCommand(
  config: Config,
  deps: Deps,
  release: VersionedRelease,
): Promise<void> {
  const argv = commandArgv(config.install.command, release);
  await run(argv, COMMAND_TIMEOUT_MS, deps, 'install.command');
  await smokeOnPath(release.version, deps);
}
