import type { PromptSpec } from '@prompt2model/core/internal';

/** Text cut to `max` characters (with an ellipsis), so a prompt stays short whatever the data. */
export function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The spec's first demonstrations as `Example N\ninput: …\noutput: …` blocks, values clipped. */
export function demonstrationsText(spec: PromptSpec, options: { count?: number; maxChars?: number } = {}): string {
  return spec.examples
    .slice(0, options.count ?? 3)
    .map((example, index) => `Example ${index + 1}\ninput: ${clip(example.input, options.maxChars)}\noutput: ${clip(example.output, options.maxChars)}`)
    .join('\n\n');
}
