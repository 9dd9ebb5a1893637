import { describe, expect, it } from 'vitest';
import { checkInput, checkOutput, isInstructionEcho, qualityOptionsFor, standardizeInput, standardizeOutput } from '../src/quality.js';

describe('quality filters', () => {
  const instruction = 'Classify the sentiment of the movie review as positive or negative.';

  it('standardises outputs and inputs', () => {
    expect(standardizeOutput('  Output: positive  \n')).toBe('positive');
    expect(standardizeOutput('```json\n{"a": 1}   \n```')).toBe('{"a": 1}');
    expect(standardizeInput(' Input: hello ')).toBe('hello');
  });

  it('rejects empty, over-long and echoed inputs', () => {
    expect(checkInput('  ', {})).toBe('empty-input');
    expect(checkInput('x'.repeat(11), { maxInputChars: 10 })).toBe('input-too-long');
    expect(checkInput(instruction, { instruction })).toBe('instruction-echo');
    expect(checkInput(`Please: ${instruction}`, { instruction })).toBe('instruction-echo');
    expect(checkInput('The film dragged on for hours.', { instruction })).toBeUndefined();
    expect(isInstructionEcho('classify the sentiment of the movie review as positive or negative', instruction)).toBe(true);
  });

  it('rejects empty, over-long, echoing and off-label outputs, and canonicalises labels', () => {
    const options = qualityOptionsFor({ instruction, examples: [], language: 'en', labels: ['Positive', 'Negative'] }, { maxOutputChars: 20 });
    expect(checkOutput('in', '', options)).toEqual({ reason: 'empty-output' });
    expect(checkOutput('in', 'y'.repeat(21), {})).toEqual({ output: 'y'.repeat(21) });
    expect(checkOutput('in', 'y'.repeat(21), options)).toEqual({ reason: 'output-too-long' });
    expect(checkOutput('Same text', ' same   TEXT ', {})).toEqual({ reason: 'output-equals-input' });
    expect(checkOutput('in', 'neutral', options)).toEqual({ reason: 'invalid-label' });
    expect(checkOutput('in', ' positive. ', options)).toEqual({ output: 'Positive' });
  });
});
