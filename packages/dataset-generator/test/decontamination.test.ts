import { describe, expect, it } from 'vitest';
import { ContaminationIndex, decontaminate } from '../src/decontamination.js';

const evaluation = [
  { input: 'The hotel room was spotless and the staff went out of their way to help us.', output: 'positive' },
  { input: 'Terrible.', output: 'negative' },
];

describe('decontamination', () => {
  it('drops exact copies, long n-gram overlaps and near copies, keeps the rest', () => {
    const examples = [
      { input: 'terrible.', output: 'negative' },
      { input: 'Honestly, the staff went out of their way to help us with the luggage.', output: 'positive' },
      { input: 'The hotel room was spotless and the staff went out of their way to help us!', output: 'positive' },
      { input: 'The pool was cold and closed early every day.', output: 'negative' },
    ];
    const { kept, dropped } = decontaminate(examples, evaluation);
    expect(kept.map((e) => e.input)).toEqual(['The pool was cold and closed early every day.']);
    expect(dropped).toHaveLength(3);
  });

  it('an empty evaluation set contaminates nothing', () => {
    expect(new ContaminationIndex([]).isContaminated({ input: 'anything' })).toBe(false);
  });

  it('checks outputs when asked', () => {
    const index = new ContaminationIndex(
      [{ input: 'q', output: 'one two three four five six seven eight nine ten' }],
      { checkOutputs: true },
    );
    expect(index.isContaminated({ input: 'other', output: 'zero one two three four five six seven eight' })).toBe(true);
    expect(index.isContaminated({ input: 'other', output: 'short answer' })).toBe(false);
  });
});
