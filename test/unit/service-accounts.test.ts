// Accounts from passwd/group text, the read-permission rule doctor applies for the service's
// user, and handing a real folder tree to a system service's user (root only: it chowns).
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canRead, chownTree, lookupAccount, readAccount } from '../../src/service/accounts.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nheph:x:998:997:heph:/var/lib/heph:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nheph:x:997:\nsecrets:x:500:ada,heph\nother:x:501:ada\n';

describe('accounts', () => {
  it('reads uid, primary and supplementary groups, home', () => {
    expect(lookupAccount('heph', PASSWD, GROUP)).toEqual({
      name: 'heph',
      uid: 998,
      gids: [997, 500],
      home: '/var/lib/heph',
      group: 'heph',
    });
    expect(lookupAccount('nobody-here', PASSWD, GROUP)).toBeNull();
  });

  const heph = lookupAccount('heph', PASSWD, GROUP)!;
  it.each([
    ['owner with 0600', { uid: 998, gid: 0, mode: 0o600 }, true],
    ['owner with 0200', { uid: 998, gid: 0, mode: 0o200 }, false],
    ['group member with 0640', { uid: 0, gid: 500, mode: 0o640 }, true],
    ['group member with 0600', { uid: 0, gid: 500, mode: 0o600 }, false],
    ['stranger with 0604', { uid: 0, gid: 0, mode: 0o604 }, true],
    ['stranger with 0600', { uid: 0, gid: 0, mode: 0o600 }, false],
  ])('%s → %s', (_n, st, expected) => {
    expect(canRead(st, heph)).toBe(expected);
  });

  it('root reads everything', () => {
    expect(canRead({ uid: 5, gid: 5, mode: 0o000 }, { name: 'root', uid: 0, gids: [0] })).toBe(true);
  });
});

describe('chownTree', () => {
  const nobody = readAccount('nobody');
  const missing =
    process.getuid?.() !== 0 ? 'not root (chown needs it)' : nobody === null ? 'no "nobody" account' : null;
  if (missing && process.env.CI !== 'true') console.warn(`chownTree test skipped: ${missing}`);
  it.skipIf(missing !== null && process.env.CI !== 'true')(
    'hands folders and files to the user, not the targets of links',
    () => {
      if (missing) throw new Error(`CI=true and this machine cannot run the chown test: ${missing}`);
      const root = mkdtempSync(join(tmpdir(), 'heph-chown-'));
      try {
        const tree = join(root, 'data');
        mkdirSync(join(tree, 'versions', '1.0.0'), { recursive: true });
        writeFileSync(join(tree, 'versions', '1.0.0', 'package.json'), '{}');
        const outside = join(root, 'outside');
        writeFileSync(outside, 'not ours');
        symlinkSync(outside, join(tree, 'link'));
        chownTree(tree, nobody!);
        for (const p of [tree, join(tree, 'versions'), join(tree, 'versions', '1.0.0', 'package.json')]) {
          expect(statSync(p).uid).toBe(nobody!.uid);
        }
        expect(lstatSync(join(tree, 'link')).uid).toBe(nobody!.uid);
        expect(statSync(outside).uid).toBe(0); // the link's target is left alone
        chownTree(join(root, 'missing'), nobody!); // nothing there: nothing to do
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  );
});
