// The daemon's log lines in an embedding app's names: the messages and hints written in heph's
// (`heph config validate`, hephd, HEPH_HOME) reach the journal in the app's, paths as they are;
// heph's own lines are written unchanged.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { appNames, type AppNames } from '../../src/app/identity.js';
import { createLogger } from '../../src/platform/logger.js';

function logged(app: AppNames | undefined): Record<string, unknown> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c) => (out += c));
  const logger = createLogger({ stream, pretty: false, ...(app ? { app } : {}) });
  logger.error(
    { hint: 'fix the syntax, then run `heph config validate`', config: '/home/u/heph-data/config.toml' },
    'hephd cannot read HEPH_HOME/config.toml',
  );
  return JSON.parse(out);
}

describe('createLogger', () => {
  it("writes an embedding app's lines in its names, paths untouched", () => {
    expect(logged(appNames('acme'))).toMatchObject({
      msg: 'acmed cannot read ACME_HOME/config.toml',
      hint: 'fix the syntax, then run `acme config validate`',
      config: '/home/u/heph-data/config.toml',
    });
  });

  it("writes heph's lines as they are", () => {
    const as = {
      msg: 'hephd cannot read HEPH_HOME/config.toml',
      hint: 'fix the syntax, then run `heph config validate`',
    };
    expect(logged(appNames('heph'))).toMatchObject(as);
    expect(logged(undefined)).toMatchObject(as);
  });
});
