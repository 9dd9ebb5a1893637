// `prompt2model run` a user can trust: each defect of issue 11, from the CLI, in a fresh process,
// asserting the exit code and the message.
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { spawnCli } from './support/spawn-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';
import { fixturePath } from '@prompt2model/testing/fixtures';

const FAKE_WORKER = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-worker.mjs');
const FAKE_PREDICT = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-predict-worker.mjs');
const MODEL_CARDS_SNAPSHOT = fixturePath('hub/models.jsonl');
const CARDS = [
  { id: 'acme/t5-small-review-sentiment', card: '---\nlicense: apache-2.0\npipeline_tag: text2text-generation\n---\n# T5 small for review sentiment\nA t5-small model fine-tuned for sentiment classification of reviews: positive or negative.', sizeBytes: 240_000_000, downloads: 5000 },
  { id: 'acme/bart-news-summarization', card: '---\nlicense: mit\n---\n# BART for news summarization', sizeBytes: 1_600_000_000, downloads: 20000 },
];

let dir: string;
let server: OpenAICompatibleServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-run-trust-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  await writeFile(join(dir, 'cards.jsonl'), CARDS.map((card) => JSON.stringify(card)).join('\n') + '\n');
  // A fast teacher: 40 ms per answer, 3,000 requests a minute enforced like a real endpoint.
  server = await startOpenAICompatibleServer({ respond: sentimentTeacher, latencyMs: 40, requestsPerMinute: 3000 });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    OPENAI_BASE_URL: server.url,
    OPENAI_API_KEY: 'test-key',
    P2M_CACHE_DIR: join(dir, 'llm-cache'),
    P2M_WORKER_COMMAND: JSON.stringify([process.execPath, FAKE_WORKER]),
    P2M_PREDICT_COMMAND: JSON.stringify([process.execPath, FAKE_PREDICT]),
    ...extra,
  };
}

const runArgs = (out: string, ...extra: string[]) => ['run', '--prompt', join(dir, 'prompt.txt'), '--out', join(dir, out), '--index', join(dir, 'cards.jsonl'), '--teacher', 'gpt-4o-mini', '--no-retrieve-datasets', ...extra];

describe('run: a run folder never lies', () => {
  it('redoes the steps whose inputs changed, says why, and keeps what a larger --max-cost cannot change', async () => {
    const first = await spawnCli(runArgs('changed', '--num-examples', '12', '--no-train'), { env: env() });
    expect(first.stderr).not.toMatch(/^error/m);
    expect(first.code).toBe(0);

    // A budget cap cannot change finished work: nothing is redone, nothing is paid.
    const requests = server.stats.requests;
    const same = await spawnCli(runArgs('changed', '--num-examples', '12', '--no-train', '--max-cost', '5'), { env: env() });
    expect(same.code).toBe(0);
    expect(server.stats.requests).toBe(requests);
    expect(same.stderr).not.toMatch(/changed since the last run/);

    // Another task into the same folder: parse reruns and so does everything after it.
    const other = join(dir, 'other-prompt.txt');
    await writeFile(other, SENTIMENT_PROMPT.replace('Classify the sentiment of the review', 'Classify the sentiment of the tweet'));
    const changed = await spawnCli(['run', '--prompt', other, ...runArgs('changed', '--num-examples', '12', '--no-train').slice(3)], { env: env() });
    expect(changed.code).toBe(0);
    expect(changed.stderr).toMatch(/parse: prompt changed since the last run; redoing it/);
    expect(changed.stderr).toMatch(/generate: spec changed since the last run; redoing it/);
    const spec = JSON.parse(await readFile(join(dir, 'changed', 'prompt-spec.json'), 'utf8'));
    expect(spec.instruction).toContain('tweet');
    const dataset = (await readFile(join(dir, 'changed', 'dataset.jsonl'), 'utf8')).trim().split('\n');
    expect(dataset).toHaveLength(12);

    // A larger target continues the dataset: only the new examples are generated.
    const more = await spawnCli(['run', '--prompt', other, ...runArgs('changed', '--num-examples', '20', '--no-train').slice(3)], { env: env() });
    expect(more.code).toBe(0);
    expect(more.stderr).toMatch(/generate: target changed since the last run; continuing it/);
    expect((await readFile(join(dir, 'changed', 'dataset.jsonl'), 'utf8')).trim().split('\n').slice(0, 12)).toEqual(dataset);
  }, 60_000);

  it('detects a dataset edited after generation finished and makes it again from the cache', async () => {
    const first = await spawnCli(runArgs('edited', '--num-examples', '12', '--no-train'), { env: env() });
    expect(first.code).toBe(0);
    const path = join(dir, 'edited', 'dataset.jsonl');
    const rows = (await readFile(path, 'utf8')).trim().split('\n');
    await writeFile(path, rows.slice(0, 5).join('\n') + '\n');
    const again = await spawnCli(runArgs('edited', '--num-examples', '12', '--no-train'), { env: env() });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/generate: dataset\.jsonl no longer matches what this step wrote/);
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(12);
  }, 60_000);

  it('a budget-capped generation is not done: training does not start on it, and a higher --max-cost continues it', async () => {
    // Its own LLM cache: calls answered from another test's cache would be free.
    const fresh = env({ P2M_CACHE_DIR: join(dir, 'budget-cache') });
    const capped = await spawnCli(runArgs('budget', '--num-examples', '40', '--max-cost', '0.0006', '--epochs', '1'), { env: fresh });
    expect(capped.code).toBe(3);
    expect(capped.stderr).toMatch(/error: Only \d+ of the 40 requested examples were generated \(generation stopped at the budget cap\)/);
    expect(capped.stderr).toMatch(/hint: Raise --max-cost and rerun the same command/);
    const manifest = JSON.parse(await readFile(join(dir, 'budget', 'manifest.json'), 'utf8'));
    expect(manifest.stages.generate.status).toBe('partial');
    expect(manifest.stages.train).toBeUndefined();

    const spent = manifest.cost.usd;
    expect(spent).toBeLessThanOrEqual(0.0006 * 1.5);
    const resumed = await spawnCli(runArgs('budget', '--num-examples', '40', '--max-cost', '1', '--epochs', '1'), { env: fresh });
    expect(resumed.stderr).not.toMatch(/^error/m);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/generate: the last run stopped early \(stopped by the budget cap at \d+ of 40 examples\); continuing it/);
    expect((await readFile(join(dir, 'budget', 'dataset.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(40);
    const report = JSON.parse(await readFile(join(dir, 'budget', 'report.json'), 'utf8'));
    expect(report.data.generated).toBe(40);
  }, 60_000);
});

describe('run: preflight and bounded inputs', () => {
  // A fresh process through tsx spends seconds compiling on a busy machine before the CLI runs;
  // the time limits below are for the CLI's own work, so that start-up is measured and taken off.
  let startupMs = 0;
  beforeAll(async () => {
    const probe = await spawnCli(['run', '--prompt', join(dir, 'missing.txt'), '--out', join(dir, 'probe')], { env: env() });
    expect(probe.code).toBe(2);
    startupMs = probe.ms;
  }, 60_000);
  it('rejects a 5 MB prompt in well under 5 s, with exit 2', async () => {
    const huge = join(dir, 'huge.txt');
    const block = Array.from({ length: 5000 }, (_, i) => `Input: review number ${i} was fine\nOutput: positive\n`).join('\n');
    await writeFile(huge, `Classify the sentiment.\n\n${block.repeat(Math.ceil((5 * 1024 * 1024) / block.length))}`);
    const result = await spawnCli(['run', '--prompt', huge, '--out', join(dir, 'huge'), '--no-train'], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/error: Invalid prompt: [\d,]+ characters, over the limit of 100,000/);
    expect(result.ms - startupMs).toBeLessThan(5000);
  });

  it('an instruction-only prompt runs on the instruction alone, with one line saying so', async () => {
    const instruction = join(dir, 'instruction-only.txt');
    await writeFile(instruction, 'Classify the sentiment of the review as positive or negative.\n');
    const result = await spawnCli(['run', '--prompt', instruction, ...runArgs('instruction-only', '--num-examples', '8', '--no-train').slice(3)], { env: env() });
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
    expect(result.stderr.match(/could not split the prompt, so the whole prompt is the instruction/g)).toHaveLength(1);
    const spec = JSON.parse(await readFile(join(dir, 'instruction-only', 'prompt-spec.json'), 'utf8'));
    expect(spec).toMatchObject({ instruction: 'Classify the sentiment of the review as positive or negative.', examples: [] });
    expect((await readFile(join(dir, 'instruction-only', 'dataset.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(8);
  }, 60_000);

  it('fails in seconds on a refused connection, naming the URL and the flag to fix', async () => {
    const port = await freePort();
    const result = await spawnCli(runArgs('refused', '--num-examples', '5', '--no-train'), { env: env({ OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Could not connect to http:\/\/127\.0\.0\.1:\d+\/v1: the connection was refused/);
    expect(result.stderr).toMatch(/--base-url/);
    expect(result.ms - startupMs).toBeLessThan(10_000);
  });

  it('says the base URL is probably wrong when the server answers HTML', async () => {
    const html = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body>Welcome</body></html>'));
    await new Promise<void>((done) => html.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
      const result = await spawnCli(runArgs('html', '--num-examples', '5', '--no-train'), { env: env({ OPENAI_BASE_URL: url }) });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/answered with an HTML page, not an OpenAI chat completion: the base URL is probably wrong/);
      expect(result.stderr).toMatch(/ends in \/v1/);
    } finally {
      html.close();
    }
  });

  it("checks OpenAI fine-tuning's 10-row minimum for the training file before any paid call", async () => {
    const before = server.stats.requests;
    const result = await spawnCli(runArgs('train-min', '--num-examples', '10', '--backend', 'openai', '--base-model', 'gpt-4o-mini-2024-07-18'), { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/about 8 training rows, and OpenAI fine-tuning needs at least 10/);
    expect(result.stderr).toMatch(/Use --num-examples \d+ or more/);
    // Nothing reached the chat endpoint: no call was paid for.
    expect(server.stats.requests).toBe(before);
  });

  it('does not refuse --num-examples 40 with --backend openai for a 4-row validation split (it is left out at training)', async () => {
    const result = await spawnCli(runArgs('validation-min', '--num-examples', '40', '--backend', 'openai', '--base-model', 'gpt-4o-mini-2024-07-18', '--estimate-only'), { env: env() });
    expect(result.stderr).not.toMatch(/validation rows/);
    expect(result.code).toBe(0);
  });

  it('an unusable training backend is a configuration error (exit 2) before anything is spent', async () => {
    const before = server.stats.requests;
    const result = await spawnCli(runArgs('no-python', '--num-examples', '30', '--python', join(dir, 'no-such-python')), { env: env({ P2M_WORKER_COMMAND: '' }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/training backend \(local\): local training cannot start: python \(.*no-such-python was not found\)/);
    expect(server.stats.requests).toBe(before);
  });

  it('Ctrl-C during a CPU-bound step (indexing 11,320 model cards) stops within 2 s and leaves a resumable folder', async () => {
    const args = ['run', '--prompt', join(dir, 'prompt.txt'), '--out', join(dir, 'interrupted'), '--index', MODEL_CARDS_SNAPSHOT, '--teacher', 'gpt-4o-mini', '--num-examples', '12', '--no-train', '--no-retrieve-datasets'];
    const result = await spawnCli(args, { env: env(), interruptWhen: /▶ retrieve-models/, interruptDelayMs: 300 });
    expect(result.code).toBe(130);
    expect(result.msAfterInterrupt).toBeLessThan(2000);
    expect(result.stderr).toMatch(/rerun the same command to resume/);
    const manifest = JSON.parse(await readFile(join(dir, 'interrupted', 'manifest.json'), 'utf8'));
    expect(manifest.stages.generate.status).toBe('done');
    expect(manifest.stages['retrieve-models'].status).not.toBe('done');
  }, 60_000);
});

describe('run: a fast teacher never crashes the pipeline', () => {
  it('15 runs of `run --num-examples 30 --no-train` in fresh processes all succeed, with no unhandled rejection', async () => {
    const results = [];
    for (let round = 0; round < 5; round++) {
      // Three at a time; each run has its own folder and cache, so every request is really sent.
      results.push(
        ...(await Promise.all(
          [0, 1, 2].map((i) =>
            spawnCli(runArgs(`fast-${round}-${i}`, '--num-examples', '30', '--no-train'), { env: env({ P2M_CACHE_DIR: join(dir, `fast-cache-${round}-${i}`) }) }),
          ),
        )),
      );
    }
    for (const result of results) {
      expect(result.stderr).not.toMatch(/APIUserAbortError|Unhandled|Request was aborted/);
      expect(result.code).toBe(0);
    }
  }, 240_000);
});

describe('run --estimate-only', () => {
  it('makes no paid call, and the full run then spends within 25% of the estimate', async () => {
    const before = server.stats.requests;
    // Its own LLM cache: every call of the full run is really paid for.
    const fresh = env({ P2M_CACHE_DIR: join(dir, 'estimate-cache') });
    const estimate = await spawnCli([...runArgs('estimate', '--num-examples', '60', '--epochs', '1'), '--estimate-only', '--json'], { env: fresh });
    expect(estimate.code).toBe(0);
    expect(server.stats.requests).toBe(before);
    const figures = JSON.parse(estimate.stdout);
    expect(figures.stages.map((stage: { stage: string }) => stage.stage)).toEqual(['generate (inputs)', 'generate (labels)', 'retrieve-models (HyDE)', 'evaluate-teacher', 'calibrate']);
    expect(figures.training.backend).toBe('local');

    const full = await spawnCli([...runArgs('estimate', '--num-examples', '60', '--epochs', '1'), '--json'], { env: fresh });
    expect(full.stderr).not.toMatch(/^error/m);
    expect(full.code).toBe(0);
    const result = JSON.parse(full.stdout);
    const ratio = result.costUsd / figures.totalUsd;
    // The figures of docs/benchmarks.md come from this line.
    console.log(`estimate $${figures.totalUsd.toFixed(5)} vs spent $${result.costUsd.toFixed(5)} (${((ratio - 1) * 100).toFixed(1)}%)`);
    expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(0.25);

    // The report covers the whole run: data, model, training, teacher vs student, cost vs estimate.
    const report = JSON.parse(await readFile(join(dir, 'estimate', 'report.json'), 'utf8'));
    expect(report.data.generated).toBe(60);
    expect(report.model.chosen).toBe('acme/t5-small-review-sentiment');
    expect(report.training.loss.length).toBeGreaterThan(1);
    expect(report.evaluation.student.metrics).toHaveProperty('exact_match');
    expect(report.evaluation.teacher.metrics).toHaveProperty('exact_match');
    // A classification run leads with exact match, states a verdict and shows sample answers.
    expect(report.evaluation.primaryMetric).toBe('exact_match');
    expect(report.verdict.text).toMatch(/^The student (matches the teacher|is usable with a gap|is not usable)|^No verdict/);
    expect(report.evaluation.samples.length).toBeGreaterThan(0);
    expect(typeof report.training.stopReason).toBe('string');
    expect(report.cost.estimateUsd).toBeCloseTo(figures.totalUsd, 8);
    const html = await readFile(join(dir, 'estimate', 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(await readFile(join(dir, 'estimate', 'report.md'), 'utf8')).toMatch(/## Evaluation: teacher vs student on the same test set/);
  }, 90_000);
});

describe('eval rejects files it cannot score', () => {
  it('malformed JSON Lines, binary, empty and mismatched files: exit 2 with the file and line', async () => {
    const file = async (name: string, content: string | Buffer) => {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    };
    const references = await file('refs.jsonl', '"positive"\n"negative"\n"positive"\n');
    const broken = await file('broken.jsonl', '"positive"\n{"prediction": "neg\n"positive"\n');
    const binary = await file('binary.jsonl', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
    const empty = await file('empty.txt', '');
    const short = await file('short.txt', 'positive\nnegative\n');

    const run = (predictions: string) => spawnCli(['eval', '--predictions', predictions, '--references', references, '--metrics', 'em'], { env: env() });
    const [a, b, c, d] = await Promise.all([run(broken), run(binary), run(empty), run(short)]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/error: Invalid .*broken\.jsonl line 2: not valid JSON/);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/binary\.jsonl: it contains NUL bytes/);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/empty\.txt: the file is empty/);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/2 predictions in .*short\.txt but 3 references in .*refs\.jsonl/);
    for (const result of [a, b, c, d]) expect(result.stdout).toBe('');
  }, 60_000);
});

function freePort(): Promise<number> {
  return new Promise((done) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => done(port));
    });
  });
}
