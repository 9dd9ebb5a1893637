import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Prompt2ModelError, secretSettingValues, type SettingsEnvironment } from '@prompt2model/core/internal';
import { createHubCaller } from './create-hub-caller.js';
import { assertNoSecretsInUploads } from './scan-upload-secrets.js';
import type { HubClientOptions } from './types/public.js';

export type HubRepoType = 'model' | 'dataset';

export interface UploadRepoFilesOptions extends HubClientOptions {
  /** `owner/name`; created (private by default) when it does not exist. */
  repo: string;
  type: HubRepoType;
  /** Default true. */
  private?: boolean;
  /** Local files and where each goes in the repo. */
  files: ReadonlyArray<{ path: string; file: string }>;
  commitTitle: string;
  /** Settings whose secret values no uploaded file may hold (default: this process's). */
  env?: SettingsEnvironment;
}

export interface UploadRepoFilesResult {
  repoUrl: string;
  created: boolean;
  /** The commit's id: pin downloads to it so later commits never change what a job reads. */
  commit: string;
}

/**
 * Creates a repo (or reuses it) and commits files to it in one commit with @huggingface/hub
 * (`createRepo`, `commit`: the client sends large and binary files over LFS itself). Before any
 * request, every file is searched for the value of a secret setting (a token must never reach a repo).
 */
export async function uploadRepoFiles(options: UploadRepoFilesOptions): Promise<UploadRepoFilesResult> {
  const planned = await Promise.all(options.files.map(async ({ path, file }) => ({ path, file, bytes: (await stat(file)).size })));
  await assertNoSecretsInUploads(planned, secretSettingValues(options.env));
  const caller = await createHubCaller(options);
  const repo = { type: options.type, name: options.repo };
  // 409: the repo exists (a rerun); the commit below updates it. Answered inside the request: the scheduler would retry a 409.
  const made = await caller.call(`create ${options.type} repo ${options.repo}`, (common) =>
    caller.hub.createRepo({ ...common, accessToken: common.accessToken!, repo, private: options.private ?? true }).catch((error: unknown) => {
      if (error instanceof caller.hub.HubApiError && error.statusCode === 409) return undefined;
      throw error;
    }),
  );
  const commit = await caller.call(`commit to ${options.repo}`, (common) =>
    caller.hub.commit({
      ...common,
      accessToken: common.accessToken!,
      repo,
      title: options.commitTitle,
      operations: planned.map((file) => ({ operation: 'addOrUpdate' as const, path: file.path, content: pathToFileURL(file.file) })),
      useXet: false,
    }),
  );
  if (!commit) throw new Prompt2ModelError({ message: `The Hub did not confirm the commit to ${options.repo}.`, hint: 'Run the same command again.' });
  const prefix = options.type === 'dataset' ? 'datasets/' : '';
  return { repoUrl: made?.repoUrl || `${caller.hubUrl}/${prefix}${options.repo}`, created: made !== undefined, commit: commit.commit.oid };
}

export interface DownloadRepoFilesOptions extends HubClientOptions {
  repo: string;
  type: HubRepoType;
  /** Default `main`. */
  revision?: string;
  /** The folder the repo's files are written into (their repo paths kept). */
  dir: string;
  /** Repo paths to leave out. */
  skip?: (path: string) => boolean;
}

/** Downloads every file of a repo into `dir` with @huggingface/hub (`listFiles`, `downloadFile`); returns the paths written. */
export async function downloadRepoFiles(options: DownloadRepoFilesOptions): Promise<string[]> {
  const caller = await createHubCaller(options);
  const repo = { type: options.type, name: options.repo };
  const revision = options.revision ?? 'main';
  const paths = await caller.call(`file list of ${options.repo}`, async (common) => {
    const found: string[] = [];
    for await (const entry of caller.hub.listFiles({ ...common, repo, revision, recursive: true })) if (entry.type === 'file') found.push(entry.path);
    return found;
  });
  const root = resolve(options.dir);
  const written: string[] = [];
  for (const path of paths) {
    if (options.skip?.(path)) continue;
    const target = resolve(root, path);
    // A repo path never leaves the folder (no `..`, no absolute path).
    if (!target.startsWith(root + sep)) throw new Prompt2ModelError({ message: `The repo ${options.repo} names a file outside its folder: ${path}.`, hint: 'Check the repo; nothing outside the folder was written.' });
    const blob = await caller.call(`download of ${path} from ${options.repo}`, (common) => caller.hub.downloadFile({ ...common, repo, revision, path }));
    if (!blob) throw new Prompt2ModelError({ message: `${path} is listed in ${options.repo} but could not be downloaded.`, hint: 'Run the same command again.' });
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, Buffer.from(await blob.arrayBuffer()));
    written.push(join(root, path));
  }
  return written;
}
