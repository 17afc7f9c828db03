import { defineConfig } from 'vitest/config';

// In-repo packages resolve to their TypeScript sources through the "@rovkit/source"
// export condition, so tests never depend on a stale build.
const conditions = ['@rovkit/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
