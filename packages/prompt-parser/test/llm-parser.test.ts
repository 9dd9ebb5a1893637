import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStageContext, ValidationError, type ProgressEvent, type StageContext } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { startOpenAICompatibleServer, type ChatCompletionRequestBody, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPromptParser, LLMPromptParser } from '../src/internal.js';

const PROMPT = `I need a model that turns a date into ISO format. For instance "March 3, 2021" should come out as "2021-03-03",
and if someone writes "1 Jan 1999" the model answers "1999-01-01".`;

const GOOD = JSON.stringify({
  instruction: 'Turn a date into ISO format.',
  examples: [
    { input: 'March 3, 2021', output: '2021-03-03' },
    { input: '1 Jan 1999', output: '1999-01-01' },
  ],
});

/** Answers are scripted per request index; the server speaks the real chat-completions protocol. */
let answers: Array<string | ((body: ChatCompletionRequestBody) => string)> = [];
let server: OpenAICompatibleServer;
const dirs: string[] = [];

beforeAll(async () => {
  server = await startOpenAICompatibleServer({
    respond: (body, info) => {
      const answer = answers[Math.min(info.requestIndex, answers.length - 1)] ?? GOOD;
      return typeof answer === 'function' ? answer(body) : answer;
    },
  });
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
afterEach(() => server.reset());

async function context(options: { contextWindow?: number; events?: ProgressEvent[] } = {}): Promise<StageContext> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-llm-parser-'));
  dirs.push(dir);
  const teacher = createOpenAI({ baseURL: server.url, apiKey: 'test-key' })('gpt-4o-mini', {
    ...(options.contextWindow ? { contextWindow: options.contextWindow } : {}),
  });
  const stage = await createStageContext({ outDir: dir, teacher, cacheDir: false, scheduler: { maxRetries: 2, initialBackoffMs: 1 } });
  if (options.events) stage.events.on((event) => options.events!.push(event));
  return stage;
}

describe('LLMPromptParser against a loopback OpenAI-compatible server', () => {
  it('parses a good JSON answer into a spec, asking for structured output', async () => {
    answers = [GOOD];
    const events: ProgressEvent[] = [];
    const result = await new LLMPromptParser().parseDetailed(PROMPT, await context({ events }));
    expect(result.spec).toEqual({
      instruction: 'Turn a date into ISO format.',
      examples: [
        { input: 'March 3, 2021', output: '2021-03-03' },
        { input: '1 Jan 1999', output: '1999-01-01' },
      ],
      language: 'en',
      taskType: 'generation',
    });
    expect(result.llmAttempts).toBe(1);
    expect(result.layout).toBe('llm');
    expect(server.stats.requests).toBe(1);
    const request = server.requests[0]!;
    expect(request.temperature).toBe(0);
    expect(request.response_format?.type).toBe('json_schema');
    expect(JSON.stringify(request.response_format?.json_schema?.schema)).toContain('examples');
    expect(request.messages.at(-1)?.content).toBe(PROMPT);
    expect(events.filter((event) => event.type === 'progress').map((event) => (event as { done: number }).done)).toEqual([0, 1, 2, 3, 4]);
    expect(events.some((event) => event.type === 'usage' && event.stage === 'parse')).toBe(true);
  });

  it('retries with the validation error fed back after malformed JSON, then succeeds', async () => {
    answers = ['{"instruction": "Turn a date into ISO format.", "examples": [{"input": "March 3', GOOD];
    const result = await new LLMPromptParser().parseDetailed(PROMPT, await context());
    expect(result.llmAttempts).toBe(2);
    expect(result.spec.examples).toHaveLength(2);
    expect(server.stats.requests).toBe(2);
    const retry = server.requests[1]!.messages;
    expect(retry.at(-2)).toMatchObject({ role: 'assistant' });
    expect(String(retry.at(-1)?.content)).toMatch(/^That answer was not valid: not valid JSON/);
  });

  it('rejects invented examples and tells the teacher why', async () => {
    const invented = JSON.stringify({ instruction: 'Turn a date into ISO format.', examples: [{ input: 'July 4, 1776', output: '1776-07-04' }] });
    answers = [invented, GOOD];
    const result = await new LLMPromptParser().parseDetailed(PROMPT, await context());
    expect(result.llmAttempts).toBe(2);
    expect(String(server.requests[1]!.messages.at(-1)?.content)).toContain('examples.0.input: not found in the prompt');
  });

  it('gives a clear error after N malformed answers, never an empty spec', async () => {
    answers = ['Sure! Here is the instruction: convert dates.'];
    const parser = new LLMPromptParser({ maxAttempts: 3 });
    const error = await parser.parse(PROMPT, await context()).catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    // The same mistake three times is one line, not a wall of repeats.
    expect((error as ValidationError).issues).toEqual([expect.objectContaining({ path: 'all 3 attempts' })]);
    expect((error as ValidationError).message).toContain('gpt-4o-mini JSON answer');
    expect((error as ValidationError).hint).toMatch(/stronger `teacher`|clearly marked examples/);
    expect(server.stats.requests).toBe(3);
  });

  it('treats an empty instruction as invalid, not as an answer', async () => {
    answers = [JSON.stringify({ instruction: '', examples: [] })];
    const error = await new LLMPromptParser({ maxAttempts: 2 }).parse(PROMPT, await context()).catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('instruction');
  });

  it('refuses a prompt over the teacher context budget before calling it', async () => {
    answers = [GOOD];
    const long = `Turn dates into ISO format.\n${'Some background that goes on. '.repeat(400)}`;
    const error = await new LLMPromptParser().parse(long, await context({ contextWindow: 2000 })).catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/over the budget of 1000 tokens for teacher gpt-4o-mini/);
    expect(server.stats.requests).toBe(0);
  });

  it('survives a truncated HTTP body through the scheduler retry', async () => {
    const faulty = await startOpenAICompatibleServer({ faultSequence: ['truncated', 'ok'], respond: () => GOOD });
    try {
      const dir = await mkdtemp(join(tmpdir(), 'p2m-llm-parser-'));
      dirs.push(dir);
      const stage = await createStageContext({
        outDir: dir,
        teacher: createOpenAI({ baseURL: faulty.url, apiKey: 'k' })('gpt-4o-mini'),
        cacheDir: false,
        scheduler: { maxRetries: 2, initialBackoffMs: 1 },
      });
      const spec = await new LLMPromptParser().parse(PROMPT, stage);
      expect(spec.examples).toHaveLength(2);
      expect(faulty.stats.requests).toBe(2);
    } finally {
      await faulty.close();
    }
  });
});

describe('createPromptParser chooses the parser', () => {
  it('uses the deterministic parser for a prompt with marked examples and never calls the teacher', async () => {
    answers = [GOOD];
    const result = await createPromptParser({ translate: false }).parseDetailed(
      'Translate English to French.\nInput: cat\nOutput: chat\nInput: dog\nOutput: chien',
      await context(),
    );
    expect(result.layout).toBe('labeled-pairs');
    expect(server.stats.requests).toBe(0);
  });

  it('asks the teacher when the prompt does not mark its examples', async () => {
    answers = [GOOD];
    const result = await createPromptParser({ translate: false }).parseDetailed(PROMPT, await context());
    expect(result.layout).toBe('llm');
    expect(result.spec.examples).toHaveLength(2);
    expect(server.stats.requests).toBe(1);
  });

  it('mode "llm" asks the teacher even for a marked prompt; mode "deterministic" never does', async () => {
    answers = [JSON.stringify({ instruction: 'Translate English to French.', examples: [{ input: 'cat', output: 'chat' }] })];
    const marked = 'Translate English to French.\nInput: cat\nOutput: chat';
    expect((await createPromptParser({ mode: 'llm', translate: false }).parseDetailed(marked, await context())).layout).toBe('llm');
    expect(server.stats.requests).toBe(1);
    const plain = await createPromptParser({ mode: 'deterministic', translate: false }).parseDetailed(PROMPT, await context());
    expect(plain).toMatchObject({ layout: 'plain', spec: { instruction: PROMPT, examples: [] } });
    expect(server.stats.requests).toBe(1);
  });
});
