import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startOpenAICompatibleServer } from '@prompt2model/testing';

const fixture = resolve(import.meta.dirname, 'fixtures/resumable-run.ts');

function runFixture(args: string[], killAfterRows?: number): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAfterRows !== undefined && (stdout.match(/^row /gm)?.length ?? 0) >= killAfterRows) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`fixture failed (${code}): ${stderr}`));
      else resolvePromise({ code, signal, stdout });
    });
  });
}

describe('a run killed mid-way resumes from its run folder', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const fn of cleanup) await fn();
  });

  it('SIGKILL during generation, then the same command finishes without paying twice', async () => {
    const server = await startOpenAICompatibleServer({ latencyMs: 15, respond: (r) => `echo ${r.messages.at(-1)!.content as string}` });
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-resume-'));
    cleanup.push(() => server.close(), () => rm(outDir, { recursive: true, force: true }));
    const total = 40;

    const killed = await runFixture([outDir, server.url, String(total)], 12);
    expect(killed.signal).toBe('SIGKILL');
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'));
    expect(manifest.stages.parse.status).toBe('done');
    expect(manifest.stages.generate.status).toBe('running');
    const requestsBeforeResume = server.stats.requests;
    expect(requestsBeforeResume).toBeGreaterThanOrEqual(12);
    expect(requestsBeforeResume).toBeLessThan(total);

    const resumed = await runFixture([outDir, server.url, String(total)]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('finished');
    // Rows written before the kill are not asked for again; at most the one call in flight at the kill is repeated.
    expect(server.stats.requests).toBeLessThanOrEqual(total + 1);
    const rows = (await readFile(join(outDir, 'dataset.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.input)).toEqual(Array.from({ length: total }, (_, i) => `item ${i}`));
    const final = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'));
    expect(final.stages.generate.status).toBe('done');
    expect(final.stages.split.status).toBe('done');
    // Stage outputs are not recomputed on a third run.
    const before = server.stats.requests;
    const again = await runFixture([outDir, server.url, String(total)]);
    expect(again.code).toBe(0);
    expect(server.stats.requests).toBe(before);
  });
});
