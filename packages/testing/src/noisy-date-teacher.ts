import { fnv1a32, seededRandom, type PromptSpec } from '@prompt2model/core/internal';
import type { ChatCompletionRequestBody, ChatRequestInfo } from './openai-server.js';

/**
 * A noisy teacher for a free-text task, date normalisation, as a `respond` handler of the loopback
 * OpenAI-compatible server. Inputs carry a hidden id (`#123 ...`) that fixes their true answer, so a
 * test or benchmark can score labels against the truth:
 * - input-generation requests (a `response_format`, or the generator's system prompt) answer with
 *   new inputs: a date written in one of several styles inside a short sentence;
 * - label requests answer the ISO date, wrong with probability `noise(temperature)` per sample (a
 *   day/month swap, a day off, or the year before, in that order of likelihood), in varied surface
 *   forms (quotes, a final period, spacing);
 * - a share `consistentErrorRate` of inputs is answered wrong the same way every time, which no
 *   vote can see.
 * Answers depend only on the request body and the choice index, so identical requests get
 * identical answers, as cached or temperature-0 calls do.
 */
export interface NoisyDateTeacherOptions {
  /** Per-sample label noise at a temperature: default `0.10 + 0.10 * temperature` (0.17 at 0.7), clamped to [0, 1]. */
  noise?: (temperature: number) => number;
  /** Share of inputs whose label is always the same wrong date. Default 0.01. */
  consistentErrorRate?: number;
  /** Examples in each input-generation choice. Default 3. */
  examplesPerChoice?: number;
}

export const dateNormalisationSpec: PromptSpec = {
  instruction: 'Rewrite the date mentioned in the text as an ISO 8601 date (YYYY-MM-DD).',
  examples: [
    { input: '#900000000 The invoice was issued on March 5, 2024 and is due in thirty days.', output: '2024-03-05' },
    { input: '#900000001 We met on 17/11/2019 at the old station cafe.', output: '2019-11-17' },
    { input: '#900000002 Deadline: the 2nd of January 2021, before noon.', output: '2021-01-02' },
  ],
  language: 'en',
  taskType: 'generation',
};

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const PHRASES = [
  'The parcel arrived on',
  'Our lease starts',
  'Please book the room for',
  'The concert was moved to',
  'Grandma was born on',
  'The report is due',
  'We signed the contract on',
  'Flights resume',
  'The warranty ends on',
  'Registration closes',
  'The bakery reopens',
  'Her thesis defence is set for',
];
const TAILS = (
  'according to the email|as the note says|if nothing changes|so mark your calendar|after the long delay|' +
  'said the manager|in the city hall|for the whole team|weather permitting|as planned last spring|' +
  'unless the board objects|with a small party|at the latest|by registered mail|for the second time'
).split('|');

interface DateParts {
  year: number;
  month: number;
  day: number;
}

/** The true date of an input (`YYYY-MM-DD`), from its hidden id; undefined when it has none. */
export function trueIsoDate(input: string): string | undefined {
  const id = /#(\d+)/u.exec(input)?.[1];
  return id === undefined ? undefined : iso(dateOf(Number(id)));
}

/**
 * Whether the teacher answers this input wrong the same way every time (the share
 * `consistentErrorRate` of inputs), so a benchmark can tell those errors from the vote's.
 */
export function isConsistentlyWrong(input: string, consistentErrorRate = 0.01): boolean {
  const id = /#(\d+)/u.exec(input)?.[1];
  return id !== undefined && (fnv1a32(`consistent:${Number(id)}`) % 10_000) / 10_000 < consistentErrorRate;
}

function dateOf(id: number): DateParts {
  if (id >= 900_000_000 && id < 900_000_003) {
    return [{ year: 2024, month: 3, day: 5 }, { year: 2019, month: 11, day: 17 }, { year: 2021, month: 1, day: 2 }][id - 900_000_000]!;
  }
  const random = seededRandom(id * 2654435761);
  return { year: 1950 + Math.floor(random() * 80), month: 1 + Math.floor(random() * 12), day: 1 + Math.floor(random() * 28) };
}

function iso({ year, month, day }: DateParts): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function written(date: DateParts, style: number): string {
  const { year, month, day } = date;
  const name = MONTHS[month - 1]!;
  switch (style % 6) {
    case 0:
      return `${name} ${day}, ${year}`;
    case 1:
      return `${String(day).padStart(2, '0')}/${String(month).padStart(2, '0')}/${year}`;
    case 2:
      return `the ${day}${ordinal(day)} of ${name} ${year}`;
    case 3:
      return `${year}.${String(month).padStart(2, '0')}.${String(day).padStart(2, '0')}`;
    case 4:
      return `${String(day).padStart(2, '0')}-${name.slice(0, 3)}-${year}`;
    default:
      return `${day} ${name} ${year}`;
  }
}

function ordinal(day: number): string {
  if (day % 10 === 1 && day !== 11) return 'st';
  if (day % 10 === 2 && day !== 12) return 'nd';
  if (day % 10 === 3 && day !== 13) return 'rd';
  return 'th';
}

/** The wrong answers a teacher gives for a date, most likely first. */
function wrongAnswers(date: DateParts): string[] {
  const swapped = date.day <= 12 && date.day !== date.month ? { ...date, day: date.month, month: date.day } : { ...date, day: date.day === 28 ? 27 : date.day + 1 };
  const dayOff = { ...date, day: date.day === 1 ? 2 : date.day - 1 };
  const yearBefore = { ...date, year: date.year - 1 };
  return [iso(swapped), iso(dayOff), iso(yearBefore)];
}

function textOf(content: ChatCompletionRequestBody['messages'][number]['content']): string {
  return typeof content === 'string' ? content : content.map((part) => part.text ?? '').join('');
}

/** The server's `respond` handler for the date world. */
export function noisyDateTeacher(options: NoisyDateTeacherOptions = {}): (body: ChatCompletionRequestBody, info: ChatRequestInfo) => string {
  const noiseAt = options.noise ?? ((temperature: number) => 0.1 + 0.1 * temperature);
  const consistentRate = options.consistentErrorRate ?? 0.01;
  const perChoice = options.examplesPerChoice ?? 3;
  let lastBody: ChatCompletionRequestBody | undefined;
  let lastHash = 0;
  return (body, { choiceIndex }) => {
    if (body !== lastBody) {
      lastBody = body;
      lastHash = fnv1a32(JSON.stringify(body.messages) + JSON.stringify(body.seed ?? '') + String(body.temperature ?? ''));
    }
    const random = seededRandom(lastHash + choiceIndex * 7919);
    const system = textOf(body.messages[0]?.content ?? '');
    if (system.startsWith('You write training data') || body.response_format !== undefined) {
      const examples = [];
      for (let i = 0; i < perChoice; i++) {
        const id = 10_000 + Math.floor(random() * 89_000_000);
        const date = dateOf(id);
        const phrase = PHRASES[Math.floor(random() * PHRASES.length)]!;
        const tail = TAILS[Math.floor(random() * TAILS.length)]!;
        examples.push({ input: `#${id} ${phrase} ${written(date, Math.floor(random() * 6))} ${tail}.`, output: iso(date) });
      }
      return JSON.stringify({ examples });
    }
    const user = [...body.messages].reverse().find((message) => message.role === 'user');
    const input = textOf(user?.content ?? '');
    const idText = /#(\d+)/u.exec(input)?.[1];
    if (idText === undefined) return 'I cannot find a date.';
    const id = Number(idText);
    const date = dateOf(id);
    const wrong = wrongAnswers(date);
    // Consistent errors: the same wrong answer for this input, whatever the prompt or temperature.
    if (isConsistentlyWrong(input, consistentRate)) return wrong[0]!;
    const noise = Math.min(1, Math.max(0, noiseAt(body.temperature ?? 1)));
    let answer = iso(date);
    if (random() < noise) {
      const r = random();
      answer = wrong[r < 0.5 ? 0 : r < 0.8 ? 1 : 2]!;
    }
    // Real teachers vary the surface form of the same answer.
    const form = random();
    return form < 0.1 ? `"${answer}"` : form < 0.2 ? `${answer}.` : form < 0.25 ? ` ${answer}\n` : answer;
  };
}
