import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration files share one Kafka and one ClickHouse on two cores: run files one by one.
    fileParallelism: false,
    // Each file in its own process: embedded ClickHouse (chdb) binds one data directory per process.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
