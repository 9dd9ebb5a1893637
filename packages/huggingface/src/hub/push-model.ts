import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { loadApiKey, MODEL_CARD_REPO_PLACEHOLDER, processEnvironment, Prompt2ModelError, RequestScheduler, secretSettingValues, type ProgressEmitter, type SettingsEnvironment } from '@prompt2model/core/internal';
import { createHubCaller } from './create-hub-caller.js';
import { validateModelCardMetadata } from './model-card-metadata.js';
import { planModelUpload, type PlannedUpload } from './model-upload-plan.js';
import { assertNoSecretsInUploads } from './scan-upload-secrets.js';
import type { HubClientOptions } from './types/public.js';
import { isLfsUpload, uploadLfsFiles } from './upload-lfs-files.js';

export interface PushModelOptions extends Omit<HubClientOptions, 'accessToken'> {
  /** The trained model folder (or run folder, job output folder, ONNX export). */
  model: string;
  /** `owner/name` of the model repo; created when it does not exist. */
  repo: string;
  private?: boolean;
  /** Hub token with write access; default `HF_TOKEN`. */
  accessToken?: string;
  /** Commit title (default "Upload model trained with prompt2model"). */
  commitTitle?: string;
  /**
   * The bound on one request (an LFS part, a batch call, the commit of the small files), never on
   * the whole push: a push of any length finishes while each request makes progress. Default 120 s.
   */
  attemptTimeoutMs?: number;
  events?: ProgressEmitter;
  env?: SettingsEnvironment;
}

export interface PushModelResult {
  repo: string;
  repoUrl: string;
  /** Whether the repo was created by this push (false: it existed). */
  created: boolean;
  commit: { oid: string; url: string };
  files: Array<Omit<PlannedUpload, 'file'>>;
  bytes: number;
  /** LFS files sent by this push, and those the Hub already held (sent by an earlier, cut-off push). */
  lfs: { uploaded: string[]; skipped: string[] };
}

const REPO_NAME = /^[\w.-]+\/[\w.-]+$/;
const WEIGHTS = /(^|\/)[^/]+\.(safetensors|onnx)$/;
/** The commit of the small files gets its attempt plus this long per byte it carries (4 KB/s). */
const COMMIT_MS_PER_BYTE = 1000 / 4096;

/**
 * Publishes a trained model to the Hugging Face Hub with @huggingface/hub. Before any request: the
 * folder must hold a model (weights or an ONNX export), no file may hold a secret setting's value
 * (every file streamed, safetensors metadata included), and the card's metadata must be what the
 * Hub accepts. Then it creates the repo (or reuses it), uploads the large files one by one over
 * LFS (multipart where the Hub offers it; each part retried on its own; files the Hub already
 * holds skipped), and commits everything with the README's usage snippet naming the repo.
 * Progress is reported in bytes.
 */
export async function pushModel(options: PushModelOptions): Promise<PushModelResult> {
  if (!REPO_NAME.test(options.repo)) {
    throw new Prompt2ModelError({ message: `"${options.repo}" is not a repo name.`, hint: 'Use OWNER/NAME as `repo`, e.g. my-user/sentiment-t5-small.', exitCategory: 'configuration' });
  }
  const env = options.env ?? processEnvironment();
  const accessToken = loadApiKey({
    apiKey: options.accessToken,
    environmentVariableName: 'HF_TOKEN',
    description: 'Hugging Face',
    hint: 'Create a token with write access at https://huggingface.co/settings/tokens and export HF_TOKEN=hf_...',
    env,
  });
  const plan = planModelUpload(options.model);
  if (!plan.files.some((file) => WEIGHTS.test(file.path))) {
    throw new Prompt2ModelError({
      message: `No model weights in ${options.model} (no *.safetensors, no onnx/*.onnx); nothing was uploaded and no repo was created.`,
      hint: 'Pass the trained model folder (merged/ or model/ of a training job, or the run folder), or its ONNX export.',
      exitCategory: 'configuration',
    });
  }
  await assertNoSecretsInUploads(plan.files, secretSettingValues(env));
  const card = plan.files.find((file) => file.path === 'README.md');
  const cardText = card ? (await readFile(card.file, 'utf8')).replaceAll(MODEL_CARD_REPO_PLACEHOLDER, options.repo) : undefined;
  if (cardText !== undefined) validateModelCardMetadata(cardText, card!.file);

  const stage = 'push';
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 120_000;
  const caller = await createHubCaller({ ...options, accessToken, scheduler: options.scheduler ?? scheduler(attemptTimeoutMs, options.signal) });
  const repo = { type: 'model' as const, name: options.repo };
  // 409 means the repo exists (a second push of the same model): the commit below updates it. It is
  // answered inside the request, since the scheduler would retry a 409 as a conflict.
  const made = await caller.call(`create ${options.repo}`, (common) =>
    caller.hub.createRepo({ ...common, accessToken, repo, private: options.private ?? false }).catch((error: unknown) => {
      if (error instanceof caller.hub.HubApiError && error.statusCode === 409) return undefined;
      throw error;
    }),
  );
  const created = made !== undefined;
  const repoUrl = made?.repoUrl || `${caller.hubUrl}/${options.repo}`;
  const totalBytes = plan.files.reduce((sum, file) => sum + file.bytes, 0);
  options.events?.log('info', `${created ? 'Created' : 'Updating'} ${repoUrl}; uploading ${plan.files.length} files (${(totalBytes / 1e6).toFixed(1)} MB)`, stage);
  let doneBytes = 0;
  let doneFiles = 0;
  const progress = () => options.events?.emit({ type: 'progress', stage, done: doneBytes, total: totalBytes, counters: { files: doneFiles, bytes: doneBytes } });
  progress();

  const large = plan.files.filter(isLfsUpload);
  const lfs = await uploadLfsFiles(large, {
    hubUrl: caller.hubUrl,
    repo: options.repo,
    accessToken,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    scheduler: options.scheduler ?? scheduler(attemptTimeoutMs, options.signal),
    ...(options.signal ? { signal: options.signal } : {}),
    onBytes: (path, bytes, state) => {
      doneBytes += bytes;
      if (state === 'skipped') options.events?.log('info', `${path} is already on the Hub; not sent again`, stage);
      progress();
    },
  });
  doneFiles = large.length;

  // The commit carries the small files inline and names the large ones, which the Hub now holds.
  const inlineBytes = plan.files.filter((file) => !isLfsUpload(file)).reduce((sum, file) => sum + file.bytes, 0);
  const commitCaller = await createHubCaller({ ...options, accessToken, scheduler: options.scheduler ?? scheduler(attemptTimeoutMs + inlineBytes * COMMIT_MS_PER_BYTE, options.signal) });
  const commit = await commitCaller.call(`commit to ${options.repo}`, async (common) => {
    const iterator = commitCaller.hub.commitIter({
      ...common,
      accessToken,
      repo,
      title: options.commitTitle ?? 'Upload model trained with prompt2model',
      operations: plan.files.map((file) => ({
        operation: 'addOrUpdate' as const,
        path: file.path,
        content: file === card && cardText !== undefined ? new Blob([cardText]) : pathToFileURL(file.file),
      })),
      useXet: false,
    });
    for (;;) {
      const step = await iterator.next();
      if (step.done) return step.value;
    }
  });
  doneBytes = totalBytes;
  doneFiles = plan.files.length;
  progress();
  if (!commit) throw new Prompt2ModelError({ message: `The Hub did not confirm the commit to ${options.repo}.`, hint: 'Push again: files already uploaded are not sent twice.' });
  return {
    repo: options.repo,
    repoUrl,
    created,
    commit: { oid: commit.commit.oid, url: commit.commit.url },
    files: plan.files.map(({ path, bytes }) => ({ path, bytes })),
    bytes: totalBytes,
    lfs,
  };
}

function scheduler(timeoutMs: number, signal?: AbortSignal): RequestScheduler {
  return new RequestScheduler({ maxConcurrency: 4, maxRetries: 5, timeoutMs, ...(signal ? { signal } : {}) });
}
