// What every command receives: the effects (deps) and how to print. Commands print through
// here so `--json` always yields exactly one JSON document on stdout, so a `--system` command's
// hints all carry `--system` (scope-hints.ts), and so an embedding app's people read its own
// names (`acme update apply`, not heph's: renameForApp).
import { renameForApp } from '../app/identity.js';
import type { Deps } from '../platform/deps.js';
import { type Scope, withScope } from './scope-hints.js';

export interface CliContext {
  deps: Deps;
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when a person is at the terminal (prompts, progress bars). */
  interactive: boolean;
  /** `--system`: the system install's files; hints get --system (and --user NAME). */
  scope?: Scope;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `text` as it should be printed for this command's scope (--system hints). */
export function scoped(ctx: Pick<CliContext, 'scope'>, text: string): string {
  return ctx.scope ? withScope(text, ctx.scope) : text;
}

export function println(ctx: CliContext, text = ''): void {
  ctx.stdout.write(`${renameForApp(scoped(ctx, text), ctx.deps.app)}\n`);
}

/** Notes for people (warnings, hints): stderr, so stdout stays parseable. */
export function note(ctx: CliContext, text: string): void {
  ctx.stderr.write(`${renameForApp(scoped(ctx, text), ctx.deps.app)}\n`);
}
