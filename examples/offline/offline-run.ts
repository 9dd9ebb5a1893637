// A whole run with no network and no key: the testing package's loopback OpenAI-compatible server
// plays the teacher, a four-card local index stands in for the Hugging Face Hub, and training is
// skipped (it needs python3 with torch + transformers + peft: drop `trainer: null` to train).
//   node --import tsx examples/offline/offline-run.ts [run folder]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRunReport, createOpenAI, createPipeline, writeRunReport } from 'prompt2model';
import { startOpenAICompatibleServer, type ChatCompletionRequestBody } from '@prompt2model/testing';

const here = import.meta.dirname;
const outDir = process.argv[2] ?? 'runs/offline-sentiment';

/** The stand-in teacher: new reviews when asked for examples, a label by keyword, a card for HyDE. */
function teacher(body: ChatCompletionRequestBody, { requestIndex, choiceIndex }: { requestIndex: number; choiceIndex: number }): string {
  const system = String(body.messages[0]?.content ?? '');
  if (system.includes('model cards')) return '# T5 for review sentiment\nA text2text-generation model fine-tuned to classify product reviews as positive, negative or neutral.';
  if (body.response_format) {
    const moods = ['great, it works perfectly', 'broke after two days', 'arrived on a Monday'];
    const things = ['kettle', 'headphones', 'desk lamp', 'backpack', 'keyboard', 'phone case'];
    const examples = [0, 1, 2].map((i) => {
      const n = requestIndex * 100 + choiceIndex * 10 + i;
      return { input: `Review #${n}: the ${things[n % things.length]} ${moods[n % moods.length]} (order ${n * 7919})`, output: '' };
    });
    return JSON.stringify({ examples });
  }
  const text = String(body.messages.at(-1)?.content ?? '');
  return text.includes('works perfectly') ? 'positive' : text.includes('broke') ? 'negative' : 'neutral';
}

const server = await startOpenAICompatibleServer({ respond: teacher, latencyMs: 5 });
try {
  const pipeline = createPipeline({
    outDir,
    teacher: createOpenAI({ baseURL: server.url, apiKey: 'offline' })('loopback-teacher'),
    numExamples: 40,
    stageOptions: { modelRetriever: { index: join(here, 'cards.jsonl') } },
    stages: { trainer: null },
  });
  const result = await pipeline.run(await readFile(join(here, '..', 'sentiment', 'prompt.txt'), 'utf8'));
  const report = await writeRunReport(result.outDir, await buildRunReport(result.outDir));
  console.log(`generated ${result.generatedCount} examples; best base model ${result.candidates?.[0]?.id}; report ${report.html}`);
} finally {
  await server.close();
}
