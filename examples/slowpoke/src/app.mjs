// slowpoke as a heph app: its name, version, entry and forge, its work (serve) and its own
// command (sleep). Every file, unit and variable follows from the name: SLOWPOKE_HOME,
// slowpoked.service, $XDG_DATA_HOME/slowpoke/bin/slowpoked, …
import { readFileSync } from 'node:fs';
import { defineApp } from 'heph';
import { request, socketPath } from './client.mjs';
import { serve } from './serve.mjs';

/**
 * The version is read from the package.json beside dist/ at run time, so the one set by
 * `slowpoke release pack --version X` is the one the program reports (the install's smoke test
 * runs `slowpoke --version` and wants exactly X).
 */
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

export const app = defineApp({
  name: 'slowpoke',
  version: pkg.version,
  entry: 'dist/slowpoke.mjs',
  description: 'an HTTP service on a unix socket whose requests take seconds, kept up to date by heph',
  // Defaults only: the config file's [forge] table wins.
  forge: { kind: 'github', repo: 'example/slowpoke' },
  serve: (ctx) => serve(ctx, app.paths().runDir),
  commands(program) {
    program
      .command('sleep')
      .description('ask the daemon to sleep, and print its answer (rides out its restarts)')
      .option('--ms <ms>', 'how long the request takes', '1500')
      .option('--socket <path>', "the daemon's socket (default: slowpoke.sock in the app's run folder)")
      .action(async (opts) => {
        const path = opts.socket ?? socketPath(app.paths().runDir);
        const answer = await request(path, `/sleep?ms=${Number(opts.ms)}`, (p) => app.connect(p));
        process.stdout.write(`${JSON.stringify(answer)}\n`);
      });
  },
});
