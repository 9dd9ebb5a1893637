import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * The repository's test fixtures (packages/testing/fixtures: Hub snapshots, metric vectors, task
 * data; origins and licences in its README). They live in the repository, not in the published
 * package, so that a fresh clone's `npm test` needs nothing beside it. Large files are stored
 * gzipped; callers name them without `.gz` and get a plain file.
 */
export const fixturesDir = resolve(import.meta.dirname, '..', 'fixtures');

const decompressed = new Map<string, string>();

/**
 * The absolute path of a fixture as a plain file, e.g. `fixturePath('hub/models.jsonl')`.
 * A gzipped fixture is decompressed once into a temporary folder keyed by its content, so parallel
 * test processes share it and a changed fixture never reads a stale copy.
 */
export function fixturePath(name: string): string {
  const plain = join(fixturesDir, name);
  if (existsSync(plain)) return plain;
  const gzipped = `${plain}.gz`;
  if (!existsSync(gzipped)) {
    throw new Error(
      `No test fixture "${name}" in ${fixturesDir} (looked for ${name} and ${name}.gz). ` +
        'Fixtures ship with the prompt2model repository only (packages/testing/fixtures), not with the npm package.',
    );
  }
  const known = decompressed.get(gzipped);
  if (known) return known;
  const compressed = readFileSync(gzipped);
  const digest = createHash('sha256').update(compressed).digest('hex').slice(0, 16);
  const target = join(tmpdir(), 'prompt2model-test-fixtures', digest, name);
  if (!existsSync(target)) {
    mkdirSync(dirname(target), { recursive: true });
    // Write beside, then rename: another test process may be decompressing the same file.
    const partial = `${target}.${process.pid}.partial`;
    try {
      writeFileSync(partial, gunzipSync(compressed));
      renameSync(partial, target);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  decompressed.set(gzipped, target);
  return target;
}

/** A fixture's text (UTF-8). */
export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** A fixture parsed as JSON; the type is the caller's claim about the file. */
export function readJsonFixture<T>(name: string): T {
  return JSON.parse(readFixture(name)) as T;
}
