// What every command receives: the effects (deps) and how to print. Commands print through
// here so `--json` always yields exactly one JSON document on stdout, and so an embedding app's
// people read its own names (`acme update apply`, not heph's: renameForApp).
import { renameForApp } from '../app/identity.js';
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
  ctx.stdout.write(`${renameForApp(text, ctx.deps.app)}\n`);
}

/** Notes for people (warnings, hints): stderr, so stdout stays parseable. */
export function note(ctx: CliContext, text: string): void {
  ctx.stderr.write(`${renameForApp(text, ctx.deps.app)}\n`);
}
