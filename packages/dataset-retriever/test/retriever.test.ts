import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestScheduler, createStageContext, type LanguageModelRequest, type PromptSpec } from '@prompt2model/core/internal';
import { DatasetNotFoundError, GatedDatasetError } from '@prompt2model/huggingface/hub';
import { MockLanguageModel, startDatasetsServer, type DatasetsServer } from '@prompt2model/testing';
import { DatasetIndex, DatasetSkippedError, createDatasetRetriever, rerankDatasets, type DatasetRetrieverConfig } from '../src/internal.js';
import { fixtures } from './fixtures.js';

let server: DatasetsServer;
let cacheDir: string;
beforeAll(async () => {
  server = await startDatasetsServer({ datasets: fixtures, rowsPerShard: 150, rowGroupSize: 50, grantedTokens: ['hf_granted_token'] });
  cacheDir = await mkdtemp(join(tmpdir(), 'p2m-dsr-cache-'));
});
afterAll(() => server.close());

const qaSpec: PromptSpec = { instruction: 'Answer the question using the passage: reading comprehension question answering.', examples: [{ input: 'Question: Where is Paris?\nContext: Paris is in France.', output: 'France' }], language: 'en' };
const hub = () => ({ hubUrl: server.url, datasetViewerUrl: server.url, accessToken: '', cacheDir, scheduler: new RequestScheduler({ maxRetries: 3, initialBackoffMs: 1, maxBackoffMs: 5 }) });
const retriever = (config: DatasetRetrieverConfig = {}) => createDatasetRetriever({ hub: hub(), hyde: false, rerank: false, ...config });
const context = async (teacher?: MockLanguageModel) => createStageContext({ outDir: await mkdtemp(join(tmpdir(), 'p2m-dsr-run-')), ...(teacher ? { teacher } : {}) });

describe('search', () => {
  it('ranks the Hub listing (descriptions indexed locally) and leaves out gated and excluded datasets', async () => {
    const ctx = await context();
    const outcome = await retriever().search(qaSpec, ctx, { topK: 5 });
    expect(outcome.candidates[0]!.id).toBe('squad');
    expect(outcome.candidates.map((c) => c.id)).not.toContain('org/gated-notes');
    expect(outcome.excluded.gated).toBe(1);
    const without = await retriever({ exclude: ['squad'] }).search(qaSpec, ctx);
    expect(without.candidates.map((c) => c.id)).not.toContain('squad');
    expect(server.requests.some((path) => path.startsWith('/api/datasets?') && path.includes('expand=description'))).toBe(true);
  });

  it('keeps gated candidates with --include-gated only when a token is set', async () => {
    const spec = { ...qaSpec, instruction: 'Clinical question answering over medical notes' };
    const withoutToken = await retriever({ includeGated: true }).search(spec, await context());
    expect(withoutToken.candidates.map((c) => c.id)).not.toContain('org/gated-notes');
    const withToken = await createDatasetRetriever({ hub: { ...hub(), accessToken: 'hf_granted_token' }, hyde: false, rerank: false, includeGated: true }).search(spec, await context());
    expect(withToken.candidates[0]!.id).toBe('org/gated-notes');
  });

  it('uses a HyDE description from the teacher as the query', async () => {
    const teacher = new MockLanguageModel({ respond: 'SQuAD: Stanford reading comprehension questions on Wikipedia passages.' });
    const outcome = await retriever({ hyde: true }).search({ ...qaSpec, instruction: 'Help me with my homework' }, await context(teacher));
    expect(outcome.hyde).toBe(true);
    expect(outcome.query).toContain('Stanford');
    expect(outcome.candidates[0]!.id).toBe('squad');
  });
});

describe('rerank', () => {
  const candidates = async () => (await DatasetIndex.fromRecords(fixtures)).search('dataset question answering translation sentiment', { topK: 5, includeGated: true });
  const answer = (pick: (request: LanguageModelRequest, call: number) => string | null) =>
    new MockLanguageModel({ respond: (request, call) => JSON.stringify({ dataset: pick(request, call), reason: 'fits' }) });

  it('shuffles the candidates per vote and never lets a name outside them win', async () => {
    const teacher = answer((_request, call) => (call === 0 ? 'made-up/dataset' : 'squad'));
    const ctx = await context(teacher);
    const result = await rerankDatasets(qaSpec, await candidates(), ctx.teacher!, { votes: 3 });
    expect(result.dataset).toBe('squad');
    expect(result.votes.filter((vote) => vote.invalid)).toHaveLength(1);
    const prompts = teacher.calls.map((call) => call.messages.at(-1)!.content);
    expect(new Set(prompts).size).toBe(3);
  });

  it('allows "none fits", and an invented name alone picks nothing', async () => {
    const none = await rerankDatasets(qaSpec, await candidates(), (await context(answer(() => null))).teacher!, { votes: 3 });
    expect(none.dataset).toBeNull();
    const invented = await rerankDatasets(qaSpec, await candidates(), (await context(answer(() => 'not-listed'))).teacher!, { votes: 2 });
    expect(invented.dataset).toBeNull();
  });
});

describe('loading rows', () => {
  it('maps SQuAD from the card col_mapping without a teacher, reading nested answers.text[0] from parquet', async () => {
    const ctx = await context();
    const loaded = await retriever().load(qaSpec, 'squad', ctx, { maxRows: 180 });
    expect(loaded.mapping).toMatchObject({ input: ['question', 'context'], output: 'answers.text[0]', source: 'col_mapping' });
    expect(loaded.via).toBe('parquet');
    expect(loaded.examples).toHaveLength(180);
    expect(loaded.examples[7]).toEqual({
      input: 'question: Where does river 7 flow?\ncontext: Passage 7: the river number 7 flows into lake 7.',
      output: 'lake 7',
      meta: { source: 'retrieved', dataset: 'squad', config: 'plain_text', split: 'train', row: 7 },
    });
    // Two shards of 150 rows: the second is read only up to the 30 rows still needed.
    expect(server.requests.filter((path) => path.includes('/resolve/refs%2Fconvert%2Fparquet/plain_text/train/')).length).toBeGreaterThan(1);
  });

  it('samples across the split with a seed: the same seed the same rows, another seed others', async () => {
    const rowsOf = async (seed?: number) =>
      (await retriever({ mapping: { input: ['question'], output: 'answers.text[0]' } }).load(qaSpec, 'squad', await context(), { maxRows: 30, ...(seed !== undefined ? { seed } : {}) })).examples.map((e) => (e.meta as { row: number }).row);
    const first = await rowsOf();
    expect(first).toHaveLength(30);
    expect(new Set(first).size).toBe(30);
    expect(await rowsOf(0)).toEqual(first);
    expect(await rowsOf(7)).not.toEqual(first);
    // Both shards of the 200-row split (150 rows a shard) contribute.
    expect(first.some((row) => row >= 150)).toBe(true);
    expect(first.some((row) => row < 150)).toBe(true);
  });

  it('reports the rows of every shard as the split total, and streams to a writer without keeping rows', async () => {
    const written: unknown[] = [];
    const loaded = await retriever({ mapping: { input: ['question'], output: 'answers.text[0]' } }).load(qaSpec, 'squad', await context(), {
      maxRows: 1000,
      write: async (examples) => {
        written.push(...examples);
      },
    });
    expect(loaded.totalRows).toBe(200);
    expect(loaded.rows).toBe(200);
    expect(loaded.examples).toEqual([]);
    expect(written).toHaveLength(200);
  });

  it('caches rows by revision: a second load reads no parquet', async () => {
    const ctx = await context();
    await retriever().load(qaSpec, 'squad', ctx, { maxRows: 100 });
    const before = server.stats.parquetRequests;
    const again = await retriever().load(qaSpec, 'squad', ctx, { maxRows: 100 });
    expect(again.via).toBe('cache');
    expect(server.stats.parquetRequests).toBe(before);
  });

  it('lets the teacher map the columns, validated against the real paths (an unknown path is asked again)', async () => {
    const teacher = new MockLanguageModel({
      respond: [JSON.stringify({ input: ['translation.xx'], output: 'translation.en' }), JSON.stringify({ input: ['translation.de'], output: 'translation.en', irrelevant: [], ambiguous: [], reason: 'German in, English out' })],
    });
    const ctx = await context(teacher);
    const loaded = await retriever().load({ instruction: 'Translate German to English', examples: [], language: 'de' }, 'wmt/wmt16', ctx, { maxRows: 50 });
    expect(loaded.mapping).toMatchObject({ input: ['translation.de'], output: 'translation.en', source: 'teacher' });
    // 50 of 120 rows: a seeded sample across the split, in split order, each with its row index.
    const rows = loaded.examples.map((example) => (example.meta as { row: number }).row);
    expect(rows).toHaveLength(50);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(Math.max(...rows)).toBeGreaterThanOrEqual(100);
    for (const example of loaded.examples) {
      const row = (example.meta as { row: number }).row;
      expect(example).toMatchObject({ input: `Satz Nummer ${row}.`, output: `Sentence number ${row}.` });
    }
    expect(teacher.callCount).toBe(2);
    expect(teacher.calls[0]!.messages.at(-1)!.content).toContain('translation.de (string): "Satz Nummer 0."');
  });

  it('flattens Translation by the direction the instruction names when there is no teacher', async () => {
    const loaded = await retriever().load({ instruction: 'Translate English into German', examples: [], language: 'en' }, 'wmt/wmt16', await context(), { maxRows: 10 });
    expect(loaded.mapping).toMatchObject({ input: ['translation.en'], output: 'translation.de' });
  });

  it('falls back to /rows pages without parquet, maps ClassLabel integers to names and drops empty rows', async () => {
    const loaded = await retriever({ mapping: { input: ['text'], output: 'label' } }).load({ instruction: 'Classify the sentiment of a movie review', examples: [], language: 'en' }, 'imdb', await context(), { maxRows: 230 });
    expect(loaded.via).toBe('rows');
    expect(loaded.rows).toBe(230);
    expect(loaded.dropped).toBe(1);
    expect(loaded.examples[0]).toMatchObject({ input: 'Review 0: awful film', output: 'neg' });
    expect(loaded.examples[1]!.output).toBe('pos');
  });

  it('rejects --input/--output that are not columns, naming the columns there are', async () => {
    const error = await retriever({ mapping: { input: ['review'], output: 'label' } }).load(qaSpec, 'imdb', await context()).catch((e: unknown) => e);
    expect((error as Error).message).toContain('"review" is not a column');
    expect((error as { hint: string }).hint).toContain('text, label');
  });

  it('a declined column mapping is a DatasetSkippedError that names the dataset and the options (no CLI flags)', async () => {
    const error = await retriever({ confirmMapping: async () => null }).load(qaSpec, 'squad', await context(), { maxRows: 10 }).catch((e: unknown) => e);
    expect(DatasetSkippedError.isInstance(error)).toBe(true);
    expect((error as DatasetSkippedError).dataset).toBe('squad');
    expect((error as DatasetSkippedError).hint).toBe('Pass a `mapping` to map the columns yourself, or `exclude` the dataset.');
  });

  it('says a misspelt id is not found (not gated) and suggests close ids from the index', async () => {
    const error = await retriever({ index: () => DatasetIndex.fromRecords(fixtures) }).load(qaSpec, 'sqaud', await context()).catch((e: unknown) => e);
    expect(DatasetNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/sqaud was not found/);
    expect((error as DatasetNotFoundError).hint).toMatch(/Did you mean squad/);
    const described = await retriever({ index: () => DatasetIndex.fromRecords(fixtures) }).describe('wmt/wmt61').catch((e: unknown) => e);
    expect((described as DatasetNotFoundError).suggestions).toContain('wmt/wmt16');
  });

  it('names the page to accept the terms of a gated dataset', async () => {
    const error = await retriever().load(qaSpec, 'org/gated-notes', await context()).catch((e: unknown) => e);
    expect(GatedDatasetError.isInstance(error)).toBe(true);
    expect((error as GatedDatasetError).hint).toContain(`${server.url}/datasets/org/gated-notes`);
    const granted = await createDatasetRetriever({ hub: { ...hub(), accessToken: 'hf_granted_token' }, hyde: false, rerank: false, includeGated: true }).load(qaSpec, 'org/gated-notes', await context());
    expect(granted.examples).toEqual([expect.objectContaining({ input: 'q', output: 'a' })]);
  });

  it('is a clear error when every row has an empty output', async () => {
    const error = await retriever().load(qaSpec, 'org/empty-answers', await context()).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/No usable rows in org\/empty-answers/);
  });
});

describe('the DatasetRetriever stage', () => {
  it('searches, reranks, maps and loads, writing what it chose to the run folder', async () => {
    const teacher = new MockLanguageModel({
      respond: (request) => {
        const prompt = request.messages.at(-1)!.content;
        if (prompt.includes('Candidate Hugging Face datasets')) return JSON.stringify({ dataset: 'squad', reason: 'reading comprehension' });
        return JSON.stringify({ input: ['question', 'context'], output: 'answers.text[0]', irrelevant: ['id', 'title'], ambiguous: [], reason: 'QA' });
      },
    });
    const ctx = await context(teacher);
    const examples = await retriever({ rerank: true, rerankVotes: 3 }).retrieve(qaSpec, { maxExamples: 40 }, ctx);
    expect(examples).toHaveLength(40);
    expect(examples[0]!.meta).toMatchObject({ source: 'retrieved', dataset: 'squad' });
    const saved = await ctx.store.readJson<{ dataset: string; mapping: { source: string }; rerank: { dataset: string } }>('retrieved-dataset.json');
    expect(saved).toMatchObject({ dataset: 'squad', mapping: { source: 'teacher' }, rerank: { dataset: 'squad' } });
  });

  it('returns no examples when the rerank says none fits', async () => {
    const teacher = new MockLanguageModel({ respond: JSON.stringify({ dataset: null, reason: 'nothing fits' }) });
    const ctx = await context(teacher);
    expect(await retriever({ rerank: true }).retrieve(qaSpec, {}, ctx)).toEqual([]);
  });
});

describe('DatasetIndex from a JSON Lines snapshot', () => {
  it('caches the built index by the file, and rebuilds when the file changes', async () => {
    const { writeFile, readdir, utimes } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'p2m-dsr-index-'));
    const file = join(dir, 'datasets.jsonl');
    await writeFile(file, fixtures.map(({ configs: _configs, ...row }) => JSON.stringify(row)).join('\n') + '\n');
    const cache = join(dir, 'cache');
    const first = await DatasetIndex.fromJsonl(file, { cacheDir: cache });
    expect(await readdir(cache)).toHaveLength(1);
    const second = await DatasetIndex.fromJsonl(file, { cacheDir: cache });
    expect(second.search('reading comprehension questions', { topK: 3 })).toEqual(first.search('reading comprehension questions', { topK: 3 }));
    expect(second.get('squad')?.evaluationMetadata).toEqual(fixtures[0]!.evaluationMetadata);
    await writeFile(file, JSON.stringify({ id: 'only/one', description: 'reading comprehension' }) + '\n');
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const changed = await DatasetIndex.fromJsonl(file, { cacheDir: cache });
    expect(changed.size).toBe(1);
  });
});

describe('plan-then-transform', () => {
  it('rewrites rows by a teacher plan, capped, costed through the client, dropping rows it cannot rewrite', async () => {
    let failing: string | undefined;
    const teacher = new MockLanguageModel({
      respond: (request) => {
        const prompt = request.messages.at(-1)!.content;
        if (prompt.includes('numbered plan')) return '1. Keep the question. 2. Answer in one word.';
        const river = request.messages.map((message) => /river (\d+) flow/.exec(message.content)?.[1]).find(Boolean);
        // The first row asked about cannot be rewritten (both tries).
        failing ??= river;
        if (river === failing) return 'not json at all';
        return JSON.stringify({ input: `Q: where does river ${river} flow?`, output: `Lake ${river}` });
      },
    });
    const ctx = await context(teacher);
    const loaded = await retriever({ mapping: { input: ['question'], output: 'answers.text[0]' }, transform: { maxExamples: 6 } }).load(qaSpec, 'squad', ctx, { maxRows: 20 });
    expect(loaded.transformed).toEqual({ kept: 5, dropped: 1 });
    expect(loaded.examples).toHaveLength(5);
    expect(loaded.examples[0]).toMatchObject({ input: expect.stringMatching(/^Q: where does river \d+ flow\?$/), meta: { source: 'retrieved', dataset: 'squad', transformed: true } });
    // One plan call, then one call a row (the unparseable answer is asked again once).
    expect(teacher.callCount).toBe(1 + 6 + 1);
    expect(ctx.ledger.snapshot()).toBeDefined();
  });
});
