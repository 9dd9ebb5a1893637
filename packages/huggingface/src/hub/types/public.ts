import type { ProgressEmitter, RequestScheduler } from '@prompt2model/core/internal';

/** How to reach the Hub: every function of this folder takes these. */
export interface HubClientOptions {
  /** Hub base URL (a mirror, or a loopback server in tests). Default `HF_ENDPOINT` or https://huggingface.co. */
  hubUrl?: string;
  /** Token for private or gated repos. Default `HF_TOKEN`. */
  accessToken?: string;
  /** Hub requests in flight at once. Default 8. */
  concurrency?: number;
  /** Retries, backoff and concurrency for Hub requests (core's scheduler). Default: a new one with `concurrency`. */
  scheduler?: RequestScheduler;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  events?: ProgressEmitter;
}

/** One model of a listing (`listHubModels`). */
export interface HubModelSummary {
  id: string;
  downloads: number;
  /** The Hub's `pipeline_tag`. */
  pipelineTag?: string;
  /** ISO time of the last commit, when the Hub tells it. */
  lastModified?: string;
  tags?: string[];
  /** `config.json` fields that tell the architecture (`architectures`, `model_type`, ...). */
  config?: { architectures?: string[]; model_type?: string; is_encoder_decoder?: boolean };
  /** License from the card's front matter as the Hub parsed it (lower case). */
  license?: string;
  /** Parameter count from the safetensors metadata. */
  parameters?: number;
  /** Weights size in bytes from the safetensors metadata (parameters × dtype size). */
  sizeBytes?: number;
}

/** A model with its card (README.md) and weights size (`fetchHubModels`). */
export interface HubModel extends HubModelSummary {
  /** The README.md text; '' when the repo has none. */
  card: string;
}

export interface ListHubModelsOptions extends HubClientOptions {
  /** Pipeline tag to list, e.g. `text2text-generation`. */
  task?: string;
  /** Most models, most downloaded first. Default 1000. */
  limit?: number;
}

export interface FetchHubModelsOptions extends HubClientOptions {
  /** Pipeline tags to list. Default text2text-generation and text-generation. */
  tasks?: string[];
  /** Most models per task, most downloaded first. Default 1000. */
  limitPerTask?: number;
  /**
   * Cache folder: listings (fresh for `listingMaxAgeMs`) and one file per model, reused while the
   * model's lastModified is unchanged, so a second snapshot downloads only what changed.
   * Default `$P2M_CACHE_DIR/hub` or `~/.cache/prompt2model/hub`; `false` disables it.
   */
  cacheDir?: string | false;
  /** How long a cached listing is used without asking the Hub. Default 24 h. */
  listingMaxAgeMs?: number;
}
