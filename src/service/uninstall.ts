// `heph daemon uninstall`: stop and disable the service, remove the units, and keep what the
// user may want back (config, store, state, token) unless --purge says otherwise.
import { rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServiceDeps } from './effects.js';
import { chooseManager, describeScope } from './manager.js';
import { type CommandReport, runCommands } from './install.js';
import { assertManagerAnswers } from './reach.js';
import type { Cmd } from './runner.js';
import type { ManagerKind, Scope } from './spec.js';

export interface UninstallOptions {
  system?: boolean;
  purge?: boolean;
  dryRun?: boolean;
}

export interface UninstallResult {
  manager: ManagerKind;
  scope: Scope;
  description: string;
  removed: string[];
  kept: string[];
  commands: CommandReport[];
  planned: Cmd[];
}

/** rmdir: removes a folder only when it is empty; true when it did. */
function removeIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

export async function uninstall(d: ServiceDeps, opts: UninstallOptions): Promise<UninstallResult> {
  const { backend } = chooseManager(undefined, d.facts, d.names);
  const scope: Scope = opts.system ? 'system' : 'user';
  const units = backend.unitPaths(scope, d.env, d.home).filter((p) => d.exists(p));
  const secrets = [d.names.envFile, d.names.launchdTokenFile].map((n) => join(dirname(d.paths.config), n));
  const userData = [d.paths.data, d.paths.state, d.paths.runDir, d.paths.config, ...secrets].filter((p) =>
    d.exists(p),
  );
  const removed = [...units, ...(opts.purge ? userData : [])];
  const kept = opts.purge ? [] : userData;
  // No unit file: nothing for the manager to forget (and it may not even be reachable).
  const installed = units.length > 0;
  const stop = installed ? backend.uninstallCommands(scope, d.uid) : [];
  const reload = installed ? backend.afterRemoveCommands(scope, d.uid) : [];
  const planned = [...stop, ...reload];
  const result = {
    manager: backend.kind,
    scope,
    description: describeScope(backend.kind, scope),
    removed,
    kept,
    planned,
  };
  if (opts.dryRun) return { ...result, commands: [] };
  // before anything is removed: a manager this shell cannot reach would keep running a unit
  // whose file is gone
  if (installed) await assertManagerAnswers(d, backend.kind, scope);
  // Stop first: removing the unit of a running service leaves systemd with a ghost it still runs.
  const commands = await runCommands(d, stop);
  for (const p of removed) rmSync(p, { recursive: true, force: true });
  // --purge takes the config's folder too once nothing else is in it (never a folder in use)
  if (opts.purge && removeIfEmpty(dirname(d.paths.config))) result.removed.push(dirname(d.paths.config));
  commands.push(...(await runCommands(d, reload)));
  return { ...result, commands };
}
