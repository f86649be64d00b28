// The one way service code runs a program (systemctl, launchctl, journalctl, tail): an injected
// function over argv lists, so tests assert the exact commands and no shell ever parses them.
import { execa } from 'execa';
import type { Env } from '../platform/paths.js';

export interface Cmd {
  file: string;
  args: string[];
  /** A failure here is expected sometimes (bootout of a job that is not loaded) and not an error. */
  tolerateFailure?: boolean;
}

export interface CmdResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Hand the terminal to the command (logs -f, status): no capture, no timeout. */
  inherit?: boolean;
}

export type Runner = (cmd: Cmd, opts?: RunOptions) => Promise<CmdResult>;

/**
 * systemctl waits for start and stop jobs; a stop waits for the drain (TimeoutStopSec is
 * drain_timeout + 15 s, 45 s by default). Two minutes covers that with room; past it the manager
 * is stuck, and saying so beats hanging.
 */
export const SERVICE_COMMAND_TIMEOUT_MS = 120_000;

export function commandLine(cmd: Cmd): string {
  return [cmd.file, ...cmd.args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
    .join(' ');
}

export function execaRunner(env: Env): Runner {
  return async (cmd, opts = {}) => {
    const r = await execa(cmd.file, cmd.args, {
      env: env as Record<string, string | undefined>,
      extendEnv: false,
      reject: false,
      stdin: opts.inherit ? 'inherit' : 'ignore',
      stdout: opts.inherit ? 'inherit' : 'pipe',
      stderr: opts.inherit ? 'inherit' : 'pipe',
      timeout: opts.inherit ? undefined : SERVICE_COMMAND_TIMEOUT_MS,
    });
    const exitCode = r.exitCode ?? (r.failed ? 1 : 0);
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : r.failed && r.message ? r.message : '';
    return { exitCode, stdout, stderr };
  };
}
