import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Builds the dashboard when dist/dashboard is missing or stale (browser tests serve it).
    globalSetup: ['test/dashboard/global-setup.ts'],
  },
});
