// The package as a consumer gets it (docs/api.md): `import … from "heph"` resolves through
// package.json `exports`; the published declarations type-check a consumer under strict tsc
// (skipLibCheck off) and refuse a wrong option; the library entry runs with nothing beside it in
// node_modules (self-contained, like the CLI bundle).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTypes } from '../../scripts/build.mjs';
import { DIST, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** tsc over the whole declaration tree takes ~10 s alone, several times that on a busy machine. */
const TSC_TIMEOUT_MS = 240_000;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, Record<string, string>>;
};

describe('the published types', () => {
  let project: string;

  beforeAll(() => {
    // The suite's bundle (global-setup) is built without declarations; they are built here, into
    // a package folder laid out as npm installs it: package.json, dist/ (the suite's bundle plus
    // these types), and heph's own dependencies beside it (pino and commander types).
    project = tempDir('heph-consumer-');
    const heph = join(project, 'node_modules', 'heph');
    mkdirSync(join(heph, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(heph, 'package.json'));
    symlinkSync(join(DIST, 'index.mjs'), join(heph, 'dist', 'index.mjs'));
    symlinkSync(join(DIST, 'chunks'), join(heph, 'dist', 'chunks'));
    buildTypes(join(heph, 'dist')); // dist/types, inside the package as npm lays it out
    symlinkSync(join(ROOT, 'node_modules'), join(heph, 'node_modules'));
    // The consumer's own @types/node, as any TypeScript project on Node has.
    mkdirSync(join(project, 'node_modules', '@types'));
    symlinkSync(
      join(ROOT, 'node_modules', '@types', 'node'),
      join(project, 'node_modules', '@types', 'node'),
    );
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'acme', type: 'module', private: true }),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['good.ts', 'bad.ts'],
      }),
    );
    writeFileSync(join(project, 'good.ts'), GOOD);
    writeFileSync(join(project, 'bad.ts'), BAD);
  }, TSC_TIMEOUT_MS);

  it(
    'type-check a consumer using every export, and refuse each wrong option',
    () => {
      expect(pkg.exports['.']?.types).toBe('./dist/types/index.d.ts');
      const r = spawnSync(process.execPath, [TSC, '--noEmit', '-p', 'tsconfig.json', '--pretty', 'false'], {
        cwd: project,
        encoding: 'utf8',
        timeout: TSC_TIMEOUT_MS,
      });
      const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
      // Nothing in good.ts nor in any declaration file (heph's, or pino's and commander's it names).
      expect(errors.filter((l) => !l.startsWith('bad.ts('))).toEqual([]);
      const badLines = new Set(errors.map((l) => Number(/^bad\.ts\((\d+),/.exec(l)?.[1])));
      const wrongLines = BAD.split('\n')
        .map((l, i) => (l.includes('// wrong') ? i + 1 : 0))
        .filter((n) => n > 0);
      expect(wrongLines.length).toBe(6);
      expect([...badLines].sort((a, b) => a - b)).toEqual(wrongLines);
      expect(r.stdout).toMatch(/bad\.ts\(\d+,\d+\): error TS2322: Type '"svn"' is not assignable/);
      expect(r.status).toBe(2);
    },
    TSC_TIMEOUT_MS,
  );
});

describe('the library entry', () => {
  it('imports as "heph" and runs with nothing else in node_modules', () => {
    // package.json and dist/ only: what `npm pack` ships, minus the CLI-only templates.
    const project = tempDir('heph-alone-');
    const heph = join(project, 'node_modules', 'heph');
    mkdirSync(heph, { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(heph, 'package.json'));
    cpSync(DIST, join(heph, 'dist'), { recursive: true, filter: (src) => !src.includes(`${DIST}/types`) });
    writeFileSync(
      join(project, 'acme.mjs'),
      `import { defineApp, controlClient, connectWithGrace, EXIT, HephError, isHephError, RESTART_GRACE_MS } from 'heph';
const app = defineApp({ name: 'acme', version: '2.0.0', entry: 'dist/acme.mjs' });
if (process.argv[2] === 'exports') {
  let refused = null;
  try { defineApp({ name: 'a/b', version: '1.0.0', entry: 'x.mjs' }); } catch (e) { refused = isHephError(e, 'E_APP') && e instanceof HephError ? e.details.field : String(e); }
  console.log(JSON.stringify({ socket: controlClient('acme').paths.socket, connect: typeof connectWithGrace, exit: EXIT.notRunning, grace: RESTART_GRACE_MS, refused }));
} else await app.main(process.argv.slice(2));
`,
    );
    const env = { PATH: process.env.PATH ?? '', HOME: project, ACME_HOME: join(project, 'home') };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['acme.mjs', ...args], { cwd: project, env, encoding: 'utf8' });

    const exportsRun = run('exports');
    expect(exportsRun.stderr).toBe('');
    expect(JSON.parse(exportsRun.stdout)).toEqual({
      socket: join(project, 'home', 'run', 'acmed.sock'),
      connect: 'function',
      exit: 3,
      grace: 8000,
      refused: 'name',
    });
    expect(run('--version').stdout).toBe('2.0.0\n');
    // The command line (commander, chunks loaded on demand) under the app's name.
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: acme /);
    // A command that reaches the control client: not running, in the app's names.
    const status = run('status', '--json');
    expect(status.status).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false });
  });
});

/** A consumer of every export, as the docs show them. */
const GOOD = `import {
  type App,
  type AppSpec,
  type ClientOptions,
  type ControlClient,
  type ErrorCode,
  type Paths,
  type ServeContext,
  type StatusDocument,
  connectWithGrace,
  controlClient,
  defineApp,
  EXIT,
  HephError,
  isHephError,
  RESTART_GRACE_MS,
  RESTART_RETRY_MS,
} from 'heph';

interface AcmeConfig {
  port: number;
}

const spec: AppSpec<AcmeConfig> = {
  name: 'acme',
  version: '1.2.3',
  entry: 'dist/acme.mjs',
  forge: { kind: 'github', repo: 'acme/acme', tag_prefix: 'v' },
  description: 'acme, kept up to date',
  launchdPrefix: 'com.example',
  async serve(ctx: ServeContext<AcmeConfig>) {
    const port: number = ctx.config.port;
    ctx.logger.info({ port, version: ctx.version, name: ctx.name }, 'serving');
    const work = new Promise<string>((resolve) => setTimeout(() => resolve('done'), 10));
    const same: Promise<string> = ctx.track(work);
    ctx.signal.addEventListener('abort', () => void same);
  },
  commands(program) {
    program.command('hello').action(() => console.log('hello'));
  },
};
const app: App = defineApp(spec);
const code: number = await app.main(['--version']);
const paths: Paths = app.paths({ HOME: '/home/a' });
const socketFile: string = paths.socket;
const opts: ClientOptions = { env: { ACME_HOME: '/srv/acme' }, timeoutMs: 5_000 };
const client: ControlClient = controlClient('acme', opts);
const viaApp: ControlClient = await app.client();
const status: StatusDocument = await client.status();
const running: boolean = status.running;
const health: { ok: boolean; reason?: string } = await viaApp.health();
await client.pause('2h');
const socket = await connectWithGrace(socketFile, { stopMarker: paths.stopMarker, restartPlausible: () => false });
socket.end();
const own = await app.connect('/run/acme/acme.sock');
own.destroy();
try {
  await client.check();
} catch (e) {
  if (isHephError(e, 'E_NOT_RUNNING')) {
    const c: ErrorCode = e.code;
    const exit: number = e.exitCode;
    console.log(c, exit === EXIT.notRunning, e.hint, e.details);
  }
}
const mine = new HephError('E_APP', 'mine', { hint: 'fix it', details: { field: 'x' } });
console.log(code, running, health.ok, RESTART_GRACE_MS + RESTART_RETRY_MS, mine.exitCode, app.identity.daemon);
`;

/** One wrong use a line, each marked: tsc must refuse exactly these lines. */
const BAD = `import { controlClient, defineApp } from 'heph';

defineApp({ name: 'acme', version: '1.0.0', entry: 'a.mjs', forge: { kind: 'svn' } }); // wrong
defineApp({ name: 'acme', version: '1.0.0' }); // wrong
defineApp({ name: 'acme', version: '1.0.0', entry: 'a.mjs', forge: { repository: 'a/b' } }); // wrong
defineApp<{ port: number }>({
  name: 'acme',
  version: '1.0.0',
  entry: 'a.mjs',
  serve(ctx) {
    const port: string = ctx.config.port; // wrong
    ctx.track(42); // wrong
  },
});
await controlClient('acme').pause(2); // wrong
`;
