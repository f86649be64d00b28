// Questions to the person at the terminal (on stderr, so stdout stays the command's answer).
import { createInterface } from 'node:readline/promises';
import type { CliContext } from './context.js';

/** Asks a yes/no question; true only for an explicit yes. */
export async function promptYesNo(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: ctx.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
