import { afterEach, describe, expect, it } from 'vitest';
import { APICallError, LoadSettingError, RequestScheduler } from '@prompt2model/core/internal';
import { startHubServer, type HubModelRow, type HubServer } from '@prompt2model/testing';
import { createHubCaller, downloadModelCard, fetchHubModels, listHubModels, resolveHubUrl } from '../src/hub/index.js';

const quick = () => new RequestScheduler({ maxConcurrency: 4, initialBackoffMs: 1, maxBackoffMs: 5, maxRetries: 3 });
const rows: HubModelRow[] = [
  { id: 'acme/t5-mini', card: '---\nlicense: Apache-2.0\n---\n# T5 mini', downloads: 900, sizeBytes: 4e8, config: { model_type: 't5' } },
  { id: 'acme/tiny-chat', card: '# chat', downloads: 50, pipelineTag: 'text-generation', safetensors: { BF16: 1000 } },
  { id: 'acme/bare', downloads: 5, sizeBytes: 1e6 },
];

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('Hub client (real @huggingface/hub against a loopback Hub)', () => {
  it('lists one task most downloaded first, with license, config and safetensors sizes', async () => {
    server = await startHubServer({ models: rows });
    const models = await listHubModels({ hubUrl: server.url, task: 'text2text-generation', scheduler: quick() });
    expect(models.map((model) => model.id)).toEqual(['acme/t5-mini', 'acme/bare']);
    expect(models[0]).toMatchObject({ downloads: 900, license: 'apache-2.0', config: { model_type: 't5' }, parameters: 1e8, sizeBytes: 4e8 });
    expect(server.requests[0]).toMatch(/pipeline_tag=text2text-generation/);
  });

  it('downloads a card, and answers "" for a repo without README', async () => {
    server = await startHubServer({ models: rows });
    const caller = await createHubCaller({ hubUrl: `${server.url}/`, scheduler: quick() });
    expect(caller.hubUrl).toBe(server.url);
    expect(await downloadModelCard('acme/t5-mini', { caller })).toMatch(/# T5 mini/);
    expect(await downloadModelCard('acme/bare', { caller })).toBe('');
  });

  it('fetches models with cards and sizes from the file tree when safetensors metadata is missing', async () => {
    server = await startHubServer({ models: rows, safetensors: false });
    const models = await fetchHubModels({ hubUrl: server.url, cacheDir: false, tasks: ['text2text-generation'], scheduler: quick() });
    expect(models.find((model) => model.id === 'acme/t5-mini')).toMatchObject({ card: expect.stringMatching(/T5 mini/), sizeBytes: 4e8 });
    expect(server.stats.treeRequests).toBe(2);
  });

  it('maps a 401 to a non-retryable APICallError whose hint names HF_TOKEN, without the token in it', async () => {
    server = await startHubServer({ models: rows, accessToken: 'hf_right_one' });
    const error = await listHubModels({ hubUrl: server.url, accessToken: 'hf_wrong_one', scheduler: quick() }).catch((caught: unknown) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).statusCode).toBe(401);
    expect((error as APICallError).isRetryable).toBe(false);
    expect((error as APICallError).hint).toMatch(/HF_TOKEN/);
    expect(JSON.stringify({ message: (error as Error).message, hint: (error as APICallError).hint })).not.toContain('hf_wrong_one');
  });

  it('reports a token that is not an hf_ token as a setting to fix, at once and without retrying', async () => {
    server = await startHubServer({ models: rows });
    const scheduler = quick();
    const error = await listHubModels({ hubUrl: server.url, accessToken: 'not-a-hub-token', scheduler }).catch((caught: unknown) => caught);
    expect(LoadSettingError.isInstance(error)).toBe(true);
    expect((error as LoadSettingError).environmentVariableName).toBe('HF_TOKEN');
    expect((error as LoadSettingError).hint).toMatch(/HF_TOKEN/);
    expect(JSON.stringify({ message: (error as Error).message, hint: (error as LoadSettingError).hint })).not.toContain('not-a-hub-token');
    expect(scheduler.stats.retries).toBe(0);
  });

  it('takes the URL from the option, else HF_ENDPOINT, without a trailing slash', () => {
    expect(resolveHubUrl('http://127.0.0.1:9/')).toBe('http://127.0.0.1:9');
    expect(resolveHubUrl()).toMatch(/^https?:\/\//);
  });
});
