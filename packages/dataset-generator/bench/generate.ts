/**
 * `node --import tsx packages/dataset-generator/bench/generate.ts [options]` (or `npm run bench` in
 * the package): runs bench/generate-run.ts with workspace packages resolved to their sources (see
 * bench/tsconfig.json), so the benchmark measures the code in the tree, built or not.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'generate-run.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TSX_TSCONFIG_PATH: resolve(import.meta.dirname, 'tsconfig.json') },
});
child.on('exit', (code) => process.exit(code ?? 1));
