// The real effects of `heph update apply|rollback`: the release check, the forge client and the
// daemon client. Kept apart from update-apply.ts so tests of the flow never load the network.
import { callDaemon } from '../control/client.js';
import { createForgeClient } from '../forge/index.js';
import { checkForUpdate } from '../update/check.js';
import { promptYesNo } from './prompt.js';
import type { ApplyEffects } from './update-apply.js';

export const applyEffects: ApplyEffects = {
  checkForUpdate,
  createForgeClient,
  // Throws E_NOT_RUNNING without a daemon, which apply reports as a normal outcome.
  callDaemon: (paths, method, path, body) => callDaemon(paths, method, path, body),
  confirm: promptYesNo,
};
