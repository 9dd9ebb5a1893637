import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTinySeq2Seq, lastUserText, SENTIMENT_LABELS, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './support/run-cli.js';
import { startServerProcess } from './support/start-server.js';

const cli = resolve(import.meta.dirname, '../src/cli.ts');
const apiKey = 'sk-demo-cli-0123456789abcdefghijkl';
let root: string;
let modelDir: string;
let runDir: string;
let teacher: OpenAICompatibleServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-demo-cli-'));
  modelDir = join(root, 'student');
  await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords', quantizedCopy: true });
  runDir = join(root, 'run');
  await mkdir(runDir, { recursive: true });
  await writeFile(
    join(runDir, 'prompt-spec.json'),
    JSON.stringify({ instruction: 'Classify the sentiment of the review.', examples: [{ input: 'a great film', output: 'positive' }], language: 'en' }),
  );
  await writeFile(join(runDir, 'trained-model.json'), JSON.stringify({ backend: 'local', reference: modelDir, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} }));
  teacher = await startOpenAICompatibleServer({ apiKey, respond: (request) => `echo: ${lastUserText(request)}` });
});

afterAll(async () => {
  await teacher.close();
  await rm(root, { recursive: true, force: true });
});

/** Starts the real CLI's demo in a child process and reads its first stdout line. */
function startDemo(args: string[], env: NodeJS.ProcessEnv = {}) {
  return startServerProcess(['--import', 'tsx', cli, 'demo', ...args], { ...process.env, ...env });
}

const post = (url: string, path: string, body: unknown) => fetch(new URL(path, url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('prompt2model demo', () => {
  it('serves the run folder\'s model with --port 0 --json, answers /api/predict, and stops cleanly on Ctrl-C', async () => {
    // --open runs the desktop's opener: a stand-in on PATH records what it was asked to open.
    const bin = join(root, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > "${join(root, 'opened.txt')}"\n`, { mode: 0o755 });
    const demo = await startDemo(['--out', runDir, '--port', '0', '--json', '--open'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    const url = demo.first.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const info = (await (await fetch(new URL('/api/info', url))).json()) as { instruction: string; examples: unknown[]; model: { id: string } };
    expect(info.instruction).toBe('Classify the sentiment of the review.');
    // The page names the model, not where it sits on this machine.
    expect(info.model.id).toMatch(/\/student$/);
    expect(info.model.id).not.toContain(tmpdir());
    const answer = (await (await post(url, '/api/predict', { input: 'what a great film' })).json()) as { output: string; latencyMs: number };
    expect(answer.output).toBe('positive');
    await post(url, '/api/flag', { input: 'what a great film', output: 'positive', verdict: 'correct' });
    await expect.poll(() => readFile(join(root, 'opened.txt'), 'utf8').catch(() => '')).toBe(`${url}\n`);
    demo.child.kill('SIGINT');
    expect(await demo.exit).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
    expect(await readFile(join(runDir, 'demo', 'flagged.jsonl'), 'utf8')).toContain('"verdict":"correct"');
  }, 60_000);

  it('serves a provider model with the key kept on the server, and needs a token beyond loopback', async () => {
    const demo = await startDemo(['--model', 'openai:ft:gpt-4o-mini:org::demo', '--instruction', 'Echo the input.', '--host', '0.0.0.0', '--port', '0', '--json'], {
      OPENAI_BASE_URL: teacher.url,
      OPENAI_API_KEY: apiKey,
    });
    const url = demo.first.url as string;
    expect(url).toMatch(/\?token=[\w-]{20,}$/);
    const token = new URL(url).searchParams.get('token')!;
    expect((await fetch(new URL('/api/info', url).origin + '/api/info')).status).toBe(401);
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const answer = (await (await fetch(new URL('/api/predict', url), { method: 'POST', headers, body: JSON.stringify({ input: 'hello' }) })).json()) as { output: string };
    expect(answer.output).toBe('echo: hello');
    for (const path of ['/', '/app.js', '/api/info']) {
      expect(await (await fetch(new URL(path, new URL(url).origin), { headers })).text()).not.toContain(apiKey);
    }
    expect(demo.stderr()).toMatch(/warning: .*reachable from other machines/);
    expect(demo.stderr()).not.toContain(apiKey);
    demo.child.kill('SIGINT');
    expect(await demo.exit).toBe(0);
  }, 60_000);

  it('finds the task of a model inside a run folder, and warns when there is none', async () => {
    const inside = join(runDir, 'model');
    await buildTinySeq2Seq(inside, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
    const found = await runCliCaptured(['demo', '--model', inside, '--export', join(root, 'inside-site'), '--json']);
    expect(found.code).toBe(0);
    expect(found.stderr).toContain(`Task from ${join(runDir, 'prompt-spec.json')}`);
    expect(JSON.parse(await readFile(join(root, 'inside-site', 'demo.json'), 'utf8'))).toMatchObject({ instruction: 'Classify the sentiment of the review.' });
    const bare = await runCliCaptured(['demo', '--model', modelDir, '--export', join(root, 'bare-site')]);
    expect(bare.code).toBe(0);
    expect(bare.stderr).toMatch(/warning: no task instruction.*\nhint: pass --out RUN/s);
  });

  it('exports a static site with the model, the browser runtime and no secret', async () => {
    const out = join(root, 'site');
    const { code, stdout, stderr } = await runCliCaptured(['demo', '--out', runDir, '--export', out, '--json'], { OPENAI_API_KEY: apiKey });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { files: string[]; dtypes: string[]; versions: { onnxruntimeWeb: string } };
    expect(result.dtypes).toEqual(['fp32', 'q8']);
    for (const file of ['.gitattributes', 'index.html', 'app.js', 'style.css', 'demo.json', 'README.md', 'vendor/transformers.min.js', 'models/student/tokenizer.json', 'models/student/onnx/encoder_model.onnx', 'models/student/onnx/decoder_model_merged_quantized.onnx']) {
      expect(result.files).toContain(file);
    }
    expect(result.files.some((file) => /^vendor\/ort\/ort-wasm-simd-threaded.*\.wasm$/.test(file))).toBe(true);
    const installed = JSON.parse(await readFile(resolve(import.meta.dirname, '../../../node_modules/onnxruntime-web/package.json'), 'utf8')) as { version: string };
    expect(result.versions.onnxruntimeWeb).toBe(installed.version);
    const demoJson = JSON.parse(await readFile(join(out, 'demo.json'), 'utf8')) as { browser: { modelPath: string; prompt: { prefix: string; suffix: string } } };
    expect(demoJson.browser.modelPath).toBe('models/student');
    expect(demoJson.browser.prompt.prefix).toBe('<task 0>Classify the sentiment of the review.\nExample:\n');
    for (const file of result.files.filter((name) => /\.(html|js|json|md|css)$/.test(name))) {
      expect(await readFile(join(out, file), 'utf8'), file).not.toContain(apiKey);
    }
    // Exporting again replaces the earlier export; a folder of other files is refused.
    expect((await runCliCaptured(['demo', '--out', runDir, '--export', out])).code).toBe(0);
    await writeFile(join(root, 'keep.txt'), 'x');
    const refused = await runCliCaptured(['demo', '--out', runDir, '--export', root]);
    expect(refused.code).toBe(2); // a DemoExportError: the folder given is the problem (bad input)
    expect(refused.stderr).toMatch(/not empty.*hint: Pick a new or empty folder/s);
    expect(await readdir(root)).toContain('keep.txt');
  }, 60_000);

  it('says what is missing: no model, a folder that is not there, a managed model to export', async () => {
    const none = await runCliCaptured(['demo']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('hint: Pass --model DIR|openai:<id>|hf:<id>, or --out RUN');
    const missing = await runCliCaptured(['demo', '--model', join(root, 'nope')]);
    expect(missing.code).toBe(2);
    const managed = await runCliCaptured(['demo', '--model', 'openai:gpt-4o-mini', '--export', join(root, 'managed-site')]);
    expect(managed.code).toBe(2);
    expect(managed.stderr).toMatch(/managed model.*hint: Serve a managed model/s);
  });
});
