import { basename, resolve } from 'node:path';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One config for every package: each package's `npm test` runs `vitest run --config ../../vitest.config.ts`.
const root = import.meta.dirname;
const packagesDir = resolve(root, 'packages');

// Tests import sibling packages from source, so a test never runs against a stale build.
// Subpath exports (`@prompt2model/huggingface/hub`, `prompt2model/testing`) map to `src/<sub>/index.ts`
// or `src/<sub>.ts`, listed before the package root so the more specific name wins.
const alias = readdirSync(packagesDir)
  .filter((dir) => existsSync(resolve(packagesDir, dir, 'src/index.ts')))
  .flatMap((dir) => {
    const name = dir === 'prompt2model' ? 'prompt2model' : `@prompt2model/${dir}`;
    const manifest = JSON.parse(readFileSync(resolve(packagesDir, dir, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
    const subpaths = Object.keys(manifest.exports ?? {})
      .filter((key) => key.startsWith('./') && key !== './package.json')
      .flatMap((key) => {
        const sub = key.slice(2);
        const source = [`src/${sub}/index.ts`, `src/${sub}.ts`].map((file) => resolve(packagesDir, dir, file)).find((file) => existsSync(file));
        return source ? [{ find: new RegExp(`^${name}/${sub}$`), replacement: source }] : [];
      });
    return [...subpaths, { find: new RegExp(`^${name}$`), replacement: resolve(packagesDir, dir, 'src/index.ts') }];
  });

const reportDir = process.env.P2M_TEST_REPORT_DIR;
const packageName = basename(process.cwd());

export default defineConfig({
  resolve: { alias },
  test: {
    // One layout for every package: tests live in test/ (the architecture test keeps src/ free of them).
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: reportDir ? ['default', 'json'] : ['default'],
    outputFile: reportDir ? { json: resolve(reportDir, `${packageName}.json`) } : undefined,
    passWithNoTests: false,
  },
});
