import type { ModelArchitecture } from '@prompt2model/core/internal';

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
  // Indexing asks three times per card (search text, license, architecture): parse it once.
  if (card === lastParsed?.card) return lastParsed.metadata;
  const metadata = Object.freeze(parseCardMetadataUncached(card));
  lastParsed = { card, metadata };
  return metadata;
}

let lastParsed: { card: string; metadata: CardMetadata } | undefined;

function parseCardMetadataUncached(card: string): CardMetadata {
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

// ISO 639-2/3 codes as Tatoeba/OPUS cards write them (`source language(s): spa`).
const threeLetterCodes: Record<string, string> = {
  eng: 'en', deu: 'de', ger: 'de', fra: 'fr', fre: 'fr', spa: 'es', ita: 'it', por: 'pt', nld: 'nl', dut: 'nl', rus: 'ru',
  zho: 'zh', chi: 'zh', cmn: 'zh', jpn: 'ja', kor: 'ko', ara: 'ar', hin: 'hi', tur: 'tr', ron: 'ro', rum: 'ro', ces: 'cs',
  cze: 'cs', fin: 'fi', est: 'et', lav: 'lv', lit: 'lt', pol: 'pl', swe: 'sv', dan: 'da', nor: 'no', ukr: 'uk', vie: 'vi',
  tha: 'th', ind: 'id', heb: 'he', ell: 'el', gre: 'el', hun: 'hu', bul: 'bg', fas: 'fa', per: 'fa', ben: 'bn', urd: 'ur',
};
const codeByName = new Map(Object.entries(languageNames).map(([code, name]) => [name, code]));

/** The ISO 639-1 code of a language name or code (`German`, `de`, `deu`), if known. */
export function languageCode(word: string): string | undefined {
  const lower = word.toLowerCase();
  if (languageNames[lower]) return lower;
  return codeByName.get(lower) ?? threeLetterCodes[lower];
}

/**
 * A token that stands for one translation direction (`German → English` is `l2ldeenq`). Cards get
 * it for the directions they translate, and queries for the direction they ask for, so BM25 ranks
 * a de→en model above an en→de one (the language names alone match both equally). The trailing
 * `q` keeps the stemmer from changing it.
 */
export function directionToken(from: string, to: string): string {
  return `l2l${from}${to}q`;
}

/**
 * Translation directions a text asks for: "Translate German to English", "English sentences into
 * German", "from French to English", "en → de". One pass over the words: at each "to"/"into"/"→",
 * a language name right after and one among the four words before.
 */
export function translationDirectionsInText(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const words = text.match(/[A-Za-z]+|→|->/g) ?? [];
  for (let i = 1; i < words.length - 1; i++) {
    const word = words[i]!.toLowerCase();
    if (word !== 'to' && word !== 'into' && word !== '→' && word !== '->') continue;
    const next = words[i + 1]!;
    const to = codeByName.get(next.toLowerCase());
    if (!to) continue;
    for (let back = i - 1; back >= Math.max(0, i - 4); back--) {
      const from = codeByName.get(words[back]!.toLowerCase());
      if (from) {
        if (from !== to) out.push([from, to]);
        break;
      }
    }
  }
  return out;
}

// The original T5 checkpoints were trained on WMT English→German, →French and →Romanian only
// (Raffel et al., 2020), which their cards do not spell out.
const t5Directions: Array<[string, string]> = [['en', 'de'], ['en', 'fr'], ['en', 'ro']];

/** The translation directions a model card and id show: id pairs (`opus-mt-de-en`), OPUS source/target groups, phrases. */
export function cardTranslationDirections(id: string, card: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const add = (from: string | undefined, to: string | undefined) => {
    if (from && to && from !== to && !pairs.some(([a, b]) => a === from && b === to)) pairs.push([from, to]);
  };
  if (/^(?:google\/)?t5-(small|base|large|3b|11b)$/i.test(id)) for (const [from, to] of t5Directions) add(from, to);
  for (const match of id.toLowerCase().matchAll(/(?:^|[^a-z])([a-z]{2,3})[-_2]([a-z]{2,3})(?=[^a-z]|$)/g)) {
    const from = match[1]!.length === 2 ? (languageNames[match[1]!] ? match[1]! : undefined) : threeLetterCodes[match[1]!];
    const to = match[2]!.length === 2 ? (languageNames[match[2]!] ? match[2]! : undefined) : threeLetterCodes[match[2]!];
    add(from, to);
  }
  const source = /source (?:group|language\(s\)):\s*([A-Za-z]+)/i.exec(card)?.[1];
  const target = /target (?:group|language\(s\)):\s*([A-Za-z]+)/i.exec(card)?.[1];
  if (source && target) add(languageCode(source), languageCode(target));
  // Direction phrases ("English to German") count on translation cards only.
  const head = card.slice(0, 5000);
  if (/translat/i.test(head)) for (const [from, to] of translationDirectionsInText(head)) add(from, to);
  return pairs;
}

/**
 * Task types a card can state and a query can ask for. A card that states one gets the type's
 * token (`taskqaq`), a query that asks for one gets it too, so "answer questions about a passage"
 * prefers question-answering models over question-generation ones that share all its words.
 */
const taskTypes: Array<{ name: string; card: RegExp; query: RegExp }> = [
  { name: 'qa', card: /question[ -_]?answering|\bqa\b|answers? (the )?questions|reading comprehension|unifiedqa/i, query: /\banswer(s|ing)?\b.{0,20}\bquestions?|question[ -]answering|reading comprehension/i },
  { name: 'qg', card: /question[ -_]?generat|generat\w* (\w+ ){0,2}questions|\bqg\b|qgen|\be2e-qg\b/i, query: /generat\w* (\w+ ){0,2}questions|question[ -]generation|\bask questions/i },
  { name: 'ner', card: /named[ -]entit|\bner\b|entity (recognition|extraction)|extract\w* (\w+ ){0,2}entities|conll-?2003|conll03/i, query: /named[ -]entit|\bentities\b|\bner\b/i },
  { name: 'sentiment', card: /sentiment|\bimdb\b|\bsst-?2\b|positive or negative/i, query: /sentiment|positive or negative|polarity/i },
  { name: 'summary', card: /summari[sz]|\bsamsum\b|\bxsum\b|cnn[ _/-]?daily|\btldr\b/i, query: /summari[sz]|\babstract of\b|\btl;?dr\b/i },
  { name: 'd2t', card: /data[ -]to[ -]text|table[ -]to[ -]text|\bd2t\b|web_?nlg|\be2e[ _-]nlg|\bdart\b|meaning representations?|\bviggo\b|\bnlg\b/i, query: /from (its |their |the )?(attributes|meaning representation|table|data|records)|data[ -]to[ -]text|meaning representation/i },
];

/** Task-type tokens of a text (a card, or a query when `query` is true). */
export function taskTokens(text: string, query = false): string[] {
  const found = taskTypes.filter((type) => (query ? type.query : type.card).test(text)).map((type) => type.name);
  // A question-generation card mentions answers and SQuAD too; it is a QA model only if its id says so.
  const names = !query && found.includes('qg') && !/\bqa\b|question[ -_]?answering|unifiedqa/i.test(text.split('\n')[0] ?? '') ? found.filter((name) => name !== 'qa') : found;
  return names.map((name) => `task${name}q`);
}

/**
 * The words of a model id. Language codes in a pair (`opus-mt-en-iso`, where iso is Isoko) are
 * not words and would match "ISO format": they become `lang…` tokens (the names are added apart).
 */
function idWords(id: string): string {
  const segments = id.split(/[/_.-]+/).filter(Boolean);
  const short = (segment: string | undefined) => segment !== undefined && /^[a-z]{2,3}$/i.test(segment) && !connectors.has(segment.toLowerCase());
  const isCode = (segment: string | undefined) => short(segment) && languageCode(segment!) !== undefined;
  return segments
    .map((segment, index) => {
      const neighbours = [segments[index - 1], segments[index + 1]];
      const nearby = [segments[index - 2], ...neighbours, segments[index + 2]];
      // A known code near another (`en-de`, `en-to-de`) or beside a short segment, or a short segment beside a known code.
      const code = short(segment) && ((isCode(segment) && (nearby.some(isCode) || neighbours.some(short))) || neighbours.some(isCode));
      return code ? `lang${segment.toLowerCase()}` : segment;
    })
    .join(' ');
}

// Short id segments that sit between language codes but are words: `en-to-de`, `opus-mt-tc-big-en-ro`.
const connectors = new Set(['to', 'and', 'big', 'mt', 'tc', 'the', 'for', 'of', 'v1', 'v2']);

// Sections that describe how a checkpoint was trained or cited, not what it does: they add many
// tokens (hyperparameters, loss tables, bibtex) and no retrieval signal.
const droppedSection =
  /^(training (hyper-?parameters|results|procedure|details|logs?)|framework versions|environmental impact|citation|bibtex|how to cite|carbon emissions|hardware|compute infrastructure|table of contents|model card (authors|contact)|system info)/i;

/** Most characters of a card body that are indexed; beyond that, cards are mostly tables and logs. */
export const maxIndexedBodyChars = 10_000;
/** Most characters of one code block that are indexed. */
const maxCodeBlockChars = 400;

/**
 * The text of a card that is worth indexing: the model id (twice: names are the most precise
 * signal), language names, the front matter without numeric values, and the body without code,
 * HTML, tables, links and training-log sections.
 */
export function cardSearchText(id: string, card: string): string {
  const { frontMatter, body } = splitFrontMatter(card);
  const metadata = parseCardMetadata(card);
  // Language codes in a pair (`opus-mt-en-iso`: Isoko) are not words: they would match "ISO
  // format". They become `lang…` tokens; the language names are added below.
  const name = idWords(id);
  const tasks = taskTokens(`${id.replace(/[/_.-]+/g, ' ')}\n${card.slice(0, 6000)}`);
  const directions = cardTranslationDirections(id, card).map(([from, to]) => directionToken(from, to));
  const parts = [name, name, languageWords(id, metadata.languages).join(' '), directions.join(' '), tasks.join(' ')];
  let frontMatterKey = '';
  parts.push(
    frontMatter
      .split('\n')
      .filter((line) => !/^\s*(-\s*)?(value|license|thumbnail|co2_eq_emissions|verified|verifytoken|args|split|config):/i.test(line))
      .map((line) => {
        frontMatterKey = /^([A-Za-z_][\w-]*):/.exec(line)?.[1]?.toLowerCase() ?? frontMatterKey;
        // Language codes are not words (`iso` is Isoko); their names are indexed above.
        if (frontMatterKey === 'language') return line.replace(/\b([a-z]{2,3})\b/gi, (code: string) => (/^language$/i.test(code) ? code : `lang${code.toLowerCase()}`));
        return line;
      })
      .join('\n'),
  );
  const kept: string[] = [];
  let droppedLevel = 0;
  let inCode = false;
  let codeChars = 0;
  const cleanedBody = body.replace(/<!--[\s\S]*?-->/g, ' ');
  for (const line of cleanedBody.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inCode = !inCode;
      codeChars = 0;
      continue;
    }
    if (inCode) {
      // Usage snippets often hold the only statement of the task (a prompt prefix, an instruction
      // string): their words are kept, up to a few hundred characters a block, not their numbers.
      if (droppedLevel || codeChars >= maxCodeBlockChars) continue;
      const words = line.replace(/[^\p{L}\s]+/gu, ' ').trim();
      if (words) {
        kept.push(words.slice(0, maxCodeBlockChars - codeChars));
        codeChars += words.length;
      }
      continue;
    }
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
    // OPUS-MT build notes ("pre-processing: normalization + SentencePiece") match task words such as "normalize".
    if (/^[*-]\s*(pre-?processing|prepro|download original weights|test set (translations|scores)|url_\w+|src_|tgt_|short_pair|chrF2_score|bleu|brevity_penalty|ref_len|src_name|tgt_name|train_date|port_machine|port_time|helsinki_git_sha|transformers_git_sha|long_pair)\b/i.test(trimmed)) continue;
    kept.push(trimmed);
  }
  let text = kept
    .join('\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, ' ')
    .replace(/\]\([^)]*\)/g, '] ')
    .replace(/https?:\/\/\S+/g, ' ');
  // Language pairs in headings and link texts (`eng-iso`) are codes, not words, as in the id.
  text = text
    .replace(/\b[A-Za-z]{2,3}(?:[-_][A-Za-z]{2,3})+\b/g, (match) => (idWords(match) === match.replace(/[-_]+/g, ' ') ? match : idWords(match)))
    .replace(/^(\W*(?:source|target) languages?(?:\(s\))?:)(.*)$/gim, (_line, label: string, codes: string) => `${label}${codes.replace(/\b([a-z]{2,3})\b/gi, 'lang$1')}`);
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

// The family a word of prose names, remembered: a card body has thousands of words, mostly
// the same few thousand across cards, and `familyFromName` splits and looks each one up.
const proseFamilies = new Map<string, Family | null>();
const maxRememberedWords = 100_000;

function proseFamily(word: string): Family | undefined {
  let family = proseFamilies.get(word);
  if (family === undefined) {
    family = familyFromName(word, true) ?? null;
    if (proseFamilies.size >= maxRememberedWords) proseFamilies.clear();
    proseFamilies.set(word, family);
  }
  return family ?? undefined;
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
    const family = proseFamily(match[0]);
    if (family) counts.set(family, (counts.get(family) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The card's license (lowercase SPDX-like id, e.g. `apache-2.0`), or undefined when it states none. */
export function detectLicense(card: string): string | undefined {
  return parseCardMetadata(card).license;
}
