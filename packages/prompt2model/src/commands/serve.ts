import { randomBytes } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadSetting } from '@prompt2model/core/settings';
import { addServerOptions, predictSettings, serverSettings, servedFormat, warnWithoutInstruction, weightsNote, type ServerFlags } from '../flags/index.js';
import { CliUsageError, parseNumber, temporaryFolder, type CliRuntime } from '../runtime.js';

interface ServeOptions extends ServerFlags {
  model?: string;
  modelName?: string;
  spec?: string;
  instruction?: string;
  apiKey?: string;
  maxNewTokens?: number;
  maxBatch: number;
  batchWindow: number;
  python?: string;
  threads?: number;
  dtype?: 'fp32' | 'q8';
  cascade: boolean;
  threshold?: number;
}

/**
 * `prompt2model serve --model RUN|DIR`: the trained student behind the OpenAI API
 * (`/v1/chat/completions`, `/v1/completions`, `/v1/models`) on 127.0.0.1 until Ctrl-C, concurrent
 * requests batched into one model call.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const verb = program.command('serve');
  // A server: Ctrl-C ends it, there is nothing to resume.
  runtime.onInterrupt(verb, 'Stopping the server…');
  addServerOptions(verb, { port: 8000, credential: 'an API key', queueDefault: 64 })
    .description('Serve a trained student behind the OpenAI API (chat and text completions, streaming, batched) until Ctrl-C')
    .option('--model <run|dir>', 'the student: a run folder (its trained model and task) or a model folder (ONNX export, or PyTorch run by the Python worker)')
    .option('--model-name <id>', 'the model id clients send as "model" (default: the folder\'s name)')
    .option('--spec <file>', "the task (a prompt spec file); default the run folder's")
    .option('--instruction <text>', 'the task instruction the model was trained with (overrides the spec)')
    .option('--api-key <key>', 'key clients must send as "Authorization: Bearer <key>" (default with a non-loopback --host: a random one, printed; env P2M_SERVE_API_KEY)')
    .addOption(new Option('--max-new-tokens <n>', 'tokens generated per answer when a request sets no max_tokens (default 128)').argParser(parseNumber('--max-new-tokens', { integer: true, min: 1 })))
    .addOption(new Option('--max-batch <n>', 'most requests answered by one model call').default(8).argParser(parseNumber('--max-batch', { integer: true, min: 1 })))
    .addOption(new Option('--batch-window <ms>', 'how long a batch waits for more requests under load').default(5).argParser(parseNumber('--batch-window', { min: 0 })))
    .option('--python <path>', 'Python with torch + transformers for a PyTorch model folder (default $P2M_PYTHON or python3)')
    .option('--cascade', "answer with the student when its confidence clears the run's calibrated threshold, else ask the teacher (--teacher; default the run's); each answer says who gave it (answered_by), /v1/stats counts both", false)
    .addOption(new Option('--threshold <confidence>', "with --cascade: the student's answers with at least this confidence are kept (default: the run's calibrated threshold, calibration.json)").argParser(parseNumber('--threshold', { min: 0, max: 1 })))
    .addOption(new Option('--dtype <dtype>', 'ONNX weights to serve: fp32 (default when present) or q8 (int8, about a third of the memory)').choices(['fp32', 'q8']))
    .addOption(new Option('--threads <n>', 'CPU threads of the model: per ONNX operator (default the cores, at most 4), or torch in the Python worker (env P2M_THREADS)').argParser(parseNumber('--threads', { integer: true, min: 1 })))
    .action(
      runtime.action(async (_options: ServeOptions, command: Command) => {
        const options = runtime.options<ServeOptions>(command);
        if (!options.model) throw new CliUsageError('Which student? --model is required.', 'Pass --model RUN (a run folder whose training has finished) or --model DIR (a model folder).');
        const [core, demo, { createModelRegistry }, { createExecutorTable }] = await Promise.all([
          import('@prompt2model/core/internal'),
          import('@prompt2model/demo/internal'),
          import('../registry/model-providers.js'),
          import('../registry/executors.js'),
        ]);
        const models = createModelRegistry({ env: runtime.io.env });
        const { model, spec, runDir, specFoundAt } = await demo
          .resolveDemoTarget({ model: options.model, ...(options.spec ? { specFile: options.spec } : {}), ...(options.instruction ? { instruction: options.instruction } : {}) }, models)
          .catch((error: unknown) => {
            if ((error as Error)?.name === 'DemoTargetError') throw new CliUsageError((error as Error).message, 'Pass --model RUN (a run folder whose training has finished) or --model DIR (a model folder).');
            throw error;
          });
        if (model.kind === 'managed-model') {
          throw new CliUsageError(`"${options.model}" is an API model; serve runs a trained student on this machine.`, 'Pass --model RUN (a run folder) or --model DIR (an ONNX export or PyTorch model folder).');
        }
        if (specFoundAt && !options.instruction) runtime.io.stderr(`Task from ${specFoundAt}\n`);
        const note = model.kind === 'local-folder' ? weightsNote(core.locateTrainedModel(model).formats, options.dtype) : undefined;
        if (note) runtime.io.stderr(note);
        if (spec.instruction.trim() === '') {
          warnWithoutInstruction(runtime, 'pass --model RUN (its prompt spec), --spec FILE, or --instruction "…".');
        }

        // As the server decides it: from the resolved address.
        const loopback = await demo.resolvesToLoopback(options.host);
        const given = loadSetting({ settingValue: options.apiKey, environmentVariableName: 'P2M_SERVE_API_KEY', env: runtime.io.env });
        const apiKey = given ?? (loopback ? undefined : `p2m-${randomBytes(24).toString('base64url')}`);
        const generated = given === undefined && apiKey !== undefined;
        const tokens = options.maxNewTokens ? { maxNewTokens: options.maxNewTokens } : {};
        // Through core's executor table, as evaluation runs it: the training prompt, the preferred format, batches of --max-batch.
        const table = createExecutorTable({
          // A server stays up: onnxruntime's arena would keep the largest batch's activations for good.
          onnx: { batchSize: options.maxBatch, stage: 'serve', memoryArena: false, ...tokens, ...(options.threads ? { threads: options.threads } : {}) },
          predict: { ...predictSettings(options, runtime), batchSize: options.maxBatch, stage: 'serve', ...tokens },
        });
        const student = core.executorForModel(model, spec, table, options.dtype ? { format: servedFormat(options.dtype) } : {});
        if (options.threshold !== undefined && !options.cascade) throw new CliUsageError('--threshold goes with --cascade.', 'Add --cascade to ask the teacher when the student is unsure.');
        let executor: import('@prompt2model/core/internal').Executor = student;
        let cascadeLine: string | undefined;
        if (options.cascade) {
          // The run's own teacher unless one is named: the threshold was calibrated against it.
          const { readRunFile, RunManifestSchema, RUN_FILES } = core;
          const recorded = runDir ? (await readRunFile(runDir, RUN_FILES.manifest, RunManifestSchema).catch(() => undefined))?.config.teacher : undefined;
          const named = command.getOptionValueSource('teacher') !== 'default' && command.parent?.getOptionValueSource('teacher') !== 'default';
          const settings = { ...options, teacher: named || typeof recorded !== 'string' ? options.teacher : recorded };
          const [{ createRunCascade }, { LanguageModelExecutor }] = await Promise.all([import('../run/run-cascade.js'), import('@prompt2model/evaluator/internal')]);
          const teacherModel = await runtime.teacherModel(settings);
          const { cascade, calibration } = await createRunCascade({
            ...(runDir ? { runDir } : {}),
            student,
            teacher: new LanguageModelExecutor({ model: teacherModel, instruction: spec.instruction, stage: 'serve-teacher' }),
            ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
          });
          await runtime.preflight({ ...settings, out: undefined }, teacherModel);
          executor = cascade;
          cascadeLine = `Cascade: the student answers when its confidence is at least ${cascade.threshold.toFixed(4)}${options.threshold === undefined && calibration ? ` (calibrated on ${calibration.heldOut.count} ${calibration.heldOut.split} examples: ${(calibration.chosen.coverage * 100).toFixed(0)}% of calls)` : ''}, else ${teacherModel.modelId}.`;
        }
        const context = await core.createStageContext({
          outDir: runDir ?? (await temporaryFolder('prompt2model-serve-')),
          events: runtime.progressEvents(options),
          signal: runtime.signal,
          cacheDir: false,
          // The cascade's teacher calls are paid: --max-cost caps them (a request past it gets an error).
          ...(options.cascade && options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}),
        });
        const modelName = options.modelName ?? basename(resolve(options.model));
        const server = await demo.startOpenAIServer({
          executor,
          context,
          modelName,
          ...serverSettings(options),
          ...(apiKey ? { apiKey } : {}),
          maxBatch: options.maxBatch,
          batchWindowMs: options.batchWindow,
          log: (level, message) => {
            if (level === 'warn') runtime.io.stderr(`warning: ${message}\n`);
            else if (options.verbose) runtime.io.stderr(`${message}\n`);
          },
        });
        runtime.finish();
        if (cascadeLine && options.json) runtime.io.stderr(`${cascadeLine}\n`);
        if (options.json) runtime.io.stdout(`${JSON.stringify({ url: server.url, model: modelName, ...(generated ? { apiKey } : {}) })}\n`);
        else {
          runtime.io.stdout(`Serving ${modelName} (${executor.name}) at ${server.url}\n`);
          runtime.io.stderr(
            [
              `OpenAI API: OPENAI_BASE_URL=${server.url} with "model": "${modelName}" (POST /chat/completions, /completions; GET /models, /stats)`,
              ...(generated ? [`API key (send as Authorization: Bearer): ${apiKey}`] : []),
              ...(cascadeLine ? [cascadeLine] : []),
              'Press Ctrl-C to stop.',
            ].join('\n') + '\n',
          );
        }
        await runtime.untilInterrupted(server.closed);
        await server.close();
        await executor.dispose?.();
        if (!options.json) runtime.io.stderr('Server stopped.\n');
      }),
    );
}
