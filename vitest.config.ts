import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@autocap/source'] },
  ssr: { resolve: { conditions: ['@autocap/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    setupFiles: ['./vitest.setup.ts'],
  },
});
