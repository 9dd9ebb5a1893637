import { MissingPackageError } from '../errors/missing-package-error.js';

/** Whether `error` (from `import()` or `require`) says that the package `name` itself is not installed. */
export function isPackageMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  // Node names the package that is missing; a package that is installed but misses one of its own
  // dependencies names that dependency instead, and is not reported as this package missing.
  return typeof message === 'string' && [`'${name}'`, `"${name}"`, `'${name}/`, `"${name}/`].some((quoted) => message.includes(quoted));
}

/**
 * Loads an optional peer dependency on first use. When the package is not installed the error says
 * what needs it and the command that adds it; any other failure (a broken install) passes through.
 */
export async function importOptionalPackage<T>(name: string, load: () => Promise<T>, neededFor: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isPackageMissing(error, name)) throw error;
    throw new MissingPackageError({ packageName: name, neededFor, cause: error });
  }
}
