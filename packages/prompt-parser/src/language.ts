import { createRequire } from 'node:module';
import type * as Franc from 'franc';

let franc: typeof Franc | undefined;
/**
 * franc's trigram tables for 187 languages take about 100 ms to load, so they load on the first
 * detection that needs them (require(esm), Node 20.19+), not when the package (or prompt2model) is imported.
 */
function francAll(...args: Parameters<typeof Franc.francAll>): ReturnType<typeof Franc.francAll> {
  franc ??= createRequire(import.meta.url)('franc') as typeof Franc;
  return franc.francAll(...args);
}

/** ISO 639-3 (what franc reports) → ISO 639-1 (what a PromptSpec stores), for the languages we detect. */
const ISO_639_3_TO_1: Record<string, string> = {
  afr: 'af', amh: 'am', arb: 'ar', azj: 'az', bel: 'be', ben: 'bn', bos: 'bs', bul: 'bg', cat: 'ca',
  ces: 'cs', ckb: 'ku', cmn: 'zh', dan: 'da', deu: 'de', ell: 'el', eng: 'en', est: 'et', eus: 'eu',
  fin: 'fi', fra: 'fr', gle: 'ga', guj: 'gu', hau: 'ha', heb: 'he', hin: 'hi', hrv: 'hr',
  hun: 'hu', hye: 'hy', ibo: 'ig', ind: 'id', isl: 'is', ita: 'it', jav: 'jv', jpn: 'ja', kan: 'kn',
  kat: 'ka', kaz: 'kk', khm: 'km', kor: 'ko', lao: 'lo', lit: 'lt', lvs: 'lv', mal: 'ml', mar: 'mr',
  mkd: 'mk', mya: 'my', nld: 'nl', nob: 'nb', npi: 'ne', pan: 'pa', pes: 'fa', pol: 'pl', por: 'pt',
  ron: 'ro', rus: 'ru', sin: 'si', slk: 'sk', slv: 'sl', som: 'so', spa: 'es', srp: 'sr', swe: 'sv',
  swh: 'sw', tam: 'ta', tel: 'te', tgl: 'tl', tha: 'th', tur: 'tr', ukr: 'uk', urd: 'ur', uzn: 'uz',
  vie: 'vi', yor: 'yo', zlm: 'ms', zul: 'zu',
};

/**
 * Languages franc may choose between by default. franc knows 187 languages and, on a one-line
 * instruction, often picks a rare one (Scots for English, Bulgarian for Russian); restricting it to
 * widely written languages makes short instructions come out right. Pass `candidates` to widen it.
 */
export const DEFAULT_CANDIDATE_LANGUAGES: readonly string[] = Object.keys(ISO_639_3_TO_1);

/** Frequent English function words and instruction verbs: a short English instruction is mostly these. */
const ENGLISH_WORDS = new Set(
  (
    'a an the of to in on for from with by as at into onto about and or but if then than that this these those ' +
    'is are was were be been being it its each every all any some no not only also so such which what who whom ' +
    'whose when where how why do does given give write generate produce return output input answer question ' +
    'text sentence sentences word words translate classify summarize extract convert label following your you ' +
    'please should must can will would one two three code task example examples it\'s their them they we our ' +
    'convert detect natural language query queries statement statements news comment comments review reviews ' +
    'sentiment story title name list number english french spanish german japanese chinese python sql json ' +
    'my have has had got get like yet ever how know did just very there here want need use using could may ' +
    'might game games play enjoy make makes think good'
  ).split(' '),
);

export interface DetectLanguageOptions {
  /** ISO 639-3 codes franc may choose from (default: DEFAULT_CANDIDATE_LANGUAGES; Galician is left out, as franc reads short Portuguese as Galician). */
  candidates?: readonly string[];
  /** Fewer letters than this give `und` (default 10). */
  minLetters?: number;
}

export interface LanguageDetection {
  /** ISO 639-1 code (`en`, `ja`, ...), the ISO 639-3 code when there is no 639-1 code, or `und`. */
  language: string;
  /** ISO 639-3 code, or `und`. */
  iso6393: string;
  /** How the answer was reached: the writing system alone, English function words, or franc's trigrams. */
  method: 'script' | 'english-words' | 'trigrams' | 'too-short';
  /** In [0, 1]: share of letters in the deciding script, or franc's margin over the runner-up. */
  confidence: number;
}

const CHINESE_FUNCTION_CHARACTERS = /[的是了在不有和这们吗请把么为个说从给还没让该将进时对译语這們嗎請個說為從給還沒讓該將進時對譯語]/u;

const SCRIPT_PATTERNS = {
  kana: /[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]/gu,
  han: /\p{Script=Han}/gu,
  hangul: /\p{Script=Hangul}/gu,
  latin: /\p{Script=Latin}/gu,
  cyrillic: /\p{Script=Cyrillic}/gu,
  arabic: /\p{Script=Arabic}/gu,
  hebrew: /\p{Script=Hebrew}/gu,
  greek: /\p{Script=Greek}/gu,
  thai: /\p{Script=Thai}/gu,
  devanagari: /\p{Script=Devanagari}/gu,
} as const;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** Removes what says nothing about the language: URLs, code spans and blocks, {placeholders}. */
function stripNonProse(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`[^`\n]*`/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\{[^{}\n]*\}/g, ' ');
}

/**
 * Detects the language of an instruction. The writing system decides where it is unambiguous
 * (kana → Japanese, Hangul → Korean, Han without kana → Chinese, Thai, Hebrew, Greek) so that a
 * Japanese instruction mentioning `Python` is still Japanese; Latin and Cyrillic text goes to franc,
 * restricted to widely written languages, after a check for English function words that keeps
 * short English instructions from being read as French or Scots.
 */
export function detectLanguage(text: string, options: DetectLanguageOptions = {}): LanguageDetection {
  const prose = stripNonProse(text);
  const counts = Object.fromEntries(
    Object.entries(SCRIPT_PATTERNS).map(([name, pattern]) => [name, count(prose, pattern)]),
  ) as Record<keyof typeof SCRIPT_PATTERNS, number>;
  const letters = Object.values(counts).reduce((sum, value) => sum + value, 0);
  const minLetters = options.minLetters ?? 10;
  const cjk = counts.kana + counts.han;
  // CJK characters carry a word each, so a few of them say more than ten Latin letters.
  if (letters === 0 || (letters < minLetters && cjk + counts.hangul < 3)) {
    return { language: 'und', iso6393: 'und', method: 'too-short', confidence: 0 };
  }
  const nonLatin = letters - counts.latin;
  const share = (value: number) => value / Math.max(1, nonLatin);
  if (counts.kana > 0 && share(cjk) >= 0.5) return byScript('jpn', share(cjk));
  if (counts.hangul > 0 && share(counts.hangul + counts.han) >= 0.5) return byScript('kor', share(counts.hangul + counts.han));
  if (counts.han > 0 && share(counts.han) >= 0.5) {
    // Han without kana: a Chinese sentence almost always has one of these function characters; a
    // Japanese kanji compound such as 主成分分析 has none.
    if (CHINESE_FUNCTION_CHARACTERS.test(prose) || counts.han > 12) return byScript('cmn', share(counts.han));
    return { ...byScript('jpn', share(counts.han)), confidence: 0.5 };
  }
  for (const [script, code] of [['thai', 'tha'], ['hebrew', 'heb'], ['greek', 'ell']] as const) {
    if (counts[script] > 0 && share(counts[script]) >= 0.5 && counts[script] >= counts.latin) {
      return byScript(code, share(counts[script]));
    }
  }
  if (counts.latin >= nonLatin) {
    const words = prose.toLowerCase().match(/\p{L}+(?:'\p{L}+)?/gu) ?? [];
    const english = words.filter((word) => ENGLISH_WORDS.has(word)).length;
    if (words.length > 0 && english / words.length >= 0.3 && english >= 2) {
      return { language: 'en', iso6393: 'eng', method: 'english-words', confidence: english / words.length };
    }
  }
  const ranked = francAll(prose, { only: [...(options.candidates ?? DEFAULT_CANDIDATE_LANGUAGES)], minLength: 1 });
  const [best, runnerUp] = ranked;
  if (!best || best[0] === 'und') return { language: 'und', iso6393: 'und', method: 'too-short', confidence: 0 };
  // Unaccented Latin text on which English scores close to the best guess is English far more often
  // than it is Catalan or Serbian (trigrams on a handful of words are noisy).
  const englishScore = ranked.find(([code]) => code === 'eng')?.[1] ?? 0;
  if (best[0] !== 'eng' && counts.latin >= nonLatin && !/[^\u0000-\u007f]/u.test(prose.replace(/[^\p{L}]/gu, '')) && englishScore >= 0.85) {
    return { language: 'en', iso6393: 'eng', method: 'trigrams', confidence: englishScore - 0.85 };
  }
  // Short Portuguese reads as Spanish or Catalan by trigrams; ã/õ and circumflexes are not Spanish.
  if ((best[0] === 'spa' || best[0] === 'cat') && /[ãõêâô]|ção\b|ções\b/iu.test(prose)) {
    return { language: 'pt', iso6393: 'por', method: 'trigrams', confidence: 0.5 };
  }
  // franc mixes up Cyrillic languages on short text; a few letters settle the common cases.
  if (counts.cyrillic > counts.latin) {
    const refined = /[іїєґ]/iu.test(prose) ? 'ukr' : /[ыэё]/iu.test(prose) && !/[ўі]/iu.test(prose) ? 'rus' : undefined;
    if (refined && refined !== best[0]) return { language: toIso6391(refined), iso6393: refined, method: 'trigrams', confidence: 0.5 };
  }
  return {
    language: toIso6391(best[0]),
    iso6393: best[0],
    method: 'trigrams',
    confidence: runnerUp ? Math.max(0, Math.min(1, (best[1] - runnerUp[1]) * 5)) : 1,
  };
}

function byScript(iso6393: string, confidence: number): LanguageDetection {
  return { language: toIso6391(iso6393), iso6393, method: 'script', confidence: Math.min(1, confidence) };
}

/** ISO 639-1 code for an ISO 639-3 code, or the 639-3 code itself when it has none. */
export function toIso6391(iso6393: string): string {
  return ISO_639_3_TO_1[iso6393] ?? iso6393;
}

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English', ja: 'Japanese', zh: 'Chinese', ko: 'Korean', fr: 'French', de: 'German', es: 'Spanish',
  it: 'Italian', pt: 'Portuguese', ru: 'Russian', uk: 'Ukrainian', pl: 'Polish', nl: 'Dutch', sv: 'Swedish',
  tr: 'Turkish', ar: 'Arabic', he: 'Hebrew', hi: 'Hindi', th: 'Thai', vi: 'Vietnamese', id: 'Indonesian',
  el: 'Greek', cs: 'Czech', da: 'Danish', fi: 'Finnish', hu: 'Hungarian', ro: 'Romanian', bg: 'Bulgarian',
  und: 'an undetermined language',
};

/** A readable name for messages (`ja` → `Japanese`); the code itself when unknown. */
export function languageName(code: string): string {
  return LANGUAGE_NAMES[code] ?? code;
}
