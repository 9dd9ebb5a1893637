import { pathToFileURL } from 'node:url';
import { loadApiKey, Prompt2ModelError, type ProgressEmitter, type SettingsEnvironment } from '@prompt2model/core';
import { createHubCaller } from './create-hub-caller.js';
import { planModelUpload, type PlannedUpload } from './model-upload-plan.js';
import type { HubClientOptions } from './types/public.js';

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
}

const REPO_NAME = /^[\w.-]+\/[\w.-]+$/;

/**
 * Publishes a trained model to the Hugging Face Hub with @huggingface/hub: creates the model repo
 * (or reuses it), then one commit with the model files, the ONNX export under `onnx/` and the
 * README.md card. Only model files are sent (see `planModelUpload`): never checkpoints, logs, the
 * run's caches, or a file holding a secret.
 */
export async function pushModel(options: PushModelOptions): Promise<PushModelResult> {
  if (!REPO_NAME.test(options.repo)) {
    throw new Prompt2ModelError({ message: `"${options.repo}" is not a repo name.`, hint: 'Use OWNER/NAME as `repo`, e.g. my-user/sentiment-t5-small.' });
  }
  const accessToken = loadApiKey({
    apiKey: options.accessToken,
    environmentVariableName: 'HF_TOKEN',
    description: 'Hugging Face',
    hint: 'Create a token with write access at https://huggingface.co/settings/tokens and export HF_TOKEN=hf_...',
    ...(options.env ? { env: options.env } : {}),
  });
  const plan = planModelUpload(options.model, options.env);
  const stage = 'push';
  const caller = await createHubCaller({ ...options, accessToken });
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
  options.events?.log('info', `${created ? 'Created' : 'Updating'} ${repoUrl}; uploading ${plan.files.length} files`, stage);
  const total = plan.files.length;
  const uploaded = new Set<string>();
  options.events?.emit({ type: 'progress', stage, done: 0, total });
  const commit = await caller.call(`upload to ${options.repo}`, async (common) => {
    const iterator = caller.hub.commitIter({
      ...common,
      accessToken,
      repo,
      title: options.commitTitle ?? 'Upload model trained with prompt2model',
      operations: plan.files.map((file) => ({ operation: 'addOrUpdate' as const, path: file.path, content: pathToFileURL(file.file) })),
      useXet: false,
    });
    for (;;) {
      const step = await iterator.next();
      if (step.done) return step.value;
      const event = step.value;
      if (event.event === 'fileProgress' && event.state === 'uploading' && event.progress === 1 && !uploaded.has(event.path)) {
        uploaded.add(event.path);
        options.events?.emit({ type: 'progress', stage, done: uploaded.size, total });
      }
    }
  });
  options.events?.emit({ type: 'progress', stage, done: total, total });
  if (!commit) throw new Prompt2ModelError({ message: `The Hub did not confirm the commit to ${options.repo}.`, hint: 'Push again; a commit is all or nothing.' });
  return {
    repo: options.repo,
    repoUrl,
    created,
    commit: { oid: commit.commit.oid, url: commit.commit.url },
    files: plan.files.map(({ path, bytes }) => ({ path, bytes })),
    bytes: plan.files.reduce((sum, file) => sum + file.bytes, 0),
  };
}
