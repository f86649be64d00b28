// Reading units back: whatever render.ts writes, unitfile.ts must read as the same values
// (quoting, %% and $$ undone), and hand-written units in the shapes people really write.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { environmentLine, envFileLine, execWord } from '../../src/service/render.js';
import {
  parseEnvFile,
  parseTimeSpan,
  readSystemdUnit,
  splitSystemdWords,
} from '../../src/service/unitfile.js';

// printable text without control characters (render.ts refuses those)
const printable = fc.string({
  unit: fc.constantFrom(...'ab %$"\\\'=/:._-é'.split('')),
  minLength: 1,
  maxLength: 20,
});

describe('systemd words', () => {
  it('execWord → splitSystemdWords is the identity', () => {
    fc.assert(
      fc.property(fc.array(printable, { minLength: 1, maxLength: 4 }), (words) => {
        expect(splitSystemdWords(words.map(execWord).join(' '))).toEqual(words);
      }),
    );
  });

  it('environmentLine is read back as the same variable', () => {
    fc.assert(
      fc.property(printable, (value) => {
        const text = `[Service]\n${environmentLine('HEPH_X', value)}\nExecStart=/bin/true\n`;
        expect(readSystemdUnit('/u', text).environment.HEPH_X).toBe(value);
      }),
    );
  });

  it('envFileLine is read back as the same value', () => {
    fc.assert(
      fc.property(printable, (value) => {
        expect(parseEnvFile(envFileLine('HEPH_FORGE_TOKEN', value)).HEPH_FORGE_TOKEN).toBe(value);
      }),
    );
  });
});

describe('hand-written units', () => {
  it('reads the last Restart=, unquoted ExecStart, several Environment= words and optional files', () => {
    const text = [
      '[Unit]',
      'Description=x',
      '[Service]',
      'Restart=always',
      'Restart=on-failure',
      'ExecStart=/usr/bin/node /opt/heph/bin/hephd',
      'Environment=A=1 "B=two words"',
      'EnvironmentFile=-/etc/heph/env',
      'User=heph',
    ].join('\n');
    expect(readSystemdUnit('/etc/systemd/system/hephd.service', text)).toMatchObject({
      restart: 'on-failure',
      execStart: ['/usr/bin/node', '/opt/heph/bin/hephd'],
      environment: { A: '1', B: 'two words' },
      environmentFiles: ['/etc/heph/env'],
      runAs: 'heph',
      stamp: null,
    });
  });

  it('a unit without Restart= means systemd default (no)', () => {
    expect(readSystemdUnit('/u', '[Service]\nExecStart=/bin/x\n').restart).toBe('no');
  });

  it('environment files: comments, export, single and double quotes', () => {
    expect(parseEnvFile('# c\nexport A=1\nB="x \\"y\\""\nC=\'z\'\nbad line\n')).toEqual({
      A: '1',
      B: 'x "y"',
      C: 'z',
    });
  });
});

describe('TimeoutStopSec', () => {
  it('is read in the forms systemd units use', () => {
    expect(readSystemdUnit('/u', '[Service]\nExecStart=/bin/x\nTimeoutStopSec=45s\n').stopTimeoutSec).toBe(
      45,
    );
    expect(readSystemdUnit('/u', '[Service]\nExecStart=/bin/x\n').stopTimeoutSec).toBeNull();
    expect(parseTimeSpan('2min 5s')).toBe(125);
    expect(parseTimeSpan('90')).toBe(90);
    expect(parseTimeSpan('infinity')).toBe(Number.POSITIVE_INFINITY);
    expect(parseTimeSpan('soon')).toBeNull();
  });
});
