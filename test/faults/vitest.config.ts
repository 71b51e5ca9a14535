import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The fault-injection suite (`vitest run --config test/faults/vitest.config.ts`): whole-service
 * runs against the emulators with crashes, outages and poison records, each case ending with
 * the same lake check; the global setup prints the summary table at the end. Its files are named
 * *.fault.ts so the main suite (test/**\/*.test.ts) does not run them a second time.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/faults/**/*.fault.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
