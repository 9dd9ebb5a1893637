import { defineConfig } from 'tsup';

export default defineConfig({
  // Light entries (errors, settings, registry, events) load without zod, for the CLI's fast start.
  entry: { index: 'src/index.ts', internal: 'src/internal.ts', 'errors/index': 'src/errors/index.ts', settings: 'src/settings.ts', registry: 'src/registry.ts', events: 'src/events.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
