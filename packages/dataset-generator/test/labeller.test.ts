import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LLMCallCache, LanguageModelClient } from '@prompt2model/core/internal';
import { MockLanguageModel, dateNormalisationSpec } from '@prompt2model/testing';
import { SelfConsistencyLabeller, answerKeyFor } from '../src/labeller.js';
import { qualityOptionsFor } from '../src/quality.js';

// A free-text task with three demonstrations.
const spec = dateNormalisationSpec;

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

function labeller(model: MockLanguageModel, cache?: LLMCallCache, overrides: { samplesPerInput?: number; maxSamplesPerInput?: number } = {}) {
  const teacher = new LanguageModelClient({ model, ...(cache ? { cache } : {}) });
  return new SelfConsistencyLabeller({
    spec,
    teacher,
    quality: qualityOptionsFor(spec),
    samplesPerInput: overrides.samplesPerInput ?? 3,
    maxSamplesPerInput: overrides.maxSamplesPerInput ?? 9,
    minAgreement: 0.5,
    confidenceTarget: 0.99,
    temperature: 0.7,
    maxTokens: 32,
    maxPromptTokens: 4000,
    seed: 0,
    signal: new AbortController().signal,
    stage: 'generate',
  });
}

// A teacher that is confident in its noise estimate: three agreeing votes are enough.
const lowNoise = { noise: 0.02, concentration: 0.5 };

describe('SelfConsistencyLabeller', () => {
  it('asks for more votes on a three-way split instead of picking one by spelling', async () => {
    const model = new MockLanguageModel({
      maxChoicesPerRequest: 8,
      // The first request splits three ways (same length, so no "shortest" or alphabetical winner);
      // later requests (which carry a seed) agree on the right date.
      respond: (request) => (request.seed === undefined ? ['2019-11-05', '2019-05-11', '2018-11-05'] : '2019-05-11'),
    });
    const result = await labeller(model).label('5/11/2019 (month first)', lowNoise);
    expect(model.calls.length).toBeGreaterThanOrEqual(2);
    expect(model.calls[0]!.n).toBe(3);
    expect(result).toMatchObject({ output: '2019-05-11', samples: 5 });
    expect('confidence' in result && result.confidence).toBeGreaterThan(0.99);
    expect(result.stats).toMatchObject({ inputs: 1, votes: 3, disagreeing: 2, wrongPairs: 1, equalWrongPairs: 0, samples: 5 });
  });

  it('drops an input whose split lasts to the cap', async () => {
    const model = new MockLanguageModel({ maxChoicesPerRequest: 8, respond: (request) => (request.seed === undefined ? ['a', 'b', 'c'] : ['a', 'b']) });
    const result = await labeller(model, undefined, { maxSamplesPerInput: 5 }).label('ambiguous', lowNoise);
    expect(result).toMatchObject({ reason: 'low-agreement' });
  });

  it('keeps the votes for one input distinct: each request is its own cache entry, with its own demonstration order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2m-labeller-'));
    dirs.push(dir);
    // One choice per request, so every vote is a request of its own.
    const respond = '2024-03-05';
    const model = new MockLanguageModel({ maxChoicesPerRequest: 1, respond });
    const result = await labeller(model, new LLMCallCache(dir), { maxSamplesPerInput: 9 }).label('5 March 2024', lowNoise);
    expect('output' in result && result.output).toBe('2024-03-05');
    const requests = model.calls;
    expect(requests.length).toBeGreaterThanOrEqual(3);
    const prompts = new Set(requests.map((request) => JSON.stringify(request.messages)));
    expect(prompts.size).toBe(requests.length);
    expect(new Set(requests.map((request) => request.seed ?? 'none')).size).toBe(requests.length);
    const entries = (await Promise.all((await readdir(dir)).map((sub) => readdir(join(dir, sub))))).flat();
    expect(entries).toHaveLength(requests.length);
    // The same vote again is served from the cache, vote for vote.
    const again = new MockLanguageModel({ maxChoicesPerRequest: 1, respond });
    expect(await labeller(again, new LLMCallCache(dir), { maxSamplesPerInput: 9 }).label('5 March 2024', lowNoise)).toEqual(result);
    expect(again.calls).toHaveLength(0);
  });

  it('compares answers in a form suited to the task', () => {
    const free = answerKeyFor(spec);
    expect(free(' "2024-03-05". ')).toBe(free('2024-03-05'));
    const labels = answerKeyFor({ ...spec, labels: ['Positive', 'Negative'] });
    expect(labels('positive.')).toBe(labels('Positive'));
    const json = answerKeyFor({ ...spec, taskType: 'extraction' });
    expect(json('{"name": "Ada", "year": 1815}')).toBe(json('{ "year": 1815, "name": "ada" }'));
    expect(json('{"name": "Ada", "year": 1815}')).not.toBe(json('{"name": "Ada", "year": 1816}'));
  });
});

describe('SelfConsistencyLabeller with a teacher of one choice per request', () => {
  it('starts with the fewest votes (each one is a whole request) and stops asking a teacher that answers nothing', async () => {
    const model = new MockLanguageModel({ maxChoicesPerRequest: 1, respond: '2024-03-05' });
    await labeller(model).label('5 March 2024', { noise: 0.17, concentration: 0.4 });
    expect(model.calls.length).toBe(3);
    const silent = new MockLanguageModel({ maxChoicesPerRequest: 8, respond: '' });
    expect(await labeller(silent).label('5 March 2024', lowNoise)).toMatchObject({ reason: 'empty-output' });
    expect(silent.calls).toHaveLength(1);
  });
});
