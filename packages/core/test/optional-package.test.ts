import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MissingPackageError, Prompt2ModelError } from '../src/index.js';
import { importOptionalPackage, isPackageMissing } from '../src/internal.js';

describe('importOptionalPackage', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  /** A folder with node_modules/<name> whose entry imports `imports` (an absent package). */
  async function project(name: string, imports: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'p2m-optional-'));
    dirs.push(dir);
    const pkg = join(dir, 'node_modules', name);
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name, type: 'module', exports: './index.js' }));
    await writeFile(join(pkg, 'index.js'), `export * from '${imports}';\n`);
    await writeFile(join(dir, 'entry.js'), `export const load = () => import('${name}');\nexport const loadAbsent = () => import('p2m-absent-package');\n`);
    return dir;
  }

  it('names the package to install when it is absent', async () => {
    const dir = await project('p2m-present', 'p2m-inner-absent');
    const { loadAbsent } = (await import(pathToFileURL(join(dir, 'entry.js')).href)) as { loadAbsent: () => Promise<unknown> };
    const error = await importOptionalPackage('p2m-absent-package', loadAbsent, 'run ONNX models').catch((caught: unknown) => caught);
    expect(MissingPackageError.isInstance(error)).toBe(true);
    expect(Prompt2ModelError.isInstance(error)).toBe(true);
    expect((error as MissingPackageError).message).toBe('p2m-absent-package is not installed; it is needed to run ONNX models.');
    expect((error as MissingPackageError).hint).toBe('Install it beside prompt2model: npm install p2m-absent-package');
    expect((error as MissingPackageError).packageName).toBe('p2m-absent-package');
  });

  it('passes through an installed package that misses one of its own dependencies', async () => {
    const dir = await project('p2m-present', 'p2m-inner-absent');
    const { load } = (await import(pathToFileURL(join(dir, 'entry.js')).href)) as { load: () => Promise<unknown> };
    const error = await importOptionalPackage('p2m-present', load, 'do something').catch((caught: unknown) => caught);
    expect(MissingPackageError.isInstance(error)).toBe(false);
    expect((error as { code?: string }).code).toBe('ERR_MODULE_NOT_FOUND');
    expect(isPackageMissing(error, 'p2m-inner-absent')).toBe(true);
    expect(isPackageMissing(error, 'p2m-present')).toBe(false);
  });

  it('returns the module when it loads', async () => {
    await expect(importOptionalPackage('node:path', () => import('node:path'), 'join paths')).resolves.toHaveProperty('join');
  });
});
