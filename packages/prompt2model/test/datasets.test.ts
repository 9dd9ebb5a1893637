import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonlAll, type Example } from '@prompt2model/core';
import { startDatasetsServer, startOpenAICompatibleServer, type ChatCompletionRequestBody, type ChatRequestInfo, type DatasetFixture, type DatasetsServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { runCliCaptured } from './support/run-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';
import { fixturePath } from '@prompt2model/testing/fixtures';

const snapshot = fixturePath('hub/datasets.jsonl');

const reviews = Array.from({ length: 140 }, (_, i) => ({ text: i === 3 ? '   ' : `Customer review ${i}: the ${i % 2 ? 'excellent' : 'terrible'} service`, label: i % 2 }));
const fixtures: DatasetFixture[] = [
  {
    id: 'acme/restaurant-reviews',
    description: 'Restaurant reviews labelled with their sentiment (positive or negative), for sentiment classification of reviews.',
    downloads: 1200,
    evaluationMetadata: [{ config: 'default', task: 'text-classification', col_mapping: { text: 'text', label: 'target' } }],
    configs: [{ name: 'default', features: { text: { dtype: 'string', _type: 'Value' }, label: { names: ['negative', 'positive'], _type: 'ClassLabel' } }, splits: { train: reviews } }],
  },
  { id: 'acme/news', description: 'News articles with summaries.', downloads: 50, configs: [{ name: 'default', features: { article: { dtype: 'string', _type: 'Value' }, summary: { dtype: 'string', _type: 'Value' } }, splits: { train: [{ article: 'a', summary: 's' }] } }] },
  { id: 'acme/private-reviews', description: 'Hotel reviews with sentiment labels, gated.', gated: 'auto', configs: [{ name: 'default', features: { text: { dtype: 'string', _type: 'Value' }, label: { dtype: 'string', _type: 'Value' } }, splits: { train: [{ text: 't', label: 'positive' }] } }] },
];

let dir: string;
let hub: DatasetsServer;
let teacher: OpenAICompatibleServer;

function datasetAwareTeacher(body: ChatCompletionRequestBody, info: ChatRequestInfo): string {
  const system = String(body.messages[0]?.content ?? '');
  if (system.includes('map the columns')) return JSON.stringify({ input: ['text'], output: 'label', irrelevant: [], ambiguous: [], reason: 'review in, sentiment out' });
  if (system.includes('pick training data')) return JSON.stringify({ dataset: 'acme/restaurant-reviews', reason: 'reviews with sentiment' });
  if (system.includes('descriptions of Hugging Face datasets')) return 'Restaurant reviews with sentiment labels.';
  return sentimentTeacher(body, info);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-datasets-'));
  hub = await startDatasetsServer({ datasets: fixtures });
  teacher = await startOpenAICompatibleServer({ respond: datasetAwareTeacher });
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  await writeFile(join(dir, 'datasets.jsonl'), fixtures.map(({ configs: _configs, ...row }) => JSON.stringify(row)).join('\n') + '\n');
});
afterAll(async () => {
  await hub.close();
  await teacher.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ HF_ENDPOINT: hub.url, HF_DATASET_VIEWER_URL: hub.url, OPENAI_BASE_URL: teacher.url, OPENAI_API_KEY: 'test-key', P2M_CACHE_DIR: join(dir, 'cache') });
const run = (argv: string[]) => runCliCaptured(argv, env());

describe('prompt2model datasets search', () => {
  it('ranks the 2,494-dataset snapshot offline, as JSON with id, score, downloads, rows, gated and description', async () => {
    const { code, stdout, stderr } = await run(['datasets', 'search', 'Answer questions about a Wikipedia passage (reading comprehension)', '--index', snapshot, '--top-k', '5', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { candidates: Array<Record<string, unknown>> };
    expect(result.candidates).toHaveLength(5);
    for (const candidate of result.candidates) expect(Object.keys(candidate)).toEqual(['id', 'score', 'downloads', 'rows', 'bytes', 'gated', 'description']);
    expect(result.candidates.map((c) => c.id)).toContain('squad');
  });

  it('prints a table from the live (loopback) Hub with sizes from the viewer, and the teacher’s rerank pick', async () => {
    const { code, stdout } = await run(['datasets', 'search', 'Classify the sentiment of reviews', '--rerank', '--teacher', 'loopback-model']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^#\s+dataset\s+score\s+downloads\s+rows\s+gated\s+description/);
    expect(stdout).toMatch(/1\s+acme\/restaurant-reviews\s+\d+\.\d\d\s+1,200\s+140\s+no/);
    expect(stdout).not.toContain('acme/private-reviews');
    expect(stdout).toContain("Teacher's pick: acme/restaurant-reviews");
  });

  it('fails with a usage error for an unreadable index', async () => {
    const { code, stderr } = await run(['datasets', 'search', 'anything', '--index', join(dir, 'missing.jsonl')]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Cannot read the dataset index .*missing\.jsonl/);
  });
});

describe('prompt2model datasets show / load', () => {
  it('shows configs, split sizes and columns before downloading', async () => {
    const { code, stdout } = await run(['datasets', 'show', 'acme/restaurant-reviews']);
    expect(code).toBe(0);
    expect(stdout).toContain('config default: train (140 rows');
    expect(stdout).toMatch(/label\s+class label: negative, positive/);
  });

  it('loads rows as JSON Lines with the card col_mapping, ClassLabel names and empty rows dropped', async () => {
    const file = join(dir, 'reviews.jsonl');
    const { code, stdout, stderr } = await run(['datasets', 'load', 'acme/restaurant-reviews', '--save', file, '--max-rows', '100', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { count: number; dropped: number; rows: number; totalRows: number };
    expect(result).toMatchObject({ dataset: 'acme/restaurant-reviews', config: 'default', split: 'train', rows: 100, totalRows: 140, mapping: { input: ['text'], output: 'label', source: 'col_mapping' } });
    // 100 of 140 rows, a seeded sample: row 3 (an empty review) is dropped when the sample holds it.
    const rows = await readJsonlAll<Example>(file);
    expect(rows).toHaveLength(result.count);
    const indices = rows.map((row) => (row.meta as { row: number }).row);
    expect(result.dropped).toBe(result.count === 100 ? 0 : 1);
    expect(indices).not.toContain(3);
    const one = rows.find((row) => (row.meta as { row: number }).row % 2 === 1)!;
    const index = (one.meta as { row: number }).row;
    expect(one).toEqual({ input: `Customer review ${index}: the excellent service`, output: 'positive', meta: { source: 'retrieved', dataset: 'acme/restaurant-reviews', config: 'default', split: 'train', row: index } });
  });

  it('takes --input/--output, rejecting a path that is not a column (exit 2)', async () => {
    const bad = await run(['datasets', 'load', 'acme/news', '--input', 'body', '--output', 'summary', '--save', join(dir, 'news.jsonl')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"body" is not a column');
    expect(bad.stderr).toContain('hint: Columns of this dataset: article, summary');
    const good = await run(['datasets', 'load', 'acme/news', '--input', 'article', '--output', 'summary', '--save', join(dir, 'news.jsonl'), '--json']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ count: 1, mapping: { source: 'flags' } });
  });

  it('says a misspelt dataset id is not found (exit 2) and suggests close ids, never "gated or private"', async () => {
    const { code, stderr } = await run(['datasets', 'load', 'acme/restaurant-reveiws', '--save', join(dir, 'typo.jsonl')]);
    expect(code).toBe(2);
    expect(stderr).toContain('acme/restaurant-reveiws was not found on the Hub');
    expect(stderr).toContain('Did you mean acme/restaurant-reviews');
    expect(stderr).not.toMatch(/gated/);
  });

  it('names the page to accept a gated dataset’s terms', async () => {
    const { code, stderr } = await run(['datasets', 'load', 'acme/private-reviews', '--save', join(dir, 'p.jsonl')]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('acme/private-reviews is gated or private');
    expect(stderr).toContain(`hint: Accept its terms at ${hub.url}/datasets/acme/private-reviews`);
  });
});

describe('prompt2model run with dataset retrieval', () => {
  it('retrieves a dataset into train only, beside generated data', async () => {
    const out = join(dir, 'run');
    const { code, stdout, stderr } = await run(['run', '--prompt', join(dir, 'prompt.txt'), '--out', out, '--num-examples', '30', '--dataset-index', join(dir, 'datasets.jsonl'), '--max-rows', '50', '--no-train', '--teacher', 'loopback-model', '--base-model', 'acme/t5-small', '--json']);
    expect(stderr).not.toMatch(/error/);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { retrievedCount: number; splits: { counts: Record<string, number> } };
    // 50 of 140 rows sampled; row 3 (empty) is dropped when drawn.
    expect([49, 50]).toContain(result.retrievedCount);
    const chosen = JSON.parse(await readFile(join(out, 'retrieved-dataset.json'), 'utf8')) as { dataset: string; mapping: { source: string } };
    expect(chosen).toMatchObject({ dataset: 'acme/restaurant-reviews', mapping: { source: 'teacher' } });
    const train = await readJsonlAll<Example>(join(out, 'train.jsonl'));
    const test = await readJsonlAll<Example>(join(out, 'test.jsonl'));
    const validation = await readJsonlAll<Example>(join(out, 'validation.jsonl'));
    expect(train.filter((row) => row.meta?.source === 'retrieved')).toHaveLength(result.retrievedCount);
    expect([...test, ...validation].every((row) => row.meta?.source === 'generated')).toBe(true);
  });

  it('takes the dataset and its columns from flags', async () => {
    const out = join(dir, 'run-flags');
    const { code, stderr } = await run(['run', '--prompt', join(dir, 'prompt.txt'), '--out', out, '--num-examples', '20', '--dataset', 'acme/restaurant-reviews', '--dataset-input', 'text', '--dataset-output', 'label', '--max-rows', '30', '--no-train', '--teacher', 'loopback-model', '--base-model', 'acme/t5-small', '--json']);
    expect(stderr).not.toMatch(/error/);
    expect(code).toBe(0);
    const chosen = JSON.parse(await readFile(join(out, 'retrieved-dataset.json'), 'utf8')) as { dataset: string; mapping: { source: string; output: string }; count: number };
    expect(chosen).toMatchObject({ dataset: 'acme/restaurant-reviews', rows: 30, mapping: { source: 'flags', output: 'label' } });
    expect([29, 30]).toContain(chosen.count);
  });
});
