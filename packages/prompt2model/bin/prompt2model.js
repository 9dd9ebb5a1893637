#!/usr/bin/env node
// Launcher of the prompt2model CLI. It is a committed file (not build output) so that npm links the
// `prompt2model` bin at install time, before the first build.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('error: the prompt2model CLI is not built yet.\nhint: run `npm run build` in the repository root first.\n');
  process.exit(1);
}
await import(cli.href);
