/**
 * Prompt parser benchmarks: deterministic splitting per layout, full parses (checks, language,
 * task type), scaling with prompt size, language detection speed and accuracy on real Japanese
 * requests (MCoNaLa), and an LLM parse round trip through a loopback OpenAI-compatible server.
 *
 *   node --import tsx packages/prompt-parser/bench/parse.ts
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createStageContext } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { startOpenAICompatibleServer } from '@prompt2model/testing';
import { detectLanguage, DeterministicPromptParser, LLMPromptParser } from '../src/internal.js';

const data = resolve(import.meta.dirname, '../../../../shared/data/tasks');

function time<T>(runs: number, fn: () => T): { perOpMs: number; opsPerSecond: number } {
  for (let i = 0; i < Math.min(50, runs); i++) fn(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { perOpMs: ms / runs, opsPerSecond: (runs * 1000) / ms };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const mconala = JSON.parse(await readFile(join(data, 'mconala/ja_test.json'), 'utf8')) as Array<{ rewritten_intent: string | null; intent: string; snippet: string }>;
  const viggo = (await readFile(join(data, 'viggo/train.csv'), 'utf8'))
    .split('\n')
    .slice(1)
    .map((row) => /^"([^"]+)","?(.*?)"?$/.exec(row))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ input: match[2]!, output: match[1]! }));

  const rows = mconala.map((row) => ({ input: row.rewritten_intent ?? row.intent, output: row.snippet }));
  const labeled = (examples: Array<{ input: string; output: string }>, instruction: string) =>
    `${instruction}\n\n${examples.map((example) => `Input: ${example.input}\nOutput: ${example.output}`).join('\n\n')}\n`;
  const prompts = {
    'labeled-pairs (MCoNaLa ja, 5 examples)': labeled(rows.slice(0, 5), '日本語の指示からPythonのコードを1行で書いてください。'),
    'sections (ViGGO, 5 examples)': `### Instruction\nConvert the sentence into a meaning representation.\n\n${viggo
      .slice(0, 5)
      .map((example) => `### Input\n${example.input}\n\n### Output\n${example.output}`)
      .join('\n\n')}`,
    'json-list (ViGGO, 5 examples)': `Convert the sentence into a meaning representation.\n\`\`\`json\n${JSON.stringify(viggo.slice(0, 5), null, 2)}\n\`\`\``,
    'plain (no examples)': 'Write a short, friendly reply to a customer who asks when their parcel will arrive, and apologise for any delay.',
  };

  const parser = new DeterministicPromptParser();
  console.log('## Deterministic split (no checks, no language detection)');
  for (const [name, prompt] of Object.entries(prompts)) {
    const result = time(2000, () => parser.split(prompt));
    console.log(`${name.padEnd(42)} ${(prompt.length / 1024).toFixed(1).padStart(5)} KiB  ${result.perOpMs.toFixed(3)} ms/parse  ${Math.round(result.opsPerSecond)} parses/s`);
  }

  const dir = await mkdtemp(join(tmpdir(), 'p2m-parse-bench-'));
  const context = await createStageContext({ outDir: dir, cacheDir: false });
  console.log('\n## Full deterministic parse (checks, language detection, task type)');
  for (const [name, prompt] of Object.entries(prompts)) {
    const runs = 1000;
    for (let i = 0; i < 50; i++) await parser.parse(prompt, context);
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await parser.parse(prompt, context);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(`${name.padEnd(42)} ${(ms / runs).toFixed(3)} ms/parse`);
  }

  console.log('\n## Scaling: labeled pairs with many examples (ViGGO rows)');
  for (const count of [10, 100, 1000, 4800]) {
    const prompt = labeled(viggo.slice(0, count), 'Convert the sentence into a meaning representation.');
    const runs = count >= 1000 ? 5 : 50;
    const result = time(runs, () => parser.split(prompt));
    const split = parser.split(prompt);
    console.log(`${String(count).padStart(5)} examples  ${(prompt.length / 1024).toFixed(0).padStart(5)} KiB  ${result.perOpMs.toFixed(2).padStart(8)} ms  (${split?.examples.length} of ${Math.min(count, viggo.length)} examples read)`);
  }

  console.log('\n## Language detection');
  const intents = rows.map((row) => row.input).filter((text) => text.trim() !== '');
  const detected = intents.map((text) => detectLanguage(text).language);
  const correct = detected.filter((language) => language === 'ja').length;
  const detectTime = time(20, () => intents.forEach((text) => detectLanguage(text)));
  console.log(`MCoNaLa intents: ${correct}/${intents.length} detected as Japanese; ${((detectTime.perOpMs / intents.length) * 1000).toFixed(1)} µs/text`);
  const english = viggo.slice(0, 500).map((example) => example.input);
  const englishCorrect = english.filter((text) => detectLanguage(text).language === 'en').length;
  console.log(`ViGGO sentences (English): ${englishCorrect}/${english.length} detected as English`);

  console.log('\n## LLM parse round trip (loopback OpenAI-compatible server, openai SDK, core scheduler)');
  const answer = JSON.stringify({ instruction: 'Convert dates to ISO format.', examples: [{ input: 'March 3, 2021', output: '2021-03-03' }] });
  for (const [label, sequence] of [
    ['good answer', [answer]],
    ['malformed, then good', ['{"instruction": "Convert', answer]],
  ] as const) {
    let call = 0;
    const server = await startOpenAICompatibleServer({ respond: () => sequence[Math.min(call++, sequence.length - 1)]! });
    const teacher = createOpenAI({ baseURL: server.url, apiKey: 'bench' })('gpt-4o-mini');
    const llm = new LLMPromptParser();
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      call = 0;
      const llmContext = await createStageContext({ outDir: dir, teacher, cacheDir: false });
      const start = performance.now();
      await llm.parse('I need dates in ISO format: "March 3, 2021" should give "2021-03-03".', llmContext);
      times.push(performance.now() - start);
    }
    console.log(`${label.padEnd(22)} median ${median(times.slice(5)).toFixed(1)} ms/parse (${server.stats.requests} requests for 40 parses)`);
    await server.close();
  }
  await rm(dir, { recursive: true, force: true });
}

await main();
