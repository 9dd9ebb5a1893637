import { describe, expect, it } from 'vitest';
import { splitJsonList, splitJsonObject, splitLabeledPairs, splitSections } from '../src/layouts.js';
import { DeterministicPromptParser } from '../src/deterministic-parser.js';

const parser = new DeterministicPromptParser();

describe('labeled pairs', () => {
  it('reads Input:/Output: pairs and drops the "Examples:" header', () => {
    const split = parser.split(`Translate English words to French.

Examples:
Input: cat
Output: chat

Input: dog
Output: chien
`);
    expect(split).toEqual({
      instruction: 'Translate English words to French.',
      examples: [
        { input: 'cat', output: 'chat' },
        { input: 'dog', output: 'chien' },
      ],
      layout: 'labeled-pairs',
    });
  });

  it('reads Q:/A: pairs', () => {
    const split = parser.split('Answer trivia questions in one word.\nQ: Capital of France?\nA: Paris\nQ: Largest planet?\nA: Jupiter');
    expect(split?.instruction).toBe('Answer trivia questions in one word.');
    expect(split?.examples).toEqual([
      { input: 'Capital of France?', output: 'Paris' },
      { input: 'Largest planet?', output: 'Jupiter' },
    ]);
  });

  it('keeps multi-line values and strips separators between examples', () => {
    const split = splitLabeledPairs(`Write a Python function for the request.
---
Input: add two numbers
Output:
def add(a, b):
    return a + b
---
Input: negate a number
Output:
def neg(x):
    return -x
---`);
    expect(split?.examples).toEqual([
      { input: 'add two numbers', output: 'def add(a, b):\n    return a + b' },
      { input: 'negate a number', output: 'def neg(x):\n    return -x' },
    ]);
    expect(split?.instruction).toBe('Write a Python function for the request.');
  });

  it('reads the reference Prompt2Model style input="..." output="..." with escapes', () => {
    const split = parser.split(
      'Your task is to convert a number to words.\nHere are examples:\ninput="12"\noutput="twelve"\n\ninput="3"\noutput="three \\"3\\""',
    );
    expect(split?.instruction).toBe('Your task is to convert a number to words.');
    expect(split?.examples).toEqual([
      { input: '12', output: 'twelve' },
      { input: '3', output: 'three "3"' },
    ]);
  });

  it('reads numbered and bold labels, and full-width colons', () => {
    expect(parser.split('Sum the numbers.\n**Input 1:** 1 2\n**Output 1:** 3\n**Input 2:** 4 5\n**Output 2:** 9')?.examples).toEqual([
      { input: '1 2', output: '3' },
      { input: '4 5', output: '9' },
    ]);
    const japanese = parser.split('日本語の文をPythonコードに変換してください。\n入力：リストを逆順にする\n出力：lst[::-1]');
    expect(japanese?.instruction).toBe('日本語の文をPythonコードに変換してください。');
    expect(japanese?.examples).toEqual([{ input: 'リストを逆順にする', output: 'lst[::-1]' }]);
  });

  it('pairs two unknown labels that alternate (Review:/Verdict:)', () => {
    const split = parser.split('Judge each review.\nReview: Great phone\nVerdict: keep\nReview: Broke in a day\nVerdict: return');
    expect(split?.examples).toEqual([
      { input: 'Great phone', output: 'keep' },
      { input: 'Broke in a day', output: 'return' },
    ]);
  });

  it('reports an input without an output as an example with an empty output', () => {
    const split = parser.split('Translate to French.\nInput: cat\nOutput: chat\nInput: dog\nOutput:');
    expect(split?.examples).toEqual([
      { input: 'cat', output: 'chat' },
      { input: 'dog', output: '' },
    ]);
  });

  it('does not take a label-looking line inside a code fence', () => {
    expect(splitLabeledPairs('Explain the code.\n```\nInput: x\nOutput: y\n```')).toBeUndefined();
  });
});

describe('markdown sections', () => {
  it('reads Alpaca-style ### Instruction / ### Input / ### Response', () => {
    const split = parser.split(`### Instruction:
Classify the sentiment of the tweet.

### Input:
I love this!

### Response:
positive

### Input:
Worst day ever.

### Response:
negative`);
    expect(split).toEqual({
      instruction: 'Classify the sentiment of the tweet.',
      examples: [
        { input: 'I love this!', output: 'positive' },
        { input: 'Worst day ever.', output: 'negative' },
      ],
      layout: 'sections',
    });
  });

  it('reads an ## Examples section with labeled pairs and keeps unknown sections in the instruction', () => {
    const split = splitSections(`## Task
Turn a sentence into a meaning representation.

## Notes
Use the attribute names of the dataset.

## Examples
Input: Dirt: Showdown is a 2012 racing game.
Output: inform(name[Dirt: Showdown], release_year[2012], genres[driving/racing])
`);
    expect(split?.instruction).toBe('Turn a sentence into a meaning representation.\n\n## Notes\nUse the attribute names of the dataset.');
    expect(split?.examples).toEqual([
      { input: 'Dirt: Showdown is a 2012 racing game.', output: 'inform(name[Dirt: Showdown], release_year[2012], genres[driving/racing])' },
    ]);
  });

  it('reads ### Example N sections', () => {
    const split = parser.split('Fix the spelling.\n\n### Example 1\nInput: teh cat\nOutput: the cat\n\n### Example 2\nInput: recieve\nOutput: receive');
    expect(split?.layout).toBe('sections');
    expect(split?.examples).toHaveLength(2);
    expect(split?.instruction).toBe('Fix the spelling.');
  });
});

describe('JSON layouts', () => {
  it('reads a whole-prompt JSON object', () => {
    const split = splitJsonObject('{"instruction": "Add one.", "examples": [{"input": "1", "output": "2"}]}');
    expect(split).toEqual({ instruction: 'Add one.', examples: [{ input: '1', output: '2' }], layout: 'json' });
  });

  it('reads an instruction followed by a fenced JSON list, keeping text after it', () => {
    const split = parser.split(
      'Answer the question.\n\n```json\n[\n  {"question": "2+2?", "answer": "4"},\n  {"question": "3+3?", "answer": "6"}\n]\n```\n\nAnswer with digits only.',
    );
    expect(split?.layout).toBe('json-list');
    expect(split?.instruction).toBe('Answer the question.\n\nAnswer with digits only.');
    expect(split?.examples).toEqual([
      { input: '2+2?', output: '4' },
      { input: '3+3?', output: '6' },
    ]);
  });

  it('reads a bare JSON list and JSON Lines, with brackets inside strings', () => {
    expect(splitJsonList('Echo.\n[{"input": "a]b", "output": "[x]"}]')?.examples).toEqual([{ input: 'a]b', output: '[x]' }]);
    expect(splitJsonList('Echo.\n{"input": "a", "output": "b"}\n{"input": "c", "output": "d"}')?.examples).toEqual([
      { input: 'a', output: 'b' },
      { input: 'c', output: 'd' },
    ]);
  });

  it('turns non-string JSON outputs into JSON text', () => {
    expect(splitJsonList('Extract.\n[{"input": "Bob is 3", "output": {"name": "Bob", "age": 3}}]')?.examples).toEqual([
      { input: 'Bob is 3', output: '{"name":"Bob","age":3}' },
    ]);
  });

  it('ignores JSON that is not a list of pairs', () => {
    expect(splitJsonList('Sum.\n[1, 2, 3]')).toBeUndefined();
    expect(splitJsonObject('{"a": 1}')).toBeUndefined();
  });
});

describe('prompts without marked examples', () => {
  it('returns undefined for prose', () => {
    expect(parser.split('Write a haiku about autumn. It should mention leaves: they fall.')).toBeUndefined();
  });
});

describe('text around the examples', () => {
  it('moves a closing remark after the last example into the instruction', () => {
    const split = parser.split('Translate to French.\nInput: cat\nOutput: chat\n\nInput: dog\nOutput: chien\n\nKeep answers in lower case.');
    expect(split?.instruction).toBe('Translate to French.\n\nKeep answers in lower case.');
    expect(split?.examples.at(-1)).toEqual({ input: 'dog', output: 'chien' });
  });

  it('keeps blank lines inside a fenced code output', () => {
    const split = parser.split('Write the function.\nInput: add\nOutput:\n```python\ndef add(a, b):\n\n    return a + b\n```');
    expect(split?.examples).toEqual([{ input: 'add', output: '```python\ndef add(a, b):\n\n    return a + b\n```' }]);
    expect(split?.instruction).toBe('Write the function.');
  });

  it('keeps multi-paragraph outputs when the other outputs have paragraphs too', () => {
    const split = parser.split('Write two paragraphs.\nInput: cats\nOutput: Cats purr.\n\nThey nap.\nInput: dogs\nOutput: Dogs bark.\n\nThey run.');
    expect(split?.examples.map((example) => example.output)).toEqual(['Cats purr.\n\nThey nap.', 'Dogs bark.\n\nThey run.']);
  });

  it('keeps an unanswered input in its place so the error names the right example', () => {
    const split = parser.split('Translate.\nInput: a\nInput: b\nOutput: B');
    expect(split?.examples).toEqual([
      { input: 'a', output: '' },
      { input: 'b', output: 'B' },
    ]);
  });
});

describe('more layouts', () => {
  it('reads one example a line with arrows', () => {
    const split = parser.split('Translate English to French.\n\n- cat -> chat\n- dog -> chien\n- "good morning" → "bonjour"\n\nUse lower case.');
    expect(split).toEqual({
      instruction: 'Translate English to French.\n\nUse lower case.',
      examples: [
        { input: 'cat', output: 'chat' },
        { input: 'dog', output: 'chien' },
        { input: 'good morning', output: 'bonjour' },
      ],
      layout: 'arrows',
    });
  });

  it('does not read a single arrow in prose as examples', () => {
    expect(parser.split('Map each input -> output pair to JSON, keeping the order.')).toBeUndefined();
  });

  it('drops "Example N:" headings between labeled examples', () => {
    const split = parser.split('Fix the grammar.\n\nExample 1:\nInput: he go home\nOutput: he goes home\n\nExample 2:\nInput: they was late\nOutput: they were late');
    expect(split?.instruction).toBe('Fix the grammar.');
    expect(split?.examples).toEqual([
      { input: 'he go home', output: 'he goes home' },
      { input: 'they was late', output: 'they were late' },
    ]);
  });
});

describe('code in examples', () => {
  it('does not take assignments in code outputs for labels', () => {
    const split = parser.split('Answer with Python code.\nQ: make a list of 1 and 2\nA:\na = [1, 2]\nq = a[0]\nQ: empty dict\nA: d = {}');
    expect(split?.examples).toEqual([
      { input: 'make a list of 1 and 2', output: 'a = [1, 2]\nq = a[0]' },
      { input: 'empty dict', output: 'd = {}' },
    ]);
  });
});
