import { loadSetting, type RequestScheduler } from '@prompt2model/core/internal';
import { resolveHubToken } from './hub-token.js';
import { resolveHubUrl } from './hub-url.js';

export const DEFAULT_DATASET_VIEWER_URL = 'https://datasets-server.huggingface.co';

/** Where and how the dataset functions reach the Hub and its dataset viewer API. */
export interface HubDatasetRequestOptions {
  /** Hub base URL (a mirror, or a loopback server in tests). Default `HF_ENDPOINT`, else https://huggingface.co. */
  hubUrl?: string;
  /** Dataset viewer API base URL. Default `HF_DATASET_VIEWER_URL`, else https://datasets-server.huggingface.co. */
  datasetViewerUrl?: string;
  /** Token for gated and private datasets. Default `HF_TOKEN`. */
  accessToken?: string;
  /** Retries (429, 5xx, `ResponseNotReady`), backoff and concurrency. Default: a scheduler of its own. */
  scheduler?: RequestScheduler;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface ResolvedHubDatasetOptions {
  hubUrl: string;
  datasetViewerUrl: string;
  accessToken: string | undefined;
  fetch: typeof fetch;
  scheduler: RequestScheduler | undefined;
  signal: AbortSignal | undefined;
}

/** Fills in the defaults from the environment (the one place these functions read it). */
export function resolveHubDatasetOptions(options: HubDatasetRequestOptions = {}): ResolvedHubDatasetOptions {
  const token = resolveHubToken(options.accessToken);
  return {
    hubUrl: resolveHubUrl(options.hubUrl),
    datasetViewerUrl: loadSetting({ settingValue: options.datasetViewerUrl, environmentVariableName: 'HF_DATASET_VIEWER_URL', defaultValue: DEFAULT_DATASET_VIEWER_URL })!.replace(/\/+$/, ''),
    accessToken: token && token.trim() !== '' ? token.trim() : undefined,
    fetch: options.fetch ?? globalThis.fetch,
    scheduler: options.scheduler,
    signal: options.signal,
  };
}
