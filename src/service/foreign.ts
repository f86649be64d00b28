// `heph daemon install --manager none`: for machines whose supervisor heph does not manage
// (runit, s6, supervisord, a container's restart policy, or none at all). It does the part of an
// install that is heph's own — the running version into the store, the launcher — and tells the
// operator the one command their supervisor should run.
import { loadConfig } from '../config/load.js';
import { installRunningVersion } from '../install/index.js';
import { renderLauncher } from '../install/launcher.js';
import { readTextIfExists, writeFileAtomic } from '../platform/fs.js';
import type { ServiceDeps } from './effects.js';
import { commandLine } from './runner.js';

export interface ForeignPlan {
  /** The launcher file and whether this install changes it. */
  launcher: { path: string; mode: number; content: string; changed: boolean };
  /** What the operator's supervisor must run: absolute node, then the launcher. */
  command: string[];
  warnings: string[];
}

export function planForeign(d: ServiceDeps): ForeignPlan {
  loadConfig(d.paths.config, d.env, d.app); // refuses an invalid config (exit 78), as every install does
  const content = renderLauncher(d.paths, d.app);
  return {
    launcher: {
      path: d.paths.launcher,
      mode: 0o755,
      content,
      changed: readTextIfExists(d.paths.launcher) !== content,
    },
    command: [d.node, d.paths.launcher],
    warnings: [
      // Without a supervisor heph knows, hephd cannot tell that someone will start it again, so
      // auto mode installs and then waits for a restart instead of exiting (docs/operations.md).
      'hephd sees no supervisor it knows: in auto mode it installs an update, then waits for you (or your supervisor) to restart it; `heph status` says when',
    ],
  };
}

export async function applyForeign(
  d: ServiceDeps,
  plan: ForeignPlan,
): Promise<{ storeVersion: string; storeChanged: boolean }> {
  const stored = await installRunningVersion(d);
  if (plan.launcher.changed) writeFileAtomic(plan.launcher.path, plan.launcher.content, plan.launcher.mode);
  return { storeVersion: stored.version, storeChanged: stored.changed };
}

/** The line to give a supervisor, quoted for a shell. */
export function supervisorCommand(plan: ForeignPlan): string {
  return commandLine({ file: plan.command[0]!, args: plan.command.slice(1) });
}
