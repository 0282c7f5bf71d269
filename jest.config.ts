/**
 * Two projects: `unit` (no database) and `integration` (real SQLite, PGlite and,
 * when AIMEMO_TEST_PG_URL is set, a PostgreSQL server). `npm test` runs both.
 * PGlite's CommonJS build uses dynamic import(), hence
 * NODE_OPTIONS=--experimental-vm-modules in the npm scripts.
 */
import type { Config } from 'jest';

const tsJest = { tsconfig: '<rootDir>/tests/tsconfig.json' };

const config: Config = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': ['ts-jest', tsJest] },
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': ['ts-jest', tsJest] },
      testMatch: ['<rootDir>/tests/{conformance,search,stores,migrations,packaging,facade,reliability,ops,cli}/**/*.test.ts'],
    },
  ],
  // A global option: inside `projects` jest ignores it. Integration tests start processes and servers.
  testTimeout: 60_000,
};

export default config;
