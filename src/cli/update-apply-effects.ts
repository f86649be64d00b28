// The real effects of `heph update apply|rollback`: the release check, the forge client and the
// daemon client. Kept apart from update-apply.ts so tests of the flow never load the network;
// update-apply.ts imports this file's types only, and the effects themselves lazily.
import type { Config } from '../config/schema.js';
import { callDaemon } from '../control/client.js';
import { createForgeClient } from '../forge/index.js';
import type { ForgeClient } from '../forge/types.js';
import type { Deps } from '../platform/deps.js';
import type { Paths } from '../platform/paths.js';
import type { ApplyCheck } from '../update/apply.js';
import { checkForUpdate } from '../update/check.js';
import type { CliContext } from './context.js';
import { promptYesNo } from './prompt.js';

/** What apply needs from the forge, the release check and the daemon (the real ones below). */
export interface ApplyEffects {
  checkForUpdate(config: Config, deps: Deps, opts?: { findVersion?: string }): Promise<ApplyCheck>;
  createForgeClient(config: Config, deps: Deps): ForgeClient;
  callDaemon(paths: Paths, method: 'POST', path: string, body: unknown): Promise<unknown>;
  /** Asks a yes/no question on the terminal; true only for an explicit yes. */
  confirm(ctx: CliContext, question: string): Promise<boolean>;
}

export const applyEffects: ApplyEffects = {
  checkForUpdate,
  createForgeClient,
  // Throws E_NOT_RUNNING without a daemon, which apply reports as a normal outcome.
  callDaemon: (paths, method, path, body) => callDaemon(paths, method, path, body),
  confirm: promptYesNo,
};
