import { inspect } from 'node:util';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { builtSchema, ExampleSchema, jsonSchemaFrom, lazySchema, loadZod, PromptSpecSchema, RunManifestSchema, TrainingJobSpecSchema } from '../src/internal.js';

describe('lazySchema', () => {
  it('builds its schema on first use, once', () => {
    let builds = 0;
    const schema = lazySchema((zod) => {
      builds++;
      return zod.object({ name: zod.string() });
    });
    expect(builds).toBe(0);
    expect(schema.parse({ name: 'a' })).toEqual({ name: 'a' });
    expect(schema.safeParse({ name: 1 }).success).toBe(false);
    expect(builds).toBe(1);
    // A method read twice is the same function, and works unbound.
    expect(schema.parse).toBe(schema.parse);
    const { parse } = schema;
    expect(parse({ name: 'b' })).toEqual({ name: 'b' });
    // Logged, it shows as the schema it stands for.
    expect(inspect(schema)).toBe(inspect(builtSchema(schema)));
    expect(inspect(schema)).toMatch(/^ZodObject /);
  });

  it('stands for its schema: instanceof, shape, composition, errors', () => {
    expect(ExampleSchema).toBeInstanceOf(z.ZodObject);
    expect(Object.keys(ExampleSchema.shape)).toEqual(['input', 'output', 'meta']);
    const rows = z.array(ExampleSchema).parse([{ input: 'a', output: 'b', extra: 1 }]);
    expect(rows).toEqual([{ input: 'a', output: 'b', extra: 1 }]);
    const failure = z.array(ExampleSchema).safeParse([{ input: 'a' }]);
    expect(failure.success).toBe(false);
    expect(failure.error).toBeInstanceOf(z.ZodError);
    expect(failure.error!.issues[0]!.path).toEqual([0, 'output']);
    expect(PromptSpecSchema.pick({ instruction: true }).parse({ instruction: 'x', language: 'en' })).toEqual({ instruction: 'x' });
    // Defaults apply as with the schema in hand.
    const job = TrainingJobSpecSchema.parse({ baseModel: 't5-small', data: { train: 'train.jsonl' } });
    expect(job.lora).toEqual({ r: 8, alpha: 16, dropout: 0.05 });
    expect(RunManifestSchema.parse({ version: 1, createdAt: 'a', updatedAt: 'b' }).stages).toEqual({});
  });

  it('converts to the same JSON schema as the schema it stands for', () => {
    const build = (zod: typeof z) => zod.object({ answer: zod.enum(['yes', 'no']), items: zod.array(ExampleSchema) });
    expect(jsonSchemaFrom(lazySchema(build))).toEqual(jsonSchemaFrom(build(z)));
    expect(builtSchema(PromptSpecSchema)).toBeInstanceOf(z.ZodObject);
    expect(builtSchema(PromptSpecSchema)).not.toBe(PromptSpecSchema);
    const plain = z.string();
    expect(builtSchema(plain)).toBe(plain);
  });

  it('loads the same zod an import of zod gets', () => {
    expect(loadZod().object).toBe(z.object);
    expect(loadZod().ZodError).toBe(z.ZodError);
  });
});
