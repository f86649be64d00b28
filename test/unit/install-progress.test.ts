// The download progress line: bar, percentage and sizes; nothing drawn when not on a TTY.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressBar, renderProgress } from '../../src/install/progress.js';

describe('progress', () => {
  it.each([
    [0, 2 * 2 ** 20, `x [${'-'.repeat(30)}]   0% 0.0 MiB/2.0 MiB`],
    [2 ** 20, 2 * 2 ** 20, `x [${'#'.repeat(15)}${'-'.repeat(15)}]  50% 1.0 MiB/2.0 MiB`],
    [3 * 2 ** 20, 2 * 2 ** 20, `x [${'#'.repeat(30)}] 100% 3.0 MiB/2.0 MiB`],
    [2 ** 20, null, 'x 1.0 MiB'],
  ])('renders %d of %s', (received, total, want) => {
    expect(renderProgress('x', received, total)).toBe(want);
  });

  it.each([
    [true, true],
    [false, false],
  ])('draws on a TTY only (isTTY=%s)', (isTTY, drawn) => {
    let text = '';
    const stream = Object.assign(
      new Writable({
        write(c, _e, cb) {
          text += String(c);
          cb();
        },
      }),
      { isTTY },
    );
    const bar = createProgressBar(stream, 'dl');
    bar.update(10, 10);
    bar.done();
    expect(text.includes('\r') && text.endsWith('\n')).toBe(drawn);
    if (!drawn) expect(text).toBe('');
  });
});
