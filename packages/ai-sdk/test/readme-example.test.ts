import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RUN_FILES } from '@prompt2model/core/internal';
import { buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';

// The README's example, run as written in a child process (the built package, the real `ai`),
// in a folder whose `runs/sentiment` is a run folder with a tiny ONNX student.
const packageDir = resolve(import.meta.dirname, '..');
const root = resolve(packageDir, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-ai-sdk-readme-'));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // A user's ES module project (the example awaits at the top level).
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const run = join(dir, 'runs/sentiment');
  await buildTinySeq2Seq(join(run, 'student'), { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  await writeFile(join(run, RUN_FILES.promptSpec), JSON.stringify({ instruction: 'Classify the sentiment of the review.', examples: [], language: 'en' }));
  await writeFile(join(run, RUN_FILES.trainedModel), JSON.stringify({ backend: 'local', reference: 'student', kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('runs the README example as written', async () => {
  const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
  const example = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toContain("createStudent({ model: 'runs/sentiment' })");
  await writeFile(join(dir, 'example.ts'), example!);
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'example.ts'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const [first, second] = run.stdout.trim().split('\n');
  // The answer, its token count and the confidence; then the streamed answer.
  expect(first).toMatch(/^positive 1 (0\.\d+|1)$/);
  expect(second).toBe('negative');
}, 90_000);

it('runs the README\'s provider registry example as written', async () => {
  const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
  const example = /### With the AI SDK's provider registry[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toContain("registry.languageModel('student:runs/sentiment')");
  await writeFile(join(dir, 'registry.ts'), `${example!}console.log(text);\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'registry.ts'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout.trim()).toBe('positive');
}, 90_000);
