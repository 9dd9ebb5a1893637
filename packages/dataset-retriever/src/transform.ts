import { AbortError, BudgetExceededError, type Example, type LanguageModelClient, lazySchema, type PromptSpec } from '@prompt2model/core/internal';
import { demonstrationsText } from './prompt-text.js';

export interface TransformOptions {
  /** Most rows transformed (each is one teacher call). Default 200. */
  maxExamples?: number;
  signal?: AbortSignal;
  stage?: string;
}

const TransformedSchema = lazySchema((z) => z.object({ input: z.string().min(1), output: z.string().min(1) }));

/**
 * The reference's plan-then-transform: the teacher first writes a plan for turning this dataset's
 * rows into the task's format (one call), then rewrites each row by the plan (one call a row,
 * up to `maxExamples`). Every call goes through the shared client: cached, budgeted, costed.
 * Rows the teacher cannot transform are dropped, not kept raw.
 */
export async function transformExamples(
  spec: PromptSpec,
  dataset: string,
  examples: Example[],
  teacher: LanguageModelClient,
  options: TransformOptions = {},
): Promise<{ examples: Example[]; dropped: number; plan: string }> {
  const call = { stage: options.stage ?? 'retrieve-datasets', ...(options.signal ? { signal: options.signal } : {}) };
  const demonstrations = demonstrationsText(spec, { maxChars: 600 });
  const planResult = await teacher.generate(
    {
      temperature: 0,
      maxTokens: 300,
      messages: [
        { role: 'system', content: 'You adapt existing datasets to a new task format.' },
        {
          role: 'user',
          content: [
            `Task: ${spec.instruction}`,
            ...(demonstrations ? ['', 'Demonstrations of the wanted format:', demonstrations] : []),
            '',
            `Rows from the dataset ${dataset}:`,
            ...examples.slice(0, 3).map((example) => `input: ${example.input.slice(0, 400)}\noutput: ${example.output.slice(0, 200)}`),
            '',
            'Write a short numbered plan for rewriting such a row into the exact input and output format of the task.',
          ].join('\n'),
        },
      ],
    },
    call,
  );
  const plan = planResult.choices[0]?.text.trim() ?? '';
  const chosen = examples.slice(0, options.maxExamples ?? 200);
  const transformed = await Promise.all(
    chosen.map(async (example): Promise<Example | undefined> => {
      try {
        const { object } = await teacher.generateObject(
          {
            schemaName: 'transformed_example',
            temperature: 0,
            maxTokens: 600,
            messages: [
              { role: 'system', content: 'You rewrite dataset rows into a task format. Answer with JSON only.' },
              {
                role: 'user',
                content: [`Task: ${spec.instruction}`, '', `Plan:\n${plan}`, '', `Row input: ${example.input}`, `Row output: ${example.output}`, '', 'Answer as {"input": "...", "output": "..."}.'].join('\n'),
              },
            ],
          },
          TransformedSchema,
          { ...call, maxAttempts: 2 },
        );
        return { ...object, ...(example.meta ? { meta: { ...example.meta, transformed: true } } : {}) };
      } catch (error) {
        if (AbortError.isInstance(error) || BudgetExceededError.isInstance(error) || (error as Error).name === 'AbortError') throw error;
        return undefined;
      }
    }),
  );
  const kept = transformed.filter((example): example is Example => example !== undefined);
  return { examples: kept, dropped: chosen.length - kept.length, plan };
}
