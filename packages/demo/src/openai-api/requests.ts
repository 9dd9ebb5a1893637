import type { z } from 'zod';
import { builtSchema, type GenerationOptions, lazySchema, type ZodNamespace } from '@prompt2model/core/internal';
import { DemoHttpError } from '../http-response.js';

/**
 * The OpenAI request bodies the server accepts (`POST /v1/chat/completions`, `POST /v1/completions`)
 * and how they become the student's inputs and generation options. Fields the student cannot honour
 * (tools, log-probabilities, a `suffix`) are refused with a 400 naming the field, never ignored
 * silently; fields that do not change the answer (`user`, `metadata`, `store`, penalties of 0,
 * `response_format`: the student answers in the format it was trained on) are accepted.
 */

export interface RequestLimits {
  /** Most choices one request may ask for (`n` times the number of prompts). */
  maxChoices: number;
  /** Largest `max_tokens` accepted. */
  maxTokens: number;
  /** Longest input (the last user message, or each prompt) in characters. */
  maxInputChars: number;
}

/** One request, as the server runs it. */
export interface ParsedRequest {
  kind: 'chat' | 'completion';
  model: string;
  /** The student's inputs: one for a chat, one per prompt for completions. */
  inputs: string[];
  /** Choices per input. */
  n: number;
  /** Generation options of choice `j` (a seed per choice, so sampled choices differ but repeat). */
  optionsFor(choice: number): GenerationOptions;
  /** Whether every choice of an input is the same answer (greedy decoding): the model runs once. */
  greedy: boolean;
  stream: boolean;
  includeUsage: boolean;
  /** Completions: the prompt before the answer. */
  echo: boolean;
}

const StopSchema = lazySchema((z) => z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish());

/** The sampling fields both endpoints take (a function of zod, which loads on the first request). */
const samplingFields = (z: ZodNamespace) => ({
  model: z.string().min(1),
  n: z.number().int().min(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: StopSchema,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  frequency_penalty: z.literal(0).nullish(),
  presence_penalty: z.literal(0).nullish(),
  logit_bias: z.record(z.string(), z.number()).refine((bias) => Object.keys(bias).length === 0, 'logit_bias is not supported by this model').nullish(),
  user: z.string().nullish(),
});

const TextPart = lazySchema((z) => z.object({ type: z.literal('text'), text: z.string() }));
const MessageContent = lazySchema((z) => z.union([z.string(), z.array(TextPart), z.null()]));

const ChatBodySchema = lazySchema((z) =>
  z.object({
    ...samplingFields(z),
    messages: z
      .array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']), content: MessageContent.optional(), name: z.string().optional() }).loose())
      .min(1),
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.literal(false).nullish(),
    top_logprobs: z.null().optional(),
    tools: z.array(z.unknown()).max(0, 'tools are not supported: the student answers in text').nullish(),
    functions: z.array(z.unknown()).max(0, 'functions are not supported: the student answers in text').nullish(),
    tool_choice: z.union([z.literal('none'), z.literal('auto')]).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    response_format: z.object({ type: z.enum(['text', 'json_object', 'json_schema']) }).loose().nullish(),
    store: z.boolean().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    reasoning_effort: z.string().nullish(),
    modalities: z.array(z.literal('text')).nullish(),
  }),
);

const CompletionBodySchema = lazySchema((z) =>
  z.object({
    ...samplingFields(z),
    prompt: z.union([z.string(), z.array(z.string()).min(1)], { error: 'prompt must be a string or an array of strings (token ids are not supported)' }),
    echo: z.boolean().nullish(),
    best_of: z.number().int().min(1).nullish(),
    logprobs: z.null().optional(),
    suffix: z.null().optional(),
  }),
);

/** A 400 in OpenAI's words for a field the request got wrong. */
export function invalidRequest(message: string, param: string | undefined, code = 'invalid_value'): DemoHttpError {
  return new DemoHttpError(400, code, message, {}, param);
}

function fromZod(error: z.ZodError): DemoHttpError {
  const issue = error.issues[0]!;
  const param = issue.path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('') || undefined;
  const unsupported = ['logprobs', 'top_logprobs', 'suffix', 'tools', 'functions', 'tool_choice', 'frequency_penalty', 'presence_penalty', 'logit_bias'];
  if (param && unsupported.includes(param.split(/[.[]/)[0]!)) {
    return invalidRequest(`'${param}' is not supported by this server: the student generates text only (${issue.message}).`, param, 'unsupported_parameter');
  }
  return invalidRequest(`Invalid value for '${param ?? 'body'}': ${issue.message}.`, param, issue.code === 'invalid_type' && issue.input === undefined ? 'missing_required_parameter' : 'invalid_value');
}

/** The text of a message's content (text parts joined). */
function contentText(content: z.infer<typeof MessageContent> | undefined): string {
  if (content === null || content === undefined) return '';
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/**
 * The student's input from a chat: the last user message. The student was trained on one task
 * (its instruction is the training prompt's, added by the executor), so system and developer
 * messages and earlier turns do not reach it.
 */
export function chatInput(messages: ReadonlyArray<{ role: string; content?: z.infer<typeof MessageContent> | undefined }>): string {
  for (let index = messages.length - 1; index >= 0; index--) {
    if (messages[index]!.role === 'user') return contentText(messages[index]!.content);
  }
  throw invalidRequest("The messages have no user message: the student answers the last user message's text.", 'messages');
}

/** Builds the request schemas (loading zod) when the server starts, so its first request does not pay for it. */
export function prepareRequestSchemas(): void {
  builtSchema(ChatBodySchema);
  builtSchema(CompletionBodySchema);
}

export function parseChatRequest(body: unknown, limits: RequestLimits): ParsedRequest {
  const parsed = ChatBodySchema.safeParse(body);
  if (!parsed.success) throw fromZod(parsed.error);
  const request = parsed.data;
  const input = chatInput(request.messages);
  checkInput(input, 'messages', limits);
  return build('chat', request, [input], request.max_completion_tokens ?? request.max_tokens ?? undefined, false, limits);
}

export function parseCompletionRequest(body: unknown, limits: RequestLimits): ParsedRequest {
  const parsed = CompletionBodySchema.safeParse(body);
  if (!parsed.success) throw fromZod(parsed.error);
  const request = parsed.data;
  if (request.best_of !== undefined && request.best_of !== null && request.best_of !== (request.n ?? 1)) {
    throw invalidRequest("'best_of' is not supported by this server (every choice is returned; leave it out or set it to n).", 'best_of', 'unsupported_parameter');
  }
  const inputs = typeof request.prompt === 'string' ? [request.prompt] : request.prompt;
  inputs.forEach((input, index) => checkInput(input, typeof request.prompt === 'string' ? 'prompt' : `prompt[${index}]`, limits));
  return build('completion', request, inputs, request.max_tokens ?? undefined, request.echo ?? false, limits);
}

function checkInput(input: string, param: string, limits: RequestLimits): void {
  if (input.length > limits.maxInputChars) {
    throw invalidRequest(`The input has ${input.length} characters; this server accepts at most ${limits.maxInputChars}.`, param, 'context_length_exceeded');
  }
}

function build(
  kind: ParsedRequest['kind'],
  request: z.infer<typeof ChatBodySchema> | z.infer<typeof CompletionBodySchema>,
  inputs: string[],
  maxTokens: number | undefined,
  echo: boolean,
  limits: RequestLimits,
): ParsedRequest {
  const n = request.n ?? 1;
  if (n * inputs.length > limits.maxChoices) {
    throw invalidRequest(`The request asks for ${n * inputs.length} choices; this server returns at most ${limits.maxChoices} per request.`, 'n');
  }
  if (maxTokens !== undefined && maxTokens > limits.maxTokens) {
    const param = kind === 'chat' && 'max_completion_tokens' in request && request.max_completion_tokens ? 'max_completion_tokens' : 'max_tokens';
    throw invalidRequest(`${param} is ${maxTokens}; this server generates at most ${limits.maxTokens} tokens per answer.`, param);
  }
  if (request.stream_options && !request.stream) {
    throw invalidRequest('stream_options is only allowed when stream is true.', 'stream_options');
  }
  const temperature = request.temperature ?? 0;
  const greedy = temperature === 0;
  const stop = request.stop === undefined || request.stop === null ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop;
  const base: GenerationOptions = {
    ...(maxTokens !== undefined ? { maxNewTokens: maxTokens } : {}),
    ...(greedy ? {} : { temperature }),
    ...(!greedy && request.top_p !== undefined && request.top_p !== null && request.top_p < 1 ? { topP: request.top_p } : {}),
    ...(stop && stop.length > 0 ? { stop } : {}),
  };
  const seed = request.seed ?? undefined;
  return {
    kind,
    model: request.model,
    inputs,
    n,
    greedy,
    // Greedy answers do not depend on a seed; sampled choice j uses seed + j.
    optionsFor: (choice) => (greedy || seed === undefined ? base : { ...base, seed: seed + choice }),
    stream: request.stream ?? false,
    includeUsage: request.stream_options?.include_usage ?? false,
    echo,
  };
}
