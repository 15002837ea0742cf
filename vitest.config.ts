import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share one Redis and one PostgreSQL; each isolates itself by prefix/schema,
    // so files may run in parallel, but two cores do not benefit from more than two.
    maxWorkers: 2,
  },
});
