import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'build/**'],
    // The base guest is built (or found in the cache) once, before any test file runs.
    globalSetup: ['./test-setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 900_000,
  },
});
