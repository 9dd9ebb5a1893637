import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Zod from 'zod';

/** zod's `z` namespace: what a schema builder is handed. */
export type ZodNamespace = typeof Zod.z;

let zod: ZodNamespace | undefined;

/**
 * zod, loaded on first use rather than at import: loading it is about 60 ms of CPU, most of what
 * `import('prompt2model')` would cost, and only validation needs it. It is zod's ES module build,
 * loaded synchronously (require(esm), Node 20.19+), so it is the same instance an `import 'zod'`
 * elsewhere in the process gets; where that build cannot be found, zod's CommonJS build.
 */
export function loadZod(): ZodNamespace {
  if (zod) return zod;
  const require = createRequire(import.meta.url);
  let loaded: typeof Zod;
  try {
    const manifestPath = require.resolve('zod/package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports?: Record<string, unknown> };
    const entry = (manifest.exports?.['.'] as { import?: unknown } | undefined)?.import;
    if (typeof entry !== 'string') throw new Error('zod names no ES module entry');
    loaded = require(join(dirname(manifestPath), entry)) as typeof Zod;
  } catch {
    loaded = require('zod') as typeof Zod;
  }
  zod = loaded.z;
  return zod;
}

const BUILT = Symbol('prompt2model.lazySchema.built');

/**
 * A zod schema built on first use. `build` runs, and zod loads, the first time anything reads
 * the schema (`.parse`, `.shape`, `z.array(it)`, `instanceof`, ...); the value stands for the
 * schema everywhere, typed as it, so a module can export a schema without loading zod at import.
 * Methods run bound to the built schema, so a call costs only the proxy's lookup more (about 25 ns).
 */
export function lazySchema<T extends object>(build: (z: ZodNamespace) => T): T {
  let schema: T | undefined;
  const built = (): T => (schema ??= build(loadZod()));
  const bound = new Map<PropertyKey, { method: (...args: unknown[]) => unknown; bound: (...args: unknown[]) => unknown }>();
  // Node's util.inspect (console.log) formats a proxy's target, not the proxy: the target hands it
  // the schema, so a logged schema shows as the zod schema it is rather than as {}.
  const target = {
    [Symbol.for('nodejs.util.inspect.custom')]: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) => inspect(built(), options),
  } as unknown as T;
  return new Proxy(target, {
    get(_, key) {
      if (key === BUILT) return built();
      const target = built();
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function' || key === 'constructor') return value;
      // Bound once per method, so `schema.parse` is the same function on every read.
      const known = bound.get(key);
      if (known?.method === value) return known.bound;
      const method = value as (...args: unknown[]) => unknown;
      const entry = { method, bound: method.bind(target) };
      bound.set(key, entry);
      return entry.bound;
    },
    set: (_, key, value) => Reflect.set(built(), key, value),
    has: (_, key) => Reflect.has(built(), key),
    ownKeys: () => Reflect.ownKeys(built()),
    getOwnPropertyDescriptor(_, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(built(), key);
      // A proxy may only report a property its (empty) target lacks as configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(built(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(built(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(built()),
  });
}

/** The schema a `lazySchema` stands for, built if need be (any other value is returned as is). */
export function builtSchema<T>(schema: T): T {
  return ((schema as { [BUILT]?: T })[BUILT] ?? schema) as T;
}
