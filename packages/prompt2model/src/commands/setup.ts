import { Option, type Command } from 'commander';
import { CliUsageError, type CliRuntime, type GlobalOptions } from '../runtime.js';

interface SetupOptions extends GlobalOptions {
  gpu: boolean;
  cpu: boolean;
  python?: string;
  force: boolean;
  with?: string[];
}

/**
 * `prompt2model setup [--gpu|--cpu] [--python PATH] [--force] [--with ray]`: creates (once) and reuses the
 * Python environment the training, predict and export workers run in, from the pinned requirement
 * files of @prompt2model/trainer, in the cache folder; prints its interpreter.
 */
export function register(program: Command, runtime: CliRuntime): void {
  program
    .command('setup')
    .description('Create (once) the Python environment for local training, prediction and ONNX export: a venv in the cache folder with the pinned torch/transformers/peft/onnx stack; pip uses your own pip configuration')
    .addOption(new Option('--gpu', 'PyTorch with CUDA (default when nvidia-smi finds a GPU)').default(false).conflicts('cpu'))
    .addOption(new Option('--cpu', 'PyTorch for CPU only').default(false))
    .option('--python <path>', 'interpreter that creates the environment (Python 3.10+; default python3)')
    .option('--force', 'reinstall even when a ready environment exists', false)
    .option('--with <extras...>', 'add optional parts from their own pinned files: ray (Ray Train, for `train --backend ray`)')
    .action(
      runtime.action(async (_options: SetupOptions, command: Command) => {
        const options = runtime.options<SetupOptions>(command);
        if (options.gpu && options.cpu) throw new CliUsageError('--gpu and --cpu exclude each other.', 'Pass one of them, or neither to detect the GPU.');
        const { PYTHON_EXTRAS, setupPythonEnvironment } = await import('@prompt2model/trainer/internal');
        const extras = (options.with ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
        const unknown = extras.filter((extra) => !(extra in PYTHON_EXTRAS));
        if (unknown.length > 0) throw new CliUsageError(`--with ${unknown.join(',')}: no such extra.`, `Choose from: ${Object.keys(PYTHON_EXTRAS).join(', ')}.`);
        const events = runtime.progressEvents(options);
        const environment = await setupPythonEnvironment({
          ...(options.gpu ? { variant: 'cuda' as const } : options.cpu ? { variant: 'cpu' as const } : {}),
          ...(options.python ? { python: options.python } : {}),
          force: options.force,
          ...(extras.length > 0 ? { extras: extras as (keyof typeof PYTHON_EXTRAS)[] } : {}),
          env: runtime.io.env,
          events,
          signal: runtime.signal,
        });
        runtime.print(options, environment, () =>
          [
            `${environment.reused ? 'Ready (reused)' : 'Ready'}: ${environment.variant} Python environment`,
            `  python: ${environment.python}`,
            `  ${Object.entries(environment.versions).map(([name, version]) => `${name} ${version}`).join(', ')}`,
            ...(environment.extras ? [`  with ${Object.entries(environment.extras).map(([name, version]) => `${name} ${version}`).join(', ')}`] : []),
            '  `prompt2model train --backend local`, `eval` and `export` use it when no --python (or P2M_PYTHON) is given.',
          ].join('\n'),
        );
      }),
    );
}
