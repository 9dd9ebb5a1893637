import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, type Executor, type PromptSpec, type StageContext, type TrainedModel } from '@prompt2model/core/internal';
import { LanguageModelExecutor } from '@prompt2model/evaluator/internal';
import { buildTinySeq2Seq, MockLanguageModel, SENTIMENT_LABELS } from '@prompt2model/testing';
import { demoExecutorFor, exportStaticDemo, startDemoServer, type DemoServer } from '../src/internal.js';
import { launchChromium, serveFolder } from './support/browser.js';

/**
 * End-to-end in headless Chromium (Debian's, through playwright-core): the served demo and the
 * static export, used as a person would. Screenshots go to a temporary folder, or to docs/ with
 * P2M_UPDATE_SCREENSHOTS=1 (how docs/demo.png and docs/demo-phone.png were made).
 */

const spec: PromptSpec = {
  instruction: 'Classify the sentiment of the movie review as positive or negative.',
  examples: [
    { input: 'A great film, I loved it', output: 'positive' },
    { input: 'Boring and awful', output: 'negative' },
    { input: 'The plot was good but the ending was bad and boring', output: 'negative' },
  ],
  language: 'en',
};

/** Answers wait on a model load; a machine busy with other test suites can take many seconds. */
const POLL = { timeout: 45_000 };

let root: string;
let modelDir: string;
let browser: Browser | undefined;
const screenshotDir = process.env.P2M_UPDATE_SCREENSHOTS ? resolve(import.meta.dirname, '../../../docs') : undefined;

const localModel = (reference: string): TrainedModel => ({ backend: 'local', reference, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-demo-browser-'));
  modelDir = join(root, 'student');
  await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords', quantizedCopy: true });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rm(root, { recursive: true, force: true });
});

async function contextFor(name: string): Promise<StageContext> {
  return createStageContext({ outDir: join(root, name), cacheDir: false });
}

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = screenshotDir ?? join(root, 'screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, name), fullPage: true });
}

describe('the served demo in a browser', () => {
  let server: DemoServer;
  let context: StageContext;
  let executor: Executor;

  beforeAll(async () => {
    context = await contextFor('served');
    executor = demoExecutorFor(localModel(modelDir), spec);
    server = await startDemoServer({ executor, context, port: 0, info: { title: 'Movie review sentiment', instruction: spec.instruction, examples: spec.examples, model: { id: 'runs/sentiment/student', runtime: 'onnx' } } });
  });
  afterAll(async () => {
    await server?.close();
    await executor?.dispose?.();
  });

  it('clicks an example, submits, and shows the model answer, latency and history; flags it', async (test) => {
    if (!browser) return test.skip();
    for (const [name, viewport] of [
      ['demo.png', { width: 1280, height: 800 }],
      ['demo-phone.png', { width: 390, height: 844 }],
    ] as const) {
      const page = await browser.newPage({ viewport });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await page.goto(server.url);
      await page.locator('body[data-ready="true"]').waitFor();
      expect(await page.locator('#title').textContent()).toBe('Movie review sentiment');
      await page.locator('.example', { hasText: 'Boring and awful' }).click();
      expect(await page.locator('#input').inputValue()).toBe('Boring and awful');
      await page.locator('#submit').click();
      await expect.poll(() => page.locator('#output').textContent(), POLL).toBe('negative');
      expect(await page.locator('#latency').textContent()).toMatch(/^Latency: (\d+ ms|\d+\.\d+ s)$/);
      // Keyboard submit: Ctrl+Enter in the input box.
      await page.locator('#input').fill('I loved every minute, a great cast');
      await page.locator('#input').press('Control+Enter');
      await expect.poll(() => page.locator('#output').textContent(), POLL).toBe('positive');
      // The page adds the history item just after it shows the answer: wait for it, do not sample once.
      await expect.poll(() => page.locator('#history li').count(), POLL).toBe(2);
      expect(await page.locator('#history li').first().textContent()).toContain('I loved every minute');
      await page.locator('#flag button[data-verdict="correct"]').click();
      await expect.poll(() => page.locator('#flag-status').textContent(), POLL).toBe('Thanks, saved.');
      // Nothing wider than the screen on a phone.
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, name);
      expect(errors).toEqual([]);
      await page.close();
    }
    const flags = (await readFile(context.store.path('demo/flagged.jsonl'), 'utf8')).trim().split('\n');
    expect(flags).toHaveLength(2);
    expect(JSON.parse(flags[0]!)).toMatchObject({ input: 'I loved every minute, a great cast', output: 'positive', verdict: 'correct' });
  }, 180_000);

  it('shows a busy state while the model runs and errors in words', async (test) => {
    if (!browser) return test.skip();
    const slow = new MockLanguageModel({ respond: async () => new Promise((resolve) => setTimeout(() => resolve('done'), 400)) });
    const slowServer = await startDemoServer({ executor: new LanguageModelExecutor({ model: slow }), context: await contextFor('busy'), port: 0, info: { title: 't', instruction: 'i', examples: [], model: { id: 'm', runtime: 'r' } } });
    const page = await browser.newPage();
    try {
      await page.goto(slowServer.url);
      await page.locator('body[data-ready="true"]').waitFor();
      await page.locator('#submit').click();
      expect(await page.locator('#error').textContent()).toMatch(/Type an input first/);
      await page.locator('#input').fill('hello');
      await page.locator('#submit').click();
      expect(await page.locator('#submit').isDisabled()).toBe(true);
      expect(await page.locator('#form').getAttribute('aria-busy')).toBe('true');
      await expect.poll(() => page.locator('#output').textContent(), POLL).toBe('done');
      expect(await page.locator('#submit').isDisabled()).toBe(false);
      await slowServer.close();
      await page.locator('#submit').click();
      await expect.poll(() => page.locator('#error').textContent(), POLL).toMatch(/cannot be reached/);
    } finally {
      await page.close();
      await slowServer.close();
    }
  }, 90_000);

  it('shows HTML in the model output, the instruction and the examples as text, never as markup', async (test) => {
    if (!browser) return test.skip();
    const html = '<img src=x onerror="document.title=\'pwned\'"><b>bold</b><script>window.pwned=1</script>';
    const model = new MockLanguageModel({ respond: html });
    const htmlSpec: PromptSpec = { instruction: 'Echo <i>this</i> <script>window.pwned=2</script>', examples: [{ input: '<img src=y onerror="window.pwned=3">', output: '<u>u</u>' }], language: 'en' };
    const htmlServer = await startDemoServer({
      executor: new LanguageModelExecutor({ model, instruction: htmlSpec.instruction }),
      context: await contextFor('html'),
      port: 0,
      info: { title: '<b>Title</b>', instruction: htmlSpec.instruction, examples: htmlSpec.examples, model: { id: '<i>m</i>', runtime: 'r' } },
    });
    const page = await browser.newPage();
    try {
      await page.goto(htmlServer.url);
      await page.locator('body[data-ready="true"]').waitFor();
      expect(await page.locator('#instruction').textContent()).toBe(htmlSpec.instruction);
      await page.locator('.example').first().click();
      await page.locator('#submit').click();
      await expect.poll(() => page.locator('#output').textContent(), POLL).toBe(html);
      expect(await page.locator('main img, main b, main i, main u, main script').count()).toBe(0);
      expect(await page.locator('#title').textContent()).toBe('<b>Title</b>');
      expect(await page.evaluate("[document.title.includes('pwned'), typeof window.pwned]")).toEqual([false, 'undefined']);
    } finally {
      await page.close();
      await htmlServer.close();
    }
  }, 90_000);
});

describe('the static export in a browser', () => {
  it('answers with the student running in the page, and no request leaves its origin', async (test) => {
    if (!browser) return test.skip();
    const outDir = join(root, 'site');
    const result = await exportStaticDemo({ model: localModel(modelDir), spec, outDir, title: 'Movie review sentiment' });
    expect(result.dtypes).toEqual(['fp32', 'q8']);
    const site = await serveFolder(outDir);
    const context = await browser.newContext();
    const requests: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    // Anything outside the origin would fail here rather than reach the network.
    await context.route((url) => url.origin !== site.origin, (route) => route.abort());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`${site.origin}/index.html`);
      await page.locator('body[data-ready="true"]').waitFor();
      expect(await page.locator('#footer-mode').textContent()).toMatch(/Runs in your browser/);
      expect(await page.locator('#dtype').isVisible()).toBe(true);
      await page.locator('.example', { hasText: 'A great film' }).click();
      await page.locator('#submit').click();
      await expect.poll(() => page.locator('#output').textContent(), { timeout: 120_000 }).toBe('positive');
      // The q8 weights load on choice, as a second model.
      await page.locator('#dtype').selectOption('q8');
      await page.locator('#input').fill('so boring, a bad film');
      await page.locator('#submit').click();
      await expect.poll(() => page.locator('#output').textContent(), { timeout: 90_000 }).toBe('negative');
      expect(await page.locator('#flag').isHidden()).toBe(true);
      expect(errors).toEqual([]);
      const outside = requests.filter((url) => !url.startsWith(`${site.origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:'));
      expect(outside).toEqual([]);
      expect(requests.some((url) => url.endsWith('.wasm'))).toBe(true);
      expect(requests.some((url) => url.includes('/models/student/onnx/decoder_model_merged_quantized.onnx'))).toBe(true);
      await screenshot(page, 'demo-static.png');
    } finally {
      await context.close();
      await site.close();
    }
  }, 300_000);
});
