import { join } from 'node:path';
import type { Command } from 'commander';
import type { TrainedModel, TrainingJobSpecInput } from '@prompt2model/core/internal';
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
 * `prompt2model train --backend local|openai|command|skypilot|hf-jobs --data DIR --base-model ID [--out DIR]`:
 * validates the job and the data, prints the cost/time estimate (checked against --max-cost),
 * trains with progress, and prints the trained model's reference. Rerunning with the same --out
 * re-attaches to the job (remote id or last checkpoint) instead of starting over.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const command = program
    .command('train')
    .description('Fine-tune a base model on DIR/train.jsonl (+ validation.jsonl): local GPU worker, OpenAI fine-tuning, Hugging Face Jobs, or a remote command')
    .requiredOption('--data <dir>', 'folder with train.jsonl and optionally validation.jsonl (a run folder from `generate` works)')
    .requiredOption('--base-model <model>', 'hf:<id> (or a bare Hub id) or a local folder for local/command; openai:<id> (or a bare id) for openai')
    .option('--estimate-only', 'validate and print the cost/time estimate, then stop', false)
    .option('--instruction <text>', 'task instruction prepended to inputs (default: DIR/prompt-spec.json)');
  addTrainingOptions(command)
    .action(
      runtime.action(async (_options: TrainOptions, command: Command) => {
        const options = runtime.options<TrainOptions>(command);
        const { findDamagedOutputs, RUN_FILES, TrainedModelSchema, runStep, trainedModelFile, trainedModelPaths } = await import('@prompt2model/core/internal');
        const { createTrainer, openTrainingData } = await import('@prompt2model/trainer/internal');
        // train.jsonl (+ validation.jsonl), or a `generate` run folder's dataset.jsonl; checked before anything is written.
        const folder = await openTrainingData(options.data);
        const dataDir = folder.dir;
        // A data folder another verb wrote (generate, run) is trusted only as written: a dataset cut
        // short or edited since is refused, never silently trained on.
        const damaged = (await findDamagedOutputs(dataDir)).filter(({ file }) => file.endsWith('.jsonl'));
        if (damaged.length > 0) {
          throw new CliUsageError(
            `${damaged.map(({ file }) => join(dataDir, file)).join(', ')} no longer match${damaged.length === 1 ? 'es' : ''} what ${damaged[0]!.step} wrote (edited, truncated or removed).`,
            `Rerun the command that made ${dataDir} with the same --out (e.g. prompt2model ${damaged[0]!.step === 'generate' ? 'generate' : 'run'} ... --out ${dataDir}): it redoes the damaged step from the LLM cache, at no cost.`,
          );
        }
        const context = await runtime.createContext(options, {
          teacher: false,
          outDir: options.out ?? dataDir,
          config: { command: 'train', backend: options.backend, baseModel: options.baseModel, method: options.method, data: dataDir },
        });
        const instruction = options.instruction ?? folder.instruction;
        const job: TrainingJobSpecInput = {
          baseModel: baseModelId(options.baseModel),
          method: options.method,
          instruction: instruction ?? '',
          evalEachEpoch: options.eval,
          data: await folder.files(context),
          ...trainingSettings(options),
        };
        const backend = await createTrainingBackend(options, runtime);
        const trainer = createTrainer({ backend, ...exportSettings(options) });
        const prepared = await trainer.prepare(job, context);
        if (instruction === undefined) context.events.log('warn', `No instruction (no --instruction, no ${RUN_FILES.promptSpec} in --data): inputs are trained without one.`, 'train');

        if (options.estimateOnly) {
          const remaining = context.ledger.remainingUsd;
          const withinBudget = prepared.estimate.usd <= remaining;
          runtime.print(options, { estimate: prepared.estimate, job: prepared.job, withinBudget }, () =>
            [prepared.summary, ...(Number.isFinite(remaining) ? [`  --max-cost: ${withinBudget ? 'within' : 'OVER'} the remaining $${remaining.toFixed(2)}`] : [])].join('\n'),
          );
          // A quote over the cap is refused as training would be: nothing starts at that price.
          if (!withinBudget) {
            throw new CliUsageError(
              `the quote ($${prepared.estimate.usd.toFixed(2)}) is over --max-cost ($${remaining.toFixed(2)} remaining): training would not start.`,
              'Raise --max-cost, or lower the cost (fewer epochs or examples, cheaper accelerators, fewer nodes).',
            );
          }
          return;
        }
        if (options.backend === 'local') await offerPythonSetup(runtime, options);
        // A finished training of a different job (other model, data or settings) is not reused.
        if (context.store.isDone('train') && !(await trainer.matchesRecordedJob(prepared.job, context))) await context.store.resetStage('train');
        // The job was validated and estimated once, above; training goes on from that.
        // Stored relative to the run folder, so a moved or copied folder finds its own model.
        const model = await runStep(context, 'train', RUN_FILES.trainedModel, TrainedModelSchema, () => trainer.trainPrepared(prepared, context), {
          stored: trainedModelFile(context.store.dir),
          artifactPaths: trainedModelPaths,
        });
        await context.store.saveCost(context.ledger.snapshot());
        runtime.print(options, model, () => describe(model, options));
      }),
    );
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
