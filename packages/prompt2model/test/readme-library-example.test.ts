import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from './support/run-script.js';
import { fnv1a32 } from '@prompt2model/core/internal';
import { startHubServer, startOpenAICompatibleServer, type ChatCompletionRequestBody, type ChatRequestInfo, type HubServer, type OpenAICompatibleServer } from '@prompt2model/testing';

// The README's "As a library" code, run as written: examples/library/pipeline.ts is that code (the
// first test keeps them identical), and it runs unchanged in a child process against a reachable
// teacher (the loopback OpenAI-compatible server through OPENAI_BASE_URL) and a reachable Hub (the
// loopback Hub through HF_ENDPOINT). The default local trainer runs the stand-in worker that
// speaks the Python worker's protocol (through P2M_PYTHON), so no GPU or torch is needed.
const root = resolve(import.meta.dirname, '../../..');
const EXAMPLE = join(root, 'examples/library/pipeline.ts');
const FAKE_WORKER = join(root, 'packages/trainer/test/fixtures/fake-worker.mjs');
const FAKE_PREDICT = join(root, 'packages/trainer/test/fixtures/fake-predict-worker.mjs');

const CARDS = [
  { id: 'acme/t5-small-viggo', card: '---\nlicense: apache-2.0\npipeline_tag: text2text-generation\n---\n# T5 small for data-to-text\nA t5-small fine-tuned on ViGGO: video game meaning representations to fluent English sentences.', sizeBytes: 240_000_000, downloads: 5000 },
  { id: 'acme/marian-en-de', card: '---\nlicense: apache-2.0\n---\n# MarianMT English to German translation model', sizeBytes: 300_000_000, downloads: 90000 },
  { id: 'acme/bart-news-summarization', card: '---\nlicense: mit\n---\n# BART for news summarization', sizeBytes: 1_600_000_000, downloads: 20000 },
];

/** A teacher for the ViGGO prompt: new meaning representations, a sentence for each, a model card for HyDE. */
function viggoTeacher(body: ChatCompletionRequestBody, { choiceIndex }: ChatRequestInfo): string {
  const system = String(body.messages[0]?.content ?? '');
  if (system.includes('model cards')) return '# T5 for data-to-text\nA text2text-generation t5 model that turns video game meaning representations into sentences.';
  if (body.response_format) {
    const base = fnv1a32(JSON.stringify(body.messages) + String(body.seed)) + choiceIndex * 1000;
    const examples = [0, 1, 2, 3, 4].map((i) => ({ input: `inform(name[Game ${base + i}], rating[${['good', 'poor', 'average'][(base + i) % 3]}])`, output: '' }));
    return JSON.stringify({ examples });
  }
  const input = String(body.messages.at(-1)?.content ?? '');
  const name = /name\[([^\]]+)\]/.exec(input)?.[1] ?? 'This game';
  const rating = /rating\[([^\]]+)\]/.exec(input)?.[1] ?? 'average';
  return `${name} is a ${rating} game.`;
}

/** A stand-in `python`: the preflight probe, the training worker and the predict worker; no ONNX export. */
const fakePython = (): string => `#!${process.execPath}
const [flag, module] = process.argv.slice(2);
if (flag === '-c') { console.log(''); process.exit(0); }
if (module === 'p2m_worker') await import(${JSON.stringify(pathToFileURL(FAKE_WORKER).href)});
else if (module === 'p2m_worker.predict') await import(${JSON.stringify(pathToFileURL(FAKE_PREDICT).href)});
else { console.log(JSON.stringify({ type: 'error', message: 'the stand-in worker has no ONNX export' })); process.exit(1); }
`;

let dir: string;
let teacher: OpenAICompatibleServer;
let hub: HubServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-readme-library-'));
  teacher = await startOpenAICompatibleServer({ respond: viggoTeacher });
  hub = await startHubServer({ models: CARDS });
});
afterAll(async () => {
  await teacher?.close();
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the README's library example", () => {
  it('is examples/library/pipeline.ts, word for word', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## As a library'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet).toBeDefined();
    const file = (await readFile(EXAMPLE, 'utf8')).replace(/^(\/\/.*\n)+/, '');
    expect(file).toBe(snippet);
  });

  it('runs as written against a reachable teacher and Hub: trains, evaluates, caches in the user cache folder, starts no server', async () => {
    // The example's relative paths (examples/viggo/prompt.txt, runs/viggo) start from its working folder.
    const work = join(dir, 'work');
    await mkdir(join(work, 'examples/viggo'), { recursive: true });
    await copyFile(join(root, 'examples/viggo/prompt.txt'), join(work, 'examples/viggo/prompt.txt'));
    const python = join(dir, 'python');
    await writeFile(python, fakePython());
    await chmod(python, 0o755);
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      P2M_CACHE_DIR: join(dir, 'user-cache'),
      OPENAI_BASE_URL: teacher.url,
      OPENAI_API_KEY: 'test-key',
      HF_ENDPOINT: hub.url,
      P2M_PYTHON: python,
    };
    // The process ends by itself: a demo server left running would keep it alive until this test times out.
    const { code, stdout, stderr } = await runScript(EXAMPLE, { cwd: work, env });
    expect(code, stderr.slice(-2000)).toBe(0);
    const run = join(work, 'runs/viggo');
    const trained = JSON.parse(await readFile(join(run, 'trained-model.json'), 'utf8')) as { reference: string; baseModel: string; method: string };
    expect(trained).toMatchObject({ baseModel: 'acme/t5-small-viggo', method: 'lora' });
    // It prints the trained model, the student's metrics and the cost.
    expect(stdout).toContain(trained.reference);
    expect(stdout).toMatch(/chrf/);
    expect(stdout).toMatch(/\$\d+\.\d\d\n$/);
    expect(stderr).toMatch(/type: 'progress'/);
    // Teacher calls are cached where the CLI caches them, not in the run folder.
    expect((await readdir(join(dir, 'user-cache/llm'), { recursive: true })).length).toBeGreaterThan(0);
    expect(existsSync(join(run, 'cache'))).toBe(false);
    // About 600 teacher requests (500 examples, one label request each) paced at the example's
    // 500 requests a minute: ~75 s of mostly idle waiting, the price of running it as written.
  }, 240_000);
});
