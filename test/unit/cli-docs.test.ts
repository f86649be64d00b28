// docs/cli.md "update check" against the code it documents: every field of the --json document
// (the CheckReport interface, src/update/check.ts) and every `reason` word (the Reason union,
// src/release/types.ts) is listed there, so an addition to either cannot go undocumented.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

function section(doc: string, heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + heading.length + 2);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** The top-level members of `export interface NAME { … }` (two-space indented lines). */
function interfaceFields(source: string, name: string): string[] {
  const start = source.indexOf(`export interface ${name} {`);
  expect(start).toBeGreaterThan(-1);
  const body = source.slice(start, source.indexOf('\n}\n', start));
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

describe('docs/cli.md "update check"', () => {
  const doc = section(read('docs/cli.md'), '## `update check`');

  it('lists every field of the --json document', () => {
    const documented = [...doc.matchAll(/^\| ((?:`\w+`(?:, )?)+) \|/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`(\w+)`/g)].map((f) => f[1]!),
    );
    const fields = interfaceFields(read('src/update/check.ts'), 'CheckReport');
    expect(fields).toContain('requires');
    expect(fields.filter((f) => !documented.includes(f))).toEqual([]);
  });

  it('lists every reason word', () => {
    const types = read('src/release/types.ts');
    const union = types.slice(
      types.indexOf('export type Reason ='),
      types.indexOf(';', types.indexOf('export type Reason =')),
    );
    const reasons = [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
    expect(reasons).toContain('runtime');
    const line = doc.slice(doc.indexOf('Reasons:'));
    expect(reasons.filter((r) => !line.includes(`\`${r}\``))).toEqual([]);
  });
});
