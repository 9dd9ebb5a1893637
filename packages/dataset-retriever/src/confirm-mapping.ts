import type { Example } from '@prompt2model/core/internal';
import type { ColumnMapping, ColumnMappingProposal } from './column-mapping.js';
import type { DatasetDetails } from './dataset-details.js';

export interface TerminalMappingConfirmationOptions {
  /** Where answers are read. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where the proposal, the sample and the question go. Default `process.stderr`. */
  output?: NodeJS.WritableStream;
  /** Called before anything is written (e.g. to stop a progress display that redraws the line). */
  beforeAsking?: () => void;
}

/**
 * A `confirmMapping` for the dataset retriever that asks a person at a terminal: it shows the
 * dataset's columns, the proposed mapping with its reason and three mapped examples, then asks
 * "yes" (use it), "no" (skip the dataset) or `input=a,b output=c` (use these columns instead),
 * asking again on any other answer.
 */
export function confirmMappingOnTerminal(
  options: TerminalMappingConfirmationOptions = {},
): (proposal: ColumnMappingProposal, details: DatasetDetails, sample: Example[]) => Promise<ColumnMapping | null> {
  return async (proposal, details, sample) => {
    options.beforeAsking?.();
    const output = options.output ?? process.stderr;
    const lines = [
      `Dataset ${details.id} (${details.config}/${details.split}), columns: ${details.paths.map((p) => p.path).join(', ')}`,
      `Proposed mapping (${proposal.source}): input ${proposal.input.join(' + ')} → output ${proposal.output}${proposal.reason ? ` — ${proposal.reason}` : ''}`,
      ...sample.slice(0, 3).flatMap((example, index) => [`  example ${index + 1} input:  ${oneLine(example.input)}`, `  example ${index + 1} output: ${oneLine(example.output)}`]),
    ];
    output.write(`${lines.join('\n')}\n`);
    const { createInterface } = await import('node:readline/promises');
    const prompt = createInterface({ input: options.input ?? process.stdin, output });
    try {
      for (;;) {
        const answer = (await prompt.question('Use this mapping? [Y]es / [n]o / or type "input=a,b output=c": ')).trim();
        if (answer === '' || /^y(es)?$/i.test(answer)) return { input: proposal.input, output: proposal.output };
        if (/^n(o)?$/i.test(answer)) return null;
        const input = /input=(\S+)/.exec(answer)?.[1];
        const chosenOutput = /output=(\S+)/.exec(answer)?.[1];
        if (input || chosenOutput) return { input: input ? columnList(input) : proposal.input, output: chosenOutput ?? proposal.output };
        output.write('Answer y, n, or input=... output=...\n');
      }
    } finally {
      prompt.close();
    }
  };
}

function columnList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
