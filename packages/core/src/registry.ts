import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { NoSuchEntryError } from './errors/no-such-entry-error.js';
import type { LanguageModel } from './language-model.js';

/**
 * One mechanism for everything chosen by name: model providers, training backends, stage
 * implementations. Adding one is one file (the implementation) and one entry (a factory here).
 * `T` is what a factory returns: a value, or a Promise for a table whose entries load their
 * package lazily (`await import(...)`), which keeps the CLI start fast.
 */
export type RegistryFactory<T, Options> = (options: Options) => T;

export class Registry<T, Options = void> {
  private readonly entries = new Map<string, { factory: RegistryFactory<T, Options>; description?: string }>();

  /** `kind` names the table in errors, e.g. `training backend`. */
  constructor(
    readonly kind: string,
    entries: Record<string, RegistryFactory<T, Options> | { factory: RegistryFactory<T, Options>; description?: string }> = {},
  ) {
    for (const [name, entry] of Object.entries(entries)) {
      if (typeof entry === 'function') this.register(name, entry);
      else this.register(name, entry.factory, entry.description);
    }
  }

  /** Adds (or replaces) an entry. */
  register(name: string, factory: RegistryFactory<T, Options>, description?: string): this {
    this.entries.set(name, { factory, ...(description ? { description } : {}) });
    return this;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  describe(name: string): string | undefined {
    return this.entries.get(name)?.description;
  }

  /** The named entry's factory; an unknown name is a NoSuchEntryError listing the known ones. */
  factory(name: string): RegistryFactory<T, Options> {
    const entry = this.entries.get(name);
    if (!entry) throw new NoSuchEntryError({ kind: this.kind, entryName: name, available: this.names() });
    return entry.factory;
  }

  /** Builds the named entry. */
  create(name: string, options: Options): T {
    return this.factory(name)(options);
  }
}

/** What a model name (`provider:model`, a local folder, or a bare id) refers to. */
export type ModelName =
  | { kind: 'provider'; provider: string; modelId: string }
  | { kind: 'local-folder'; path: string };

export interface ParseModelNameOptions {
  /** Known provider prefixes, e.g. `['openai', 'hf']`. */
  providers: readonly string[];
  /** Provider of a bare id (no known prefix). */
  defaultProvider: string;
}

/**
 * Parses a model name: `openai:gpt-4o-mini`, `openai:ft:gpt-4o-mini:org::id`, `hf:org/name`, a local
 * folder (an existing directory, or a path starting with `/`, `./`, `../` or `~/`), or a bare id
 * (`gpt-4o-mini`, `ft:...`) that means the default provider. Only a known provider counts as a
 * prefix, so `ft:` ids stay whole.
 */
export function parseModelName(name: string, options: ParseModelNameOptions): ModelName {
  if (looksLikePath(name)) return { kind: 'local-folder', path: name };
  const colon = name.indexOf(':');
  if (colon > 0) {
    const prefix = name.slice(0, colon);
    if (options.providers.includes(prefix)) return { kind: 'provider', provider: prefix, modelId: name.slice(colon + 1) };
  }
  return { kind: 'provider', provider: options.defaultProvider, modelId: name };
}

function looksLikePath(name: string): boolean {
  if (isAbsolute(name) || /^(\.{1,2}|~)[\\/]/.test(name) || name === '.' || name === '..') return true;
  try {
    return existsSync(name) && statSync(name).isDirectory();
  } catch {
    return false;
  }
}

/** Makes a LanguageModel for a model id (a provider's `createX(settings)` result fits). */
export type LanguageModelFactory = (modelId: string) => LanguageModel;

export interface ProviderRegistry {
  /** The LanguageModel for `provider:model` or a bare id (default provider). */
  languageModel(name: string): LanguageModel;
  /** How a name parses against this registry's providers. */
  parse(name: string): ModelName;
  providers(): string[];
  readonly defaultProvider: string;
}

/**
 * A registry of model providers (after vercel/ai's `createProviderRegistry`):
 * `createProviderRegistry({ openai: createOpenAI(), hf: createHuggingFace() }, { defaultProvider: 'openai' })`,
 * then `registry.languageModel('hf:meta-llama/Llama-3.3-70B-Instruct')`.
 */
export function createProviderRegistry(
  providers: Record<string, LanguageModelFactory>,
  options: { defaultProvider?: string } = {},
): ProviderRegistry {
  const names = Object.keys(providers);
  const defaultProvider = options.defaultProvider ?? names[0] ?? 'openai';
  const parse = (name: string) => parseModelName(name, { providers: names, defaultProvider });
  return {
    defaultProvider,
    providers: () => [...names],
    parse,
    languageModel(name: string): LanguageModel {
      const parsed = parse(name);
      if (parsed.kind === 'local-folder') {
        throw new NoSuchEntryError({
          kind: 'model provider',
          entryName: name,
          available: names,
          message: `"${name}" is a local folder, not a model of a provider (${names.join(', ')}).`,
          hint: `"${name}" is a local folder, not an API model; run it with an executor (e.g. \`prompt2model eval --model ${name}\`), or name an API model as provider:model.`,
        });
      }
      const factory = providers[parsed.provider];
      if (!factory) throw new NoSuchEntryError({ kind: 'model provider', entryName: parsed.provider, available: names });
      return factory(parsed.modelId);
    },
  };
}
