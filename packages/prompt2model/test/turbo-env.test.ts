import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// turbo runs `npm test` in strict env mode: a variable a test reads from the caller's environment
// (a browser path, a Python, a switch) reaches the test only when turbo.json passes it through.
const root = resolve(import.meta.dirname, '../../..');

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (entry === 'node_modules' || entry === 'dist') return [];
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? testFiles(path) : /\.[cm]?[tj]s$/.test(entry) ? [path] : [];
  });
}

describe('turbo.json test task', () => {
  it('passes through every P2M_ variable a test reads from the environment', () => {
    const turbo = JSON.parse(readFileSync(join(root, 'turbo.json'), 'utf8')) as { tasks: { test: { passThroughEnv?: string[] } } };
    const passed = new Set(turbo.tasks.test.passThroughEnv ?? []);
    const missing = new Set<string>();
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const dir = join(root, 'packages', pkg, 'test');
      if (!statSync(join(root, 'packages', pkg)).isDirectory()) continue;
      let files: string[];
      try {
        files = testFiles(dir);
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        for (const [, name] of text.matchAll(/process\.env\.(P2M_[A-Z0-9_]+)/g)) {
          // A variable the test sets itself is not read from the caller.
          if (new RegExp(`process\\.env\\.${name}\\s*=[^=]`).test(text)) continue;
          if (!passed.has(name!)) missing.add(`${name} (${file.slice(root.length + 1)})`);
        }
      }
    }
    expect([...missing]).toEqual([]);
  });
});
