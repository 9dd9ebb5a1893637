import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { PromptSpec } from '@prompt2model/core/internal';
import { readPromptFile } from '../flags/input.js';
import { LoadSettingError } from '@prompt2model/core/errors';
import type { PromptParseResult } from '@prompt2model/prompt-parser/internal';
import { CliUsageError, type CliRuntime } from '../runtime.js';

interface ParseOptions {
  prompt: string;
  mode: 'auto' | 'deterministic' | 'llm';
  translate: boolean;
  deeplServerUrl?: string;
  onTranslationError: 'fail' | 'keep-original';
  maxAttempts?: number;
  force: boolean;
  preflight: boolean;
}

/** `prompt2model parse --prompt FILE [--json] [--out DIR]`: prompt → PromptSpec. */
export function register(program: Command, runtime: CliRuntime): void {
  program
    .command('parse')
    .description('Split a prompt into instruction and examples, detect its language (translating with DeepL when DEEPL_AUTH_KEY is set) and infer the task type')
    .requiredOption('-p, --prompt <file>', 'prompt file (UTF-8 text), or - for stdin')
    .addOption(
      new Option('--mode <mode>', 'auto: deterministic layouts first, the teacher when examples are not marked; deterministic: never call the teacher; llm: always ask the teacher')
        .choices(['auto', 'deterministic', 'llm'])
        .default('auto'),
    )
    .option('--no-translate', 'keep a non-English instruction as written even when DEEPL_AUTH_KEY is set')
    .option('--deepl-server-url <url>', 'DeepL API server (default: DEEPL_SERVER_URL, else chosen from the key)')
    .addOption(
      new Option('--on-translation-error <what>', 'fail, or keep the original instruction with a warning')
        .choices(['fail', 'keep-original'])
        .default('fail'),
    )
    .addOption(new Option('--max-attempts <n>', 'teacher answers to try before giving up (LLM parsing)').argParser((value) => positiveInteger('--max-attempts', value)))
    .option('--force', 'parse again even when the run folder already holds a spec', false)
    .option('--no-preflight', 'skip the check that the teacher answers before asking it to split the prompt')
    .action(
      runtime.action(async (_options: ParseOptions, command: Command) => {
        const options = runtime.options<ParseOptions>(command);
        const { PromptSpecSchema, RUN_FILES, runStep, sha256 } = await import('@prompt2model/core/internal');
        const prompt = await readPromptFile(options.prompt);
        const promptSha256 = sha256(prompt);
        const previous = options.out ? await previousPromptHash(options.out) : undefined;
        // The teacher is only wired when its provider has its settings (OpenAI's for `openai:`
        // and bare ids, Hugging Face's for `hf:`): without them the deterministic parser does the
        // work and says when it found no marked examples.
        const missing = await runtime.missingTeacherSetting(options);
        const teacherReachable = missing === undefined;
        if (options.mode === 'llm' && missing) {
          throw new LoadSettingError({ message: `--mode llm needs the teacher. ${missing.message}`, environmentVariableName: missing.environmentVariableName, hint: missing.hint });
        }
        // The teacher is checked only when it will be asked: a prompt with marked examples needs none.
        const { DeterministicPromptParser } = await import('@prompt2model/prompt-parser/internal');
        const needsTeacher = options.mode === 'llm' || (options.mode === 'auto' && teacherReachable && new DeterministicPromptParser().split(prompt) === undefined);
        if (options.preflight && needsTeacher && !(previous === promptSha256 && !options.force && (await parsedBefore(options.out)))) await runtime.preflight(options, await runtime.teacherModel(options));
        const context = await runtime.createContext(options, {
          teacher: options.mode !== 'deterministic' && teacherReachable,
          config: { command: 'parse', prompt: options.prompt, promptSha256 },
        });
        if (context.store.isDone('parse') && (options.force || (previous !== undefined && previous !== promptSha256))) {
          if (!options.force) context.events.log('info', 'The prompt changed since the last parse in this run folder; parsing again.', 'parse');
          await context.store.resetStage('parse');
        }
        // Loaded when the verb runs, so the rest of the CLI starts without it.
        const { createPromptParser, languageName } = await import('@prompt2model/prompt-parser/internal');
        const parser = createPromptParser({
          mode: options.mode,
          translate: options.translate,
          deepl: options.deeplServerUrl ? { serverUrl: options.deeplServerUrl } : {},
          onTranslationError: options.onTranslationError,
          ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
          env: runtime.io.env,
        });
        let details: PromptParseResult | undefined;
        const spec = await runStep(context, 'parse', RUN_FILES.promptSpec, PromptSpecSchema, async () => {
          details = await parser.parseDetailed(prompt, context);
          return details.spec;
        });
        await context.store.saveCost(context.ledger.snapshot());
        const path = join(context.store.dir, RUN_FILES.promptSpec);
        runtime.print(options, spec, () => describe(spec, details, options.out ? path : undefined, languageName));
      }),
    );
}

function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/** Whether the run folder already holds a finished parse (then the teacher is not asked again). */
async function parsedBefore(outDir: string | undefined): Promise<boolean> {
  if (!outDir) return false;
  try {
    const { readRunFile, RUN_FILES, RunManifestSchema } = await import('@prompt2model/core/internal');
    const manifest = await readRunFile(outDir, RUN_FILES.manifest, RunManifestSchema);
    return manifest?.stages.parse?.status === 'done';
  } catch {
    return false;
  }
}

/** The prompt hash recorded by an earlier parse in this run folder, if any. */
async function previousPromptHash(outDir: string): Promise<string | undefined> {
  try {
    const { readRunFile, RUN_FILES, RunManifestSchema } = await import('@prompt2model/core/internal');
    const manifest = await readRunFile(outDir, RUN_FILES.manifest, RunManifestSchema);
    return typeof manifest?.config.promptSha256 === 'string' ? manifest.config.promptSha256 : undefined;
  } catch {
    return undefined;
  }
}

function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describe(
  spec: PromptSpec,
  details: PromptParseResult | undefined,
  savedAt: string | undefined,
  languageName: (code: string) => string,
): string {
  const lines = [`Instruction: ${spec.instruction}`];
  if (spec.originalInstruction) lines.push(`Original (${languageName(spec.language)}): ${spec.originalInstruction}`);
  const translation = details?.translation;
  const translated =
    translation?.status === 'translated'
      ? `; translated to English with ${translation.translator}`
      : translation?.status === 'no-translator'
        ? '; not translated: no DeepL key (set DEEPL_AUTH_KEY)'
        : translation?.status === 'disabled'
          ? '; not translated (--no-translate)'
          : translation?.status === 'failed'
          ? '; not translated: translation failed'
          : '';
  lines.push(`Language: ${spec.language} (${languageName(spec.language)})${translated}`);
  lines.push(`Task type: ${spec.taskType ?? 'unknown'}${spec.labels?.length ? ` — labels: ${spec.labels.join(', ')}` : ''}${details ? ` (${details.taskTypeReason})` : ''}`);
  lines.push(`Examples: ${spec.examples.length}${details ? ` (read as ${details.layout === 'llm' ? `the teacher's split, ${details.llmAttempts ?? 1} attempt(s)` : details.layout})` : ''}`);
  spec.examples.slice(0, 10).forEach((example, index) => lines.push(`  ${index + 1}. ${oneLine(example.input, 60)}  →  ${oneLine(example.output, 60)}`));
  if (spec.examples.length > 10) lines.push(`  … and ${spec.examples.length - 10} more`);
  if (!details) lines.push('(from the run folder; pass --force to parse again)');
  if (savedAt) lines.push(`Saved: ${savedAt}`);
  return lines.join('\n');
}
