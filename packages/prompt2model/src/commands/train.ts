import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { StageContext, TrainedModel, TrainingJobSpecInput } from '@prompt2model/core';
import { addTrainingOptions, baseModelId, createTrainingBackend, exportSettings, trainingSettings, type TrainingFlags } from '../flags/training.js';
import { offerPythonSetup } from '../python-setup-offer.js';
import { CliUsageError, type CliRuntime } from '../runtime.js';

interface TrainOptions extends TrainingFlags {
  data: string;
  baseModel: string;
  estimateOnly: boolean;
  instruction?: string;
}

/**
 * `prompt2model train --backend local|openai|command --data DIR --base-model ID [--out DIR]`:
 * validates the job and the data, prints the cost/time estimate (checked against --max-cost),
 * trains with progress, and prints the trained model's reference. Rerunning with the same --out
 * re-attaches to the job (remote id or last checkpoint) instead of starting over.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const command = program
    .command('train')
    .description('Fine-tune a base model on DIR/train.jsonl (+ validation.jsonl): local GPU worker, OpenAI fine-tuning, or a remote command')
    .requiredOption('--data <dir>', 'folder with train.jsonl and optionally validation.jsonl (a run folder from `generate` works)')
    .requiredOption('--base-model <model>', 'hf:<id> (or a bare Hub id) or a local folder for local/command; openai:<id> (or a bare id) for openai')
    .option('--estimate-only', 'validate and print the cost/time estimate, then stop', false)
    .option('--instruction <text>', 'task instruction prepended to inputs (default: DIR/prompt-spec.json)');
  addTrainingOptions(command)
    .action(
      runtime.action(async (_options: TrainOptions, command: Command) => {
        const options = runtime.options<TrainOptions>(command);
        const dataDir = resolve(options.data);
        const hasSplits = existsSync(join(dataDir, 'train.jsonl'));
        if (!hasSplits && !existsSync(join(dataDir, 'dataset.jsonl'))) {
          throw new CliUsageError(
            `No train.jsonl (or dataset.jsonl) in ${dataDir}`,
            'Point --data at a folder with train.jsonl (and optionally validation.jsonl), or the run folder of `generate`.',
          );
        }
        const { PromptSpecSchema, TrainedModelSchema, findDamagedOutputs, runStep, trainedModelPaths } = await import('@prompt2model/core');
        // A data folder another verb wrote (generate, run) is trusted only as written: a dataset cut
        // short or edited since is refused, never silently trained on.
        const damaged = (await findDamagedOutputs(dataDir)).filter(({ file }) => file.endsWith('.jsonl'));
        if (damaged.length > 0) {
          throw new CliUsageError(
            `${damaged.map(({ file }) => join(dataDir, file)).join(', ')} no longer match${damaged.length === 1 ? 'es' : ''} what ${damaged[0]!.step} wrote (edited, truncated or removed).`,
            `Rerun the command that made ${dataDir} with the same --out (e.g. prompt2model ${damaged[0]!.step === 'generate' ? 'generate' : 'run'} ... --out ${dataDir}): it redoes the damaged step from the LLM cache, at no cost.`,
          );
        }
        const { createTrainer } = await import('@prompt2model/trainer');
        const context = await runtime.createContext(options, {
          teacher: false,
          outDir: options.out ?? dataDir,
          config: { command: 'train', backend: options.backend, baseModel: options.baseModel, method: options.method, data: dataDir },
        });
        // A `generate` run folder holds dataset.jsonl: split it like the pipeline does (by input hash,
        // so no input is in two splits), keeping test.jsonl for `eval`.
        const splitDir = hasSplits ? dataDir : await splitGenerated(dataDir, context);
        const train = join(splitDir, 'train.jsonl');
        const validation = join(splitDir, 'validation.jsonl');
        const instruction = options.instruction ?? (await instructionFrom(dataDir, PromptSpecSchema));
        const job: TrainingJobSpecInput = {
          baseModel: baseModelId(options.baseModel),
          method: options.method,
          instruction: instruction ?? '',
          evalEachEpoch: options.eval,
          data: { train, ...(existsSync(validation) && (await hasRows(validation)) ? { validation } : {}) },
          ...trainingSettings(options),
        };
        const backend = await createTrainingBackend(options, runtime);
        const trainer = createTrainer({ backend, ...exportSettings(options) });
        const prepared = await trainer.prepare(job, context);
        if (instruction === undefined) context.events.log('warn', 'No instruction (no --instruction, no prompt-spec.json in --data): inputs are trained without one.', 'train');

        if (options.estimateOnly) {
          const remaining = context.ledger.remainingUsd;
          const withinBudget = prepared.estimate.usd <= remaining;
          runtime.print(options, { estimate: prepared.estimate, job: prepared.job, withinBudget }, () =>
            [prepared.summary, ...(Number.isFinite(remaining) ? [`  --max-cost: ${withinBudget ? 'within' : 'OVER'} the remaining $${remaining.toFixed(2)}`] : [])].join('\n'),
          );
          return;
        }
        if (options.backend === 'local') await offerPythonSetup(runtime, options);
        // A finished training of a different job (other model, data or settings) is not reused.
        if (context.store.isDone('train') && !(await trainer.matchesRecordedJob(prepared.job, context))) await context.store.resetStage('train');
        // The job was validated and estimated once, above; training goes on from that.
        const model = await runStep(context, 'train', 'trained-model.json', TrainedModelSchema, () => trainer.trainPrepared(prepared, context), {
          artifactPaths: trainedModelPaths,
        });
        await context.store.saveCost(context.ledger.snapshot());
        runtime.print(options, model, () => describe(model, options));
      }),
    );
}

/** Splits DIR/dataset.jsonl into train/validation/test.jsonl in the run folder (once; recorded as the `split` step, as the Pipeline does). */
async function splitGenerated(dataDir: string, context: StageContext): Promise<string> {
  const { DatasetSplitsSchema, runStep, splitDatasetFiles } = await import('@prompt2model/core');
  await runStep(context, 'split', 'splits.json', DatasetSplitsSchema, async () => {
    const { duplicates: _duplicates, ...splits } = await splitDatasetFiles({
      outDir: context.store.dir,
      sources: [{ path: join(dataDir, 'dataset.jsonl'), source: 'generated' }],
    });
    const { counts } = splits;
    context.events.log('info', `Split ${counts.train + counts.validation + counts.test} generated examples: ${counts.train} train, ${counts.validation} validation, ${counts.test} test.`, 'split');
    return splits;
  });
  return context.store.dir;
}

async function hasRows(path: string): Promise<boolean> {
  return (await readFile(path, 'utf8')).trim() !== '';
}

/** The instruction of the run folder's prompt-spec.json, when `generate`/`parse` left one. */
async function instructionFrom(dir: string, schema: typeof import('@prompt2model/core').PromptSpecSchema): Promise<string | undefined> {
  const path = join(dir, 'prompt-spec.json');
  if (!existsSync(path)) return undefined;
  const parsed = schema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  return parsed.success ? parsed.data.instruction : undefined;
}

function describe(model: TrainedModel, options: TrainOptions): string {
  const metrics = Object.entries(model.metrics)
    .filter(([key]) => /loss|costUsd|trainedTokens|tokens_per_second/.test(key))
    .map(([key, value]) => `${key}=${Number(value.toPrecision(4))}`)
    .join(' ');
  const lines = [`Trained model (${options.backend}, ${model.method}): ${model.reference}`];
  if (metrics) lines.push(`  ${metrics}`);
  if (model.kind === 'local-folder' && model.artifacts.adapter) lines.push(`  adapter: ${model.artifacts.adapter}`);
  return lines.join('\n');
}
