import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { ExecutorTable, LanguageModel, ProviderRegistry, TrainedModel } from '@prompt2model/core/internal';
import { addServerOptions, predictSettings, serverSettings, servedFormat, splitList, threadsOption, warnWithoutInstruction, weightsNote, type ServerFlags } from '../flags/index.js';
import { CliUsageError, parseNumber, temporaryFolder, type CliRuntime } from '../runtime.js';

interface DemoOptions extends ServerFlags {
  model?: string;
  spec?: string;
  instruction?: string;
  open: boolean;
  shareToken?: string;
  maxNewTokens?: number;
  python?: string;
  threads?: number;
  export?: string;
  dtype?: string;
}

/**
 * `prompt2model demo [--model DIR|provider:model] [--out RUN]`: serves the trained model's page and
 * API on 127.0.0.1 until Ctrl-C; `--export DIR` writes a static site that runs the student in the
 * browser instead.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const verb = program.command('demo');
  // A server: Ctrl-C ends it, there is nothing to resume.
  runtime.onInterrupt(verb, 'Stopping the demo…');
  addServerOptions(verb, { port: 7860, credential: 'an access token', queueDefault: 8 })
    .description("Serve a web page and HTTP API for a trained model (Ctrl-C stops it), or --export a static site that runs it in the browser")
    .option('--model <model>', "the model: a local folder (ONNX export, or PyTorch run by the Python worker), openai:<id> (also ft:... ids) or hf:<id>; default the run folder's trained model")
    .option('--spec <file>', "the task (a prompt spec file: instruction and examples); default the run folder's")
    .option('--instruction <text>', 'the task instruction the model was trained with (overrides the spec)')
    .option('--open', 'open the page in a browser once it is up', false)
    .addOption(new Option('--share-token <token>', 'access token every request must carry (default with a non-loopback --host: a random one)').env('P2M_DEMO_TOKEN'))
    .addOption(new Option('--max-new-tokens <n>', 'most tokens generated per answer (local models, default 128)').argParser(parseNumber('--max-new-tokens', { integer: true, min: 1 })))
    .option('--python <path>', 'Python with torch + transformers for a PyTorch model folder (default $P2M_PYTHON or python3)')
    .addOption(threadsOption())
    .option('--export <dir>', 'write a static site (page + transformers.js + onnxruntime-web wasm + ONNX model) instead of serving')
    .option('--dtype <list>', 'ONNX weights: the variant to serve, fp32 or q8 (int8, about a third of the memory; default fp32 when present), or with --export the variants to ship, e.g. fp32,q8 (default all the folder has)')
    .action(
      runtime.action(async (_options: DemoOptions, command: Command) => {
        const options = runtime.options<DemoOptions>(command);
        const [{ createStageContext, locateTrainedModel, RUN_FILES }, demo] = await Promise.all([import('@prompt2model/core/internal'), import('@prompt2model/demo/internal')]);
        const { createModelRegistry } = await import('../registry/model-providers.js');
        const models = createModelRegistry({ openai: options.baseUrl ? { baseURL: options.baseUrl } : {}, env: runtime.io.env });
        const { model, spec, runDir, specFoundAt } = await demo.resolveDemoTarget(
          { ...(options.model ? { model: options.model } : {}), ...(options.out ? { runDir: options.out } : {}), ...(options.spec ? { specFile: options.spec } : {}), ...(options.instruction ? { instruction: options.instruction } : {}) },
          models,
        ).catch((error: unknown) => {
          // The library says what is missing; the CLI names its flags.
          if ((error as Error)?.name === 'DemoTargetError') throw new CliUsageError((error as Error).message, 'Pass --model DIR|openai:<id>|hf:<id>, or --out RUN for a run folder whose training has finished.');
          throw error;
        });
        if (specFoundAt && !options.instruction) runtime.io.stderr(`Task from ${specFoundAt}\n`);
        const note = model.kind === 'local-folder' && !options.export ? weightsNote(locateTrainedModel(model).formats, options.dtype) : undefined;
        if (note) runtime.io.stderr(note);
        if (model.kind === 'local-folder' && spec.instruction.trim() === '') {
          warnWithoutInstruction(runtime, 'pass --out RUN (its prompt spec), --spec FILE, or --instruction "…".');
        }

        if (options.export) {
          const result = await demo.exportStaticDemo({
            model,
            spec,
            outDir: options.export,
            ...(options.dtype ? { dtypes: splitList(options.dtype) } : {}),
            ...(options.maxNewTokens ? { maxNewTokens: options.maxNewTokens } : {}),
          });
          runtime.print(options, result, () =>
            [
              `Static demo written to ${result.outDir} (${result.files.length} files, ${(result.bytes / 1e6).toFixed(1)} MB; weights: ${result.dtypes.join(', ')})`,
              `transformers.js ${result.versions.transformers}, onnxruntime-web ${result.versions.onnxruntimeWeb}`,
              'Serve the folder with any static web server (e.g. npx http-server DIR), or upload it as a Hugging Face static Space.',
            ].join('\n'),
          );
          return;
        }

        const format = options.dtype === undefined ? undefined : servedFormat(options.dtype);
        // As the server decides it: from the resolved address (a name starting with "127." is not loopback).
        const loopback = await demo.resolvesToLoopback(options.host);
        const accessToken = options.shareToken ?? (loopback ? undefined : randomBytes(18).toString('base64url'));
        const context = await createStageContext({
          // Flags go to the run folder: --out, or the one the model's prompt spec was found in.
          outDir: options.out ?? runDir ?? (await temporaryFolder('prompt2model-demo-')),
          events: runtime.progressEvents(options),
          signal: runtime.signal,
          cacheDir: false,
          // --max-cost caps what a provider model's answers may spend while the demo runs.
          ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}),
        });
        const creator = demo.createDemoCreator({
          ...serverSettings(options),
          keepAlive: true,
          ...(accessToken ? { accessToken } : {}),
          onnx: { ...(options.maxNewTokens ? { maxNewTokens: options.maxNewTokens } : {}), ...(options.threads ? { threads: options.threads } : {}) },
          ...(format ? { format } : {}),
          ...(await providerAndWorker(options, runtime, models, model)),
          log: (level, message) => {
            if (level === 'warn') runtime.io.stderr(`warning: ${message}\n`);
            else if (options.verbose) runtime.io.stderr(`${message}\n`);
          },
        });
        const served = await creator.create(model, spec, context);
        runtime.finish();
        if (options.json) runtime.io.stdout(`${JSON.stringify({ url: served.url })}\n`);
        else {
          runtime.io.stdout(`Demo of ${model.reference} at ${served.url}\n`);
          runtime.io.stderr(`API: GET ${new URL('/api/info', served.url).href}, POST /api/predict {"input": "..."}; flags go to ${context.store.path(RUN_FILES.demoFlags)}\nPress Ctrl-C to stop.\n`);
        }
        if (options.open) openInBrowser(served.url, runtime);
        await runtime.untilInterrupted(served.closed);
        await served.close();
        if (!options.json) runtime.io.stderr('Demo stopped.\n');
      }),
    );
}

/** How the managed model is called (through the model registry; its key stays in this process) and how a PyTorch folder runs. */
async function providerAndWorker(
  options: DemoOptions,
  runtime: CliRuntime,
  models: ProviderRegistry,
  model: TrainedModel,
): Promise<{ languageModelFor?: (id: string) => LanguageModel; executors?: ExecutorTable }> {
  if (model.kind === 'managed-model') {
    // A run's managed fine-tune records its backend (`openai`), which is also its provider's name.
    const provider = models.providers().includes(model.backend) ? `${model.backend}:` : '';
    return { languageModelFor: (id) => models.languageModel(`${provider}${id}`) };
  }
  const { workerExecutors } = await import('@prompt2model/trainer/internal');
  return { executors: workerExecutors({ ...predictSettings(options, runtime), ...(options.maxNewTokens ? { maxNewTokens: options.maxNewTokens } : {}), stage: 'demo' }) };
}

/** Opens the page with the desktop's opener; a failure only prints the URL to open by hand. */
function openInBrowser(url: string, runtime: CliRuntime): void {
  const opener = process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['cmd', '/c', 'start', '', url] : ['xdg-open', url];
  void import('node:child_process').then(({ spawn }) => {
    const child = spawn(opener[0]!, opener.slice(1), { stdio: 'ignore', detached: true });
    child.on('error', () => runtime.io.stderr(`warning: could not open a browser; open ${url} yourself.\n`));
    child.unref();
  });
}
