/**
 * Library errors name options as the library spells them, in backticks (`maxCostUsd`,
 * `baseURL`): they are used from scripts as much as from the CLI. The CLI's error reporter turns
 * each option it has a flag for into that flag, here, in one table.
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  acceptFewerExamples: '--accept-fewer-examples',
  accessToken: '--hub-token',
  allowRemoteModels: '--allow-remote-models',
  baseModel: '--base-model',
  baseURL: '--base-url',
  bertScoreModel: '--bertscore-model',
  config: '--config',
  datasetIndex: '--dataset-index',
  exclude: '--exclude',
  export: '--export',
  gpuMemory: '--gpu-memory',
  host: '--host',
  hyde: '--hyde',
  index: '--index',
  input: '--input',
  inputColumn: '--input',
  maxConcurrency: '--concurrency',
  maxCostUsd: '--max-cost',
  maxSize: '--max-size',
  model: '--model',
  numExamples: '--num-examples',
  outDir: '--out',
  output: '--output',
  outputColumn: '--output',
  port: '--port',
  python: '--python',
  quantize: '--quantize',
  repo: '--repo',
  requestsPerMinute: '--rpm',
  shareToken: '--share-token',
  split: '--split',
  teacher: '--teacher',
  tokensPerMinute: '--tpm',
  translate: '--no-translate',
};

/** `text` with every backticked option that has a CLI flag written as that flag. */
export function withCliFlags(text: string): string {
  return text.replace(/`([A-Za-z][A-Za-z0-9]*)`/g, (whole, name: string) => OPTION_FLAGS[name] ?? whole);
}
