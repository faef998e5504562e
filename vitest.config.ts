import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores here: more workers only thrash.
    maxWorkers: 2,
    testTimeout: 60_000,
  },
});
