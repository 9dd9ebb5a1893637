import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDeepLServer, startOpenAICompatibleServer, type DeepLServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './support/run-cli.js';

let dir: string;
let openai: OpenAICompatibleServer;
let deepl: DeepLServer;

const MARKED = 'Classify the review as positive or negative.\n\nInput: Loved it\nOutput: positive\n\nInput: Broke after a day\nOutput: negative\n\nInput: Works great\nOutput: positive\n';
const FREE = 'I want a model that converts dates to ISO format, e.g. "March 3, 2021" becomes "2021-03-03".';
const JAPANESE = '日本語の指示からPythonのコードを1行で書いてください。\n入力: リストを逆順にする\n出力: lst[::-1]\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-parse-'));
  openai = await startOpenAICompatibleServer({
    respond: () => JSON.stringify({ instruction: 'Convert dates to ISO format.', examples: [{ input: 'March 3, 2021', output: '2021-03-03' }] }),
  });
  deepl = await startDeepLServer({ translate: () => 'Write one line of Python code from the Japanese instruction.' });
  await writeFile(join(dir, 'marked.txt'), MARKED);
  await writeFile(join(dir, 'free.txt'), FREE);
  await writeFile(join(dir, 'japanese.txt'), JAPANESE);
  await writeFile(join(dir, 'empty.txt'), '  \n');
  await writeFile(join(dir, 'binary.bin'), Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0x01, 0x02, 0xff, 0x00]));
});
afterAll(async () => {
  await openai.close();
  await deepl.close();
  await rm(dir, { recursive: true, force: true });
});

const run = runCliCaptured;

describe('prompt2model parse', () => {
  it('prints the spec of a marked prompt as JSON without any teacher or key', async () => {
    const { code, stdout, stderr } = await run(['parse', '--prompt', join(dir, 'marked.txt'), '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      instruction: 'Classify the review as positive or negative.',
      examples: [
        { input: 'Loved it', output: 'positive' },
        { input: 'Broke after a day', output: 'negative' },
        { input: 'Works great', output: 'positive' },
      ],
      language: 'en',
      taskType: 'classification',
      labels: ['positive', 'negative'],
    });
  });

  it('prints a readable summary and stores prompt-spec.json in the run folder with --out', async () => {
    const out = join(dir, 'run-marked');
    const { code, stdout } = await run(['--out', out, 'parse', '--prompt', join(dir, 'marked.txt')]);
    expect(code).toBe(0);
    expect(stdout).toContain('Instruction: Classify the review as positive or negative.');
    expect(stdout).toContain('Task type: classification — labels: positive, negative');
    expect(stdout).toContain('Examples: 3 (read as labeled-pairs)');
    const spec = JSON.parse(await readFile(join(out, 'prompt-spec.json'), 'utf8')) as { examples: unknown[] };
    expect(spec.examples).toHaveLength(3);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { stages: Record<string, { status: string; artifact?: string }> };
    expect(manifest.stages.parse).toMatchObject({ status: 'done', artifact: 'prompt-spec.json' });

    // The same command again resumes from the run folder; a changed prompt is parsed again.
    const again = await run(['--out', out, 'parse', '--prompt', join(dir, 'marked.txt')]);
    expect(again.stdout).toContain('(from the run folder');
    await writeFile(join(dir, 'marked-2.txt'), MARKED.replace('Works great', 'Works fine'));
    const changed = await run(['--out', out, 'parse', '--prompt', join(dir, 'marked-2.txt'), '--json']);
    expect(JSON.parse(changed.stdout).examples[2].input).toBe('Works fine');
  });

  it('asks the teacher (loopback OpenAI-compatible server) for a prompt without marked examples', async () => {
    const before = openai.stats.requests;
    const { code, stdout } = await run(['--base-url', openai.url, 'parse', '--prompt', join(dir, 'free.txt'), '--json'], { OPENAI_API_KEY: 'test' });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ instruction: 'Convert dates to ISO format.', examples: [{ input: 'March 3, 2021', output: '2021-03-03' }] });
    expect(openai.stats.requests).toBe(before + 1);
  });

  it('without a teacher, keeps a free-form prompt as the instruction and warns', async () => {
    const { code, stdout, stderr } = await run(['parse', '--prompt', join(dir, 'free.txt'), '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ instruction: FREE, examples: [] });
    expect(stderr).toContain('warning: [parse] No marked examples found and no teacher configured');
  });

  it('translates a Japanese instruction with DeepL when DEEPL_AUTH_KEY is set', async () => {
    const env = { DEEPL_AUTH_KEY: 'key:fx', DEEPL_SERVER_URL: deepl.url };
    const { code, stdout } = await run(['parse', '--prompt', join(dir, 'japanese.txt')], env);
    expect(code).toBe(0);
    expect(stdout).toContain('Instruction: Write one line of Python code from the Japanese instruction.');
    expect(stdout).toContain('Original (Japanese): 日本語の指示からPythonのコードを1行で書いてください。');
    expect(stdout).toContain('Language: ja (Japanese); translated to English with deepl');
    const untranslated = await run(['parse', '--prompt', join(dir, 'japanese.txt'), '--no-translate', '--json'], env);
    expect(JSON.parse(untranslated.stdout)).toMatchObject({ instruction: '日本語の指示からPythonのコードを1行で書いてください。', language: 'ja' });
    expect(untranslated.stderr).toBe('');
    const turnedOff = await run(['parse', '--prompt', join(dir, 'japanese.txt'), '--no-translate'], env);
    expect(turnedOff.stdout).toContain('Language: ja (Japanese); not translated (--no-translate)');
  });

  it('reports DeepL quota exhaustion with a hint and a failure exit code', async () => {
    const quota = await startDeepLServer({ faults: [{ status: 456 }] });
    try {
      const { code, stderr } = await run(['parse', '--prompt', join(dir, 'japanese.txt')], { DEEPL_AUTH_KEY: 'k', DEEPL_SERVER_URL: quota.url });
      expect(code).toBe(1);
      expect(stderr).toContain('error: DeepL translation failed: Quota for this billing period has been exceeded');
      expect(stderr).toContain('hint: The DeepL character quota');
    } finally {
      await quota.close();
    }
  });

  it('rejects bad input with a message saying what to fix and exit code 2', async () => {
    const empty = await run(['parse', '--prompt', join(dir, 'empty.txt')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('error: Invalid prompt: the prompt is empty');
    expect(empty.stderr).toContain('hint: Write the task instruction');

    const binary = await run(['parse', '--prompt', join(dir, 'binary.bin'), '--json']);
    expect(binary.code).toBe(2);
    expect(JSON.parse(binary.stderr).error.message).toContain('NUL bytes');

    const missing = await run(['parse', '--prompt', join(dir, 'nope.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read the prompt file');

    await writeFile(join(dir, 'unanswered.txt'), 'Translate to French.\nInput: cat\nOutput: chat\nInput: dog\nOutput:\n');
    const unanswered = await run(['parse', '--prompt', join(dir, 'unanswered.txt')]);
    expect(unanswered.code).toBe(2);
    expect(unanswered.stderr).toContain('example 2 (input "dog") has an empty output');
  });

  describe('checks the settings of the teacher\'s own provider', () => {
    it('--teacher hf:... --mode llm needs HF_TOKEN, even when the OpenAI variables are set (exit 2)', async () => {
      const { code, stderr } = await run(['--teacher', 'hf:meta-llama/Llama-3.3-70B-Instruct', 'parse', '--prompt', join(dir, 'free.txt'), '--mode', 'llm'], {
        OPENAI_API_KEY: 'sk-openai-key-is-not-enough',
        OPENAI_BASE_URL: openai.url,
      });
      expect(code).toBe(2);
      expect(stderr).toContain('HF_TOKEN is not set');
      expect(stderr).not.toContain('OPENAI_API_KEY');
    });

    it('--teacher hf:... with HF_ENDPOINT_URL reaches the endpoint without any OpenAI variable', async () => {
      const { code, stdout, stderr } = await run(['--teacher', 'hf:tgi', 'parse', '--prompt', join(dir, 'free.txt'), '--mode', 'llm', '--json'], {
        HF_ENDPOINT_URL: openai.url.replace(/\/v1\/?$/, ''),
      });
      expect(code).toBe(0);
      expect(stderr).not.toContain('error');
      expect(JSON.parse(stdout).instruction).toBe('Convert dates to ISO format.');
    });

    it('an OpenAI teacher without a key or base URL still says OPENAI_API_KEY (exit 2)', async () => {
      const { code, stderr } = await run(['parse', '--prompt', join(dir, 'free.txt'), '--mode', 'llm']);
      expect(code).toBe(2);
      expect(stderr).toContain('OPENAI_API_KEY is not set');
      expect(stderr).toContain('--base-url');
    });
  });
});
