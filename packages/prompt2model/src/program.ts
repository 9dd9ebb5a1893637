import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { commands } from './commands/index.js';
import { CliRuntime, CliUsageError, EXIT, parseNumber, type CliIO } from './runtime.js';
import { processEnvironment } from '@prompt2model/core/settings';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Builds the `prompt2model` program with its global options and every registered verb. */
export function createProgram(runtime: CliRuntime): Command {
  const program = new Command('prompt2model')
    .description('Turn a task prompt (an instruction plus a few examples) into a small trained model.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('-o, --out <dir>', 'run folder: artifacts are written here, and the same command with the same --out resumes'))
    .addOption(new Option('--teacher <model>', 'teacher LLM model id').env('P2M_TEACHER').default('gpt-4o-mini'))
    .addOption(new Option('--base-url <url>', 'OpenAI-compatible base URL (default: OPENAI_BASE_URL, else api.openai.com)'))
    .addOption(new Option('--max-cost <usd>', 'budget cap in USD: no new paid call is made past it').argParser(parseNumber('--max-cost')))
    .addOption(new Option('--rpm <n>', "teacher requests-per-minute budget (your endpoint's rate limit)").argParser(parseNumber('--rpm', { min: 1 })))
    .addOption(new Option('--tpm <n>', 'teacher tokens-per-minute budget').argParser(parseNumber('--tpm', { min: 1 })))
    .addOption(new Option('--concurrency <n>', 'most teacher requests in flight at once (default 8; with --rpm, 10 s of requests at that rate)').argParser(parseNumber('--concurrency', { integer: true, min: 1 })))
    .addOption(new Option('--first-byte-timeout <seconds>', 'longest wait for a teacher answer to start (response headers); an endpoint that never answers fails after two such waits (default 60)').argParser(parseNumber('--first-byte-timeout', { min: 0.1 })))
    .addOption(new Option('--request-timeout <seconds>', 'longest wait for one whole teacher answer (default 300)').argParser(parseNumber('--request-timeout', { min: 0.1 })))
    .option('--json', 'print machine-readable JSON on stdout (errors as JSON on stderr)', false)
    .option('-v, --verbose', 'log retries and debugging detail', false)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => runtime.io.stdout(text),
      writeErr: (text) => runtime.io.stderr(text),
    })
    .exitOverride()
    // Ctrl-C's notice comes from the verb that runs (see CliRuntime.onInterrupt).
    .hook('preAction', (_program, actionCommand) => runtime.setRunningCommand(actionCommand));
  for (const register of commands) register(program, runtime);
  return program;
}

/**
 * Runs the CLI on `argv` (without `node` and the script path) and returns the exit code.
 * `io` defaults to the process's streams; tests pass their own.
 */
export async function runCli(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const runtime = new CliRuntime({
    stdout: io?.stdout ?? ((text) => process.stdout.write(text)),
    stderr: io?.stderr ?? ((text) => process.stderr.write(text)),
    isTTY: io?.isTTY ?? Boolean(process.stderr.isTTY),
    env: io?.env ?? processEnvironment(),
    ...(io?.stderrStream ? { stderrStream: io.stderrStream } : io === undefined ? { stderrStream: process.stderr } : {}),
  });
  const program = createProgram(runtime);
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) runtime.interrupt();
    else process.exit(EXIT.cancelled);
  };
  const installSignals = io === undefined;
  if (installSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return runtime.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; unknown options and missing arguments are usage errors.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    runtime.fail(error);
    return runtime.exitCode === EXIT.ok ? EXIT.failure : runtime.exitCode;
  } finally {
    if (installSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

export { CliRuntime, CliUsageError, EXIT };
export { parseNumber, parseSize, type CliIO, type GlobalOptions } from './runtime.js';
export type { RegisterCommand } from './commands/index.js';
