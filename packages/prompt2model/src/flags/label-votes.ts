import { Option, type Command } from 'commander';
import type { PromptBasedDatasetGeneratorOptions } from '@prompt2model/dataset-generator/internal';
import { CliUsageError, parseNumber } from '../runtime.js';

/** The label-voting flags of `generate` and `run`. */
export interface LabelVoteFlags {
  samplesPerInput?: number;
  maxSamplesPerInput?: number;
  labelTemperature?: number;
  minAgreement?: number;
}

/** Adds the label-voting flags (self-consistency) to a verb. */
export function addLabelVoteOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--samples-per-input <k>', 'fewest teacher votes per input in the first round (default 3; more when the teacher is noisy)').argParser(
        parseNumber('--samples-per-input', { integer: true, min: 1 }),
      ),
    )
    .addOption(
      new Option('--max-samples-per-input <k>', 'most teacher votes per input, asked for while the vote is split (default 15)').argParser(
        parseNumber('--max-samples-per-input', { integer: true, min: 1 }),
      ),
    )
    .addOption(new Option('--label-temperature <t>', 'sampling temperature of the label votes, 0 to 2 (default 0.7)').argParser(parseNumber('--label-temperature')))
    .addOption(
      new Option('--min-agreement <share>', 'drop inputs whose winning answer got less than this share of the votes, 0 to 1 (default 0.5)').argParser(
        parseNumber('--min-agreement'),
      ),
    );
}

/** The generator options those flags set (only the ones given), after checking them together. */
export function labelVoteSettings(flags: LabelVoteFlags): Pick<
  PromptBasedDatasetGeneratorOptions,
  'samplesPerInput' | 'maxSamplesPerInput' | 'labelTemperature' | 'minAgreement'
> {
  // --min-agreement above 1 is refused by the generator itself (InvalidArgumentError, reported as the flag, exit 2).
  if (flags.labelTemperature !== undefined && flags.labelTemperature > 2) {
    throw new CliUsageError('--label-temperature must be in [0, 2]', 'e.g. --label-temperature 0.7');
  }
  if (flags.samplesPerInput !== undefined && flags.maxSamplesPerInput !== undefined && flags.maxSamplesPerInput < flags.samplesPerInput) {
    throw new CliUsageError(
      `--max-samples-per-input (${flags.maxSamplesPerInput}) is below --samples-per-input (${flags.samplesPerInput})`,
      'Raise --max-samples-per-input, or lower --samples-per-input.',
    );
  }
  return {
    ...(flags.samplesPerInput !== undefined ? { samplesPerInput: flags.samplesPerInput } : {}),
    ...(flags.maxSamplesPerInput !== undefined ? { maxSamplesPerInput: flags.maxSamplesPerInput } : {}),
    ...(flags.labelTemperature !== undefined ? { labelTemperature: flags.labelTemperature } : {}),
    ...(flags.minAgreement !== undefined ? { minAgreement: flags.minAgreement } : {}),
  };
}
