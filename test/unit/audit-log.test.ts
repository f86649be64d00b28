// The audit writer when its file cannot be written (disk full, a folder in the way): the decision
// it records still stands, the event still reaches the log, and nothing throws.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { appNames, HEPH_NAMES } from '../../src/app/identity.js';
import { appendAudit, readAudit } from '../../src/audit/log.js';
import { registerSecret } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/tmp.js';

describe('appendAudit', () => {
  it('appends one JSON line per event and reads them back newest first', () => {
    const file = join(tempDir('heph-audit-'), 'audit.jsonl');
    appendAudit(file, { event: 'update.checked', version: '1.0.0' }, undefined, HEPH_NAMES);
    appendAudit(file, { event: 'update.available', version: '1.1.0' }, undefined, HEPH_NAMES);
    expect(readAudit(file).map((e) => e.event)).toEqual(['update.available', 'update.checked']);
  });

  it("records an embedding app's messages in its names, and heph's as written", () => {
    const message = 'updates are paused; run `heph update resume` to resume';
    const event = { event: 'update.blocked', version: '1.3.0', reason: 'paused', message } as const;
    const acme = join(tempDir('heph-audit-'), 'audit.jsonl');
    const written = appendAudit(acme, event, undefined, appNames('acme'));
    expect(written.message).toBe('updates are paused; run `acme update resume` to resume');
    expect(readAudit(acme)[0]).toMatchObject({ reason: 'paused', message: written.message });
    const heph = join(tempDir('heph-audit-'), 'audit.jsonl');
    appendAudit(heph, event, undefined, HEPH_NAMES);
    expect(readAudit(heph)[0]?.message).toBe(message);
  });

  it("redacts a secret before renaming, so a token holding a heph name stays redacted in an app's audit", () => {
    const token = 'tok+hephd+HEPH_Zq9';
    registerSecret(token);
    const file = join(tempDir('heph-audit-'), 'audit.jsonl');
    const error = `the forge refused ${token} (401)`;
    appendAudit(file, { event: 'update.failed', version: '1.3.0', error }, undefined, appNames('acme'));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('the forge refused [redacted] (401)');
    expect(text).not.toContain('acmed');
    expect(text).not.toContain('tok+');
  });

  it('an unwritable audit file is logged with the event, never thrown', () => {
    const dir = tempDir('heph-audit-');
    writeFileSync(join(dir, 'state'), 'a file where the state folder should be');
    const file = join(dir, 'state', 'audit.jsonl'); // the folder cannot be made, as a broken disk would fail
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const event = appendAudit(file, { event: 'update.restarting', version: '1.1.0' }, logger, HEPH_NAMES);
    expect(event).toMatchObject({ event: 'update.restarting', version: '1.1.0' });
    const logged = JSON.parse(lines[0]!);
    expect(logged.msg).toMatch(/^cannot append to .*audit\.jsonl \((ENOTDIR|EEXIST)\)$/); // mkdir of the folder, or the append
    expect(logged.audit).toMatchObject({ event: 'update.restarting' });

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() =>
        appendAudit(file, { event: 'update.paused', version: '1.1.0' }, undefined, HEPH_NAMES),
      ).not.toThrow();
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/warning: cannot append .*update\.paused/);
    } finally {
      stderr.mockRestore();
    }
  });
});
