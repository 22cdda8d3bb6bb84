import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    // No test file may be silently empty: a run with no tests fails.
    passWithNoTests: false,
  },
});
