import type { ModelArchitecture } from '@prompt2model/core';

/** The YAML front matter of a model card, reduced to the keys this package reads. */
export interface CardMetadata {
  license?: string;
  languages: string[];
  tags: string[];
  datasets: string[];
  pipelineTag?: string;
  baseModels: string[];
  /** `model-index` task types, e.g. `text2text-generation`. */
  taskTypes: string[];
}

/** Splits a card into its front matter (without the `---` fences) and body. */
export function splitFrontMatter(card: string): { frontMatter: string; body: string } {
  if (!card.startsWith('---')) return { frontMatter: '', body: card };
  const end = card.indexOf('\n---', 3);
  if (end < 0) return { frontMatter: '', body: card };
  const bodyStart = card.indexOf('\n', end + 4);
  return { frontMatter: card.slice(card.indexOf('\n') + 1, end), body: bodyStart < 0 ? '' : card.slice(bodyStart + 1) };
}

function unquote(value: string): string {
  return value.trim().replace(/^["']|["']$/g, '').trim();
}

/**
 * Reads the top-level keys this package needs from YAML front matter: a scalar (`license: mit`), an
 * inline list (`language: [en, de]`) or a block list (`- en`). Not a YAML parser; nested maps are
 * skipped except `model-index` task types, read by pattern.
 */
export function parseCardMetadata(card: string): CardMetadata {
  const { frontMatter } = splitFrontMatter(card);
  const values = new Map<string, string[]>();
  let currentKey: string | undefined;
  for (const line of frontMatter.split('\n')) {
    const top = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (top) {
      currentKey = top[1]!.toLowerCase();
      const rest = top[2]!.trim();
      const list: string[] = [];
      if (rest.startsWith('[') && rest.endsWith(']')) {
        for (const item of rest.slice(1, -1).split(',')) if (unquote(item)) list.push(unquote(item));
      } else if (rest !== '' && rest !== '|' && rest !== '>') {
        list.push(unquote(rest));
      }
      values.set(currentKey, list);
      continue;
    }
    const item = /^\s*-\s+(.*)$/.exec(line);
    if (item && currentKey && !/^[\w-]+:\s/.test(item[1]!)) values.get(currentKey)?.push(unquote(item[1]!));
    else if (/^\S/.test(line)) currentKey = undefined;
  }
  const first = (key: string) => values.get(key)?.find((value) => value !== '');
  const taskTypes: string[] = [];
  for (const match of frontMatter.matchAll(/task:\s*\n(?:\s+name:[^\n]*\n)?\s+type:\s*([^\n]+)/g)) taskTypes.push(unquote(match[1]!));
  const license = first('license');
  const pipelineTag = first('pipeline_tag');
  return {
    ...(license ? { license: license.toLowerCase() } : {}),
    languages: (values.get('language') ?? []).map((code) => code.toLowerCase()),
    tags: values.get('tags') ?? [],
    datasets: values.get('datasets') ?? [],
    ...(pipelineTag ? { pipelineTag: pipelineTag.toLowerCase() } : {}),
    baseModels: values.get('base_model') ?? [],
    taskTypes,
  };
}

const languageNames: Record<string, string> = {
  af: 'afrikaans', ar: 'arabic', bg: 'bulgarian', bn: 'bengali', ca: 'catalan', cs: 'czech', cy: 'welsh',
  da: 'danish', de: 'german', el: 'greek', en: 'english', es: 'spanish', et: 'estonian', eu: 'basque',
  fa: 'persian', fi: 'finnish', fr: 'french', ga: 'irish', gl: 'galician', gu: 'gujarati', he: 'hebrew',
  hi: 'hindi', hr: 'croatian', hu: 'hungarian', hy: 'armenian', id: 'indonesian', is: 'icelandic',
  it: 'italian', ja: 'japanese', ka: 'georgian', kk: 'kazakh', km: 'khmer', kn: 'kannada', ko: 'korean',
  lt: 'lithuanian', lv: 'latvian', mk: 'macedonian', ml: 'malayalam', mn: 'mongolian', mr: 'marathi',
  ms: 'malay', my: 'burmese', ne: 'nepali', nl: 'dutch', no: 'norwegian', pa: 'punjabi', pl: 'polish',
  pt: 'portuguese', ro: 'romanian', ru: 'russian', si: 'sinhala', sk: 'slovak', sl: 'slovenian',
  sq: 'albanian', sr: 'serbian', sv: 'swedish', sw: 'swahili', ta: 'tamil', te: 'telugu', th: 'thai',
  tl: 'tagalog', tr: 'turkish', uk: 'ukrainian', ur: 'urdu', uz: 'uzbek', vi: 'vietnamese', zh: 'chinese',
};

/** English names for ISO 639-1 codes in a card's `language:` list and in pairs like `en-de` in its id. */
function languageWords(id: string, languages: string[]): string[] {
  const words: string[] = [];
  for (const code of languages) {
    const name = languageNames[code.slice(0, 2)];
    if (name && (code.length === 2 || code[2] === '-' || code[2] === '_')) words.push(name);
  }
  for (const match of id.toLowerCase().matchAll(/(?:^|[^a-z])([a-z]{2})[-_2]([a-z]{2})(?=[^a-z]|$)/g)) {
    const from = languageNames[match[1]!];
    const to = languageNames[match[2]!];
    if (from && to) words.push(from, to);
  }
  return words;
}

// Sections that describe how a checkpoint was trained or cited, not what it does: they add many
// tokens (hyperparameters, loss tables, bibtex) and no retrieval signal.
const droppedSection =
  /^(training (hyper-?parameters|results|procedure|details|logs?)|framework versions|environmental impact|citation|bibtex|how to cite|carbon emissions|hardware|compute infrastructure|table of contents|model card (authors|contact))/i;

/** Most characters of a card body that are indexed; beyond that, cards are mostly tables and logs. */
export const maxIndexedBodyChars = 10_000;

/**
 * The text of a card that is worth indexing: the model id (twice: names are the most precise
 * signal), language names, the front matter without numeric values, and the body without code,
 * HTML, tables, links and training-log sections.
 */
export function cardSearchText(id: string, card: string): string {
  const { frontMatter, body } = splitFrontMatter(card);
  const metadata = parseCardMetadata(card);
  const name = id.replace(/[/_.-]+/g, ' ');
  const parts = [name, name, languageWords(id, metadata.languages).join(' ')];
  parts.push(
    frontMatter
      .split('\n')
      .filter((line) => !/^\s*(-\s*)?(value|license|thumbnail|co2_eq_emissions|verified|verifytoken|args|split|config):/i.test(line))
      .join('\n'),
  );
  const kept: string[] = [];
  let droppedLevel = 0;
  let inCode = false;
  const cleanedBody = body.replace(/<!--[\s\S]*?-->/g, ' ');
  for (const line of cleanedBody.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inCode = !inCode;
      continue;
    }
    if (inCode) continue;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1]!.length;
      if (droppedLevel && level > droppedLevel) continue;
      droppedLevel = droppedSection.test(heading[2]!.replace(/[*_:]/g, '').trim()) ? level : 0;
      if (!droppedLevel) kept.push(heading[2]!);
      continue;
    }
    if (droppedLevel) continue;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('|') || /^more information needed$/i.test(trimmed)) continue;
    kept.push(trimmed);
  }
  let text = kept
    .join('\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, ' ')
    .replace(/\]\([^)]*\)/g, '] ')
    .replace(/https?:\/\/\S+/g, ' ');
  if (text.length > maxIndexedBodyChars) text = text.slice(0, maxIndexedBodyChars);
  parts.push(text);
  return parts.join('\n');
}

/** Hugging Face `config.json` fields that tell the architecture. */
export interface ModelConfigHints {
  architectures?: string[];
  model_type?: string;
  is_encoder_decoder?: boolean;
}

export interface ArchitectureInput {
  id?: string;
  card?: string;
  config?: ModelConfigHints;
  /** The Hub's `pipeline_tag`. */
  pipelineTag?: string;
  tags?: string[];
}

type Family = Exclude<ModelArchitecture, 'unknown'>;

// Family names as they appear in model ids and `model_type`. Order matters only for readability:
// matching uses word boundaries, so `t5` does not match inside `mt5`.
const families: Array<[Family, string[]]> = [
  [
    'encoder-decoder',
    ['t5', 'mt5', 'byt5', 'umt5', 'longt5', 'codet5', 'flan', 'ul2', 'mt0', 't0', 't0pp', 'bart', 'mbart', 'distilbart',
      'plbart', 'kobart', 'pegasus', 'bigbird_pegasus', 'marian', 'opus', 'm2m100', 'm2m', 'nllb', 'led', 'prophetnet',
      'blenderbot', 'fsmt', 'switch', 'pix2struct', 'donut', 'trocr', 'whisper', 'speecht5', 'encoder_decoder',
      'bert2bert', 'roberta2roberta', 'it5', 'ptt5', 'rut5', 'kot5', 'idt5', 'arat5', 'flan_t5', 'mbart50', 'nmt',
      'lmqg', 'keyt5', 'mvp', 'bertshare'],
  ],
  [
    'decoder-only',
    ['gpt', 'gpt2', 'distilgpt2', 'gpt_neo', 'gptneo', 'gpt_j', 'gptj', 'gpt_neox', 'pythia', 'opt', 'bloom', 'bloomz',
      'llama', 'llama2', 'alpaca', 'vicuna', 'mistral', 'mixtral', 'falcon', 'mpt', 'starcoder', 'santacoder', 'codegen',
      'codellama', 'qwen', 'qwen2', 'phi', 'gemma', 'rwkv', 'cerebras', 'dolly', 'galactica', 'xglm', 'ctrl', 'stablelm',
      'redpajama', 'baichuan', 'chatglm', 'internlm', 'olmo', 'tinyllama', 'smollm', 'gpt_bigcode', 'causal'],
  ],
  [
    'encoder-only',
    ['bert', 'roberta', 'deberta', 'electra', 'albert', 'distilbert', 'xlm_roberta', 'camembert', 'ernie', 'mpnet',
      'minilm', 'xlnet'],
  ],
];
const familyOf = new Map<string, Family>();
for (const [family, names] of families) for (const name of names) familyOf.set(name, family);
// Too ambiguous in prose ("opt for", "the led", "switch to"): trusted in ids and configs only.
const idOnlyNames = new Set(['opt', 'phi', 'led', 'switch', 't0', 'ctrl', 'dolly', 'alpaca', 'flan', 'gpt', 'causal', 'nmt', 'opus', 'mvp']);

// Family names that prefix or suffix other names in model ids: AraBART, BioBART, IndoT5, BanglaT5,
// afriMT5, BARThez, KcBERT. Matched inside words of ids only (in prose, "Robert" is not BERT).
const compoundable = ['marian', 'mbart', 'bart', 'byt5', 'mt5', 't5', 'pegasus', 'gpt2', 'llama', 'bloom', 'roberta', 'bert'];

function familyFromName(name: string, proseOnly = false): Family | undefined {
  const words = name.toLowerCase().replace(/-/g, '_').split(/[^a-z0-9_]+/).filter(Boolean);
  for (const word of words) {
    // Try the whole word (`gpt_neo`), then its underscore parts (`flan_t5_base` → flan, t5, base).
    const candidates = [word, ...word.split('_')];
    for (const candidate of candidates) {
      const stripped = candidate.replace(/v\d+$/, '');
      const family = familyOf.get(candidate) ?? familyOf.get(stripped);
      if (family && !(proseOnly && idOnlyNames.has(candidate))) return family;
    }
  }
  if (proseOnly) return undefined;
  for (const part of words.flatMap((word) => word.split('_'))) {
    const family = compoundFamily(part);
    if (family) return family;
  }
  return undefined;
}

function compoundFamily(word: string): Family | undefined {
  // `bert2bert`, `beto2beto`, `bert2gpt2`: a warm-started EncoderDecoderModel.
  if (/^[a-z]*(bert|beto|roberta|electra)[a-z]*2[a-z]*(bert|beto|gpt|roberta|electra)/.test(word)) return 'encoder-decoder';
  for (const name of compoundable) {
    if (word.length > name.length && (word.endsWith(name) || word.startsWith(name))) return familyOf.get(name);
  }
  return undefined;
}

/**
 * A BERT-family name on a model that generates text is an EncoderDecoderModel warm-started from
 * encoders (bert2bert, AraBERT summarisation): encoder-only models cannot generate.
 */
function generates(input: ArchitectureInput, metadata: CardMetadata | undefined): boolean {
  const tasks = [input.pipelineTag, metadata?.pipelineTag, ...(metadata?.taskTypes ?? []), ...(input.tags ?? []), ...(metadata?.tags ?? [])];
  if (tasks.some((task) => task && familyFromTask(task) !== undefined && familyFromTask(task) !== 'encoder-only')) return true;
  return /summar|translat|generat|paraphras|seq2seq|text2text|question_gen|qg\b/i.test(input.id ?? '');
}

function familyFromConfig(config: ModelConfigHints | undefined): Family | undefined {
  if (!config) return undefined;
  if (config.is_encoder_decoder === true) return 'encoder-decoder';
  for (const architecture of config.architectures ?? []) {
    if (/(ForConditionalGeneration|EncoderDecoderModel|ForSeq2SeqLM|MTModel)$/.test(architecture)) {
      const byType = config.model_type ? familyFromName(config.model_type) : undefined;
      // Vision-language decoders (Llava, Blip2, Paligemma) reuse the ConditionalGeneration suffix.
      return byType === 'decoder-only' ? 'decoder-only' : 'encoder-decoder';
    }
    if (/(ForCausalLM|LMHeadModel)$/.test(architecture)) return 'decoder-only';
    if (/(ForMaskedLM|ForSequenceClassification|ForTokenClassification|ForQuestionAnswering)$/.test(architecture)) {
      return familyFromName(config.model_type ?? architecture) ?? 'encoder-only';
    }
  }
  return config.model_type ? familyFromName(config.model_type) : undefined;
}

function familyFromTask(task: string | undefined): Family | undefined {
  if (!task) return undefined;
  const value = task.toLowerCase();
  if (/^(text2text-generation|translation|summarization)$|sequence-to-sequence|seq2seq/.test(value)) return 'encoder-decoder';
  if (/^(text-generation|conversational)$|causal language/.test(value)) return 'decoder-only';
  if (/^(fill-mask|token-classification|text-classification|feature-extraction)$|masked language/.test(value)) return 'encoder-only';
  return undefined;
}

/**
 * Encoder-decoder, decoder-only or encoder-only, from the strongest evidence available: the
 * `config.json` fields, then the family in the model id, the card's `base_model`, the model it
 * says it was fine-tuned from, the family names its text mentions most, and last the task tags.
 */
export function detectArchitecture(input: ArchitectureInput): ModelArchitecture {
  const fromConfig = familyFromConfig(input.config);
  if (fromConfig) return fromConfig;
  const metadata = input.card ? parseCardMetadata(input.card) : undefined;
  const family = familyFromEvidence(input, metadata);
  if (family === 'encoder-only' && generates(input, metadata)) return 'encoder-decoder';
  if (family) return family;
  const tasks = [input.pipelineTag, metadata?.pipelineTag, ...(metadata?.taskTypes ?? []), ...(input.tags ?? []), ...(metadata?.tags ?? [])];
  for (const task of tasks) {
    const fromTask = familyFromTask(task);
    if (fromTask) return fromTask;
  }
  return 'unknown';
}

function familyFromEvidence(input: ArchitectureInput, metadata: CardMetadata | undefined): Family | undefined {
  const baseName = input.id?.split('/').pop();
  const fromId = baseName ? familyFromName(baseName) : undefined;
  if (fromId) return fromId;
  for (const base of metadata?.baseModels ?? []) {
    const family = familyFromName(base.split('/').pop() ?? base);
    if (family) return family;
  }
  if (!input.card) return undefined;
  const body = splitFrontMatter(input.card).body;
  const fineTunedFrom = /fine-?tuned (?:version|checkpoint) of \[?([\w./-]+)/i.exec(body);
  const fromFineTune = fineTunedFrom ? familyFromName(fineTunedFrom[1]!.split('/').pop() ?? '') : undefined;
  if (fromFineTune) return fromFineTune;
  const counts = new Map<Family, number>();
  for (const match of body.slice(0, 20_000).toLowerCase().matchAll(/[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*/g)) {
    const family = familyFromName(match[0], true);
    if (family) counts.set(family, (counts.get(family) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The card's license (lowercase SPDX-like id, e.g. `apache-2.0`), or undefined when it states none. */
export function detectLicense(card: string): string | undefined {
  return parseCardMetadata(card).license;
}
