// `npm run lint:packages` (after `npm run build`): every workspace package as it would be published.
//   1. publint (strict) on each package folder;
//   2. arethetypeswrong on each packed tarball, with the esm-only profile (the packages are ES modules;
//      CommonJS reaches them through Node's require(esm), which the next step checks for real);
//   3. the packed umbrella installed into a fresh project without its optional peers
//      (@huggingface/transformers, @prompt2model/testing): `require('prompt2model')` and
//      `import('prompt2model')` work, and the features that need a missing peer say which package to add.
// Prints one line per check and exits 1 when any fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { installPacked, packWorkspace, repositoryRoot } from './packed-install.ts';

let failures = 0;
const report = (ok: boolean, what: string, detail = '') => {
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `\n${detail.replace(/^/gm, '     ')}` : ''}`);
};

const workspaces = JSON.parse(execFileSync('npm', ['query', '.workspace'], { cwd: repositoryRoot, encoding: 'utf8' })) as Array<{ name: string; path: string }>;
for (const workspace of workspaces) {
  const { messages, pkg } = await publint({ pkgDir: workspace.path, strict: true, pack: 'npm' });
  report(messages.length === 0, `publint ${workspace.name}`, messages.map((message) => formatMessage(message, pkg) ?? message.code).join('\n'));
}

const packed = packWorkspace();
try {
  for (const tarball of packed.tarballs) {
    const attw = spawnSync('npx', ['attw', tarball.path, '--profile', 'esm-only', '--no-color', '--format', 'ascii'], { cwd: repositoryRoot, encoding: 'utf8' });
    report(attw.status === 0, `arethetypeswrong ${tarball.name}`, attw.status === 0 ? '' : `${attw.stdout}${attw.stderr}`);
  }

  const project = installPacked(packed, 'umbrella', ['prompt2model']);
  const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8' });
  const required = node(['-e', "const p = require('prompt2model'); console.log(Object.keys(p).length)"]);
  report(required.status === 0 && Number(required.stdout) > 0, "packed install: node -e \"require('prompt2model')\"", required.status === 0 ? `${required.stdout.trim()} names` : required.stderr);
  const imported = node(['--input-type=module', '-e', "const p = await import('prompt2model'); console.log(Object.keys(p).length)"]);
  report(imported.status === 0 && imported.stdout === required.stdout, "packed install: import('prompt2model')", imported.status === 0 ? `${imported.stdout.trim()} names` : imported.stderr);
  const cli = node([join(project, 'node_modules/prompt2model/bin/prompt2model.js'), '--version']);
  report(cli.status === 0 && !/warn/i.test(cli.stderr), 'packed install: prompt2model --version, no warning', `${cli.stdout}${cli.stderr}`.trim());
  // The optional peers are absent here: each feature that needs one names it.
  const missing = (script: string) => node(['--input-type=module', '-e', `try { ${script}; console.log('loaded') } catch (error) { console.log(error.name + ': ' + error.message + ' | ' + error.hint) }`]).stdout.trim();
  const transformers = missing("await (await import('@prompt2model/evaluator/internal')).loadTransformers()");
  report(transformers.startsWith('MissingPackageError: @huggingface/transformers') && transformers.includes('npm install @huggingface/transformers'), 'packed install without @huggingface/transformers: running a model names the package', transformers);
  const testing = missing("await import('prompt2model/testing')");
  report(testing.startsWith('MissingPackageError: @prompt2model/testing') && testing.includes('npm install @prompt2model/testing'), 'packed install without @prompt2model/testing: prompt2model/testing names the package', testing);
} finally {
  rmSync(packed.dir, { recursive: true, force: true });
}
console.log(failures ? `${failures} check(s) failed` : 'all package checks passed');
process.exit(failures ? 1 : 0);
