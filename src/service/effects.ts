// The effects service code needs on top of the common deps: the command runner, who is
// installing (uid, name, home), which node runs heph, and what the machine's manager is.
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import type { Deps } from '../platform/deps.js';
import { type Account, readAccount } from './accounts.js';
import { type ManagerFacts, readManagerFacts } from './manager.js';
import { type ServiceNames, serviceNames } from '../app/service-names.js';
import { execaRunner, type Runner } from './runner.js';

export interface ServiceDeps extends Deps {
  /** The app's unit names, launchd label and secret files. */
  names: ServiceNames;
  runner: Runner;
  uid: number;
  userName: string;
  home: string;
  /** The node executable that runs heph now; the unit's ExecStart uses the same one. */
  node: string;
  facts: ManagerFacts;
  /** File existence, so linger and path checks are testable without root. */
  exists(path: string): boolean;
  /** A local account by name (system services running as a named user). */
  account(name: string): Account | null;
}

export function serviceDeps(deps: Deps, over: Partial<ServiceDeps> = {}): ServiceDeps {
  const info = userInfo();
  return {
    ...deps,
    names: over.names ?? serviceNames(deps.app),
    runner: over.runner ?? execaRunner(deps.env),
    uid: over.uid ?? info.uid,
    userName: over.userName ?? info.username,
    home: over.home ?? deps.env.HOME ?? homedir(),
    node: over.node ?? process.execPath,
    facts: over.facts ?? readManagerFacts(),
    exists: over.exists ?? existsSync,
    account: over.account ?? readAccount,
  };
}
