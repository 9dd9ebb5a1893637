import { defineConfig } from 'tsup';

export default defineConfig({
  // The library (index), its test doubles (testing), the CLI's embeddable entry (program) and the bin (cli).
  entry: ['src/index.ts', 'src/testing.ts', 'src/program.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
