import { Option, type Command } from 'commander';
import { CliUsageError, parseNumber, type CliRuntime } from '../runtime.js';

/** Flags of the verbs that serve a model over HTTP (`demo`, `serve`). */
export interface ServerFlags {
  host: string;
  port: number;
  allowedHost: string[];
  maxInputChars?: number;
  maxQueue?: number;
  timeout?: number;
}

/**
 * The server flag group: where to listen, extra Host names, the input limit, the queue bound and
 * the per-request timeout. `credential` names what a non-loopback host needs (an access token, an
 * API key); the defaults of limits without a value are the library's.
 */
export function addServerOptions(command: Command, settings: { port: number; credential: string; queueDefault: number }): Command {
  return command
    .option('--host <address>', `address to listen on; anything but 127.0.0.1/localhost is reachable by other machines and needs ${settings.credential}`, '127.0.0.1')
    .addOption(new Option('--port <n>', 'port (0 picks a free one)').default(settings.port).argParser(parseNumber('--port', { integer: true, min: 0, max: 65535 })))
    .option('--allowed-host <name>', 'another Host header to answer, e.g. a reverse proxy name (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .addOption(new Option('--max-input-chars <n>', 'longest input accepted (default 4000)').argParser(parseNumber('--max-input-chars', { integer: true, min: 1 })))
    .addOption(new Option('--max-queue <n>', `requests that may wait for the model before 429 (default ${settings.queueDefault})`).argParser(parseNumber('--max-queue', { integer: true, min: 0 })))
    .addOption(new Option('--timeout <seconds>', 'per-request limit, waiting included (default 120)').argParser(parseNumber('--timeout', { min: 1 })));
}

/** The server library's options from the flags (limits left out keep the library's defaults). */
export function serverSettings(options: ServerFlags): { host: string; port: number; allowedHosts: string[]; maxInputChars?: number; maxQueue?: number; timeoutMs?: number } {
  return {
    host: options.host,
    port: options.port,
    allowedHosts: options.allowedHost,
    ...(options.maxInputChars ? { maxInputChars: options.maxInputChars } : {}),
    ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
    ...(options.timeout ? { timeoutMs: options.timeout * 1000 } : {}),
  };
}

/** Warns that a local model will see an empty instruction in its training prompt. */
export function warnWithoutInstruction(runtime: CliRuntime, hint: string): void {
  runtime.io.stderr(`warning: no task instruction: inputs are wrapped in the training prompt with an empty one, and a model trained with an instruction may answer worse.\nhint: ${hint}\n`);
}

/**
 * The line a server prints when it runs a model's fp32 ONNX weights and the folder has int8 (q8)
 * ones too: they answer in about half the memory (docs/demo.md, "Memory").
 */
export function weightsNote(formats: Partial<Record<string, string>>, dtype: string | undefined): string | undefined {
  if (dtype !== undefined || formats['onnx-fp32'] === undefined || formats['onnx-q8'] === undefined) return undefined;
  return 'Serving the fp32 ONNX weights; --dtype q8 serves the int8 ones, in about half the memory.\n';
}

/** `--dtype` of a served ONNX model (demo and serve): one weights variant, as its model format. */
export function servedFormat(dtype: string): 'onnx-fp32' | 'onnx-q8' {
  if (dtype === 'fp32' || dtype === 'q8') return `onnx-${dtype}`;
  throw new CliUsageError(`--dtype ${dtype}: a served model runs one ONNX weights variant, fp32 or q8.`, 'Pass --dtype fp32 or --dtype q8 (a list such as fp32,q8 goes with --export).');
}
