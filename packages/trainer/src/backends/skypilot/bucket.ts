import { JOB_OUTPUT_FILES } from '@prompt2model/core/internal';

/** Bucket schemes the model can come back through, with the CLI that copies it down. */
export const BUCKET_SCHEMES = ['s3://', 'gs://'] as const;

export function isSupportedBucket(uri: string): boolean {
  return BUCKET_SCHEMES.some((scheme) => uri.startsWith(scheme)) && /^[a-z0-9]+:\/\/[^/]+/.test(uri);
}

/**
 * The command that copies a job's output from its bucket into `dir`, leaving out the checkpoints
 * (only the model, tokenizer and result come back) and the worker's lock: `aws s3 sync` (which
 * SkyPilot's AWS extra installs) or `gcloud storage rsync` (which SkyPilot's GCP setup needs).
 */
export function downloadArgv(uri: string, dir: string): string[] {
  if (uri.startsWith('s3://')) {
    return ['aws', 's3', 'sync', uri, dir, '--only-show-errors', '--exclude', 'checkpoint-*', '--exclude', JOB_OUTPUT_FILES.lock];
  }
  if (uri.startsWith('gs://')) {
    return ['gcloud', 'storage', 'rsync', '--recursive', '--exclude', `^checkpoint-.*|^${JOB_OUTPUT_FILES.lock.replace('.', '\\.')}$`, uri, dir];
  }
  throw new Error(`unsupported bucket ${uri}`);
}
