import { defineConfig } from 'vitest/config';

import { citusMissing } from './tests/support/citus-available.js';

// The Citus project: the same tests of the JSON and API loads and of the transform (the bundled figures,
// incremental = full, a killed run)
// and tests/citus.test.ts, on a coordinator and two workers started from Debian's PostgreSQL 15 with Citus
// (tests/support/citus-cluster.ts). Where Citus is not installed it is left out, and said so in one line.
const missing = citusMissing();
const citusFiles = ['tests/citus.test.ts', 'tests/load-json.test.ts', 'tests/load-api.test.ts', 'tests/transform-dataset.test.ts', 'tests/transform-incremental.test.ts', 'tests/transform-kill.test.ts'];
if (missing) console.log(`citus tests skipped: ${missing} (docs/scale-out.md says how to install it)`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/citus.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      ...(missing
        ? []
        : [
            {
              extends: true as const,
              test: {
                name: 'citus',
                include: citusFiles,
                globalSetup: ['tests/support/citus-setup.ts'],
                testTimeout: 180_000,
              },
            },
          ]),
    ],
  },
});
