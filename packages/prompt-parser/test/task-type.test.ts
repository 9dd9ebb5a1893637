import { readFixture } from '@prompt2model/testing/fixtures';
import { describe, expect, it } from 'vitest';
import { inferTaskType, labelsFromInstruction } from '../src/task-type.js';

describe('inferTaskType', () => {
  it('finds classification with a closed label set when short outputs repeat', () => {
    const result = inferTaskType([
      { input: 'I loved it', output: 'positive' },
      { input: 'Terrible', output: 'negative' },
      { input: 'Great value', output: 'positive' },
    ]);
    expect(result.taskType).toBe('classification');
    expect(result.labels).toEqual(['positive', 'negative']);
  });

  it('adds labels the instruction lists when they agree with the examples', () => {
    const result = inferTaskType(
      [
        { input: 'I loved it', output: 'positive' },
        { input: 'Terrible', output: 'negative' },
      ],
      'Classify the review as positive, negative or neutral.',
    );
    expect(result).toMatchObject({ taskType: 'classification', labels: ['positive', 'negative', 'neutral'] });
  });

  it('reads label lists in several wordings', () => {
    expect(labelsFromInstruction('Answer with yes/no.')).toEqual(['yes', 'no']);
    expect(labelsFromInstruction('Label each email as "spam" or "ham".')).toEqual(['spam', 'ham']);
    expect(labelsFromInstruction('Choose one of: sports, politics, tech')).toEqual(['sports', 'politics', 'tech']);
  });

  it('does not call distinct short translations a classification', () => {
    const result = inferTaskType(
      [
        { input: 'cat', output: 'chat' },
        { input: 'dog', output: 'chien' },
        { input: 'house', output: 'maison' },
        { input: 'tree', output: 'arbre' },
      ],
      'Translate English words to French.',
    );
    expect(result.taskType).toBe('generation');
  });

  it('finds structured output: JSON and ViGGO meaning representations', () => {
    expect(inferTaskType([{ input: 'Bob is 3', output: '{"name": "Bob", "age": 3}' }]).taskType).toBe('extraction');
    const rows = readFixture('tasks/viggo/test.csv').split('\n');
    // Text → meaning representation: the first column (the MR, quoted) is the output.
    const examples = rows
      .slice(1, 6)
      .map((row) => /^"([^"]+)",(.*)$/.exec(row))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ input: match[2]!, output: match[1]! }));
    expect(examples.length).toBeGreaterThan(2);
    expect(inferTaskType(examples).taskType).toBe('extraction');
  });

  it('finds span extraction when outputs are copied from the inputs', () => {
    const result = inferTaskType([
      { input: 'Barack Obama was born in Hawaii.', output: 'Barack Obama' },
      { input: 'Marie Curie worked in Paris.', output: 'Marie Curie' },
    ]);
    expect(result.taskType).toBe('extraction');
  });

  it('calls free text generation', () => {
    expect(
      inferTaskType([{ input: 'a cat on a mat', output: 'The cat sat quietly on the mat, watching the rain fall outside.' }]).taskType,
    ).toBe('generation');
  });

  it('falls back on the instruction when there are no examples', () => {
    expect(inferTaskType([], 'Classify tweets as positive or negative.')).toMatchObject({ taskType: 'classification', labels: ['positive', 'negative'] });
    expect(inferTaskType([], 'Extract the dates as JSON.').taskType).toBe('extraction');
    expect(inferTaskType([], 'Write a poem.').taskType).toBe('generation');
  });
});
