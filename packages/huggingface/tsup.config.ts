import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'hub/index': 'src/hub/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
