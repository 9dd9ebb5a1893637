import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CliUsageError, type CliRuntime, type GlobalOptions } from '../runtime.js';
import { threadsEnv, threadsOption } from '../flags/index.js';

interface ExportOptions extends GlobalOptions {
  model: string;
  format: 'onnx';
  quantize?: 'q8' | 'none';
  python?: string;
  threads?: number;
  baseModel?: string;
}

/**
 * `prompt2model export --model DIR [--format onnx] [--quantize q8] [--out DIR]`: a trained model
 * folder → ONNX in the transformers.js layout (with the key/value cache), runnable in Node and the
 * browser without Python.
 */
export function register(program: Command, runtime: CliRuntime): void {
  program
    .command('export')
    .description('Export a trained model folder to ONNX in the transformers.js layout (config, tokenizer, onnx/ with the KV cache), optionally with q8 weights')
    .requiredOption('--model <dir>', 'trained model folder: merged copy, full fine-tune, a job output/ folder, or a LoRA adapter (with --base-model)')
    .addOption(new Option('--format <format>', 'export format').choices(['onnx']).default('onnx'))
    .addOption(new Option('--quantize <kind>', 'also write int8 weights (onnxruntime dynamic quantization)').choices(['q8', 'none']))
    .option('--base-model <id>', 'base model of an adapter-only --model')
    .option('--python <path>', 'Python with torch, transformers, onnx and onnxscript (default: $P2M_PYTHON, else the `prompt2model setup` environment, else python3)')
    .addOption(threadsOption())
    .action(
      runtime.action(async (_options: ExportOptions, command: Command) => {
        const options = runtime.options<ExportOptions>(command);
        if (!existsSync(options.model)) {
          throw new CliUsageError(`--model ${options.model} does not exist.`, 'Pass a trained model folder (the merged/ or model/ folder of a training job, or its output/ folder).');
        }
        const { exportOnnx } = await import('@prompt2model/trainer/internal');
        const result = await exportOnnx({
          model: options.model,
          ...(options.out ? { out: options.out } : {}),
          ...(options.quantize === 'q8' ? { quantize: 'q8' as const } : {}),
          ...(options.baseModel ? { baseModel: options.baseModel } : {}),
          ...(options.python ? { python: options.python } : {}),
          ...threadsEnv(options),
          events: runtime.progressEvents(options),
          signal: runtime.signal,
        });
        runtime.print(options, result, () =>
          [
            `Exported (${result.architecture}) to ${result.dir} in ${result.seconds.toFixed(1)} s`,
            ...Object.entries(result.files).map(([file, bytes]) => `  ${file}  ${(bytes / 1e6).toFixed(2)} MB`),
            `  run it: prompt2model eval --model ${result.dir} ...  (or @huggingface/transformers with this folder${result.quantizedBytes !== undefined ? ", dtype 'q8' for the int8 weights" : ''})`,
          ].join('\n'),
        );
      }),
    );
}
