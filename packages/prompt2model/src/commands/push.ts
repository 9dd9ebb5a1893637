import type { Command } from 'commander';
import type { CliRuntime, GlobalOptions } from '../runtime.js';

interface PushOptions extends GlobalOptions {
  model: string;
  repo: string;
  private: boolean;
  hubUrl?: string;
}

/**
 * `prompt2model push --model DIR --repo OWNER/NAME [--private]`: publishes a trained model to the
 * Hugging Face Hub (HF_TOKEN): creates the repo, then one commit with the model files, the ONNX
 * export under onnx/ and the README.md card; never checkpoints, logs, caches or a file holding a key.
 */
export function register(program: Command, runtime: CliRuntime): void {
  program
    .command('push')
    .description('Publish a trained model to the Hugging Face Hub (HF_TOKEN): model files, the ONNX export under onnx/ and the model card; never checkpoints, logs or caches')
    .requiredOption('--model <dir>', 'trained model folder (merged/ or model/ of a job), a job output/ folder, a run folder, or an ONNX export')
    .requiredOption('--repo <owner/name>', 'model repo to create or update, e.g. my-user/sentiment-t5-small')
    .option('--private', 'create the repo as private', false)
    .option('--hub-url <url>', 'Hub base URL (default HF_ENDPOINT, else https://huggingface.co)')
    .action(
      runtime.action(async (_options: PushOptions, command: Command) => {
        const options = runtime.options<PushOptions>(command);
        const { pushModel } = await import('@prompt2model/huggingface/hub');
        const hubUrl = options.hubUrl ?? runtime.io.env.HF_ENDPOINT;
        const result = await pushModel({
          model: options.model,
          repo: options.repo,
          private: options.private,
          ...(hubUrl ? { hubUrl } : {}),
          env: runtime.io.env,
          events: runtime.progressEvents(options),
          signal: runtime.signal,
        });
        runtime.print(options, result, () =>
          [
            `${result.created ? 'Created' : 'Updated'} ${result.repoUrl} (commit ${result.commit.oid.slice(0, 12)})`,
            `  ${result.files.length} files, ${(result.bytes / 1e6).toFixed(2)} MB: ${result.files.map((file) => file.path).join(', ')}`,
          ].join('\n'),
        );
      }),
    );
}
