import { basename, resolve } from 'node:path';
import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One config for every package: each package's `npm test` runs `vitest run --config ../../vitest.config.ts`.
const root = import.meta.dirname;
const packagesDir = resolve(root, 'packages');

// Tests import sibling packages from source, so a test never runs against a stale build.
const alias = readdirSync(packagesDir)
  .filter((dir) => existsSync(resolve(packagesDir, dir, 'src/index.ts')))
  .map((dir) => ({
    find: new RegExp(`^${dir === 'prompt2model' ? 'prompt2model' : `@prompt2model/${dir}`}$`),
    replacement: resolve(packagesDir, dir, 'src/index.ts'),
  }));

const reportDir = process.env.P2M_TEST_REPORT_DIR;
const packageName = basename(process.cwd());

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: reportDir ? ['default', 'json'] : ['default'],
    outputFile: reportDir ? { json: resolve(reportDir, `${packageName}.json`) } : undefined,
    passWithNoTests: false,
  },
});
