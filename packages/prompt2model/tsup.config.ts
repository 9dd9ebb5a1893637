import { defineConfig } from 'tsup';

export default defineConfig({
  // The library (index), its test doubles (testing), the CLI's embeddable entry (program) and the bin (cli).
  entry: ['src/index.ts', 'src/testing.ts', 'src/program.ts', 'src/cli.ts'],
  format: ['esm'],
  // testing.ts loads the optional @prompt2model/testing at run time; its declarations re-export the package's.
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing-types.ts', program: 'src/program.ts', cli: 'src/cli.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
