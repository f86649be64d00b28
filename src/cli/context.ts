// What every command receives: the effects (deps) and how to print. Commands print through
// here so `--json` always yields exactly one JSON document on stdout.
import type { Deps } from '../platform/deps.js';

export interface CliContext {
  deps: Deps;
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when a person is at the terminal (prompts, progress bars). */
  interactive: boolean;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(ctx: CliContext, text = ''): void {
  ctx.stdout.write(`${text}\n`);
}

/** Notes for people (warnings, hints): stderr, so stdout stays parseable. */
export function note(ctx: CliContext, text: string): void {
  ctx.stderr.write(`${text}\n`);
}
