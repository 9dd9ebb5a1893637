import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  AbortError,
  childProcessEnvironment,
  hashValue,
  loadSetting,
  processEnvironment,
  prompt2modelCacheDir,
  Prompt2ModelError,
  stopWithParent,
  lockFolder,
  type ProgressEmitter,
  type SettingsEnvironment,
} from '@prompt2model/core/internal';
import { workerPythonDir } from './python-path.js';

/** Which pinned stack: PyTorch for CPU only, or with CUDA. */
export type PythonVariant = 'cpu' | 'cuda';

/** The modules the import probe loads: the training, predict and export stack. */
export const PYTHON_STACK_MODULES = ['torch', 'transformers', 'peft', 'accelerate', 'tokenizers', 'safetensors', 'sentencepiece', 'onnx', 'onnxruntime', 'onnxscript'] as const;

/**
 * Optional parts of the managed environment, each from its own pinned file beside the base ones
 * (`requirements-<name>.txt`) and installed on top: the base environment's folder (the hash of its
 * requirement file) stays the same whether or not an extra is added.
 */
export const PYTHON_EXTRAS = {
  ray: { requirements: 'requirements-ray.txt', modules: ['ray', 'ray.train', 'ray.train.torch'], purpose: 'Ray Train, for training on several workers or a Ray cluster' },
} as const;
export type PythonExtra = keyof typeof PYTHON_EXTRAS;

/** Written last into a managed environment: its presence means the install and the probe passed. */
export const ENVIRONMENT_MARKER = 'prompt2model-environment.json';

export interface ManagedEnvironment {
  variant: PythonVariant;
  /** The environment's folder (`<cache>/python/<hash>`). */
  dir: string;
  /** Its interpreter. */
  python: string;
  /** Hash of the requirement file it was built from. */
  requirementsHash: string;
  /** Installed versions of the probed packages. */
  versions: Record<string, string>;
  /** True when an existing environment was reused. */
  reused: boolean;
  /** Extras installed in it on request (name → version of its main package). */
  extras?: Record<string, string>;
}

/** The pinned requirement file of a variant (`packages/trainer/python/requirements-<variant>.txt`). */
export function requirementsFile(variant: PythonVariant): string {
  return join(workerPythonDir(), `requirements-${variant}.txt`);
}

/** Hash of a variant's requirement file: a changed pin gets a fresh environment. */
export function requirementsHash(variant: PythonVariant): string {
  return hashValue({ variant, requirements: readFileSync(requirementsFile(variant), 'utf8') }).slice(0, 16);
}

/** `<prompt2model cache>/python/<hash of the requirement file>` (`$XDG_CACHE_HOME/prompt2model/python/...` by default). */
export function managedEnvironmentDir(variant: PythonVariant, env: SettingsEnvironment = processEnvironment()): string {
  return join(prompt2modelCacheDir(env), 'python', requirementsHash(variant));
}

function interpreterIn(dir: string): string {
  return process.platform === 'win32' ? join(dir, 'Scripts', 'python.exe') : join(dir, 'bin', 'python');
}

/** `cuda` when an NVIDIA driver answers (`nvidia-smi -L`), else `cpu`. */
export function detectPythonVariant(): PythonVariant {
  const probe = spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 10_000 });
  return probe.status === 0 ? 'cuda' : 'cpu';
}

function readMarker(dir: string): { variant?: PythonVariant; requirementsHash?: string; versions?: Record<string, string> } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, ENVIRONMENT_MARKER), 'utf8')) as { variant?: PythonVariant; requirementsHash?: string };
  } catch {
    return undefined;
  }
}

/**
 * The interpreter of a ready managed environment (built by `prompt2model setup` from the current
 * requirement files), or undefined. The detected variant is preferred, then the other one.
 */
export function managedPython(env: SettingsEnvironment = processEnvironment(), variant?: PythonVariant): string | undefined {
  const order: PythonVariant[] = variant ? [variant] : detectPythonVariant() === 'cuda' ? ['cuda', 'cpu'] : ['cpu', 'cuda'];
  for (const candidate of order) {
    const dir = managedEnvironmentDir(candidate, env);
    if (readMarker(dir) && existsSync(interpreterIn(dir))) return interpreterIn(dir);
  }
  return undefined;
}

/**
 * The Python that runs the worker: the explicit option, else `P2M_PYTHON`, else the managed
 * environment (`prompt2model setup`), else `python3` from PATH.
 */
export function defaultPython(explicit?: string, env: SettingsEnvironment = processEnvironment()): string {
  return loadSetting({ settingValue: explicit, environmentVariableName: 'P2M_PYTHON', env }) ?? managedPython(env) ?? 'python3';
}

/** Whether the worker would run without a managed environment or a chosen interpreter (for the CLI's offer to create one). */
export function needsPythonSetup(explicit?: string, env: SettingsEnvironment = processEnvironment()): boolean {
  return loadSetting({ settingValue: explicit, environmentVariableName: 'P2M_PYTHON', env }) === undefined && managedPython(env) === undefined;
}

export interface SetupPythonOptions {
  /** Default: `cuda` when `nvidia-smi` finds a GPU, else `cpu`. */
  variant?: PythonVariant;
  /** Interpreter that creates the virtual environment (default `python3`; Python 3.10+). */
  python?: string;
  /** Rebuild even when a ready environment exists. */
  force?: boolean;
  /** Extras to add on top of the pinned stack (`ray`). */
  extras?: readonly PythonExtra[];
  /** Settings environment (cache folder); the pip process gets the whole process environment, so your pip configuration applies. */
  env?: SettingsEnvironment;
  events?: ProgressEmitter;
  signal?: AbortSignal;
}

interface ProcessResult {
  code: number | null;
  tail: string[];
}

function runProcess(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; onLine?: (line: string) => void }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new AbortError('Setup was cancelled.', options.signal.reason));
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    // pip must not keep installing into the environment after a kill -9 of this process.
    const releaseWatch = stopWithParent(child.pid);
    child.on('close', releaseWatch);
    const tail: string[] = [];
    const take = (line: string) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      options.onLine?.(line);
    };
    createInterface({ input: child.stdout! }).on('line', take);
    createInterface({ input: child.stderr! }).on('line', take);
    const onAbort = () => child.kill('SIGINT');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(
        error.code === 'ENOENT'
          ? new Prompt2ModelError({ message: `Cannot run "${command}": not found.`, hint: 'Install Python 3.10+ or pass `python` /path/to/python3.', cause: error })
          : error,
      );
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) return reject(new AbortError('Setup was cancelled; rerun `prompt2model setup` to finish (pip keeps what it installed).', options.signal.reason));
      resolve({ code, tail });
    });
  });
}

const PROBE_SCRIPT = `import importlib, importlib.metadata as metadata, json, sys
names = sys.argv[1:]
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
dist = {"sentencepiece": "sentencepiece", "onnxruntime": "onnxruntime"}
versions = {}
for name in names:
    try:
        versions[name] = metadata.version(dist.get(name, name))
    except Exception:
        pass
print(json.dumps({"failed": failed, "versions": versions, "python": sys.version.split()[0]}))`;

/** `P2M_PREDICT_COMMAND`: the JSON argv of a custom predict worker, if set. */
export function predictCommandSetting(env: SettingsEnvironment = processEnvironment()): string | undefined {
  return loadSetting({ environmentVariableName: 'P2M_PREDICT_COMMAND', env });
}

/** Imports every module of the stack in `python`; returns the versions, or what failed. */
export function probePythonStack(python: string, signal?: AbortSignal): Promise<{ ok: boolean; versions: Record<string, string>; failed: Record<string, string>; python?: string }> {
  return probeModules(python, PYTHON_STACK_MODULES, signal);
}

/** Imports `modules` in `python`; returns their distributions' versions, or what failed. */
async function probeModules(python: string, modules: readonly string[], signal?: AbortSignal): Promise<{ ok: boolean; versions: Record<string, string>; failed: Record<string, string>; python?: string }> {
  const result = await runProcess(python, ['-c', PROBE_SCRIPT, ...modules], { env: childProcessEnvironment({ PYTHONWARNINGS: 'ignore' }), ...(signal ? { signal } : {}) });
  const last = result.tail.filter((line) => line.startsWith('{')).at(-1);
  try {
    const parsed = JSON.parse(last ?? '') as { failed: Record<string, string>; versions: Record<string, string>; python: string };
    return { ok: result.code === 0 && Object.keys(parsed.failed).length === 0, versions: parsed.versions, failed: parsed.failed, python: parsed.python };
  } catch {
    return { ok: false, versions: {}, failed: { python: result.tail.slice(-5).join('\n') || `exit code ${result.code}` } };
  }
}

/**
 * Creates (once) and reuses the virtual environment the worker runs in, from the pinned
 * requirement file of the variant: `python -m venv`, then `pip install -r` (pip reads the user's own
 * configuration and index), then one import probe of the whole stack. A ready environment whose
 * probe passes is reused without running pip; an interrupted one is completed on the next call.
 */
export async function setupPythonEnvironment(options: SetupPythonOptions = {}): Promise<ManagedEnvironment> {
  const env = options.env ?? processEnvironment();
  const variant = options.variant ?? detectPythonVariant();
  const requirements = requirementsFile(variant);
  const hash = requirementsHash(variant);
  const dir = managedEnvironmentDir(variant, env);
  const python = interpreterIn(dir);
  const stage = 'setup';
  const events = options.events;
  const log = (message: string) => events?.log('info', message, stage);

  // Two setups installing into one environment at once would corrupt it.
  const unlock = await lockFolder(dir, 'setting up the Python environment');
  try {
    const environment = await setupLocked();
    const extras: Record<string, string> = {};
    for (const extra of new Set(options.extras ?? [])) extras[extra] = await addExtra(extra);
    return Object.keys(extras).length > 0 ? { ...environment, extras } : environment;
  } finally {
    unlock();
  }

  /** Installs an extra's pinned file unless its modules already import (or `force`); returns its version. */
  async function addExtra(extra: PythonExtra): Promise<string> {
    const spec = PYTHON_EXTRAS[extra];
    const file = join(workerPythonDir(), spec.requirements);
    const probe = () => probeModules(python, spec.modules, options.signal);
    const before = options.force ? undefined : await probe();
    if (before?.ok) {
      log(`${extra} is installed (${before.versions[spec.modules[0]] ?? 'version unknown'})`);
      return before.versions[spec.modules[0]] ?? 'unknown';
    }
    log(`Adding ${extra} (${spec.purpose}) from ${file} with pip`);
    const childEnv = childProcessEnvironment({ PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONWARNINGS: 'ignore' }, { env });
    const install = await runProcess(python, ['-m', 'pip', 'install', '--progress-bar', 'off', '-r', file], { env: childEnv, ...(options.signal ? { signal: options.signal } : {}) });
    if (install.code !== 0) {
      throw new Prompt2ModelError({
        message: `pip could not install ${file}:\n${install.tail.slice(-12).join('\n')}`,
        hint: 'Check the package index pip uses (`pip config list`; PIP_INDEX_URL / PIP_EXTRA_INDEX_URL), then rerun `prompt2model setup` with the same extras.',
      });
    }
    const after = await probe();
    if (!after.ok) {
      throw new Prompt2ModelError({
        message: `${extra} was installed in ${dir} but does not import: ${Object.entries(after.failed).map(([name, error]) => `${name} (${error})`).join('; ')}`,
        hint: 'Rerun `prompt2model setup --force` with the same extras; if it fails again, the pinned wheels do not suit this machine.',
      });
    }
    return after.versions[spec.modules[0]] ?? 'unknown';
  }

  async function setupLocked(): Promise<ManagedEnvironment> {
    if (!options.force && readMarker(dir) && existsSync(python)) {
      const probe = await probePythonStack(python, options.signal);
      if (probe.ok) {
        log(`Reusing the ${variant} Python environment in ${dir}`);
        return { variant, dir, python, requirementsHash: hash, versions: probe.versions, reused: true };
      }
      log(`The environment in ${dir} no longer imports (${Object.keys(probe.failed).join(', ')}); reinstalling.`);
    }

    await mkdir(dir, { recursive: true });
    // pip and venv get no API key: nothing they run needs one.
    const childEnv = childProcessEnvironment({ PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONWARNINGS: 'ignore' }, { env });
    if (!existsSync(python)) {
      const base = options.python ?? 'python3';
      log(`Creating a virtual environment with ${base} in ${dir}`);
      const created = await runProcess(base, ['-m', 'venv', dir], { env: childEnv, ...(options.signal ? { signal: options.signal } : {}) });
      if (created.code !== 0) {
        throw new Prompt2ModelError({
          message: `Could not create a virtual environment with ${base}:\n${created.tail.slice(-8).join('\n')}`,
          hint: 'Install Python 3.10+ with its venv module (Debian/Ubuntu: apt-get install python3-venv), or pass `python` /path/to/python3.',
        });
      }
    }

    const pins = readFileSync(requirements, 'utf8').split('\n').filter((line) => /^[A-Za-z0-9]/.test(line.trim())).length;
    log(`Installing ${pins} pinned packages from ${requirements} with pip (your pip configuration applies)`);
    let collected = 0;
    events?.emit({ type: 'progress', stage, done: 0 });
    const install = await runProcess(python, ['-m', 'pip', 'install', '--progress-bar', 'off', '-r', requirements], {
      env: childEnv,
      ...(options.signal ? { signal: options.signal } : {}),
      onLine: (line) => {
        if (/^(Collecting|Processing|Requirement already satisfied) /.test(line)) {
          collected++;
          events?.emit({ type: 'progress', stage, done: collected });
        } else if (line.startsWith('Installing collected packages')) {
          log(`pip: installing ${line.split(':')[1]?.split(',').length ?? 0} packages`);
        } else if (/^(WARNING: Retrying|ERROR:)/.test(line)) {
          events?.log('warn', `pip: ${line}`, stage);
        }
      },
    });
    if (install.code !== 0) {
      throw new Prompt2ModelError({
        message: `pip could not install ${requirements}:\n${install.tail.slice(-12).join('\n')}`,
        hint: 'Check the package index pip uses (`pip config list`; PIP_INDEX_URL / PIP_EXTRA_INDEX_URL), then rerun `prompt2model setup`; it continues where pip stopped.',
      });
    }

    log('Checking the environment (one import probe)');
    const probe = await probePythonStack(python, options.signal);
    if (!probe.ok) {
      throw new Prompt2ModelError({
        message: `The new environment in ${dir} cannot import: ${Object.entries(probe.failed).map(([name, error]) => `${name} (${error})`).join('; ')}`,
        hint: 'Rerun `prompt2model setup --force`; if it fails again, the pinned wheels do not suit this machine (check pip config list).',
      });
    }
    await writeFile(join(dir, ENVIRONMENT_MARKER), `${JSON.stringify({ variant, requirementsHash: hash, requirements, python, versions: probe.versions, pythonVersion: probe.python, createdAt: new Date().toISOString() }, null, 2)}\n`);
    return { variant, dir, python, requirementsHash: hash, versions: probe.versions, reused: false };
  }
}
