import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, Prompt2ModelError, type ProgressEvent, type PromptSpec } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { MockLanguageModel, lastUserText, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { ModelIndex, createModelRetriever, hydeMessages, plainQuery, relevanceScorer } from '../src/internal.js';
import { fixturePath } from '@prompt2model/testing/fixtures';

// Building the 11,320-card index takes ~3 s alone, but far longer while CI runs every package's
// tests and the real training stack at once on two cores.
const INDEX_BUILD_TIMEOUT_MS = 180_000;

const snapshot = fixturePath('hub/models.jsonl');

const translationSpec: PromptSpec = {
  instruction: 'Translate the English sentence into German.',
  examples: [{ input: 'The weather is nice today.', output: 'Das Wetter ist heute schön.' }],
  language: 'en',
};

// What a teacher typically writes for that spec: a card in the Hub's vocabulary.
const hypotheticalCard = `# t5-base-finetuned-wmt-en-de

This model is a fine-tuned version of t5-base for English-to-German translation. It was trained on the
WMT14 and WMT16 en-de news translation datasets and translates English sentences into German.

- Task: translation (text2text-generation)
- Languages: English (source), German (target)
- Datasets: wmt14, wmt16`;

let index: ModelIndex;
let dir: string;
let server: OpenAICompatibleServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retriever-test-'));
  index = await ModelIndex.fromJsonl(snapshot);
  server = await startOpenAICompatibleServer({ respond: () => hypotheticalCard });
}, INDEX_BUILD_TIMEOUT_MS);
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('createModelRetriever', () => {
  it('queries with a HyDE card written by the teacher (loopback OpenAI-compatible server)', async () => {
    const teacher = createOpenAI({ baseURL: server.url, apiKey: 'test-key' })('gpt-test');
    const context = await createStageContext({ outDir: join(dir, 'run-hyde'), teacher });
    const events: ProgressEvent[] = [];
    context.events.on((event) => events.push(event));
    const retriever = createModelRetriever({ index, hyde: true });
    const result = await retriever.retrieveDetailed(translationSpec, { topK: 5 }, context);

    expect(result.hyde).toBe(true);
    // The card, plus the direction the instruction asks for as a token.
    expect(result.query.startsWith(hypotheticalCard)).toBe(true);
    expect(server.stats.completed).toBe(1);
    const request = server.requests[0]!;
    expect(lastUserText(request)).toContain(translationSpec.instruction);
    expect(lastUserText(request)).toContain('Das Wetter ist heute schön.');
    expect(request.temperature).toBe(0);

    expect(result.candidates).toHaveLength(5);
    for (const candidate of result.candidates) {
      expect(candidate.id).toMatch(/t5|wmt|opus|en[-_]de|en-?2-?de|translat/i);
      expect(candidate.sizeBytes!).toBeLessThanOrEqual(3e9);
    }
    expect(result.candidates.some((candidate) => /wmt|en-de/i.test(candidate.id))).toBe(true);
    expect(events.some((event) => event.type === 'progress' && event.stage === 'retrieve-models' && event.done === 3)).toBe(true);
    expect(events.some((event) => event.type === 'usage' && !event.cached)).toBe(true);

    // The same spec again: the HyDE call comes from core's cache, the server sees nothing new.
    const again = await retriever.retrieve(translationSpec, { topK: 5 }, context);
    expect(again.map((candidate) => candidate.id)).toEqual(result.candidates.map((candidate) => candidate.id));
    expect(server.stats.completed).toBe(1);
  });

  it('uses the instruction as the query without a teacher, and HyDE by default with one', async () => {
    const plainContext = await createStageContext({ outDir: join(dir, 'run-plain'), cacheDir: false });
    const retriever = createModelRetriever({ index });
    const plain = await retriever.retrieveDetailed({ ...translationSpec, instruction: 'Summarize news articles.' }, {}, plainContext);
    expect(plain.hyde).toBe(false);
    expect(plain.query).toBe(`Summarize news articles.\n${Array(5).fill('tasksummaryq').join(' ')}`);
    expect(plain.candidates).toHaveLength(5);

    const mock = new MockLanguageModel({ respond: hypotheticalCard });
    const mockContext = await createStageContext({ outDir: join(dir, 'run-mock'), teacher: mock, cacheDir: false });
    const withTeacher = await retriever.retrieveDetailed(translationSpec, { topK: 3 }, mockContext);
    expect(withTeacher.hyde).toBe(true);
    expect(mock.calls).toHaveLength(1);
    expect(withTeacher.candidates).toHaveLength(3);

    const off = await createModelRetriever({ index, hyde: false }).retrieveDetailed(translationSpec, {}, mockContext);
    expect(off.hyde).toBe(false);
    expect(mock.calls).toHaveLength(1);
  });

  it('explains what to do when HyDE has no teacher, the teacher answers nothing, or no model passes the filters', async () => {
    const noTeacher = await createStageContext({ outDir: join(dir, 'run-none'), cacheDir: false });
    await expect(createModelRetriever({ index, hyde: true }).retrieve(translationSpec, {}, noTeacher)).rejects.toMatchObject({
      hint: expect.stringMatching(/`teacher`/),
    });

    // A teacher that answers nothing (or off-format) does not sink retrieval: the instruction is the query.
    const silent = await createStageContext({ outDir: join(dir, 'run-silent'), teacher: new MockLanguageModel({ respond: '   ' }), cacheDir: false });
    const logs: string[] = [];
    silent.events.on((event) => event.type === 'log' && logs.push(event.message));
    const fallback = await createModelRetriever({ index }).retrieveDetailed(translationSpec, {}, silent);
    expect(fallback.hyde).toBe(false);
    // The plain query: the instruction, plus the translation-direction tokens it asks for.
    expect(fallback.query).toBe(plainQuery(translationSpec));
    expect(fallback.query.startsWith(translationSpec.instruction)).toBe(true);
    expect(fallback.candidates.length).toBeGreaterThan(0);
    expect(logs.some((line) => /model card was empty; searching with the instruction instead/.test(line))).toBe(true);

    const tiny = await createModelRetriever({ index, maxSizeBytes: 100 }).retrieve(translationSpec, {}, noTeacher).catch((error) => error);
    expect(Prompt2ModelError.isInstance(tiny)).toBe(true);
    expect(tiny.message).toMatch(/larger than 100 B/);
    expect(tiny.hint).toMatch(/`maxSizeBytes`/);
  });

  it('ranks through the top-k search and picks the same models as the full pass, with the same counts', async () => {
    const context = await createStageContext({ outDir: join(dir, 'run-same'), cacheDir: false });
    const progress: Array<Extract<ProgressEvent, { type: 'progress' }>> = [];
    context.events.on((event) => event.type === 'progress' && progress.push(event));
    const instructions = [
      'Summarize news articles.',
      'Translate the English sentence into German.',
      'Answer questions about a passage.',
      'Classify the sentiment of a movie review as positive or negative.',
      'Extract the named entities (people, places, organisations) from a sentence.',
      'Write a product description from its attributes.',
      'Generate a question whose answer is the highlighted phrase.',
      'Convert a date to ISO format.',
      'Fix the grammar of a sentence.',
      'Write Python code from a docstring.',
    ];
    const optionSets = [
      {},
      { topK: 1 },
      { topK: 20 },
      { maxSizeBytes: null },
      { maxSizeBytes: 5e8, allowUnknownSize: true },
      { scorer: relevanceScorer },
      { architectures: ['encoder-decoder' as const] },
      { licenses: ['apache-2.0', 'mit'], gpuMemoryBytes: 16e9 },
    ];
    for (const instruction of instructions) {
      for (const { topK, ...config } of optionSets) {
        const spec = { ...translationSpec, instruction };
        const expected = index.searchDetailed(plainQuery(spec), { ...config, topK: topK ?? 5 });
        const retriever = createModelRetriever({ index, hyde: false, ...config });
        const chosen = await retriever.retrieve(spec, topK ? { topK } : {}, context);
        expect(chosen, `${instruction} ${JSON.stringify(config)}`).toEqual(expected.candidates);
        const detailed = await retriever.retrieveDetailed(spec, topK ? { topK } : {}, context);
        expect(detailed.candidates).toEqual(expected.candidates);
        expect({ matched: detailed.matched, excluded: detailed.excluded }).toEqual({ matched: expected.matched, excluded: expected.excluded });
      }
    }
    // Counts are a full pass over the matches: not made for a progress line when models were found.
    expect(progress.filter((event) => event.done === event.total).every((event) => event.counters === undefined)).toBe(true);
  });

  it('loads the index from a file once, lazily', async () => {
    const path = join(dir, 'index.json');
    await index.save(path);
    const retriever = createModelRetriever({ index: path, hyde: false });
    const context = await createStageContext({ outDir: join(dir, 'run-file'), cacheDir: false });
    const first = await retriever.loadIndex();
    expect(await retriever.loadIndex()).toBe(first);
    const candidates = await retriever.retrieve({ ...translationSpec, instruction: 'question answering over a passage' }, { topK: 2 }, context);
    expect(candidates).toHaveLength(2);
    expect(retriever.specificationVersion).toBe('v1');
  });

  it('asks the teacher with the spec in the HyDE prompt', () => {
    const messages = hydeMessages({ ...translationSpec, examples: Array.from({ length: 6 }, (_, i) => ({ input: `in ${i}`, output: `out ${i}` })) });
    expect(messages[0]!.role).toBe('system');
    expect(messages[1]!.content).toContain('Task: Translate the English sentence into German.');
    // Only the first three demonstrations: enough for the format, cheap in tokens.
    expect(messages[1]!.content).toContain('in 2');
    expect(messages[1]!.content).not.toContain('in 3');
  });
});
