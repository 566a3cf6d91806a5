import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A temporary folder for the run (TMPDIR) and the committed datasets expanded into it; removed at the end.
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores on CI: keep workers at two so heavy suites do not starve each other.
    maxWorkers: 2,
  },
});
