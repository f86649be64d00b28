// `heph update check` when the forge fails, as a user sees it: for each failure the exit code of
// docs/cli.md, one line saying what happened, one line saying what to do, and never the token.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { MAX_API_BODY_BYTES } from '../../src/forge/http.js';
import { configure, release, runningVersion } from '../helpers/check-cli.js';
import { runHeph, type Scratch, scratch } from '../helpers/cli.js';
import { type ForgeKindServed, startForge, type TestForge } from '../helpers/forge-server.js';

/** Sent with every run of this file; the last test looks for it in everything heph printed. */
const TOKEN = 'ghp_FailuresFile_0123456789abcdefABCDEF';
/** Short enough that the slow-headers case ends quickly, long enough that a healthy loopback answer beats it. */
const HEADERS_TIMEOUT_MS = 300;
/** How long the forge sits on the response in the slow-headers case: well past HEADERS_TIMEOUT_MS. */
const SLOW_FORGE_MS = 3_000;

/** stdout and stderr of every run in this file, for the token grep at the end. */
const outputs: string[] = [];

let forge: TestForge | undefined;
let home: Scratch;
beforeEach(() => {
  home = scratch('heph-check-fail-');
});
afterEach(async () => {
  await forge?.close();
  forge = undefined;
  home.cleanup();
});

interface Case {
  title: string;
  kind: ForgeKindServed;
  /** The repo the config names; the forge serves acme/heph. */
  repo?: string;
  /** The forge.url the config names, when not the forge's own. */
  url?: (h: Scratch) => string;
  /** Run without HEPH_FORGE_TOKEN (the hint differs when no token was sent). */
  anonymous?: boolean;
  env?: Record<string, string>;
  /** Set up the failure; called before each of the case's runs (faults are used up). */
  arm?: (f: TestForge) => void | Promise<void>;
  exit: number;
  code: ErrorCode;
  /** The whole first line after "heph: "; a RegExp where it carries a time. */
  message: (f: TestForge, h: Scratch) => string | RegExp;
  hint: string;
  /** For rate limits: the message names now + this many seconds as the time to try again. */
  retryInS?: number;
}

const releasesPath: Record<string, (repo: string) => string> = {
  github: (repo) => `/repos/${repo}/releases`,
  gitea: (repo) => `/api/v1/repos/${repo}/releases`,
  forgejo: (repo) => `/api/v1/repos/${repo}/releases`,
  gitlab: (repo) => `/api/v4/projects/${encodeURIComponent(repo)}/releases`,
  static: () => '/releases/index.json',
};
const at = (f: TestForge, repo = f.repo) => `${f.origin}${releasesPath[f.kind]!(repo)}`;

const TOKEN_REFUSED =
  'the token was refused: check that it is valid, not expired, and can read the repository';
const FORGE_TROUBLE = 'the forge has trouble right now; try again later';
const RATE_HINT = 'wait until then; a token (HEPH_FORGE_TOKEN or forge.token_file) raises the limit';
const NOT_JSON_HINT = 'check forge.url and forge.kind point at the forge API; try again later if it persists';
const NETWORK_HINT = 'check forge.url, the network and HTTPS_PROXY/HTTP_PROXY/NO_PROXY; try again later';
const SHAPE_HINT = 'the forge answered in an unexpected shape; check forge.kind and forge.url, or report it';
const TOO_BIG_HINT = 'check forge.url points at the forge API; report this if it does';
/** An HTTP-date two hours ahead, on a whole second (the format has no fractions). */
const RETRY_DATE = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2 * 3_600_000);
const rateMessage = (forge: string) =>
  new RegExp(`^${forge} rate limit reached: try again after (\\S+) \\(in [^)]+\\)$`);
/** The rate-limit message for a time the forge named exactly. */
const exactRate = (forge: string, when: Date) =>
  new RegExp(
    `^${forge} rate limit reached: try again after ${when.toISOString().replaceAll('.', '\\.')} \\(in [^)]+\\)$`,
  );

const CASES: Case[] = [
  {
    title: '403 without rate-limit headers: the token is refused (77)',
    kind: 'gitea',
    arm: (f) => f.failNext({ kind: 'status', status: 403, body: '{"message":"token does not have scope"}' }),
    exit: 77,
    code: 'E_FORGE_AUTH',
    message: (f) => `gitea refused the request (HTTP 403) for ${at(f)}`,
    hint: TOKEN_REFUSED,
  },
  {
    title: '404 for a repository that is not there, with a token',
    kind: 'github',
    repo: 'acme/gone',
    exit: 69,
    code: 'E_FORGE_NOT_FOUND',
    message: (f) => `github has nothing at ${at(f, 'acme/gone')} (HTTP 404)`,
    hint: 'check forge.url and forge.repo, and that the token can see the repository',
  },
  {
    title: '404 without a token: it may be private',
    kind: 'gitlab',
    repo: 'acme/gone',
    anonymous: true,
    exit: 69,
    code: 'E_FORGE_NOT_FOUND',
    message: (f) => `gitlab has nothing at ${at(f, 'acme/gone')} (HTTP 404)`,
    hint: 'check forge.url and forge.repo; a private repository also needs a token (HEPH_FORGE_TOKEN)',
  },
  {
    title: '502 from GitLab',
    kind: 'gitlab',
    arm: (f) => f.failNext({ kind: 'status', status: 502, body: '<html>Bad Gateway</html>' }),
    exit: 69,
    code: 'E_FORGE_UNREACHABLE',
    message: (f) => `gitlab answered HTTP 502 for ${at(f)}`,
    hint: FORGE_TROUBLE,
  },
  {
    title: '503 with Retry-After from Forgejo',
    kind: 'forgejo',
    arm: (f) => f.failNext({ kind: 'status', status: 503, headers: { 'retry-after': '30' } }),
    exit: 69,
    code: 'E_FORGE_UNREACHABLE',
    message: (f) => `forgejo answered HTTP 503 for ${at(f)}`,
    hint: FORGE_TROUBLE,
  },
  {
    title: "400 whose body echoes the request's token (heph does not print bodies)",
    kind: 'github',
    arm: (f) =>
      f.failNext({ kind: 'status', status: 400, body: JSON.stringify({ message: `bad token ${TOKEN}` }) }),
    exit: 69,
    code: 'E_FORGE_UNREACHABLE',
    message: (f) => `github answered HTTP 400 for ${at(f)}`,
    hint: 'check forge.url and forge.kind; try again later',
  },
  {
    title: "GitHub's secondary limit: 429 with Retry-After in seconds",
    kind: 'github',
    arm: (f) => f.failNext({ kind: 'status', status: 429, headers: { 'retry-after': '120' } }),
    exit: 69,
    code: 'E_FORGE_RATE_LIMITED',
    message: () => rateMessage('github'),
    hint: RATE_HINT,
    retryInS: 120,
  },
  {
    title: 'GitLab 429 with Retry-After',
    kind: 'gitlab',
    arm: (f) =>
      f.failNext({
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '90', 'ratelimit-remaining': '0' },
        body: '{"message":"Retry later"}',
      }),
    exit: 69,
    code: 'E_FORGE_RATE_LIMITED',
    message: () => rateMessage('gitlab'),
    hint: RATE_HINT,
    retryInS: 90,
  },
  {
    title: 'GitLab 429 with no header at all: a minute, as GitHub advises',
    kind: 'gitlab',
    arm: (f) => f.failNext({ kind: 'status', status: 429 }),
    exit: 69,
    code: 'E_FORGE_RATE_LIMITED',
    message: () => rateMessage('gitlab'),
    hint: RATE_HINT,
    retryInS: 60,
  },
  {
    title: '403 with x-ratelimit-remaining: 0 and a reset given as seconds from now (a proxy before Gitea)',
    kind: 'gitea',
    arm: (f) =>
      f.failNext({
        kind: 'status',
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '300' },
      }),
    exit: 69,
    code: 'E_FORGE_RATE_LIMITED',
    message: () => rateMessage('gitea'),
    hint: RATE_HINT,
    retryInS: 300,
  },
  {
    title: 'GitHub 403 with x-ratelimit-remaining: 0 and no reset: a minute',
    kind: 'github',
    arm: (f) => f.failNext({ kind: 'status', status: 403, headers: { 'x-ratelimit-remaining': '0' } }),
    exit: 69,
    code: 'E_FORGE_RATE_LIMITED',
    message: () => rateMessage('github'),
    hint: RATE_HINT,
    retryInS: 60,
  },
  {
    title: 'invalid JSON',
    kind: 'github',
    arm: (f) => f.failNext({ kind: 'garbage' }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: (f) => `github sent invalid JSON from ${at(f)}`,
    hint: NOT_JSON_HINT,
  },
  {
    title: "an HTML page with status 200 (a captive portal or a proxy's login page)",
    kind: 'gitlab',
    arm: (f) =>
      f.failNext({
        kind: 'status',
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: '<!doctype html><title>Sign in to the network</title>',
      }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: (f) => `gitlab sent invalid JSON from ${at(f)}`,
    hint: NOT_JSON_HINT,
  },
  {
    title: 'JSON of the wrong shape names the release and the field',
    kind: 'github',
    arm: (f) => f.failNext({ kind: 'status', status: 200, body: '[{"tag_name": 7}]' }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: () => /^github release 0: tag_name: expected string, got number$/,
    hint: SHAPE_HINT,
  },
  {
    title: 'slow headers (HEPH_HTTP_HEADERS_TIMEOUT_MS)',
    kind: 'gitea',
    env: { HEPH_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) },
    arm: (f) => f.failNext({ kind: 'slow', ms: SLOW_FORGE_MS }),
    exit: 69,
    code: 'E_FORGE_UNREACHABLE',
    message: (f) => `cannot reach gitea at ${at(f)}: timed out waiting for the response headers`,
    hint: NETWORK_HINT,
  },
  {
    title: 'a body over the API cap, announced by Content-Length (release notes of 5 MiB)',
    kind: 'github',
    arm: (f) =>
      f.publish({
        tag: 'v1.2.1',
        notes: 'x'.repeat(MAX_API_BODY_BYTES + 1024 * 1024),
        assets: [{ name: 'heph-1.2.1.tgz', content: 'heph 1.2.1' }],
      }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: (f) =>
      `github sent more than ${MAX_API_BODY_BYTES / 1024} KiB from ${at(f)}; refusing to read more`,
    hint: TOO_BIG_HINT,
  },
  {
    title: 'a body over the API cap with no Content-Length (chunked)',
    kind: 'gitlab',
    arm: (f) =>
      f.failNext({ kind: 'status', status: 200, body: `[${'1,'.repeat(MAX_API_BODY_BYTES / 2)}1]` }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: (f) =>
      `gitlab sent more than ${MAX_API_BODY_BYTES / 1024} KiB from ${at(f)}; refusing to read more`,
    hint: TOO_BIG_HINT,
  },
  {
    title: 'JSON of the wrong kind: an object where GitHub sends a list',
    kind: 'github',
    arm: (f) => f.failNext({ kind: 'status', status: 200, body: '{"message":"Moved"}' }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: () => 'github releases: (top level): expected array, got object',
    hint: SHAPE_HINT,
  },
  {
    title: 'GitLab 403 with RateLimit-Remaining: 0 and RateLimit-Reset as epoch seconds',
    kind: 'gitlab',
    arm: (f) =>
      f.failNext({
        kind: 'status',
        status: 403,
        headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': String(RETRY_DATE.getTime() / 1000) },
      }),
    exit: 69,
    code: 'E_FORGE_RATE_LIMITED',
    message: () => exactRate('gitlab', RETRY_DATE),
    hint: RATE_HINT,
  },
  {
    title: 'static index: 500',
    kind: 'static',
    arm: (f) => f.failNext({ kind: 'status', status: 500 }),
    exit: 69,
    code: 'E_FORGE_UNREACHABLE',
    message: (f) => `static answered HTTP 500 for ${at(f)}`,
    hint: FORGE_TROUBLE,
  },
  {
    title: 'static index: 429 with Retry-After as an HTTP-date',
    kind: 'static',
    arm: (f) =>
      f.failNext({ kind: 'status', status: 429, headers: { 'retry-after': RETRY_DATE.toUTCString() } }),
    exit: 69,
    code: 'E_FORGE_RATE_LIMITED',
    message: () => exactRate('static', RETRY_DATE),
    hint: RATE_HINT,
  },
  {
    title: 'static index: a release with a number for its tag',
    kind: 'static',
    arm: (f) => f.failNext({ kind: 'status', status: 200, body: '{"releases":[{"tag":1}]}' }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: () => 'static release 0: tag: expected string, got number',
    hint: SHAPE_HINT,
  },
  {
    title: 'static index over the API cap',
    kind: 'static',
    arm: (f) => f.publish({ tag: 'v1.2.1', notes: 'x'.repeat(MAX_API_BODY_BYTES + 1024 * 1024), assets: [] }),
    exit: 69,
    code: 'E_FORGE_PAYLOAD',
    message: (f) =>
      `static sent more than ${MAX_API_BODY_BYTES / 1024} KiB from ${at(f)}; refusing to read more`,
    hint: TOO_BIG_HINT,
  },
  {
    title: 'static file:// folder without an index.json',
    kind: 'static',
    url: (h) => `file://${h.home}/no-releases/`,
    exit: 69,
    code: 'E_FORGE_NOT_FOUND',
    message: (_f, h) => `static: cannot read ${h.home}/no-releases/index.json (ENOENT)`,
    hint: 'check forge.url and that the release folder holds this file (`heph release index DIR`)',
  },
  {
    title: 'static index: 404 (the hint is about forge.url: a static source has no repo)',
    kind: 'static',
    arm: (f) => f.failNext({ kind: 'status', status: 404 }),
    exit: 69,
    code: 'E_FORGE_NOT_FOUND',
    message: (f) => `static has nothing at ${at(f)} (HTTP 404)`,
    hint: 'check forge.url: it names index.json or the folder that holds it (`heph release index DIR` writes one)',
  },
  {
    title: 'a token with a second line is a configuration error, not a network failure',
    kind: 'github',
    env: { HEPH_FORGE_TOKEN: 'ghp_TwoLineToken_0123456789\n# my work token' },
    exit: 78,
    code: 'E_CONFIG',
    message: () =>
      'HEPH_FORGE_TOKEN does not hold a single token: it has spaces, line breaks or non-ASCII characters',
    hint: 'keep only the token in it, on one line (no comments)',
  },
  {
    title: 'nobody listening on the port',
    kind: 'gitlab',
    arm: (f) => f.close(),
    exit: 69,
    code: 'E_FORGE_UNREACHABLE',
    message: (f) => `cannot reach gitlab at ${at(f)}: connection refused`,
    hint: NETWORK_HINT,
  },
];

interface ErrorDoc {
  error: { code: string; message: string; hint: string | null; exitCode: number };
}

describe.each(CASES)('heph update check: $title', (c) => {
  it(`exits ${c.exit} with ${c.code}, one line of what happened and one of what to do`, async () => {
    forge = await startForge({ kind: c.kind });
    forge.requireToken(TOKEN);
    release(forge, '1.2.0');
    configure(home, { ...forge, repo: c.repo ?? forge.repo, url: c.url?.(home) ?? forge.url });
    runningVersion(home, '1.2.0');
    const env = {
      ...home.env,
      HEPH_LOG_LEVEL: 'debug',
      ...(c.anonymous ? {} : { HEPH_FORGE_TOKEN: TOKEN }),
      ...c.env,
    };
    if (c.anonymous) forge.requireToken(null);
    const expected = c.message(forge, home);

    // The human and the --json run go together (one fault armed for each): they are independent
    // processes, and running them side by side keeps this file's time in bounds.
    const modes = [
      ['update', 'check', '--exit-code'],
      ['update', 'check', '--json'],
    ];
    for (const _ of modes) await c.arm?.(forge);
    const before = Date.now();
    const runs = await Promise.all(modes.map((args) => runHeph(args, env)));
    const after = Date.now();
    for (const [i, r] of runs.entries()) {
      outputs.push(r.stdout, r.stderr);
      expect(r.exitCode, r.stderr).toBe(c.exit);
      const lines = r.stderr.split('\n');
      expect(lines, r.stderr).toHaveLength(2); // execa drops the final newline
      expect(lines[0]!.startsWith('heph: ')).toBe(true);
      const message = lines[0]!.slice('heph: '.length);
      if (typeof expected === 'string') expect(message).toBe(expected);
      else expect(message).toMatch(expected);
      expect(lines[1]).toBe(`  ${c.hint}`);
      if (c.retryInS !== undefined) {
        const when = Date.parse(rateMessage(c.kind).exec(message)?.[1] ?? '');
        expect(when).toBeGreaterThanOrEqual(before + c.retryInS * 1000);
        expect(when).toBeLessThanOrEqual(after + c.retryInS * 1000);
      }
      if (modes[i]!.includes('--json')) {
        const doc = JSON.parse(r.stdout) as ErrorDoc;
        expect(doc).toEqual({ error: { code: c.code, message, hint: c.hint, exitCode: c.exit } });
      } else {
        expect(r.stdout).toBe('');
      }
    }
  });
});

describe('the token', () => {
  it('appears in no output of any run in this file (stdout and stderr, at debug level)', () => {
    // Every case runs twice; filtering the file with -t leaves too few runs for this to mean anything.
    expect(outputs.length).toBe(CASES.length * 2 * 2);
    const tail = TOKEN.slice(-12);
    for (const out of outputs) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(tail);
    }
  });
});
