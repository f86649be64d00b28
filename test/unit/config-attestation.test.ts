// The [install] keys of verify = "attestation": validation names the key, defaults fill in, and
// `config set` writes the nested [install.attestation] table.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setConfigValue } from '../../src/config/edit.js';
import { loadConfig } from '../../src/config/load.js';
import { KNOWN_KEYS } from '../../src/config/schema.js';
import { HephError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

function file(text: string): string {
  const f = join(tempDir('heph-config-att-'), 'config.toml');
  writeFileSync(f, text);
  return f;
}

function error(text: string): HephError {
  try {
    loadConfig(file(text), {});
  } catch (e) {
    if (e instanceof HephError) return e;
    throw e;
  }
  throw new Error('expected a HephError');
}

const BASE = '[forge]\nrepo = "octo/heph"\n[install]\nverify = "attestation"\n';

describe('install.verify = "attestation"', () => {
  it('takes the repository from forge.repo and defaults the rest', () => {
    const { config } = loadConfig(
      file(`${BASE}[install.attestation]\nworkflow = ".github/workflows/release.yml"\n`),
      {},
    );
    expect(config.install.verify).toBe('attestation');
    expect(config.install.trusted_root).toBe('');
    expect(config.install.attestation).toEqual({
      repo: '',
      workflow: '.github/workflows/release.yml',
      ref: 'refs/tags/*',
      issuer: 'https://token.actions.githubusercontent.com',
      github_hosted_only: true,
    });
  });

  it.each([
    ['no workflow', BASE, 'install.attestation.workflow', /required when install.verify = "attestation"/],
    [
      'a workflow with a ref in it',
      `${BASE}[install.attestation]\nworkflow = ".github/workflows/r.yml@main"\n`,
      'install.attestation.workflow',
      /a path inside the repository/,
    ],
    [
      'a repository that is not OWNER/NAME',
      `${BASE}[install.attestation]\nworkflow = "w.yml"\nrepo = "octo"\n`,
      'install.attestation.repo',
      /expected OWNER\/NAME, got "octo"/,
    ],
    [
      'no repository at all',
      '[install]\nverify = "attestation"\n[install.attestation]\nworkflow = "w.yml"\n',
      'install.attestation.repo',
      /forge.repo is not a GitHub OWNER\/NAME/,
    ],
    [
      'an http issuer',
      `${BASE}[install.attestation]\nworkflow = "w.yml"\nissuer = "http://example.com"\n`,
      'install.attestation.issuer',
      /https:\/\/ URL/,
    ],
    [
      'another install method',
      `${BASE}method = "npm"\n[install.attestation]\nworkflow = "w.yml"\n`,
      'install.verify',
      /method = "bundle" only/,
    ],
    [
      'an unknown key',
      `${BASE}[install.attestation]\nworkflow = "w.yml"\nrepository = "a/b"\n`,
      'install.attestation',
      /unknown key "install.attestation.repository"/,
    ],
    ['a verify mode that does not exist', '[install]\nverify = "slsa"\n', 'install.verify', /"attestation"/],
    [
      'a relative trusted root',
      `${BASE}trusted_root = "roots/trusted-root.jsonl"\n[install.attestation]\nworkflow = "w.yml"\n`,
      'install.trusted_root',
      /expected an absolute path.*got "roots\/trusted-root\.jsonl"/,
    ],
  ])('refuses %s, naming the key', (_what, text, key, message) => {
    const e = error(text);
    expect(e.code).toBe('E_CONFIG');
    expect(e.details.key).toBe(key);
    expect(e.message).toMatch(message);
  });

  it.each([['/etc/heph/trusted-root.jsonl'], ['~/trusted-root.jsonl'], ['']])(
    'takes trusted_root = "%s" (absolute, under ~/, or the shipped root)',
    (path) => {
      const text = `${BASE}trusted_root = "${path}"\n[install.attestation]\nworkflow = "w.yml"\n`;
      expect(loadConfig(file(text), {}).config.install.trusted_root).toBe(path);
    },
  );

  it('refuses a relative trusted root with the configuration exit code', () => {
    const e = error(`${BASE}trusted_root = "root.json"\n[install.attestation]\nworkflow = "w.yml"\n`);
    expect(e.code).toBe('E_CONFIG');
    expect(e.exitCode).toBe(78);
  });

  it('lists the nested keys and sets them into an [install.attestation] table', () => {
    expect(KNOWN_KEYS).toEqual(
      expect.arrayContaining([
        'install.trusted_root',
        'install.attestation.workflow',
        'install.attestation.ref',
      ]),
    );
    const f = file('[forge]\nrepo = "octo/heph"\n# keep me\n');
    setConfigValue(f, 'install.attestation.workflow', '.github/workflows/release.yml');
    setConfigValue(f, 'install.verify', 'attestation');
    setConfigValue(f, 'install.attestation.github_hosted_only', 'false');
    const text = readFileSync(f, 'utf8');
    expect(text).toContain('# keep me');
    expect(text).toContain('[install.attestation]');
    const { config } = loadConfig(f, {});
    expect(config.install.attestation.workflow).toBe('.github/workflows/release.yml');
    expect(config.install.attestation.github_hosted_only).toBe(false);
    expect(config.install.verify).toBe('attestation');
  });
});
