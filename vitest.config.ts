import { defineConfig } from 'vitest/config';

// Integration and e2e tests spawn real processes and servers; 2-core CI wants few workers
// and generous per-test time. Timing is never asserted here (see bench/ for that).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
