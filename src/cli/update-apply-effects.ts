// The real effects of `heph update apply|rollback`: the release check, the forge client and the
// daemon client. Kept apart from update-apply.ts so tests of the flow never load the network.
//
// BRIDGE: src/release/check.ts, src/forge/index.ts and src/control/client.ts are being written
// by other engineers; until they land this file cannot import them (the bundle would not build),
// so the three effects report that plainly. Replace each throw with the import noted beside it.
import { HephError } from '../errors.js';
import { type ApplyEffects, promptYesNo } from './update-apply.js';

function notYet(what: string): never {
  throw new HephError('E_INTERNAL', `${what} is not part of this build yet`, {
    hint: 'install with the daemon API (installRelease) or update heph by hand for now',
  });
}

export const applyEffects: ApplyEffects = {
  // import { checkForUpdate } from '../release/check.js'
  checkForUpdate: async () => notYet('the release check (src/release/check.ts)'),
  // import { createForgeClient } from '../forge/index.js'
  createForgeClient: () => notYet('the forge client (src/forge/index.ts)'),
  // import { callDaemon } from '../control/client.js' — throws E_NOT_RUNNING without a daemon
  callDaemon: async () => {
    throw new HephError('E_NOT_RUNNING', 'the daemon client is not part of this build yet');
  },
  confirm: promptYesNo,
};
