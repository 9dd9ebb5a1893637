// Generator benchmark (issue 12): 1,000 examples of a free-text task (date normalisation) from a
// loopback OpenAI-compatible teacher at a 1,200 RPM limit it enforces over a sliding 60 s window,
// with per-sample label noise that rises with the label temperature (0.10 + 0.10 × T: 17% at the
// default 0.7), 1% of inputs answered wrong the same way every time, and 3% random 429s
// (Retry-After 1 s), 2% 500s and 1% slow (3 s) responses. Default generator flags.
// Reports label accuracy against the server's truth, requests per accepted example, choices per
// example, the fraction of the RPM limit used, 429s caused by the client and duplicates, for this
// tree and, in the same run side by side, the code before the change (`--before REF`, default the
// commit before issue 12's work; its sources are extracted with `git archive`).
// Usage: node --import tsx bench/generate/run.ts [--examples 1000] [--seeds 1,2,3] [--before REF] [--no-before]
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readJsonlAll, type Example } from '@prompt2model/core/internal';
import { NearDuplicateIndex, normalizeText } from '@prompt2model/dataset-generator/internal';
import { dateNormalisationSpec, isConsistentlyWrong, trueIsoDate } from '@prompt2model/testing';
import { startStrictTeacher } from '../generate-rate/strict-teacher.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1]! : fallback;
};
const examples = Number(option('--examples', '1000'));
const seeds = option('--seeds', '1,2,3').split(',').map(Number);
const beforeRef = option('--before', '05510f1~1');
// --after REF: measure a commit instead of the working tree (so edits made meanwhile do not mix in).
const afterRef = option('--after', '');
const RPM = 1200;
const root = resolve(import.meta.dirname, '../..');
const worker = join(import.meta.dirname, 'worker.ts');

/** A tsconfig that resolves the workspace packages to `tree`'s sources. */
async function treeConfig(tree: string, dir: string, name: string): Promise<string> {
  const file = join(dir, `tsconfig.${name}.json`);
  const src = (name: string) => [join(tree, 'packages', name, 'src/index.ts')];
  await writeFile(
    file,
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        paths: {
          '@prompt2model/core': src('core'),
          '@prompt2model/openai': src('openai'),
          '@prompt2model/dataset-generator': src('dataset-generator'),
        },
      },
    }),
  );
  return file;
}

/** A commit's sources, with this tree's node_modules for the external packages. */
async function extractTree(dir: string, ref: string, name: string): Promise<string> {
  const tree = join(dir, name);
  await mkdir(tree, { recursive: true });
  const archive = execFileSync('git', ['-C', root, 'archive', ref, 'packages/core/src', 'packages/openai/src', 'packages/dataset-generator/src'], {
    maxBuffer: 64 * 2 ** 20,
  });
  execFileSync('tar', ['-x', '-C', tree], { input: archive });
  // ES modules, as the packages' own package.json files say.
  await writeFile(join(tree, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await symlink(join(root, 'node_modules'), join(tree, 'node_modules'));
  return tree;
}

interface Row {
  version: string;
  seed: number;
  examples: number;
  labelAccuracy: number;
  /** Accuracy on the inputs the teacher does not always answer wrong: what voting can reach. */
  accuracyExcludingConsistentErrors: number;
  consistentErrorRows: number;
  requestsPerExample: number;
  choicesPerExample: number;
  fractionOfRpmLimit: number;
  http429CausedByUs: number;
  duplicates: number;
  wallSeconds: number;
  httpRequests: number;
  estimatedNoise?: number;
  expectedAccuracy?: number;
  lowAgreementDropped: number;
}

async function runOnce(version: string, tsconfig: string, seed: number, dir: string, specFile: string): Promise<Row> {
  const server = await startStrictTeacher({ requestsPerMinute: RPM, seed });
  const outDir = join(dir, `${version}-${seed}`);
  try {
    const output = await new Promise<string>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', worker, server.url, outDir, specFile, String(examples), String(seed), String(RPM)], {
        env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('exit', (code) => (code === 0 ? done(stdout) : fail(new Error(`${version} seed ${seed} exited with ${code}`))));
    });
    const summary = JSON.parse(output.trim().split('\n').at(-1)!) as {
      wallSeconds: number;
      rejected?: Record<string, number>;
      labelNoise?: { estimatedNoise: number; expectedAccuracy: number };
    };
    const rows = await readJsonlAll<Example>(join(outDir, 'dataset.jsonl'));
    const seen = new Set<string>();
    const near = new NearDuplicateIndex();
    let duplicates = 0;
    let correct = 0;
    let consistent = 0;
    let correctElsewhere = 0;
    for (const row of rows) {
      const key = normalizeText(row.input);
      if (seen.has(key) || near.findNearDuplicate(row.input)) duplicates++;
      seen.add(key);
      near.add(row.input);
      const right = row.output === trueIsoDate(row.input);
      if (right) correct++;
      if (isConsistentlyWrong(row.input)) consistent++;
      else if (right) correctElsewhere++;
    }
    const stats = server.stats;
    const choices = server.requests.filter((request) => request.response_format === undefined).reduce((sum, request) => sum + (request.n ?? 1), 0);
    const span = stats.arrivals.at(-1)! - stats.arrivals[0]!;
    return {
      version,
      seed,
      examples: rows.length,
      labelAccuracy: round(correct / rows.length, 4),
      accuracyExcludingConsistentErrors: round(correctElsewhere / (rows.length - consistent), 4),
      consistentErrorRows: consistent,
      requestsPerExample: round(stats.requests / rows.length, 3),
      choicesPerExample: round(choices / rows.length, 2),
      fractionOfRpmLimit: round(((stats.arrivals.length - 1) / span) * 60_000 / RPM, 3),
      http429CausedByUs: stats.rateLimited,
      duplicates,
      wallSeconds: round(summary.wallSeconds, 1),
      httpRequests: stats.requests,
      ...(summary.labelNoise ? { estimatedNoise: summary.labelNoise.estimatedNoise, expectedAccuracy: summary.labelNoise.expectedAccuracy } : {}),
      lowAgreementDropped: summary.rejected?.['low-agreement'] ?? 0,
    };
  } finally {
    await server.close();
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

const dir = await mkdtemp(join(tmpdir(), 'p2m-bench-generate-'));
try {
  const specFile = join(dir, 'spec.json');
  await writeFile(specFile, JSON.stringify(dateNormalisationSpec));
  const after = await treeConfig(afterRef ? await extractTree(dir, afterRef, 'after') : root, dir, 'after');
  const before = args.includes('--no-before') ? undefined : await treeConfig(await extractTree(dir, beforeRef, 'before'), dir, 'before');
  console.log(
    `generator benchmark · ${new Date().toISOString()} · Node ${process.version} · ${examples} examples · ${RPM} RPM · after = ${afterRef || 'working tree'} · before = ${before ? beforeRef : '-'}`,
  );
  const rows: Row[] = [];
  for (const seed of seeds) {
    // Before and after side by side (each its own server and rate limit), seeds one after another.
    rows.push(...(await Promise.all([runOnce('after', after, seed, dir, specFile), ...(before ? [runOnce('before', before, seed, dir, specFile)] : [])])));
  }
  console.table(rows);
  console.log(JSON.stringify(rows));
} finally {
  await rm(dir, { recursive: true, force: true });
}
