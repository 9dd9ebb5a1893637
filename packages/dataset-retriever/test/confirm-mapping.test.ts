import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { confirmMappingOnTerminal, type ColumnMappingProposal, type DatasetDetails } from '../src/internal.js';

const details = { id: 'acme/reviews', config: 'default', split: 'train', paths: [{ path: 'text' }, { path: 'title' }, { path: 'label' }] } as unknown as DatasetDetails;
const proposal: ColumnMappingProposal = { input: ['text'], output: 'label', source: 'teacher', reason: 'the label is the sentiment' };
const sample = [{ input: 'a great\n  kettle', output: 'positive' }];

/** Runs the confirmation with the given answer lines typed in; returns the mapping and what was shown. */
async function answer(...lines: string[]) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  const pending = [...lines];
  // One line typed per question, as a person would (a line typed before the question is asked is lost).
  output.on('data', (chunk: Buffer) => {
    shown += chunk.toString();
    if (chunk.toString().includes('Use this mapping?') && pending.length > 0) input.write(`${pending.shift()}\n`);
  });
  let stopped = 0;
  const confirm = confirmMappingOnTerminal({ input, output, beforeAsking: () => stopped++ });
  const mapping = await confirm(proposal, details, sample);
  return { mapping, shown, stopped };
}

describe('confirmMappingOnTerminal', () => {
  it('shows the columns, the proposal with its reason and mapped examples, and takes the proposal on Enter or yes', async () => {
    const { mapping, shown, stopped } = await answer('');
    expect(mapping).toEqual({ input: ['text'], output: 'label' });
    expect(stopped).toBe(1);
    expect(shown).toContain('Dataset acme/reviews (default/train), columns: text, title, label');
    expect(shown).toContain('Proposed mapping (teacher): input text → output label — the label is the sentiment');
    expect(shown).toContain('example 1 input:  a great kettle');
    expect((await answer('YES')).mapping).toEqual({ input: ['text'], output: 'label' });
  });

  it('skips the dataset on no, takes typed columns, and asks again on anything else', async () => {
    expect((await answer('n')).mapping).toBeNull();
    expect((await answer('input=title, text output=label')).mapping).toEqual({ input: ['title'], output: 'label' });
    expect((await answer('input=title,text output=label')).mapping).toEqual({ input: ['title', 'text'], output: 'label' });
    const retried = await answer('maybe', 'output=title');
    expect(retried.mapping).toEqual({ input: ['text'], output: 'title' });
    expect(retried.shown).toContain('Answer y, n, or input=... output=...');
  });
});
