import { defineConfig } from 'tsup';

export default defineConfig({
  // The library (index), the CLI's embeddable entry (program: runCli, createProgram) and the bin (cli).
  entry: ['src/index.ts', 'src/program.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
