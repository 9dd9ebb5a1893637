import { formatTrainingPrompt, type Demonstration, type PromptSpec, type TrainedModel } from '@prompt2model/core/internal';

/** What the page shows and needs: served as `GET /api/info`, written as `demo.json` by the static export. */
export interface DemoInfo {
  title: string;
  instruction: string;
  /** The prompt's demonstrations, shown as clickable samples. */
  examples: Demonstration[];
  model: { id: string; runtime: string };
  /** `server`: the page calls this server's API; `browser`: the page runs the ONNX model itself. */
  mode: 'server' | 'browser';
  /** Whether `POST /api/predict/stream` sends the answer as it is generated (else in one event). */
  streaming: boolean;
  /** Whether `POST /api/flag` records verdicts. */
  flagging: boolean;
  limits: { maxInputChars: number };
  /** The static export only: where the model is and how to prompt it. */
  browser?: BrowserModelInfo;
}

export interface BrowserModelInfo {
  /** Model folder relative to the page (resolved against the page's own URL, never the site root). */
  modelPath: string;
  task: 'text2text-generation' | 'text-generation';
  /** ONNX weight variants in the folder (`fp32`, `q8`); the first is the default. */
  dtypes: string[];
  maxNewTokens: number;
  /** Weights sit in `<graph>.onnx_data` files beside the graphs (models past 2 GB). */
  externalData?: boolean;
  /** The training prompt around an input: `prefix + input + suffix` (core's `formatTrainingPrompt`). */
  prompt: { prefix: string; suffix: string };
  /** Versions the export was built with (the wasm files must match the runtime exactly). */
  versions: { transformers: string; onnxruntimeWeb: string };
}

/** Most examples the page lists. */
export const MAX_PAGE_EXAMPLES = 12;

export function titleFor(spec: PromptSpec): string {
  const firstLine = spec.instruction.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'prompt2model demo';
  return firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine;
}

/** The training prompt split around the input, so the browser formats inputs exactly as training did. */
export function promptParts(instruction: string): { prefix: string; suffix: string } {
  const marker = '\u0000INPUT\u0000';
  const [prefix = '', suffix = ''] = formatTrainingPrompt(instruction, marker).split(marker);
  return { prefix, suffix };
}

/** What the page shows about the task and the model (the served and the exported page alike). */
export type DemoContent = Pick<DemoInfo, 'title' | 'instruction' | 'examples' | 'model'>;

export function demoContent(spec: PromptSpec, fields: { model: DemoInfo['model']; title?: string }): DemoContent {
  return {
    title: fields.title ?? titleFor(spec),
    instruction: spec.instruction,
    examples: spec.examples.slice(0, MAX_PAGE_EXAMPLES).map((example) => ({ input: example.input, output: example.output })),
    model: fields.model,
  };
}

/**
 * The model's name on the page: a managed model's id, or a local folder's last two path parts
 * (the page may be shared; the full path says who ran it and where).
 */
export function shownModelId(model: TrainedModel, executorModelId: string): string {
  if (model.kind !== 'local-folder') return executorModelId;
  return model.reference.split(/[\\/]/).filter(Boolean).slice(-2).join('/') || executorModelId;
}
