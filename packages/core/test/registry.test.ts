import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NoSuchEntryError, Registry, createProviderRegistry, parseModelName, type LanguageModel } from '../src/internal.js';

const providers = ['openai', 'hf'];

describe('parseModelName', () => {
  it('reads provider:model, keeps ft: ids whole, and gives bare ids the default provider', () => {
    expect(parseModelName('openai:gpt-4o-mini', { providers, defaultProvider: 'openai' })).toEqual({ kind: 'provider', provider: 'openai', modelId: 'gpt-4o-mini' });
    expect(parseModelName('openai:ft:gpt-4o-mini:acme::abc', { providers, defaultProvider: 'openai' })).toEqual({ kind: 'provider', provider: 'openai', modelId: 'ft:gpt-4o-mini:acme::abc' });
    expect(parseModelName('ft:gpt-4o-mini:acme::abc', { providers, defaultProvider: 'openai' })).toEqual({ kind: 'provider', provider: 'openai', modelId: 'ft:gpt-4o-mini:acme::abc' });
    expect(parseModelName('hf:meta-llama/Llama-3.3-70B-Instruct', { providers, defaultProvider: 'openai' })).toEqual({ kind: 'provider', provider: 'hf', modelId: 'meta-llama/Llama-3.3-70B-Instruct' });
    expect(parseModelName('gpt-4o-mini', { providers, defaultProvider: 'openai' })).toEqual({ kind: 'provider', provider: 'openai', modelId: 'gpt-4o-mini' });
  });

  it('treats paths and existing folders as local folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'registry-'));
    try {
      expect(parseModelName(dir, { providers, defaultProvider: 'openai' })).toEqual({ kind: 'local-folder', path: dir });
      expect(parseModelName('./runs/model', { providers, defaultProvider: 'openai' })).toEqual({ kind: 'local-folder', path: './runs/model' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Registry and createProviderRegistry', () => {
  it('creates entries by name (sync or lazy) and lists the known ones on a miss', async () => {
    const table = new Registry<Promise<string>, { x: number }>('training backend', { local: async ({ x }) => `local ${x}` });
    table.register('remote', async () => 'remote', 'a remote one');
    expect(table.names()).toEqual(['local', 'remote']);
    expect(table.describe('remote')).toBe('a remote one');
    expect(await table.create('local', { x: 2 })).toBe('local 2');
    const error = (() => {
      try {
        table.factory('slurm');
      } catch (caught) {
        return caught;
      }
    })();
    expect(NoSuchEntryError.isInstance(error)).toBe(true);
    expect((error as NoSuchEntryError).message).toMatch(/Unknown training backend "slurm" \(known: local, remote\)/);
  });

  it('resolves model names to the provider that owns them', () => {
    const fake = (provider: string) => (modelId: string) => ({ provider, modelId }) as unknown as LanguageModel;
    const registry = createProviderRegistry({ openai: fake('openai'), hf: fake('hf') }, { defaultProvider: 'openai' });
    expect(registry.languageModel('hf:org/name')).toMatchObject({ provider: 'hf', modelId: 'org/name' });
    expect(registry.languageModel('gpt-4o-mini')).toMatchObject({ provider: 'openai', modelId: 'gpt-4o-mini' });
    expect(() => registry.languageModel('/models/student')).toThrow(/local folder/);
  });
});
