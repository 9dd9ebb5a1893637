/**
 * Library errors name options as the library spells them, in backticks (`maxCostUsd`,
 * `baseURL`): they are used from scripts as much as from the CLI. The CLI's error reporter turns
 * each option it has a flag for into that flag, here, in one table.
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  acceptFewerExamples: '--accept-fewer-examples',
  accessToken: '--hub-token',
  'allowRemoteModels: true': '--allow-remote-models',
  baseModel: '--base-model',
  baseURL: '--base-url',
  config: '--config',
  'DemoServerOptions.accessToken': '--share-token',
  exclude: '--exclude',
  firstByteTimeoutMs: '--first-byte-timeout (seconds)',
  export: '--export',
  gpuMemoryBytes: '--gpu-memory',
  host: '--host',
  hyde: '--hyde',
  index: '--index',
  labelTemperature: '--label-temperature',
  launch: '--launch',
  mapping: '--input/--output',
  maxConcurrency: '--concurrency',
  maxCostUsd: '--max-cost',
  maxRows: '--max-rows',
  maxSamplesPerInput: '--max-samples-per-input',
  maxSizeBytes: '--max-size',
  minAgreement: '--min-agreement',
  numExamples: '--num-examples',
  outDir: '--out',
  port: '--port',
  python: '--python',
  repo: '--repo',
  requestsPerMinute: '--rpm',
  samplesPerInput: '--samples-per-input',
  split: '--split',
  targetQuality: '--target-quality',
  teacher: '--teacher',
  threshold: '--threshold',
  timeoutMs: '--request-timeout (seconds)',
  tokensPerMinute: '--tpm',
  'translate: false': '--no-translate',
};

/** `text` with every backticked option that has a CLI flag written as that flag. */
export function withCliFlags(text: string): string {
  return text.replace(/`([^`\n]+)`/g, (whole, name: string) => OPTION_FLAGS[name] ?? whole);
}
