// Turning a forge's JSON into checked values: JSON parsing, zod validation with errors that name
// the forge, the item and the field path, and the small field readers every client shares.
import { z } from 'zod';
import { HephError } from '../errors.js';
import { showUrl } from './failures.js';

/** Parses a JSON body; anything else is E_FORGE_PAYLOAD naming where it came from. */
export function parseJson(text: string, forge: string, url: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HephError('E_FORGE_PAYLOAD', `${forge} sent invalid JSON from ${showUrl(url)}`, {
      hint: 'check forge.url and forge.kind point at the forge API; try again later if it persists',
      details: { forge, url: showUrl(url) },
    });
  }
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input;
}

/** One zod issue as "path: expected X, got Y" (or zod's own message for other checks). */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  if (issue.code === 'invalid_type') {
    return `${path}: expected ${issue.expected}, got ${describeInput(issue.input)}`;
  }
  return `${path}: ${issue.message}`;
}

/**
 * Validates `value` against `schema`; unknown fields are ignored (z.object strips them), a
 * missing or mistyped field becomes E_FORGE_PAYLOAD: "github release 3: tag_name: expected string".
 */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  forge: string,
  what: string,
): z.output<T> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new HephError('E_FORGE_PAYLOAD', `${forge} ${what}: ${describeIssue(issue)}`, {
    hint: 'the forge answered in an unexpected shape; check forge.kind and forge.url, or report it',
    details: { forge, what, path: issue.path.map(String).join('.') },
  });
}

/** True for absolute http(s) URLs, the only ones heph downloads from a forge's answer. */
export function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** GitHub's `digest: "sha256:<hex>"` as lower-case hex; other algorithms or shapes give null. */
export function sha256FromDigest(digest: string | null | undefined): string | null {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(digest ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

/** The `rel="next"` target of a Link header (RFC 8288), or null. */
export function nextLink(link: string | undefined): string | null {
  if (!link) return null;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2]!)) return m[1]!;
  }
  return null;
}

/** Resolves `next` against the page it came from; a non-http(s) target is a payload error. */
export function resolveNext(next: string, base: string, forge: string): string {
  let url: string;
  try {
    url = new URL(next, base).href;
  } catch {
    url = '';
  }
  if (!isHttpUrl(url)) {
    throw new HephError('E_FORGE_PAYLOAD', `${forge} sent a next-page link that is not an http(s) URL`, {
      hint: 'check forge.url points at the forge API; report this if it does',
      details: { forge },
    });
  }
  return url;
}

/**
 * A GitHub-style release: Gitea and Forgejo copied GitHub's field names, so both read releases
 * with this shape around their own asset schema.
 */
export function githubStyleRelease<A extends z.ZodType>(asset: A) {
  return z.object({
    tag_name: z.string(),
    name: z.string().nullish(),
    body: z.string().nullish(),
    draft: z.boolean(),
    prerelease: z.boolean(),
    published_at: z.string().nullable(),
    html_url: z.string(),
    assets: z.array(asset),
  });
}

/** A page of releases is a JSON array; each item is then read on its own, so errors name its index. */
export const releasePage = z.array(z.unknown());

/** A release left out of a list because its entry could not be read (see readReleaseItems). */
export interface SkippedRelease {
  /** Its place in the page (or index). */
  index: number;
  /** Its tag when the entry names one as a string, else null. */
  tag: string | null;
  /** "github release 3 (v1.2.0): assets: expected array, got nothing". */
  problem: string;
}

/** Text from a forge shown in a terminal and a log: no control characters (escape sequences). */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function tagOf(item: unknown): string | null {
  if (item === null || typeof item !== 'object') return null;
  const o = item as Record<string, unknown>;
  const tag = o.tag_name ?? o.tag;
  return typeof tag === 'string' ? printable(tag.slice(0, 100)) : null;
}

/**
 * Reads each item of a page with `read`. One malformed release (a Gitea release without
 * `assets`, a hand-edited index entry) is skipped and reported in `skipped`, so it cannot stop
 * updates to every other release. A page none of whose items can be read is the wrong shape
 * altogether (another forge kind, an error object in a list): that throws the first item's
 * E_FORGE_PAYLOAD, as it always did.
 */
export function readReleaseItems<T>(
  items: readonly unknown[],
  read: (item: unknown, i: number) => T,
  skipped?: SkippedRelease[],
): T[] {
  const out: T[] = [];
  const bad: { index: number; error: HephError }[] = [];
  items.forEach((item, i) => {
    try {
      out.push(read(item, i));
    } catch (e) {
      if (!(e instanceof HephError) || e.code !== 'E_FORGE_PAYLOAD') throw e;
      bad.push({ index: i, error: e });
    }
  });
  if (bad.length > 0 && out.length === 0) throw bad[0]!.error;
  for (const { index, error } of bad) {
    const tag = tagOf(items[index]);
    const where = `release ${index}:`;
    const problem = tag === null ? error.message : error.message.replace(where, `release ${index} (${tag}):`);
    skipped?.push({ index, tag, problem: printable(problem.slice(0, 300)) });
  }
  return out;
}
