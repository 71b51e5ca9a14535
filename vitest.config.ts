import { defineConfig } from 'vitest/config';

// Integration suites start real emulators (DynamoDB Local, kinesalite, s3rver, the Kafka mock
// cluster); on a 2-core machine they are kept from running all at once.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'config/**/*.test.ts', 'consumers/**/*.test.ts', 'sinks/**/*.test.ts', 'test/**/*.test.ts', 'deploy/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
