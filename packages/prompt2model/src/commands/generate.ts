import { Option, type Command } from 'commander';
import type { Example, PromptSpec, StageContext } from '@prompt2model/core/internal';
import type { GenerationSummary, PromptBasedDatasetGeneratorOptions } from '@prompt2model/dataset-generator/internal';
import { readInputText } from '../flags/input.js';
import { labelAccuracy, labelAccuracyText } from '../run/label-accuracy.js';
import { addLabelVoteOptions, labelVoteSettings, type LabelVoteFlags } from '../flags/label-votes.js';
import { EXIT, checkExampleTarget, parseNumber, type CliRuntime } from '../runtime.js';

interface GenerateOptions extends LabelVoteFlags {
  prompt: string;
  numExamples: number;
  seed?: number;
  evalSet?: string;
  batch: boolean;
  batchPollInterval: number;
  preflight: boolean;
}

/**
 * `prompt2model generate --prompt FILE --num-examples N --out DIR`: synthetic examples from the
 * teacher into DIR/dataset.jsonl, with a summary (counts, rejections by reason, tokens, cost)
 * printed and stored in DIR/generation-summary.json. Rerunning resumes; a larger N continues.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const generate = program
    .command('generate')
    .description('Generate a training dataset with the teacher: diverse few-shot inputs, labels by majority vote, dedup, filters')
    .requiredOption('-p, --prompt <file>', 'prompt file (text, parsed like `parse` does) or a prompt-spec.json')
    .addOption(
      new Option('-n, --num-examples <n>', 'examples to generate').argParser(parseNumber('--num-examples', { integer: true, min: 1, max: 10_000_000 })).makeOptionMandatory(),
    )
    .addOption(new Option('--seed <n>', 'seed of prompt construction (default 0)').argParser(parseNumber('--seed', { integer: true })))
    .option('--eval-set <file>', 'JSON Lines evaluation set: generated examples overlapping it are dropped (decontamination)')
    .option('--batch', 'use the OpenAI Batch API (upload, poll, collect): half the price, minutes to hours per round; rerun to re-attach', false)
    .addOption(new Option('--batch-poll-interval <seconds>', 'seconds between batch status polls').argParser(parseNumber('--batch-poll-interval')).default(30))
    .option('--no-preflight', 'skip the check that the teacher answers (and the run folder is writable) before the first paid call');
  addLabelVoteOptions(generate)
    .action(
      runtime.action(async (_options: GenerateOptions, command: Command) => {
        const options = runtime.options<GenerateOptions>(command);
        const voteSettings = labelVoteSettings(options);
        checkExampleTarget(options);
        const promptText = await readInputText(options.prompt, 'prompt');
        const evaluationSet = options.evalSet ? await readEvaluationSet(options.evalSet) : undefined;
        // The generator's modules load while the preflight waits for the teacher's answer.
        const generatorModule = import('@prompt2model/dataset-generator/internal');
        generatorModule.catch(() => undefined);
        // The Batch API has no cheap chat check; its first steps (file uploads) cost nothing anyway.
        if (options.preflight && !options.batch) await runtime.preflight(options, await runtime.teacherModel(options));
        const context = await runtime.createContext(options, {
          config: { command: 'generate', prompt: options.prompt, numExamples: options.numExamples, batch: options.batch, ...voteSettings },
        });
        const spec = await specFrom(promptText, context, runtime);
        const { batchGeneratorOptions, createDatasetGenerator } = await generatorModule;
        const { GenerationSummaryFileSchema, RUN_FILES, runStep } = await import('@prompt2model/core/internal');
        const openai = options.batch ? await import('@prompt2model/openai/internal') : undefined;
        const generatorOptions: PromptBasedDatasetGeneratorOptions = {
          ...(options.batch
            ? {
                teacher: openai!.createOpenAIBatchTeacher(context, {
                  modelId: options.teacher,
                  provider: openai!.createOpenAI({ ...(options.baseUrl ? { baseURL: options.baseUrl } : {}), env: runtime.io.env }),
                  pollIntervalMs: options.batchPollInterval * 1000,
                }),
                ...batchGeneratorOptions(options.numExamples),
              }
            : {}),
          ...voteSettings,
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
        };
        // A finished run is reused only when it reached the same target; otherwise the generator
        // resumes from dataset.jsonl (already-paid calls come from the cache).
        const previous = await context.store.readJson(RUN_FILES.generationSummary, GenerationSummaryFileSchema).catch(() => undefined);
        if (context.store.isDone('generate') && (previous?.target !== options.numExamples || previous?.stoppedBy !== 'target')) {
          await context.store.resetStage('generate');
        }
        const outputPath = context.store.path(RUN_FILES.dataset);
        const summary = (await runStep(context, 'generate', RUN_FILES.generationSummary, GenerationSummaryFileSchema, async () => {
          const result = await createDatasetGenerator(generatorOptions).generate(
            spec,
            { numExamples: options.numExamples, outputPath, ...(evaluationSet ? { evaluationSet } : {}) },
            context,
          );
          return { count: result.count, ...result.summary };
          // The files it writes are fingerprinted: a dataset.jsonl cut or edited later is noticed and
          // redone from the LLM cache (as the pipeline's generate step does).
        }, { outputs: [RUN_FILES.dataset, RUN_FILES.datasetProgress] })) as { count: number } & Partial<GenerationSummary>;
        await context.store.saveCost(context.ledger.snapshot());
        // What this process sent to the teacher (a resumed or cached run sends few or none).
        const stats = context.scheduler.stats;
        const requests = { sent: stats.started, retries: stats.retries, rateLimited: stats.rateLimited, rateLimitPauses: stats.rateLimitPauses, hedges: stats.hedges, hedgeWins: stats.hedgeWins };
        runtime.print(options, { path: outputPath, ...summary, requests }, () => describe(summary, outputPath, requests));
        if (summary.stoppedBy === 'budget') runtime.exitCode = EXIT.budget;
      }),
    );
}

/** A prompt-spec.json is used as is; any other text is parsed (and the spec kept in the run folder). */
async function specFrom(text: string, context: StageContext, runtime: CliRuntime): Promise<PromptSpec> {
  const { PromptSpecSchema, RUN_FILES, runStep } = await import('@prompt2model/core/internal');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = PromptSpecSchema.safeParse(JSON.parse(trimmed));
      if (parsed.success) {
        await context.store.writeJson(RUN_FILES.promptSpec, parsed.data);
        return parsed.data;
      }
    } catch {
      // Not JSON: a prompt that happens to start with a brace; parse it as text.
    }
  }
  const { createPromptParser } = await import('@prompt2model/prompt-parser/internal');
  const parser = createPromptParser({ mode: 'auto', env: runtime.io.env });
  return runStep(context, 'parse', RUN_FILES.promptSpec, PromptSpecSchema, () => parser.parse(text, context));
}

async function readEvaluationSet(file: string): Promise<Example[]> {
  await readInputText(file, 'evaluation set');
  const { ExampleSchema, readJsonlAll } = await import('@prompt2model/core/internal');
  return readJsonlAll(file, { schema: ExampleSchema });
}

/** This process's requests to the teacher, from the scheduler (hedges count in `sent` too). */
interface RequestCounts {
  sent: number;
  retries: number;
  rateLimited: number;
  rateLimitPauses: number;
  hedges: number;
  hedgeWins: number;
}

function describe(summary: { count: number } & Partial<GenerationSummary>, path: string, requests: RequestCounts): string {
  const lines = [`Generated ${summary.count}${summary.target !== undefined ? ` of ${summary.target}` : ''} examples → ${path}`];
  if (summary.stoppedBy === 'budget') lines.push('Stopped at the budget cap (--max-cost); raise it and rerun the same command to continue.');
  if (summary.stoppedBy === 'exhausted') lines.push('Stopped early: the teacher kept producing inputs already in the dataset.');
  if (summary.resumedRows) lines.push(`Resumed: ${summary.resumedRows} examples were already there.`);
  if (summary.candidates !== undefined) lines.push(`Candidates: ${summary.candidates} from ${summary.generationRequests ?? 0} generation requests`);
  const rejected = Object.entries(summary.rejected ?? {}).filter(([, count]) => (count ?? 0) > 0);
  lines.push(`Rejected: ${rejected.length === 0 ? 'none' : rejected.map(([reason, count]) => `${reason} ${count}`).join(', ')}`);
  if (summary.calls) lines.push(`Teacher calls: ${summary.calls.paid} paid, ${summary.calls.cached} from cache`);
  if (summary.labelNoise && summary.labelNoise.inputsVoted > 0) {
    const noise = summary.labelNoise;
    lines.push(
      `Label noise: about ${percent(noise.estimatedNoise)} of teacher votes disagree with the final answer (${noise.votesPerInput} votes per input); ${labelAccuracyText(labelAccuracy(noise))} (errors the teacher repeats every time are not visible to voting)`,
    );
  }
  if (summary.tokens) lines.push(`Tokens: ${summary.tokens.input} in, ${summary.tokens.output} out · cost $${(summary.costUsd ?? 0).toFixed(4)} (run total $${(summary.totalCostUsd ?? 0).toFixed(4)})`);
  if (requests.sent > 0) {
    const limited = requests.rateLimited > 0 ? ` · ${requests.rateLimited} rate-limited (429), ${requests.rateLimitPauses} of them paused every request` : '';
    const hedged = requests.hedges > 0 ? ` · ${requests.hedges} slow calls sent again, ${requests.hedgeWins} of those answered first` : '';
    lines.push(`Requests this run: ${requests.sent} sent, ${requests.retries} retried${limited}${hedged}`);
  }
  return lines.join('\n');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
