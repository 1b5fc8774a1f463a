import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Real sockets and child processes: generous per-test bound, but every test is bounded.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    pool: 'forks',
    // Two cores: more workers only add contention to timing-sensitive network tests.
    maxWorkers: 2,
    env: { NO_COLOR: '1' },
  },
});
