// Supervisor and container detection as tables over fake environments and probe files, and
// which environment means systemd socket activation.
import { describe, expect, it } from 'vitest';
import { HEPH_NAMES } from '../../src/app/identity.js';
import { serviceNames } from '../../src/app/service-names.js';
import {
  activatedFd,
  cgroupIsService,
  detectContainer,
  detectSupervisor,
  type Probe,
} from '../../src/platform/supervisor.js';

function probe(files: Record<string, string>): Probe {
  return { read: (p) => files[p], exists: (p) => p in files };
}

const SERVICE_V2 = '0::/user.slice/user-1000.slice/user@1000.service/app.slice/hephd.service\n';
const SCOPE_V2 = '0::/user.slice/user-1000.slice/session-3.scope\n';
const SERVICE_V1 = '12:pids:/system.slice/hephd.service\n1:name=systemd:/system.slice/hephd.service\n';

const HEPH_LABELS = [serviceNames(HEPH_NAMES).launchdLabel];

describe('cgroupIsService', () => {
  it.each([
    [SERVICE_V2, true],
    [SERVICE_V1, true],
    [SCOPE_V2, false],
    ['0::/\n', false],
    ['', false],
    [undefined, false],
  ])('%j → %s', (text, want) => {
    expect(cgroupIsService(text)).toBe(want);
  });
});

describe('detectSupervisor', () => {
  it('systemd needs INVOCATION_ID and a .service leaf', () => {
    expect(
      detectSupervisor({ INVOCATION_ID: 'abc' }, probe({ '/proc/self/cgroup': SERVICE_V2 }), HEPH_LABELS),
    ).toBe('systemd');
  });
  it('a shell in a scope inherits INVOCATION_ID but is not supervised', () => {
    expect(
      detectSupervisor({ INVOCATION_ID: 'abc' }, probe({ '/proc/self/cgroup': SCOPE_V2 }), HEPH_LABELS),
    ).toBe('none');
  });
  it('a .service cgroup without INVOCATION_ID is not enough', () => {
    expect(detectSupervisor({}, probe({ '/proc/self/cgroup': SERVICE_V2 }), HEPH_LABELS)).toBe('none');
  });
  it('launchd sets XPC_SERVICE_NAME to the job label; a terminal has "0", an app shell its own label', () => {
    expect(detectSupervisor({ XPC_SERVICE_NAME: 'dev.heph.hephd' }, probe({}), HEPH_LABELS)).toBe('launchd');
    expect(detectSupervisor({ XPC_SERVICE_NAME: '0' }, probe({}), HEPH_LABELS)).toBe('none');
    expect(
      detectSupervisor({ XPC_SERVICE_NAME: 'application.com.microsoft.VSCode.1' }, probe({}), HEPH_LABELS),
    ).toBe('none');
    expect(detectSupervisor({ XPC_SERVICE_NAME: 'org.example.job' }, probe({}), ['org.example.job'])).toBe(
      'launchd',
    );
  });

  it("knows the label heph's launchd plist uses, and an app's", () => {
    expect(serviceNames(HEPH_NAMES).launchdLabel).toBe('dev.heph.hephd');
    expect(
      serviceNames({ ...HEPH_NAMES, name: 'acme', daemon: 'acmed', launchdPrefix: 'com.acme' }).launchdLabel,
    ).toBe('com.acme.acmed');
  });
});

describe('detectContainer', () => {
  it.each([
    [{}, { '/.dockerenv': '' }, '/.dockerenv'],
    [{}, { '/run/.containerenv': '' }, '/run/.containerenv'],
    [{ container: 'podman' }, {}, 'container=podman'],
    [{}, { '/proc/1/cgroup': '12:cpu:/kubepods/besteffort/pod1/abc\n' }, '/proc/1/cgroup'],
    [{}, { '/proc/1/cgroup': '0::/init.scope\n' }, null],
    [{}, {}, null],
  ])('env %j files %j → %s', (env, files, want) => {
    expect(detectContainer(env, probe(files))).toBe(want);
  });
});

describe('activatedFd', () => {
  it('fd 3 only when LISTEN_PID is this pid and LISTEN_FDS ≥ 1', () => {
    expect(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42)).toBe(3);
    expect(activatedFd({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42)).toBeNull();
    expect(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42)).toBeNull();
    expect(activatedFd({}, 42)).toBeNull();
  });
});
