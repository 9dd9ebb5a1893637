import { DemoExportError } from './demo-export-error.js';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { locateTrainedModel, ONNX_DTYPE_SUFFIX, ONNX_GRAPHS, type PromptSpec, type TrainedModel } from '@prompt2model/core/internal';
import { demoContent, promptParts, shownModelId, type DemoInfo } from './demo-info.js';
import { contentSecurityPolicy } from './http-response.js';
import { PAGE_DIR } from './static-files.js';

export interface StaticExportOptions {
  /** The trained model: a local folder with an ONNX export (transformers.js layout). */
  model: TrainedModel;
  spec: PromptSpec;
  /** Folder to write; replaced when it holds an earlier export, refused when it holds anything else. */
  outDir: string;
  /** Weight variants to ship, of those the folder has (`fp32`, `q8`). Default: all it has, fp32 first. */
  dtypes?: string[];
  /** Most tokens generated per answer (default 128, as in evaluation). */
  maxNewTokens?: number;
  title?: string;
}

export interface StaticExportResult {
  outDir: string;
  /** Files written, relative to `outDir`. */
  files: string[];
  bytes: number;
  dtypes: string[];
  versions: { transformers: string; onnxruntimeWeb: string };
}

/** Where the model goes inside the export (relative: the site may live under any sub-path). */
const MODEL_PATH = 'models/student';
const MARKER = '.prompt2model-demo-export';

/**
 * Writes a self-contained static site: the page, the transformers.js browser bundle, the
 * onnxruntime-web wasm files of exactly the version that bundle was built with, the ONNX model
 * (and its q8 variant when there is one), and `demo.json`. Any static host serves it; the student
 * runs in the browser with remote loading off, and the page makes no request outside its origin.
 */
export async function exportStaticDemo(options: StaticExportOptions): Promise<StaticExportResult> {
  const modelDir = modelFolderOf(options.model);
  const config = await readModelFile(modelDir, 'config.json');
  for (const required of ['tokenizer.json', 'tokenizer_config.json']) await readModelFile(modelDir, required);
  const task = (JSON.parse(config) as { is_encoder_decoder?: boolean }).is_encoder_decoder ? 'text2text-generation' : 'text-generation';
  const graphs = ONNX_GRAPHS[task];
  const onnxFiles = await readdir(join(modelDir, 'onnx')).catch(() => [] as string[]);
  const available = Object.keys(ONNX_DTYPE_SUFFIX).filter((dtype) => graphs.every((graph) => onnxFiles.includes(`${graph}${ONNX_DTYPE_SUFFIX[dtype]}.onnx`)));
  const dtypes = options.dtypes ?? available.filter((dtype) => dtype === 'fp32' || dtype === 'q8');
  const missing = dtypes.filter((dtype) => !available.includes(dtype));
  if (dtypes.length === 0 || missing.length > 0) {
    throw new DemoExportError({
      message: `The model folder ${modelDir} has no ${missing.length > 0 ? missing.join(', ') : 'fp32 or q8'} ONNX weights for ${task} (needs ${graphs.map((graph) => `onnx/${graph}.onnx`).join(' + ')}; it has ${onnxFiles.join(', ') || 'no onnx/ files'}).`,
      hint: 'Export the trained model to ONNX first (prompt2model export --model DIR, optionally with q8), then export the demo from that folder.',
    });
  }
  const runtime = await browserRuntime();

  const outDir = resolve(options.outDir);
  await prepareOutDir(outDir);
  const modelOut = join(outDir, MODEL_PATH);
  await mkdir(join(modelOut, 'onnx'), { recursive: true });
  let externalData = false;
  for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json']) {
    if (existsSync(join(modelDir, name))) await copyFile(join(modelDir, name), join(modelOut, name));
  }
  for (const dtype of dtypes) {
    for (const graph of graphs) {
      const base = `${graph}${ONNX_DTYPE_SUFFIX[dtype]}.onnx`;
      await copyFile(join(modelDir, 'onnx', base), join(modelOut, 'onnx', base));
      // Weights past 2 GB sit beside the graph in external data files.
      for (const external of onnxFiles.filter((file) => file.startsWith(`${base}_data`))) {
        await copyFile(join(modelDir, 'onnx', external), join(modelOut, 'onnx', external));
        externalData = true;
      }
    }
  }

  await mkdir(join(outDir, 'vendor', 'ort'), { recursive: true });
  await copyFile(runtime.bundle, join(outDir, 'vendor', 'transformers.min.js'));
  for (const file of runtime.wasmFiles) await copyFile(file, join(outDir, 'vendor', 'ort', file.split(/[\\/]/).pop()!));

  await cp(join(PAGE_DIR, 'app.js'), join(outDir, 'app.js'));
  await cp(join(PAGE_DIR, 'style.css'), join(outDir, 'style.css'));
  const html = (await readFile(join(PAGE_DIR, 'index.html'), 'utf8'))
    .replace('<body data-mode="server">', '<body data-mode="browser">')
    // Static hosts set no headers: the policy travels in the page (frame-ancestors only works as a header).
    .replace(
      '<meta charset="utf-8">',
      `<meta charset="utf-8">\n  <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy({ wasm: true }).replace(/; frame-ancestors 'none'/, '')}">`,
    );
  await writeFile(join(outDir, 'index.html'), html);

  const info: DemoInfo = {
    ...demoContent(options.spec, {
      ...(options.title ? { title: options.title } : {}),
      model: { id: shownModelId(options.model, 'student'), runtime: 'onnxruntime-web, in your browser' },
    }),
    mode: 'browser',
    streaming: false,
    flagging: false,
    limits: { maxInputChars: 4000 },
    browser: {
      modelPath: MODEL_PATH,
      task,
      dtypes,
      maxNewTokens: options.maxNewTokens ?? 128,
      ...(externalData ? { externalData } : {}),
      prompt: promptParts(options.spec.instruction),
      versions: runtime.versions,
    },
  };
  await writeFile(join(outDir, 'demo.json'), `${JSON.stringify(info, null, 2)}\n`);
  await writeFile(join(outDir, 'README.md'), spaceReadme(info));
  // A Hugging Face Space (a git repository) takes files past 10 MB through Git LFS only.
  await writeFile(join(outDir, '.gitattributes'), ['*.wasm filter=lfs diff=lfs merge=lfs -text', '*.onnx filter=lfs diff=lfs merge=lfs -text', '*.onnx_data filter=lfs diff=lfs merge=lfs -text', ''].join('\n'));
  await writeFile(join(outDir, MARKER), `${JSON.stringify({ createdAt: new Date().toISOString(), ...runtime.versions })}\n`);

  const files = await listFiles(outDir);
  let bytes = 0;
  for (const file of files) bytes += (await stat(join(outDir, file))).size;
  return { outDir, files, bytes, dtypes, versions: runtime.versions };
}

function modelFolderOf(model: TrainedModel): string {
  if (model.kind !== 'local-folder') {
    throw new DemoExportError({
      message: `"${model.reference}" is a managed model; a static export runs the model in the browser, so it needs local ONNX weights.`,
      hint: 'Serve a managed model with `prompt2model demo --model provider:model` (its key stays on the server) instead of a static export.',
    });
  }
  const location = locateTrainedModel(model);
  const onnx = location.formats['onnx-fp32'] ?? location.formats['onnx-q8'];
  if (!onnx) {
    throw new DemoExportError({
      message: `The model folder ${model.reference} has no ONNX export (no onnx/ folder).`,
      hint: 'Export it first: prompt2model export --model DIR writes the transformers.js layout (config.json, tokenizer.json, onnx/*.onnx).',
    });
  }
  return onnx;
}

async function readModelFile(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch {
    throw new DemoExportError({
      message: `The ONNX model folder ${dir} has no ${name}.`,
      hint: 'A transformers.js model folder needs config.json, tokenizer.json, tokenizer_config.json and onnx/*.onnx (prompt2model export writes them).',
    });
  }
}

/** The browser bundle of the installed @huggingface/transformers and the wasm files of its own onnxruntime-web. */
async function browserRuntime(): Promise<{ bundle: string; wasmFiles: string[]; versions: { transformers: string; onnxruntimeWeb: string } }> {
  const require = createRequire(import.meta.url);
  let transformersRoot: string;
  try {
    transformersRoot = packageRoot(require.resolve('@huggingface/transformers'), '@huggingface/transformers');
  } catch (error) {
    throw new DemoExportError({ message: 'Cannot find @huggingface/transformers.', hint: 'Install it: npm install @huggingface/transformers', cause: error });
  }
  const transformersPackage = JSON.parse(await readFile(join(transformersRoot, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
  let ortRoot: string;
  try {
    ortRoot = packageRoot(createRequire(join(transformersRoot, 'package.json')).resolve('onnxruntime-web'), 'onnxruntime-web');
  } catch (error) {
    throw new DemoExportError({ message: 'Cannot find onnxruntime-web beside @huggingface/transformers.', hint: 'Reinstall: npm install @huggingface/transformers (it depends on onnxruntime-web).', cause: error });
  }
  const ortVersion = (JSON.parse(await readFile(join(ortRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const bundle = join(transformersRoot, 'dist', 'transformers.min.js');
  const bundleText = await readFile(bundle, 'utf8');
  const wanted = transformersPackage.dependencies?.['onnxruntime-web'];
  // The bundle embeds onnxruntime-web's JavaScript; its wasm binary must be the very same build.
  if ((wanted && wanted !== ortVersion) || !bundleText.includes(`"${ortVersion}"`)) {
    throw new DemoExportError({
      message: `onnxruntime-web ${ortVersion} is installed, but @huggingface/transformers ${transformersPackage.version} was built with ${wanted ?? 'another version'}; their wasm files would not match.`,
      hint: `Install the exact version: npm install onnxruntime-web@${wanted ?? '<the version transformers depends on>'} (or reinstall @huggingface/transformers).`,
    });
  }
  const names = new Set(bundleText.match(/ort-wasm-simd-threaded(?:\.[a-z]+)?\.(?:wasm|mjs)/g) ?? []);
  for (const name of [...names]) names.add(name.replace(/\.wasm$/, '.mjs'));
  const wasmFiles = [...names].map((name) => join(ortRoot, 'dist', name)).filter((file) => existsSync(file));
  if (!wasmFiles.some((file) => file.endsWith('.wasm'))) {
    throw new DemoExportError({ message: `No onnxruntime-web wasm file the bundle loads was found in ${join(ortRoot, 'dist')}.`, hint: 'Reinstall @huggingface/transformers.' });
  }
  return { bundle, wasmFiles, versions: { transformers: transformersPackage.version, onnxruntimeWeb: ortVersion } };
}

function packageRoot(entry: string, name: string): string {
  let dir = dirname(entry);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && dir.replace(/\\/g, '/').endsWith(`node_modules/${name}`)) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package root of ${name} above ${entry}`);
    dir = parent;
  }
}

/** An earlier export is replaced; a folder with other files is never emptied. */
async function prepareOutDir(outDir: string): Promise<void> {
  const entries = await readdir(outDir).catch(() => undefined);
  if (entries && entries.length > 0) {
    if (!entries.includes(MARKER)) {
      throw new DemoExportError({
        message: `${outDir} is not empty and holds no earlier demo export.`,
        hint: 'Pick a new or empty folder for the `export`, so nothing of yours is overwritten.',
      });
    }
    await rm(outDir, { recursive: true, force: true });
  }
  await mkdir(outDir, { recursive: true });
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(root, path)));
    else files.push(path);
  }
  return files.sort();
}

/** Front matter that makes the folder a Hugging Face static Space as it is. */
function spaceReadme(info: DemoInfo): string {
  const title = info.title.replace(/["\n]/g, ' ').slice(0, 60);
  return `---\ntitle: "${title}"\nsdk: static\napp_file: index.html\npinned: false\n---\n\n# ${title}\n\nA prompt2model demo: the trained student runs in your browser (transformers.js ${info.browser?.versions.transformers}, onnxruntime-web ${info.browser?.versions.onnxruntimeWeb}); nothing you type leaves the page.\nServe this folder with any static web server (it must send \`.wasm\` as application/wasm and \`.mjs\` as JavaScript).\n`;
}
