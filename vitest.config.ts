import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores on CI: keep workers at two so heavy suites do not starve each other.
    maxWorkers: 2,
  },
});
