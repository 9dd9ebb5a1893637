import { AbortError } from '@prompt2model/core/internal';
import { createHubCaller, type HubModule } from './create-hub-caller.js';
import { resolveHubToken } from './hub-token.js';
import { toHubError } from './to-hub-error.js';
import type { HubClientOptions } from './types/public.js';

/** The wire types of @huggingface/hub's jobs functions (its package root does not name them). */
export type HubJob = Awaited<ReturnType<HubModule['getJob']>>;
export type HubJobHardware = Awaited<ReturnType<HubModule['listJobHardware']>>[number];
export type HubJobSpec = Omit<Parameters<HubModule['runJob']>[0], 'namespace' | 'hubUrl' | 'fetch' | 'accessToken' | 'credentials'>;

export interface HubJobsClient {
  hubUrl: string;
  whoAmI(): Promise<{ name: string; type: string }>;
  hardware(): Promise<HubJobHardware[]>;
  run(namespace: string, spec: HubJobSpec): Promise<HubJob>;
  get(namespace: string, jobId: string): Promise<HubJob>;
  list(namespace: string): Promise<HubJob[]>;
  cancel(namespace: string, jobId: string): Promise<HubJob>;
  logs(namespace: string, jobId: string, signal: AbortSignal): AsyncGenerator<string>;
}

/**
 * The Hugging Face Jobs API through @huggingface/hub (`whoAmI`, `listJobHardware`, `runJob`,
 * `getJob`, `listJobs`, `cancelJob`, `streamJobLogs`), every request through core's scheduler
 * (retries, timeouts, cancellation) and its errors mapped to APICallError.
 */
export async function createHubJobsClient(options: HubClientOptions = {}): Promise<HubJobsClient> {
  const caller = await createHubCaller(options);
  const { hub } = caller;
  return {
    hubUrl: caller.hubUrl,
    /** The token's account: its name is the namespace jobs and repos go to. */
    whoAmI: () => caller.call('who am I', (common) => hub.whoAmI({ ...common, accessToken: common.accessToken! })),
    /** Every flavor with its price (`unitCostUSD` per `unitLabel`, a minute on the Hub). */
    hardware: () => caller.call('the job hardware list', (common) => hub.listJobHardware(common)),
    run: (namespace: string, spec: HubJobSpec) =>
      // Never retried: a retried create after a lost answer could start a second job (the caller looks for it by label first).
      caller.call('run job', (common) => hub.runJob({ ...common, accessToken: common.accessToken!, namespace, ...spec })),
    get: (namespace: string, jobId: string) => caller.call(`status of job ${jobId}`, (common) => hub.getJob({ ...common, accessToken: common.accessToken!, namespace, jobId })),
    list: (namespace: string) => caller.call('the job list', (common) => hub.listJobs({ ...common, accessToken: common.accessToken!, namespace })),
    cancel: (namespace: string, jobId: string) => caller.call(`cancel of job ${jobId}`, (common) => hub.cancelJob({ ...common, accessToken: common.accessToken!, namespace, jobId })),
    /**
     * The job's log lines from its start (the Hub replays them, then follows until the job ends),
     * outside the scheduler: a stream lasts as long as the job. `signal` ends it.
     */
    async *logs(namespace: string, jobId: string, signal: AbortSignal): AsyncGenerator<string> {
      const accessToken = resolveHubToken(options.accessToken);
      const baseFetch = options.fetch ?? globalThis.fetch;
      const fetchWithSignal: typeof fetch = (input, init) => baseFetch(input, { ...init, signal });
      try {
        for await (const entry of hub.streamJobLogs({ hubUrl: caller.hubUrl, accessToken: accessToken!, fetch: fetchWithSignal, namespace, jobId })) {
          // A line already read when the signal fired is not handed out: the stream ends at the abort.
          if (signal.aborted) throw new AbortError(`The log stream of job ${jobId} was aborted.`, signal.reason);
          yield entry.message;
        }
      } catch (error) {
        throw toHubError(hub, error, `logs of job ${jobId}`, caller.hubUrl);
      }
    },
  };
}
