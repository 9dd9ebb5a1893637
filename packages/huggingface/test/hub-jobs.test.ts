import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '@prompt2model/testing';
import { createHubJobsClient, downloadRepoFiles, uploadRepoFiles } from '../src/hub/index.js';

// A fake token, joined at run time so the source holds nothing shaped like a real key.
const TOKEN = ['hf', 'loopbackHubJobsToken0123456789'].join('_');

describe('repos as file stores and the Jobs API (real @huggingface/hub client, loopback Hub)', () => {
  let server: HubServer;
  let dir: string;
  beforeAll(async () => {
    server = await startHubServer({ models: [], accessToken: TOKEN, jobs: { python: 'python3' } });
    dir = await mkdtemp(join(tmpdir(), 'p2m-hub-jobs-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads files to a private dataset repo in one commit and downloads them back; a file holding a secret is refused before any request', async () => {
    await writeFile(join(dir, 'a.json'), '{"a":1}');
    await writeFile(join(dir, 'b.bin'), Buffer.alloc(2048, 7));
    const uploaded = await uploadRepoFiles({ hubUrl: server.url, accessToken: TOKEN, repo: 'tester/files', type: 'dataset', files: [{ path: 'x/a.json', file: join(dir, 'a.json') }, { path: 'x/y/b.bin', file: join(dir, 'b.bin') }], commitTitle: 'files', env: {} });
    expect(uploaded).toMatchObject({ created: true, repoUrl: `${server.url}/datasets/tester/files` });
    const repo = server.repos.get('datasets/tester/files')!;
    expect(repo.private).toBe(true);
    expect(repo.commits).toHaveLength(1);
    const written = await downloadRepoFiles({ hubUrl: server.url, accessToken: TOKEN, repo: 'tester/files', type: 'dataset', revision: uploaded.commit, dir: join(dir, 'back') });
    expect(written.sort()).toEqual([join(dir, 'back/x/a.json'), join(dir, 'back/x/y/b.bin')]);
    expect(await readFile(join(dir, 'back/x/y/b.bin'))).toEqual(Buffer.alloc(2048, 7));

    await writeFile(join(dir, 'leak.json'), JSON.stringify({ token: TOKEN }));
    const requests = server.stats.requests;
    await expect(uploadRepoFiles({ hubUrl: server.url, accessToken: TOKEN, repo: 'tester/leak', type: 'dataset', files: [{ path: 'leak.json', file: join(dir, 'leak.json') }], commitTitle: 'x', env: { HF_TOKEN: TOKEN } })).rejects.toThrow(/contains the value of a secret setting/);
    expect(server.stats.requests).toBe(requests);
  });

  it('runs a job, streams its log to the end, reads its stages, cancels a running one, and a signal ends a log stream', async () => {
    const client = await createHubJobsClient({ hubUrl: server.url, accessToken: TOKEN });
    expect((await client.whoAmI()).name).toBe('tester');
    expect((await client.hardware()).find((entry) => entry.name === 'a10g-small')).toMatchObject({ unitLabel: 'minute', unitCostMicroUSD: 16_667 });

    const quick = await client.run('tester', { dockerImage: 'python:3.12', command: ['node', '-e', "console.log('one'); setTimeout(() => console.log('two'), 100)"], flavor: 'cpu-basic', labels: { kind: 'quick' } });
    const lines: string[] = [];
    for await (const line of client.logs('tester', quick.id, new AbortController().signal)) lines.push(line);
    expect(lines[0]).toMatch(/^===== Job started at /);
    expect(lines.slice(1)).toEqual(['one', 'two']);
    expect((await client.get('tester', quick.id)).status.stage as string).toBe('COMPLETED');
    expect((await client.list('tester')).map((job) => job.labels?.kind)).toContain('quick');

    const slow = await client.run('tester', { dockerImage: 'python:3.12', command: ['node', '-e', "console.log('up'); setInterval(() => {}, 1000)"], flavor: 'cpu-basic' });
    const controller = new AbortController();
    const stream = client.logs('tester', slow.id, controller.signal);
    expect((await stream.next()).value).toMatch(/Job started/);
    controller.abort();
    await expect(stream.next()).rejects.toThrow(/abort/i);
    await client.cancel('tester', slow.id);
    expect((await client.get('tester', slow.id)).status.stage as string).toBe('CANCELED');
    await expect(client.get('tester', 'no-such-job')).rejects.toThrow(/404/);
  });
});
