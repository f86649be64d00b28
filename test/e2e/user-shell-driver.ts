// A normal user's service from the shells people really use (issue 10), under a real systemd
// user manager (run by user-shell.test.ts under `unshare -m`, bundled by esbuild): a shell
// without XDG_RUNTIME_DIR (sudo -iu, cron, ssh without a session) for status, doctor, `daemon
// status` and install; a restart into a config that makes hephd exit 78; the status hints once
// the service is stopped and once it is uninstalled; `uninstall --purge`. Prints one
// `SHELL-RESULT {json}` line.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolvePaths } from '../../src/platform/paths.js';
import { hephRunner, runScenario, type Scenario, say, UNIT, type UserManager } from './scenario.js';

interface Input {
  /** A heph package tree (package-tree.ts): install copies the running package. */
  heph: string;
  pidFile: string;
}

const CONFIG = '[update]\nmode = "off"\n[install]\nallow_in_container = true\n';

async function main(m: UserManager, input: Input, { result, onFailure }: Scenario): Promise<void> {
  const env: Record<string, string> = { ...m.env, NO_COLOR: '1' };
  const paths = resolvePaths(env);
  const unitFile = join(m.env.XDG_CONFIG_HOME, 'systemd', 'user', UNIT);
  // the shell of `sudo -iu USER` or cron: the same user, no XDG_RUNTIME_DIR
  const { XDG_RUNTIME_DIR: _runtime, ...bare } = env;
  const heph = hephRunner(env);
  const bareHeph = hephRunner(bare);
  const run = async (r: ReturnType<typeof heph>) => {
    const x = await r;
    return { exitCode: x.exitCode, stdout: String(x.stdout), stderr: String(x.stderr) };
  };
  onFailure(async () => ({
    unit: await m.show(UNIT, ['ActiveState', 'SubState', 'NRestarts', 'ExecMainStatus']),
    status: (await m.systemctl('status', '--no-pager', '--full', UNIT)).stdout.slice(-2000),
  }));

  mkdirSync(dirname(paths.config), { recursive: true });
  writeFileSync(paths.config, CONFIG);
  say('daemon install from a full shell');
  result.install = await run(heph(input.heph, ['daemon', 'install']));

  say('a shell without XDG_RUNTIME_DIR: status, doctor, daemon status');
  result.bareStatus = await run(bareHeph(input.heph, ['status', '--json']));
  result.bareStatusHuman = await run(bareHeph(input.heph, ['status']));
  result.bareDoctor = await run(bareHeph(input.heph, ['doctor', '--json']));
  result.bareDaemonStatus = await run(bareHeph(input.heph, ['daemon', 'status']));

  say('install from that shell with a changed environment: nothing may be written');
  const unitBefore = readFileSync(unitFile, 'utf8');
  result.bareInstall = await run(
    bareHeph(input.heph, ['daemon', 'install'], { HTTPS_PROXY: 'http://127.0.0.1:9' }),
  );
  result.unitUnchanged = readFileSync(unitFile, 'utf8') === unitBefore;

  say('a config hephd refuses (exit 78): daemon restart must fail with the log');
  writeFileSync(paths.config, CONFIG.replace('"off"', '"sometimes"'));
  result.badRestart = await run(heph(input.heph, ['daemon', 'restart']));
  writeFileSync(paths.config, CONFIG);
  result.goodStart = await run(heph(input.heph, ['daemon', 'start']));

  say('stopped, then uninstalled: what status suggests');
  await run(heph(input.heph, ['daemon', 'stop']));
  result.stoppedStatus = await run(heph(input.heph, ['status']));
  result.purge = await run(heph(input.heph, ['daemon', 'uninstall', '--purge']));
  result.configDirLeft = existsSync(dirname(paths.config));
  result.uninstalledStatus = await run(heph(input.heph, ['status']));
}

await runScenario<Input>({ marker: 'SHELL-RESULT', inputVar: 'HEPH_SHELL_INPUT', body: main });
